/*
 * scenario.c - one batch_orchestrator scenario (see scenario.h and the
 * rules in python/fastpar/reference/scenario.py's docstring).
 *
 * Every amount is computed with the reference's expressions in the
 * reference's order: NumPy's pairwise sums where the API's workers call
 * np.mean and np.std, CPython's sum() over the open positions, Python's
 * max()/min() tie rules and float modulo, so the results are the
 * reference's doubles.
 *
 * Reading order: CPython's random, NumPy's sum, bars, workers, decision
 * logics, the trade simulator, the tick loop, the hook's view.
 */
#define _POSIX_C_SOURCE 200809L

#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_MINUTE 60000000000LL

/* ======================================================================== */
/* CPython's random.Random                                                  */

#define MT_N 624
#define MT_M 397

static void
mt_init_genrand(fp_pyrandom *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < MT_N; i++)
        r->mt[i] = 1812433253U * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = MT_N;
}

void
fp_pyrandom_seed(fp_pyrandom *r, uint64_t seed)
{
    /* random.seed(int): the 32-bit words of |seed|, least significant
     * first; 0 gives the key [0]. */
    uint32_t key[2];
    int klen = 0;
    key[klen++] = (uint32_t)(seed & 0xFFFFFFFFU);
    if (seed >> 32)
        key[klen++] = (uint32_t)(seed >> 32);

    mt_init_genrand(r, 19650218U);
    uint32_t *mt = r->mt;
    int i = 1, j = 0;
    for (int k = MT_N > klen ? MT_N : klen; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
        if (j >= klen)
            j = 0;
    }
    for (int k = MT_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            mt[0] = mt[MT_N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000U;
}

uint32_t
fp_pyrandom_uint32(fp_pyrandom *r)
{
    static const uint32_t mag01[2] = {0x0U, 0x9908b0dfU};
    uint32_t *mt = r->mt, y;

    if (r->mti >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (mt[kk] & 0x80000000U) | (mt[kk + 1] & 0x7fffffffU);
            mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        for (; kk < MT_N - 1; kk++) {
            y = (mt[kk] & 0x80000000U) | (mt[kk + 1] & 0x7fffffffU);
            mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        y = (mt[MT_N - 1] & 0x80000000U) | (mt[0] & 0x7fffffffU);
        mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
        r->mti = 0;
    }
    y = mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

int64_t
fp_pyrandom_randint(fp_pyrandom *r, int64_t a, int64_t b)
{
    /* randrange(a, b + 1) = a + _randbelow(n), n = b - a + 1: k =
     * n.bit_length(), getrandbits(k) until below n. Only n < 2**32 here. */
    uint64_t n = (uint64_t)(b - a) + 1;
    int k = 0;
    while (k < 64 && (n >> k) != 0)
        k++;
    if (k > 32)
        k = 32; /* never for the delays drawn here */
    uint64_t x;
    do
        x = fp_pyrandom_uint32(r) >> (32 - k);
    while (x >= n);
    return a + (int64_t)x;
}

/* ======================================================================== */
/* NumPy's sum and Python's arithmetic                                      */

double
fp_numpy_sum(const double *x, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += x[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = x[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += x[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += x[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return fp_numpy_sum(x, n2) + fp_numpy_sum(x + n2, n - n2);
}

static double
py_max(double a, double b) /* Python's max(a, b): the first of equals */
{
    return b > a ? b : a;
}

static double
py_min(double a, double b) /* Python's min(a, b) */
{
    return b < a ? b : a;
}

static double
py_mod(double a, double b) /* Python's a % b for b > 0 */
{
    double m = fmod(a, b);
    if (m != 0.0) {
        if (m < 0.0)
            m += b;
    } else {
        m = copysign(0.0, b);
    }
    return m;
}

/* sum() over doubles: left to right from 0, or (CPython >= 3.12)
 * Neumaier's compensated sum that CPython's sum() of floats uses. */
typedef struct {
    double s, c;
    int compensated, n;
} py_sum;

static void
py_sum_add(py_sum *p, double x)
{
    if (p->n++ == 0) { /* 0 + x: the int start turns into the float x */
        p->s = 0.0 + x;
        return;
    }
    double t = p->s + x;
    if (p->compensated) {
        if (fabs(p->s) >= fabs(x))
            p->c += (p->s - t) + x;
        else
            p->c += (x - t) + p->s;
    }
    p->s = t;
}

static double
py_sum_value(const py_sum *p)
{
    if (p->compensated && p->c != 0.0 && isfinite(p->c))
        return p->s + p->c;
    return p->s;
}

/* ======================================================================== */
/* Bars                                                                     */

typedef struct {
    int64_t span_ns;
    fp_bar *ring; /* FP_BAR_HISTORY_LIMIT slots */
    size_t head, count; /* completed bars: ring[(head + i) % limit] */
    fp_bar current;
    int has_current;
    uint64_t completed; /* bars completed since the window started */
    uint64_t version;   /* bumped whenever the history changes */
} bars_t;

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0)
        q--;
    return q;
}

static void
bars_push(bars_t *b, const fp_bar *bar)
{
    if (b->count == FP_BAR_HISTORY_LIMIT) { /* drop the oldest */
        b->head = (b->head + 1) % FP_BAR_HISTORY_LIMIT;
        b->count--;
    }
    b->ring[(b->head + b->count) % FP_BAR_HISTORY_LIMIT] = *bar;
    b->count++;
    b->version++;
}

static const fp_bar *
bars_get(const bars_t *b, size_t i)
{
    return &b->ring[(b->head + i) % FP_BAR_HISTORY_LIMIT];
}

/* One tick into the bar being built, as the API's bar renderer: a tick in
 * a later bar start completes the current bar; a bar's first update sets
 * open, high and low (the test is `open == 0`). */
static void
bars_add(bars_t *b, int64_t ts, double mid, double volume)
{
    int64_t start = floor_div(ts, b->span_ns) * b->span_ns;
    fp_bar *cur = &b->current;
    if (!b->has_current || cur->start_ns != start) {
        if (b->has_current) {
            bars_push(b, cur);
            b->completed++;
        }
        memset(cur, 0, sizeof *cur);
        cur->start_ns = start;
        b->has_current = 1;
    }
    if (cur->open == 0) {
        cur->open = cur->high = cur->low = mid;
    } else {
        cur->high = py_max(cur->high, mid);
        cur->low = py_min(cur->low, mid);
    }
    cur->close = mid;
    cur->volume += volume;
    cur->tick_count++;
}

/* ======================================================================== */
/* Workers                                                                  */

typedef struct {
    const fp_worker_spec *spec;
    uint64_t cached_version;
    int have_cache;
    int ready;      /* enough bars */
    int nbars;      /* bars seen */
    double value;   /* rsi value */
    double upper, middle, lower, std_dev;
    double avg_gain, avg_loss;
    double macd[3];
    double confidence;
} worker_t;

static volatile uint32_t load_sink;

static double
now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Busy CPU work for `ms` milliseconds (the heavy workers' load); nothing it
 * computes is kept. */
static void
artificial_load(double ms, const atomic_int *cancel)
{
    if (!(ms > 0))
        return;
    double deadline = now_seconds() + ms / 1000.0;
    uint32_t x = 1;
    while (now_seconds() < deadline) {
        for (int i = 0; i < 32; i++)
            x = (x * 1103515245U + 12345U) & 0x7FFFFFFFU;
        if (cancel != NULL && atomic_load_explicit(cancel, memory_order_relaxed))
            break;
    }
    load_sink = x;
}

/* The closes of the last n bars of the history, oldest first. */
static void
last_closes(const bars_t *b, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bars_get(b, b->count - n + i)->close;
}

/* The part of a worker's result that depends on the bars only; `b` is
 * NULL when its timeframe is not in the history (no bars). `scratch` holds
 * 3 * FP_BAR_HISTORY_LIMIT doubles. */
static int
worker_from_bars(worker_t *w, const bars_t *b, double *scratch)
{
    const fp_worker_spec *s = w->spec;
    size_t nb = b != NULL ? b->count : 0;
    w->nbars = (int)nb;
    switch (s->kind) {
    case FP_WORKER_RSI: {
        size_t p = (size_t)s->period;
        w->ready = nb >= p + 1;
        if (!w->ready) {
            w->value = 50.0;
            w->confidence = 0.0;
            return FP_OK;
        }
        double *closes = scratch, *gains = scratch + FP_BAR_HISTORY_LIMIT;
        double *losses = gains + FP_BAR_HISTORY_LIMIT;
        last_closes(b, p + 1, closes);
        for (size_t j = 0; j < p; j++) {
            double d = closes[j + 1] - closes[j];
            gains[j] = d > 0 ? d : 0.0;
        }
        for (size_t j = 0; j < p; j++) {
            double d = closes[j + 1] - closes[j];
            losses[j] = d < 0 ? -d : 0.0;
        }
        w->avg_gain = fp_numpy_sum(gains, p) / (double)p;
        w->avg_loss = fp_numpy_sum(losses, p) / (double)p;
        if (w->avg_loss == 0)
            w->value = 100.0;
        else
            w->value = 100.0 - 100.0 / (1.0 + w->avg_gain / w->avg_loss);
        w->confidence = py_min(1.0, (double)nb / (double)(p * 2));
        return FP_OK;
    }
    case FP_WORKER_ENVELOPE: {
        size_t p = (size_t)s->period;
        w->ready = nb >= p;
        if (!w->ready) {
            w->upper = w->middle = w->lower = 0.0;
            w->confidence = 0.0;
            /* CORE/heavy_envelope builds its too-few-bars result with a
             * misspelt keyword, which raises. */
            return s->heavy ? FP_EWORKER : FP_OK;
        }
        double *closes = scratch, *sq = scratch + FP_BAR_HISTORY_LIMIT;
        last_closes(b, p, closes);
        /* np.mean, then np.std: the mean again, squared deviations, their
         * pairwise sum over p. */
        double mean = fp_numpy_sum(closes, p) / (double)p;
        for (size_t j = 0; j < p; j++) {
            double d = closes[j] - mean;
            sq[j] = d * d;
        }
        w->std_dev = sqrt(fp_numpy_sum(sq, p) / (double)p);
        w->middle = mean;
        w->upper = mean + w->std_dev * s->deviation;
        w->lower = mean - w->std_dev * s->deviation;
        w->confidence = py_min(1.0, (double)nb / (double)(p * 2));
        return FP_OK;
    }
    case FP_WORKER_MACD: {
        w->ready = nb >= (size_t)s->slow;
        if (!w->ready) {
            w->macd[0] = w->macd[1] = w->macd[2] = 0.0;
            w->confidence = 0.0;
            return FP_OK;
        }
        /* An EMA seeded with the first close, over every bar kept. */
        double ema[2];
        const int periods[2] = {s->fast, s->slow};
        for (int k = 0; k < 2; k++) {
            double alpha = 2.0 / (double)(periods[k] + 1);
            double e = bars_get(b, 0)->close;
            for (size_t i = 1; i < nb; i++)
                e = alpha * bars_get(b, i)->close + (1 - alpha) * e;
            ema[k] = e;
        }
        w->macd[0] = ema[0] - ema[1];
        w->macd[1] = w->macd[0] * 0.9;
        w->macd[2] = w->macd[0] - w->macd[1];
        w->confidence = 1.0;
        return FP_OK;
    }
    default:
        return FP_OK; /* USER: the hook computes it */
    }
}

/* The envelope's position of this tick's mid between its bands. */
static double
envelope_position(const worker_t *w, double mid)
{
    if (!w->ready)
        return 0.5; /* the result has no position: the logics read 0.5 */
    if (w->upper == w->lower)
        return 0.5;
    double pos = (mid - w->lower) / (w->upper - w->lower);
    return py_max(0.0, py_min(1.0, pos));
}

/* ======================================================================== */
/* Decision logics                                                          */

typedef struct {
    int action; /* FP_BUY, FP_SELL, FP_FLAT */
    double confidence;
    int rsi_hit, env_hit;
} decision;

static decision
decide(const fp_scenario *sc, double rsi, double pos)
{
    decision d = {FP_FLAT, 0.5, 0, 0};
    const double *th = sc->th;
    if (sc->logic == FP_LOGIC_SIMPLE_CONSENSUS) {
        if (rsi <= th[0] && pos <= th[2]) {
            double rs = py_max(0.0, (th[0] - rsi) / 30.0);
            double es = py_max(0.0, (th[2] - pos) / 0.3);
            double c = py_max(0.5, py_min(1.0, 0.5 + (rs + es) / 2.0 * 0.5));
            if (c >= sc->min_confidence)
                return (decision){FP_BUY, c, 0, 0};
        }
        if (rsi >= th[1] && pos >= th[3]) {
            double rs = py_max(0.0, (rsi - th[1]) / 30.0);
            double es = py_max(0.0, (pos - th[3]) / 0.3);
            double c = py_max(0.5, py_min(1.0, 0.5 + (rs + es) / 2.0 * 0.5));
            if (c >= sc->min_confidence)
                return (decision){FP_SELL, c, 0, 0};
        }
        return d;
    }
    /* aggressive_trend: either indicator is enough. */
    int rsi_buy = rsi < th[0], env_buy = pos < th[2];
    if (rsi_buy || env_buy) {
        double c = 0.4;
        if (rsi_buy)
            c += (th[0] - rsi) / th[0] * 0.3;
        if (env_buy)
            c += (th[2] - pos) / th[2] * 0.3;
        c = py_min(1.0, c);
        if (c >= sc->min_confidence)
            return (decision){FP_BUY, c, rsi_buy, env_buy};
    }
    int rsi_sell = rsi > th[1], env_sell = pos > 1.0 - th[2];
    if (rsi_sell || env_sell) {
        double c = 0.4;
        if (rsi_sell)
            c += (rsi - th[1]) / (100 - th[1]) * 0.3;
        if (env_sell)
            c += (pos - (1.0 - th[2])) / th[2] * 0.3;
        c = py_min(1.0, c);
        if (c >= sc->min_confidence)
            return (decision){FP_SELL, c, rsi_sell, env_sell};
    }
    return d;
}

/* ======================================================================== */
/* The trade simulator                                                      */

typedef struct {
    int64_t id;
    int direction;
    double lots, entry_price, current_price, unrealized, fee;
    int64_t entry_tick;
} position_t;

typedef struct {
    int64_t pending_id;
    size_t order; /* index into res->orders */
    int direction;
    double lots;
    int64_t placed_tick, fill_at;
} pending_t;

struct fp_engine {
    const fp_scenario *sc;
    const fp_ticks *ticks;
    fp_scenario_result *res;
    const atomic_int *cancel;
    double point_scale; /* 10 ** digits */
    size_t tick_index;
    int64_t tick; /* the simulator's tick counter: 1, 2, ... */
    double bid, ask;
    double balance;
    fp_pyrandom api, exec;
    int64_t order_counter, pending_counter, position_counter;

    position_t *pos;
    size_t n_pos, cap_pos;
    pending_t *pend;
    size_t n_pend, cap_pend;
    size_t cap_orders, cap_trades;

    bars_t bars[FP_SCENARIO_MAX_TIMEFRAMES];
    worker_t workers[FP_SCENARIO_MAX_WORKERS];
    double *scratch; /* 3 * FP_BAR_HISTORY_LIMIT doubles for the workers */
};

static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return FP_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * size);
    if (p == NULL)
        return FP_ENOMEM;
    *arr = p;
    *cap = c;
    return FP_OK;
}

static py_sum
new_sum(const fp_engine *e)
{
    return (py_sum){0.0, 0.0, e->sc->compensated_sum, 0};
}

/* get_equity(): balance + the open positions' unrealized P&L. */
static double
sim_equity(const fp_engine *e)
{
    py_sum u = new_sum(e);
    for (size_t i = 0; i < e->n_pos; i++)
        py_sum_add(&u, e->pos[i].unrealized);
    return e->balance + py_sum_value(&u);
}

void
fp_engine_account(const fp_engine *e, fp_account *out)
{
    /* The account's margin counts a fixed contract size of 100,000. */
    py_sum used = new_sum(e), lots = new_sum(e);
    for (size_t i = 0; i < e->n_pos; i++) {
        const position_t *p = &e->pos[i];
        py_sum_add(&used, p->lots * 100000 * p->entry_price / e->sc->leverage);
        py_sum_add(&lots, p->lots);
    }
    out->balance = e->balance;
    out->equity = sim_equity(e);
    out->margin_used = py_sum_value(&used);
    out->free_margin = out->equity - out->margin_used;
    out->margin_level = out->margin_used > 0 ? out->equity / out->margin_used * 100 : 0.0;
    out->total_lots = py_sum_value(&lots);
    out->open_positions = e->n_pos;
}

static double
sim_free_margin(const fp_engine *e)
{
    fp_account a;
    fp_engine_account(e, &a);
    return a.free_margin;
}

static void
sim_mark(fp_engine *e, position_t *p)
{
    double diff;
    if (p->direction == FP_BUY) {
        p->current_price = e->bid;
        diff = p->current_price - p->entry_price;
    } else {
        p->current_price = e->ask;
        diff = p->entry_price - p->current_price;
    }
    double points = diff * e->point_scale;
    p->unrealized = points * e->sc->tick_value * p->lots - p->fee;
}

/* A pending order whose delay is over fills at this tick's price, unless
 * the margin the broker file asks for exceeds the free margin; its spread
 * counts in the execution statistics either way. */
static int
sim_fill(fp_engine *e, const pending_t *pd)
{
    const fp_scenario *sc = e->sc;
    fp_scenario_result *r = e->res;
    fp_order *o = &r->orders[pd->order];
    double price = pd->direction == FP_BUY ? e->ask : e->bid;
    double cost = fabs((e->ask - e->bid) * e->point_scale * sc->tick_value * pd->lots);
    r->execution_spread_cost += cost;
    double required = pd->lots * sc->margin_contract_size * sc->margin_price / sc->leverage;
    double free = sim_free_margin(e);
    if (required > free) {
        r->orders_rejected++;
        o->status = FP_ORDER_FILL_REJECTED;
        o->reject = FP_REJ_MARGIN_FILL;
        o->reject_value = required;
        o->reject_value2 = free;
        return FP_OK;
    }
    if (grow((void **)&e->pos, &e->cap_pos, e->n_pos + 1, sizeof *e->pos) != FP_OK)
        return FP_ENOMEM;
    position_t *p = &e->pos[e->n_pos++];
    p->id = ++e->position_counter;
    p->direction = pd->direction;
    p->lots = pd->lots;
    p->entry_price = price;
    p->current_price = 0.0;
    p->unrealized = 0.0;
    p->fee = cost;
    p->entry_tick = e->tick;
    r->portfolio_spread_cost += cost;
    r->orders_executed++;
    o->status = FP_ORDER_EXECUTED;
    o->filled_tick = e->tick;
    o->fill_price = price;
    o->spread_cost = cost;
    o->position_id = p->id;
    return FP_OK;
}

/* update_prices: fill the pending orders that are due, in sending order,
 * then mark every open position to this tick's prices. */
static int
sim_update(fp_engine *e, double bid, double ask)
{
    e->tick++;
    e->bid = bid;
    e->ask = ask;
    size_t kept = 0;
    for (size_t i = 0; i < e->n_pend; i++) {
        pending_t pd = e->pend[i];
        if (pd.fill_at <= e->tick) {
            int st = sim_fill(e, &pd);
            if (st != FP_OK)
                return st;
        } else {
            e->pend[kept++] = pd;
        }
    }
    e->n_pend = kept;
    for (size_t i = 0; i < e->n_pos; i++)
        sim_mark(e, &e->pos[i]);
    return FP_OK;
}

static int
sim_close_at(fp_engine *e, size_t i, int reason)
{
    fp_scenario_result *r = e->res;
    if (grow((void **)&r->trades, &e->cap_trades, r->n_trades + 1, sizeof *r->trades) != FP_OK)
        return FP_ENOMEM;
    position_t p = e->pos[i];
    memmove(&e->pos[i], &e->pos[i + 1], (e->n_pos - i - 1) * sizeof *e->pos);
    e->n_pos--;
    double pnl = p.unrealized; /* as marked on this tick */
    e->balance += pnl;
    fp_trade *t = &r->trades[r->n_trades++];
    t->position_id = p.id;
    t->direction = p.direction;
    t->reason = reason;
    t->entry_tick = p.entry_tick;
    t->exit_tick = e->tick;
    t->lots = p.lots;
    t->entry_price = p.entry_price;
    t->exit_price = p.direction == FP_BUY ? e->bid : e->ask;
    t->spread_cost = p.fee;
    t->pnl = pnl;
    r->total_trades++;
    if (pnl > 0) {
        r->winning_trades++;
        r->total_profit += pnl;
    } else {
        r->losing_trades++;
        r->total_loss += fabs(pnl);
    }
    double equity = sim_equity(e);
    if (equity > r->max_equity)
        r->max_equity = equity;
    if (r->max_equity - equity > r->max_drawdown)
        r->max_drawdown = r->max_equity - equity;
    return FP_OK;
}

int
fp_engine_close_position(fp_engine *e, int64_t position_id, int *found, double *pnl)
{
    *found = 0;
    for (size_t i = 0; i < e->n_pos; i++) {
        if (e->pos[i].id == position_id) {
            *found = 1;
            *pnl = e->pos[i].unrealized;
            return sim_close_at(e, i, FP_CLOSE_DECISION);
        }
    }
    return FP_OK;
}

/* send_order: the broker's checks (tradeable, lot size and step), then a
 * market order is pending after a delay of api.randint(1, 3) +
 * execution.randint(2, 5) ticks, unless the free margin is below the
 * estimate lots * 100,000 * 1%. */
int
fp_engine_send_order(fp_engine *e, int direction, double lots, int kind, size_t *order)
{
    const fp_scenario *sc = e->sc;
    fp_scenario_result *r = e->res;
    if (grow((void **)&r->orders, &e->cap_orders, r->n_orders + 1, sizeof *r->orders) != FP_OK)
        return FP_ENOMEM;
    *order = r->n_orders;
    fp_order *o = &r->orders[r->n_orders++];
    memset(o, 0, sizeof *o);
    o->number = ++e->order_counter;
    o->direction = direction;
    o->lots = lots;
    o->placed_tick = e->tick;
    r->orders_sent++;

    int rej = FP_REJ_NONE;
    double v1 = 0.0, v2 = 0.0;
    if (!sc->trade_allowed) {
        rej = FP_REJ_NOT_TRADEABLE;
    } else if (lots < sc->volume_min) {
        rej = FP_REJ_LOTS_MIN, v1 = lots, v2 = sc->volume_min;
    } else if (lots > sc->volume_max) {
        rej = FP_REJ_LOTS_MAX, v1 = lots, v2 = sc->volume_max;
    } else if (sc->volume_step > 0 &&
               fabs(py_mod(lots - sc->volume_min, sc->volume_step)) > 1e-8) {
        rej = FP_REJ_LOTS_STEP, v1 = lots, v2 = sc->volume_step;
    } else if (kind != FP_ORDER_MARKET) {
        rej = FP_REJ_ORDER_TYPE, v1 = kind;
    } else {
        double estimate = lots * 100000 * 0.01;
        if (sim_free_margin(e) < estimate)
            rej = FP_REJ_MARGIN, v1 = estimate;
    }
    if (rej != FP_REJ_NONE) {
        r->orders_rejected++;
        o->status = FP_ORDER_REJECTED;
        o->reject = rej;
        o->reject_value = v1;
        o->reject_value2 = v2;
        return FP_OK;
    }
    if (grow((void **)&e->pend, &e->cap_pend, e->n_pend + 1, sizeof *e->pend) != FP_OK)
        return FP_ENOMEM;
    int64_t delay = fp_pyrandom_randint(&e->api, 1, 3);
    delay += fp_pyrandom_randint(&e->exec, 2, 5);
    pending_t *pd = &e->pend[e->n_pend++];
    pd->pending_id = ++e->pending_counter;
    pd->order = *order;
    pd->direction = direction;
    pd->lots = lots;
    pd->placed_tick = e->tick;
    pd->fill_at = e->tick + delay;
    o->status = FP_ORDER_PENDING;
    o->pending_id = pd->pending_id;
    o->fill_at_tick = pd->fill_at;
    return FP_OK;
}

/* A CORE logic's execution of a BUY or SELL: skipped while an order of the
 * same direction is pending; the first open position, if any, is kept if
 * it has this direction and closed otherwise; then an order is sent if
 * the free margin allows. *order is set to the order's index, or -1. */
static int
core_execute(fp_engine *e, const decision *d, ptrdiff_t *order)
{
    *order = -1;
    for (size_t i = 0; i < e->n_pend; i++)
        if (e->pend[i].direction == d->action)
            return FP_OK;
    if (e->n_pos > 0) {
        if (e->pos[0].direction == d->action)
            return FP_OK;
        int st = sim_close_at(e, 0, FP_CLOSE_DECISION);
        if (st != FP_OK)
            return st;
    }
    if (sim_free_margin(e) < e->sc->min_free_margin)
        return FP_OK;
    size_t idx;
    int st = fp_engine_send_order(e, d->action, e->sc->lot_size, FP_ORDER_MARKET, &idx);
    if (st == FP_OK)
        *order = (ptrdiff_t)idx;
    return st;
}

void
fp_engine_count_signal(fp_engine *e, int direction)
{
    if (direction == FP_BUY)
        e->res->signals_buy++;
    else
        e->res->signals_sell++;
}

/* ======================================================================== */
/* The scenario                                                             */

static int
minutes_ok(int m)
{
    return m >= 1 && m <= 1440 && 1440 % m == 0;
}

static int
check_scenario(const fp_ticks *t, const fp_scenario *sc, const fp_scenario_hooks *hooks)
{
    if (t == NULL || sc == NULL || t->timestamp == NULL || t->bid == NULL || t->ask == NULL ||
        t->volume == NULL)
        return FP_EINVAL;
    if (sc->n_timeframes < 0 || sc->n_timeframes > FP_SCENARIO_MAX_TIMEFRAMES ||
        sc->n_workers < 0 || sc->n_workers > FP_SCENARIO_MAX_WORKERS)
        return FP_EINVAL;
    for (int i = 0; i < sc->n_timeframes; i++) {
        const fp_timeframe_spec *tf = &sc->timeframes[i];
        if (!minutes_ok(tf->minutes) || (tf->n_warmup > 0 && tf->warmup == NULL))
            return FP_EINVAL;
    }
    for (int i = 0; i < sc->n_workers; i++) {
        const fp_worker_spec *w = &sc->workers[i];
        if (w->kind == FP_WORKER_USER)
            continue;
        if (w->timeframe < 0 || w->timeframe >= sc->n_timeframes || !(w->load_ms >= 0) ||
            !isfinite(w->load_ms))
            return FP_EINVAL;
        switch (w->kind) {
        case FP_WORKER_RSI:
        case FP_WORKER_ENVELOPE:
            if (w->period < 1 || w->period > FP_MAX_PERIOD || !isfinite(w->deviation))
                return FP_EINVAL;
            break;
        case FP_WORKER_MACD:
            if (w->fast < 1 || w->slow < 1 || w->fast > FP_MAX_PERIOD || w->slow > FP_MAX_PERIOD)
                return FP_EINVAL;
            break;
        default:
            return FP_EINVAL;
        }
    }
    if (sc->logic == FP_LOGIC_SIMPLE_CONSENSUS || sc->logic == FP_LOGIC_AGGRESSIVE_TREND) {
        if (sc->rsi_worker < 0 || sc->rsi_worker >= sc->n_workers ||
            sc->workers[sc->rsi_worker].kind != FP_WORKER_RSI || sc->envelope_worker < 0 ||
            sc->envelope_worker >= sc->n_workers ||
            sc->workers[sc->envelope_worker].kind != FP_WORKER_ENVELOPE)
            return FP_EINVAL;
        for (int k = 0; k < 4; k++)
            if (!isfinite(sc->th[k]))
                return FP_EINVAL;
        if (!isfinite(sc->min_confidence) || !isfinite(sc->lot_size) ||
            !isfinite(sc->min_free_margin))
            return FP_EINVAL;
    } else if (sc->logic != FP_LOGIC_USER) {
        return FP_EINVAL;
    }
    if ((sc->logic == FP_LOGIC_USER || sc->has_user_workers) &&
        (hooks == NULL || hooks->tick == NULL))
        return FP_EINVAL;
    if (!(sc->leverage > 0) || !isfinite(sc->leverage) || !isfinite(sc->tick_value) ||
        sc->digits < -300 || sc->digits > 300 || !isfinite(sc->margin_contract_size) ||
        !isfinite(sc->margin_price) || !isfinite(sc->volume_min) || !isfinite(sc->volume_max) ||
        !isfinite(sc->volume_step) || !isfinite(sc->initial_balance))
        return FP_EINVAL;
    return FP_OK;
}

void
fp_scenario_result_free(fp_scenario_result *res)
{
    if (res == NULL)
        return;
    free(res->orders);
    free(res->trades);
    res->orders = NULL;
    res->trades = NULL;
    res->n_orders = res->n_trades = 0;
}

const char *
fp_scenario_strerror(int status)
{
    switch (status) {
    case FP_OK:
        return "ok";
    case FP_EINVAL:
        return "invalid scenario description";
    case FP_ENOMEM:
        return "out of memory";
    case FP_ENONFINITE:
        return "tick data contains NaN or inf";
    case FP_ECANCELLED:
        return "cancelled";
    case FP_EUNSORTED:
        return "tick timestamps are not sorted";
    case FP_EEMPTY:
        return "the scenario window holds no tick";
    case FP_ETIMESTAMP:
        return "tick timestamp out of range (NaT?)";
    case FP_ESYMBOL:
        return "symbol not found in the broker configuration";
    case FP_EHOOK:
        return "a Python part of the scenario failed";
    case FP_EWORKER:
        return "a heavy envelope worker has fewer bars than its period";
    default:
        return "error";
    }
}

static int
engine_init(fp_engine *e, const fp_ticks *ticks, const fp_scenario *sc, fp_scenario_result *res,
            const atomic_int *cancel)
{
    memset(e, 0, sizeof *e);
    e->sc = sc;
    e->ticks = ticks;
    e->res = res;
    e->cancel = cancel;
    e->point_scale = pow(10.0, sc->digits);
    e->balance = sc->initial_balance;
    e->bid = e->ask = NAN;
    fp_pyrandom_seed(&e->api, sc->api_latency_seed);
    fp_pyrandom_seed(&e->exec, sc->market_execution_seed);
    res->max_equity = sc->initial_balance;
    e->scratch = malloc(3 * FP_BAR_HISTORY_LIMIT * sizeof *e->scratch);
    if (e->scratch == NULL)
        return FP_ENOMEM;
    for (int t = 0; t < sc->n_timeframes; t++) {
        const fp_timeframe_spec *tf = &sc->timeframes[t];
        bars_t *b = &e->bars[t];
        b->span_ns = (int64_t)tf->minutes * NS_PER_MINUTE;
        b->ring = malloc(FP_BAR_HISTORY_LIMIT * sizeof *b->ring);
        if (b->ring == NULL)
            return FP_ENOMEM;
        /* The warm-up history keeps its last FP_BAR_HISTORY_LIMIT bars. */
        size_t skip = tf->n_warmup > FP_BAR_HISTORY_LIMIT ? tf->n_warmup - FP_BAR_HISTORY_LIMIT
                                                          : 0;
        if (tf->in_history)
            for (size_t i = skip; i < tf->n_warmup; i++)
                bars_push(b, &tf->warmup[i]);
    }
    for (int w = 0; w < sc->n_workers; w++)
        e->workers[w].spec = &sc->workers[w];
    return FP_OK;
}

static void
engine_free(fp_engine *e)
{
    for (int t = 0; t < FP_SCENARIO_MAX_TIMEFRAMES; t++)
        free(e->bars[t].ring);
    free(e->scratch);
    free(e->pos);
    free(e->pend);
}

/* The CORE workers on this tick; a worker recomputes from the bars only
 * when its history changed (same result as recomputing every tick). */
static int
compute_workers(fp_engine *e)
{
    const fp_scenario *sc = e->sc;
    for (int w = 0; w < sc->n_workers; w++) {
        worker_t *x = &e->workers[w];
        if (x->spec->kind == FP_WORKER_USER)
            continue;
        artificial_load(x->spec->load_ms, e->cancel);
        int tf = x->spec->timeframe;
        const bars_t *b = sc->timeframes[tf].in_history ? &e->bars[tf] : NULL;
        uint64_t version = b != NULL ? b->version : 0;
        if (!x->have_cache || x->cached_version != version) {
            int st = worker_from_bars(x, b, e->scratch);
            if (st != FP_OK)
                return st;
            x->cached_version = version;
            x->have_cache = 1;
        }
    }
    return FP_OK;
}

static int
engine_run(fp_engine *e, const fp_scenario_hooks *hooks, atomic_size_t *progress)
{
    const fp_scenario *sc = e->sc;
    const fp_ticks *t = e->ticks;
    fp_scenario_result *res = e->res;
    int st;

    for (size_t i = 0; i < t->n; i++) {
        if (e->cancel != NULL && atomic_load_explicit(e->cancel, memory_order_relaxed))
            return FP_ECANCELLED;
        e->tick_index = i;
        double bid = t->bid[i], ask = t->ask[i];
        double mid = (bid + ask) / 2.0;

        st = sim_update(e, bid, ask); /* 1. fills and marks */
        if (st != FP_OK)
            return st;
        if (!sc->symbol_known)
            return FP_ESYMBOL;
        for (int k = 0; k < sc->n_timeframes; k++) /* 2. bars */
            if (sc->timeframes[k].rendered)
                bars_add(&e->bars[k], t->timestamp[i], mid, t->volume[i]);
        st = compute_workers(e); /* 3. CORE workers */
        if (st != FP_OK)
            return st;
        if (sc->has_user_workers || sc->logic == FP_LOGIC_USER) { /* USER parts */
            st = hooks->tick(hooks->ctx, e);
            if (st != FP_OK)
                return st;
        }
        if (sc->logic != FP_LOGIC_USER) { /* 4. decision */
            const worker_t *rw = &e->workers[sc->rsi_worker];
            const worker_t *ew = &e->workers[sc->envelope_worker];
            double rsi = rw->value, pos = envelope_position(ew, mid);
            decision d = decide(sc, rsi, pos);
            if (d.action == FP_BUY)
                res->decisions_buy++;
            else if (d.action == FP_SELL)
                res->decisions_sell++;
            else
                res->decisions_flat++;
            if (d.action != FP_FLAT) { /* 5. execution */
                ptrdiff_t idx;
                st = core_execute(e, &d, &idx);
                if (st != FP_OK)
                    return st;
                if (idx >= 0 && res->orders[idx].status == FP_ORDER_PENDING) {
                    fp_order *o = &res->orders[idx];
                    o->confidence = d.confidence;
                    o->rsi = rsi;
                    o->position = pos;
                    o->mid = mid;
                    o->rsi_hit = d.rsi_hit;
                    o->env_hit = d.env_hit;
                    fp_engine_count_signal(e, d.action);
                }
            }
        }
        if (progress != NULL && (i + 1) % FP_SCENARIO_PROGRESS_EVERY == 0)
            atomic_store_explicit(progress, i + 1, memory_order_relaxed);
    }
    while (e->n_pos > 0) { /* open positions close at the last tick */
        st = sim_close_at(e, 0, FP_CLOSE_END);
        if (st != FP_OK)
            return st;
    }
    res->ticks_processed = t->n;
    res->balance = e->balance;
    if (progress != NULL)
        atomic_store_explicit(progress, t->n, memory_order_relaxed);
    return FP_OK;
}

int
fp_scenario_run(const fp_ticks *ticks, const fp_scenario *sc, fp_scenario_result *res,
                const fp_scenario_hooks *hooks, atomic_size_t *progress,
                const atomic_int *cancel)
{
    if (res == NULL)
        return FP_EINVAL;
    memset(res, 0, sizeof *res);
    int st = check_scenario(ticks, sc, hooks);
    if (st != FP_OK)
        return st;
    if (ticks->n == 0)
        return FP_EEMPTY;
    const int64_t *ts = ticks->timestamp;
    for (size_t k = 1; k < ticks->n; k++)
        if (ts[k] < ts[k - 1])
            return FP_EUNSORTED;
    /* A bar starts at its ticks' time floored to the span, which does not
     * fit in an int64 within one day of INT64_MIN (NumPy's NaT); the
     * ticks are sorted, so the first is the earliest. */
    if (ts[0] < INT64_MIN + 1440 * NS_PER_MINUTE)
        return FP_ETIMESTAMP;
    for (size_t k = 0; k < ticks->n; k++)
        if (!isfinite(ticks->bid[k]) || !isfinite(ticks->ask[k]) || !isfinite(ticks->volume[k]))
            return FP_ENONFINITE;

    fp_engine e;
    st = engine_init(&e, ticks, sc, res, cancel);
    if (st == FP_OK)
        st = engine_run(&e, hooks, progress);
    engine_free(&e);
    if (st != FP_OK)
        fp_scenario_result_free(res);
    return st;
}

/* ======================================================================== */
/* The hook's view                                                          */

size_t
fp_engine_tick_index(const fp_engine *e)
{
    return e->tick_index;
}

size_t
fp_engine_history_len(const fp_engine *e, int tf)
{
    return e->bars[tf].count;
}

const fp_bar *
fp_engine_history_bar(const fp_engine *e, int tf, size_t i)
{
    return bars_get(&e->bars[tf], i);
}

const fp_bar *
fp_engine_current_bar(const fp_engine *e, int tf)
{
    return e->bars[tf].has_current ? &e->bars[tf].current : NULL;
}

uint64_t
fp_engine_bars_completed(const fp_engine *e, int tf)
{
    return e->bars[tf].completed;
}

int
fp_engine_worker_result(const fp_engine *e, int worker, double out[8])
{
    const worker_t *w = &e->workers[worker];
    memset(out, 0, 8 * sizeof *out);
    out[1] = w->confidence;
    switch (w->spec->kind) {
    case FP_WORKER_RSI:
        out[0] = w->value;
        out[2] = w->avg_gain;
        out[3] = w->avg_loss;
        out[4] = w->nbars;
        break;
    case FP_WORKER_ENVELOPE:
        out[0] = envelope_position(w, (e->bid + e->ask) / 2.0);
        out[2] = w->upper;
        out[3] = w->middle;
        out[4] = w->lower;
        out[5] = w->std_dev;
        out[6] = w->nbars;
        break;
    case FP_WORKER_MACD:
        out[2] = w->macd[0];
        out[3] = w->macd[1];
        out[4] = w->macd[2];
        out[5] = w->nbars;
        break;
    default:
        break;
    }
    return w->ready;
}

size_t
fp_engine_n_positions(const fp_engine *e)
{
    return e->n_pos;
}

void
fp_engine_position(const fp_engine *e, size_t i, fp_position_info *out)
{
    const position_t *p = &e->pos[i];
    out->position_id = p->id;
    out->direction = p->direction;
    out->lots = p->lots;
    out->entry_price = p->entry_price;
    out->current_price = p->current_price;
    out->unrealized_pnl = p->unrealized;
    out->spread_cost = p->fee;
    out->entry_tick = p->entry_tick;
}

size_t
fp_engine_n_pending(const fp_engine *e)
{
    return e->n_pend;
}

void
fp_engine_pending(const fp_engine *e, size_t i, fp_pending_info *out)
{
    const pending_t *p = &e->pend[i];
    out->pending_id = p->pending_id;
    out->direction = p->direction;
    out->lots = p->lots;
    out->placed_tick = p->placed_tick;
    out->fill_at_tick = p->fill_at;
}

const fp_scenario_result *
fp_engine_result(const fp_engine *e)
{
    return e->res;
}
