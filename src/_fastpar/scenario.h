/*
 * scenario.h - one batch_orchestrator trading scenario over one window of
 * one symbol's ticks (pure C, no Python.h).
 *
 * The definition is python/fastpar/reference/scenario.py (its module
 * docstring lists the rules in tick order, as the batch_orchestrator API's
 * own tick loop applies them); this engine follows it rule for rule, with
 * the same floating-point evaluation order, so that every count, fill and
 * amount is the reference's to the bit.
 *
 * Inputs are what the data layer prepared: the window's ticks and, per
 * timeframe, the completed warm-up bars before the window. Where a scenario
 * has parts written in Python (USER workers or a USER decision logic), the
 * engine calls a hook once per tick (fp_scenario_hooks); the hook reads the
 * engine's state and trades through the fp_engine_* functions below. The
 * engine itself never calls into Python and never takes a lock.
 *
 * Threading: an engine reads the shared tick and bar arrays and the
 * scenario description only, allocates its own memory, and writes only its
 * own state, so many scenarios may run at once over the same arrays.
 */
#ifndef FP_SCENARIO_H
#define FP_SCENARIO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Error statuses of fp_scenario_run beyond status.h's. */
#define FP_EUNSORTED 6   /* timestamps go backwards */
#define FP_EEMPTY 7      /* the window holds no tick */
#define FP_ETIMESTAMP 8  /* a tick time too close to INT64_MIN for its bar start (NaT) */
#define FP_ESYMBOL 9     /* the broker has no such symbol: fails on the first tick */
#define FP_EHOOK 10      /* the hook failed (its error is the hook's to report) */
#define FP_EWORKER 11    /* a heavy envelope worker saw fewer bars than its period */

#define FP_SCENARIO_MAX_WORKERS 32
#define FP_SCENARIO_MAX_TIMEFRAMES 8
#define FP_BAR_HISTORY_LIMIT 1000
/* Ticks between progress updates. */
#define FP_SCENARIO_PROGRESS_EVERY 2048

/* The window's ticks: four arrays of n values, timestamps in ns. */
typedef struct {
    const int64_t *timestamp;
    const double *bid;
    const double *ask;
    const double *volume;
    size_t n;
} fp_ticks;

/* One OHLC bar; start_ns is its start time. */
typedef struct {
    int64_t start_ns;
    double open, high, low, close, volume;
    int64_t tick_count;
} fp_bar;

typedef struct {
    int minutes;         /* 1 .. 1440, a divisor of a day */
    int rendered;        /* some worker's timeframe: the window's ticks build bars */
    int in_history;      /* in bar_history: some worker asked for its warm-up */
    const fp_bar *warmup; /* completed bars before the window, oldest first */
    size_t n_warmup;      /* only the last FP_BAR_HISTORY_LIMIT are kept */
} fp_timeframe_spec;

enum fp_worker_kind {
    FP_WORKER_RSI = 0,
    FP_WORKER_ENVELOPE = 1,
    FP_WORKER_MACD = 2, /* CORE/heavy_macd's simplified MACD */
    FP_WORKER_USER = 3  /* computed by the hook */
};

typedef struct {
    int kind;          /* enum fp_worker_kind */
    int timeframe;     /* index into the scenario's timeframes; -1 for USER */
    int period;        /* rsi, envelope */
    double deviation;  /* envelope */
    int fast, slow;    /* macd */
    int heavy;         /* a CORE/heavy_* type */
    double load_ms;    /* heavy: busy CPU time per tick */
} fp_worker_spec;

enum fp_logic_kind {
    FP_LOGIC_SIMPLE_CONSENSUS = 0,
    FP_LOGIC_AGGRESSIVE_TREND = 1,
    FP_LOGIC_USER = 2 /* decided and executed by the hook */
};
enum fp_direction { FP_FLAT = 0, FP_BUY = 1, FP_SELL = -1 };

