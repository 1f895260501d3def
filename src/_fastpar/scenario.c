/*
 * scenario.c - one batch_orchestrator scenario (see scenario.h and the
 * rules in python/fastpar/reference/scenario.py's docstring).
 *
 * Every amount is computed with the reference's expressions in the
 * reference's order (left-to-right sums starting at 0.0, Python's
 * max()/min() tie rules), so the results are the reference's doubles.
 */
#define _POSIX_C_SOURCE 200809L

#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indicators.h"

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
/* Bars                                                                     */

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0)
        q--;
    return q;
}

int
fp_bars_init(fp_bars *b, int64_t span_ns, size_t cap)
{
    memset(b, 0, sizeof *b);
    if (span_ns <= 0 || cap == 0)
        return FP_EINVAL;
    b->ring = malloc(cap * sizeof *b->ring);
    if (b->ring == NULL)
        return FP_ENOMEM;
    b->span_ns = span_ns;
    b->cap = cap;
    return FP_OK;
}

void
fp_bars_free(fp_bars *b)
{
    free(b->ring);
    b->ring = NULL;
}

const fp_bar *
fp_bars_get(const fp_bars *b, size_t i)
{
    return &b->ring[(b->head + i) % b->cap];
}

int
fp_bars_add(fp_bars *b, int64_t ts, double mid, double volume)
{
    int64_t start = floor_div(ts, b->span_ns) * b->span_ns;
    fp_bar *cur = &b->current;
    if (b->has_current && cur->start_ns == start) {
        if (mid > cur->high)
            cur->high = mid;
        if (mid < cur->low)
            cur->low = mid;
        cur->close = mid;
        cur->volume += volume;
        cur->tick_count++;
        return 0;
    }
    int completed = b->has_current;
    if (completed) {
        if (b->count == b->cap) { /* drop the oldest */
            b->head = (b->head + 1) % b->cap;
            b->count--;
        }
        b->ring[(b->head + b->count) % b->cap] = *cur;
        b->count++;
        b->version++;
    }
    cur->start_ns = start;
    cur->open = cur->high = cur->low = cur->close = mid;
    cur->volume = volume;
    cur->tick_count = 1;
    b->has_current = 1;
    return completed;
}

