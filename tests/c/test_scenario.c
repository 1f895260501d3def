/*
 * test_scenario.c - test driver for the scenario kernel
 * (src/_fastpar/scenario.c): CPython-compatible random numbers, bars,
 * a tiny scenario worked out by hand, error statuses, cancellation and
 * concurrent runs over shared ticks. Last line: "N passed, N failed".
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

/* ---- bars ---- */

static void
test_bars(void)
{
    fp_bars b;
    CHECK(fp_bars_init(&b, 5 * MIN_NS, 3) == FP_OK);
    /* minute 0..4 -> bar 0, 5..9 -> bar 1, ... */
    CHECK(fp_bars_add(&b, 0, 1.0, 1.0) == 0);
    CHECK(fp_bars_add(&b, 1 * MIN_NS, 3.0, 2.0) == 0);
    CHECK(fp_bars_add(&b, 4 * MIN_NS, 0.5, 1.0) == 0);
    CHECK(fp_bars_add(&b, 4 * MIN_NS + 59999999999LL, 2.0, 1.0) == 0);
    CHECK(b.count == 0);
    CHECK(fp_bars_add(&b, 5 * MIN_NS, 7.0, 4.0) == 1);
    CHECK(b.count == 1);
    const fp_bar *x = fp_bars_get(&b, 0);
    CHECK(x->start_ns == 0 && x->open == 1.0 && x->high == 3.0 && x->low == 0.5 &&
          x->close == 2.0 && x->volume == 5.0 && x->tick_count == 4);
    /* a gap: the next tick three bars later completes just one bar */
    CHECK(fp_bars_add(&b, 17 * MIN_NS, 8.0, 1.0) == 1);
    CHECK(b.count == 2 && fp_bars_get(&b, 1)->start_ns == 5 * MIN_NS);
    CHECK(b.current.start_ns == 15 * MIN_NS);
    /* the ring keeps the last 3 */
    CHECK(fp_bars_add(&b, 20 * MIN_NS, 9.0, 1.0) == 1);
    CHECK(fp_bars_add(&b, 25 * MIN_NS, 10.0, 1.0) == 1);
    CHECK(b.count == 3);
    CHECK(fp_bars_get(&b, 0)->close == 7.0 && fp_bars_get(&b, 2)->close == 9.0);
    CHECK(b.version == 4);
    fp_bars_free(&b);

    /* negative timestamps floor, as Python's ts - ts % span */
    CHECK(fp_bars_init(&b, MIN_NS, 4) == FP_OK);
    fp_bars_add(&b, -1, 1.0, 0.0);
    CHECK(b.current.start_ns == -MIN_NS);
    fp_bars_free(&b);
}

/* ---- scenarios on tiny synthetic ticks ---- */

#define NT 4000

static int64_t T[NT];
static double BID[NT], ASK[NT], VOL[NT];

/* One tick every 20 s, a slow sine on the mid with a 1-point spread. */
static void
make_ticks(void)
{
    for (int i = 0; i < NT; i++) {
        T[i] = 1756684800LL * 1000000000LL + (int64_t)i * 20000000000LL;
        double mid = 1.17 + 0.004 * sin(i / 90.0) + 0.0007 * sin(i / 7.0);
        BID[i] = round((mid - 0.00005) * 1e5) / 1e5;
        ASK[i] = BID[i] + 0.00001;
        VOL[i] = 1.0 + (i % 5);
    }
}

static fp_ticks
ticks(void)
{
    fp_ticks t = {T, BID, ASK, VOL, NT};
    return t;
}

