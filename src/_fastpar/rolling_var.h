/*
 * rolling_var.h - TA-Lib's rolling population variance, for every kernel
 * that needs a standard deviation: STDDEV and BBANDS (indicators.c) and
 * the bbands_reversion sweep (strategies.c). One definition, so that a
 * sweep's Bollinger band is the very double fastpar.bbands and TA-Lib
 * give, flat stretches (exactly 0) included.
 *
 * Internal to src/_fastpar (static functions, no Python.h).
 */
#ifndef FP_ROLLING_VAR_H
#define FP_ROLLING_VAR_H

#include <stddef.h>

/* Keep rare slow paths out of line, and hot steps inside their loops. */
#ifndef FP_INLINE
#if defined(__GNUC__)
#define FP_NOINLINE __attribute__((noinline))
#define FP_INLINE inline __attribute__((always_inline))
#else
#define FP_NOINLINE
#define FP_INLINE inline
#endif
#endif

/* TA-Lib's variance, bit for bit. It keeps sums of (x - shift) and
 * (x - shift)^2, shift starting at the first value, and rebuilds them
 * around the window mean (with a relative clamp to 0) when the variance
 * has lost most of its digits to cancellation, when the value leaving the
 * window dwarfs the rest, and at least every 32 periods; this is what
 * makes a flat stretch come out as exactly 0. For BBANDS it also keeps
 * the SMA's running total.
 * Use: st = rolling_var_start(x, b, p) once the first window's values
 * x[b .. b+p-1) are known, then rolling_var_next(&st, x, i, &total) for
 * each window end i = b+p-1, b+p, ... in turn. */
typedef struct {
    size_t p, countdown;
    double invp, shift, s1, s2, total;
} rolling_var;

typedef struct {
    double shift, s1, s2, var;
} var_rebuilt;

/* The window [first, last] summed afresh around its mean; s1 and s2 are
 * returned without the value x[first], ready for the next window. */
static FP_NOINLINE var_rebuilt var_rebuild(const double *x, size_t first, size_t last, double invp)
{
    var_rebuilt r;
    double sum = 0.0;
    for (size_t j = first; j <= last; j++)
        sum += x[j];
    r.shift = sum * invp;
    r.s1 = r.s2 = 0.0;
    for (size_t j = first; j <= last; j++) {
        double e = x[j] - r.shift;
        r.s1 += e;
        r.s2 += e * e;
    }
    double m1 = invp * r.s1, m2 = invp * r.s2;
    r.var = m2 - m1 * m1;
    if (r.var < m2 * 1e-12)
        r.var = 0.0;
    double t = x[first] - r.shift;
    r.s1 -= t;
    r.s2 -= t * t;
    return r;
}

/* Sums over x[b .. b+p-1), all but the last value of the first window
 * (the caller has checked that they are finite). */
static FP_INLINE rolling_var rolling_var_start(const double *x, size_t b, size_t p)
{
    rolling_var st;
    st.p = p;
    st.countdown = 32 * p;
    st.invp = 1.0 / (double)p;
    st.shift = x[b];
    st.s1 = st.s2 = st.total = 0.0;
    for (size_t i = b; i + 1 < b + p; i++) {
        double d = x[i] - st.shift;
        st.total += x[i];
        st.s1 += d;
        st.s2 += d * d;
    }
    return st;
}

/* Variance of the window ending at i; *total gets the SMA running total
 * of that window (TA-Lib's: added before, oldest dropped after). */
static FP_INLINE double rolling_var_next(rolling_var *st, const double *x, size_t i, double *total)
{
    const size_t first = i + 1 - st->p;
    const double invp = st->invp;
    double v = x[i];
    double d = v - st->shift;
    st->s1 += d;
    st->s2 += d * d;
    st->total += v;
    *total = st->total;
    st->total -= x[first];
    double m1 = invp * st->s1;
    double var = invp * st->s2 - m1 * m1;
    double t = x[first] - st->shift;
    double t2 = t * t;
    st->s2 -= t2;
    if (invp * st->s2 * 1e-6 > var || t2 > st->s2 * 1e6 || --st->countdown == 0) {
        var_rebuilt r = var_rebuild(x, first, i, invp);
        st->shift = r.shift;
        st->s1 = r.s1;
        st->s2 = r.s2;
        st->countdown = 32 * st->p;
        return r.var;
    }
    st->s1 -= t;
    return var;
}

#endif