typedef struct {
    int n_timeframes;
    fp_timeframe_spec timeframes[FP_SCENARIO_MAX_TIMEFRAMES];
    int n_workers;
    fp_worker_spec workers[FP_SCENARIO_MAX_WORKERS];
    int has_user_workers; /* the hook runs on every tick */

    /* Decision logic. simple_consensus: th = rsi_oversold, rsi_overbought,
     * envelope_lower_threshold, envelope_upper_threshold; aggressive_trend:
     * th = rsi_buy_threshold, rsi_sell_threshold, envelope_extremes. Both
     * read the workers rsi_worker ("rsi_fast") and envelope_worker
     * ("envelope_main"). */
    int logic;
    double th[4];
    double min_confidence, lot_size, min_free_margin;
    int rsi_worker, envelope_worker;

    /* Broker: the symbol's specification and the account. */
    int symbol_known;       /* else the first tick fails (FP_ESYMBOL) */
    int digits;
    double tick_value;
    double leverage;
    double margin_contract_size; /* calculate_margin: lots * this * margin_price / leverage */
    double margin_price;
    double volume_min, volume_max, volume_step;
    int trade_allowed;
    double initial_balance;
    uint64_t api_latency_seed, market_execution_seed; /* CPython int seeds */
    int compensated_sum; /* sums over positions as sum() of CPython >= 3.12 */
} fp_scenario;

/* ---- results ------------------------------------------------------------- */

enum fp_order_status {
    FP_ORDER_PENDING = 0,      /* never filled: still pending at the end */
    FP_ORDER_EXECUTED = 1,
    FP_ORDER_REJECTED = 2,     /* at send */
    FP_ORDER_FILL_REJECTED = 3 /* at fill: the margin was missing */
};

/* Why an order was refused (at send, or at fill). */
enum fp_reject {
    FP_REJ_NONE = 0,
    FP_REJ_NOT_TRADEABLE = 1, /* the symbol's trade_allowed is false */
    FP_REJ_LOTS_MIN = 2,      /* value = lots, value2 = volume_min */
    FP_REJ_LOTS_MAX = 3,      /* value = lots, value2 = volume_max */
    FP_REJ_LOTS_STEP = 4,     /* value = lots, value2 = volume_step */
    FP_REJ_MARGIN = 5,        /* at send: value = the estimated margin */
    FP_REJ_MARGIN_FILL = 6,   /* at fill: value = margin required, value2 = free */
    FP_REJ_ORDER_TYPE = 7     /* not a market order (hook only): value = its kind */
};

/* One send_order call, in call order. */
typedef struct {
    int64_t number;       /* the simulator's order number (order_<n>) */
    int64_t pending_id;   /* the execution engine's (ord_<n>), 0 if never pending */
    int direction;        /* FP_BUY / FP_SELL */
    int status;           /* enum fp_order_status */
    int reject;           /* enum fp_reject */
    int64_t placed_tick;  /* tick number, 1-based within the window */
    int64_t fill_at_tick; /* 0 if never pending */
    int64_t filled_tick;  /* 0 if not filled */
    int64_t position_id;  /* pos_<n> opened by the fill, 0 if none */
    double lots, fill_price, spread_cost;
    double reject_value, reject_value2;
    /* The CORE decision behind it, for the sample signals. */
    double confidence, rsi, position, mid;
    int rsi_hit, env_hit;
} fp_order;

enum fp_close_reason { FP_CLOSE_DECISION = 0, FP_CLOSE_END = 1 };

/* One closed position, in closing order. */
typedef struct {
    int64_t position_id;
    int direction;
    int reason; /* enum fp_close_reason */
    int64_t entry_tick, exit_tick;
    double lots, entry_price, exit_price, spread_cost, pnl;
} fp_trade;

typedef struct {
    size_t ticks_processed;
    size_t signals_buy, signals_sell; /* orders that became pending, by decision */
    size_t decisions_buy, decisions_sell, decisions_flat; /* CORE decision logic */
    size_t orders_sent, orders_executed, orders_rejected;
    size_t total_trades, winning_trades, losing_trades;
    double total_profit, total_loss, max_drawdown, max_equity;
    double balance;               /* final balance: the portfolio value */
    double portfolio_spread_cost; /* the spread fees of opened positions */
    double execution_spread_cost; /* ... plus those of fills refused for margin */
    /* Owned by the result, freed by fp_scenario_result_free. */
    fp_order *orders;
    size_t n_orders;
    fp_trade *trades;
    size_t n_trades;
} fp_scenario_result;

void fp_scenario_result_free(fp_scenario_result *res);

/* A short text for a status of fp_scenario_run. */
const char *fp_scenario_strerror(int status);

/* ---- the engine ---------------------------------------------------------- */

typedef struct fp_engine fp_engine;

/* Called once per tick, after the bars and the CORE workers and before a
 * CORE decision logic, when the scenario has USER workers or a USER logic.
 * Returns FP_OK, or any other status to stop the scenario with it. */
