/*
 * ind_statistic.c - TA-Lib's statistic functions, one block per function:
 * its lookback, batch kernel, streaming state and step, and its row in
 * fp_statistic_rows at the end of the file.
 */
#include "ind_common.h"
#include "indicators.h"

/* ------------------------------------------------------------------ */
/* STDDEV                                                              */
/* ------------------------------------------------------------------ */

static size_t stddev_lookback(const double *p)
{
    return per(p, 0) - 1;
}

static int stddev_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_stddev_f64(in[0], n, (int)p[0], p[1], out[0]);
}

/* TA-Lib's rolling variance (rolling_var.h) over the stream's window. */
typedef struct {
    fp_window w;
    rolling_var var;
    double nbdev;
    double buf[];
} stddev_state;

static size_t stddev_size(const double *p)
{
    return sizeof(stddev_state) + 2 * per(p, 0) * sizeof(double);
}

static void stddev_init(void *st, const double *p)
{
    stddev_state *s = st;
    window_init(&s->w, s->buf, per(p, 0));
    s->var.p = 0; /* not started */
    s->nbdev = p[1];
}

/* The variance of the window, NaN before it is full. */
static double stream_var(fp_window *w, rolling_var *var)
{
    const size_t p = w->cap;
    if (w->count < p)
        return NAN;
    const double *x = window_values(w);
    double total;
    if (var->p == 0)
        *var = rolling_var_start(x, 0, p);
    return rolling_var_next(var, x, p - 1, &total);
}

static void stddev_update(void *st, const double *in, double *out)
{
    stddev_state *s = st;
    window_push(&s->w, in[0]);
    out[0] = sqrt(stream_var(&s->w, &s->var)) * s->nbdev;
}

/* ------------------------------------------------------------------ */
/* VAR                                                                 */
/* ------------------------------------------------------------------ */

/* The variance STDDEV takes the root of (rolling_var.h). TA-Lib's VAR has
 * an nbdev parameter and ignores it; so does this one, for parity. */
#define var_lookback stddev_lookback

static int var_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    const size_t period = per(p, 0);
    const double *x = in[0];
    rolling_var st = rolling_var_start(x, 0, period);
    double total;
    for (size_t i = period - 1; i < n; i++)
        out[0][i] = rolling_var_next(&st, x, i, &total);
    return FP_OK;
}

#define var_size stddev_size
#define var_init stddev_init

static void var_update(void *st, const double *in, double *out)
{
    stddev_state *s = st;
    window_push(&s->w, in[0]);
    out[0] = stream_var(&s->w, &s->var);
}

/* ------------------------------------------------------------------ */
/* LINEARREG, LINEARREG_SLOPE, LINEARREG_ANGLE, LINEARREG_INTERCEPT,   */
/* TSF                                                                 */
/* ------------------------------------------------------------------ */

/* The least-squares line through each window, with TA-Lib's formulas.
 * x counts back from the newest value (0) to the oldest (period - 1); Sy
 * and Sxy are running sums (a step: Sxy += Sy - p old, then Sy += new -
 * old), taken afresh over the window every 32 periods, and when the value
 * leaving is over 100 times the new window's mean (after a fall of that
 * size the running sums would be mostly rounding). Then m = (p Sxy - Sx Sy) / (Sx^2 - p Sxx) is
 * the slope per step forward in time, b = (Sy - m Sx) / p the line at the
 * oldest value (both divisions as products by reciprocals taken once),
 * and the outputs: b + m (p - 1) the line at the newest value
 * (LINEARREG), m, atan(m) in degrees, b, and b + m p one step ahead
 * (TSF). */
enum { LR_VALUE, LR_SLOPE, LR_ANGLE, LR_INTERCEPT, LR_TSF };

static size_t linreg_lookback(const double *p)
{
    return per(p, 0) - 1;
}

typedef struct {
    double dp, sum_x, inv_divisor, inv_p, sy, sxy;
    size_t p, countdown, seen;
} linreg_sums;

