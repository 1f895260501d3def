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
#include <stdlib.h>
#include <string.h>

#include "rolling_var.h" /* FP_INLINE, FP_NOINLINE */
#include "status.h"

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

/* 1 if x[0..n) holds no NaN and no infinity: |v| <= DBL_MAX fails for
 * both. The packed loop ORs the failed comparisons together (a chain of
 * one-cycle ORs, where summing v * 0 would wait on the adder's latency at
 * every step), and looks at them once at the end. */
static inline int all_finite(const double *x, size_t n)
{
    size_t i = 0;
    int bad = 0;
#ifdef FP_HAVE_SSE2
    const __m128d lim = _mm_set1_pd(DBL_MAX), sign = _mm_set1_pd(-0.0);
    __m128d acc = _mm_setzero_pd();
    for (; i + 8 <= n; i += 8) {
        const __m128d a0 = _mm_andnot_pd(sign, _mm_loadu_pd(x + i));
        const __m128d a1 = _mm_andnot_pd(sign, _mm_loadu_pd(x + i + 2));
        const __m128d a2 = _mm_andnot_pd(sign, _mm_loadu_pd(x + i + 4));
        const __m128d a3 = _mm_andnot_pd(sign, _mm_loadu_pd(x + i + 6));
        acc = _mm_or_pd(acc, _mm_or_pd(_mm_or_pd(_mm_cmpnle_pd(a0, lim), _mm_cmpnle_pd(a1, lim)),
                                       _mm_or_pd(_mm_cmpnle_pd(a2, lim), _mm_cmpnle_pd(a3, lim))));
    }
    bad = _mm_movemask_pd(acc);
#endif
    for (; i < n; i++)
        bad |= not_finite(x[i]);
    return !bad;
}

/* For batch kernels that check their inputs' finiteness themselves
 * (FP_OWN_FINITE) as they run, instead of a pass over whole arrays
 * first: after computing up to index `done`, the values read since the
 * last check are checked, once they make a chunk (or at the end, done ==
 * n), while they are still in cache; a separate pass would wait on memory
 * with nothing to overlap. *upto: the end of what has been checked (0 at
 * first). 0 if a value is NaN or infinite (the outputs computed from it
 * are then garbage, and the caller returns FP_ENONFINITE). */
#define FP_CHECK_CHUNK 1024

/* 1 if the sums in[0][i] + ... + in[n_in - 1][i], i in [from, to), are all
 * finite. A NaN or an infinity among a bar's inputs makes their sum NaN or
 * infinite, so 1 means every input is finite; 0 means one is not, or that
 * finite inputs overflowed. One test per bar instead of one per input. */
static inline int sums_finite(const double *const *in, int n_in, size_t from, size_t to)
{
    size_t i = from;
    int bad = 0;
#ifdef FP_HAVE_SSE2
    const __m128d lim = _mm_set1_pd(DBL_MAX), sign = _mm_set1_pd(-0.0);
    __m128d acc = _mm_setzero_pd();
    for (; i + 2 <= to; i += 2) {
        __m128d s = _mm_loadu_pd(in[0] + i);
        for (int k = 1; k < n_in; k++)
            s = _mm_add_pd(s, _mm_loadu_pd(in[k] + i));
        acc = _mm_or_pd(acc, _mm_cmpnle_pd(_mm_andnot_pd(sign, s), lim));
    }
    bad = _mm_movemask_pd(acc);
#endif
    for (; i < to; i++) {
        double s = in[0][i];
        for (int k = 1; k < n_in; k++)
            s += in[k][i];
        bad |= not_finite(s);
    }
    return bad == 0;
}

