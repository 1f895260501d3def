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
/* DEMA, TEMA, TRIMA, KAMA, T3, MA: the moving averages of ma.h        */
/* ------------------------------------------------------------------ */

/* A row that is one moving average: its type is fixed (DEMA, ...) or the
 * `matype` parameter (MA); T3 takes its vfactor. */
typedef struct {
    int type;
    size_t period;
    double vfactor;
} ma_spec;

static ma_spec dema_choice(const double *p)
{
    return (ma_spec){FP_MA_DEMA, per(p, 0), FP_T3_VFACTOR};
}
static ma_spec tema_choice(const double *p)
{
    return (ma_spec){FP_MA_TEMA, per(p, 0), FP_T3_VFACTOR};
}
static ma_spec trima_choice(const double *p)
{
    return (ma_spec){FP_MA_TRIMA, per(p, 0), FP_T3_VFACTOR};
}
static ma_spec kama_choice(const double *p)
{
    return (ma_spec){FP_MA_KAMA, per(p, 0), FP_T3_VFACTOR};
}
static ma_spec t3_choice(const double *p)
{
    return (ma_spec){FP_MA_T3, per(p, 0), p[1]};
}
static ma_spec ma_choice(const double *p)
{
    return (ma_spec){(int)p[1], per(p, 0), FP_T3_VFACTOR};
}

/* The rows own their finiteness check (FP_OWN_FINITE), so that MA of type
 * SMA, EMA or WMA is its row's kernel alone: those check their input as
 * they run. The other types, and a period of 1 (a copy), get the one pass
 * the registry makes for rows without the flag. */
static int ma_row_series(ma_spec r, const double *x, size_t n, double *out)
{
    const int checks_itself =
        r.period > 1 && (r.type == FP_MA_SMA || r.type == FP_MA_EMA || r.type == FP_MA_WMA);
    if (!checks_itself && !all_finite(x, n))
        return FP_ENONFINITE;
    return fp_ma_series(r.type, r.period, r.vfactor, x, n, out);
}

/* NAME_lookback, NAME_batch, NAME_size, NAME_init, NAME_update of a row
 * whose parameters NAME_choice reads. */
