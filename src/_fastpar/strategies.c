/*
 * strategies.c - fused bar-by-bar backtests for parameter sweeps.
 *
 * Three layers, top-down:
 *   - the plan: sets sorted by the indicator they share, cut into tasks
 *     of at most FP_SWEEP_GROUP sets (fp_sweep_init);
 *   - one loop per strategy: per bar, the shared indicator is advanced
 *     once, then each set of the task turns it into an entry / exit
 *     signal and steps its own account (run_* functions);
 *   - the account: vectorbt's all-in order arithmetic (sim_*, account.h,
 *     shared with program.c), kept operation for operation equal to the
 *     reference's so that the two agree to the last bit.
 *
 * A backtest of signal arrays (fp_backtest_*, at the end) is one more loop
 * over the same account, whose entries and exits are read from the
 * caller's arrays instead of computed: the built-in strategies, the
 * user's own signals and the user's own strategies (program.c) share one
 * simulator.
 *
 * Indicators are TA-Lib's definitions computed as streams (the same
 * recurrences as the reference, not the block-vectorised kernels of
 * indicators.c, whose rounding differs slightly): a signal at a threshold
 * must flip exactly where the reference flips it. The Bollinger deviation
 * is the exception that proves the rule: TA-Lib's own rolling variance
 * (rolling_var.h, shared with fastpar.bbands), since a variance from raw
 * running sums is not 0 on a flat stretch and moves the band.
 */
#include "strategies.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "pool.h"
#include "rolling_var.h"

/* A grid is cut into at least this many tasks when it has enough sets. */
#define FP_SWEEP_MIN_TASKS 8
/* At most this many bars x sets per task (some tens of milliseconds), while
 * a set alone fits. */
#define FP_SWEEP_TASK_BARS ((size_t)1 << 24)

/* Bars between two looks at the cancel flag. */
#define CANCEL_STRIDE 4096

/* ------------------------------------------------------------------ */
/* Parameters                                                          */
/* ------------------------------------------------------------------ */

static const int n_params[FP_N_STRATEGIES] = {3, 3, 2, 2, 6};

int fp_strategy_n_params(int strategy)
{
    if (strategy < 0 || strategy >= FP_N_STRATEGIES)
        return -1;
    return n_params[strategy];
}

static int is_int_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int fp_sweep_check_params(int strategy, const double *p)
{
    const double maxp = (double)FP_MAX_PERIOD;
    int np = fp_strategy_n_params(strategy);
    if (np < 0 || p == NULL || !all_finite(p, (size_t)np))
        return FP_EINVAL;
    int ok = 0;
    switch (strategy) {
    case FP_RSI_THRESHOLD:
        ok = is_int_in(p[0], 2, maxp) && p[1] > 0.0 && p[1] < p[2] && p[2] < 100.0;
        break;
    case FP_MA_CROSS:
        ok = is_int_in(p[0], 1, maxp) && is_int_in(p[1], 1, maxp) && p[0] < p[1] &&
             (p[2] == FP_MA_SMA || p[2] == FP_MA_EMA);
        break;
    case FP_BBANDS_REVERSION:
        ok = is_int_in(p[0], 2, maxp) && p[1] > 0.0;
        break;
    case FP_ENVELOPE:
        ok = is_int_in(p[0], 1, maxp) && p[1] > 0.0;
        break;
    case FP_BIGBAR:
        ok = is_int_in(p[0], 1, maxp) && p[1] > 0.0 && p[2] >= 0.0 && p[2] <= 1.0 &&
             is_int_in(p[3], 1, maxp) && is_int_in(p[4], 2, maxp) && p[5] > 0.0 &&
             p[5] <= 100.0;
        break;
    }
    return ok ? FP_OK : FP_EINVAL;
}

static int stop_ok(double s)
{
    return isnan(s) || (isfinite(s) && s > 0.0);
}

int fp_sweep_check_costs(const fp_costs *c)
{
    if (c == NULL)
        return FP_EINVAL;
    int ok = isfinite(c->fees) && c->fees >= 0.0 && c->fees < 1.0 && isfinite(c->slippage) &&
             c->slippage >= 0.0 && c->slippage < 1.0 && isfinite(c->spread) &&
             c->spread >= 0.0 && stop_ok(c->stop_loss) && stop_ok(c->take_profit) &&
             isfinite(c->periods_per_year) && c->periods_per_year > 0.0 &&
             (c->longshort == 0 || c->longshort == 1);
    return ok ? FP_OK : FP_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Streaming indicators (NaN until defined)                            */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t p;
    double g, l;
} rsi_state;

