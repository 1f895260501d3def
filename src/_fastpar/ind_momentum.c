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
    s->g = s->l = s->prev = 0.0;
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
/* STOCHF                                                              */
/* ------------------------------------------------------------------ */

static size_t stochf_lookback(const double *p)
{
    return per(p, 0) - 1 + fp_ma_lookback((int)p[2], per(p, 1));
}

typedef struct {
    hl_window w;
    fp_ma d;
    char mem[];
} stochf_state;

static size_t stochf_size(const double *p)
{
    return sizeof(stochf_state) + hl_window_bytes(per(p, 0)) +
           fp_ma_buffer((int)p[2], per(p, 1)) * sizeof(double);
}

static void stochf_init(void *st, const double *p)
{
    stochf_state *s = st;
    hl_window_init(&s->w, per(p, 0), s->mem);
    fp_ma_init(&s->d, (int)p[2], per(p, 1), (double *)(s->mem + hl_window_bytes(per(p, 0))));
}

/* Both outputs start once fastd has. */
static FP_INLINE void stochf_step(stochf_state *s, const double *in, double *out)
{
    out[0] = out[1] = NAN;
    if (!hl_window_push(&s->w, in[0], in[1]))
        return;
    double k = fastk_value(in[2], deque_front(&s->w.lo), deque_front(&s->w.hi));
    double d = fp_ma_push(&s->d, k);
    if (d != d)
        return;
    out[0] = k;
    out[1] = d;
}

static void stochf_update(void *st, const double *in, double *out)
{
    stochf_step(st, in, out);
}

/* %K of every window ending at fastk_period - 1 .. n - 1 of x (high, low
 * and close at once) or of high, low, close (x NULL), into k (the same
 * window extremes as the stream's, block by block); then %D, their moving
 * average, through fp_ma_series (the doubles of fp_ma_push), and NaN over
 * %D's lookback in both. in[0..n_in): the inputs to check for finiteness
 * (already checked if n_in is 0). */
static int stochf_of(const double *const *in, int n_in, const double *high, const double *low,
                     const double *close, size_t n, const double *p, double *k, double *d)
{
    const size_t fk = per(p, 0);
    fp_hl_blocks b;
    int r;
    if (hl_blocks_open(&b, fk) != FP_OK)
        return FP_ENOMEM;
    while ((r = hl_blocks_next(&b, high, low, in, n_in, n)) > 0) {
        const double *cb = close + b.b0;
        double *kb = k + b.b0;
        for (size_t j = b.j0; j < b.len; j++)
            kb[j] = fastk_value(cb[j], b.lo[j], b.hi[j]);
    }
    hl_blocks_close(&b);
    if (r < 0)
        return FP_ENONFINITE;
    const int status = fp_ma_series((int)p[2], per(p, 1), FP_T3_VFACTOR, k + fk - 1, n - (fk - 1),
                                    d + fk - 1);
    fill_nan(k + fk - 1, fp_ma_lookback((int)p[2], per(p, 1)));
    return status;
}

static int stochf_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return stochf_of(in, 3, in[0], in[1], in[2], n, p, out[0], out[1]);
}

/* ------------------------------------------------------------------ */
/* STOCHRSI                                                            */
/* ------------------------------------------------------------------ */

/* STOCHF over the RSI (TA-Lib's arithmetic, rsi_state above): the RSI is
 * high, low and close at once. */
static size_t stochrsi_lookback(const double *p)
{
    return per(p, 0) + per(p, 1) - 1 + fp_ma_lookback((int)p[3], per(p, 2));
}

typedef struct {
    rsi_state rsi;
    stochf_state f; /* last: its rings follow */
} stochrsi_state;

static size_t stochrsi_size(const double *p)
{
    return sizeof(stochrsi_state) - sizeof(stochf_state) + stochf_size(p + 1);
}

static void stochrsi_init(void *st, const double *p)
{
    stochrsi_state *s = st;
    rsi_init(&s->rsi, p);
    stochf_init(&s->f, p + 1);
}

static FP_INLINE void stochrsi_step(stochrsi_state *s, const double *in, double *out)
{
    double r;
    rsi_update(&s->rsi, in, &r);
    if (r != r) {
        out[0] = out[1] = NAN;
        return;
    }
    const double bar[3] = {r, r, r};
    stochf_step(&s->f, bar, out);
}

static void stochrsi_update(void *st, const double *in, double *out)
{
    stochrsi_step(st, in, out);
}

/* The batch kernel: the RSI's stream step (TA-Lib's arithmetic, which
 * the reordered RSI batch kernel matches only to 1e-13) over the series
 * into fastd's output, then STOCHF's over it. */
static int stochrsi_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const size_t lb = per(p, 0);
    double *r = out[1];
    if (!all_finite(in[0], n))
        return FP_ENONFINITE;
    rsi_state rs;
    rsi_init(&rs, p);
    for (size_t i = 0; i < n; i++)
        rsi_update(&rs, in[0] + i, r + i);
    const int status =
        stochf_of(NULL, 0, r + lb, r + lb, r + lb, n - lb, p + 1, out[0] + lb, out[1] + lb);
    fill_nan(r, lb + per(p, 1) - 1);
    return status;
}

/* ------------------------------------------------------------------ */
/* PLUS_DM, MINUS_DM, PLUS_DI, MINUS_DI, DX, ADX, ADXR                 */
/* ------------------------------------------------------------------ */

