/*
 * ind_math.c - TA-Lib's rolling math operators: MAX, MIN and SUM over the
 * last period values. One block per function, and the rows in
 * fp_math_rows at the end.
 */
#include "ind_common.h"

static size_t window_lookback(const double *p)
{
    return per(p, 0) - 1;
}

/* ------------------------------------------------------------------ */
/* MAX, MIN                                                            */
/* ------------------------------------------------------------------ */

/* The window's extreme from a monotonic deque (series.h): O(1) amortised
 * per value whatever the trend, where rescanning the window after its
 * extreme leaves costs O(period) on a falling (for MAX) series. */
typedef struct {
    fp_deque d;
    int max;
    size_t seen, p;
    unsigned char mem[]; /* period doubles, then period indices */
} extreme_state;

static size_t extreme_size(const double *p)
{
    return sizeof(extreme_state) + per(p, 0) * (sizeof(double) + sizeof(size_t));
}

static void extreme_start(extreme_state *s, const double *p, int max)
{
    const size_t period = per(p, 0);
    deque_init(&s->d, (double *)(void *)s->mem, (size_t *)(void *)(s->mem + period * sizeof(double)),
               period);
    s->max = max;
    s->seen = 0;
    s->p = period;
}

static FP_INLINE void extreme_step(extreme_state *s, const double *in, double *out)
{
    deque_push(&s->d, in[0], s->max);
    out[0] = ++s->seen < s->p ? NAN : deque_front(&s->d);
}

static void max_init(void *st, const double *p)
{
    extreme_start(st, p, 1);
}

static void min_init(void *st, const double *p)
{
    extreme_start(st, p, 0);
}

static void extreme_update(void *st, const double *in, double *out)
{
    extreme_step(st, in, out);
}

/* The batch kernels go block by block (extremes_block, series.h), with
 * no deque to maintain and no branch on the data; they check finiteness
 * as they go (FP_OWN_FINITE). The values are the stream's (an extreme is
 * exact whichever way it is found). */
static FP_INLINE int extreme_batch(const double *const *in, size_t n, const double *p,
                                   double *const *out, int max)
{
    const size_t period = per(p, 0);
    const double *x = in[0];
    double *o = out[0];
    double *suf = malloc((3 * period + 2) * sizeof(double));
    if (suf == NULL)
        return FP_ENOMEM;
    double *sufs[2] = {suf, suf + period + 1}, *first = suf + 2 * period + 2;
    extremes_start(sufs[0], period, max);
    extremes_start(sufs[1], period, max);
    size_t upto = 0;
    for (size_t b0 = 0, c = 0; b0 < n; b0 += period, c ^= 1) {
        const size_t e = n - b0 > period ? b0 + period : n;
        /* The first block holds one whole window, its last. */
        extremes_block(x + b0, e - b0, period, max, sufs[1 - c], sufs[c],
                       b0 == 0 ? first : o + b0);
        if (b0 == 0)
            o[period - 1] = first[period - 1];
        if (!finite_upto(in, 1, n, e, &upto)) {
            free(suf);
            return FP_ENONFINITE;
        }
    }
    free(suf);
    return FP_OK;
}

static int max_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return extreme_batch(in, n, p, out, 1);
}

static int min_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return extreme_batch(in, n, p, out, 0);
}

/* ------------------------------------------------------------------ */
/* SUM                                                                 */
/* ------------------------------------------------------------------ */

/* TA-Lib's running total: the new value added, the output taken, the
 * oldest value subtracted, so that the outputs are TA-Lib's doubles
 * (rounding residue of values long gone included). */
static int sum_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const size_t period = per(p, 0);
    const double *x = in[0];
    double total = 0.0;
    for (size_t i = 0; i + 1 < period; i++)
        total += x[i];
    double *o = out[0];
    FP_CHECKED_LOOP(i, period - 1, n, in, 1, {
        total += x[i];
        o[i] = total;
        total -= x[i + 1 - period];
    });
    return FP_OK;
}

typedef struct {
    fp_window w;
    double total;
    double buf[];
} sum_state;

static size_t sum_size(const double *p)
{
    return sizeof(sum_state) + 2 * per(p, 0) * sizeof(double);
}

static void sum_init(void *st, const double *p)
{
    sum_state *s = st;
    window_init(&s->w, s->buf, per(p, 0));
    s->total = 0.0;
}

static void sum_update(void *st, const double *in, double *out)
{
    sum_state *s = st;
    window_push(&s->w, in[0]);
    s->total += in[0];
    out[0] = NAN;
    if (s->w.count == s->w.cap) {
        out[0] = s->total;
        s->total -= window_values(&s->w)[0];
    }
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

#define EXTREME_KERNELS(name)                                                                     \
    .lookback = window_lookback, .batch = name##_batch, .state_size = extreme_size,               \
    .state_init = name##_init, .update = extreme_update

const fp_indicator fp_math_rows[] = {
    {.name = "max", .ta_name = "MAX", .group = G_MATH,
     .summary = "Highest value over period values",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, EXTREME_KERNELS(max)},
    {.name = "min", .ta_name = "MIN", .group = G_MATH,
     .summary = "Lowest value over period values",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, EXTREME_KERNELS(min)},
    {.name = "sum", .ta_name = "SUM", .group = G_MATH,
     .summary = "Sum of the last period values",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, .lookback = window_lookback, .batch = sum_batch,
     .state_size = sum_size, .state_init = sum_init, .update = sum_update},
};
const size_t fp_math_count = sizeof fp_math_rows / sizeof fp_math_rows[0];
