/*
 * ma.h - TA-Lib's moving averages as streaming states (pure C, internal to
 * src/_fastpar): one value in, one value out, NaN while warming up.
 *
 * Every function with a `matype` parameter (MA, BBANDS, STOCH, STOCHF,
 * STOCHRSI, APO, PPO) smooths through these, in its batch kernel and in its
 * streaming state alike, so that both give the same doubles. Each type
 * performs TA-Lib's operations in TA-Lib's order (running totals keep
 * every rounding error they make, so any other order would drift more
 * than 1e-9 from TA-Lib on long series of large prices):
 *
 *   SMA   running total: add the new value, divide, drop the oldest
 *   EMA   k = 2 / (p + 1), seeded with the mean of the first p values,
 *         then y += (x - y) * k
 *   WMA   weights 1..p (newest heaviest): TA-Lib's two running sums,
 *         rebuilt from the window every 8p values
 *   DEMA  2 EMA(x) - EMA(EMA(x)), each EMA seeded with its own first mean
 *   TEMA  3 EMA1 - 3 EMA2 + EMA3, likewise
 *   TRIMA triangular weights (1, 2, .., 2, 1), TA-Lib's three running sums
 *   KAMA  Kaufman's adaptive EMA: efficiency ratio over p changes (their
 *         absolute sum taken afresh for each window, so that a flat window
 *         gives exactly 0 and ER 1, as TA-Lib), factor
 *         (ER (2/3 - 2/31) + 2/31)^2, started from the value before
 *   T3    Tillson's, vfactor 0.7 (the T3 function takes others): six EMAs
 *         with TA-Lib's k x + (1 - k) y step, each seeded with a mean
 *
 * A period of 1 is the input itself, whatever the type (TA-Lib's TA_MA),
 * and so is type 10 (TA-Lib's DISABLED) at any period. MAMA, HMA, ZLEMA
 * and RMA (types 7, 9, 12, 13) are not implemented. Lookbacks: p - 1 (SMA, EMA, WMA,
 * TRIMA), 2(p-1) (DEMA), 3(p-1) (TEMA), p (KAMA), 6(p-1) (T3); 0 for p = 1.
 */
#ifndef FP_MA_H
#define FP_MA_H

#include <math.h>
#include <stddef.h>

#include "series.h"

enum {
    FP_MA_SMA = 0,
    FP_MA_EMA = 1,
    FP_MA_WMA = 2,
    FP_MA_DEMA = 3,
    FP_MA_TEMA = 4,
    FP_MA_TRIMA = 5,
    FP_MA_KAMA = 6,
    FP_MA_MAMA = 7,
    FP_MA_T3 = 8,
    FP_MA_HMA = 9,   /* not implemented */
    FP_MA_NONE = 10, /* TA-Lib's DISABLED: the input itself */
    FP_MA_DEFAULT = 11, /* the function's own default type (the glue resolves it) */
    FP_MA_ZLEMA = 12, /* not implemented */
    FP_MA_RMA = 13    /* not implemented */
};

/* 1 for the types fp_ma implements. */
static inline int fp_ma_supported(int type)
{
    return (type >= FP_MA_SMA && type <= FP_MA_KAMA) || type == FP_MA_T3 || type == FP_MA_NONE;
}

#define FP_T3_VFACTOR 0.7

/* TA-Lib's EMA step. TA-Lib 0.8 fuses it into fma(u - y, k, y); with
 * k (u - y) much smaller than y, rounding the product first changes the
 * result only at rare ties (by one ulp, soon forgotten). A true fma, a
 * library call without hardware support, would be far slower. */
static inline double ema_step(double y, double u, double k)
{
    return (u - y) * k + y;
}

/* T3's EMA step, as TA-Lib writes it there. */
static inline double t3_step(double y, double u, double k, double one_minus_k)
{
    return k * u + one_minus_k * y;
}

static inline size_t fp_ma_lookback(int type, size_t p)
{
    if (p == 1 || type == FP_MA_NONE)
        return 0;
    switch (type) {
    case FP_MA_DEMA:
        return 2 * (p - 1);
    case FP_MA_TEMA:
        return 3 * (p - 1);
    case FP_MA_KAMA:
        return p;
    case FP_MA_T3:
        return 6 * (p - 1);
    default:
        return p - 1;
    }
}

/* An EMA that seeds itself with the mean of its first p values. */
typedef struct {
    double k, sum, y;
    size_t n, p;
} fp_ema;

static inline void ma_ema_init(fp_ema *e, size_t p)
{
    e->k = 2.0 / (double)(p + 1);
    e->sum = e->y = 0.0;
    e->n = 0;
    e->p = p;
}