/* Wilder's directional movement as TA-Lib computes it, operation for
 * operation. Per bar, with up = high - previous high and down = previous
 * low - low: -DM1 = down if down > 0 and up < down, else +DM1 = up if
 * up > 0 and up > down (both 0 on ties). Over the period: the first -DM
 * and +DM are the sums of the first period - 1 values, then
 * dm -= dm / period, dm += DM1; the true range likewise (TR = TR -
 * TR / period + TR1), its first value summed over period - 1 bars (the
 * divisions by the period as products by its reciprocal).
 * DI = 100 (DM / TR), 0 when TR is 0; DX = 100 (|-DI - +DI| / (-DI + +DI)),
 * the previous DX (0 at first) when TR or the DIs' sum is 0; ADX starts as
 * the mean of the first period DX values (those 0-sum bars adding
 * nothing), then ADX = (ADX (period - 1) + DX) / period, such a bar leaving
 * it unchanged. ADXR = (ADX + the ADX of period - 1 bars before) / 2.
 * Period 1 (DM and DI only) has no smoothing: DM1, and DM1 / TR1. A TR
 * of "0" means below the least normal double (after long flat stretches
 * the smoothed sums decay into subnormal numbers, whose ratios TA-Lib does
 * not take), and a DIs' sum of "0" one within 1e-14 of 0 (TA-Lib's
 * absolute test there). */
static FP_INLINE int tiny(double v)
{
    return fabs(v) < DBL_MIN;
}
enum { DM_PLUS_DM, DM_MINUS_DM, DM_PLUS_DI, DM_MINUS_DI, DM_DX, DM_ADX, DM_ADXR };

typedef struct {
    int what;
    size_t p, n; /* n: bars seen */
    double dp, inv_p, prev_high, prev_low, prev_close;
    double pdm, mdm, tr, sum_dx, adx, dx;
    fp_window adx_back; /* ADXR: the last period ADX values */
    double buf[];
} dm_state;

static size_t dm_lookback_of(int what, size_t p)
{
    switch (what) {
    case DM_PLUS_DM:
    case DM_MINUS_DM:
        return p > 1 ? p - 1 : 1;
    case DM_PLUS_DI:
    case DM_MINUS_DI:
    case DM_DX:
        return p;
    case DM_ADX:
        return 2 * p - 1;
    default:
        return 3 * p - 2;
    }
}

static size_t dm_size_of(const double *p)
{
    return sizeof(dm_state) + 2 * per(p, 0) * sizeof(double);
}

static void dm_init_of(dm_state *s, int what, const double *p)
{
    s->what = what;
    s->p = per(p, 0);
    s->dp = p[0];
    s->inv_p = 1.0 / p[0];
    s->n = 0;
    s->prev_high = s->prev_low = s->prev_close = 0.0;
    s->pdm = s->mdm = s->tr = s->sum_dx = s->adx = s->dx = 0.0;
    window_init(&s->adx_back, s->buf, s->p);
}

/* DX from the smoothed DMs and TR: 1 and *dx set, or 0 when TR or the
 * DIs' sum is 0. */
static FP_INLINE int dm_dx(const dm_state *s, double *dx)
{
    if (tiny(s->tr))
        return 0;
    const double minus_di = 100.0 * (s->mdm / s->tr), plus_di = 100.0 * (s->pdm / s->tr);
    const double sum = minus_di + plus_di;
    if (-1e-14 < sum && sum < 1e-14)
        return 0;
    *dx = 100.0 * (fabs(minus_di - plus_di) / sum);
    return 1;
}

/* close: the third input of the rows that have one (DI, DX, ADX, ADXR),
 * chosen by each row with its constant `what`, so that a DM row, whose
 * input has two columns, never reads a third. */
static FP_INLINE void dm_step(dm_state *s, const double *in, double close, double *out)
{
    const double high = in[0], low = in[1];
    const size_t k = s->n++, p = s->p;
    out[0] = NAN;
    if (k == 0) {
        s->prev_high = high;
        s->prev_low = low;
        s->prev_close = close;
        return;
    }
    const double up = high - s->prev_high, down = s->prev_low - low;
    /* & rather than &&: no branch on the data (they mispredict half the
     * time on prices) */
    const int minus = (down > 0.0) & (up < down), plus = !minus & (up > 0.0) & (up > down);
    const double tr1 = s->what >= DM_PLUS_DI ? true_range(high, low, s->prev_close) : 0.0;
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    if (p == 1) { /* DM and DI only */
        const double dm1 = s->what == DM_MINUS_DM || s->what == DM_MINUS_DI
                               ? (minus ? down : 0.0)
                               : (plus ? up : 0.0);
        out[0] = s->what <= DM_MINUS_DM ? dm1 : tiny(tr1) ? 0.0 : dm1 / tr1;
        return;
    }
    if (k < p) { /* the first period - 1 bars: plain sums */
        if (minus)
            s->mdm += down;
        else if (plus)
            s->pdm += up;
        s->tr += tr1;
        if (k == p - 1 && s->what <= DM_MINUS_DM)
            out[0] = s->what == DM_PLUS_DM ? s->pdm : s->mdm;
        return;
    }
    /* Products by 1 / period (a rounding from TA-Lib's divisions, which
     * the smoothing forgets), and the movement that did not happen added
     * as a zero: no division and no branch on the data in the chain from
     * one bar to the next. */
    s->mdm -= s->mdm * s->inv_p;
    s->pdm -= s->pdm * s->inv_p;
    s->mdm += (double)minus * down; /* + 0.0 or -0.0: unchanged */
    s->pdm += (double)plus * up;
    s->tr = s->tr - s->tr * s->inv_p + tr1;
    double dx;
    switch (s->what) {
    case DM_PLUS_DM:
        out[0] = s->pdm;
        return;
    case DM_MINUS_DM:
        out[0] = s->mdm;
        return;
    case DM_PLUS_DI:
        out[0] = tiny(s->tr) ? 0.0 : 100.0 * (s->pdm / s->tr);
        return;
    case DM_MINUS_DI:
        out[0] = tiny(s->tr) ? 0.0 : 100.0 * (s->mdm / s->tr);
        return;
    case DM_DX:
        if (dm_dx(s, &dx))
            s->dx = dx;
        out[0] = s->dx;
        return;
    default:
        break;
    }
    if (k < 2 * p) { /* ADX: the mean of the first period DX values */
        if (dm_dx(s, &dx))
            s->sum_dx += dx;
        if (k < 2 * p - 1)
            return;
        s->adx = s->sum_dx / s->dp;
    } else if (dm_dx(s, &dx)) {
        s->adx = (s->adx * (s->dp - 1.0) + dx) / s->dp;
    }
    if (s->what == DM_ADX) {
        out[0] = s->adx;
        return;
    }
    window_push(&s->adx_back, s->adx);
    if (s->adx_back.count == p)
        out[0] = (s->adx + window_values(&s->adx_back)[0]) / 2.0;
}