static inline double rsi_next(rsi_state *st, const double *x, size_t i)
{
    const size_t p = st->p;
    if (i == 0)
        return NAN;
    double d = x[i] - x[i - 1];
    double up = d > 0.0 ? d : 0.0;
    if (i < p) {
        st->g += up;
        st->l += up - d;
        return NAN;
    }
    if (i == p) {
        st->g += up;
        st->l += up - d;
        st->g /= (double)p;
        st->l /= (double)p;
    } else {
        st->g = (st->g * (double)(p - 1) + up) / (double)p;
        st->l = (st->l * (double)(p - 1) + (up - d)) / (double)p;
    }
    double s = st->g + st->l;
    return s > 0.0 ? st->g / s * 100.0 : 0.0;
}

/* SMA (running sum, as TA-Lib) or EMA (TA-Lib's: SMA seed, then
 * (x - y) k + y). */
typedef struct {
    size_t p;
    int ema;
    double total, k;
} ma_state;

static void ma_init(ma_state *st, size_t p, int ema)
{
    st->p = p;
    st->ema = ema;
    st->total = 0.0;
    st->k = 2.0 / (double)(p + 1);
}

static inline double ma_next(ma_state *st, const double *x, size_t i)
{
    const size_t p = st->p;
    if (st->ema) {
        if (i + 1 < p) {
            st->total += x[i];
            return NAN;
        }
        if (i + 1 == p) {
            st->total += x[i];
            st->total /= (double)p;
        } else {
            st->total = (x[i] - st->total) * st->k + st->total;
        }
        return st->total;
    }
    st->total += x[i];
    if (i + 1 < p)
        return NAN;
    double m = st->total / (double)p;
    st->total -= x[i + 1 - p];
    return m;
}

/* Bollinger middle band and population std: TA-Lib's BBANDS (matype
 * SMA), the very doubles of fastpar.bbands, from the same rolling
 * variance (rolling_var.h), which gives exactly 0 on a flat stretch. */
typedef struct {
    size_t p;
    rolling_var var;
} bb_state;

static inline double bb_next(bb_state *st, const double *x, size_t i, double *sd)
{
    const size_t p = st->p;
    if (i + 1 < p) {
        *sd = NAN;
        return NAN;
    }
    if (i + 1 == p)
        st->var = rolling_var_start(x, 0, p);
    double total;
    *sd = sqrt(rolling_var_next(&st->var, x, i, &total));
    return total / (double)p;
}

/* Wilder's ATR, first value at index p. */
typedef struct {
    size_t p;
    double a;
} atr_state;

static inline double atr_next(atr_state *st, const fp_sweep_bars *b, size_t i)
{
    const size_t p = st->p;
    if (i == 0)
        return NAN;
    const double *h = b->high, *l = b->low, *c = b->close;
    double tr = fmax(h[i] - l[i], fmax(fabs(c[i - 1] - h[i]), fabs(c[i - 1] - l[i])));
    if (i < p) {
        st->a += tr;
        return NAN;
    }
    if (i == p) {
        st->a += tr;
        st->a /= (double)p;
    } else {
        st->a = (st->a * (double)(p - 1) + tr) / (double)p;
    }
    return st->a;
}

/* ------------------------------------------------------------------ */
/* One loop per strategy over the sets idx[0..k) that share a key      */
/* ------------------------------------------------------------------ */

typedef struct {
    const fp_sweep *sw;
    const fp_sweep_bars *bars; /* the asset this task runs on */
    const size_t *idx;
    size_t k;
    sim acc[FP_SWEEP_GROUP];
} group;

static inline const double *set_params(const group *g, size_t j)
{
    return g->sw->params + g->idx[j] * (size_t)n_params[g->sw->strategy];
}

static inline int cancelled(const group *g, size_t t)
{
    return (t % CANCEL_STRIDE) == 0 &&
           atomic_load_explicit(&((fp_sweep *)g->sw)->cancel, memory_order_relaxed);
}

