/*
 * scenario.h - one batch_orchestrator trading scenario over one symbol's
 * ticks (pure C, no Python.h).
 *
 * The definition is python/fastpar/reference/scenario.py (its module
 * docstring lists the rules in tick order); this kernel follows it rule for
 * rule, with the same floating-point evaluation order, so that trades,
 * fills, delays and counts are identical and amounts agree to the bit (the
 * MACD worker, which no decision logic reads, to rounding).
 *
 * Threading: fp_scenario_run reads the shared tick arrays and the scenario
 * description only, allocates its own scratch memory, and writes only its
 * result, so many scenarios may run at once over the same ticks.
 */
#ifndef FP_SCENARIO_H
#define FP_SCENARIO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Error statuses of fp_scenario_run beyond status.h's. */
#define FP_EUNSORTED 6 /* timestamps go backwards */
#define FP_EEMPTY 7    /* the window holds no tick */
#define FP_ETIMESTAMP 8 /* a tick read lies within one bar span of INT64_MIN (NaT) */

#define FP_SCENARIO_MAX_WORKERS 16
#define FP_BAR_HISTORY_LIMIT 1000
/* Ticks between progress updates. */
#define FP_SCENARIO_PROGRESS_EVERY 2048

/* One symbol's ticks: four arrays of n values, timestamps in ns, sorted. */
typedef struct {
    const int64_t *timestamp;
    const double *bid;
    const double *ask;
    const double *volume;
    size_t n;
} fp_ticks;

enum fp_worker_kind { FP_WORKER_RSI = 0, FP_WORKER_ENVELOPE = 1, FP_WORKER_MACD = 2 };
enum fp_logic_kind { FP_LOGIC_SIMPLE_CONSENSUS = 0, FP_LOGIC_AGGRESSIVE_TREND = 1 };
enum fp_direction { FP_FLAT = 0, FP_BUY = 1, FP_SELL = -1 };

typedef struct {
    int kind;              /* enum fp_worker_kind */
    int period;            /* rsi, envelope */
    double deviation;      /* envelope */
    int fast, slow, signal; /* macd */
    int timeframe_minutes; /* 1, 5, 15, 30, 60, 240, 1440 */
    double load_ms;        /* heavy_* variants: busy CPU time per tick */
} fp_worker_spec;

typedef struct {
    /* The window: tick indices [start, end). */
    size_t start, end;

    int n_workers;
    fp_worker_spec workers[FP_SCENARIO_MAX_WORKERS];
    int rsi_worker;      /* index of "rsi_fast" in workers */
    int envelope_worker; /* index of "envelope_main" in workers */

    /* Decision logic. simple_consensus: th[0..3] = rsi_oversold,
     * rsi_overbought, envelope_lower_threshold, envelope_upper_threshold;
     * aggressive_trend: th[0..2] = rsi_buy_threshold, rsi_sell_threshold,
     * envelope_extremes. */
    int logic; /* enum fp_logic_kind */
    double th[4];
    double min_confidence;
    double lot_size;
    double min_free_margin;

    /* Broker. */
    int digits;
    double tick_value, contract_size, leverage;
    double volume_min, volume_max, volume_step;
    int trade_allowed;
    double initial_balance;
    uint64_t api_latency_seed, market_execution_seed; /* CPython int seeds */
} fp_scenario;

/* Why an order was rejected. */
enum fp_reject {
    FP_REJ_NONE = 0,
    FP_REJ_LOTS_MIN = 1,
    FP_REJ_LOTS_MAX = 2,
    FP_REJ_LOTS_STEP = 3,
    FP_REJ_NOT_TRADEABLE = 4,
    FP_REJ_MARGIN = 5,      /* at send: value = margin needed */
    FP_REJ_MARGIN_FILL = 6  /* at fill: value = margin, value2 = free */
};

enum fp_order_status { FP_ORDER_PENDING = 0, FP_ORDER_EXECUTED = 1, FP_ORDER_REJECTED = 2 };