typedef struct {
    int (*tick)(void *ctx, fp_engine *engine);
    void *ctx;
} fp_scenario_hooks;

/* Run one scenario. `hooks` may be NULL if the scenario has no USER parts
 * (else FP_EINVAL). `progress` (optional) is set to the ticks done so far
 * every FP_SCENARIO_PROGRESS_EVERY ticks and at the end; when `cancel`
 * (optional) becomes nonzero the run stops within a tick and returns
 * FP_ECANCELLED. Returns FP_OK or an error status; on error the result
 * holds no arrays. */
int fp_scenario_run(const fp_ticks *ticks, const fp_scenario *sc, fp_scenario_result *res,
                    const fp_scenario_hooks *hooks, atomic_size_t *progress,
                    const atomic_int *cancel);

/* ---- for the hook: the engine's state on the current tick ----------------- */

/* The tick being processed: its 0-based index in the window. */
size_t fp_engine_tick_index(const fp_engine *e);

/* Bars of timeframe `tf`: completed bars in the history (oldest first), the
 * bar being built (NULL before the first tick of a rendered timeframe), and
 * how many bars completed since the window started. */
size_t fp_engine_history_len(const fp_engine *e, int tf);
const fp_bar *fp_engine_history_bar(const fp_engine *e, int tf, size_t i);
const fp_bar *fp_engine_current_bar(const fp_engine *e, int tf);
uint64_t fp_engine_bars_completed(const fp_engine *e, int tf);

/* A CORE worker's result on this tick: out[0] = value (rsi; envelope:
 * position), out[1] = confidence, then rsi: avg_gain, avg_loss, bars;
 * envelope: upper, middle, lower, std_dev, bars; macd: macd, signal,
 * histogram, bars. Returns 0 when the worker had too few bars (the
 * insufficient-bars result). */
int fp_engine_worker_result(const fp_engine *e, int worker, double out[8]);

/* Account state, as the simulator's get_account_info. */
typedef struct {
    double balance, equity, margin_used, free_margin, margin_level, total_lots;
    size_t open_positions;
} fp_account;
void fp_engine_account(const fp_engine *e, fp_account *out);

/* Open positions (in opening order) and pending orders (in sending order). */
typedef struct {
    int64_t position_id;
    int direction;
    double lots, entry_price, current_price, unrealized_pnl, spread_cost;
    int64_t entry_tick;
} fp_position_info;
size_t fp_engine_n_positions(const fp_engine *e);
void fp_engine_position(const fp_engine *e, size_t i, fp_position_info *out);

typedef struct {
    int64_t pending_id;
    int direction;
    double lots;
    int64_t placed_tick, fill_at_tick;
} fp_pending_info;
size_t fp_engine_n_pending(const fp_engine *e);
void fp_engine_pending(const fp_engine *e, size_t i, fp_pending_info *out);

/* The API's order types; only market orders are simulated. */
enum fp_order_kind {
    FP_ORDER_MARKET = 0,
    FP_ORDER_LIMIT = 1,
    FP_ORDER_STOP = 2,
    FP_ORDER_STOP_LIMIT = 3,
    FP_ORDER_TRAILING_STOP = 4,
    FP_ORDER_ICEBERG = 5
};

/* send_order of a `kind` order (any but a market order is refused, after
 * the broker's checks). On success *order is the index of its record in
 * the result's orders (whose status says pending or rejected). Returns
 * FP_OK or FP_ENOMEM. */
int fp_engine_send_order(fp_engine *e, int direction, double lots, int kind, size_t *order);
/* close_position by id at this tick's price; *found = 0 if no open
 * position has that id. *pnl = the realized P&L. Returns FP_OK or
 * FP_ENOMEM. */
int fp_engine_close_position(fp_engine *e, int64_t position_id, int *found, double *pnl);
/* The result being filled (orders sent so far, ...), read-only. */
const fp_scenario_result *fp_engine_result(const fp_engine *e);
/* A decision the hook made: counts a generated signal when its order
 * became pending (direction FP_BUY / FP_SELL). */
void fp_engine_count_signal(fp_engine *e, int direction);

/* ---- building blocks, exposed for tests ----------------------------------- */

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

/* NumPy's float64 sum (np.add.reduce of a contiguous array): pairwise,
 * eight accumulators per block of up to 128 values. */
double fp_numpy_sum(const double *x, size_t n);

#endif