static void
bars_keep_last(fp_bars *b, size_t n)
{
    while (b->count > n) {
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
    b->version++;
}

/* First tick to replay so that `need` completed bars (or all there are)
 * precede the window, starting on a bar boundary: the reference's
 * warmup_start_index, walking back from the window start. */
static size_t
warmup_start(const int64_t *ts, size_t lo, int64_t span, size_t need)
{
    if (lo == 0 || need == 0)
        return lo;
    size_t groups = need + (floor_div(ts[lo - 1], span) == floor_div(ts[lo], span) ? 1 : 0);
    size_t g = 1;
    for (size_t k = lo - 1; k > 0; k--) {
        if (floor_div(ts[k - 1], span) != floor_div(ts[k], span)) {
            if (g == groups)
                return k;
            g++;
        }
    }
    return 0;
}

/* ======================================================================== */
/* Workers                                                                  */

typedef struct {
    const fp_worker_spec *spec;
    int series;          /* index into the run's bar series */
    uint64_t cached_version;
    int have_cache;
    /* rsi: value; envelope: bands; macd: last values */
    double value;
    double upper, middle, lower;
    int ready;
    double macd[3];
    double *scratch; /* macd: closes + 3 outputs, FP_BAR_HISTORY_LIMIT each */
} worker_state;

static volatile uint32_t load_sink;

static double
now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Busy CPU work for `ms` milliseconds; nothing it computes is kept. */
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

static size_t
worker_bars_needed(const fp_worker_spec *w)
{
    switch (w->kind) {
    case FP_WORKER_RSI:
        return (size_t)w->period + 1;
    case FP_WORKER_ENVELOPE:
        return (size_t)w->period;
    default:
        return (size_t)w->slow + (size_t)w->signal - 1;
    }
}

static int
worker_from_bars(worker_state *ws, const fp_bars *b)
{
    const fp_worker_spec *w = ws->spec;
    size_t nb = b->count;
    if (w->kind == FP_WORKER_RSI) {
        size_t p = (size_t)w->period;
        if (nb < p + 1) {
            ws->value = 50.0;
            return FP_OK;
        }
        double gain = 0.0, loss = 0.0;
        size_t first = nb - (p + 1);
        double prev = fp_bars_get(b, first)->close;
        for (size_t j = 1; j <= p; j++) {
            double c = fp_bars_get(b, first + j)->close;
            double delta = c - prev;
            if (delta > 0)
                gain += delta;
            else if (delta < 0)
                loss += -delta;
            prev = c;
        }
        double avg_gain = gain / (double)w->period;
        double avg_loss = loss / (double)w->period;
        ws->value = avg_loss == 0 ? 100.0 : 100.0 - 100.0 / (1.0 + avg_gain / avg_loss);
        return FP_OK;
    }
    if (w->kind == FP_WORKER_ENVELOPE) {
        size_t p = (size_t)w->period;
        if (nb < p) {
            ws->upper = ws->middle = ws->lower = 0.0;
            ws->ready = 0;
            return FP_OK;
        }
        size_t first = nb - p;
        double sum = 0.0;
        for (size_t j = 0; j < p; j++)
            sum += fp_bars_get(b, first + j)->close;
        double middle = sum / (double)w->period;
        double sq = 0.0;
        for (size_t j = 0; j < p; j++) {
            double d = fp_bars_get(b, first + j)->close - middle;
            sq += d * d;
        }
        double std = sqrt(sq / (double)w->period);
        ws->upper = middle + std * w->deviation;
        ws->middle = middle;
        ws->lower = middle - std * w->deviation;
        ws->ready = 1;
        return FP_OK;
    }
    /* macd over every kept close */
    if (nb < worker_bars_needed(w)) {
        ws->macd[0] = ws->macd[1] = ws->macd[2] = 0.0;
        return FP_OK;
    }
    double *x = ws->scratch, *line = x + FP_BAR_HISTORY_LIMIT;
    double *sig = line + FP_BAR_HISTORY_LIMIT, *hist = sig + FP_BAR_HISTORY_LIMIT;
    for (size_t j = 0; j < nb; j++)
        x[j] = fp_bars_get(b, j)->close;
    int st = fp_macd_f64(x, nb, w->fast, w->slow, w->signal, line, sig, hist);
    if (st != FP_OK)
        return st;
    ws->macd[0] = line[nb - 1];
    ws->macd[1] = sig[nb - 1];
    ws->macd[2] = hist[nb - 1];
    return FP_OK;
}

static double
envelope_position(const worker_state *ws, double mid)
{
    if (!ws->ready || ws->upper == ws->lower)
        return 0.5;
    double p = (mid - ws->lower) / (ws->upper - ws->lower);
    if (!(p > 0.0)) /* max(0.0, p) */
        p = 0.0;
    if (!(p < 1.0)) /* min(1.0, p) */
        p = 1.0;
    return p;
}

/* ======================================================================== */
/* Decision logics                                                          */

typedef struct {
    int action;
    double confidence;
    int rsi_hit, env_hit;
} decision;

static double
py_max(double a, double b) /* Python's max(a, b) */
{
    return b > a ? b : a;
}

static double
py_min(double a, double b) /* Python's min(a, b) */
{
    return b < a ? b : a;
}

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
            if (c >= sc->min_confidence) {
                d.action = FP_BUY;
                d.confidence = c;
                return d;
            }
        }
        if (rsi >= th[1] && pos >= th[3]) {
            double rs = py_max(0.0, (rsi - th[1]) / 30.0);
            double es = py_max(0.0, (pos - th[3]) / 0.3);
            double c = py_max(0.5, py_min(1.0, 0.5 + (rs + es) / 2.0 * 0.5));
            if (c >= sc->min_confidence) {
                d.action = FP_SELL;
                d.confidence = c;
                return d;
            }
        }
        return d;
    }
    double buy = th[0], sell = th[1], ext = th[2];
    int rh = rsi < buy, eh = pos < ext;
    if (rh || eh) {
        double c = 0.4;
        if (rh)
            c += (buy - rsi) / buy * 0.3;
        if (eh)
            c += (ext - pos) / ext * 0.3;
        c = py_min(1.0, c);
        if (c >= sc->min_confidence) {
            d = (decision){FP_BUY, c, rh, eh};
            return d;
        }
    }
    double upper = 1.0 - ext;
    rh = rsi > sell;
    eh = pos > upper;
    if (rh || eh) {
        double c = 0.4;
        if (rh)
            c += (rsi - sell) / (100.0 - sell) * 0.3;
        if (eh)
            c += (pos - upper) / ext * 0.3;
        c = py_min(1.0, c);
        if (c >= sc->min_confidence) {
            d = (decision){FP_SELL, c, rh, eh};
            return d;
        }
    }
    return d;
}