/* The EMA after x; NaN for the first p - 1 values. */
static FP_INLINE double ma_ema_push(fp_ema *e, double x)
{
    if (e->n >= e->p) {
        e->y = ema_step(e->y, x, e->k);
        return e->y;
    }
    e->sum += x;
    if (++e->n < e->p)
        return NAN;
    e->y = e->sum / (double)e->p;
    return e->y;
}

/* One moving average of any type. `w` holds the last values where the type
 * needs them (SMA, WMA: p; TRIMA: p + 1; KAMA: p + 2), in the buffer given
 * to fp_ma_init (fp_ma_buffer(type, p) doubles). */
typedef struct {
    int type;
    size_t p, n; /* TRIMA, KAMA: values pushed; T3: stages running */
    fp_window w;
    fp_ema e[3];
    fp_blocksum changes;    /* KAMA: the sum of the last p |changes| */
    double a, b, c, factor; /* running sums (SMA, WMA, TRIMA, KAMA) */
    double t3[6], c1, c2, c3, c4, k, one_minus_k; /* T3 */
    size_t countdown; /* WMA: values to its rebuild; T3: values summed */
} fp_ma;

static inline size_t fp_ma_window(int type, size_t p)
{
    if (p == 1 || type == FP_MA_NONE)
        return 0;
    switch (type) {
    case FP_MA_SMA:
    case FP_MA_WMA:
        return p;
    case FP_MA_TRIMA:
        return p + 1;
    case FP_MA_KAMA:
        return p + 2;
    default:
        return 0;
    }
}

/* Doubles of buffer fp_ma_init needs. */
static inline size_t fp_ma_buffer(int type, size_t p)
{
    return 2 * fp_ma_window(type, p) + (type == FP_MA_KAMA && p > 1 ? 2 * p : 0);
}

static inline void fp_ma_init_v(fp_ma *m, int type, size_t p, double *buf, double vfactor)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->p = p;
    m->n = 0;
    window_init(&m->w, buf, fp_ma_window(type, p));
    if (type == FP_MA_KAMA && p > 1)
        blocksum_init(&m->changes, buf + 2 * fp_ma_window(type, p), p);
    m->a = m->b = m->c = 0.0;
    m->countdown = 8 * p;
    for (int j = 0; j < 3; j++)
        ma_ema_init(&m->e[j], p);
    if (type == FP_MA_TRIMA) {
        size_t h = p >> 1;
        m->factor = 1.0 / (double)(p % 2 == 1 ? (h + 1) * (h + 1) : h * (h + 1));
    }
    if (type == FP_MA_T3) {
        double v2 = vfactor * vfactor;
        m->c1 = 0 - v2 * vfactor;
        m->c2 = 3.0 * (v2 - m->c1);
        m->c3 = (0 - 6.0) * v2 - 3.0 * (vfactor - m->c1);
        m->c4 = 1.0 + 3.0 * vfactor - m->c1 + 3.0 * v2;
        m->k = 2.0 / ((double)p + 1.0);
        m->one_minus_k = 1.0 - m->k;
        m->countdown = 0; /* T3: values summed for the next seed */
        for (int j = 0; j < 6; j++)
            m->t3[j] = 0.0;
    }
}

static inline void fp_ma_init(fp_ma *m, int type, size_t p, double *buf)
{
    fp_ma_init_v(m, type, p, buf, FP_T3_VFACTOR);
}

static FP_INLINE double ma_sma_push(fp_ma *m, double x)
{
    m->a += x;
    window_push(&m->w, x);
    if (m->w.count < m->p)
        return NAN;
    double out = m->a / (double)m->p;
    m->a -= window_values(&m->w)[0];
    return out;
}

/* a = the window's plain sum, b = its weighted sum, c = the value that
 * left the window at the previous step. */
static FP_INLINE double ma_wma_push(fp_ma *m, double x)
{
    const size_t p = m->p;
    window_push(&m->w, x);
    if (m->w.count < p) {
        m->a += x;
        m->b += x * (double)m->w.count;
        return NAN;
    }
    if (--m->countdown != 0) {
        m->a += x;
        m->a -= m->c;
        m->b += x * (double)p;
    } else {
        const double *v = window_values(&m->w);
        double w = 1.0;
        m->a = m->b = 0.0;
        for (size_t j = 0; j < p; j++, w += 1.0) {
            m->a += v[j];
            m->b += v[j] * w;
        }
        m->countdown = 8 * p;
    }
    m->c = window_values(&m->w)[0];
    double out = m->b / ((double)p * (double)(p + 1) * 0.5);
    m->b -= m->a;
    return out;
}

/* TA-Lib's TRIMA: with h = p/2, the numerator (the weighted sum) moves by
 * its two halves' running sums: a over the older half (with the middle
 * value for odd p), b over the newer half. */