#define DM_ROW(name, what)                                                                        \
    typedef dm_state name##_state;                                                                \
    static size_t name##_lookback(const double *p)                                              \
    {                                                                                             \
        return dm_lookback_of(what, per(p, 0));                                                   \
    }                                                                                             \
    static size_t name##_size(const double *p)                                                  \
    {                                                                                             \
        return dm_size_of(p);                                                                     \
    }                                                                                             \
    static void name##_init(void *st, const double *p)                                          \
    {                                                                                             \
        dm_init_of(st, what, p);                                                                  \
    }                                                                                             \
    static FP_INLINE void name##_step(dm_state *s, const double *in, double *out)               \
    {                                                                                             \
        dm_step(s, in, (what) >= DM_PLUS_DI ? in[2] : 0.0, out);                                  \
    }                                                                                             \
    FP_STEP_KERNELS(name, (what) >= DM_PLUS_DI ? 3 : 2, 1)

DM_ROW(plus_dm, DM_PLUS_DM)
DM_ROW(minus_dm, DM_MINUS_DM)
DM_ROW(plus_di, DM_PLUS_DI)
DM_ROW(minus_di, DM_MINUS_DI)
DM_ROW(dx, DM_DX)
DM_ROW(adx, DM_ADX)
DM_ROW(adxr, DM_ADXR)

/* ------------------------------------------------------------------ */
/* APO, PPO                                                            */
/* ------------------------------------------------------------------ */

/* The fast and the slow average of the given type, each started on its
 * own (unlike MACD's); APO = fast - slow, PPO = ((fast - slow) / slow) 100
 * (0 when slow is within 1e-14 of 0: TA-Lib's absolute test). */
static size_t po_lookback(const double *p)
{
    return fp_ma_lookback((int)p[2], per(p, 1));
}
#define apo_lookback po_lookback
#define ppo_lookback po_lookback

typedef struct {
    fp_ma fast, slow;
    int percent;
    double buf[];
} po_state;
typedef po_state apo_state;
typedef po_state ppo_state;

static size_t po_size(const double *p)
{
    return sizeof(po_state) +
           (fp_ma_buffer((int)p[2], per(p, 0)) + fp_ma_buffer((int)p[2], per(p, 1))) *
               sizeof(double);
}
#define apo_size po_size
#define ppo_size po_size

static void po_init(po_state *s, const double *p, int percent)
{
    fp_ma_init(&s->fast, (int)p[2], per(p, 0), s->buf);
    fp_ma_init(&s->slow, (int)p[2], per(p, 1), s->buf + fp_ma_buffer((int)p[2], per(p, 0)));
    s->percent = percent;
}

static void apo_init(void *st, const double *p)
{
    po_init(st, p, 0);
}

static void ppo_init(void *st, const double *p)
{
    po_init(st, p, 1);
}

static FP_INLINE double po_value(double fast, double slow, int percent)
{
    if (!percent)
        return fast - slow;
    return -1e-14 < slow && slow < 1e-14 ? 0.0 : ((fast - slow) / slow) * 100.0;
}

static FP_INLINE void po_step(po_state *s, const double *in, double *out)
{
    double fast = fp_ma_push(&s->fast, in[0]), slow = fp_ma_push(&s->slow, in[0]);
    out[0] = slow != slow ? NAN : po_value(fast, slow, s->percent);
}

#define apo_step po_step
#define ppo_step po_step
FP_STEP_KERNELS(apo, 1, 1)
FP_STEP_KERNELS(ppo, 1, 1)

/* ------------------------------------------------------------------ */
/* AROON, AROONOSC                                                     */
/* ------------------------------------------------------------------ */

/* Over the last period + 1 bars: up = 100 (period - bars since the highest
 * high) / period, down likewise with the lowest low, the latest of equal
 * extremes counting (TA-Lib's); AROONOSC = up - down. */
static size_t aroon_lookback(const double *p)
{
    return per(p, 0);
}
#define aroonosc_lookback aroon_lookback

typedef struct {
    fp_deque hi, lo;
    double factor, period;
    char mem[];
} aroon_state;
typedef aroon_state aroonosc_state;

static size_t aroon_size(const double *p)
{
    return sizeof(aroon_state) + 2 * (per(p, 0) + 1) * (sizeof(double) + sizeof(size_t));
}
#define aroonosc_size aroon_size

