/*
 * indicators.c - the indicator kernels declared in indicators.h.
 *
 * Pure C over float64 buffers: no Python, no global mutable state, scratch
 * memory (STOCH, rsi_simple, envelope) allocated per call, so any number
 * of threads may run kernels at once. The reference is TA-Lib as shipped
 * with the ta-lib Python package (C library 0.8.x): every kernel follows
 * its conventions (lookbacks, seeds, zero tests) and stays within 1e-9 of
 * it, which rounding makes the design constraint:
 *   - running window sums (SMA, WMA, STDDEV, BBANDS, the STOCH smoothing)
 *     never forget a rounding error; TA-Lib's own SMA drifts 1e-9 from the
 *     exact mean within 1e5 values at prices of 1e5, within a few thousand
 *     at 1e6. The EMA's rounding noise exceeds 1e-9 too once periods are
 *     long. So SMA, WMA, STDDEV, BBANDS, STOCH,
 *     EMA and MACD perform TA-Lib's operations in TA-Lib's order and
 *     return the very same doubles (EMA and MACD: but for rare one-ulp
 *     ties, see ema_step); their speed comes from around that arithmetic;
 *   - RSI and ATR are Wilder recursions on small values, where reordering
 *     for speed costs less than 1e-12: they advance four steps at once;
 *   - rsi_simple and envelope, with no TA-Lib counterpart, sum each window
 *     afresh (as a suffix plus a prefix of blocks) and never drift.
 * Where SSE2 exists (every x86-64), packed instructions do two divisions,
 * square roots or steps at once; elsewhere plain C loops compute the same
 * values (for RSI and ATR, the same to rounding).
 *
 * Inputs must be finite after the leading NaNs. Latency-bound loops test
 * each value as it enters (free there); the others let a NaN or infinity
 * propagate into their running state (or a side sum), and only when that
 * ends non-finite do they scan the inputs, to tell a bad input from an
 * overflow.
 */
#include "indicators.h"

#include <stdlib.h>

#include "ma.h"     /* ema_step */
#include "series.h" /* first_valid, all_finite, fill_nan, SSE2, FP_INLINE */

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

static int period_ok(int period)
{
    return period >= 1 && period <= FP_MAX_PERIOD;
}

/* out[i] = a[i] - b[i] for i in [0, m), two at a time. */
static void sub_arrays(double *out, const double *a, const double *b, size_t m)
{
    size_t i = 0;
#ifdef FP_HAVE_SSE2
    for (; i + 2 <= m; i += 2)
        _mm_storeu_pd(out + i, _mm_sub_pd(_mm_loadu_pd(a + i), _mm_loadu_pd(b + i)));
#endif
    for (; i < m; i++)
        out[i] = a[i] - b[i];
}

/* ------------------------------------------------------------------ */
/* SMA                                                                 */
/* ------------------------------------------------------------------ */

/* TA-Lib's running total, bit for bit: add the new value, divide, then
 * drop the oldest. The loop waits on the total (two additions per value),
 * which also makes the per-value finiteness test free. Replaying those
 * roundings off the chain (exact integer sums within one binade, ties
 * tracked) gives the same doubles but costs more per value than the two
 * additions it saves, so this chain, TA-Lib's too, bounds the speed. */
int fp_sma_f64(const double *x, size_t n, int period, double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1;
    const double dp = (double)period;
    double total = 0.0;
    fill_nan(out, o0);
    for (size_t i = b; i < o0; i++) {
        double v = x[i];
        if (not_finite(v))
            return FP_ENONFINITE;
        total += v;
    }
    for (size_t i = o0; i < n; i++) {
        double v = x[i];
        if (not_finite(v))
            return FP_ENONFINITE;
        total += v;
        out[i] = total / dp;
        total -= x[i + 1 - p];
    }
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* EMA                                                                 */
/* ------------------------------------------------------------------ */

/* The EMA step is ema_step (ma.h), shared with the streaming EMAs. */

/* Sum of w[i] * u[i] for i in [0, n), in no particular order: several
 * partial sums, so the multiply-adds do not wait on each other. */
static double dot(const double *w, const double *u, size_t n)
{
    size_t i = 0;
    double s = 0.0;
#ifdef FP_HAVE_SSE2
    __m128d a0 = _mm_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm_add_pd(a0, _mm_mul_pd(_mm_loadu_pd(w + i), _mm_loadu_pd(u + i)));
        a1 = _mm_add_pd(a1, _mm_mul_pd(_mm_loadu_pd(w + i + 2), _mm_loadu_pd(u + i + 2)));
        a2 = _mm_add_pd(a2, _mm_mul_pd(_mm_loadu_pd(w + i + 4), _mm_loadu_pd(u + i + 4)));
        a3 = _mm_add_pd(a3, _mm_mul_pd(_mm_loadu_pd(w + i + 6), _mm_loadu_pd(u + i + 6)));
    }
    __m128d a = _mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3));
    s = _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
#else
    double s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (; i + 4 <= n; i += 4) {
        s += w[i] * u[i];
        s1 += w[i + 1] * u[i + 1];
        s2 += w[i + 2] * u[i + 2];
        s3 += w[i + 3] * u[i + 3];
    }
    s = (s + s1) + (s2 + s3);
#endif
    for (; i < n; i++)
        s += w[i] * u[i];
    return s;
}

#define EMA_LANES 8 /* ema_run's y0 .. y7 */
#define EMA_BLOCK 256 /* weights in ema_starts' table */

/* Starting values for the lanes of ema_run: start[j] estimates the
 * recursion's value after u[0 .. j*c), start[0] = y exactly. Unrolled,
 * with r = 1 - k, the recursion is (in exact arithmetic)
 *     y_p = r^L y_(p-L) + sum_(i<L) k r^i u[p-1-i]
 * for any L <= p: a weighted sum whose multiply-adds are independent (so
 * it costs a fraction of a recursion step per term), plus the value L
 * steps back. Lane j takes L = c and chains from lane j-1's estimate, or,
 * when c is long, L = 40/k and u[p-L-1] for y_(p-L): its weight r^L is
 * then below e^-40, so the estimate is as good as the chained one. The
 * weights k r^i come from one table of EMA_BLOCK (reversed, to run
 * forward with u); sums longer than that go a block at a time, oldest
 * first, each block scaling the sum so far by r^EMA_BLOCK. */