static FP_INLINE int finite_upto(const double *const *in, int n_in, size_t n, size_t done,
                                 size_t *upto)
{
    if (done - *upto < FP_CHECK_CHUNK && done < n)
        return 1;
    /* Several inputs: their sums first, each input alone only if a sum is
     * not finite (a bad value, or an overflow of good ones). n_in == 0: a
     * caller whose inputs are checked elsewhere. */
    if (n_in == 1 || (n_in > 1 && !sums_finite(in, n_in, *upto, done)))
        for (int k = 0; k < n_in; k++)
            if (!all_finite(in[k] + *upto, done - *upto))
                return 0;
    *upto = done;
    return 1;
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

/* Sliding-window extremes for batch loops (van Herk / Gil-Werman): the
 * values go in blocks of p, and the window of p values ending at i is a
 * suffix of the previous block plus a prefix of i's own block, so its
 * extreme is the better of the suffix's extreme (taken backwards over each
 * block once) and the prefix's running one. Three comparisons per value,
 * none of them a branch on the data, whatever the trend (rescanning a
 * window once its extreme leaves costs O(p) per value on a trend, and
 * mispredicted branches everywhere). The forward and backward passes over
 * a block are independent chains of comparisons, run in one loop so that
 * they overlap. Extremes are exact: the values are the streams' deques'.
 *
 * The suffix extremes of the previous block and of the current one live in
 * two buffers of p + 1 doubles that swap roles each block; entry p, and
 * the entries past a short last block, hold the identity (-inf for the
 * largest, +inf for the smallest), so that a window that is a whole block
 * takes the prefix alone. At the start, everything is the identity and the
 * first block gives the extremes of the values so far. */
static inline double fp_max2(double a, double b)
{
#ifdef FP_HAVE_SSE2 /* maxsd, never a branch */
    return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
    return a > b ? a : b;
#endif
}

static inline double fp_min2(double a, double b)
{
#ifdef FP_HAVE_SSE2
    return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
    return a < b ? a : b;
#endif
}

#define FP_BETTER(max, a, b) ((max) ? fp_max2(a, b) : fp_min2(a, b))

static inline void extremes_start(double *suf, size_t p, int max)
{
    for (size_t j = 0; j <= p; j++)
        suf[j] = max ? -INFINITY : INFINITY;
}

/* The windows ending at x[0 .. len) (a block, len <= p) into w, from the
 * previous block's suffix extremes prev; this block's into cur. */
static FP_INLINE void extremes_block(const double *x, size_t len, size_t p, int max,
                                     const double *prev, double *cur, double *w)
{
    double run = max ? -INFINITY : INFINITY, back = run;
    for (size_t j = 0, k = len - 1; j < len; j++, k--) {
        run = FP_BETTER(max, x[j], run);
        back = FP_BETTER(max, x[k], back);
        w[j] = FP_BETTER(max, prev[j + 1], run);
        cur[k] = back;
    }
    for (size_t j = len; j < p; j++)
        cur[j] = max ? -INFINITY : INFINITY;
}

/* The same for the highest of hi and the lowest of lo at once: four
 * independent chains in one loop. */
static FP_INLINE void hl_extremes_block(const double *hi, const double *lo, size_t len, size_t p,
                                        const double *prev_hi, double *cur_hi,
                                        const double *prev_lo, double *cur_lo, double *w_hi,
                                        double *w_lo)
{
    double rh = -INFINITY, bh = -INFINITY, rl = INFINITY, bl = INFINITY;
    for (size_t j = 0, k = len - 1; j < len; j++, k--) {
        rh = FP_BETTER(1, hi[j], rh);
        rl = FP_BETTER(0, lo[j], rl);
        bh = FP_BETTER(1, hi[k], bh);
        bl = FP_BETTER(0, lo[k], bl);
        w_hi[j] = FP_BETTER(1, prev_hi[j + 1], rh);
        w_lo[j] = FP_BETTER(0, prev_lo[j + 1], rl);
        cur_hi[k] = bh;
        cur_lo[k] = bl;
    }
    for (size_t j = len; j < p; j++) {
        cur_hi[j] = -INFINITY;
        cur_lo[j] = INFINITY;
    }
}

/* The highest high and lowest low of every window of p bars, a block at a
 * time, for batch kernels over them (MIDPRICE, WILLR, STOCHF, ...):
 *
 *     fp_hl_blocks b;
 *     if (hl_blocks_open(&b, p) != FP_OK) ...
 *     while ((r = hl_blocks_next(&b, high, low, in, n_in, n)) > 0)
 *         for (size_t j = b.j0; j < b.len; j++)
 *             ... bar b.b0 + j, window extremes b.hi[j] and b.lo[j] ...
 *     hl_blocks_close(&b);   r < 0: a NaN or an infinity among in[0..n_in)
 *
 * Windows start with the first bar (j0 skips the incomplete ones), and
 * all n_in inputs are checked for finiteness on the way (FP_OWN_FINITE). */
typedef struct {
    size_t p, b0, len, j0, upto;
    double *hi, *lo, *suf[4]; /* suf: high's two buffers, then low's */
} fp_hl_blocks;

static inline int hl_blocks_open(fp_hl_blocks *b, size_t p)
{
    b->p = p;
    b->b0 = b->len = b->upto = 0;
    b->j0 = p - 1;
    b->hi = malloc((6 * p + 4) * sizeof(double));
    if (b->hi == NULL)
        return FP_ENOMEM;
    b->lo = b->hi + p;
    for (int k = 0; k < 4; k++) {
        b->suf[k] = b->lo + p + (size_t)k * (p + 1);
        extremes_start(b->suf[k], p, k < 2);
    }
    return FP_OK;
}

static FP_INLINE int hl_blocks_next(fp_hl_blocks *b, const double *high, const double *low,
                                    const double *const *in, int n_in, size_t n)
{
    const size_t b0 = b->b0 + b->len; /* the caller is done with the bars before */
    if (!finite_upto(in, n_in, n, b0, &b->upto))
        return -1;
    if (b0 >= n)
        return 0;
    const size_t e = n - b0 > b->p ? b0 + b->p : n;
    if (b0 > 0)
        b->j0 = 0;
    b->b0 = b0;
    b->len = e - b0;
    const int c = (int)((b0 / b->p) & 1); /* this block's suffix buffers */
    hl_extremes_block(high + b0, low + b0, b->len, b->p, b->suf[1 - c], b->suf[c],
                      b->suf[3 - c], b->suf[2 + c], b->hi, b->lo);
    return 1;
}

static inline void hl_blocks_close(fp_hl_blocks *b)
{
    free(b->hi);
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