/* ======================================================================== */
/* Trade simulator (at most one pending order and one open position, as   */
/* the execution rules guarantee)                                           */

typedef struct {
    const fp_scenario *sc;
    fp_scenario_result *res;
    double point_scale;
    double balance, bid, ask;
    int64_t tick;
    fp_pyrandom api, exec;

    int has_pending;
    size_t pending_order; /* index into res->orders */
    int64_t fill_at;

    int has_pos;
    int pos_dir;
    double pos_lots, pos_entry, pos_fees, pos_unrealized;
    int64_t pos_entry_tick, pos_id;
    int64_t position_counter;
    size_t orders_cap, trades_cap;
} sim_t;

static double
margin_for(const sim_t *s, double lots, double price)
{
    return lots * s->sc->contract_size * price / s->sc->leverage;
}

static double
sim_equity(const sim_t *s)
{
    if (!s->has_pos)
        return s->balance + 0.0;
    return s->balance + (0.0 + s->pos_unrealized);
}

static double
sim_free_margin(const sim_t *s)
{
    double used = s->has_pos ? 0.0 + margin_for(s, s->pos_lots, s->pos_entry) : 0.0;
    return sim_equity(s) - used;
}

static void
sim_mark(sim_t *s)
{
    double points = s->pos_dir == FP_BUY ? (s->bid - s->pos_entry) * s->point_scale
                                         : (s->pos_entry - s->ask) * s->point_scale;
    s->pos_unrealized = points * s->sc->tick_value * s->pos_lots - s->pos_fees;
}

static void
sim_fill(sim_t *s)
{
    fp_order *o = &s->res->orders[s->pending_order];
    double price = o->direction == FP_BUY ? s->ask : s->bid;
    double lots = s->sc->lot_size;
    double margin = margin_for(s, lots, price);
    double free = sim_free_margin(s);
    if (margin > free) {
        s->res->orders_rejected++;
        o->status = FP_ORDER_REJECTED;
        o->reject = FP_REJ_MARGIN_FILL;
        o->reject_value = margin;
        o->reject_value2 = free;
        return;
    }
    double spread_cost = (s->ask - s->bid) * s->point_scale * s->sc->tick_value * lots;
    s->position_counter++;
    s->has_pos = 1;
    s->pos_dir = o->direction;
    s->pos_lots = lots;
    s->pos_entry = price;
    s->pos_entry_tick = s->tick;
    s->pos_fees = spread_cost;
    s->pos_unrealized = 0.0;
    s->pos_id = s->position_counter;
    s->res->orders_executed++;
    s->res->total_spread_cost += spread_cost;
    o->status = FP_ORDER_EXECUTED;
    o->filled_tick = s->tick;
    o->fill_price = price;
    o->spread_cost = spread_cost;
}

static void
sim_on_tick(sim_t *s, double bid, double ask)
{
    s->tick++;
    s->bid = bid;
    s->ask = ask;
    if (s->has_pending && s->fill_at <= s->tick) {
        s->has_pending = 0;
        sim_fill(s);
    }
    if (s->has_pos)
        sim_mark(s);
}

static int
sim_close(sim_t *s, int reason)
{
    fp_scenario_result *r = s->res;
    if (r->n_trades == s->trades_cap) {
        size_t cap = s->trades_cap ? 2 * s->trades_cap : 64;
        fp_trade *t = realloc(r->trades, cap * sizeof *t);
        if (t == NULL)
            return FP_ENOMEM;
        r->trades = t;
        s->trades_cap = cap;
    }
    double pnl = s->pos_unrealized;
    s->has_pos = 0;
    s->balance += pnl;
    fp_trade *t = &r->trades[r->n_trades++];
    t->direction = s->pos_dir;
    t->reason = reason;
    t->position_id = s->pos_id;
    t->entry_tick = s->pos_entry_tick;
    t->exit_tick = s->tick;
    t->lots = s->pos_lots;
    t->entry_price = s->pos_entry;
    t->exit_price = s->pos_dir == FP_BUY ? s->bid : s->ask;
    t->spread_cost = s->pos_fees;
    t->pnl = pnl;
    r->total_trades++;
    if (pnl > 0) {
        r->winning_trades++;
        r->total_profit += pnl;
    } else {
        r->losing_trades++;
        r->total_loss += -pnl;
    }
    double equity = sim_equity(s);
    r->max_equity = py_max(r->max_equity, equity);
    r->max_drawdown = py_max(r->max_drawdown, r->max_equity - equity);
    return FP_OK;
}

