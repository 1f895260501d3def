/*
 * ind_momentum.c - TA-Lib's momentum indicators, one block per function:
 * its lookback, batch kernel, streaming state and step, and its row in
 * fp_momentum_rows at the end of the file.
 */
#include "ind_common.h"
#include "indicators.h"

static size_t p_first(const double *p)
{
    return per(p, 0);
}

/* ------------------------------------------------------------------ */
/* RSI                                                                 */
/* ------------------------------------------------------------------ */

#define rsi_lookback p_first

static int rsi_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_rsi_f64(in[0], n, (int)p[0], out[0]);
}

/* TA-Lib's own arithmetic (indicators.c's rsi_reference): the batch kernel
 * reorders the smoothing four steps at a time and agrees with it to about
 * 1e-13. g and l: the sums of the gains and losses of the first period,
 * then their Wilder averages. */
typedef struct {
    double prev, g, l, invp, pm1;
    size_t n, p;
} rsi_state;

static size_t rsi_size(const double *p)
{
    (void)p;
    return sizeof(rsi_state);
}

static void rsi_init(void *st, const double *p)
{
    rsi_state *s = st;
    s->p = per(p, 0);
    s->invp = 1.0 / p[0];
    s->pm1 = p[0] - 1.0;
    s->g = s->l = 0.0;
    s->n = 0;
}

static void rsi_update(void *st, const double *in, double *out)
{
    rsi_state *s = st;
    const double x = in[0];
    const size_t k = s->n++; /* this value's index */
    out[0] = NAN;
    if (k == 0) {
        s->prev = x;
        return;
    }
    double d = x - s->prev, up = d > 0.0 ? d : 0.0;
    s->prev = x;
    if (k <= s->p) {
        s->g += up;
        s->l += up - d;
        if (k < s->p)
            return;
        s->g *= s->invp;
        s->l *= s->invp;
    } else {
        s->g = (s->g * s->pm1 + up) * s->invp;
        s->l = ((up - d) + s->l * s->pm1) * s->invp;
    }
    double sum = s->l + s->g;
    out[0] = sum > 0.0 ? (s->g / sum) * 100.0 : 0.0;
}

/* ------------------------------------------------------------------ */
/* Simple-mean RSI (batch_orchestrator CORE/rsi)                       */
/* ------------------------------------------------------------------ */

#define rsi_simple_lookback p_first

static int rsi_simple_batch(const double *const *in, size_t n, const double *p,
                            double *const *out)
{
    return fp_rsi_simple_f64(in[0], n, (int)p[0], out[0]);
}

typedef struct {
    fp_window w; /* the last period + 1 values */
    size_t no_loss, no_gain; /* runs of changes >= 0 and <= 0 ending here */
    double buf[];
} rsi_simple_state;

static size_t rsi_simple_size(const double *p)
{
    return sizeof(rsi_simple_state) + 2 * (per(p, 0) + 1) * sizeof(double);
}

static void rsi_simple_init(void *st, const double *p)
{
    rsi_simple_state *s = st;
    window_init(&s->w, s->buf, per(p, 0) + 1);
    s->no_loss = s->no_gain = 0;
}

/* 50 + 50 D / A, D the window's net change and A the sum of its |changes|
 * summed afresh (the batch kernel sums it by blocks: the same to about
 * period roundings); exactly 100 or 0 for windows without losses or gains. */
static void rsi_simple_update(void *st, const double *in, double *out)
{
    rsi_simple_state *s = st;
    const size_t p = s->w.cap - 1;
    if (s->w.count > 0) {
        double d = in[0] - window_back(&s->w, 0);
        s->no_loss = d >= 0.0 ? s->no_loss + 1 : 0;
        s->no_gain = d <= 0.0 ? s->no_gain + 1 : 0;
    }
    window_push(&s->w, in[0]);
    if (s->w.count <= p) {
        out[0] = NAN;
    } else if (s->no_loss >= p) {
        out[0] = 100.0;
    } else if (s->no_gain >= p) {
        out[0] = 0.0;
    } else {
        const double *v = window_values(&s->w);
        double a = 0.0;
        for (size_t j = 1; j <= p; j++)
            a += fabs(v[j] - v[j - 1]);
        out[0] = 50.0 + 50.0 * ((v[p] - v[0]) / a);
    }
}