static fp_scenario
base_scenario(void)
{
    fp_scenario s;
    memset(&s, 0, sizeof s);
    s.start = 1000;
    s.end = NT;
    s.n_workers = 2;
    s.workers[0] = (fp_worker_spec){FP_WORKER_RSI, 14, 0, 0, 0, 0, 5, 0};
    s.workers[1] = (fp_worker_spec){FP_WORKER_ENVELOPE, 20, 0.02, 0, 0, 0, 30, 0};
    s.rsi_worker = 0;
    s.envelope_worker = 1;
    s.logic = FP_LOGIC_AGGRESSIVE_TREND;
    s.th[0] = 35;
    s.th[1] = 65;
    s.th[2] = 0.25;
    s.min_confidence = 0.4;
    s.lot_size = 0.1;
    s.min_free_margin = 1000;
    s.digits = 5;
    s.tick_value = 1.0;
    s.contract_size = 100000;
    s.leverage = 100;
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
    make_ticks();
    fp_ticks t = ticks();
    fp_scenario s = base_scenario();
    fp_scenario_result r;
    atomic_size_t progress = 0;
    CHECK(fp_scenario_run(&t, &s, &r, &progress, NULL) == FP_OK);
    CHECK(r.ticks_processed == NT - 1000);
    CHECK(atomic_load(&progress) == NT - 1000);
    CHECK(r.decisions_buy + r.decisions_sell + r.decisions_flat == NT - 1000);
    CHECK(r.orders_sent == r.n_orders && r.n_trades == r.total_trades);
    CHECK(r.total_trades > 0);
    CHECK(r.winning_trades + r.losing_trades == r.total_trades);
    CHECK(r.signals_buy + r.signals_sell + r.orders_rejected <= r.orders_sent);
    /* warm-up: M5 needs 15 bars, M30 needs 20; 1000 ticks of 20 s = 66
     * M5 bars and 11 M30 bars precede the window */
    CHECK(r.warmup_bars[0] == 15);
    CHECK(r.warmup_bars[1] == 11);
    /* delays are the CPython sequence, entries on placed + delay */
    static const int want[5] = {5, 5, 3, 8, 6};
    double pnl = 0.0, balance = 10000.0;
    size_t k = 0;
    for (size_t i = 0; i < r.n_orders && k < 5; i++) {
        const fp_order *o = &r.orders[i];
        if (o->delay == 0)
            continue;
        CHECK(o->delay == want[k]);
        if (o->status == FP_ORDER_EXECUTED)
            CHECK(o->filled_tick == o->placed_tick + o->delay);
        k++;
    }
    for (size_t i = 0; i < r.n_trades; i++) {
        pnl += r.trades[i].pnl;
        balance += r.trades[i].pnl;
        CHECK(r.trades[i].exit_tick >= r.trades[i].entry_tick);
    }
    CHECK(balance == r.balance);
    CHECK(fabs(pnl - (r.total_profit - r.total_loss)) < 1e-9);
    CHECK(r.trades[r.n_trades - 1].exit_tick <= NT - 1000);

    /* deterministic */
    fp_scenario_result r2;
    CHECK(fp_scenario_run(&t, &s, &r2, NULL, NULL) == FP_OK);
    CHECK(r2.n_trades == r.n_trades && r2.balance == r.balance &&
          memcmp(r2.trades, r.trades, r.n_trades * sizeof *r.trades) == 0);
    fp_scenario_result_free(&r2);
    fp_scenario_result_free(&r);

    /* simple consensus with a macd worker too */
    s.logic = FP_LOGIC_SIMPLE_CONSENSUS;
    s.th[0] = 30;
    s.th[1] = 70;
    s.th[2] = 0.3;
    s.th[3] = 0.7;
    s.min_confidence = 0.5;
    s.workers[1].deviation = 2.0;
    s.n_workers = 3;
    s.workers[2] = (fp_worker_spec){FP_WORKER_MACD, 0, 0, 12, 26, 9, 15, 0};
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_OK);
    CHECK(r.decisions_buy + r.decisions_sell + r.decisions_flat == NT - 1000);
    CHECK(r.warmup_bars[2] == 22);
    fp_scenario_result_free(&r);
}

static void
test_errors(void)
{
    fp_ticks t = ticks();
    fp_scenario s = base_scenario();
    fp_scenario_result r;

    s.start = s.end = 10;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EEMPTY);
    CHECK(r.orders == NULL && r.trades == NULL);
    s = base_scenario();
    s.end = NT + 1;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.rsi_worker = 1;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.workers[0].period = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.n_workers = 3;
    s.workers[2] = (fp_worker_spec){FP_WORKER_MACD, 0, 0, 26, 12, 9, 15, 0};
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EINVAL);
    s = base_scenario();
    s.leverage = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EINVAL);
    CHECK(fp_scenario_run(NULL, &s, &r, NULL, NULL) == FP_EINVAL);

    s = base_scenario();
    int64_t saved = T[2000];
    T[2000] = T[1998];
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_EUNSORTED);
    T[2000] = saved;
    double b = BID[2500];
    BID[2500] = NAN;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_ENONFINITE);
    BID[2500] = b;
    /* NaN far before the warm-up is never read */
    b = BID[0];
    BID[0] = NAN;
    s.start = 3500; /* 38 M30 bars before it, 20 needed */
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_OK);
    fp_scenario_result_free(&r);
    BID[0] = b;
    /* A bar start below INT64_MIN (a NaT timestamp) is refused, not
     * computed with a signed overflow; unread, it is harmless. */
    int64_t t0 = T[0];
    T[0] = INT64_MIN;
    s = base_scenario();
    s.start = 0;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_ETIMESTAMP);
    CHECK(r.orders == NULL && r.trades == NULL);
    s.start = 3500;
    CHECK(fp_scenario_run(&t, &s, &r, NULL, NULL) == FP_OK);
    fp_scenario_result_free(&r);
    T[0] = t0;
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
    a->status = fp_scenario_run(a->t, a->s, &a->r, &a->progress, a->cancel);
    return NULL;
}

static void
test_cancel_and_threads(void)
{
    fp_ticks t = ticks();
    fp_scenario s = base_scenario();
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
    CHECK(fp_scenario_run(&t, &s2, &ref, NULL, NULL) == FP_OK);
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
        CHECK(atomic_load(&args[i].progress) == NT - 1000);
        fp_scenario_result_free(&args[i].r);
    }
    fp_scenario_result_free(&ref);
}

int
main(void)
{
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"random_sequences", test_random_sequences},
        {"bars", test_bars},
        {"scenario_invariants", test_scenario_invariants},
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