static int run_rsi_threshold(group *g)
{
    const fp_sweep_bars *b = g->bars;
    const fp_costs *k = &g->sw->costs;
    double low[FP_SWEEP_GROUP], high[FP_SWEEP_GROUP];
    for (size_t j = 0; j < g->k; j++) {
        low[j] = set_params(g, j)[1];
        high[j] = set_params(g, j)[2];
    }
    rsi_state r = {(size_t)set_params(g, 0)[0], 0.0, 0.0};
    for (size_t t = 0; t < b->n; t++) {
        if (cancelled(g, t))
            return FP_ECANCELLED;
        double v = rsi_next(&r, b->close, t), c = b->close[t];
        for (size_t j = 0; j < g->k; j++)
            sim_bar(&g->acc[j], c, v < low[j], v > high[j], k);
    }
    return FP_OK;
}

static int run_ma_cross(group *g)
{
    const fp_sweep_bars *b = g->bars;
    const double *p = set_params(g, 0);
    const int ema = p[2] == FP_MA_EMA;
    ma_state slow, fast[FP_SWEEP_GROUP];
    ma_init(&slow, (size_t)p[1], ema);
    for (size_t j = 0; j < g->k; j++)
        ma_init(&fast[j], (size_t)set_params(g, j)[0], ema);
    for (size_t t = 0; t < b->n; t++) {
        if (cancelled(g, t))
            return FP_ECANCELLED;
        double s = ma_next(&slow, b->close, t);
        for (size_t j = 0; j < g->k; j++) {
            double f = ma_next(&fast[j], b->close, t);
            sim_bar(&g->acc[j], b->close[t], f > s, f < s, &g->sw->costs);
        }
    }
    return FP_OK;
}

static int run_bbands_reversion(group *g)
{
    const fp_sweep_bars *b = g->bars;
    double nbdev[FP_SWEEP_GROUP];
    for (size_t j = 0; j < g->k; j++)
        nbdev[j] = set_params(g, j)[1];
    bb_state st = {.p = (size_t)set_params(g, 0)[0]};
    for (size_t t = 0; t < b->n; t++) {
        if (cancelled(g, t))
            return FP_ECANCELLED;
        double sd, c = b->close[t];
        double m = bb_next(&st, b->close, t, &sd);
        for (size_t j = 0; j < g->k; j++)
            sim_bar(&g->acc[j], c, c < m - nbdev[j] * sd, c > m, &g->sw->costs);
    }
    return FP_OK;
}

static int run_envelope(group *g)
{
    const fp_sweep_bars *b = g->bars;
    double dev[FP_SWEEP_GROUP];
    for (size_t j = 0; j < g->k; j++)
        dev[j] = set_params(g, j)[1];
    ma_state st;
    ma_init(&st, (size_t)set_params(g, 0)[0], 0);
    for (size_t t = 0; t < b->n; t++) {
        if (cancelled(g, t))
            return FP_ECANCELLED;
        double c = b->close[t], m = ma_next(&st, b->close, t);
        for (size_t j = 0; j < g->k; j++)
            sim_bar(&g->acc[j], c, c < m * (1.0 - dev[j]), c > m * (1.0 + dev[j]), &g->sw->costs);
    }
    return FP_OK;
}

/* Position of the extreme of x[from .. to) (the highest if sign > 0, the
 * lowest if sign < 0; the last one on ties). */
static size_t extreme_at(const double *x, size_t from, size_t to, double sign)
{
    size_t at = from;
    for (size_t i = from + 1; i < to; i++)
        if (sign * x[i] >= sign * x[at])
            at = i;
    return at;
}