static void aroon_init(void *st, const double *p)
{
    aroon_state *s = st;
    const size_t cap = per(p, 0) + 1;
    double *v = (double *)s->mem;
    size_t *at = (size_t *)(v + 2 * cap);
    deque_init(&s->hi, v, at, cap);
    deque_init(&s->lo, v + cap, at + cap, cap);
    s->factor = 100.0 / p[0];
    s->period = p[0];
}
#define aroonosc_init aroon_init

/* 1 once the window is full */
static FP_INLINE int aroon_push(aroon_state *s, const double *in)
{
    deque_push(&s->hi, in[0], 1);
    deque_push(&s->lo, in[1], 0);
    return s->hi.t >= s->hi.cap;
}

static FP_INLINE void aroon_step(aroon_state *s, const double *in, double *out)
{
    out[0] = out[1] = NAN;
    if (!aroon_push(s, in))
        return;
    out[0] = s->factor * (s->period - (double)deque_age(&s->lo));
    out[1] = s->factor * (s->period - (double)deque_age(&s->hi));
}

static FP_INLINE void aroonosc_step(aroon_state *s, const double *in, double *out)
{
    out[0] = NAN;
    if (!aroon_push(s, in))
        return;
    out[0] = s->factor * ((double)deque_age(&s->lo) - (double)deque_age(&s->hi));
}

static void aroon_update(void *st, const double *in, double *out)
{
    aroon_step(st, in, out);
}

static void aroonosc_update(void *st, const double *in, double *out)
{
    aroonosc_step(st, in, out);
}

/* The batch kernels find where each window's extremes are block by block,
 * as series.h's extremes_block finds their values, with the index along:
 * going forward a value equal to the running extreme replaces it (it is
 * later), going backward it does not (the one kept is later), and across
 * the two parts the prefix (the later) wins ties: the latest of equal
 * extremes, as the streams' deques. at: the indices for the windows (of
 * w bars) ending at b0 .. b0 + len - 1; pv, pi: the previous block's
 * suffix extremes and their indices, cv, ci: this block's, each w + 1 long
 * with the identity at w. */
static FP_INLINE void aroon_block(const double *x, size_t b0, size_t len, size_t w, int max,
                                  const double *pv, const size_t *pi, double *cv, size_t *ci,
                                  size_t *at)
{
    double run = max ? -INFINITY : INFINITY, back = run;
    size_t ri = b0, bi = b0;
    for (size_t j = 0, k = len - 1; j < len; j++, k--) {
        const double v = x[b0 + j], u = x[b0 + k];
        const int fwd = max ? v >= run : v <= run;
        run = fwd ? v : run;
        ri = fwd ? b0 + j : ri;
        const int bwd = max ? u > back : u < back;
        back = bwd ? u : back;
        bi = bwd ? b0 + k : bi;
        cv[k] = back;
        ci[k] = bi;
        const int pre = max ? run >= pv[j + 1] : run <= pv[j + 1];
        at[j] = pre ? ri : pi[j + 1];
    }
    for (size_t j = len; j < w; j++)
        cv[j] = max ? -INFINITY : INFINITY;
}

static FP_INLINE int aroon_batch_of(const double *const *in, size_t n, const double *p,
                                    double *const *out, int osc)
{
    const size_t period = per(p, 0), w = period + 1;
    const double factor = 100.0 / p[0], dp = p[0];
    double *mem = malloc(4 * (w + 1) * (sizeof(double) + sizeof(size_t)) + 2 * w * sizeof(size_t));
    if (mem == NULL)
        return FP_ENOMEM;
    double *sv[4];
    size_t *si[4], *hi_at, *lo_at;
    size_t *idx = (size_t *)(void *)(mem + 4 * (w + 1));
    for (int k = 0; k < 4; k++) {
        sv[k] = mem + (size_t)k * (w + 1);
        si[k] = idx + (size_t)k * (w + 1);
        for (size_t j = 0; j <= w; j++) {
            sv[k][j] = k < 2 ? -INFINITY : INFINITY;
            si[k][j] = 0;
        }
    }
    hi_at = idx + 4 * (w + 1);
    lo_at = hi_at + w;
    size_t upto = 0;
    int status = FP_OK;
    for (size_t b0 = 0, c = 0; b0 < n; b0 += w, c ^= 1) {
        const size_t len = n - b0 > w ? w : n - b0;
        aroon_block(in[0], b0, len, w, 1, sv[1 - c], si[1 - c], sv[c], si[c], hi_at);
        aroon_block(in[1], b0, len, w, 0, sv[3 - c], si[3 - c], sv[2 + c], si[2 + c], lo_at);
        for (size_t j = b0 == 0 ? period : 0; j < len; j++) {
            const size_t i = b0 + j;
            const double age_hi = (double)(i - hi_at[j]), age_lo = (double)(i - lo_at[j]);
            if (osc) {
                out[0][i] = factor * (age_lo - age_hi);
            } else {
                out[0][i] = factor * (dp - age_lo);
                out[1][i] = factor * (dp - age_hi);
            }
        }
        if (!finite_upto(in, 2, n, b0 + len, &upto)) {
            status = FP_ENONFINITE;
            break;
        }
    }
    free(mem);
    return status;
}

static int aroon_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return aroon_batch_of(in, n, p, out, 0);
}

static int aroonosc_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return aroon_batch_of(in, n, p, out, 1);
}

/* ------------------------------------------------------------------ */
/* BOP                                                                 */
/* ------------------------------------------------------------------ */

/* (close - open) / (high - low), 0 for a range of 0. */
static size_t zero_lookback(const double *p)
{
    (void)p;
    return 0;
}
#define bop_lookback zero_lookback

static FP_INLINE double bop_value(double open, double high, double low, double close)
{
    double range = high - low;
    return range <= 0.0 ? 0.0 : (close - open) / range;
}

