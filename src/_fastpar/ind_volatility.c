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

/* ATR / close * 100, ATR's arithmetic (the seed the mean of the first
 * period true ranges, then ATR ((period - 1) / period) + TR / period:
 * TA-Lib's (ATR (period - 1) + TR) / period to a few ulps, without a
 * division in the chain from one bar to the next); 0 for a close of 0.
 * Period 1 gives the true range itself, not divided by the close: TA-Lib's
 * NATR does so, and parity means keeping it. */
#define natr_lookback atr_lookback

typedef atr_state natr_state;
#define natr_size atr_size
#define natr_init atr_init

/* Written so that the division is never by 0 (it may then be done for
 * every bar, in packed instructions, the choice made after). */
static FP_INLINE double natr_of(double atr, double close)
{
    const double q = (atr / (close == 0.0 ? 1.0 : close)) * 100.0;
    return close == 0.0 ? 0.0 : q;
}

static void natr_update(void *st, const double *in, double *out)
{
    natr_state *s = st;
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
        s->y += tr;
        return;
    }
    if (k == s->p)
        s->y = (s->y + tr) / (double)s->p;
    else
        s->y = s->y * s->a + tr * s->w;
    out[0] = natr_of(s->y, close);
}

/* ATR's batch kernel (which checks finiteness; its packed loop regroups
 * four steps of the stream's arithmetic and agrees with it to about
 * 1e-15), then a loop over the closes, which the compiler vectorises. */
static int natr_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const double *h = in[0], *l = in[1], *c = in[2];
    double *o = out[0];
    const size_t period = per(p, 0);
    if (period == 1) {
        for (size_t i = 1; i < n; i++)
            o[i] = true_range(h[i], l[i], c[i - 1]);
        return all_finite(h, n) && all_finite(l, n) && all_finite(c, n) ? FP_OK : FP_ENONFINITE;
    }
    const int status = fp_atr_f64(h, l, c, n, (int)period, o);
    if (status != FP_OK)
        return status;
    for (size_t i = period; i < n; i++)
        o[i] = natr_of(o[i], c[i]);
    return FP_OK;
}

/* The bar's true range (it needs the previous close). */
static size_t trange_lookback(const double *p)
{
    (void)p;
    return 1;
}

static int trange_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    (void)p;
    const double *h = in[0], *l = in[1], *c = in[2];
    double *o = out[0];
    FP_CHECKED_LOOP(i, 1, n, in, 3, o[i] = true_range(h[i], l[i], c[i - 1]));
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
     .flags = FP_OWN_FINITE, KERNELS(natr)},
    {.name = "trange", .ta_name = "TRANGE", .group = G_VOLATILITY,
     .summary = "True range",
     .n_in = IN_HLC, .n_params = 0, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(trange)},
};
const size_t fp_volatility_count = sizeof fp_volatility_rows / sizeof fp_volatility_rows[0];
