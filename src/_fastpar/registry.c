/*
 * registry.c - the indicator table (registry.h) and what every row shares:
 * parameter checks, leading NaNs, finiteness, short inputs, and the
 * streaming wrapper around a row's state.
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "ma.h"
#include "series.h"

/* The family tables, in documentation order. */
static const struct {
    const fp_indicator *rows;
    const size_t *count;
} families[] = {
    {fp_overlap_rows, &fp_overlap_count},
    {fp_momentum_rows, &fp_momentum_count},
    {fp_volume_rows, &fp_volume_count},
    {fp_volatility_rows, &fp_volatility_count},
    {fp_price_rows, &fp_price_count},
    {fp_statistic_rows, &fp_statistic_count},
    {fp_math_rows, &fp_math_count},
};
#define N_FAMILIES (sizeof families / sizeof families[0])

size_t fp_indicator_count(void)
{
    size_t n = 0;
    for (size_t f = 0; f < N_FAMILIES; f++)
        n += *families[f].count;
    return n;
}

const fp_indicator *fp_indicator_at(size_t i)
{
    for (size_t f = 0; f < N_FAMILIES; f++) {
        if (i < *families[f].count)
            return &families[f].rows[i];
        i -= *families[f].count;
    }
    return NULL;
}

const fp_indicator *fp_indicator_find(const char *name)
{
    const fp_indicator *ind;
    for (size_t i = 0; (ind = fp_indicator_at(i)) != NULL; i++)
        if (strcmp(ind->name, name) == 0)
            return ind;
    return NULL;
}

/* ta: TA-Lib's rule for FP_FAST_SLOW (any order, already swapped by
 * fp_indicator_ta_params) instead of fastpar's (fast < slow). */
static int check(const fp_indicator *ind, const double *p, int ta)
{
    for (int k = 0; k < ind->n_params; k++) {
        const fp_param *par = &ind->params[k];
        double v = p[k];
        if (!(v >= par->lo && v <= par->hi)) /* NaN too */
            return k;
        if (par->kind != FP_PARAM_REAL && v != floor(v))
            return k;
        if (par->kind == FP_PARAM_MATYPE && !fp_ma_supported((int)v))
            return k;
    }
    if ((ind->flags & FP_FAST_SLOW) && !ta && !(p[0] < p[1]))
        return 1;
    return -1;
}

int fp_indicator_check(const fp_indicator *ind, const double *p)
{
    return check(ind, p, 0);
}

void fp_indicator_ta_params(const fp_indicator *ind, const double *p, double *q)
{
    memcpy(q, p, (size_t)ind->n_params * sizeof(double));
    if ((ind->flags & FP_FAST_SLOW) && q[0] > q[1]) {
        q[0] = p[1];
        q[1] = p[0];
    }
}

size_t fp_indicator_lookback(const fp_indicator *ind, const double *p)
{
    return ind->lookback(p);
}

int fp_indicator_run(const fp_indicator *ind, const double *const *in, size_t n, const double *p,
                     double *const *out)
{
    if (check(ind, p, 1) >= 0 || ((ind->flags & FP_FAST_SLOW) && p[0] > p[1]))
        return FP_EINVAL;
    if (n == 0)
        return FP_OK;
    if (ind->flags & FP_OWN_NANS)
        return ind->batch(in, n, p, out);
    size_t b = 0;
    for (int k = 0; k < ind->n_in; k++)
        b = max_size(b, first_valid(in[k], n));
    const size_t lookback = ind->lookback(p);
    const int short_input = n - b <= lookback;
    if (short_input || !(ind->flags & FP_OWN_FINITE))
        for (int k = 0; k < ind->n_in; k++)
            if (!all_finite(in[k] + b, n - b))
                return FP_ENONFINITE;
    const size_t prefix = short_input ? n : b + lookback;
    for (int j = 0; j < ind->n_out; j++)
        fill_nan(out[j], prefix);
    if (short_input)
        return FP_OK;
    const double *sin[FP_MAX_IN];
    double *sout[FP_MAX_OUT];
    for (int k = 0; k < ind->n_in; k++)
        sin[k] = in[k] + b;
    for (int j = 0; j < ind->n_out; j++)
        sout[j] = out[j] + b;
    return ind->batch(sin, n - b, p, sout);
}

/* ------------------------------------------------------------------ */
/* Streaming                                                           */
/* ------------------------------------------------------------------ */

int fp_stream_open(fp_stream *s, const fp_indicator *ind, const double *p)
{
    if (check(ind, p, 1) >= 0 || ((ind->flags & FP_FAST_SLOW) && p[0] > p[1]))
        return FP_EINVAL;
    s->ind = ind;
    memcpy(s->p, p, (size_t)ind->n_params * sizeof(double));
    s->state = malloc(ind->state_size(p));
    if (s->state == NULL)
        return FP_ENOMEM;
    fp_stream_reset(s);
    return FP_OK;
}

void fp_stream_reset(fp_stream *s)
{
    s->started = 0;
    s->seen = 0;
    s->ind->state_init(s->state, s->p);
}

/* Before the start (some input has been NaN so far) a bar changes nothing
 * but which inputs have been seen: the batch function skips those bars. */
int fp_stream_update(fp_stream *s, const double *in, double *out)
{
    const fp_indicator *ind = s->ind;
    if (!s->started) {
        unsigned seen = s->seen;
        for (int k = 0; k < ind->n_in; k++)
            if (in[k] == in[k])
                seen |= 1u << k;
        if (seen != (1u << ind->n_in) - 1) {
            s->seen = seen;
            for (int j = 0; j < ind->n_out; j++)
                out[j] = NAN;
            return FP_OK;
        }
    }
    for (int k = 0; k < ind->n_in; k++) {
        if (not_finite(in[k])) {
            for (int j = 0; j < ind->n_out; j++)
                out[j] = NAN;
            return FP_ENONFINITE;
        }
    }
    s->started = 1;
    ind->update(s->state, in, out);
    return FP_OK;
}

void fp_stream_close(fp_stream *s)
{
    free(s->state);
    s->state = NULL;
}
