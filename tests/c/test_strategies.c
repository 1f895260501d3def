/*
 * test_strategies.c - checks the sweep engine of src/_fastpar/strategies.c.
 *
 * Small price paths whose trades are worked out by hand (long only, long /
 * short with fees, a stop-loss), bad parameters and bars, then long random
 * walks: the same results whatever the thread count and whether a set
 * runs alone or in lockstep with others, and a sweep cancelled while it
 * runs; then backtests of signal arrays through the same account.
 * Prints one line per failure and ends with "N passed, N failed".
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/_fastpar/pool.h"
#include "../../src/_fastpar/strategies.h"

static int passed, failed;

static void check(int ok, const char *what, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
}
#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

static int near(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-12 * (fabs(b) > 1.0 ? fabs(b) : 1.0);
}

static fp_costs costs(double fees, double slippage, int longshort)
{
    fp_costs c = {fees, slippage, 0.0, NAN, NAN, 252.0, longshort};
    return c;
}

enum { TR, SHARPE, MDD, NTRADES, WINRATE, PF, EXPOSURE };

/* ---- hand-worked paths ---- */

/* RSI(2) of this path: -, -, 0, 50, 75, 87.5, 43.75, 21.875, 10.9375.
 * With low 30, high 70: buy at bar 2 (8), sell at bar 4 (10), buy at bar
 * 7 (9), still long at the end (8). */
static const double path[] = {10, 9, 8, 9, 10, 11, 10, 9, 8};
#define PATH_N (sizeof path / sizeof path[0])

static void test_long_only(void)
{
    fp_sweep_bars b = {NULL, NULL, path, PATH_N};
    fp_costs c = costs(0.0, 0.0, 0);
    double p[3] = {2, 30, 70}, out[FP_SWEEP_N_METRICS];
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, p, 1, &c, out, 1) == FP_OK);
    /* 12.5 shares at 8 -> 125 at 10 -> 125 / 9 shares, worth x 8 */
    double end = 125.0 / 9.0 * 8.0;
    CHECK(near(out[TR], end / 100.0 - 1.0));
    CHECK(out[NTRADES] == 2.0);
    CHECK(out[WINRATE] == 0.5); /* +25, then the open trade is down */
    CHECK(near(out[PF], 25.0 / (125.0 / 9.0)));
    CHECK(near(out[MDD], end / 125.0 - 1.0));
    CHECK(near(out[EXPOSURE], 4.0 / 9.0)); /* bars 2, 3, 7, 8 */
    CHECK(isfinite(out[SHARPE]));
}

static void test_long_short(void)
{
    fp_sweep_bars b = {NULL, NULL, path, PATH_N};
    const double f = 0.01;
    fp_costs c = costs(f, 0.0, 1);
    double p[3] = {2, 30, 70}, out[FP_SWEEP_N_METRICS];
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, p, 1, &c, out, 1) == FP_OK);
    /* long L at 8; at 10 sell L and short S = proceeds / (10 (1 + f));
     * at 9 buy with all the cash: cover S, long the rest; mark at 8 */
    double L = 100.0 / (8.0 * (1.0 + f));
    double E1 = L * 10.0 * (1.0 - f);
    double S = E1 / (10.0 * (1.0 + f));
    double cash = E1 + S * 10.0 * (1.0 - f);
    double L2 = cash / (9.0 * (1.0 + f)) - S;
    CHECK(fabs(out[TR] - (L2 * 8.0 / 100.0 - 1.0)) < 1e-12);
    CHECK(out[NTRADES] == 3.0);
    CHECK(near(out[EXPOSURE], 7.0 / 9.0)); /* in the market from bar 2 on */
}

static void test_stop_loss(void)
{
    /* buy at bar 2 (8 + 1% slippage); 7.1 <= 8 * 0.9 stops at bar 4 at
     * 7.1 (no slippage), and the entry signal of that bar is ignored;
     * RSI still 0 at bar 5: buy at 7.07; mark at 8 */
    static const double x[] = {10, 9, 8, 7.5, 7.1, 7.0, 8};
    fp_sweep_bars b = {NULL, NULL, x, 7};
    fp_costs c = costs(0.0, 0.01, 0);
    c.stop_loss = 0.1;
    double p[3] = {2, 30, 99.9}, out[FP_SWEEP_N_METRICS];
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, p, 1, &c, out, 1) == FP_OK);
    double v4 = 100.0 / (8.0 * 1.01) * 7.1;
    CHECK(near(out[TR], v4 / (7.0 * 1.01) * 8.0 / 100.0 - 1.0));
    CHECK(out[NTRADES] == 2.0);
    CHECK(out[WINRATE] == 0.5);
    CHECK(near(out[EXPOSURE], 4.0 / 7.0)); /* bars 2, 3, 5, 6 */
}

