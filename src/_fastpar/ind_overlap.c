/*
 * ind_overlap.c - TA-Lib's overlap studies (moving averages and bands),
 * one block per function: its lookback, batch kernel, streaming state and
 * step, and its row in fp_overlap_rows at the end of the file.
 *
 * SMA, EMA, WMA and BBANDS (with an SMA) run the fast kernels of
 * indicators.c in batch; their streams perform the same operations in the
 * same order (ma.h, rolling_var.h), value by value.
 */
#include "ind_common.h"
#include "indicators.h"

/* ------------------------------------------------------------------ */
/* A moving average of one type as a stream (SMA, EMA, WMA, ...)       */
/* ------------------------------------------------------------------ */

typedef struct {
    fp_ma m;
    double buf[];
} ma_state;

static size_t ma_state_size(int type, size_t p)
{
    return sizeof(ma_state) + fp_ma_buffer(type, p) * sizeof(double);
}

static void ma_state_update(void *st, const double *in, double *out)
{
    out[0] = fp_ma_push(&((ma_state *)st)->m, in[0]);
}

/* ------------------------------------------------------------------ */
/* SMA, EMA, WMA: the fast kernels of indicators.c                     */
/* ------------------------------------------------------------------ */

static size_t p_minus_1(const double *p)
{
    return per(p, 0) - 1;
}

#define sma_lookback p_minus_1
#define sma_update ma_state_update

static int sma_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_sma_f64(in[0], n, (int)p[0], out[0]);
}

static size_t sma_size(const double *p)
{
    return ma_state_size(FP_MA_SMA, per(p, 0));
}

static void sma_init(void *st, const double *p)
{
    ma_state *s = st;
    fp_ma_init(&s->m, FP_MA_SMA, per(p, 0), s->buf);
}

#define ema_lookback p_minus_1

static int ema_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_ema_f64(in[0], n, (int)p[0], out[0]);
}

static size_t ema_size(const double *p)
{
    (void)p;
    return sizeof(fp_ema);
}

static void ema_init(void *st, const double *p)
{
    ma_ema_init(st, per(p, 0));
}

/* Period 1 too: fastpar.ema(x, 1) is TA-Lib's EMA with k = 1, not MA's
 * copy of the input. */
static void ema_update(void *st, const double *in, double *out)
{
    out[0] = ma_ema_push(st, in[0]);
}

#define wma_lookback p_minus_1
#define wma_update ma_state_update

static int wma_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_wma_f64(in[0], n, (int)p[0], out[0]);
}

static size_t wma_size(const double *p)
{
    return ma_state_size(FP_MA_WMA, per(p, 0));
}

static void wma_init(void *st, const double *p)
{
    ma_state *s = st;
    fp_ma_init(&s->m, FP_MA_WMA, per(p, 0), s->buf);
}

/* ------------------------------------------------------------------ */
/* BBANDS                                                              */
/* ------------------------------------------------------------------ */

/* The middle band is the moving average of the given type; the deviation
 * is always TA-Lib's population STDDEV of the window (rolling_var.h), and
 * the bands are middle +/- deviation * nbdev. With an SMA, the fast kernel
 * of indicators.c does all three at once, and the SMA is the variance's
 * own running total. The bands start where both have started (a type-10
 * average, the input itself, starts before the deviation). */
static size_t bbands_lookback(const double *p)
{
    return max_size(fp_ma_lookback((int)p[3], per(p, 0)), per(p, 0) - 1);
}

static int bbands_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const size_t period = per(p, 0);
    const int type = (int)p[3];
    if (type == FP_MA_SMA)
        return fp_bbands_f64(in[0], n, (int)period, p[1], p[2], out[0], out[1], out[2]);
    int status = fp_stddev_f64(in[0], n, (int)period, 1.0, out[0]);
    if (status == FP_OK)
        status = fp_ma_series(type, period, FP_T3_VFACTOR, in[0], n, out[1]);
    if (status != FP_OK)
        return status;
    const size_t o0 = bbands_lookback(p);
    for (size_t i = o0; i < n; i++) {
        double m = out[1][i], sd = out[0][i];
        out[0][i] = m + sd * p[1];
        out[2][i] = m - sd * p[2];
    }
    for (int j = 0; j < 3; j++)
        fill_nan(out[j], o0 < n ? o0 : n);
    return FP_OK;
}

typedef struct {
    fp_window w;
    rolling_var var;
    fp_ma m;
    double nbdev_up, nbdev_dn;
    int type;
    double buf[];
} bbands_state;

static size_t bbands_size(const double *p)
{
    const size_t period = per(p, 0);
    return sizeof(bbands_state) + (2 * period + fp_ma_buffer((int)p[3], period)) * sizeof(double);
}

