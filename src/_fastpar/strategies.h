/*
 * strategies.h - parameter sweeps of bar-based strategies (pure C, no
 * Python.h).
 *
 * A sweep runs one strategy over many parameter sets on the same bars and
 * returns seven metrics per set. Each backtest is fused: indicator, signal,
 * fill and metrics advance bar by bar together, so no per-set array is
 * ever written. Sets that share an indicator (the same RSI period, the
 * same Bollinger window, ...) form one task and advance in lockstep over
 * one computation of it.
 *
 * The rules and the fill model are defined by the pure-Python reference
 * (python/fastpar/reference/strategies.py) and documented in
 * docs/sweeps.md; this code follows the reference's arithmetic operation
 * by operation, so both give the same doubles (the Sharpe ratio aside,
 * whose mean and deviation are summed differently).
 *
 * Usage:
 *     fp_sweep sw;
 *     fp_sweep_init(&sw, FP_RSI_THRESHOLD, &bars, params, n_sets, &costs, out);
 *     fp_pool_run(fp_sweep_task, &sw, sw.n_tasks, nthreads, NULL);
 *     fp_sweep_free(&sw);
 * or fp_sweep_run(...) for the same in one call.
 *
 * A backtest of signal arrays (fp_backtest, below) runs the user's own
 * entries and exits, one column per backtest, through the same account:
 * the same fill model, costs, stops and metrics as a sweep.
 *
 * Thread safety: tasks of one sweep may run on any threads at once; each
 * writes only the result rows of its own sets and keeps its state on its
 * own stack. fp_sweep_cancel and fp_sweep_done may be called from any
 * thread.
 */
#ifndef FP_STRATEGIES_H
#define FP_STRATEGIES_H

#include <stdatomic.h>
#include <stddef.h>

#include "status.h"

enum fp_strategy {
    FP_RSI_THRESHOLD = 0, /* period, low, high */
    FP_MA_CROSS = 1,      /* fast, slow, kind (FP_MA_SMA or FP_MA_EMA) */
    FP_BBANDS_REVERSION = 2, /* period, nbdev */
    FP_ENVELOPE = 3,      /* period, deviation */
    FP_BIGBAR = 4,        /* atr_period, k_atr, tail_ratio, breakout, rsi_period, rsi_max */
    FP_N_STRATEGIES = 5
};

enum { FP_MA_SMA = 0, FP_MA_EMA = 1 };

#define FP_SWEEP_MAX_PARAMS 6
/* total_return, sharpe, max_drawdown, n_trades, win_rate, profit_factor,
 * exposure - in this order, one row per set. */
#define FP_SWEEP_N_METRICS 7
/* Most sets advanced in lockstep by one task. */
#define FP_SWEEP_GROUP 16
/* The account's starting cash (the metrics do not depend on it, but the
 * rounding thresholds of the fill model do, as in vectorbt). */
#define FP_SWEEP_INIT_CASH 100.0

/* The bars: `close` always, `high` and `low` for FP_BIGBAR (else may be
 * NULL); all finite. */
typedef struct {
    const double *high, *low, *close;
    size_t n;
} fp_sweep_bars;

/* Costs and mode. stop_loss / take_profit: fractions of the entry bar's
 * close, NaN = off. longshort: 0 = long only, 1 = entries long, exits
 * short, each reversing the other. */
typedef struct {
    double fees, slippage, spread, stop_loss, take_profit, periods_per_year;
    int longshort;
} fp_costs;

typedef struct {
    /* Set by fp_sweep_init, read-only afterwards. */
    int strategy;
    const fp_sweep_bars *assets; /* n_assets series (the caller's), each run on every set */
    size_t n_assets;
    fp_costs costs;
    size_t n_sets;
    const double *params; /* n_sets rows of fp_strategy_n_params values */
    double *out;          /* n_assets * n_sets rows of FP_SWEEP_N_METRICS, asset-major */
    size_t tasks_per_asset;
    size_t n_tasks;       /* n_assets * tasks_per_asset: task i is asset i / tasks_per_asset */
    size_t *order;        /* set indices, grouped by shared indicator */
    size_t *task_start;   /* an asset's task i runs order[task_start[i] .. task_start[i+1]) */
    size_t bad_asset;     /* after FP_EINVAL or FP_ENONFINITE for bars: which asset */

    atomic_size_t done; /* sets finished, over all assets */
    atomic_int cancel;  /* non-zero: running tasks stop early */
    /* Optional, set by the caller after fp_sweep_init: a counter of its
     * own that tasks also add their finished sets to. */
    atomic_size_t *progress;
} fp_sweep;