static void test_errors(void)
{
    fp_sweep_bars b = {NULL, NULL, path, PATH_N};
    fp_costs c = costs(0.0, 0.0, 0);
    double out[2 * FP_SWEEP_N_METRICS];
    double rsi_bad[][3] = {{1, 30, 70}, {2.5, 30, 70}, {14, 70, 30}, {14, 50, 50}, {14, 0, 70},
                           {14, 30, 100}, {14, NAN, 70}};
    for (size_t i = 0; i < sizeof rsi_bad / sizeof rsi_bad[0]; i++)
        CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, rsi_bad[i], 1, &c, out, 1) == FP_EINVAL);
    double ma_bad[3] = {5, 5, FP_MA_SMA}, ma_kind[3] = {2, 5, 2};
    CHECK(fp_sweep_run(FP_MA_CROSS, &b, ma_bad, 1, &c, out, 1) == FP_EINVAL);
    CHECK(fp_sweep_run(FP_MA_CROSS, &b, ma_kind, 1, &c, out, 1) == FP_EINVAL);
    double bb[6] = {3, 1, 0, 5, 14, 50}; /* k_atr 1, tail 0 ok; high/low missing */
    CHECK(fp_sweep_run(FP_BIGBAR, &b, bb, 1, &c, out, 1) == FP_EINVAL);
    double ok[3] = {2, 30, 70};
    CHECK(fp_sweep_run(99, &b, ok, 1, &c, out, 1) == FP_EINVAL);
    fp_costs bad = c;
    bad.fees = -0.1;
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, ok, 1, &bad, out, 1) == FP_EINVAL);
    bad = c;
    bad.stop_loss = 0.0;
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, ok, 1, &bad, out, 1) == FP_EINVAL);
    double x[PATH_N];
    memcpy(x, path, sizeof x);
    x[4] = NAN;
    fp_sweep_bars nb = {NULL, NULL, x, PATH_N};
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &nb, ok, 1, &c, out, 1) == FP_ENONFINITE);
    /* no sets, no bars: fine */
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, ok, 0, &c, out, 1) == FP_OK);
    fp_sweep_bars empty = {NULL, NULL, NULL, 0};
    CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &empty, ok, 1, &c, out, 1) == FP_OK);
    CHECK(out[TR] == 0.0 && out[NTRADES] == 0.0 && isnan(out[SHARPE]));
}

/* ---- random walks ---- */

static double urand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

typedef struct {
    size_t n;
    double *h, *l, *c;
} walk;

static walk make_walk(size_t n, unsigned long long seed)
{
    walk w = {n, malloc(n * sizeof(double)), malloc(n * sizeof(double)),
              malloc(n * sizeof(double))};
    double p = 100.0;
    for (size_t i = 0; i < n; i++) {
        p *= 1.0 + 0.02 * (urand(&seed) - 0.5);
        w.c[i] = p;
        w.h[i] = p * (1.0 + 0.01 * urand(&seed));
        w.l[i] = p * (1.0 - 0.01 * urand(&seed));
    }
    return w;
}

static void free_walk(walk *w)
{
    free(w->h);
    free(w->l);
    free(w->c);
}

/* Set number a * 5 + z (a < 8, z < 5) of a small grid of `strategy` into
 * p: some trade often, some rarely. */
static void grid_set(int strategy, int a, int z, double *p)
{
    switch (strategy) {
    case FP_RSI_THRESHOLD:
        p[0] = 2 + 3 * a, p[1] = 20 + 2 * z, p[2] = 65 + 3 * z;
        break;
    case FP_MA_CROSS:
        p[0] = 1 + z, p[1] = 6 + 4 * a, p[2] = a % 2;
        break;
    case FP_BBANDS_REVERSION:
        p[0] = 5 + 3 * a, p[1] = 0.5 + 0.5 * z;
        break;
    case FP_ENVELOPE:
        p[0] = 1 + 3 * a, p[1] = 0.005 + 0.005 * z;
        break;
    case FP_BIGBAR:
        p[0] = 3 + a % 3, p[1] = 0.8 + 0.2 * z, p[2] = 0.5, p[3] = 1 + a, p[4] = 5,
        p[5] = 60 + 5 * z;
        break;
    }
}