static void linreg_sums_init(linreg_sums *s, const double *p)
{
    const double dp = p[0];
    s->p = per(p, 0);
    s->dp = dp;
    s->sum_x = dp * (dp - 1.0) * 0.5;
    s->inv_divisor =
        1.0 / (s->sum_x * s->sum_x - dp * (dp * (dp - 1.0) * (2.0 * dp - 1.0) / 6.0));
    s->inv_p = 1.0 / dp;
    s->sy = s->sxy = 0.0;
    s->countdown = 32 * s->p;
    s->seen = 0;
}

/* The window w[0..p) (oldest first) summed afresh. */
static FP_NOINLINE void linreg_resum(linreg_sums *s, const double *w)
{
    double sy = 0.0, sxy = 0.0;
    for (size_t j = 0; j < s->p; j++) {
        sy += w[j];
        sxy += (double)(s->p - 1 - j) * w[j];
    }
    s->sy = sy;
    s->sxy = sxy;
    s->countdown = 32 * s->p;
}

/* The window w[0..p) after `old` left it (the first window: no old). */
static FP_INLINE void linreg_next(linreg_sums *s, const double *w, double old)
{
    if (s->seen++ == 0) {
        linreg_resum(s, w);
        return;
    }
    const double sy = s->sy - old + w[s->p - 1];
    if (--s->countdown == 0 || fabs(old) * s->dp > 100.0 * fabs(sy)) {
        linreg_resum(s, w);
        return;
    }
    s->sxy = s->sxy + s->sy - s->dp * old;
    s->sy = sy;
}

static FP_INLINE double linreg_out(const linreg_sums *s, int kind)
{
    const double dp = s->dp;
    const double m = (dp * s->sxy - s->sum_x * s->sy) * s->inv_divisor;
    const double b = (s->sy - m * s->sum_x) * s->inv_p;
    switch (kind) {
    case LR_VALUE:
        return b + m * (dp - 1.0);
    case LR_SLOPE:
        return m;
    case LR_ANGLE:
        return atan(m) * (180.0 / 3.14159265358979323846);
    case LR_INTERCEPT:
        return b;
    default:
        return b + m * dp;
    }
}

/* The batch loop, checking finiteness as it goes (FP_OWN_FINITE). */
static FP_INLINE int linreg_run(int kind, const double *const *in, size_t n, const double *p,
                                double *out)
{
    const double *x = in[0];
    linreg_sums s;
    linreg_sums_init(&s, p);
    const size_t period = s.p;
    linreg_next(&s, x, 0.0);
    out[period - 1] = linreg_out(&s, kind);
    FP_CHECKED_LOOP(i, period, n, in, 1, {
        linreg_next(&s, x + i + 1 - period, x[i - period]);
        out[i] = linreg_out(&s, kind);
    });
    return FP_OK;
}

typedef struct {
    linreg_sums sums;
    fp_window w;
    double buf[];
} linreg_state;

static size_t linreg_size(const double *p)
{
    return sizeof(linreg_state) + 2 * per(p, 0) * sizeof(double);
}

static void linreg_init(void *st, const double *p)
{
    linreg_state *s = st;
    linreg_sums_init(&s->sums, p);
    window_init(&s->w, s->buf, per(p, 0));
}

static FP_INLINE void linreg_stream(int kind, void *st, const double *in, double *out)
{
    linreg_state *s = st;
    const double old = s->w.count == s->w.cap ? window_oldest(&s->w) : 0.0;
    window_push(&s->w, in[0]);
    out[0] = NAN;
    if (s->w.count < s->w.cap)
        return;
    linreg_next(&s->sums, window_values(&s->w), old);
    out[0] = linreg_out(&s->sums, kind);
}

#define LINREG_KERNELS(name, kind)                                                                \
    static int name##_batch(const double *const *in, size_t n, const double *p,                 \
                            double *const *out)                                                   \
    {                                                                                             \
        return linreg_run(kind, in, n, p, out[0]);                                                \
    }                                                                                             \
    static void name##_update(void *st, const double *in, double *out)                          \
    {                                                                                             \
        linreg_stream(kind, st, in, out);                                                         \
    }