#define MA_ROW_KERNELS(name)                                                                      \
    static size_t name##_lookback(const double *p)                                              \
    {                                                                                             \
        ma_spec r = name##_choice(p);                                                             \
        return fp_ma_lookback(r.type, r.period);                                                  \
    }                                                                                             \
    static int name##_batch(const double *const *in, size_t n, const double *p,                 \
                            double *const *out)                                                   \
    {                                                                                             \
        return ma_row_series(name##_choice(p), in[0], n, out[0]);                                 \
    }                                                                                             \
    static size_t name##_size(const double *p)                                                  \
    {                                                                                             \
        ma_spec r = name##_choice(p);                                                             \
        return ma_state_size(r.type, r.period);                                                   \
    }                                                                                             \
    static void name##_init(void *st, const double *p)                                          \
    {                                                                                             \
        ma_spec r = name##_choice(p);                                                             \
        ma_state *s = st;                                                                         \
        fp_ma_init_v(&s->m, r.type, r.period, s->buf, r.vfactor);                                 \
    }                                                                                             \
    static void name##_update(void *st, const double *in, double *out)                          \
    {                                                                                             \
        ma_state_update(st, in, out);                                                             \
    }

MA_ROW_KERNELS(dema)
MA_ROW_KERNELS(tema)
MA_ROW_KERNELS(trima)
MA_ROW_KERNELS(kama)
MA_ROW_KERNELS(t3)
MA_ROW_KERNELS(ma)

/* ------------------------------------------------------------------ */
/* MIDPOINT, MIDPRICE                                                  */
/* ------------------------------------------------------------------ */

#define midpoint_lookback p_minus_1
#define midprice_lookback p_minus_1

/* The window's extremes: of x twice (MIDPOINT), or of high and low. */
typedef struct {
    fp_deque hi, lo;
    char mem[];
} midpoint_state;
typedef midpoint_state midprice_state;

static size_t midpoint_size(const double *p)
{
    return sizeof(midpoint_state) + 2 * per(p, 0) * (sizeof(double) + sizeof(size_t));
}
#define midprice_size midpoint_size

static void midpoint_init(void *st, const double *p)
{
    midpoint_state *s = st;
    const size_t period = per(p, 0);
    double *v = (double *)s->mem;
    size_t *at = (size_t *)(v + 2 * period);
    deque_init(&s->hi, v, at, period);
    deque_init(&s->lo, v + period, at + period, period);
}
#define midprice_init midpoint_init

/* (highest + lowest) / 2, TA-Lib's arithmetic. */
static FP_INLINE void midprice_step(midprice_state *s, const double *in, double *out)
{
    deque_push(&s->hi, in[0], 1);
    deque_push(&s->lo, in[1], 0);
    out[0] = s->hi.t < s->hi.cap ? NAN : (deque_front(&s->hi) + deque_front(&s->lo)) / 2.0;
}

static FP_INLINE void midpoint_step(midpoint_state *s, const double *in, double *out)
{
    const double x[2] = {in[0], in[0]};
    midprice_step(s, x, out);
}

static void midpoint_update(void *st, const double *in, double *out)
{
    midpoint_step(st, in, out);
}

static void midprice_update(void *st, const double *in, double *out)
{
    midprice_step(st, in, out);
}

/* The batch kernels: the same extremes, block by block (series.h). */
static FP_INLINE int midprice_of(const double *high, const double *low, const double *const *in,
                                 int n_in, size_t n, size_t period, double *o)
{
    fp_hl_blocks b;
    int r;
    if (hl_blocks_open(&b, period) != FP_OK)
        return FP_ENOMEM;
    while ((r = hl_blocks_next(&b, high, low, in, n_in, n)) > 0) {
        double *ob = o + b.b0;
        for (size_t j = b.j0; j < b.len; j++)
            ob[j] = (b.hi[j] + b.lo[j]) / 2.0;
    }
    hl_blocks_close(&b);
    return r < 0 ? FP_ENONFINITE : FP_OK;
}

static int midpoint_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return midprice_of(in[0], in[0], in, 1, n, per(p, 0), out[0]);
}

static int midprice_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return midprice_of(in[0], in[1], in, 2, n, per(p, 0), out[0]);
}

/* ------------------------------------------------------------------ */
/* SAR                                                                 */
/* ------------------------------------------------------------------ */

/* Wilder's parabolic SAR as TA-Lib starts it: the first two bars decide
 * the direction (short if the second bar's minus-DM is positive, long
 * otherwise); a long position starts with the first bar's low as SAR and
 * the second's high as extreme point, a short one with the first bar's
 * high and the second's low. Each bar then outputs the SAR before moving
 * it by af (extreme - SAR), af starting at `acceleration` and growing by
 * it at each new extreme up to `maximum` (acceleration itself is capped at
 * maximum), the SAR never inside the last two bars' range; a bar that
 * touches the SAR reverses the position at the extreme point. */
static size_t sar_lookback(const double *p)
{
    (void)p;
    return 1;
}

typedef struct {
    double acceleration, maximum, af, sar, ep, high, low; /* high, low: the previous bar's */
    int is_long;
    size_t n;
} sar_state;

static size_t sar_size(const double *p)
{
    (void)p;
    return sizeof(sar_state);
}

static void sar_init(void *st, const double *p)
{
    sar_state *s = st;
    s->acceleration = p[0] < p[1] ? p[0] : p[1];
    s->maximum = p[1];
    s->af = s->acceleration;
    s->sar = s->ep = s->high = s->low = 0.0;
    s->is_long = 1;
    s->n = 0;
}