static void bbands_init(void *st, const double *p)
{
    bbands_state *s = st;
    const size_t period = per(p, 0);
    s->type = (int)p[3];
    s->nbdev_up = p[1];
    s->nbdev_dn = p[2];
    window_init(&s->w, s->buf, period);
    fp_ma_init(&s->m, s->type, period, s->buf + 2 * period);
    s->var.p = 0; /* not started */
}

static void bbands_update(void *st, const double *in, double *out)
{
    bbands_state *s = st;
    const size_t p = s->w.cap;
    double middle = s->type == FP_MA_SMA ? NAN : fp_ma_push(&s->m, in[0]);
    window_push(&s->w, in[0]);
    out[0] = out[1] = out[2] = NAN;
    if (s->w.count < p)
        return;
    const double *x = window_values(&s->w);
    double total;
    if (s->var.p == 0) /* the first full window */
        s->var = rolling_var_start(x, 0, p);
    double sd = sqrt(rolling_var_next(&s->var, x, p - 1, &total));
    if (s->type == FP_MA_SMA)
        middle = total / (double)p;
    if (middle != middle)
        return;
    out[0] = middle + sd * s->nbdev_up;
    out[1] = middle;
    out[2] = middle - sd * s->nbdev_dn;
}

/* ------------------------------------------------------------------ */
/* Envelope (batch_orchestrator CORE/envelope)                         */
/* ------------------------------------------------------------------ */

#define envelope_lookback p_minus_1

static int envelope_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_envelope_f64(in[0], n, (int)p[0], p[1], out[0], out[1], out[2]);
}

typedef struct {
    fp_window w;
    size_t run; /* equal values ending here */
    double last, deviation;
    double buf[];
} envelope_state;

static size_t envelope_size(const double *p)
{
    return sizeof(envelope_state) + 2 * per(p, 0) * sizeof(double);
}

static void envelope_init(void *st, const double *p)
{
    envelope_state *s = st;
    window_init(&s->w, s->buf, per(p, 0));
    s->run = 0;
    s->last = NAN;
    s->deviation = p[1];
}

/* Each window in two passes, as numpy's mean and std of it: the batch
 * kernel's block sums agree with that to about period roundings. A flat
 * window is exactly its value, with no width, in both. */
static void envelope_update(void *st, const double *in, double *out)
{
    envelope_state *s = st;
    const size_t p = s->w.cap;
    const double x = in[0];
    s->run = x == s->last ? s->run + 1 : 1;
    s->last = x;
    window_push(&s->w, x);
    if (s->w.count < p) {
        out[0] = out[1] = out[2] = NAN;
        return;
    }
    double mean = x, sd = 0.0;
    if (s->run < p) {
        const double *v = window_values(&s->w), invp = 1.0 / (double)p;
        double sum = 0.0, s1 = 0.0, s2 = 0.0;
        for (size_t j = 0; j < p; j++)
            sum += v[j];
        mean = sum * invp;
        for (size_t j = 0; j < p; j++) {
            double e = v[j] - mean;
            s1 += e;
            s2 += e * e;
        }
        double m1 = s1 * invp, var = s2 * invp - m1 * m1;
        mean += m1;
        sd = sqrt(var > 0.0 ? var : 0.0) * s->deviation;
    }
    out[0] = mean + sd;
    out[1] = mean;
    out[2] = mean - sd;
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

#define OUT_BANDS 3, {"upperband", "middleband", "lowerband"}

const fp_indicator fp_overlap_rows[] = {
    {.name = "sma", .ta_name = "SMA", .group = G_OVERLAP,
     .summary = "Simple moving average",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(sma)},
    {.name = "ema", .ta_name = "EMA", .group = G_OVERLAP,
     .summary = "Exponential moving average, k = 2 / (period + 1), seeded with the first "
                "period's mean",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(ema)},
    {.name = "wma", .ta_name = "WMA", .group = G_OVERLAP,
     .summary = "Weighted moving average, weights 1..period (newest heaviest)",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(wma)},
    {.name = "bbands", .ta_name = "BBANDS", .group = G_OVERLAP,
     .summary = "Bollinger bands: a moving average +/- nbdev population standard deviations",
     .n_in = IN_X, .n_params = 4,
     .params = {P_PERIOD(20, 1), P_REAL("nbdev_up", "nbdevup", 2.0),
                P_REAL("nbdev_dn", "nbdevdn", 2.0), P_MATYPE("matype", 0)},
     .n_out = OUT_BANDS, KERNELS(bbands)},
    {.name = "envelope", .ta_name = NULL, .group = G_OVERLAP,
     .summary = "The batch_orchestrator's envelope: mean +/- deviation * population std",
     .n_in = IN_X, .n_params = 2,
     .params = {P_PERIOD(20, 1), P_REAL("deviation", "deviation", 0.02)},
     .n_out = OUT_BANDS, .flags = FP_OWN_NANS, KERNELS(envelope)},
};
const size_t fp_overlap_count = sizeof fp_overlap_rows / sizeof fp_overlap_rows[0];
