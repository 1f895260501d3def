/*
 * series.h - small helpers shared by every indicator kernel (pure C,
 * internal to src/_fastpar): finding the first value that is not NaN,
 * testing a series for NaN and infinities, filling NaN prefixes, and the
 * window of the last `p` values that streaming states keep.
 *
 * Static inline functions only, so that each kernel file gets its own
 * copy to inline into its loops.
 */
#ifndef FP_SERIES_H
#define FP_SERIES_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "rolling_var.h" /* FP_INLINE, FP_NOINLINE */

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define FP_HAVE_SSE2 1
#endif

/* NaN, +inf and -inf all fail this test. */
static inline int not_finite(double v)
{
    return !(fabs(v) <= DBL_MAX);
}

/* Index of the first element that is not NaN; n if there is none. */
static inline size_t first_valid(const double *x, size_t n)
{
    size_t i = 0;
    while (i < n && x[i] != x[i])
        i++;
    return i;
}

/* 1 if x[0..n) holds no NaN and no infinity: v * 0 is 0 for a finite v
 * and NaN otherwise, and a sum of those is 0 only if all were finite. */
static inline int all_finite(const double *x, size_t n)
{
    size_t i = 0;
    double s = 0.0;
#ifdef FP_HAVE_SSE2
    const __m128d zero = _mm_setzero_pd();
    __m128d a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm_add_pd(a0, _mm_mul_pd(_mm_loadu_pd(x + i), zero));
        a1 = _mm_add_pd(a1, _mm_mul_pd(_mm_loadu_pd(x + i + 2), zero));
        a2 = _mm_add_pd(a2, _mm_mul_pd(_mm_loadu_pd(x + i + 4), zero));
        a3 = _mm_add_pd(a3, _mm_mul_pd(_mm_loadu_pd(x + i + 6), zero));
    }
    __m128d a = _mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3));
    s = _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
#endif
    for (; i < n; i++)
        s += x[i] * 0.0;
    return s == 0.0;
}

static inline void fill_nan(double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
}

static inline size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* The last `cap` values of a stream, readable as one contiguous array:
 * each value is written twice, at pos and pos + cap, so that after a push
 * the values from oldest to newest are buf[pos .. pos + cap) (pos
 * already advanced). Kernels written over a contiguous window (a sum
 * rebuilt from scratch, a window's extremes) thus run unchanged on a
 * stream's history. `buf` holds 2 * cap doubles, given by the caller. */
typedef struct {
    double *buf;
    size_t cap, pos, count; /* count: values pushed, saturating at cap */
} fp_window;

static inline void window_init(fp_window *w, double *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = 0;
    w->count = 0;
}

/* The value pushed `cap` pushes ago, about to leave (valid once full). */
static inline double window_oldest(const fp_window *w)
{
    return w->buf[w->pos];
}

static inline void window_push(fp_window *w, double v)
{
    w->buf[w->pos] = v;
    w->buf[w->pos + w->cap] = v;
    if (++w->pos == w->cap)
        w->pos = 0;
    if (w->count < w->cap)
        w->count++;
}

/* The window, oldest first: cap values (once full). */
static inline const double *window_values(const fp_window *w)
{
    return w->buf + w->pos;
}

/* The value pushed k pushes ago (k = 0: the newest), k < count. */
static inline double window_back(const fp_window *w, size_t k)
{
    return w->buf[w->pos + w->cap - 1 - k];
}

/* The largest (or smallest) of the last `cap` values, O(1) per value
 * amortised: a deque of the values that may still become the extreme,
 * oldest first, each with its index. Equal values replace older ones, so
 * the extreme's index is that of its latest occurrence (TA-Lib's AROON
 * and MAX/MIN keep the latest too). `v` and `at` hold cap entries each,
 * given by the caller. */
typedef struct {
    double *v;
    size_t *at;
    size_t cap, head, len, t; /* t: values pushed */
} fp_deque;

static inline void deque_init(fp_deque *d, double *v, size_t *at, size_t cap)
{
    d->v = v;
    d->at = at;
    d->cap = cap;
    d->head = d->len = d->t = 0;
}

/* max = 1: the largest value, 0: the smallest. */
static FP_INLINE void deque_push(fp_deque *d, double x, int max)
{
    const size_t t = d->t++, cap = d->cap;
    if (d->len > 0 && t - d->at[d->head] >= cap) { /* the front leaves the window */
        d->head = d->head + 1 == cap ? 0 : d->head + 1;
        d->len--;
    }
    while (d->len > 0) {
        size_t b = d->head + d->len - 1;
        b = b >= cap ? b - cap : b;
        if (max ? d->v[b] > x : d->v[b] < x)
            break;
        d->len--;
    }
    size_t slot = d->head + d->len;
    slot = slot >= cap ? slot - cap : slot;
    d->v[slot] = x;
    d->at[slot] = t;
    d->len++;
}

/* The extreme of the window, and how many values ago it came. */
static inline double deque_front(const fp_deque *d)
{
    return d->v[d->head];
}

static inline size_t deque_age(const fp_deque *d)
{
    return d->t - 1 - d->at[d->head];
}

/* The sum of the last p values, each window summed afresh, never carried
 * from one window to the next (a running total keeps the rounding of
 * every value long after it has left, so a flat stretch would not sum to
 * exactly 0): the values go in blocks of p, and a window is a suffix of
 * the previous block plus a prefix of the current one, O(1) per value
 * amortised. `mem` holds 2 p doubles, given by the caller. Batch loops
 * and streams push the same values in the same order, so they get the
 * same sums. */
typedef struct {
    double *block, *suffix; /* the current block; the previous block's suffix sums */
    size_t p, pos, n;       /* n: values pushed, saturating at p */
    double prefix;
} fp_blocksum;

static inline void blocksum_init(fp_blocksum *b, double *mem, size_t p)
{
    b->block = mem;
    b->suffix = mem + p;
    b->p = p;
    b->pos = b->n = 0;
    b->prefix = 0.0;
}

/* The sum of the last p values after v (of all so far, before p). */
static FP_INLINE double blocksum_push(fp_blocksum *b, double v)
{
    b->block[b->pos++] = v;
    b->prefix += v;
    if (b->n < b->p)
        b->n++;
    if (b->pos < b->p)
        return b->n < b->p ? b->prefix : b->prefix + b->suffix[b->pos];
    const double sum = b->prefix;
    double s = 0.0;
    for (size_t j = b->p; j-- > 0;) {
        s += b->block[j];
        b->suffix[j] = s;
    }
    b->pos = 0;
    b->prefix = 0.0;
    return sum;
}

#endif