static void ema_starts(const double *u, size_t c, double y, double k, double *start)
{
    const double r = 1.0 - k;
    const size_t reach = (size_t)(40.0 / k) + 1;
    const size_t len = c < reach ? c : reach;
    const size_t nb = len < EMA_BLOCK ? len : EMA_BLOCK;
    double w[EMA_BLOCK]; /* w[nb-1-i] = k r^i; from i = 8 on, eight chains */
    double p = k;
    for (size_t i = 0; i < nb && i < 8; i++, p *= r)
        w[nb - 1 - i] = p;
    const double r8 = p / k;
    for (size_t i = 8; i < nb; i++)
        w[nb - 1 - i] = w[nb + 7 - i] * r8;
    /* the oldest block is the partial one, first terms long */
    const size_t first = len - (len - 1) / nb * nb;
    const double r_first = pow(r, (double)first), r_block = pow(r, (double)nb);
    start[0] = y;
    for (size_t j = 1; j < EMA_LANES; j++) {
        size_t at = j * c - len;
        double e = len == c ? start[j - 1] : u[at - 1];
        e = e * r_first + dot(w + nb - first, u + at, first);
        for (at += first; at < j * c; at += nb)
            e = e * r_block + dot(w, u + at, nb);
        start[j] = e;
    }
}

/* Runs y = ema_step(y, u[i], k) for i in [0, m), writing out[i] (out
 * distinct from u), reproducing the reference's rounding step by step.
 * The exact recursion is contractive: two runs that start a few ulps
 * apart soon produce identical doubles and then stay identical. So the
 * output is cut into eight chunks advanced in lockstep - eight
 * independent dependency chains instead of one. Every chunk but the first
 * starts EMA_WARM/k steps early, from ema_starts' estimate there, and
 * writes only once it has merged with the exact run. From an estimate a
 * few ulps off, 6/k steps almost always suffice; from the raw input value
 * there, 48/k were needed, which at n = 1000 and period 20 was most of
 * the work. Each chunk boundary is then checked with one exact step from
 * the previous chunk's last value; a chunk that had not merged (long flat
 * stretches, where values stall, can do that) is recomputed from there
 * until it meets its own values, so the result is exact whatever the
 * data. A recomputation that runs to the end (a NaN never meets its lane)
 * has made every later value exact too. */
#define EMA_WARM 6.0

static void ema_run(const double *u, size_t m, double y, double k, double *out)
{
    const size_t warm = (size_t)(EMA_WARM / k) + 1;
    const size_t c = m > warm ? (m - warm) / EMA_LANES : 0;
    size_t done = 0;
    if (c >= 16) {
        /* lane j runs over positions j*c + t, writing from t = warm on;
         * lane 0 starts from the exact y and writes from t = 0 */
        double s[EMA_LANES];
        ema_starts(u, c, y, k, s);
        double y0 = s[0], y1 = s[1], y2 = s[2], y3 = s[3];
        double y4 = s[4], y5 = s[5], y6 = s[6], y7 = s[7];
        for (size_t t = 0; t < warm; t++) {
            const double *v = u + t;
            y0 = ema_step(y0, v[0], k);
            out[t] = y0;
            y1 = ema_step(y1, v[c], k);
            y2 = ema_step(y2, v[2 * c], k);
            y3 = ema_step(y3, v[3 * c], k);
            y4 = ema_step(y4, v[4 * c], k);
            y5 = ema_step(y5, v[5 * c], k);
            y6 = ema_step(y6, v[6 * c], k);
            y7 = ema_step(y7, v[7 * c], k);
        }
        for (size_t t = warm; t < warm + c; t++) {
            const double *v = u + t;
            double *o = out + t;
            o[0] = y0 = ema_step(y0, v[0], k);
            o[c] = y1 = ema_step(y1, v[c], k);
            o[2 * c] = y2 = ema_step(y2, v[2 * c], k);
            o[3 * c] = y3 = ema_step(y3, v[3 * c], k);
            o[4 * c] = y4 = ema_step(y4, v[4 * c], k);
            o[5 * c] = y5 = ema_step(y5, v[5 * c], k);
            o[6 * c] = y6 = ema_step(y6, v[6 * c], k);
            o[7 * c] = y7 = ema_step(y7, v[7 * c], k);
        }
        done = warm + EMA_LANES * c;
        y = y7;
    }
    for (size_t i = done; i < m; i++)
        out[i] = y = ema_step(y, u[i], k);
    if (done == 0)
        return;
    for (size_t j = 1; j < EMA_LANES; j++) {
        size_t i = warm + j * c;
        for (; i < m; i++) {
            double v = ema_step(out[i - 1], u[i], k);
            if (v == out[i])
                break;
            out[i] = v;
        }
        if (i == m)
            return;
    }
}

/* Seed: the mean of the first `period` values, summed in order. A NaN or
 * infinity anywhere leaves the last value non-finite. */