/* ------------------------------------------------------------------ */
/* MACD                                                                */
/* ------------------------------------------------------------------ */

static size_t macd_lookback(const double *p)
{
    return per(p, 1) - 1 + per(p, 2) - 1;
}

/* Equal periods (TA-Lib allows them): both EMAs are one, the line 0. */
static int macd_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    if (p[0] < p[1])
        return fp_macd_f64(in[0], n, (int)p[0], (int)p[1], (int)p[2], out[0], out[1], out[2]);
    if (!all_finite(in[0], n))
        return FP_ENONFINITE;
    for (size_t i = macd_lookback(p); i < n; i++)
        out[0][i] = out[1][i] = out[2][i] = 0.0;
    return FP_OK;
}

/* fp_macd_f64's seeds and steps, value by value: the slow EMA starts from
 * the mean of the first `slow` values, the fast one from the mean of the
 * last `fast` of them, the signal from the mean of the first `signal`
 * MACD values. */
typedef struct {
    size_t fast, slow, signal, n;
    double kf, ks, kg, sum_fast, sum_slow, sum_sig, yf, ys, yg;
} macd_state;

static size_t macd_size(const double *p)
{
    (void)p;
    return sizeof(macd_state);
}

static void macd_init(void *st, const double *p)
{
    macd_state *s = st;
    s->fast = per(p, 0);
    s->slow = per(p, 1);
    s->signal = per(p, 2);
    s->kf = 2.0 / (double)(s->fast + 1);
    s->ks = 2.0 / (double)(s->slow + 1);
    s->kg = 2.0 / (double)(s->signal + 1);
    s->sum_fast = s->sum_slow = s->sum_sig = 0.0;
    s->n = 0;
}

static void macd_update(void *st, const double *in, double *out)
{
    macd_state *s = st;
    const double x = in[0];
    const size_t i = s->n++, i0 = s->slow - 1, o0 = i0 + s->signal - 1;
    out[0] = out[1] = out[2] = NAN;
    if (i < i0) {
        s->sum_slow += x;
        if (i + s->fast > i0)
            s->sum_fast += x;
        return;
    }
    if (i == i0) {
        s->sum_slow += x;
        s->sum_fast += x;
        s->yf = s->sum_fast / (double)s->fast;
        s->ys = s->sum_slow / (double)s->slow;
    } else {
        s->yf = ema_step(s->yf, x, s->kf);
        s->ys = ema_step(s->ys, x, s->ks);
    }
    const double v = s->yf - s->ys;
    if (i < o0) {
        s->sum_sig += v;
        return;
    }
    if (i == o0) {
        s->sum_sig += v;
        s->yg = s->sum_sig / (double)s->signal;
    } else {
        s->yg = ema_step(s->yg, v, s->kg);
    }
    out[0] = v;
    out[1] = s->yg;
    out[2] = v - s->yg;
}

/* ------------------------------------------------------------------ */
/* STOCH                                                               */
/* ------------------------------------------------------------------ */

/* Fast %K over fastk_period as TA-Lib 0.8: 0 when the range is within
 * 1e-14 of the extremes' magnitude. */
static inline double fastk_value(double close, double lo, double hi)
{
    double diff = hi - lo;
    return fabs(diff) > (fabs(hi) + fabs(lo)) * 1e-14 ? ((close - lo) / diff) * 100.0 : 0.0;
}

/* The window extremes of high and low over `fastk_period` bars. */
typedef struct {
    fp_deque hi, lo;
    size_t n;
} hl_window;

static size_t hl_window_bytes(size_t p)
{
    return 2 * p * (sizeof(double) + sizeof(size_t));
}

/* mem: hl_window_bytes(p) bytes */
static void hl_window_init(hl_window *w, size_t p, void *mem)
{
    double *v = mem;
    size_t *at = (size_t *)(v + 2 * p);
    deque_init(&w->hi, v, at, p);
    deque_init(&w->lo, v + p, at + p, p);
    w->n = 0;
}