/* Rule 5 for a BUY or SELL. *sent_pending is set when an order became
 * pending (a generated signal). */
static int
sim_execute(sim_t *s, const decision *d, double rsi, double pos, double mid, int *sent_pending)
{
    const fp_scenario *sc = s->sc;
    fp_scenario_result *r = s->res;
    *sent_pending = 0;
    if (s->has_pending)
        return FP_OK;
    if (s->has_pos) {
        if (s->pos_dir == d->action)
            return FP_OK;
        int st = sim_close(s, 0);
        if (st != FP_OK)
            return st;
    }
    if (sim_free_margin(s) < sc->min_free_margin)
        return FP_OK;

    if (r->n_orders == s->orders_cap) {
        size_t cap = s->orders_cap ? 2 * s->orders_cap : 64;
        fp_order *o = realloc(r->orders, cap * sizeof *o);
        if (o == NULL)
            return FP_ENOMEM;
        r->orders = o;
        s->orders_cap = cap;
    }
    size_t idx = r->n_orders++;
    fp_order *o = &r->orders[idx];
    memset(o, 0, sizeof *o);
    o->direction = d->action;
    o->status = FP_ORDER_PENDING;
    o->placed_tick = s->tick;
    o->confidence = d->confidence;
    o->rsi = rsi;
    o->position = pos;
    o->mid = mid;
    o->rsi_hit = d->rsi_hit;
    o->env_hit = d->env_hit;
    r->orders_sent++;

    double lots = sc->lot_size;
    double price = d->action == FP_BUY ? s->ask : s->bid;
    int rej = FP_REJ_NONE;
    if (lots < sc->volume_min - 1e-12) {
        rej = FP_REJ_LOTS_MIN;
    } else if (lots > sc->volume_max + 1e-12) {
        rej = FP_REJ_LOTS_MAX;
    } else {
        double steps = lots / sc->volume_step;
        if (fabs(steps - nearbyint(steps)) > 1e-7) /* round(): half to even */
            rej = FP_REJ_LOTS_STEP;
    }
    if (rej == FP_REJ_NONE && !sc->trade_allowed)
        rej = FP_REJ_NOT_TRADEABLE;
    if (rej == FP_REJ_NONE && margin_for(s, lots, price) > sim_free_margin(s)) {
        rej = FP_REJ_MARGIN;
        o->reject_value = margin_for(s, lots, price);
    }
    if (rej != FP_REJ_NONE) {
        r->orders_rejected++;
        o->status = FP_ORDER_REJECTED;
        o->reject = rej;
        return FP_OK;
    }
    int delay = (int)(fp_pyrandom_randint(&s->api, 1, 3) + fp_pyrandom_randint(&s->exec, 2, 5));
    o->delay = delay;
    s->has_pending = 1;
    s->pending_order = idx;
    s->fill_at = s->tick + delay;
    *sent_pending = 1;
    return FP_OK;
}

/* ======================================================================== */
/* The scenario                                                             */