static int run_bigbar(group *g)
{
    const fp_sweep_bars *b = g->bars;
    const double *h = b->high, *lo = b->low, *cl = b->close;
    double k_atr[FP_SWEEP_GROUP], tail[FP_SWEEP_GROUP], rsi_max[FP_SWEEP_GROUP];
    for (size_t j = 0; j < g->k; j++) {
        k_atr[j] = set_params(g, j)[1];
        tail[j] = set_params(g, j)[2];
        rsi_max[j] = set_params(g, j)[5];
    }
    const double *p = set_params(g, 0);
    const size_t brk = (size_t)p[3];
    atr_state a = {(size_t)p[0], 0.0};
    rsi_state r = {(size_t)p[4], 0.0, 0.0};
    double atr_prev = NAN;
    /* where the highest high and lowest low of the window [t-brk, t) are:
     * updated with each new bar, rescanned only when one leaves the
     * window (on random data about once every brk bars) */
    size_t hi_at = 0, lo_at = 0;
    for (size_t t = 0; t < b->n; t++) {
        if (cancelled(g, t))
            return FP_ECANCELLED;
        double rv = rsi_next(&r, cl, t), c = cl[t];
        if (t < brk) {
            for (size_t j = 0; j < g->k; j++)
                sim_bar(&g->acc[j], c, 0, 0, &g->sw->costs);
        } else {
            if (t == brk || hi_at < t - brk)
                hi_at = extreme_at(h, t - brk, t, 1.0);
            else if (h[t - 1] >= h[hi_at])
                hi_at = t - 1;
            if (t == brk || lo_at < t - brk)
                lo_at = extreme_at(lo, t - brk, t, -1.0);
            else if (lo[t - 1] <= lo[lo_at])
                lo_at = t - 1;
            double rng = h[t] - lo[t];
            int up = c > h[hi_at], down = c < lo[lo_at];
            for (size_t j = 0; j < g->k; j++) {
                int e = rng > k_atr[j] * atr_prev && c >= lo[t] + tail[j] * rng && up &&
                        rv <= rsi_max[j];
                sim_bar(&g->acc[j], c, e, down, &g->sw->costs);
            }
        }
        atr_prev = atr_next(&a, b, t);
    }
    return FP_OK;
}

typedef int (*group_fn)(group *g);
static const group_fn runners[FP_N_STRATEGIES] = {
    run_rsi_threshold, run_ma_cross, run_bbands_reversion, run_envelope, run_bigbar,
};

