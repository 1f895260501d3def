/*
 * test_scenario.c - test driver for the scenario engine
 * (src/_fastpar/scenario.c): CPython-compatible random numbers, NumPy's
 * pairwise sum, a scenario's invariants and fills, the hook's view of the
 * engine, error statuses, cancellation and concurrent runs over shared
 * ticks. Last line: "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static int failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);  \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

#define MIN_NS 60000000000LL

/* ---- random numbers: values from CPython's random module ---- */

static void
test_random_sequences(void)
{
    /* random.Random(42).randint(1, 3) + random.Random(123).randint(2, 5) */
    static const int want[20] = {5, 5, 3, 8, 6, 3, 3, 6, 7, 5, 5, 6, 6, 5, 7, 5, 4, 3, 6, 3};
    fp_pyrandom api, ex;
    fp_pyrandom_seed(&api, 42);
    fp_pyrandom_seed(&ex, 123);
    for (int i = 0; i < 20; i++)
        CHECK(fp_pyrandom_randint(&api, 1, 3) + fp_pyrandom_randint(&ex, 2, 5) == want[i]);

    /* random.Random(42).getrandbits(32), three times */
    fp_pyrandom r;
    fp_pyrandom_seed(&r, 42);
    CHECK(fp_pyrandom_uint32(&r) == 2746317213U);
    CHECK(fp_pyrandom_uint32(&r) == 478163327U);
    CHECK(fp_pyrandom_uint32(&r) == 107420369U);

    /* a two-word seed: random.Random(2**40 + 5).randint(1, 3) */
    static const int want2[10] = {3, 3, 2, 3, 1, 3, 1, 1, 1, 1};
    fp_pyrandom_seed(&r, (1ULL << 40) + 5);
    for (int i = 0; i < 10; i++)
        CHECK(fp_pyrandom_randint(&r, 1, 3) == want2[i]);

    /* seed 0: random.Random(0).randint(2, 5) */
    static const int want0[10] = {5, 5, 2, 4, 5, 5, 4, 5, 4, 3};
    fp_pyrandom_seed(&r, 0);
    for (int i = 0; i < 10; i++)
        CHECK(fp_pyrandom_randint(&r, 2, 5) == want0[i]);
}

/* ---- NumPy's pairwise sum ---- */

static void
test_numpy_sum(void)
{
    /* Fewer than 8: left to right. 1e16 + 1 + 1 loses both ones. */
    double a[3] = {1e16, 1.0, 1.0};
    CHECK(fp_numpy_sum(a, 3) == 1e16);
    /* Eight accumulators: the two ones meet each other first, in
     * ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)). */
    double b[8] = {1e16, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0};
    CHECK(fp_numpy_sum(b, 8) == 1e16 + 2.0);
    /* Left to right it would be 1e16: the sum is not a plain loop. */
    double plain = 0.0;
    for (int i = 0; i < 8; i++)
        plain += b[i];
    CHECK(plain == 1e16);
    /* Beyond 128 values: two halves of 64-multiples. */
    double c[200];
    for (int i = 0; i < 200; i++)
        c[i] = i == 0 ? 1e16 : (i >= 96 ? 1.0 : 0.0);
    CHECK(fp_numpy_sum(c, 200) == 1e16 + 104.0);
    CHECK(fp_numpy_sum(c, 0) == 0.0);
}

/* ---- a scenario ---- */

#define NT 3000
static int64_t T[NT];
static double BID[NT], ASK[NT], VOL[NT];
static fp_bar WARM[40];

static void
make_ticks(void)
{
    /* A sine-like path, one tick every 20 s, spreads of 1-2 points. */
    double p = 1.1;
    for (int i = 0; i < NT; i++) {
        T[i] = 1757000000000000000LL + (int64_t)i * 20000000000LL;
        p += 0.00004 * sin(i / 37.0) + 0.00001 * ((i * 7919) % 5 - 2);
        BID[i] = round(p * 1e5) / 1e5;
        ASK[i] = BID[i] + (i % 3 ? 0.00001 : 0.00002);
        VOL[i] = 1.0;
    }
    for (int i = 0; i < 40; i++) {
        double c = 1.1 + 0.0003 * sin(i / 3.0);
        WARM[i] = (fp_bar){T[0] - T[0] % (5 * MIN_NS) - (40 - i) * 5 * MIN_NS,
                           c, c + 0.0002, c - 0.0002, c, 0.0, 10};
    }
}

static fp_ticks
ticks(size_t n)
{
    return (fp_ticks){T, BID, ASK, VOL, n};
}