int fp_ema_f64(const double *x, size_t n, int period, double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1;
    double sum = 0.0;
    for (size_t i = b; i <= o0; i++)
        sum += x[i];
    fill_nan(out, o0);
    out[o0] = sum / (double)period;
    ema_run(x + o0 + 1, n - o0 - 1, out[o0], 2.0 / (double)(period + 1), out + o0 + 1);
    if (not_finite(out[n - 1]) && !all_finite(x + b, n - b))
        return FP_ENONFINITE;
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* WMA                                                                 */
/* ------------------------------------------------------------------ */

/* TA-Lib's two running sums, bit for bit: `sub` is the window's plain sum,
 * `sum` its weighted sum; each step adds period * x to sum, outputs
 * sum / (p(p+1)/2), then subtracts sub (every weight drops by one). Like
 * TA-Lib, both sums are rebuilt from the window every 8 periods. */
int fp_wma_f64(const double *x, size_t n, int period, double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1;
    fill_nan(out, o0);
    if (period == 1) {
        for (size_t i = b; i < n; i++) {
            if (not_finite(x[i]))
                return FP_ENONFINITE;
            out[i] = x[i];
        }
        return FP_OK;
    }
    const double dp = (double)period;
    const double divider = dp * (double)(period + 1) * 0.5;
    const size_t rebuild_every = 8 * p;
    double sub = 0.0, sum = 0.0, trailing = 0.0;
    double w = 1.0;
    for (size_t i = b; i < o0; i++, w += 1.0) {
        double v = x[i];
        if (not_finite(v))
            return FP_ENONFINITE;
        sub += v;
        sum += v * w;
    }
    size_t countdown = rebuild_every;
    for (size_t i = o0; i < n; i++) {
        double v = x[i];
        if (not_finite(v))
            return FP_ENONFINITE;
        if (--countdown != 0) {
            sub += v;
            sub -= trailing;
            sum += v * dp;
        } else {
            sub = sum = 0.0;
            w = 1.0;
            for (size_t j = i + 1 - p; j <= i; j++, w += 1.0) {
                sub += x[j];
                sum += x[j] * w;
            }
            countdown = rebuild_every;
        }
        trailing = x[i + 1 - p];
        out[i] = sum / divider;
        sum -= sub;
    }
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* RSI (Wilder)                                                        */
/* ------------------------------------------------------------------ */

/* TA-Lib's RSI loop itself, bit for bit: g and l are the average gain and
 * loss, out = 100 * g / (g + l), or 0 when g + l is 0. Nine cycles of
 * dependent arithmetic per value; fp_rsi_f64 only falls back on it for
 * the rare series that need it. */
static void rsi_reference(const double *x, size_t b, size_t n, size_t p, double *out)
{
    const double invp = 1.0 / (double)p, pm1 = (double)(p - 1);
    double g = 0.0, l = 0.0;
    for (size_t i = b + 1; i <= b + p; i++) {
        double d = x[i] - x[i - 1];
        double up = d > 0.0 ? d : 0.0;
        g += up;
        l += up - d;
    }
    g *= invp;
    l *= invp;
    for (size_t i = b + p;;) {
        double s = l + g;
        out[i] = s > 0.0 ? (g / s) * 100.0 : 0.0;
        if (++i == n)
            break;
        double d = x[i] - x[i - 1];
        double up = d > 0.0 ? d : 0.0;
        g = (g * pm1 + up) * invp;
        l = ((up - d) + l * pm1) * invp;
    }
}

/* Wilder's averages of the gains and of |delta|, each times period (the
 * factor cancels in the ratio): G = a G + gain, S = a S + |delta| with
 * a = (p-1)/p; RSI = 100 * G / S, or 0 when S is 0 (as TA-Lib 0.8, whose
 * average loss is the same |delta| - gain). Seeds: the plain sums of the
 * first `period` gains and |deltas|. A NaN or infinite input always makes
 * S, and every S after it, non-finite.
 * With SSE2, G and S share one register and four steps go at once:
 * V[j] = a^(j+1) V + C[j], where C[j], the inputs' share, is off the
 * carried chain (one multiply-add per four outputs); the divisions go two
 * per instruction. The last, partial block runs the same code on a padded
 * copy, so out[i] never depends on the length of the series.
 * This differs from TA-Lib by rounding only (below 1e-12), except after
 * thousands of unchanged prices: the averages then decay into subnormal
 * numbers and the ratio is made of their last few bits. So once S falls
 * below 1e-270 (without being 0) the series is redone with TA-Lib's own
 * arithmetic. */
#define RSI_TINY 1e-270

static inline double rsi_value(double g, double s)
{
    return s > 0.0 ? (g / s) * 100.0 : 0.0;
}

#ifdef FP_HAVE_SSE2
typedef struct {
    __m128d a1, a2, a3, a4;
} rsi_coefs;

/* Four steps from v = [G, S] over the deltas of x[-1..3]; *prev holds
 * x[-2..-1] (already in a register, so x[-1] is not loaded again) and
 * gets x[2..3]; writes four outputs and returns the state after each
 * step. */
static inline void rsi_block4(const double *x, const rsi_coefs *k, __m128d v, __m128d *prev,
                              double *out, __m128d st[4])
{
    const __m128d zero = _mm_setzero_pd(), hundred = _mm_set1_pd(100.0);
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
    __m128d x01 = _mm_loadu_pd(x), x23 = _mm_loadu_pd(x + 2);
    __m128d d01 = _mm_sub_pd(x01, _mm_shuffle_pd(*prev, x01, 1));
    __m128d d23 = _mm_sub_pd(x23, _mm_shuffle_pd(x01, x23, 1));
    *prev = x23;
    __m128d up01 = _mm_max_pd(d01, zero), ad01 = _mm_and_pd(d01, abs_mask);
    __m128d up23 = _mm_max_pd(d23, zero), ad23 = _mm_and_pd(d23, abs_mask);
    __m128d c0 = _mm_unpacklo_pd(up01, ad01);
    __m128d c1 = _mm_add_pd(_mm_mul_pd(k->a1, c0), _mm_unpackhi_pd(up01, ad01));
    __m128d c2 = _mm_add_pd(_mm_mul_pd(k->a1, c1), _mm_unpacklo_pd(up23, ad23));
    __m128d c3 = _mm_add_pd(_mm_mul_pd(k->a1, c2), _mm_unpackhi_pd(up23, ad23));
    st[0] = _mm_add_pd(_mm_mul_pd(k->a1, v), c0);
    st[1] = _mm_add_pd(_mm_mul_pd(k->a2, v), c1);
    st[2] = _mm_add_pd(_mm_mul_pd(k->a3, v), c2);
    st[3] = _mm_add_pd(_mm_mul_pd(k->a4, v), c3);
    __m128d g01 = _mm_unpacklo_pd(st[0], st[1]), s01 = _mm_unpackhi_pd(st[0], st[1]);
    __m128d g23 = _mm_unpacklo_pd(st[2], st[3]), s23 = _mm_unpackhi_pd(st[2], st[3]);
    __m128d r01 = _mm_mul_pd(_mm_div_pd(g01, s01), hundred);
    __m128d r23 = _mm_mul_pd(_mm_div_pd(g23, s23), hundred);
    _mm_storeu_pd(out, _mm_and_pd(_mm_cmpgt_pd(s01, zero), r01));
    _mm_storeu_pd(out + 2, _mm_and_pd(_mm_cmpgt_pd(s23, zero), r23));
}
#endif

int fp_rsi_f64(const double *x, size_t n, int period, double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p + 1) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p;
    const double a = (double)(period - 1) / (double)period;
    double g = 0.0, s = 0.0;
    for (size_t i = b + 1; i <= o0; i++) {
        double d = x[i] - x[i - 1];
        g += d > 0.0 ? d : 0.0;
        s += fabs(d);
    }
    fill_nan(out, o0);
    out[o0] = rsi_value(g, s);
    int tiny = s < RSI_TINY && s != 0.0;
    size_t i = o0 + 1;
#ifdef FP_HAVE_SSE2
    {
        const rsi_coefs k = {_mm_set1_pd(a), _mm_set1_pd(a * a), _mm_set1_pd(a * a * a),
                             _mm_set1_pd(a * a * a * a)};
        __m128d v = _mm_set_pd(s, g), st[4];
        __m128d prev = _mm_set_pd(x[i - 1], x[i - 2]);
        for (; i + 8 <= n && !tiny; i += 8) {
            rsi_block4(x + i, &k, v, &prev, out + i, st);
            rsi_block4(x + i + 4, &k, st[3], &prev, out + i + 4, st);
            v = st[3];
            /* S shrinks only while prices do not move, from far above the
             * threshold: checking every eighth value suffices; a 0 stays 0
             * until the first move */
            const double s7 = _mm_cvtsd_f64(_mm_unpackhi_pd(v, v));
            tiny = s7 < RSI_TINY && s7 != 0.0;
        }
        for (; i + 4 <= n && !tiny; i += 4) {
            rsi_block4(x + i, &k, v, &prev, out + i, st);
            v = st[3];
        }
        if (i < n && !tiny) {
            double pad[5], res[4];
            const size_t r = n - i;
            for (size_t j = 0; j < 5; j++)
                pad[j] = x[i - 1 + (j <= r ? j : r)]; /* repeat the last value */
            rsi_block4(pad + 1, &k, v, &prev, res, st);
            memcpy(out + i, res, r * sizeof(double));
            v = st[r - 1];
            i = n;
        }
        g = _mm_cvtsd_f64(v);
        s = _mm_cvtsd_f64(_mm_unpackhi_pd(v, v));
        tiny = tiny || (s < RSI_TINY && s != 0.0);
    }
#endif
    for (; i < n && !tiny; i++) {
        double d = x[i] - x[i - 1];
        g = a * g + (d > 0.0 ? d : 0.0);
        s = a * s + fabs(d);
        out[i] = rsi_value(g, s);
        tiny = s < RSI_TINY && s != 0.0;
    }
    if (not_finite(s) && !all_finite(x + b, n - b))
        return FP_ENONFINITE;
    if (tiny)
        rsi_reference(x, b, n, p, out);
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* Simple-mean RSI (batch_orchestrator CORE/rsi)                       */
/* ------------------------------------------------------------------ */

/* With A the sum of |delta| over the window and D = x[i] - x[i-period]
 * the sum of the deltas, the gains sum to (A + D)/2 and the losses to
 * (A - D)/2, so 100 - 100/(1 + gain/loss) = 50 + 50 D / A.
 * A is never carried from window to window (a running total would keep
 * the rounding of every large move long after it has left): the deltas
 * are cut into blocks of `period`, and a window is a suffix of the
 * previous block plus a prefix of the current one, both fresh sums of
 * non-negative terms, accurate to period * 1e-16 of A. The runs of
 * deltas >= 0 and <= 0 ending at i give the exact answers: 100 when no
 * delta of the window is a loss (flat windows included), 0 when none is a
 * gain. Each block's D and A are divided two at a time at its end. */
int fp_rsi_simple_f64(const double *x, size_t n, int period, double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (!all_finite(x + b, n - b))
        return FP_ENONFINITE;
    if (n - b < p + 1) {
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p; /* the first window is the first block */
    double *suffix = malloc(2 * p * sizeof(double));
    if (!suffix)
        return FP_ENOMEM;
    double *den = suffix + p;
    size_t no_loss = 0, no_gain = 0; /* run lengths of deltas >= 0, <= 0 */
    /* (run + 1) if the condition holds, else 0: without a branch, which
     * random deltas would mispredict half the time */
#define EXTEND_RUN(run, cond) ((run) = ((run) + 1) & ((size_t)0 - (size_t)(cond)))
    fill_nan(out, o0);
    for (size_t blk = b + 1; blk < n; blk += p) {
        const size_t end = n - blk > p ? blk + p : n;
        double prefix = 0.0;
        for (size_t i = blk; i < end; i++) {
            const size_t r = i - blk;
            double d = x[i] - x[i - 1];
            prefix += fabs(d);
            EXTEND_RUN(no_loss, d >= 0.0);
            EXTEND_RUN(no_gain, d <= 0.0);
            if (i < o0)
                continue;
            double num = x[i] - x[i - p];
            double a = r + 1 < p ? suffix[r + 1] + prefix : prefix;
            if (no_loss >= p) {
                num = a = 1.0; /* 100 */
            } else if (no_gain >= p) {
                num = -1.0; /* 0 */
                a = 1.0;
            }
            out[i] = num;
            den[r] = a;
        }
        size_t i = blk > o0 ? blk : o0;
#ifdef FP_HAVE_SSE2
        const __m128d fifty = _mm_set1_pd(50.0);
        for (; i + 2 <= end; i += 2) {
            __m128d q = _mm_div_pd(_mm_loadu_pd(out + i), _mm_loadu_pd(den + (i - blk)));
            _mm_storeu_pd(out + i, _mm_add_pd(fifty, _mm_mul_pd(fifty, q)));
        }
#endif
        for (; i < end; i++)
            out[i] = 50.0 + 50.0 * (out[i] / den[i - blk]);
        /* suffix sums of this block, for the windows ending in the next */
        double sum = 0.0;
        for (size_t j = end; j-- > blk;) {
            sum += fabs(x[j] - x[j - 1]);
            suffix[j - blk] = sum;
        }
    }
#undef EXTEND_RUN
    free(suffix);
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* Rolling population variance (STDDEV, BBANDS): rolling_var.h         */
/* ------------------------------------------------------------------ */

/* The loops wait on the variance's sums (two additions per value). The
 * square root (and BBANDS's division) per output would cost as much
 * again, so they store the variance and finish the outputs two at a time
 * with packed instructions, 16 windows behind, where they overlap the
 * chain. */

/* sd[j] = sqrt(sd[j]) * scale for j, j+1 */
static inline void finish_std2(double *sd, double scale)
{
#ifdef FP_HAVE_SSE2
    _mm_storeu_pd(sd, _mm_mul_pd(_mm_sqrt_pd(_mm_loadu_pd(sd)), _mm_set1_pd(scale)));
#else
    sd[0] = sqrt(sd[0]) * scale;
    sd[1] = sqrt(sd[1]) * scale;
#endif
}

/* From variance in upper[j] and SMA total in middle[j], for j, j+1: the
 * SMA and the bands. */
static inline void finish_bands2(double *upper, double *middle, double *lower, double dp,
                                 double up, double dn)
{
#ifdef FP_HAVE_SSE2
    __m128d m = _mm_div_pd(_mm_loadu_pd(middle), _mm_set1_pd(dp));
    __m128d sd = _mm_sqrt_pd(_mm_loadu_pd(upper));
    _mm_storeu_pd(middle, m);
    _mm_storeu_pd(upper, _mm_add_pd(m, _mm_mul_pd(sd, _mm_set1_pd(up))));
    _mm_storeu_pd(lower, _mm_sub_pd(m, _mm_mul_pd(sd, _mm_set1_pd(dn))));
#else
    for (int j = 0; j < 2; j++) {
        double m = middle[j] / dp, sd = sqrt(upper[j]);
        middle[j] = m;
        upper[j] = m + sd * up;
        lower[j] = m - sd * dn;
    }
#endif
}

#define FINISH_LAG 16

/* Population std (TA-Lib's STDDEV): sqrt(VAR) * nbdev. The inputs are
 * summed on the side (a NaN or infinity makes the sum non-finite) rather
 * than tested one by one, which would lengthen the loop. */
int fp_stddev_f64(const double *x, size_t n, int period, double nbdev, double *out)
{
    if (!period_ok(period) || not_finite(nbdev))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1;
    if (!all_finite(x + b, p - 1))
        return FP_ENONFINITE;
    fill_nan(out, o0);
    rolling_var st = rolling_var_start(x, b, p);
    double poison = 0.0, total;
    size_t i = o0, fin = o0; /* outputs before fin are finished */
    for (; i + 2 <= n; i += 2) {
        poison += x[i] + x[i + 1];
        out[i] = rolling_var_next(&st, x, i, &total);
        out[i + 1] = rolling_var_next(&st, x, i + 1, &total);
        if (i >= fin + FINISH_LAG) {
            finish_std2(out + fin, nbdev);
            fin += 2;
        }
    }
    if (i < n) {
        poison += x[i];
        out[i] = rolling_var_next(&st, x, i, &total);
    }
    if (not_finite(poison) && !all_finite(x + o0, n - o0))
        return FP_ENONFINITE;
    for (; fin + 2 <= n; fin += 2)
        finish_std2(out + fin, nbdev);
    if (fin < n)
        out[fin] = sqrt(out[fin]) * nbdev;
    return FP_OK;
}

/* Middle = TA-Lib's SMA, std from the same rolling variance (TA-Lib fuses
 * the two the same way for matype SMA), bands = middle +/- std * nbdev. */
int fp_bbands_f64(const double *x, size_t n, int period, double nbdev_up, double nbdev_dn,
                  double *upper, double *middle, double *lower)
{
    if (!period_ok(period) || not_finite(nbdev_up) || not_finite(nbdev_dn))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (n - b < p) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(upper, n);
        fill_nan(middle, n);
        fill_nan(lower, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1;
    const double dp = (double)period;
    if (!all_finite(x + b, p - 1))
        return FP_ENONFINITE;
    fill_nan(upper, o0);
    fill_nan(middle, o0);
    fill_nan(lower, o0);
    rolling_var st = rolling_var_start(x, b, p);
    double poison = 0.0;
    size_t i = o0, fin = o0;
    for (; i + 2 <= n; i += 2) {
        poison += x[i] + x[i + 1];
        upper[i] = rolling_var_next(&st, x, i, &middle[i]);
        upper[i + 1] = rolling_var_next(&st, x, i + 1, &middle[i + 1]);
        if (i >= fin + FINISH_LAG) {
            finish_bands2(upper + fin, middle + fin, lower + fin, dp, nbdev_up, nbdev_dn);
            fin += 2;
        }
    }
    if (i < n) {
        poison += x[i];
        upper[i] = rolling_var_next(&st, x, i, &middle[i]);
    }
    if (not_finite(poison) && !all_finite(x + o0, n - o0))
        return FP_ENONFINITE;
    for (; fin + 2 <= n; fin += 2)
        finish_bands2(upper + fin, middle + fin, lower + fin, dp, nbdev_up, nbdev_dn);
    if (fin < n) {
        double m = middle[fin] / dp, sd = sqrt(upper[fin]);
        middle[fin] = m;
        upper[fin] = m + sd * nbdev_up;
        lower[fin] = m - sd * nbdev_dn;
    }
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* Envelope (batch_orchestrator CORE/envelope)                         */
/* ------------------------------------------------------------------ */

/* Per window, the sums of e = x - c and e^2 give mean = c + sum(e)/p and
 * variance = sum(e^2)/p - (sum(e)/p)^2; with c near the window mean, e is
 * exact and the mean square barely cancels. As in rsi_simple the sums are
 * never carried from window to window (rounding would accumulate): with
 * the values cut into blocks of `period`, a window is a suffix of the
 * previous block plus a prefix of the current one, both fresh sums, and c
 * is the mean of the previous block. A window whose mean lies more than 8
 * standard deviations from c (after a jump in the data) would lose
 * digits to cancellation: it is computed afresh in two passes. Each
 * window thus matches a two-pass mean and population std (numpy's
 * np.mean, np.std) to about period roundings. A window of equal values,
 * recognised by the run of equal values, gets exactly that value and std
 * 0. Each block's square roots and bands are done two at a time at its
 * end. */
typedef struct {
    double mean, var;
} mean_var;

static FP_NOINLINE mean_var two_pass(const double *x, size_t first, size_t last, double invp)
{
    mean_var r;
    double sum = 0.0, s1 = 0.0, s2 = 0.0;
    for (size_t j = first; j <= last; j++)
        sum += x[j];
    r.mean = sum * invp;
    for (size_t j = first; j <= last; j++) {
        double e = x[j] - r.mean;
        s1 += e;
        s2 += e * e;
    }
    double m1 = s1 * invp;
    r.mean += m1;
    r.var = s2 * invp - m1 * m1;
    return r;
}

int fp_envelope_f64(const double *x, size_t n, int period, double deviation, double *upper,
                    double *middle, double *lower)
{
    if (!period_ok(period) || not_finite(deviation))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = first_valid(x, n);
    if (!all_finite(x + b, n - b))
        return FP_ENONFINITE;
    if (n - b < p) {
        fill_nan(upper, n);
        fill_nan(middle, n);
        fill_nan(lower, n);
        return FP_OK;
    }
    const size_t o0 = b + p - 1; /* the first window is the first block */
    const double invp = 1.0 / (double)period;
    double *suf1 = malloc(2 * p * sizeof(double));
    if (!suf1)
        return FP_ENOMEM;
    double *suf2 = suf1 + p;
    fill_nan(upper, o0);
    fill_nan(middle, o0);
    fill_nan(lower, o0);

    double c = 0.0; /* the first block is centred on its own mean */
    for (size_t i = b; i <= o0; i++)
        c += x[i];
    c *= invp;
    size_t run = 0; /* equal values ending at i */
    for (size_t blk = b; blk < n; blk += p) {
        const size_t end = n - blk > p ? blk + p : n;
        double pre1 = 0.0, pre2 = 0.0;
        for (size_t i = blk; i < end; i++) {
            const size_t r = i - blk;
            double e = x[i] - c;
            pre1 += e;
            pre2 += e * e;
            run = i > b && x[i] == x[i - 1] ? run + 1 : 1;
            if (i < o0)
                continue;
            if (run >= p) {
                middle[i] = x[i];
                upper[i] = 0.0;
                continue;
            }
            double s1 = pre1, s2 = pre2;
            if (r + 1 < p) {
                s1 += suf1[r + 1];
                s2 += suf2[r + 1];
            }
            double m1 = s1 * invp;
            double var = s2 * invp - m1 * m1;
            double mean = c + m1;
            if (m1 * m1 > 64.0 * var) {
                mean_var mv = two_pass(x, i + 1 - p, i, invp);
                mean = mv.mean;
                var = mv.var;
            }
            middle[i] = mean;
            upper[i] = var > 0.0 ? var : 0.0;
        }
        size_t i = blk > o0 ? blk : o0;
#ifdef FP_HAVE_SSE2
        const __m128d dev = _mm_set1_pd(deviation);
        for (; i + 2 <= end; i += 2) {
            __m128d m = _mm_loadu_pd(middle + i);
            __m128d sd = _mm_mul_pd(_mm_sqrt_pd(_mm_loadu_pd(upper + i)), dev);
            _mm_storeu_pd(upper + i, _mm_add_pd(m, sd));
            _mm_storeu_pd(lower + i, _mm_sub_pd(m, sd));
        }
#endif
        for (; i < end; i++) {
            double sd = sqrt(upper[i]) * deviation;
            upper[i] = middle[i] + sd;
            lower[i] = middle[i] - sd;
        }
        /* recentre on this block's mean, and its suffix sums around it */
        if (end - blk == p) {
            double sum = 0.0;
            for (size_t j = blk; j < end; j++)
                sum += x[j];
            c = sum * invp;
            double t1 = 0.0, t2 = 0.0;
            for (size_t j = end; j-- > blk;) {
                double e = x[j] - c;
                t1 += e;
                t2 += e * e;
                suf1[j - blk] = t1;
                suf2[j - blk] = t2;
            }
        }
    }
    free(suf1);
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* MACD                                                                */
/* ------------------------------------------------------------------ */

/* TA-Lib's seeding: at index b+slow-1 the slow EMA starts from the mean
 * of the `slow` values ending there and the fast EMA from the mean of the
 * `fast` values ending there; the signal EMA starts, at the first output,
 * from the mean of the first `signal` MACD values. After that the series
 * goes in segments, which mostly stay in cache: per segment one ema_run
 * pass per EMA (the fast EMA written into macd, the slow one into hist as
 * scratch), and two subtractions. Short series (under 5 * 48/k steps of
 * the slow EMA, where the three ema_run passes save nothing) take a
 * single pass with the three chains side by side instead. */
#define MACD_SEQ 5

int fp_macd_f64(const double *x, size_t n, int fast, int slow, int signal, double *macd,
                double *macd_signal, double *macd_hist)
{
    if (!period_ok(fast) || !period_ok(slow) || !period_ok(signal) || fast >= slow)
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t b = first_valid(x, n);
    const size_t lookback = (size_t)(slow - 1) + (size_t)(signal - 1);
    if (n - b < lookback + 1) {
        if (!all_finite(x + b, n - b))
            return FP_ENONFINITE;
        fill_nan(macd, n);
        fill_nan(macd_signal, n);
        fill_nan(macd_hist, n);
        return FP_OK;
    }
    const size_t i0 = b + (size_t)slow - 1; /* first MACD value */
    const size_t o0 = b + lookback;         /* first output */
    const double kf = 2.0 / (double)(fast + 1), ks = 2.0 / (double)(slow + 1);
    const double kg = 2.0 / (double)(signal + 1);
    double sum_slow = 0.0, sum_fast = 0.0;
    for (size_t i = b; i <= i0; i++) {
        sum_slow += x[i];
        if (i + (size_t)fast > i0)
            sum_fast += x[i];
    }
    double yf = sum_fast / (double)fast, ys = sum_slow / (double)slow;
    double sum_sig = 0.0;
    sum_sig += yf - ys;
    for (size_t i = i0 + 1; i <= o0; i++) {
        yf = ema_step(yf, x[i], kf);
        ys = ema_step(ys, x[i], ks);
        sum_sig += yf - ys;
    }
    double yg = sum_sig / (double)signal;
    fill_nan(macd, o0);
    fill_nan(macd_signal, o0);
    fill_nan(macd_hist, o0);
    macd[o0] = yf - ys;
    macd_signal[o0] = yg;
    macd_hist[o0] = macd[o0] - yg;

    /* ema_run's lanes warm up for only EMA_WARM/k steps, but below this
     * length the single pass measured as fast as the segments */
    const size_t warm = (size_t)(48.0 / ks) + 1;
    if (n - o0 < MACD_SEQ * warm) {
        for (size_t i = o0 + 1; i < n; i++) {
            yf = ema_step(yf, x[i], kf);
            ys = ema_step(ys, x[i], ks);
            double v = yf - ys;
            yg = ema_step(yg, v, kg);
            macd[i] = v;
            macd_signal[i] = yg;
            macd_hist[i] = v - yg;
        }
    } else {
        /* segments long enough to make the warm-ups cheap */
        const size_t segment = 128 * warm > 32768 ? 128 * warm : 32768;
        for (size_t s = o0 + 1; s < n; s += segment) {
            const size_t m = n - s < segment ? n - s : segment;
            ema_run(x + s, m, yf, kf, macd + s);
            ema_run(x + s, m, ys, ks, macd_hist + s);
            yf = macd[s + m - 1];
            ys = macd_hist[s + m - 1];
            sub_arrays(macd + s, macd + s, macd_hist + s, m);
            ema_run(macd + s, m, yg, kg, macd_signal + s);
            yg = macd_signal[s + m - 1];
            sub_arrays(macd_hist + s, macd + s, macd_signal + s, m);
        }
    }
    if ((not_finite(yf) || not_finite(ys)) && !all_finite(x + b, n - b))
        return FP_ENONFINITE;
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* ATR                                                                 */
/* ------------------------------------------------------------------ */

/* TA-Lib's true range: high - low, raised to |prev_close - high| or
 * |prev_close - low| if larger (a NaN previous close is passed over). */
static inline double true_range(double h, double l, double prev_close)
{
    double r = h - l;
    double up = fabs(prev_close - h), dn = fabs(prev_close - l);
    r = up > r ? up : r;
    return dn > r ? dn : r;
}

/* Seed: the mean of the first `period` true ranges (the first needs a
 * previous close, hence lookback = period); then Wilder's smoothing
 * y = a y + tr / period with a = (p-1)/p.
 * With SSE2 four bars go at once: the true ranges two per instruction,
 * then the recursion in pairs of time steps: with r the scaled ranges and
 * c1 = r1 + a r0, c2 = r2 + a c1, c3 = r3 + a r2 + a^2 c1,
 * y[i+j] = a^(j+1) y + c_j, so the carried chain is one multiply-add (and
 * a shuffle) per four outputs. The last, partial block runs the same code
 * on padded copies, so out[i] never depends on the length of the series.
 * A NaN high or low makes the range NaN; a NaN close can vanish in the
 * comparisons, so the closes are summed on the side to make it show. */
#ifdef FP_HAVE_SSE2
typedef struct {
    __m128d w, a, a01, a23;
} atr_coefs;

/* Four bars from *y (in both lanes): high[0..3], low[0..3], close[0..3],
 * and *last holding close[-2..-1] (it gets close[2..3]); writes four
 * outputs, leaves the last in *y and adds the previous closes to
 * *sum_prev. */
static inline void atr_block4(const double *high, const double *low, const double *close,
                              const atr_coefs *k, __m128d *y, __m128d *last, __m128d *sum_prev,
                              double *out)
{
    const __m128d zero = _mm_setzero_pd();
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
    __m128d h01 = _mm_loadu_pd(high), l01 = _mm_loadu_pd(low);
    __m128d h23 = _mm_loadu_pd(high + 2), l23 = _mm_loadu_pd(low + 2);
    __m128d c01 = _mm_loadu_pd(close), c23 = _mm_loadu_pd(close + 2);
    __m128d p01 = _mm_shuffle_pd(*last, c01, 1), p23 = _mm_shuffle_pd(c01, c23, 1);
    *last = c23;
    /* high - low, then max(|pc - high|, .), then max(|pc - low|, .) */
    __m128d t01 = _mm_sub_pd(h01, l01), t23 = _mm_sub_pd(h23, l23);
    t01 = _mm_max_pd(_mm_and_pd(_mm_sub_pd(p01, h01), abs_mask), t01);
    t23 = _mm_max_pd(_mm_and_pd(_mm_sub_pd(p23, h23), abs_mask), t23);
    t01 = _mm_max_pd(_mm_and_pd(_mm_sub_pd(p01, l01), abs_mask), t01);
    t23 = _mm_max_pd(_mm_and_pd(_mm_sub_pd(p23, l23), abs_mask), t23);
    *sum_prev = _mm_add_pd(*sum_prev, _mm_add_pd(p01, p23));
    __m128d r01 = _mm_mul_pd(k->w, t01), r23 = _mm_mul_pd(k->w, t23);
    /* [r0, r1 + a r0] and [r2 + a c1, r3 + a r2 + a^2 c1] */
    __m128d q01 = _mm_add_pd(r01, _mm_mul_pd(k->a, _mm_unpacklo_pd(zero, r01)));
    __m128d q23 = _mm_add_pd(r23, _mm_mul_pd(k->a, _mm_unpacklo_pd(zero, r23)));
    q23 = _mm_add_pd(q23, _mm_mul_pd(k->a01, _mm_unpackhi_pd(q01, q01)));
    __m128d y01 = _mm_add_pd(_mm_mul_pd(k->a01, *y), q01);
    __m128d y23 = _mm_add_pd(_mm_mul_pd(k->a23, *y), q23);
    _mm_storeu_pd(out, y01);
    _mm_storeu_pd(out + 2, y23);
    *y = _mm_unpackhi_pd(y23, y23);
}
#endif

int fp_atr_f64(const double *high, const double *low, const double *close, size_t n, int period,
               double *out)
{
    if (!period_ok(period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t p = (size_t)period;
    const size_t b = max_size(max_size(first_valid(high, n), first_valid(low, n)),
                              first_valid(close, n));
    if (n - b < p + 1) {
        if (!all_finite(high + b, n - b) || !all_finite(low + b, n - b) ||
            !all_finite(close + b, n - b))
            return FP_ENONFINITE;
        fill_nan(out, n);
        return FP_OK;
    }
    const size_t o0 = b + p;
    const double w = 1.0 / (double)period;
    const double a = (double)(period - 1) / (double)period;
    double total = 0.0, closes = 0.0;
    for (size_t i = b + 1; i <= o0; i++) {
        total += true_range(high[i], low[i], close[i - 1]);
        closes += close[i - 1];
    }
    double y = total / (double)period;
    fill_nan(out, o0);
    out[o0] = y;
    size_t i = o0 + 1;
#ifdef FP_HAVE_SSE2
    {
        const atr_coefs k = {_mm_set1_pd(w), _mm_set1_pd(a), _mm_set_pd(a * a, a),
                             _mm_set_pd(a * a * a * a, a * a * a)};
        __m128d yy = _mm_set1_pd(y), sum_prev = _mm_setzero_pd();
        __m128d last = _mm_set_pd(close[i - 1], close[i - 1]);
        for (; i + 4 <= n; i += 4)
            atr_block4(high + i, low + i, close + i, &k, &yy, &last, &sum_prev, out + i);
        if (i < n) {
            double hp[4], lp[4], cp[4], res[4];
            const size_t r = n - i;
            for (size_t j = 0; j < 4; j++) {
                /* past the end: bars of zero range, at zero, results unused */
                hp[j] = j < r ? high[i + j] : 0.0;
                lp[j] = j < r ? low[i + j] : 0.0;
                cp[j] = j < r ? close[i + j] : 0.0;
            }
            atr_block4(hp, lp, cp, &k, &yy, &last, &sum_prev, res);
            memcpy(out + i, res, r * sizeof(double));
            i = n;
        }
        y = out[n - 1];
        closes += _mm_cvtsd_f64(_mm_add_sd(sum_prev, _mm_unpackhi_pd(sum_prev, sum_prev)));
    }
#endif
    for (; i < n; i++) {
        y = a * y + w * true_range(high[i], low[i], close[i - 1]);
        out[i] = y;
        closes += close[i - 1];
    }
    /* high[b], low[b] and the last close enter no true range */
    if (not_finite(y + closes + high[b] + low[b] + close[n - 1]) &&
        (!all_finite(high + b, n - b) || !all_finite(low + b, n - b) ||
         !all_finite(close + b, n - b)))
        return FP_ENONFINITE;
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* STOCH                                                               */
/* ------------------------------------------------------------------ */

/* One pass. Window extremes by blocks of fastk_period (van Herk / Gil-
 * Werman): the extreme of a window is that of a suffix of the previous
 * block and a prefix of the current one, O(1) per value whatever the data.
 * fastk as TA-Lib 0.8: ((close - lowest) / (highest - lowest)) * 100, and
 * 0 when the range is within 1e-14 * (|highest| + |lowest|) of zero. The
 * two SMAs are TA-Lib's running totals over small rings, bit for bit. */
int fp_stoch_f64(const double *high, const double *low, const double *close, size_t n,
                 int fastk_period, int slowk_period, int slowd_period, double *slowk,
                 double *slowd)
{
    if (!period_ok(fastk_period) || !period_ok(slowk_period) || !period_ok(slowd_period))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    const size_t fk = (size_t)fastk_period, sk = (size_t)slowk_period,
                 sdp = (size_t)slowd_period;
    const size_t b = max_size(max_size(first_valid(high, n), first_valid(low, n)),
                              first_valid(close, n));
    if (!all_finite(high + b, n - b) || !all_finite(low + b, n - b) ||
        !all_finite(close + b, n - b))
        return FP_ENONFINITE;
    const size_t lookback = (fk - 1) + (sk - 1) + (sdp - 1);
    if (n - b < lookback + 1) {
        fill_nan(slowk, n);
        fill_nan(slowd, n);
        return FP_OK;
    }
    const size_t o0 = b + lookback;
    double *scratch = malloc((2 * fk + sk + sdp) * sizeof(double));
    if (!scratch)
        return FP_ENOMEM;
    double *suf_lo = scratch, *suf_hi = scratch + fk;
    double *ring_k = scratch + 2 * fk, *ring_d = ring_k + sk;
    fill_nan(slowk, o0);
    fill_nan(slowd, o0);

    const double dk = (double)slowk_period, dd = (double)slowd_period;
    double total_k = 0.0, total_d = 0.0;
    size_t nk = 0, nd = 0; /* fastk / slowk values produced so far */
    size_t pos_k = 0, pos_d = 0;
    for (size_t blk = b; blk < n; blk += fk) {
        const size_t end = blk + fk < n ? blk + fk : n;
        double pre_lo = low[blk], pre_hi = high[blk];
        for (size_t e = blk; e < end; e++) {
            const size_t r = e - blk;
            pre_lo = low[e] < pre_lo ? low[e] : pre_lo;
            pre_hi = high[e] > pre_hi ? high[e] : pre_hi;
            if (e < b + fk - 1)
                continue; /* first window not complete yet */
            double lo = pre_lo, hi = pre_hi;
            if (r + 1 < fk) {
                lo = suf_lo[r + 1] < lo ? suf_lo[r + 1] : lo;
                hi = suf_hi[r + 1] > hi ? suf_hi[r + 1] : hi;
            }
            double diff = hi - lo;
            double fastk = 0.0;
            if (fabs(diff) > (fabs(hi) + fabs(lo)) * 1e-14)
                fastk = ((close[e] - lo) / diff) * 100.0;

            /* slowk = SMA(fastk): add, output once full, drop the oldest */
            total_k += fastk;
            ring_k[pos_k] = fastk;
            if (++pos_k == sk)
                pos_k = 0;
            if (++nk < sk)
                continue;
            double k_val = total_k / dk;
            total_k -= ring_k[pos_k];

            /* slowd = SMA(slowk) */
            total_d += k_val;
            ring_d[pos_d] = k_val;
            if (++pos_d == sdp)
                pos_d = 0;
            if (++nd < sdp)
                continue;
            double d_val = total_d / dd;
            total_d -= ring_d[pos_d];
            slowk[e] = k_val;
            slowd[e] = d_val;
        }
        /* suffix extremes of this block, for the windows ending in the next */
        double lo = low[end - 1], hi = high[end - 1];
        for (size_t e = end; e-- > blk;) {
            lo = low[e] < lo ? low[e] : lo;
            hi = high[e] > hi ? high[e] : hi;
            suf_lo[e - blk] = lo;
            suf_hi[e - blk] = hi;
        }
    }
    free(scratch);
    return FP_OK;
}