/* Every strategy, a grid each: 1, 2 and 4 threads give the same bytes,
 * and so does running each set alone. */
static void test_determinism(void)
{
    walk w = make_walk(3000, 7);
    fp_sweep_bars b = {w.h, w.l, w.c, w.n};
    fp_costs c = costs(0.001, 0.0005, 1);
    c.stop_loss = 0.05;
    c.take_profit = 0.08;
    enum { MAXSETS = 200 };
    double params[MAXSETS * FP_SWEEP_MAX_PARAMS];
    for (int s = 0; s < FP_N_STRATEGIES; s++) {
        size_t n = 0;
        int np = fp_strategy_n_params(s);
        for (int a = 0; a < 8; a++)
            for (int z = 0; z < 5; z++)
                grid_set(s, a, z, params + n++ * (size_t)np);
        double *o1 = calloc(n * FP_SWEEP_N_METRICS, sizeof(double));
        double *o2 = calloc(n * FP_SWEEP_N_METRICS, sizeof(double));
        CHECK(fp_sweep_run(s, &b, params, n, &c, o1, 1) == FP_OK);
        int trades = 0;
        for (size_t i = 0; i < n; i++)
            trades += o1[i * FP_SWEEP_N_METRICS + NTRADES] > 0.0;
        CHECK(trades > 0);
        for (int threads = 2; threads <= 4; threads *= 2) {
            memset(o2, 0, n * FP_SWEEP_N_METRICS * sizeof(double));
            CHECK(fp_sweep_run(s, &b, params, n, &c, o2, threads) == FP_OK);
            CHECK(memcmp(o1, o2, n * FP_SWEEP_N_METRICS * sizeof(double)) == 0);
        }
        int same = 1;
        for (size_t i = 0; i < n; i++) {
            double one[FP_SWEEP_N_METRICS];
            fp_sweep_run(s, &b, params + i * (size_t)np, 1, &c, one, 1);
            same &= memcmp(one, o1 + i * FP_SWEEP_N_METRICS, sizeof one) == 0;
        }
        CHECK(same);
        free(o1);
        free(o2);
    }
    free_walk(&w);
}

/* ---- several assets ---- */

/* Assets of different lengths (one empty) as one job give, asset by
 * asset, the bytes of a sweep of that asset alone; a NaN in one asset's
 * bars is refused and named. */
static void test_assets(void)
{
    walk w[3] = {make_walk(2500, 11), make_walk(900, 12), make_walk(4000, 13)};
    fp_sweep_bars assets[4] = {{w[0].h, w[0].l, w[0].c, w[0].n},
                               {NULL, NULL, NULL, 0},
                               {w[1].h, w[1].l, w[1].c, w[1].n},
                               {w[2].h, w[2].l, w[2].c, w[2].n}};
    fp_costs c = costs(0.001, 0.0005, 1);
    enum { N = 30, A = 4 };
    double params[N * FP_SWEEP_MAX_PARAMS];
    for (int s = 0; s < FP_N_STRATEGIES; s++) {
        int np = fp_strategy_n_params(s);
        for (size_t i = 0; i < N; i++)
            grid_set(s, (int)(i % 6), (int)(i / 6), params + i * (size_t)np);
        double *all = calloc(A * N * FP_SWEEP_N_METRICS, sizeof(double));
        double *one = calloc(N * FP_SWEEP_N_METRICS, sizeof(double));
        fp_sweep sw;
        CHECK(fp_sweep_init_assets(&sw, s, assets, A, params, N, &c, all) == FP_OK);
        CHECK(sw.n_tasks == A * sw.tasks_per_asset);
        CHECK(fp_pool_run(fp_sweep_task, &sw, sw.n_tasks, 2, NULL) == FP_OK);
        CHECK(fp_sweep_done(&sw) == A * N);
        fp_sweep_free(&sw);
        int same = 1;
        for (size_t a = 0; a < A; a++) {
            memset(one, 0, N * FP_SWEEP_N_METRICS * sizeof(double));
            CHECK(fp_sweep_run(s, &assets[a], params, N, &c, one, 1) == FP_OK);
            same &= memcmp(one, all + a * N * FP_SWEEP_N_METRICS,
                           N * FP_SWEEP_N_METRICS * sizeof(double)) == 0;
        }
        CHECK(same);
        free(all);
        free(one);
    }
    double keep = w[1].c[100];
    w[1].c[100] = NAN;
    double out[A * FP_SWEEP_N_METRICS], rsi[3] = {14, 30, 70};
    fp_sweep sw;
    CHECK(fp_sweep_init_assets(&sw, FP_RSI_THRESHOLD, assets, A, rsi, 1, &c, out) ==
          FP_ENONFINITE);
    CHECK(sw.bad_asset == 2);
    w[1].c[100] = keep;
    fp_sweep_bars no_close = {NULL, NULL, NULL, 10};
    CHECK(fp_sweep_init_assets(&sw, FP_RSI_THRESHOLD, &no_close, 1, rsi, 1, &c, out) ==
          FP_EINVAL);
    CHECK(fp_sweep_init_assets(&sw, FP_RSI_THRESHOLD, assets, 0, rsi, 1, &c, out) ==
          FP_EINVAL);
    for (int i = 0; i < 3; i++)
        free_walk(&w[i]);
}