static fp_scenario
base_scenario(void)
{
    fp_scenario s;
    memset(&s, 0, sizeof s);
    s.n_timeframes = 1;
    s.timeframes[0] = (fp_timeframe_spec){5, 1, 1, WARM, 40};
    s.n_workers = 2;
    s.workers[0] = (fp_worker_spec){FP_WORKER_RSI, 0, 14, 0.0, 0, 0, 0, 0.0};
    s.workers[1] = (fp_worker_spec){FP_WORKER_ENVELOPE, 0, 20, 2.0, 0, 0, 0, 0.0};
    s.logic = FP_LOGIC_AGGRESSIVE_TREND;
    s.th[0] = 35;
    s.th[1] = 65;
    s.th[2] = 0.25;
    s.min_confidence = 0.4;
    s.lot_size = 0.1;
    s.min_free_margin = 1000;
    s.rsi_worker = 0;
    s.envelope_worker = 1;
    s.symbol_known = 1;
    s.digits = 5;
    s.tick_value = 1.0;
    s.leverage = 500;
    s.margin_contract_size = 100000;
    s.margin_price = 1.0;
    s.volume_min = 0.01;
    s.volume_max = 100;
    s.volume_step = 0.01;
    s.trade_allowed = 1;
    s.initial_balance = 10000;
    s.api_latency_seed = 42;
    s.market_execution_seed = 123;
    return s;
}

static void
test_scenario_invariants(void)
{
    fp_ticks t = ticks(NT);
    fp_scenario s = base_scenario();
    fp_scenario_result r;
    atomic_size_t progress = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, &progress, NULL) == FP_OK);
    CHECK(r.ticks_processed == NT && atomic_load(&progress) == NT);
    CHECK(r.total_trades > 10);
    CHECK(r.decisions_buy + r.decisions_sell + r.decisions_flat == NT);
    /* Every order is executed, refused or still pending. */
    size_t pending = 0;
    for (size_t i = 0; i < r.n_orders; i++)
        pending += r.orders[i].status == FP_ORDER_PENDING;
    CHECK(r.orders_sent == r.orders_executed + r.orders_rejected + pending);
    CHECK(r.signals_buy + r.signals_sell == r.orders_sent - r.orders_rejected);
    CHECK(r.winning_trades + r.losing_trades == r.total_trades && r.n_trades == r.total_trades);
    /* The balance moves by the closed trades' P&L only. */
    double balance = s.initial_balance;
    for (size_t i = 0; i < r.n_trades; i++)
        balance += r.trades[i].pnl;
    CHECK(balance == r.balance);
    /* A fill is at the ask (BUY) or bid (SELL) of its tick, after the
     * seeded delay: the first delays are 5, 5, 3, 8 (see above). */
    const int delays[4] = {5, 5, 3, 8};
    size_t k = 0;
    for (size_t i = 0; i < r.n_orders && k < 4; i++) {
        const fp_order *o = &r.orders[i];
        if (o->pending_id == 0)
            continue;
        CHECK(o->fill_at_tick == o->placed_tick + delays[k]);
        k++;
        if (o->status == FP_ORDER_EXECUTED) {
            size_t j = (size_t)o->filled_tick - 1;
            CHECK(o->fill_price == (o->direction == FP_BUY ? ASK[j] : BID[j]));
            CHECK(o->spread_cost == fabs((ASK[j] - BID[j]) * 1e5 * 1.0 * 0.1));
        }
    }
    /* Deterministic. */
    fp_scenario_result r2;
    CHECK(fp_scenario_run(&t, &s, &r2, NULL, NULL, NULL) == FP_OK);
    CHECK(r2.balance == r.balance && r2.n_orders == r.n_orders);
    fp_scenario_result_free(&r2);
    fp_scenario_result_free(&r);
}

/* A hook that checks the engine's view of the bars and trades itself:
 * it counts the bars completed and compares the last history bar with the
 * bar it saw being built the tick before. */
typedef struct {
    fp_bar last_current;
    int have;
    uint64_t completed;
    int mismatches, calls, sent;
} hook_state;

static int
check_hook(void *ctx, fp_engine *e)
{
    hook_state *h = ctx;
    h->calls++;
    uint64_t done = fp_engine_bars_completed(e, 0);
    if (done != h->completed) {
        size_t n = fp_engine_history_len(e, 0);
        const fp_bar *last = fp_engine_history_bar(e, 0, n - 1);
        if (!h->have || memcmp(last, &h->last_current, sizeof *last) != 0)
            h->mismatches++;
        h->completed = done;
    }
    h->last_current = *fp_engine_current_bar(e, 0);
    h->have = 1;
    if (fp_engine_tick_index(e) % 100 == 3 && fp_engine_n_pending(e) == 0) {
        size_t row;
        if (fp_engine_send_order(e, FP_BUY, 0.1, FP_ORDER_MARKET, &row) != FP_OK)
            return FP_ENOMEM;
        h->sent++;
    }
    fp_account a;
    fp_engine_account(e, &a);
    if (a.open_positions != fp_engine_n_positions(e))
        h->mismatches++;
    return FP_OK;
}