static int bop_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    (void)p;
    const double *o_ = in[0], *h = in[1], *l = in[2], *c = in[3];
    double *o = out[0];
    FP_CHECKED_LOOP(i, 0, n, in, 4, o[i] = bop_value(o_[i], h[i], l[i], c[i]));
    return FP_OK;
}

static size_t no_state_size(const double *p)
{
    (void)p;
    return 1;
}

static void no_state_init(void *st, const double *p)
{
    (void)st;
    (void)p;
}
#define bop_size no_state_size
#define bop_init no_state_init

static void bop_update(void *st, const double *in, double *out)
{
    (void)st;
    out[0] = bop_value(in[0], in[1], in[2], in[3]);
}

/* ------------------------------------------------------------------ */
/* CCI                                                                 */
/* ------------------------------------------------------------------ */

/* With tp = (high + low + close) / 3 and, over the last period values of
 * tp, their mean m and the sum d of their absolute deviations from it:
 * (tp - m) / (0.015 (d / period)), 0 when tp - m or d is within 1e-14 of
 * the values' size. Both sums run over the ring of the last period values
 * in TA-Lib's order (slot 0 first, the ring starting at the first value),
 * so that a flat window leaves TA-Lib's very residue. */
static size_t cci_lookback(const double *p)
{
    return per(p, 0) - 1;
}

typedef struct {
    fp_window w;
    double buf[];
} cci_state;

static size_t cci_size(const double *p)
{
    return sizeof(cci_state) + 2 * per(p, 0) * sizeof(double);
}

static void cci_init(void *st, const double *p)
{
    cci_state *s = st;
    window_init(&s->w, s->buf, per(p, 0));
}

/* The value for the ring slots[0 .. p) holding a full window, tp the newest. */
static FP_INLINE double cci_value(const double *slots, size_t p, double tp)
{
    double sum = 0.0;
    for (size_t j = 0; j < p; j++)
        sum += slots[j];
    const double mean = sum / (double)p;
    double dev = 0.0, size = 0.0;
    for (size_t j = 0; j < p; j++) {
        dev += fabs(slots[j] - mean);
        size += fabs(slots[j]);
    }
    const double diff = tp - mean;
    if (fabs(diff) <= 1e-14 * (fabs(tp) + fabs(mean)) || dev <= 1e-14 * size)
        return 0.0;
    return diff / (0.015 * (dev / (double)p));
}

static FP_INLINE void cci_step(cci_state *s, const double *in, double *out)
{
    const double tp = (in[0] + in[1] + in[2]) / 3.0;
    window_push(&s->w, tp);
    out[0] = s->w.count < s->w.cap ? NAN : cci_value(s->w.buf, s->w.cap, tp);
}

FP_STEP_KERNELS(cci, 3, 1)

/* ------------------------------------------------------------------ */
/* CMO                                                                 */
/* ------------------------------------------------------------------ */

/* RSI's Wilder averages of gains and losses (rsi_state), then
 * 100 ((gain - loss) / (gain + loss)), 0 when that sum is 0. */
#define cmo_lookback p_first
typedef rsi_state cmo_state;
#define cmo_size rsi_size
#define cmo_init rsi_init

static FP_INLINE void cmo_step(cmo_state *s, const double *in, double *out)
{
    double r;
    rsi_update(s, in, &r);
    double sum = s->g + s->l;
    out[0] = r != r ? NAN : sum == 0.0 ? 0.0 : 100.0 * ((s->g - s->l) / sum);
}

FP_STEP_KERNELS(cmo, 1, 1)

/* ------------------------------------------------------------------ */
/* MFI                                                                 */
/* ------------------------------------------------------------------ */

/* Money flow tp * volume (tp = (high + low + close) / 3), positive when tp
 * rose, negative when it fell, none when it moved by less than 1e-14; over
 * the last period bars: 100 (positive / (positive + negative)), 0 for no
 * flow at all. The sums are TA-Lib's running ones (oldest dropped, then
 * the newest added), set to exactly 0 once a whole period brought no flow
 * (their residue would otherwise make up an index). */
#define mfi_lookback p_first

typedef struct {
    fp_window pos, neg;
    double prev_tp, sum_pos, sum_neg;
    size_t n, null_run;
    double buf[];
} mfi_state;

static size_t mfi_size(const double *p)
{
    return sizeof(mfi_state) + 4 * per(p, 0) * sizeof(double);
}

static void mfi_init(void *st, const double *p)
{
    mfi_state *s = st;
    window_init(&s->pos, s->buf, per(p, 0));
    window_init(&s->neg, s->buf + 2 * per(p, 0), per(p, 0));
    s->prev_tp = s->sum_pos = s->sum_neg = 0.0;
    s->n = s->null_run = 0;
}

static FP_INLINE void mfi_step(mfi_state *s, const double *in, double *out)
{
    const double tp = (in[0] + in[1] + in[2]) / 3.0;
    const size_t p = s->pos.cap;
    out[0] = NAN;
    if (s->n++ == 0) {
        s->prev_tp = tp;
        return;
    }
    const double diff = tp - s->prev_tp;
    const double flow = -1e-14 < diff && diff < 1e-14 ? 0.0 : tp * in[3];
    const double pos = diff < 0.0 ? 0.0 : flow, neg = diff < 0.0 ? flow : 0.0;
    s->prev_tp = tp;
    if (s->pos.count == p) {
        s->sum_pos -= window_oldest(&s->pos);
        s->sum_neg -= window_oldest(&s->neg);
    }
    s->sum_pos += pos;
    s->sum_neg += neg;
    window_push(&s->pos, pos);
    window_push(&s->neg, neg);
    s->null_run = flow == 0.0 ? s->null_run + 1 : 0;
    if (s->null_run >= p) {
        s->null_run = p;
        s->sum_pos = s->sum_neg = 0.0;
    }
    if (s->pos.count < p)
        return;
    const double total = s->sum_pos + s->sum_neg;
    const double clamped = s->sum_pos < 0.0 ? 0.0 : s->sum_pos > total ? total : s->sum_pos;
    out[0] = total <= 0.0 ? 0.0 : 100.0 * (clamped / total);
}