static FP_INLINE void sar_step(sar_state *s, const double *in, double *out)
{
    const double high = in[0], low = in[1];
    double prev_high = s->high, prev_low = s->low;
    out[0] = NAN;
    if (s->n++ == 0) {
        s->high = high;
        s->low = low;
        return;
    }
    if (s->n == 2) {
        double down = prev_low - low, up = high - prev_high;
        s->is_long = !(down > 0.0 && up < down); /* the second bar's minus-DM */
        s->ep = s->is_long ? high : low;
        s->sar = s->is_long ? prev_low : prev_high;
        prev_high = high; /* the first step compares with this bar itself */
        prev_low = low;
    }
    double sar = s->sar;
    const double a = s->acceleration;
    if (s->is_long) {
        if (low <= sar) { /* reverse to short */
            s->is_long = 0;
            sar = s->ep;
            sar = sar < prev_high ? prev_high : sar;
            sar = sar < high ? high : sar;
            out[0] = sar;
            s->af = a;
            s->ep = low;
            sar = sar + s->af * (s->ep - sar);
            sar = sar < prev_high ? prev_high : sar;
            sar = sar < high ? high : sar;
        } else {
            out[0] = sar;
            if (high > s->ep) {
                s->ep = high;
                s->af += a;
                s->af = s->af > s->maximum ? s->maximum : s->af;
            }
            sar = sar + s->af * (s->ep - sar);
            sar = sar > prev_low ? prev_low : sar;
            sar = sar > low ? low : sar;
        }
    } else {
        if (high >= sar) { /* reverse to long */
            s->is_long = 1;
            sar = s->ep;
            sar = sar > prev_low ? prev_low : sar;
            sar = sar > low ? low : sar;
            out[0] = sar;
            s->af = a;
            s->ep = high;
            sar = sar + s->af * (s->ep - sar);
            sar = sar > prev_low ? prev_low : sar;
            sar = sar > low ? low : sar;
        } else {
            out[0] = sar;
            if (low < s->ep) {
                s->ep = low;
                s->af += a;
                s->af = s->af > s->maximum ? s->maximum : s->af;
            }
            sar = sar + s->af * (s->ep - sar);
            sar = sar < prev_high ? prev_high : sar;
            sar = sar < high ? high : sar;
        }
    }
    s->sar = sar;
    s->high = high;
    s->low = low;
}

FP_STEP_KERNELS(sar, 2, 1)

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
    {.name = "dema", .ta_name = "DEMA", .group = G_OVERLAP,
     .summary = "Double exponential moving average: 2 EMA - EMA(EMA)",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(dema)},
    {.name = "tema", .ta_name = "TEMA", .group = G_OVERLAP,
     .summary = "Triple exponential moving average: 3 EMA - 3 EMA(EMA) + EMA(EMA(EMA))",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(tema)},
    {.name = "trima", .ta_name = "TRIMA", .group = G_OVERLAP,
     .summary = "Triangular moving average, weights 1, 2, .., 2, 1",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(trima)},
    {.name = "kama", .ta_name = "KAMA", .group = G_OVERLAP,
     .summary = "Kaufman adaptive moving average",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(kama)},
    {.name = "t3", .ta_name = "T3", .group = G_OVERLAP,
     .summary = "Tillson's T3: six chained EMAs combined by vfactor",
     .n_in = IN_X, .n_params = 2,
     .params = {P_PERIOD(5, 1), P_REAL_IN("vfactor", "vfactor", 0.7, 0.0, 1.0)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_FINITE, KERNELS(t3)},
    {.name = "ma", .ta_name = "MA", .group = G_OVERLAP,
     .summary = "Moving average of any type (matype)",
     .n_in = IN_X, .n_params = 2, .params = {P_PERIOD(30, 1), P_MATYPE("matype", 0)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_FINITE, KERNELS(ma)},
    {.name = "sar", .ta_name = "SAR", .group = G_OVERLAP,
     .summary = "Parabolic SAR (stop and reverse)",
     .n_in = IN_HL, .n_params = 2,
     .params = {P_REAL_IN("acceleration", "acceleration", 0.02, 0.0, DBL_MAX),
                P_REAL_IN("maximum", "maximum", 0.2, 0.0, DBL_MAX)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_FINITE, KERNELS(sar)},
    {.name = "midpoint", .ta_name = "MIDPOINT", .group = G_OVERLAP,
     .summary = "Midpoint of the window: (highest + lowest) / 2",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(midpoint)},
    {.name = "midprice", .ta_name = "MIDPRICE", .group = G_OVERLAP,
     .summary = "Midpoint price: (highest high + lowest low) / 2 over the window",
     .n_in = IN_HL, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(midprice)},
};
const size_t fp_overlap_count = sizeof fp_overlap_rows / sizeof fp_overlap_rows[0];