int fp_sweep_task(void *ctx, size_t index)
{
    fp_sweep *sw = ctx;
    const size_t asset = index / sw->tasks_per_asset, task = index % sw->tasks_per_asset;
    double *out = sw->out + asset * sw->n_sets * FP_SWEEP_N_METRICS;
    group g;
    g.sw = sw;
    g.bars = &sw->assets[asset];
    g.idx = sw->order + sw->task_start[task];
    g.k = sw->task_start[task + 1] - sw->task_start[task];
    for (size_t j = 0; j < g.k; j++)
        sim_init(&g.acc[j]);
    int status = runners[sw->strategy](&g);
    if (status != FP_OK)
        return status;
    for (size_t j = 0; j < g.k; j++)
        sim_finish(&g.acc[j], g.bars->n, g.bars->n > 0 ? g.bars->close[g.bars->n - 1] : NAN,
                   &sw->costs, out + g.idx[j] * FP_SWEEP_N_METRICS);
    atomic_fetch_add_explicit(&sw->done, g.k, memory_order_relaxed);
    if (sw->progress != NULL)
        atomic_fetch_add_explicit(sw->progress, g.k, memory_order_relaxed);
    return FP_OK;
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */
/* ------------------------------------------------------------------ */

/* How many sets (or columns) one task runs on series of at most `bars`
 * bars: fewer for small grids, so that at least FP_SWEEP_MIN_TASKS tasks
 * keep a few threads busy, and for long series, so that a task stays
 * short (a caller running tasks itself looks for Ctrl-C between two); at
 * most FP_SWEEP_GROUP, the accounts a task holds. */
static size_t task_group(size_t n_sets, size_t bars)
{
    size_t group = (n_sets + FP_SWEEP_MIN_TASKS - 1) / FP_SWEEP_MIN_TASKS;
    if (bars > 0 && group > FP_SWEEP_TASK_BARS / bars)
        group = FP_SWEEP_TASK_BARS / bars;
    group = group < 1 ? 1 : group > FP_SWEEP_GROUP ? FP_SWEEP_GROUP : group;
    return group;
}

/* Which parameters make up the shared indicator of each strategy. */
static const int key_params[FP_N_STRATEGIES][3] = {
    {0, -1, -1}, /* RSI period */
    {1, 2, -1},  /* the slow average (each set has its own fast one) */
    {0, -1, -1}, /* Bollinger window */
    {0, -1, -1}, /* SMA window */
    {0, 3, 4},   /* ATR period, breakout window, RSI period */
};

typedef struct {
    double key[3];
    size_t index;
} keyed;

static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    for (int i = 0; i < 3; i++)
        if (a->key[i] != b->key[i])
            return a->key[i] < b->key[i] ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* FP_OK if `b` is usable by `strategy`: the columns it needs, all finite. */
static int check_bars(int strategy, const fp_sweep_bars *b)
{
    if (b->n == 0)
        return FP_OK;
    if (b->close == NULL || (strategy == FP_BIGBAR && (b->high == NULL || b->low == NULL)))
        return FP_EINVAL;
    if (!all_finite(b->close, b->n))
        return FP_ENONFINITE;
    if (strategy == FP_BIGBAR && (!all_finite(b->high, b->n) || !all_finite(b->low, b->n)))
        return FP_ENONFINITE;
    return FP_OK;
}

int fp_sweep_init(fp_sweep *sw, int strategy, const fp_sweep_bars *bars, const double *params,
                  size_t n_sets, const fp_costs *costs, double *out)
{
    return fp_sweep_init_assets(sw, strategy, bars, 1, params, n_sets, costs, out);
}

int fp_sweep_init_assets(fp_sweep *sw, int strategy, const fp_sweep_bars *assets,
                         size_t n_assets, const double *params, size_t n_sets,
                         const fp_costs *costs, double *out)
{
    memset(sw, 0, sizeof *sw);
    int np = fp_strategy_n_params(strategy);
    if (np < 0 || assets == NULL || n_assets == 0 || costs == NULL ||
        (n_sets > 0 && (params == NULL || out == NULL)))
        return FP_EINVAL;
    if (fp_sweep_check_costs(costs) != FP_OK)
        return FP_EINVAL;
    for (size_t i = 0; i < n_sets; i++)
        if (fp_sweep_check_params(strategy, params + i * (size_t)np) != FP_OK)
            return FP_EINVAL;
    size_t longest = 0;
    for (size_t a = 0; a < n_assets; a++) {
        int status = check_bars(strategy, &assets[a]);
        if (status != FP_OK) {
            sw->bad_asset = a;
            return status;
        }
        longest = assets[a].n > longest ? assets[a].n : longest;
    }

    keyed *ks = malloc((n_sets + 1) * sizeof *ks);
    sw->order = malloc((n_sets + 1) * sizeof *sw->order);
    sw->task_start = malloc((n_sets + 1) * sizeof *sw->task_start);
    if (ks == NULL || sw->order == NULL || sw->task_start == NULL) {
        free(ks);
        fp_sweep_free(sw);
        return FP_ENOMEM;
    }
    for (size_t i = 0; i < n_sets; i++) {
        for (int j = 0; j < 3; j++) {
            int kp = key_params[strategy][j];
            ks[i].key[j] = kp < 0 ? 0.0 : params[i * (size_t)np + (size_t)kp];
        }
        ks[i].index = i;
    }
    qsort(ks, n_sets, sizeof *ks, keyed_cmp);
    /* Every asset gets the same plan, cut for the longest; a smaller
     * group than the grid allows costs an indicator computed more than
     * once. */
    const size_t group = task_group(n_sets, longest);
    size_t t = 0;
    for (size_t i = 0; i < n_sets; i++) {
        sw->order[i] = ks[i].index;
        if (i == 0 || i - sw->task_start[t - 1] == group ||
            memcmp(ks[i].key, ks[i - 1].key, sizeof ks[i].key) != 0)
            sw->task_start[t++] = i;
    }
    sw->task_start[t] = n_sets;
    free(ks);

    sw->strategy = strategy;
    sw->assets = assets;
    sw->n_assets = n_assets;
    sw->costs = *costs;
    sw->n_sets = n_sets;
    sw->params = params;
    sw->out = out;
    sw->tasks_per_asset = t;
    sw->n_tasks = t * n_assets;
    atomic_init(&sw->done, 0);
    atomic_init(&sw->cancel, 0);
    return FP_OK;
}

size_t fp_sweep_done(const fp_sweep *sw)
{
    return atomic_load_explicit(&((fp_sweep *)sw)->done, memory_order_relaxed);
}

void fp_sweep_cancel(fp_sweep *sw)
{
    atomic_store_explicit(&sw->cancel, 1, memory_order_relaxed);
}

void fp_sweep_free(fp_sweep *sw)
{
    free(sw->order);
    free(sw->task_start);
    sw->order = NULL;
    sw->task_start = NULL;
}

int fp_sweep_run(int strategy, const fp_sweep_bars *bars, const double *params, size_t n_sets,
                 const fp_costs *costs, double *out, int nthreads)
{
    fp_sweep sw;
    int status = fp_sweep_init(&sw, strategy, bars, params, n_sets, costs, out);
    if (status != FP_OK)
        return status;
    status = fp_pool_run(fp_sweep_task, &sw, sw.n_tasks, nthreads, NULL);
    fp_sweep_free(&sw);
    return status;
}

/* ------------------------------------------------------------------ */
/* Backtests of signal arrays                                          */
/* ------------------------------------------------------------------ */

int fp_backtest_init(fp_backtest *bt, const fp_signals *sig, const fp_costs *costs, double *out)
{
    memset(bt, 0, sizeof *bt);
    if (sig == NULL || costs == NULL || fp_sweep_check_costs(costs) != FP_OK)
        return FP_EINVAL;
    const size_t n = sig->n_bars, k = sig->n_cols;
    if (k > 0 && (out == NULL || (n > 0 && (sig->close == NULL || sig->entries == NULL ||
                                             sig->exits == NULL))))
        return FP_EINVAL;
    /* every close a column reads (one column when they all read the same) */
    const size_t closes = sig->close_col == 0 ? (k > 0) : k;
    for (size_t j = 0; j < closes; j++) {
        const double *col = sig->close + (ptrdiff_t)j * sig->close_col;
        for (size_t t = 0; t < n; t++)
            if (!isfinite(col[(ptrdiff_t)t * sig->close_row]))
                return FP_ENONFINITE;
    }
    /* Cut as a sweep's tasks; the columns of a task, advancing in
     * lockstep, read neighbouring bytes of each row. */
    const size_t group = task_group(k, n);
    bt->sig = *sig;
    bt->costs = *costs;
    bt->out = out;
    bt->group = group;
    bt->n_tasks = (k + group - 1) / group;
    atomic_init(&bt->cancel, 0);
    return FP_OK;
}

int fp_backtest_task(void *ctx, size_t index)
{
    fp_backtest *bt = ctx;
    const fp_signals *g = &bt->sig;
    const fp_costs *costs = &bt->costs;
    const size_t first = index * bt->group, n = g->n_bars;
    const size_t k = g->n_cols - first < bt->group ? g->n_cols - first : bt->group;
    sim acc[FP_SWEEP_GROUP];
    /* where each column starts: its offset in every row */
    ptrdiff_t c_at[FP_SWEEP_GROUP], e_at[FP_SWEEP_GROUP], x_at[FP_SWEEP_GROUP];
    for (size_t j = 0; j < k; j++) {
        sim_init(&acc[j]);
        c_at[j] = (ptrdiff_t)(first + j) * g->close_col;
        e_at[j] = (ptrdiff_t)(first + j) * g->entries_col;
        x_at[j] = (ptrdiff_t)(first + j) * g->exits_col;
    }
    for (size_t t = 0; t < n; t++) {
        if ((t % CANCEL_STRIDE) == 0 && atomic_load_explicit(&bt->cancel, memory_order_relaxed))
            return FP_ECANCELLED;
        const double *c = g->close + (ptrdiff_t)t * g->close_row;
        const unsigned char *e = g->entries + (ptrdiff_t)t * g->entries_row;
        const unsigned char *x = g->exits + (ptrdiff_t)t * g->exits_row;
        for (size_t j = 0; j < k; j++)
            sim_bar(&acc[j], c[c_at[j]], e[e_at[j]] != 0, x[x_at[j]] != 0, costs);
    }
    for (size_t j = 0; j < k; j++) {
        double last = n > 0 ? g->close[(ptrdiff_t)(n - 1) * g->close_row + c_at[j]] : NAN;
        sim_finish(&acc[j], n, last, costs, bt->out + (first + j) * FP_SWEEP_N_METRICS);
    }
    return FP_OK;
}

void fp_backtest_cancel(fp_backtest *bt)
{
    atomic_store_explicit(&bt->cancel, 1, memory_order_relaxed);
}

int fp_backtest_run(const fp_signals *sig, const fp_costs *costs, double *out, int nthreads)
{
    fp_backtest bt;
    int status = fp_backtest_init(&bt, sig, costs, out);
    if (status != FP_OK || bt.n_tasks == 0)
        return status;
    return fp_pool_run(fp_backtest_task, &bt, bt.n_tasks, nthreads, NULL);
}