FP_STEP_KERNELS(mfi, 4, 1)

/* ------------------------------------------------------------------ */
/* MOM, ROC, ROCP, ROCR                                                */
/* ------------------------------------------------------------------ */

/* From x and the value `period` bars before it: x - before (MOM),
 * (x / before - 1) 100 (ROC), (x - before) / before (ROCP), x / before
 * (ROCR), the last three 0 when before is 0. */
enum { CH_MOM, CH_ROC, CH_ROCP, CH_ROCR };

static FP_INLINE double change_value(int what, double x, double before)
{
    switch (what) {
    case CH_MOM:
        return x - before;
    case CH_ROC:
        return before != 0.0 ? (x / before - 1.0) * 100.0 : 0.0;
    case CH_ROCP:
        return before != 0.0 ? (x - before) / before : 0.0;
    default:
        return before != 0.0 ? x / before : 0.0;
    }
}

typedef struct {
    fp_window w; /* the last period + 1 values */
    double buf[];
} change_state;

static size_t change_size(const double *p)
{
    return sizeof(change_state) + 2 * (per(p, 0) + 1) * sizeof(double);
}

static void change_init(void *st, const double *p)
{
    change_state *s = st;
    window_init(&s->w, s->buf, per(p, 0) + 1);
}

#define CHANGE_ROW(name, what)                                                                    \
    static size_t name##_lookback(const double *p)                                              \
    {                                                                                             \
        return per(p, 0);                                                                         \
    }                                                                                             \
    static int name##_batch(const double *const *in, size_t n, const double *p,                 \
                            double *const *out)                                                   \
    {                                                                                             \
        const double *x = in[0];                                                                  \
        const size_t k = per(p, 0);                                                               \
        double *o = out[0];                                                                       \
        FP_CHECKED_LOOP(i, k, n, in, 1, o[i] = change_value(what, x[i], x[i - k]));               \
        return FP_OK;                                                                             \
    }                                                                                             \
    static void name##_update(void *st, const double *in, double *out)                          \
    {                                                                                             \
        change_state *s = st;                                                                     \
        window_push(&s->w, in[0]);                                                                \
        out[0] = s->w.count < s->w.cap ? NAN : change_value(what, in[0], window_values(&s->w)[0]); \
    }                                                                                             \
    static size_t name##_size(const double *p)                                                  \
    {                                                                                             \
        return change_size(p);                                                                    \
    }                                                                                             \
    static void name##_init(void *st, const double *p)                                          \
    {                                                                                             \
        change_init(st, p);                                                                       \
    }

CHANGE_ROW(mom, CH_MOM)
CHANGE_ROW(roc, CH_ROC)
CHANGE_ROW(rocp, CH_ROCP)
CHANGE_ROW(rocr, CH_ROCR)

/* ------------------------------------------------------------------ */
/* TRIX                                                                */
/* ------------------------------------------------------------------ */

/* The one-bar ROC of EMA(EMA(EMA(x))), each EMA seeded with its own first
 * mean. */
static size_t trix_lookback(const double *p)
{
    return 3 * (per(p, 0) - 1) + 1;
}

typedef struct {
    fp_ema e[3];
    double prev;
    int have_prev;
} trix_state;

static size_t trix_size(const double *p)
{
    (void)p;
    return sizeof(trix_state);
}

static void trix_init(void *st, const double *p)
{
    trix_state *s = st;
    for (int j = 0; j < 3; j++)
        ma_ema_init(&s->e[j], per(p, 0));
    s->prev = 0.0;
    s->have_prev = 0;
}

static FP_INLINE void trix_step(trix_state *s, const double *in, double *out)
{
    double v = ma_ema_push(&s->e[0], in[0]);
    out[0] = NAN;
    if (v == v)
        v = ma_ema_push(&s->e[1], v);
    if (v == v)
        v = ma_ema_push(&s->e[2], v);
    if (v != v)
        return;
    if (s->have_prev)
        out[0] = change_value(CH_ROC, v, s->prev);
    s->prev = v;
    s->have_prev = 1;
}

static void trix_update(void *st, const double *in, double *out)
{
    trix_step(st, in, out);
}

/* The step up to the first output, then its steady state (every EMA
 * running) as a loop of its own: the same operations. */
static int trix_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    const size_t lb = trix_lookback(p); /* n > lb */
    trix_state s;
    trix_init(&s, p);
    for (size_t i = 0; i <= lb; i++)
        trix_step(&s, x + i, o + i);
    const double k = s.e[0].k;
    double y1 = s.e[0].y, y2 = s.e[1].y, y3 = s.e[2].y, prev = s.prev;
    FP_CHECKED_LOOP(i, lb + 1, n, in, 1, {
        y1 = ema_step(y1, x[i], k);
        y2 = ema_step(y2, y1, k);
        y3 = ema_step(y3, y2, k);
        o[i] = change_value(CH_ROC, y3, prev);
        prev = y3;
    });
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* ULTOSC                                                              */
/* ------------------------------------------------------------------ */