LINREG_KERNELS(linearreg, LR_VALUE)
LINREG_KERNELS(linearreg_slope, LR_SLOPE)
LINREG_KERNELS(linearreg_angle, LR_ANGLE)
LINREG_KERNELS(linearreg_intercept, LR_INTERCEPT)
LINREG_KERNELS(tsf, LR_TSF)

#define LINREG_ROW_KERNELS(name)                                                                  \
    .flags = FP_OWN_FINITE, .lookback = linreg_lookback, .batch = name##_batch,                   \
    .state_size = linreg_size, .state_init = linreg_init, .update = name##_update

/* ------------------------------------------------------------------ */
/* CORREL                                                              */
/* ------------------------------------------------------------------ */

/* Pearson's correlation of the last period pairs, in [-1, 1], 0 when
 * either series is flat over the window. Running sums of x and y
 * (shifted by a recent mean, so that price levels do not cancel), x^2,
 * y^2 and x y, in the order new pair added, output taken, oldest pair
 * removed; taken afresh around the window's means every 32 periods and
 * whenever a variance has lost most of its digits to cancellation, which
 * keeps every output within rounding of the exact correlation (what
 * TA-Lib gives) and makes a flat window's variance exactly 0. */
static size_t correl_lookback(const double *p)
{
    return per(p, 0) - 1;
}

typedef struct {
    fp_window wx, wy;
    double shx, shy, sx, sy, sxx, syy, sxy, dp;
    size_t countdown;
    double buf[];
} correl_state;

static size_t correl_size(const double *p)
{
    return sizeof(correl_state) + 4 * per(p, 0) * sizeof(double);
}

static void correl_init(void *st, const double *p)
{
    correl_state *s = st;
    const size_t period = per(p, 0);
    window_init(&s->wx, s->buf, period);
    window_init(&s->wy, s->buf + 2 * period, period);
    s->shx = s->shy = s->sx = s->sy = s->sxx = s->syy = s->sxy = 0.0;
    s->dp = p[0];
    s->countdown = 32 * period;
}

/* The full window's sums, afresh around its means. */
static FP_NOINLINE void correl_rebuild(correl_state *s)
{
    const size_t p = s->wx.cap;
    const double *x = window_values(&s->wx), *y = window_values(&s->wy);
    double mx = 0.0, my = 0.0;
    for (size_t j = 0; j < p; j++) {
        mx += x[j];
        my += y[j];
    }
    s->shx = mx / s->dp;
    s->shy = my / s->dp;
    s->sx = s->sy = s->sxx = s->syy = s->sxy = 0.0;
    for (size_t j = 0; j < p; j++) {
        const double dx = x[j] - s->shx, dy = y[j] - s->shy;
        s->sx += dx;
        s->sy += dy;
        s->sxx += dx * dx;
        s->syy += dy * dy;
        s->sxy += dx * dy;
    }
    s->countdown = 32 * p;
}

static FP_INLINE void correl_step(correl_state *s, const double *in, double *out)
{
    if (s->wx.count == 0) { /* the first pair sets the shift */
        s->shx = in[0];
        s->shy = in[1];
    }
    const double dx = in[0] - s->shx, dy = in[1] - s->shy;
    s->sx += dx;
    s->sy += dy;
    s->sxx += dx * dx;
    s->syy += dy * dy;
    s->sxy += dx * dy;
    window_push(&s->wx, in[0]);
    window_push(&s->wy, in[1]);
    out[0] = NAN;
    if (s->wx.count < s->wx.cap)
        return;
    const double dp = s->dp;
    double vx = s->sxx - s->sx * s->sx / dp, vy = s->syy - s->sy * s->sy / dp;
    if (--s->countdown == 0 || !(vx > 1e-6 * s->sxx) || !(vy > 1e-6 * s->syy)) {
        correl_rebuild(s);
        vx = s->sxx - s->sx * s->sx / dp;
        vy = s->syy - s->sy * s->sy / dp;
    }
    const double c = s->sxy - s->sx * s->sy / dp;
    double r = vx > 0.0 && vy > 0.0 ? c / sqrt(vx * vy) : 0.0;
    out[0] = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
    /* the oldest pair leaves */
    const double tx = window_values(&s->wx)[0] - s->shx, ty = window_values(&s->wy)[0] - s->shy;
    s->sx -= tx;
    s->sy -= ty;
    s->sxx -= tx * tx;
    s->syy -= ty * ty;
    s->sxy -= tx * ty;
}