static int
check_scenario(const fp_ticks *t, const fp_scenario *sc)
{
    if (t == NULL || sc == NULL || t->timestamp == NULL || t->bid == NULL || t->ask == NULL ||
        t->volume == NULL)
        return FP_EINVAL;
    if (sc->start >= sc->end)
        return FP_EEMPTY;
    if (sc->end > t->n)
        return FP_EINVAL;
    if (sc->n_workers < 1 || sc->n_workers > FP_SCENARIO_MAX_WORKERS)
        return FP_EINVAL;
    for (int i = 0; i < sc->n_workers; i++) {
        const fp_worker_spec *w = &sc->workers[i];
        if (w->timeframe_minutes < 1 || w->timeframe_minutes > 100000 || !(w->load_ms >= 0) ||
            !isfinite(w->load_ms))
            return FP_EINVAL;
        switch (w->kind) {
        case FP_WORKER_RSI:
            if (w->period < 1 || w->period > FP_MAX_PERIOD)
                return FP_EINVAL;
            break;
        case FP_WORKER_ENVELOPE:
            if (w->period < 1 || w->period > FP_MAX_PERIOD || !isfinite(w->deviation))
                return FP_EINVAL;
            break;
        case FP_WORKER_MACD:
            if (w->fast < 1 || w->slow <= w->fast || w->slow > FP_MAX_PERIOD || w->signal < 1 ||
                w->signal > FP_MAX_PERIOD)
                return FP_EINVAL;
            break;
        default:
            return FP_EINVAL;
        }
    }
    if (sc->rsi_worker < 0 || sc->rsi_worker >= sc->n_workers ||
        sc->workers[sc->rsi_worker].kind != FP_WORKER_RSI)
        return FP_EINVAL;
    if (sc->envelope_worker < 0 || sc->envelope_worker >= sc->n_workers ||
        sc->workers[sc->envelope_worker].kind != FP_WORKER_ENVELOPE)
        return FP_EINVAL;
    if (sc->logic != FP_LOGIC_SIMPLE_CONSENSUS && sc->logic != FP_LOGIC_AGGRESSIVE_TREND)
        return FP_EINVAL;
    if (sc->digits < 0 || sc->digits > 22 || !(sc->leverage > 0) || !(sc->volume_step > 0) ||
        !(sc->lot_size > 0) || !isfinite(sc->initial_balance))
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
    default:
        return "error";
    }
}

