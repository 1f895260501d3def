/*
 * ind_volatility.c - TA-Lib's volatility indicators, one block per
 * function: its lookback, batch kernel, streaming state and step, and its
 * row in fp_volatility_rows at the end of the file.
 */
#include "ind_common.h"
#include "indicators.h"

/* ------------------------------------------------------------------ */
/* ATR                                                                 */
/* ------------------------------------------------------------------ */

static size_t atr_lookback(const double *p)
{
    return per(p, 0);
}

static int atr_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_atr_f64(in[0], in[1], in[2], n, (int)p[0], out[0]);
}

/* The seed is the mean of the first `period` true ranges, then
 * y = a y + tr / period, as fp_atr_f64's scalar loop (its packed loop
 * regroups four steps and agrees to about 1e-15). */
typedef struct {
    double prev_close, y, a, w;
    size_t n, p;
} atr_state;

static size_t atr_size(const double *p)
{
    (void)p;
    return sizeof(atr_state);
}

static void atr_init(void *st, const double *p)
{
    atr_state *s = st;
    s->p = per(p, 0);
    s->a = (p[0] - 1.0) / p[0];
    s->w = 1.0 / p[0];
    s->y = s->prev_close = 0.0;
    s->n = 0;
}

static void atr_update(void *st, const double *in, double *out)
{
    atr_state *s = st;
    const size_t k = s->n++;
    const double prev = s->prev_close;
    s->prev_close = in[2];
    out[0] = NAN;
    if (k == 0)
        return;
    const double tr = true_range(in[0], in[1], prev);
    if (k < s->p) {
        s->y += tr;
        return;
    }
    if (k == s->p)
        s->y = (s->y + tr) / (double)s->p;
    else
        s->y = s->a * s->y + s->w * tr;
    out[0] = s->y;
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_volatility_rows[] = {
    {.name = "atr", .ta_name = "ATR", .group = G_VOLATILITY,
     .summary = "Average true range, Wilder's smoothing",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(atr)},
};
const size_t fp_volatility_count = sizeof fp_volatility_rows / sizeof fp_volatility_rows[0];