/* ---- cancellation ---- */

typedef struct {
    fp_sweep *sw;
    fp_job *job;
} canceller;

static void *cancel_soon(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    fp_sweep_cancel(c->sw);
    fp_job_cancel(c->job);
    return NULL;
}

static void test_cancel(void)
{
    walk w = make_walk(200000, 3);
    fp_sweep_bars b = {NULL, NULL, w.c, w.n};
    fp_costs c = costs(0.001, 0.0, 0);
    enum { N = 400 };
    double *params = malloc(N * 3 * sizeof(double));
    double *out = malloc(N * FP_SWEEP_N_METRICS * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        params[3 * i] = 2 + (double)(i % 100);
        params[3 * i + 1] = 20 + (double)(i / 100);
        params[3 * i + 2] = 80;
    }
    fp_sweep sw;
    CHECK(fp_sweep_init(&sw, FP_RSI_THRESHOLD, &b, params, N, &c, out) == FP_OK);
    fp_job job;
    fp_job_init(&job, fp_sweep_task, &sw, sw.n_tasks, NULL);
    fp_job_submit(&job, 2);
    canceller arg = {&sw, &job};
    pthread_t th;
    pthread_create(&th, NULL, cancel_soon, &arg);
    fp_job_work(&job, -1);
    CHECK(fp_job_finish(&job) == FP_ECANCELLED);
    pthread_join(th, NULL);
    CHECK(fp_sweep_done(&sw) < N);
    fp_sweep_free(&sw);
    free(params);
    free(out);
    free_walk(&w);
}

/* A task that starts after fp_sweep_cancel stops at its first look at the
 * flag (its first bar) and reports FP_ECANCELLED, counting no set done:
 * deterministic, unlike test_cancel, where the pool stops handing out
 * tasks as well and a task that never looked would still finish. */
static void test_cancel_inside_a_task(void)
{
    walk w = make_walk(5000, 9);
    fp_sweep_bars b = {NULL, NULL, w.c, w.n};
    fp_costs c = costs(0.001, 0.0, 0);
    double params[3] = {14, 30, 70};
    double out[FP_SWEEP_N_METRICS];
    fp_sweep sw;
    CHECK(fp_sweep_init(&sw, FP_RSI_THRESHOLD, &b, params, 1, &c, out) == FP_OK);
    CHECK(sw.n_tasks == 1);
    CHECK(fp_sweep_task(&sw, 0) == FP_OK && fp_sweep_done(&sw) == 1);
    fp_sweep_cancel(&sw);
    CHECK(fp_sweep_task(&sw, 0) == FP_ECANCELLED);
    CHECK(fp_sweep_done(&sw) == 1);
    fp_sweep_free(&sw);
    free_walk(&w);
}

/* ---- backtests of signal arrays ---- */

/* RSI(2) thresholds of `path` as signal arrays give the sweep's bytes: one
 * simulator for both. The same signals in every layout (a column of a C-
 * or Fortran-ordered array, a broadcast column, a 2-D close) too. */
