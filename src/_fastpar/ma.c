/*
 * ma.c - a whole series through one of TA-Lib's moving averages (ma.h),
 * for the batch kernels that smooth whole arrays (MA and the rows of each
 * type, BBANDS, STOCHF, APO, PPO): each type past its warm-up runs in a
 * loop of its own.
 */
#include "ma.h"

#include <stdlib.h>

#include "indicators.h"

/* The steady states of ma.h's push functions (every stage running, the
 * window full) as loops over x[i0..n), with the state in registers and the
 * window read from x itself (the value pushed k pushes ago is x[i - k]):
 * the same operations in the same order, so the same doubles, except in
 * DEMA and TEMA, whose chained EMAs advance two bars per turn (EMA2). */
/* Two EMA steps per turn. After the first, y is TA-Lib's step itself; after
 * the second, y + (k (1 - k) (u1 - y) + k (u2 - y)): the two steps' sum
 * regrouped, so equal to within rounding, and with the same fixed point (a
 * constant input stays exact; a form like (1 - k)^2 y + ... drifts from it
 * by about 1e-16 / k). Each step waits on a subtraction, a product and a
 * sum, 12 cycles a bar here; the pair waits on 16 cycles for two bars, which
 * makes DEMA about 1.35x and TEMA 1.2x faster (within 1e-12 of one step at
 * a time up to periods of 20,000 on 1e6 values). */
#define EMA2(y, u1, u2, ya, yb)                                                   \
    do {                                                                          \
        const double d1_ = (u1) - (y), d2_ = (u2) - (y);                          \
        ya = d1_ * k + (y);                                                       \
        yb = (d1_ * ak + d2_ * k) + (y);                                          \
    } while (0)

static void dema_steady(fp_ma *m, const double *x, size_t i0, size_t n, double *out)
{
    const double k = m->e[0].k, ak = k * (1.0 - k);
    double y1 = m->e[0].y, y2 = m->e[1].y;
    size_t i = i0;
    for (; i + 1 < n; i += 2) {
        double y1a, y1b, y2a, y2b;
        EMA2(y1, x[i], x[i + 1], y1a, y1b);
        EMA2(y2, y1a, y1b, y2a, y2b);
        out[i] = 2.0 * y1a - y2a;
        out[i + 1] = 2.0 * y1b - y2b;
        y1 = y1b;
        y2 = y2b;
    }
    for (; i < n; i++) {
        y1 = ema_step(y1, x[i], k);
        y2 = ema_step(y2, y1, k);
        out[i] = 2.0 * y1 - y2;
    }
}

static void tema_steady(fp_ma *m, const double *x, size_t i0, size_t n, double *out)
{
    const double k = m->e[0].k, ak = k * (1.0 - k);
    double y1 = m->e[0].y, y2 = m->e[1].y, y3 = m->e[2].y;
    size_t i = i0;
    for (; i + 1 < n; i += 2) {
        double y1a, y1b, y2a, y2b, y3a, y3b;
        EMA2(y1, x[i], x[i + 1], y1a, y1b);
        EMA2(y2, y1a, y1b, y2a, y2b);
        EMA2(y3, y2a, y2b, y3a, y3b);
        out[i] = 3.0 * y1a - 3.0 * y2a + y3a;
        out[i + 1] = 3.0 * y1b - 3.0 * y2b + y3b;
        y1 = y1b;
        y2 = y2b;
        y3 = y3b;
    }
    for (; i < n; i++) {
        y1 = ema_step(y1, x[i], k);
        y2 = ema_step(y2, y1, k);
        y3 = ema_step(y3, y2, k);
        out[i] = 3.0 * y1 - 3.0 * y2 + y3;
    }
}