/* 1 once the window is full. */
static FP_INLINE int hl_window_push(hl_window *w, double high, double low)
{
    deque_push(&w->hi, high, 1);
    deque_push(&w->lo, low, 0);
    return ++w->n >= w->hi.cap;
}

static size_t stoch_lookback(const double *p)
{
    return per(p, 0) - 1 + fp_ma_lookback((int)p[2], per(p, 1)) +
           fp_ma_lookback((int)p[4], per(p, 3));
}

typedef struct {
    hl_window w;
    fp_ma k, d;
    char mem[];
} stoch_state;

static size_t stoch_size(const double *p)
{
    return sizeof(stoch_state) + hl_window_bytes(per(p, 0)) +
           (fp_ma_buffer((int)p[2], per(p, 1)) + fp_ma_buffer((int)p[4], per(p, 3))) *
               sizeof(double);
}

static void stoch_init(void *st, const double *p)
{
    stoch_state *s = st;
    double *buf = (double *)(s->mem + hl_window_bytes(per(p, 0)));
    hl_window_init(&s->w, per(p, 0), s->mem);
    fp_ma_init(&s->k, (int)p[2], per(p, 1), buf);
    fp_ma_init(&s->d, (int)p[4], per(p, 3), buf + fp_ma_buffer((int)p[2], per(p, 1)));
}

static FP_INLINE void stoch_step(stoch_state *s, const double *in, double *out)
{
    out[0] = out[1] = NAN;
    if (!hl_window_push(&s->w, in[0], in[1]))
        return;
    double k = fp_ma_push(&s->k, fastk_value(in[2], deque_front(&s->w.lo), deque_front(&s->w.hi)));
    if (k != k)
        return;
    double d = fp_ma_push(&s->d, k);
    if (d != d)
        return;
    out[0] = k;
    out[1] = d;
}

static void stoch_update(void *st, const double *in, double *out)
{
    stoch_step(st, in, out);
}

FP_STEP_BATCH(stoch_any_batch, stoch, 3, 2)

/* With SMA smoothing (the default), the one-pass kernel of indicators.c. */
static int stoch_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    if (p[2] == FP_MA_SMA && p[4] == FP_MA_SMA)
        return fp_stoch_f64(in[0], in[1], in[2], n, (int)p[0], (int)p[1], (int)p[3], out[0],
                            out[1]);
    return stoch_any_batch(in, n, p, out);
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_momentum_rows[] = {
    {.name = "rsi", .ta_name = "RSI", .group = G_MOMENTUM,
     .summary = "Relative strength index, Wilder's smoothing",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(rsi)},
    {.name = "rsi_simple", .ta_name = NULL, .group = G_MOMENTUM,
     .summary = "The batch_orchestrator's RSI: plain means of the last period's gains and losses",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_NANS, KERNELS(rsi_simple)},
    {.name = "macd", .ta_name = "MACD", .group = G_MOMENTUM,
     .summary = "Moving average convergence/divergence: EMA(fast) - EMA(slow), its EMA, "
                "their difference",
     .n_in = IN_X, .n_params = 3,
     .params = {P_INT("fast", "fastperiod", 12, 1), P_INT("slow", "slowperiod", 26, 1),
                P_INT("signal", "signalperiod", 9, 1)},
     .n_out = 3, .out = {"macd", "macdsignal", "macdhist"}, .flags = FP_FAST_SLOW,
     KERNELS(macd)},
    {.name = "stoch", .ta_name = "STOCH", .group = G_MOMENTUM,
     .summary = "Slow stochastic: %K over fastk_period, smoothed twice",
     .n_in = IN_HLC, .n_params = 5,
     .params = {P_INT("fastk_period", "fastk_period", 5, 1),
                P_INT("slowk_period", "slowk_period", 3, 1), P_MATYPE("slowk_matype", 0),
                P_INT("slowd_period", "slowd_period", 3, 1), P_MATYPE("slowd_matype", 0)},
     .n_out = 2, .out = {"slowk", "slowd"}, KERNELS(stoch)},
};
const size_t fp_momentum_count = sizeof fp_momentum_rows / sizeof fp_momentum_rows[0];