/* One order as sent (order ids are 1, 2, ... in this order). */
typedef struct {
    int direction;      /* FP_BUY / FP_SELL */
    int status;         /* enum fp_order_status */
    int reject;         /* enum fp_reject */
    int delay;          /* 0 if no delay was drawn */
    int64_t placed_tick;
    int64_t filled_tick; /* 0 if not filled */
    double fill_price, spread_cost;
    double reject_value, reject_value2;
    /* The decision behind it, for the sample signals. */
    double confidence, rsi, position, mid;
    int rsi_hit, env_hit; /* aggressive_trend: which indicator triggered */
} fp_order;

/* One closed trade (position ids are 1, 2, ... in fill order). */
typedef struct {
    int direction;
    int reason; /* 0 reversal, 1 end_of_scenario */
    int64_t position_id;
    int64_t entry_tick, exit_tick;
    double lots, entry_price, exit_price, spread_cost, pnl;
} fp_trade;

typedef struct {
    size_t ticks_processed;
    size_t signals_buy, signals_sell;
    size_t decisions_buy, decisions_sell, decisions_flat;
    size_t orders_sent, orders_executed, orders_rejected;
    size_t total_trades, winning_trades, losing_trades;
    double total_profit, total_loss, max_drawdown, max_equity;
    double balance; /* final balance: the portfolio value */
    double total_spread_cost;
    /* Per worker: bar-only recomputations (the first tick's included). */
    size_t bar_computations[FP_SCENARIO_MAX_WORKERS];
    /* Per worker: completed bars of its timeframe seen on the first tick. */
    size_t warmup_bars[FP_SCENARIO_MAX_WORKERS];
    /* Owned by the result (malloc'd by fp_scenario_run), freed by
     * fp_scenario_result_free. */
    fp_order *orders;
    size_t n_orders;
    fp_trade *trades;
    size_t n_trades;
} fp_scenario_result;

/* Run one scenario. `progress` (optional) is set to the window ticks done
 * so far every FP_SCENARIO_PROGRESS_EVERY ticks and at the end; when
 * `cancel` (optional) becomes nonzero the run stops within a tick and
 * returns FP_ECANCELLED. Returns FP_OK, FP_EINVAL (bad description),
 * FP_EEMPTY (start >= end), FP_EUNSORTED, FP_ENONFINITE (NaN or inf in the
 * ticks read), FP_ETIMESTAMP (a tick read too close to INT64_MIN for its bar
 * start to fit), FP_ENOMEM. On error the result holds no arrays. */
int fp_scenario_run(const fp_ticks *ticks, const fp_scenario *sc, fp_scenario_result *res,
                    atomic_size_t *progress, const atomic_int *cancel);

void fp_scenario_result_free(fp_scenario_result *res);

/* A short text for a status of fp_scenario_run. */
const char *fp_scenario_strerror(int status);

/* ---- building blocks, exposed for tests --------------------------------- */

/* CPython's random.Random: MT19937 seeded by init_by_array from the 32-bit
 * words of a non-negative int seed. */
typedef struct {
    uint32_t mt[624];
    int mti;
} fp_pyrandom;

void fp_pyrandom_seed(fp_pyrandom *r, uint64_t seed);
uint32_t fp_pyrandom_uint32(fp_pyrandom *r);
/* random.Random.randint(a, b), b >= a. */
int64_t fp_pyrandom_randint(fp_pyrandom *r, int64_t a, int64_t b);

/* OHLC bars of one timeframe: the open bar and the last `cap` completed. */
typedef struct {
    int64_t start_ns;
    double open, high, low, close, volume;
    int64_t tick_count;
} fp_bar;

typedef struct {
    int64_t span_ns;
    fp_bar *ring; /* cap slots */
    size_t cap, head, count; /* completed bars: ring[(head + i) % cap] */
    fp_bar current;
    int has_current;
    uint64_t version; /* bumped whenever a bar completes */
} fp_bars;

int fp_bars_init(fp_bars *b, int64_t span_ns, size_t cap);
void fp_bars_free(fp_bars *b);
/* Add one tick; returns 1 if it completed the open bar. Needs
 * ts >= INT64_MIN + span_ns, so that the bar's start fits in an int64. */
int fp_bars_add(fp_bars *b, int64_t ts, double mid, double volume);
/* The i-th completed bar, oldest first. */
const fp_bar *fp_bars_get(const fp_bars *b, size_t i);

#endif