FP_STEP_KERNELS(correl, 2, 1)

/* ------------------------------------------------------------------ */
/* BETA                                                                */
/* ------------------------------------------------------------------ */

/* The slope of real1's returns on real0's over the last period returns
 * (a return (v - prev) / prev, 0 after a price within 1e-8 of 0), from
 * running sums (new return added, output taken, oldest removed), taken
 * afresh every 32 periods and whenever n Sxx - Sx^2 has lost most of its
 * digits, so that a window of flat returns gives exactly 0 as in TA-Lib
 * rather than a ratio of rounding residues. Returns need a previous
 * price: lookback period. */
static size_t beta_lookback(const double *p)
{
    return per(p, 0);
}

static inline int near_zero(double v)
{
    return -1e-8 < v && v < 1e-8;
}

static FP_INLINE double ret(double v, double prev)
{
    return near_zero(prev) ? 0.0 : (v - prev) / prev;
}

typedef struct {
    fp_window rx, ry;
    double last_x, last_y, shx, shy, sx, sy, sxx, sxy, dp;
    size_t n, countdown;
    double buf[];
} beta_state;

static size_t beta_size(const double *p)
{
    return sizeof(beta_state) + 4 * per(p, 0) * sizeof(double);
}

static void beta_init(void *st, const double *p)
{
    beta_state *s = st;
    const size_t period = per(p, 0);
    window_init(&s->rx, s->buf, period);
    window_init(&s->ry, s->buf + 2 * period, period);
    s->last_x = s->last_y = s->shx = s->shy = s->sx = s->sy = s->sxx = s->sxy = 0.0;
    s->dp = p[0];
    s->n = 0;
    s->countdown = 32 * period;
}

/* The sums afresh around the means of the window's returns from the
 * first-th on: a flat window's are exactly 0 again, and a nearly flat
 * one keeps its digits. */
static FP_NOINLINE void beta_rebuild(beta_state *s, size_t first)
{
    const double *x = window_values(&s->rx), *y = window_values(&s->ry);
    const size_t p = s->rx.cap;
    double mx = 0.0, my = 0.0;
    for (size_t j = first; j < p; j++) {
        mx += x[j];
        my += y[j];
    }
    s->shx = mx / (double)(p - first);
    s->shy = my / (double)(p - first);
    s->sx = s->sy = s->sxx = s->sxy = 0.0;
    for (size_t j = first; j < p; j++) {
        const double dx = x[j] - s->shx, dy = y[j] - s->shy;
        s->sxx += dx * dx;
        s->sx += dx;
        s->sxy += dx * dy;
        s->sy += dy;
    }
    s->countdown = 32 * p;
}