int
fp_scenario_run(const fp_ticks *ticks, const fp_scenario *sc, fp_scenario_result *res,
                atomic_size_t *progress, const atomic_int *cancel)
{
    if (res == NULL)
        return FP_EINVAL;
    memset(res, 0, sizeof *res);
    int st = check_scenario(ticks, sc);
    if (st != FP_OK)
        return st;

    const int64_t *ts = ticks->timestamp;
    const double *bid = ticks->bid, *ask = ticks->ask, *vol = ticks->volume;
    size_t lo = sc->start, hi = sc->end, n = hi - lo;

    for (size_t k = 1; k < hi; k++)
        if (ts[k] < ts[k - 1])
            return FP_EUNSORTED;

    /* One bar series per timeframe, with the largest need of its workers. */
    int n_series = 0;
    int64_t span[FP_SCENARIO_MAX_WORKERS];
    size_t need[FP_SCENARIO_MAX_WORKERS], first[FP_SCENARIO_MAX_WORKERS];
    fp_bars bars[FP_SCENARIO_MAX_WORKERS];
    worker_state ws[FP_SCENARIO_MAX_WORKERS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < sc->n_workers; i++) {
        const fp_worker_spec *w = &sc->workers[i];
        int64_t sp = (int64_t)w->timeframe_minutes * NS_PER_MINUTE;
        int s;
        for (s = 0; s < n_series && span[s] != sp; s++)
            ;
        if (s == n_series) {
            span[s] = sp;
            need[s] = 0;
            n_series++;
        }
        size_t nb = worker_bars_needed(w);
        if (nb > FP_BAR_HISTORY_LIMIT)
            nb = FP_BAR_HISTORY_LIMIT;
        if (nb > need[s])
            need[s] = nb;
        ws[i].spec = w;
        ws[i].series = s;
    }
    size_t read_from = lo;
    for (int s = 0; s < n_series; s++) {
        first[s] = warmup_start(ts, lo, span[s], need[s]);
        if (first[s] < read_from)
            read_from = first[s];
    }
    /* A bar starts at its ticks' time floored to the span, which does not
     * fit in an int64 for times within one span of INT64_MIN (NumPy's NaT
     * is INT64_MIN). The ticks are sorted: the first one read is the
     * earliest. */
    for (int s = 0; s < n_series; s++)
        if (ts[read_from] < INT64_MIN + span[s])
            return FP_ETIMESTAMP;
    for (size_t k = read_from; k < hi; k++)
        if (!isfinite(bid[k]) || !isfinite(ask[k]) || !isfinite(vol[k]))
            return FP_ENONFINITE;

    int ns_init = 0;
    st = FP_OK;
    for (int s = 0; s < n_series && st == FP_OK; s++) {
        st = fp_bars_init(&bars[s], span[s], FP_BAR_HISTORY_LIMIT);
        if (st == FP_OK)
            ns_init++;
    }
    for (int i = 0; i < sc->n_workers && st == FP_OK; i++) {
        if (sc->workers[i].kind == FP_WORKER_MACD) {
            ws[i].scratch = malloc(4 * FP_BAR_HISTORY_LIMIT * sizeof(double));
            if (ws[i].scratch == NULL)
                st = FP_ENOMEM;
        }
    }
    if (st != FP_OK)
        goto done;

    /* Warm-up. */
    for (int s = 0; s < n_series; s++) {
        for (size_t k = first[s]; k < lo; k++)
            fp_bars_add(&bars[s], ts[k], (bid[k] + ask[k]) / 2.0, vol[k]);
        bars_keep_last(&bars[s], need[s]);
    }

    sim_t sim;
    memset(&sim, 0, sizeof sim);
    sim.sc = sc;
    sim.res = res;
    sim.point_scale = 1.0;
    for (int d = 0; d < sc->digits; d++)
        sim.point_scale *= 10.0;
    sim.balance = sc->initial_balance;
    sim.bid = sim.ask = NAN;
    fp_pyrandom_seed(&sim.api, sc->api_latency_seed);
    fp_pyrandom_seed(&sim.exec, sc->market_execution_seed);
    res->max_equity = sc->initial_balance;

    worker_state *rsi_w = &ws[sc->rsi_worker], *env_w = &ws[sc->envelope_worker];
    for (size_t i = 0; i < n; i++) {
        if (cancel != NULL && atomic_load_explicit(cancel, memory_order_relaxed)) {
            st = FP_ECANCELLED;
            goto done;
        }
        size_t k = lo + i;
        double b = bid[k], a = ask[k];
        double mid = (b + a) / 2.0;

        sim_on_tick(&sim, b, a); /* 1 */
        for (int s = 0; s < n_series; s++) /* 2 */
            fp_bars_add(&bars[s], ts[k], mid, vol[k]);
        if (i == 0)
            for (int w = 0; w < sc->n_workers; w++)
                res->warmup_bars[w] = bars[ws[w].series].count;
        for (int w = 0; w < sc->n_workers; w++) { /* 3 */
            worker_state *x = &ws[w];
            artificial_load(x->spec->load_ms, cancel);
            const fp_bars *bs = &bars[x->series];
            if (!x->have_cache || x->cached_version != bs->version) {
                st = worker_from_bars(x, bs);
                if (st != FP_OK)
                    goto done;
                x->cached_version = bs->version;
                x->have_cache = 1;
                res->bar_computations[w]++;
            }
        }
        double rsi = rsi_w->value; /* 4 */
        double pos = envelope_position(env_w, mid);
        decision d = decide(sc, rsi, pos);
        if (d.action == FP_BUY)
            res->decisions_buy++;
        else if (d.action == FP_SELL)
            res->decisions_sell++;
        else
            res->decisions_flat++;
        if (d.action != FP_FLAT) { /* 5 */
            int pending;
            st = sim_execute(&sim, &d, rsi, pos, mid, &pending);
            if (st != FP_OK)
                goto done;
            if (pending) {
                if (d.action == FP_BUY)
                    res->signals_buy++;
                else
                    res->signals_sell++;
            }
        }
        if (progress != NULL && (i + 1) % FP_SCENARIO_PROGRESS_EVERY == 0)
            atomic_store_explicit(progress, i + 1, memory_order_relaxed);
    }
    if (sim.has_pos) {
        st = sim_close(&sim, 1);
        if (st != FP_OK)
            goto done;
    }
    res->ticks_processed = n;
    res->balance = sim.balance;
    if (progress != NULL)
        atomic_store_explicit(progress, n, memory_order_relaxed);

done:
    for (int s = 0; s < ns_init; s++)
        fp_bars_free(&bars[s]);
    for (int i = 0; i < sc->n_workers; i++)
        free(ws[i].scratch);
    if (st != FP_OK)
        fp_scenario_result_free(res);
    return st;
}