/* Number of parameters of `strategy`, or -1 if unknown. */
int fp_strategy_n_params(int strategy);

/* FP_OK if `params` (fp_strategy_n_params values) is a valid set for
 * `strategy`, else FP_EINVAL. Integers must be whole doubles. */
int fp_sweep_check_params(int strategy, const double *params);

/* FP_OK if the costs are usable: fees, slippage in [0, 1), spread >= 0,
 * stops NaN or > 0, periods_per_year > 0, longshort 0 or 1. */
int fp_sweep_check_costs(const fp_costs *costs);

/* Check everything (FP_EINVAL for a bad strategy, set, cost or missing
 * column, FP_ENONFINITE for a non-finite bar) and plan the tasks.
 * Returns FP_OK, FP_EINVAL, FP_ENONFINITE or FP_ENOMEM; on FP_OK the
 * sweep must be freed with fp_sweep_free. `bars` is kept, not copied: it
 * must stay valid until then. */
int fp_sweep_init(fp_sweep *sw, int strategy, const fp_sweep_bars *bars, const double *params,
                  size_t n_sets, const fp_costs *costs, double *out);

/* The same over several assets at once, one job for all: `assets` (kept,
 * not copied: valid until fp_sweep_free) may differ in length; `out` has
 * n_assets * n_sets rows, asset after asset. When an asset's bars are
 * refused, sw->bad_asset says which. */
int fp_sweep_init_assets(fp_sweep *sw, int strategy, const fp_sweep_bars *assets,
                         size_t n_assets, const double *params, size_t n_sets,
                         const fp_costs *costs, double *out);

/* Pool task: the sets of task `index`. FP_OK, or FP_ECANCELLED if the
 * sweep was cancelled (its rows are then unspecified). */
int fp_sweep_task(void *ctx, size_t index);

/* Sets finished so far; stop running tasks early. Any thread. */
size_t fp_sweep_done(const fp_sweep *sw);
void fp_sweep_cancel(fp_sweep *sw);

void fp_sweep_free(fp_sweep *sw);

/* init + run on the pool (nthreads as fp_job_submit) + free. */
int fp_sweep_run(int strategy, const fp_sweep_bars *bars, const double *params, size_t n_sets,
                 const fp_costs *costs, double *out, int nthreads);

/* ------------------------------------------------------------------ */
/* Backtests of signal arrays                                          */
/* ------------------------------------------------------------------ */

/* The user's signals and closes, column j of bar t read as
 *     close[t * close_row + j * close_col]          (elements)
 *     entries[t * entries_row + j * entries_col]    (bytes, non-zero = signal)
 * and the same for exits, so that any NumPy layout (C or Fortran order, a
 * strided view) is read in place; a stride of 0 gives every column the
 * same series (one close for all columns, or the same signals on several
 * closes). Closes must be finite. */
typedef struct {
    const double *close;
    const unsigned char *entries, *exits;
    ptrdiff_t close_row, close_col, entries_row, entries_col, exits_row, exits_col;
    size_t n_bars, n_cols;
} fp_signals;

typedef struct {
    /* Set by fp_backtest_init, read-only afterwards. */
    fp_signals sig; /* the caller's buffers, kept, not copied */
    fp_costs costs;
    double *out;  /* n_cols rows of FP_SWEEP_N_METRICS */
    size_t group; /* columns per task: task i runs columns [i * group, ...) */
    size_t n_tasks;

    atomic_int cancel; /* non-zero: running tasks stop early */
} fp_backtest;

/* Check everything (FP_EINVAL for bad costs or missing buffers,
 * FP_ENONFINITE for a close that is not finite) and plan the tasks. Nothing
 * is allocated: there is nothing to free. */
int fp_backtest_init(fp_backtest *bt, const fp_signals *sig, const fp_costs *costs, double *out);

/* Pool task: the columns of task `index`. FP_OK, or FP_ECANCELLED if the
 * backtest was cancelled (its rows are then unspecified). */
int fp_backtest_task(void *ctx, size_t index);

/* Stop running tasks early. Any thread. */
void fp_backtest_cancel(fp_backtest *bt);

/* init + run on the pool (nthreads as fp_job_submit). */
int fp_backtest_run(const fp_signals *sig, const fp_costs *costs, double *out, int nthreads);

#endif