static void trima_steady(fp_ma *m, const double *x, size_t i0, size_t n, double *out)
{
    const size_t p = m->p, h = p >> 1;
    const double factor = m->factor;
    double a = m->a, b = m->b, c = m->c;
    if (p % 2 == 1) {
        for (size_t i = i0; i < n; i++) {
            const double middle = x[i - h];
            c -= a;
            a -= x[i - p];
            a += middle;
            c += b;
            b -= middle;
            b += x[i];
            c += x[i];
            out[i] = c * factor;
        }
    } else {
        for (size_t i = i0; i < n; i++) {
            const double middle = x[i - h];
            c -= a;
            a -= x[i - p];
            a += middle;
            b -= middle;
            c += b;
            b += x[i];
            c += x[i];
            out[i] = c * factor;
        }
    }
}

static void kama_steady(fp_ma *m, const double *x, size_t i0, size_t n, double *out)
{
    static const double c_max = 2.0 / (30.0 + 1.0);
    const double c_diff = 2.0 / (2.0 + 1.0) - c_max;
    const size_t p = m->p;
    fp_blocksum changes = m->changes;
    double y = m->b;
    for (size_t i = i0; i < n; i++) {
        const double v = x[i];
        const double sum = blocksum_push(&changes, fabs(v - x[i - 1]));
        const double roc = v - x[i - p];
        const double er = sum <= roc || sum < DBL_MIN ? 1.0 : fabs(roc / sum);
        double sc = er * c_diff + c_max;
        sc *= sc;
        y = (v - y) * sc + y;
        out[i] = y;
    }
}

static void t3_steady(fp_ma *m, const double *x, size_t i0, size_t n, double *out)
{
    const double k = m->k, omk = m->one_minus_k;
    const double c1 = m->c1, c2 = m->c2, c3 = m->c3, c4 = m->c4;
    double e0 = m->t3[0], e1 = m->t3[1], e2 = m->t3[2], e3 = m->t3[3], e4 = m->t3[4],
           e5 = m->t3[5];
    for (size_t i = i0; i < n; i++) {
        e0 = t3_step(e0, x[i], k, omk);
        e1 = t3_step(e1, e0, k, omk);
        e2 = t3_step(e2, e1, k, omk);
        e3 = t3_step(e3, e2, k, omk);
        e4 = t3_step(e4, e3, k, omk);
        e5 = t3_step(e5, e4, k, omk);
        out[i] = c1 * e5 + c2 * e4 + c3 * e3 + c4 * e2;
    }
}

int fp_ma_series(int type, size_t p, double vfactor, const double *x, size_t n, double *out)
{
    if (p == 1 || type == FP_MA_NONE) {
        memcpy(out, x, n * sizeof(double));
        return FP_OK;
    }
    /* The fast kernels perform the very operations of ma_sma_push, ma_ema_push
     * and ma_wma_push (indicators.c), in the same order. */
    switch (type) {
    case FP_MA_SMA:
        return fp_sma_f64(x, n, (int)p, out);
    case FP_MA_EMA:
        return fp_ema_f64(x, n, (int)p, out);
    case FP_MA_WMA:
        return fp_wma_f64(x, n, (int)p, out);
    default:
        break;
    }
    double *buf = NULL;
    size_t nbuf = fp_ma_buffer(type, p);
    if (nbuf > 0 && (buf = malloc(nbuf * sizeof(double))) == NULL)
        return FP_ENOMEM;
    fp_ma m;
    fp_ma_init_v(&m, type, p, buf, vfactor);
    /* fp_ma_push up to the first output, when every stage is running;
     * then the loop of the steady state. */
    const size_t first = fp_ma_lookback(type, p);
    size_t i = 0;
    for (; i < n && i <= first; i++)
        out[i] = fp_ma_push(&m, x[i]);
    switch (type) {
    case FP_MA_DEMA:
        dema_steady(&m, x, i, n, out);
        break;
    case FP_MA_TEMA:
        tema_steady(&m, x, i, n, out);
        break;
    case FP_MA_TRIMA:
        trima_steady(&m, x, i, n, out);
        break;
    case FP_MA_KAMA:
        kama_steady(&m, x, i, n, out);
        break;
    case FP_MA_T3:
        t3_steady(&m, x, i, n, out);
        break;
    default:
        for (; i < n; i++)
            out[i] = fp_ma_push(&m, x[i]);
    }
    free(buf);
    return FP_OK;
}