static void test_backtest_signals(void)
{
    /* RSI(2) of path: -, -, 0, 50, 75, 87.5, 43.75, 21.875, 10.9375 */
    static const unsigned char e[PATH_N] = {0, 0, 1, 0, 0, 0, 0, 1, 1};
    static const unsigned char x[PATH_N] = {0, 0, 0, 0, 1, 1, 0, 0, 0};
    fp_sweep_bars b = {NULL, NULL, path, PATH_N};
    double p[3] = {2, 30, 70};
    for (int ls = 0; ls <= 1; ls++) {
        fp_costs c = costs(0.001, 0.0005, ls);
        c.stop_loss = ls ? 0.1 : NAN;
        double want[FP_SWEEP_N_METRICS], got[FP_SWEEP_N_METRICS];
        CHECK(fp_sweep_run(FP_RSI_THRESHOLD, &b, p, 1, &c, want, 1) == FP_OK);
        CHECK(want[NTRADES] >= 2.0);
        fp_signals one = {path, e, x, 1, 0, 1, 0, 1, 0, PATH_N, 1};
        CHECK(fp_backtest_run(&one, &c, got, 1) == FP_OK);
        CHECK(memcmp(got, want, sizeof got) == 0);

        /* three columns: the entries in a C-ordered (n, 3) array, the exits
         * in a Fortran-ordered one, the close a C-ordered (n, 3) array
         * whose column 2 is path and columns 0 and 1 path scaled by 2 and
         * 3 (the same returns, up to rounding) */
        enum { K = 3 };
        unsigned char ec[PATH_N * K], xf[PATH_N * K];
        double c2[PATH_N * K];
        for (size_t t = 0; t < PATH_N; t++) {
            for (size_t j = 0; j < K; j++) {
                ec[t * K + j] = e[t];
                xf[j * PATH_N + t] = x[t];
                c2[t * K + j] = j == 2 ? path[t] : path[t] * (double)(j + 2);
            }
        }
        double all[K * FP_SWEEP_N_METRICS];
        fp_signals mixed = {c2, ec, xf, K, 1, K, 1, 1, PATH_N, PATH_N, K};
        CHECK(fp_backtest_run(&mixed, &c, all, 2) == FP_OK);
        CHECK(memcmp(all + 2 * FP_SWEEP_N_METRICS, want, sizeof want) == 0);
        for (size_t j = 0; j < 2; j++) {
            CHECK(near(all[j * FP_SWEEP_N_METRICS + TR], want[TR]));
            CHECK(all[j * FP_SWEEP_N_METRICS + NTRADES] == want[NTRADES]);
        }
        fp_signals bcast = {path, e, x, 1, 0, 1, 0, 1, 0, PATH_N, K};
        CHECK(fp_backtest_run(&bcast, &c, all, 2) == FP_OK);
        for (size_t j = 0; j < K; j++)
            CHECK(memcmp(all + j * FP_SWEEP_N_METRICS, want, sizeof want) == 0);
    }
}

/* Random signals on a long walk: 1, 2 and 4 threads and every column
 * alone give the same bytes; each column reads its own close. */
static void test_backtest_determinism(void)
{
    enum { K = 37 };
    walk w = make_walk(3000, 5);
    unsigned char *e = malloc(w.n * K), *x = malloc(w.n * K);
    double *c2 = malloc(w.n * K * sizeof(double));
    unsigned s = 12345;
    for (size_t i = 0; i < w.n * K; i++) {
        s = s * 1103515245u + 12345u;
        e[i] = (s >> 16) % 17 == 0;
        x[i] = (s >> 20) % 13 == 0;
        c2[i] = w.c[i / K] * (1.0 + (double)(i % K) * 0.01);
    }
    fp_costs c = costs(0.001, 0.0005, 1);
    c.take_profit = 0.04;
    double o1[K * FP_SWEEP_N_METRICS], o2[K * FP_SWEEP_N_METRICS];
    fp_signals sig = {c2, e, x, K, 1, K, 1, K, 1, w.n, K};
    CHECK(fp_backtest_run(&sig, &c, o1, 1) == FP_OK);
    int trades = 1;
    for (size_t j = 0; j < K; j++)
        trades &= o1[j * FP_SWEEP_N_METRICS + NTRADES] > 10.0;
    CHECK(trades);
    for (int threads = 2; threads <= 4; threads *= 2) {
        memset(o2, 0, sizeof o2);
        CHECK(fp_backtest_run(&sig, &c, o2, threads) == FP_OK);
        CHECK(memcmp(o1, o2, sizeof o1) == 0);
    }
    int same = 1;
    for (size_t j = 0; j < K; j++) {
        double one[FP_SWEEP_N_METRICS];
        fp_signals alone = {c2 + j, e + j, x + j, K, 0, K, 0, K, 0, w.n, 1};
        fp_backtest_run(&alone, &c, one, 1);
        same &= memcmp(one, o1 + j * FP_SWEEP_N_METRICS, sizeof one) == 0;
    }
    CHECK(same);
    free(e);
    free(x);
    free(c2);
    free_walk(&w);
}