/* Per bar, buying pressure bp = close - min(low, previous close) and the
 * true range; over the three periods, taken shortest first (TA-Lib sorts
 * them), the ratios sum(bp) / sum(tr) (0 for a sum of tr of 0) weighted
 * 4, 2, 1: 100 (4 a1 + 2 a2 + a3) / 7. */
static size_t ultosc_lookback(const double *p)
{
    double m = p[0] > p[1] ? p[0] : p[1];
    return (size_t)(m > p[2] ? m : p[2]);
}

typedef struct {
    fp_window bp, tr; /* the longest period's values */
    size_t per[3];    /* ascending */
    double sum_bp[3], sum_tr[3], prev_close;
    size_t n;
    double buf[];
} ultosc_state;

static size_t ultosc_size(const double *p)
{
    return sizeof(ultosc_state) + 4 * (ultosc_lookback(p) + 1) * sizeof(double);
}

static void ultosc_init(void *st, const double *p)
{
    ultosc_state *s = st;
    size_t a = per(p, 0), b = per(p, 1), c = per(p, 2), t;
    if (a > b) { t = a; a = b; b = t; }
    if (b > c) { t = b; b = c; c = t; }
    if (a > b) { t = a; a = b; b = t; }
    s->per[0] = a;
    s->per[1] = b;
    s->per[2] = c;
    window_init(&s->bp, s->buf, c + 1);
    window_init(&s->tr, s->buf + 2 * (c + 1), c + 1);
    for (int j = 0; j < 3; j++)
        s->sum_bp[j] = s->sum_tr[j] = 0.0;
    s->prev_close = 0.0;
    s->n = 0;
}

static FP_INLINE void ultosc_step(ultosc_state *s, const double *in, double *out)
{
    const double high = in[0], low = in[1], close = in[2];
    out[0] = NAN;
    if (s->n++ == 0) {
        s->prev_close = close;
        return;
    }
    const double true_low = low < s->prev_close ? low : s->prev_close;
    const double bp = close - true_low, tr = true_range(high, low, s->prev_close);
    s->prev_close = close;
    window_push(&s->bp, bp);
    window_push(&s->tr, tr);
    const size_t have = s->n - 1; /* bars with a bp and a tr, this one included */
    for (int j = 0; j < 3; j++) {
        s->sum_bp[j] += bp;
        s->sum_tr[j] += tr;
        if (have > s->per[j]) {
            s->sum_bp[j] -= window_back(&s->bp, s->per[j]);
            s->sum_tr[j] -= window_back(&s->tr, s->per[j]);
        }
    }
    if (have < s->per[2])
        return;
    double total = 0.0;
    static const double weight[3] = {4.0, 2.0, 1.0};
    for (int j = 0; j < 3; j++)
        if (s->sum_tr[j] != 0.0)
            total += weight[j] * (s->sum_bp[j] / s->sum_tr[j]);
    out[0] = 100.0 * (total / 7.0);
}

FP_STEP_KERNELS(ultosc, 3, 1)

/* ------------------------------------------------------------------ */
/* WILLR                                                               */
/* ------------------------------------------------------------------ */

/* Williams' %R over the last period bars: -100 (highest - close) /
 * (highest - lowest), 0 for a zero range. */
static size_t willr_lookback(const double *p)
{
    return per(p, 0) - 1;
}

typedef stochf_state willr_state;

static size_t willr_size(const double *p)
{
    return sizeof(willr_state) + hl_window_bytes(per(p, 0));
}

static void willr_init(void *st, const double *p)
{
    willr_state *s = st;
    hl_window_init(&s->w, per(p, 0), s->mem);
}

static FP_INLINE void willr_step(willr_state *s, const double *in, double *out)
{
    out[0] = NAN;
    if (!hl_window_push(&s->w, in[0], in[1]))
        return;
    const double hi = deque_front(&s->w.hi), lo = deque_front(&s->w.lo);
    const double diff = (hi - lo) / -100.0;
    out[0] = diff != 0.0 ? (hi - in[2]) / diff : 0.0;
}

static void willr_update(void *st, const double *in, double *out)
{
    willr_step(st, in, out);
}