static FP_INLINE double ma_trima_push(fp_ma *m, double x)
{
    const size_t p = m->p, h = p >> 1;
    const int odd = p % 2 == 1;
    window_push(&m->w, x);
    if (m->n < p) {
        if (++m->n < p)
            return NAN;
        /* the first window: older half newest first, newer half oldest first */
        const size_t mid = h; /* back offset of the older half's newest value */
        m->a = m->b = m->c = 0.0;
        for (size_t k = mid; k <= p - 1; k++) { /* from the middle back to the oldest */
            m->a += window_back(&m->w, k);
            m->c += m->a;
        }
        for (size_t k = mid; k-- > 0;) {
            m->b += window_back(&m->w, k);
            m->c += m->b;
        }
        return m->c * m->factor;
    }
    const double leaving = window_back(&m->w, p), middle = window_back(&m->w, h);
    m->c -= m->a;
    m->a -= leaving;
    m->a += middle;
    if (odd) {
        m->c += m->b;
        m->b -= middle;
    } else {
        m->b -= middle;
        m->c += m->b;
    }
    m->b += x;
    m->c += x;
    return m->c * m->factor;
}

/* TA-Lib's KAMA: b = the KAMA, started at the value before the first
 * output; the window of x reaches p + 1 values back. */
static FP_INLINE double ma_kama_push(fp_ma *m, double x)
{
    static const double c_max = 2.0 / (30.0 + 1.0);
    const double c_diff = 2.0 / (2.0 + 1.0) - c_max;
    const size_t p = m->p;
    const double change = m->n > 0 ? fabs(x - window_back(&m->w, 0)) : 0.0;
    window_push(&m->w, x);
    if (m->n++ == 0)
        return NAN;
    const double sum = blocksum_push(&m->changes, change);
    if (m->n <= p)
        return NAN;
    if (m->n == p + 1)
        m->b = window_back(&m->w, 1);
    const double roc = x - window_back(&m->w, p);
    const double er = sum <= roc || sum < DBL_MIN ? 1.0 : fabs(roc / sum);
    double sc = er * c_diff + c_max;
    sc *= sc;
    m->b = (x - m->b) * sc + m->b;
    return m->b;
}

/* TA-Lib's T3: six EMAs in a chain. Stage 0 is seeded with the mean of
 * the first p inputs; stage j, once running, is seeded with the mean of
 * its input (stage j-1) over p values, its seed's own stage included.
 * Counts: n = stages running, c = values summed into a for the next. */
static FP_INLINE double ma_t3_push(fp_ma *m, double x)
{
    const double k = m->k, omk = m->one_minus_k;
    double *e = m->t3;
    size_t s = m->n;
    if (s == 0) {
        m->a += x;
        if (++m->countdown < m->p)
            return NAN;
    } else {
        e[0] = t3_step(e[0], x, k, omk);
        for (size_t j = 1; j < s; j++)
            e[j] = t3_step(e[j], e[j - 1], k, omk);
        if (s < 6) {
            m->a += e[s - 1];
            if (++m->countdown < m->p)
                return NAN;
        }
    }
    if (s < 6) {
        e[s] = m->a / (double)m->p;
        m->a = e[s];
        m->countdown = 1;
        m->n = ++s;
        if (s < 6)
            return NAN;
    }
    return m->c1 * e[5] + m->c2 * e[4] + m->c3 * e[3] + m->c4 * e[2];
}

static FP_INLINE double fp_ma_push(fp_ma *m, double x)
{
    if (m->p == 1 || m->type == FP_MA_NONE)
        return x;
    switch (m->type) {
    case FP_MA_SMA:
        return ma_sma_push(m, x);
    case FP_MA_EMA:
        return ma_ema_push(&m->e[0], x);
    case FP_MA_WMA:
        return ma_wma_push(m, x);
    case FP_MA_DEMA: {
        double e1 = ma_ema_push(&m->e[0], x);
        if (e1 != e1)
            return NAN;
        double e2 = ma_ema_push(&m->e[1], e1);
        return e2 != e2 ? NAN : 2.0 * e1 - e2;
    }
    case FP_MA_TEMA: {
        double e1 = ma_ema_push(&m->e[0], x);
        if (e1 != e1)
            return NAN;
        double e2 = ma_ema_push(&m->e[1], e1);
        if (e2 != e2)
            return NAN;
        double e3 = ma_ema_push(&m->e[2], e2);
        return e3 != e3 ? NAN : 3.0 * e1 - 3.0 * e2 + e3;
    }
    case FP_MA_TRIMA:
        return ma_trima_push(m, x);
    case FP_MA_KAMA:
        return ma_kama_push(m, x);
    case FP_MA_T3:
        return ma_t3_push(m, x);
    default:
        return NAN;
    }
}

/* The moving average of x[0..n) (finite values) into out[0..n), NaN for
 * the lookback: the same doubles as fp_ma_push value by value, through the
 * fast batch kernels where they exist. FP_OK or FP_ENOMEM. */
int fp_ma_series(int type, size_t p, double vfactor, const double *x, size_t n, double *out);

#endif
