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
/* NATR, TRANGE                                                        */
/* ------------------------------------------------------------------ */

/* ATR / close * 100 with TA-Lib's own ATR arithmetic (the seed the mean
 * of the first period true ranges, then (ATR (period - 1) + TR) / period);
 * 0 for a close of 0. Period 1 gives the true range itself, not divided by
 * the close: TA-Lib's NATR does so, and parity means keeping it. */
#define natr_lookback atr_lookback

typedef struct {
    double prev_close, atr, dp;
    size_t n, p;
} natr_state;

static size_t natr_size(const double *p)
{
    (void)p;
    return sizeof(natr_state);
}

static void natr_init(void *st, const double *p)
{
    natr_state *s = st;
    s->p = per(p, 0);
    s->dp = p[0];
    s->atr = s->prev_close = 0.0;
    s->n = 0;
}

static FP_INLINE void natr_step(natr_state *s, const double *in, double *out)
{
    const size_t k = s->n++;
    const double prev = s->prev_close, close = in[2];
    s->prev_close = close;
    out[0] = NAN;
    if (k == 0)
        return;
    const double tr = true_range(in[0], in[1], prev);
    if (s->p == 1) {
        out[0] = tr;
        return;
    }
    if (k < s->p) {
        s->atr += tr;
        return;
    } else if (k == s->p) {
        s->atr = (s->atr + tr) / s->dp;
    } else {
        s->atr *= s->dp - 1.0;
        s->atr += tr;
        s->atr /= s->dp;
    }
    out[0] = close == 0.0 ? 0.0 : (s->atr / close) * 100.0;
}

FP_STEP_KERNELS(natr, 3, 1)

/* The bar's true range (it needs the previous close). */
static size_t trange_lookback(const double *p)
{
    (void)p;
    return 1;
}

static int trange_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    (void)p;
    for (size_t i = 1; i < n; i++)
        out[0][i] = true_range(in[0][i], in[1][i], in[2][i - 1]);
    return FP_OK;
}

typedef struct {
    double prev_close;
    size_t n;
} trange_state;

static size_t trange_size(const double *p)
{
    (void)p;
    return sizeof(trange_state);
}

static void trange_init(void *st, const double *p)
{
    trange_state *s = st;
    (void)p;
    s->prev_close = 0.0;
    s->n = 0;
}

static void trange_update(void *st, const double *in, double *out)
{
    trange_state *s = st;
    out[0] = s->n++ == 0 ? NAN : true_range(in[0], in[1], s->prev_close);
    s->prev_close = in[2];
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_volatility_rows[] = {
    {.name = "atr", .ta_name = "ATR", .group = G_VOLATILITY,
     .summary = "Average true range, Wilder's smoothing",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(atr)},
    {.name = "natr", .ta_name = "NATR", .group = G_VOLATILITY,
     .summary = "Normalized average true range: 100 ATR / close",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     KERNELS(natr)},
    {.name = "trange", .ta_name = "TRANGE", .group = G_VOLATILITY,
     .summary = "True range",
     .n_in = IN_HLC, .n_params = 0, .n_out = 1, .out = {"real"}, KERNELS(trange)},
};
const size_t fp_volatility_count = sizeof fp_volatility_rows / sizeof fp_volatility_rows[0];