/* The batch kernel: the same extremes, block by block (series.h). */
static int willr_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const double *close = in[2];
    fp_hl_blocks b;
    int r;
    if (hl_blocks_open(&b, per(p, 0)) != FP_OK)
        return FP_ENOMEM;
    while ((r = hl_blocks_next(&b, in[0], in[1], in, 3, n)) > 0) {
        const double *cb = close + b.b0;
        double *ob = out[0] + b.b0;
        for (size_t j = b.j0; j < b.len; j++) {
            const double hi = b.hi[j], lo = b.lo[j];
            const double diff = (hi - lo) / -100.0;
            ob[j] = diff != 0.0 ? (hi - cb[j]) / diff : 0.0;
        }
    }
    hl_blocks_close(&b);
    return r < 0 ? FP_ENONFINITE : FP_OK;
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
    {.name = "stochf", .ta_name = "STOCHF", .group = G_MOMENTUM,
     .summary = "Fast stochastic: %K over fastk_period and its moving average",
     .n_in = IN_HLC, .n_params = 3,
     .params = {P_INT("fastk_period", "fastk_period", 5, 1),
                P_INT("fastd_period", "fastd_period", 3, 1), P_MATYPE("fastd_matype", 0)},
     .n_out = 2, .out = {"fastk", "fastd"}, .flags = FP_OWN_FINITE, KERNELS(stochf)},
    {.name = "stochrsi", .ta_name = "STOCHRSI", .group = G_MOMENTUM,
     .summary = "Stochastic RSI: the fast stochastic of the RSI",
     .n_in = IN_X, .n_params = 4,
     .params = {P_PERIOD(14, 2), P_INT("fastk_period", "fastk_period", 5, 1),
                P_INT("fastd_period", "fastd_period", 3, 1), P_MATYPE("fastd_matype", 0)},
     .n_out = 2, .out = {"fastk", "fastd"}, .flags = FP_OWN_FINITE, KERNELS(stochrsi)},
    {.name = "adx", .ta_name = "ADX", .group = G_MOMENTUM,
     .summary = "Average directional movement index",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(adx)},
    {.name = "adxr", .ta_name = "ADXR", .group = G_MOMENTUM,
     .summary = "Average directional movement index rating: (ADX + ADX period - 1 bars ago) / 2",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(adxr)},
    {.name = "apo", .ta_name = "APO", .group = G_MOMENTUM,
     .summary = "Absolute price oscillator: fast moving average - slow one",
     .n_in = IN_X, .n_params = 3,
     .params = {P_INT("fast", "fastperiod", 12, 2), P_INT("slow", "slowperiod", 26, 2),
                P_MATYPE("matype", 1)},
     .n_out = 1, .out = {"real"}, .flags = FP_FAST_SLOW | FP_OWN_FINITE, KERNELS(apo)},
    {.name = "ppo", .ta_name = "PPO", .group = G_MOMENTUM,
     .summary = "Percentage price oscillator: 100 (fast - slow) / slow moving averages",
     .n_in = IN_X, .n_params = 3,
     .params = {P_INT("fast", "fastperiod", 12, 2), P_INT("slow", "slowperiod", 26, 2),
                P_MATYPE("matype", 1)},
     .n_out = 1, .out = {"real"}, .flags = FP_FAST_SLOW | FP_OWN_FINITE, KERNELS(ppo)},
    {.name = "aroon", .ta_name = "AROON", .group = G_MOMENTUM,
     .summary = "Aroon: bars since the period's lowest low and highest high, scaled to 0-100",
     .n_in = IN_HL, .n_params = 1, .params = {P_PERIOD(14, 2)},
     .n_out = 2, .out = {"aroondown", "aroonup"}, .flags = FP_OWN_FINITE, KERNELS(aroon)},
    {.name = "aroonosc", .ta_name = "AROONOSC", .group = G_MOMENTUM,
     .summary = "Aroon oscillator: aroon up - aroon down",
     .n_in = IN_HL, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(aroonosc)},
    {.name = "bop", .ta_name = "BOP", .group = G_MOMENTUM,
     .summary = "Balance of power: (close - open) / (high - low)",
     .n_in = IN_OHLC, .n_params = 0, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(bop)},
    {.name = "cci", .ta_name = "CCI", .group = G_MOMENTUM,
     .summary = "Commodity channel index",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(cci)},
    {.name = "cmo", .ta_name = "CMO", .group = G_MOMENTUM,
     .summary = "Chande momentum oscillator, Wilder's smoothing",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(cmo)},
    {.name = "dx", .ta_name = "DX", .group = G_MOMENTUM,
     .summary = "Directional movement index",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(dx)},
    {.name = "mfi", .ta_name = "MFI", .group = G_MOMENTUM,
     .summary = "Money flow index",
     .n_in = IN_HLCV, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(mfi)},
    {.name = "minus_di", .ta_name = "MINUS_DI", .group = G_MOMENTUM,
     .summary = "Minus directional indicator",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(minus_di)},
    {.name = "minus_dm", .ta_name = "MINUS_DM", .group = G_MOMENTUM,
     .summary = "Minus directional movement",
     .n_in = IN_HL, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(minus_dm)},
    {.name = "mom", .ta_name = "MOM", .group = G_MOMENTUM,
     .summary = "Momentum: x - x period bars before",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(10, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(mom)},
    {.name = "plus_di", .ta_name = "PLUS_DI", .group = G_MOMENTUM,
     .summary = "Plus directional indicator",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(plus_di)},
    {.name = "plus_dm", .ta_name = "PLUS_DM", .group = G_MOMENTUM,
     .summary = "Plus directional movement",
     .n_in = IN_HL, .n_params = 1, .params = {P_PERIOD(14, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(plus_dm)},
    {.name = "roc", .ta_name = "ROC", .group = G_MOMENTUM,
     .summary = "Rate of change: (x / x period bars before - 1) * 100",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(10, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(roc)},
    {.name = "rocp", .ta_name = "ROCP", .group = G_MOMENTUM,
     .summary = "Rate of change as a fraction: (x - before) / before",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(10, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(rocp)},
    {.name = "rocr", .ta_name = "ROCR", .group = G_MOMENTUM,
     .summary = "Rate of change ratio: x / x period bars before",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(10, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(rocr)},
    {.name = "trix", .ta_name = "TRIX", .group = G_MOMENTUM,
     .summary = "TRIX: one-bar rate of change of a triple EMA",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(trix)},
    {.name = "ultosc", .ta_name = "ULTOSC", .group = G_MOMENTUM,
     .summary = "Ultimate oscillator over three periods",
     .n_in = IN_HLC, .n_params = 3,
     .params = {P_INT("period1", "timeperiod1", 7, 1), P_INT("period2", "timeperiod2", 14, 1),
                P_INT("period3", "timeperiod3", 28, 1)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_FINITE, KERNELS(ultosc)},
    {.name = "willr", .ta_name = "WILLR", .group = G_MOMENTUM,
     .summary = "Williams' %R",
     .n_in = IN_HLC, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(willr)},
};
const size_t fp_momentum_count = sizeof fp_momentum_rows / sizeof fp_momentum_rows[0];