static void test_backtest_errors(void)
{
    static const unsigned char e[PATH_N] = {1}, x[PATH_N] = {0};
    double c2[PATH_N * 2], out[2 * FP_SWEEP_N_METRICS];
    for (size_t t = 0; t < PATH_N; t++)
        c2[2 * t] = c2[2 * t + 1] = path[t];
    fp_costs c = costs(0.0, 0.0, 0);
    fp_backtest bt;
    fp_signals sig = {c2, e, x, 2, 1, 1, 0, 1, 0, PATH_N, 2};
    CHECK(fp_backtest_init(&bt, &sig, &c, out) == FP_OK && bt.n_tasks == 2);
    /* a NaN in the last bar of the second column only */
    c2[2 * PATH_N - 1] = NAN;
    CHECK(fp_backtest_init(&bt, &sig, &c, out) == FP_ENONFINITE);
    c2[2 * PATH_N - 1] = INFINITY;
    CHECK(fp_backtest_init(&bt, &sig, &c, out) == FP_ENONFINITE);
    c2[2 * PATH_N - 1] = path[PATH_N - 1];
    fp_costs bad = costs(1.0, 0.0, 0);
    CHECK(fp_backtest_init(&bt, &sig, &bad, out) == FP_EINVAL);
    CHECK(fp_backtest_init(&bt, &sig, &c, NULL) == FP_EINVAL);
    CHECK(fp_backtest_init(&bt, NULL, &c, out) == FP_EINVAL);
    fp_signals none = sig;
    none.exits = NULL;
    CHECK(fp_backtest_init(&bt, &none, &c, out) == FP_EINVAL);
    /* no bars: nothing to read, metrics of an untouched account */
    fp_signals empty = {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(fp_backtest_run(&empty, &c, out, 1) == FP_OK);
    CHECK(out[TR] == 0.0 && out[NTRADES] == 0.0 && isnan(out[SHARPE]));
    /* no columns: no task */
    fp_signals zero = sig;
    zero.n_cols = 0;
    CHECK(fp_backtest_init(&bt, &zero, &c, out) == FP_OK && bt.n_tasks == 0);
}

/* A task that starts after fp_backtest_cancel stops at its first bar. */
static void test_backtest_cancel_inside_a_task(void)
{
    walk w = make_walk(5000, 9);
    unsigned char *e = calloc(w.n, 1), *x = calloc(w.n, 1);
    e[10] = x[4000] = 1;
    fp_costs c = costs(0.001, 0.0, 0);
    double out[FP_SWEEP_N_METRICS];
    fp_backtest bt;
    fp_signals sig = {w.c, e, x, 1, 0, 1, 0, 1, 0, w.n, 1};
    CHECK(fp_backtest_init(&bt, &sig, &c, out) == FP_OK && bt.n_tasks == 1);
    CHECK(fp_backtest_task(&bt, 0) == FP_OK && out[NTRADES] == 1.0);
    fp_backtest_cancel(&bt);
    CHECK(fp_backtest_task(&bt, 0) == FP_ECANCELLED);
    free(e);
    free(x);
    free_walk(&w);
}

int main(void)
{
    test_long_only();
    test_long_short();
    test_stop_loss();
    test_errors();
    test_determinism();
    test_assets();
    test_cancel();
    test_cancel_inside_a_task();
    test_backtest_signals();
    test_backtest_determinism();
    test_backtest_errors();
    test_backtest_cancel_inside_a_task();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