static int
failing_hook(void *ctx, fp_engine *e)
{
    (void)ctx;
    return fp_engine_tick_index(e) == 7 ? FP_EHOOK : FP_OK;
}

static void
test_hook(void)
{
    fp_ticks t = ticks(NT);
    fp_scenario s = base_scenario();
    s.logic = FP_LOGIC_USER;
    hook_state h;
    memset(&h, 0, sizeof h);
    fp_scenario_hooks hooks = {check_hook, &h};
    fp_scenario_result r;
    CHECK(fp_scenario_run(&t, &s, &r, &hooks, NULL, NULL) == FP_OK);
    CHECK(h.calls == NT && h.mismatches == 0 && h.completed > 100);
    CHECK(r.orders_sent == (size_t)h.sent && r.decisions_buy + r.decisions_flat == 0);
    fp_scenario_result_free(&r);

    /* A USER part without a hook is an invalid description; a failing
     * hook stops the scenario with its status. */
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EINVAL);
    fp_scenario_hooks bad = {failing_hook, NULL};
    CHECK(fp_scenario_run(&t, &s, &r, &bad, NULL, NULL) == FP_EHOOK);
    CHECK(r.orders == NULL && r.trades == NULL);
}

static void
test_errors(void)
{
    fp_ticks t = ticks(NT);
    fp_scenario s = base_scenario();
    fp_scenario_result r;

    fp_ticks empty = ticks(0);
    CHECK(fp_scenario_run(&empty, &s, &r, NULL, NULL, NULL) == FP_EEMPTY);
    s.rsi_worker = 1; /* not an RSI worker */
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.workers[0].period = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.timeframes[0].minutes = 7; /* not a divisor of a day */
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.leverage = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.symbol_known = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_ESYMBOL);
    s = base_scenario();
    CHECK(fp_scenario_run(NULL, &s, &r, NULL, NULL, NULL) == FP_EINVAL);

    int64_t saved = T[5];
    T[5] = T[4] - 1;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EUNSORTED);
    T[5] = saved;
    double b = BID[9];
    BID[9] = NAN;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_ENONFINITE);
    BID[9] = b;
    int64_t t0 = T[0];
    T[0] = INT64_MIN;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_ETIMESTAMP);
    T[0] = t0;

    /* A heavy envelope with fewer warm-up bars than its period fails. */
    s.n_workers = 3;
    s.workers[2] = (fp_worker_spec){FP_WORKER_ENVELOPE, 0, 41, 0.02, 0, 0, 1, 0.0};
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL, NULL) == FP_EWORKER);
    CHECK(strcmp(fp_scenario_strerror(FP_EUNSORTED), "tick timestamps are not sorted") == 0);
}

/* ---- cancellation and concurrency ---- */

typedef struct {
    const fp_ticks *t;
    const fp_scenario *s;
    fp_scenario_result r;
    int status;
    atomic_size_t progress;
    atomic_int *cancel;
} run_arg;

static void *
run_thread(void *p)
{
    run_arg *a = p;
    a->status = fp_scenario_run(a->t, a->s, &a->r, NULL, &a->progress, a->cancel);
    return NULL;
}

static void
test_cancel_and_threads(void)
{
    fp_ticks t = ticks(NT);
    fp_scenario s = base_scenario();
    s.workers[0].heavy = 1;
    s.workers[0].load_ms = 1.0; /* 3000 ticks: ~3 s unless cancelled */
    atomic_int cancel = 0;
    run_arg a = {&t, &s, {0}, -1, 0, &cancel};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_thread, &a) == 0);
    struct timespec d = {0, 50 * 1000000L};
    nanosleep(&d, NULL);
    atomic_store(&cancel, 1);
    pthread_join(th, NULL);
    CHECK(a.status == FP_ECANCELLED);
    CHECK(a.r.orders == NULL);

    /* four threads on the same ticks give the same result */
    fp_scenario s2 = base_scenario();
    fp_scenario_result ref;
    CHECK(fp_scenario_run(&t, &s2, &ref, NULL, NULL, NULL) == FP_OK);
    run_arg args[4];
    pthread_t ths[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (run_arg){&t, &s2, {0}, -1, 0, NULL};
        CHECK(pthread_create(&ths[i], NULL, run_thread, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(ths[i], NULL);
        CHECK(args[i].status == FP_OK);
        CHECK(args[i].r.balance == ref.balance && args[i].r.n_trades == ref.n_trades);
        CHECK(atomic_load(&args[i].progress) == NT);
        fp_scenario_result_free(&args[i].r);
    }
    fp_scenario_result_free(&ref);
}

int
main(void)
{
    make_ticks();
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"random_sequences", test_random_sequences},
        {"numpy_sum", test_numpy_sum},
        {"scenario_invariants", test_scenario_invariants},
        {"hook", test_hook},
        {"errors", test_errors},
        {"cancel_and_threads", test_cancel_and_threads},
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failures;
        tests[i].fn();
        if (failures == before) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