static FP_INLINE void beta_step(beta_state *s, const double *in, double *out)
{
    out[0] = NAN;
    const size_t k = s->n++;
    if (k == 0) {
        s->last_x = in[0];
        s->last_y = in[1];
        return;
    }
    const double x = ret(in[0], s->last_x), y = ret(in[1], s->last_y);
    s->last_x = in[0];
    s->last_y = in[1];
    if (k == 1) { /* the first return sets the shift */
        s->shx = x;
        s->shy = y;
    }
    const double dx = x - s->shx, dy = y - s->shy;
    s->sxx += dx * dx;
    s->sx += dx;
    s->sxy += dx * dy;
    s->sy += dy;
    window_push(&s->rx, x);
    window_push(&s->ry, y);
    if (s->rx.count < s->rx.cap)
        return;
    const double dp = s->dp;
    double d = dp * s->sxx - s->sx * s->sx;
    if (--s->countdown == 0 || !(d > 1e-6 * dp * s->sxx)) {
        beta_rebuild(s, 0);
        d = dp * s->sxx - s->sx * s->sx;
    }
    out[0] = d > 0.0 ? (dp * s->sxy - s->sx * s->sy) / d : 0.0;
    /* the oldest return leaves, to make room for the next one */
    const double tx = window_values(&s->rx)[0] - s->shx, ty = window_values(&s->ry)[0] - s->shy;
    s->sxx -= tx * tx;
    s->sx -= tx;
    s->sxy -= tx * ty;
    s->sy -= ty;
    if (tx * tx > 1e6 * s->sxx) /* what remains would be mostly rounding */
        beta_rebuild(s, 1);
}

FP_STEP_KERNELS(beta, 2, 1)

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_statistic_rows[] = {
    {.name = "stddev", .ta_name = "STDDEV", .group = G_STATISTIC,
     .summary = "Population standard deviation over period values, times nbdev",
     .n_in = IN_X, .n_params = 2, .params = {P_PERIOD(5, 1), P_REAL("nbdev", "nbdev", 1.0)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_NANS, KERNELS(stddev)},
    {.name = "var", .ta_name = "VAR", .group = G_STATISTIC,
     .summary = "Population variance over period values (nbdev is accepted and unused, as in "
                "TA-Lib)",
     .n_in = IN_X, .n_params = 2, .params = {P_PERIOD(5, 1), P_REAL("nbdev", "nbdev", 1.0)},
     .n_out = 1, .out = {"real"}, KERNELS(var)},
    {.name = "linearreg", .ta_name = "LINEARREG", .group = G_STATISTIC,
     .summary = "Least-squares line over period values, at the newest one",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     LINREG_ROW_KERNELS(linearreg)},
    {.name = "linearreg_slope", .ta_name = "LINEARREG_SLOPE", .group = G_STATISTIC,
     .summary = "Slope of the least-squares line over period values, per step",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     LINREG_ROW_KERNELS(linearreg_slope)},
    {.name = "linearreg_angle", .ta_name = "LINEARREG_ANGLE", .group = G_STATISTIC,
     .summary = "Angle of the least-squares line over period values, in degrees",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     LINREG_ROW_KERNELS(linearreg_angle)},
    {.name = "linearreg_intercept", .ta_name = "LINEARREG_INTERCEPT", .group = G_STATISTIC,
     .summary = "Least-squares line over period values, at the oldest one",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     LINREG_ROW_KERNELS(linearreg_intercept)},
    {.name = "tsf", .ta_name = "TSF", .group = G_STATISTIC,
     .summary = "Time series forecast: the least-squares line one step past the window",
     .n_in = IN_X, .n_params = 1, .params = {P_PERIOD(14, 2)}, .n_out = 1, .out = {"real"},
     LINREG_ROW_KERNELS(tsf)},
    {.name = "correl", .ta_name = "CORREL", .group = G_STATISTIC,
     .summary = "Pearson's correlation of two series over period values",
     .n_in = 2, .in = {"x", "y"}, .ta_in = {"real0", "real1"}, .n_params = 1,
     .params = {P_PERIOD(30, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(correl)},
    {.name = "beta", .ta_name = "BETA", .group = G_STATISTIC,
     .summary = "Beta: slope of y's returns on x's over period returns",
     .n_in = 2, .in = {"x", "y"}, .ta_in = {"real0", "real1"}, .n_params = 1,
     .params = {P_PERIOD(5, 1)}, .n_out = 1, .out = {"real"},
     .flags = FP_OWN_FINITE, KERNELS(beta)},
};
const size_t fp_statistic_count = sizeof fp_statistic_rows / sizeof fp_statistic_rows[0];
