/*
 * test_indicators.c - checks the kernels of src/_fastpar/indicators.c.
 *
 * Hand-worked small examples for every kernel, then the conventions of
 * indicators.h: NaN prefix = leading NaNs + lookback, leading NaNs
 * skipped, FP_ENONFINITE for NaN/inf after them, FP_EINVAL for bad
 * periods, all-NaN output for inputs too short, exact zeros on flat data;
 * then long random series against straightforward reference loops (the
 * fast paths: lanes, blocks, packed instructions) and several threads at
 * once. Prints one line per failure and ends with "N passed, N failed".
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/_fastpar/indicators.h"

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

/* a equals b within tol (relative to max(1, |b|)); NaN equals NaN */
static int near(double a, double b, double tol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;
    return fabs(a - b) <= tol * scale;
}

static int all_near(const double *a, const double *b, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!near(a[i], b[i], tol))
            return 0;
    return 1;
}

static size_t nan_prefix(const double *x, size_t n)
{
    size_t i = 0;
    while (i < n && isnan(x[i]))
        i++;
    return i;
}

static int no_nan_from(const double *x, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        if (isnan(x[i]))
            return 0;
    return 1;
}

static int all_nan(const double *x, size_t n)
{
    return nan_prefix(x, n) == n;
}

/* deterministic random walks */
static unsigned long long rng_state = 88172645463325252ULL;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double gauss(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
static void walk(double *x, size_t n, double level, double step)
{
    double v = level;
    for (size_t i = 0; i < n; i++) {
        v += step * gauss();
        x[i] = v;
    }
}

#define N_NAN NAN
static const double INF = HUGE_VAL;

/* ------------------------------------------------------------------ */
/* Hand-worked examples                                                */
/* ------------------------------------------------------------------ */

static void test_examples(void)
{
    double out[16], o2[16], o3[16];

    /* SMA(3) of 1..5 */
    {
        const double x[] = {1, 2, 3, 4, 5}, want[] = {N_NAN, N_NAN, 2, 3, 4};
        CHECK(fp_sma_f64(x, 5, 3, out) == FP_OK && all_near(out, want, 5, 0));
        CHECK(fp_sma_f64(x, 5, 1, out) == FP_OK && all_near(out, x, 5, 0));
    }
    /* EMA(3): k = 1/2, seed mean(1,2,3) = 2, then 3, 4; EMA(2) of 2,4,6,8 */
    {
        const double x[] = {1, 2, 3, 4, 5}, want[] = {N_NAN, N_NAN, 2, 3, 4};
        CHECK(fp_ema_f64(x, 5, 3, out) == FP_OK && all_near(out, want, 5, 1e-15));
        const double y[] = {2, 4, 6, 8}, want2[] = {N_NAN, 3, 5, 7};
        CHECK(fp_ema_f64(y, 4, 2, out) == FP_OK && all_near(out, want2, 4, 1e-15));
        CHECK(fp_ema_f64(y, 4, 1, out) == FP_OK && all_near(out, y, 4, 0));
    }
    /* WMA(3) of 1,2,3,4: (1+4+9)/6, (2+6+12)/6 */
    {
        const double x[] = {1, 2, 3, 4}, want[] = {N_NAN, N_NAN, 14.0 / 6, 20.0 / 6};
        CHECK(fp_wma_f64(x, 4, 3, out) == FP_OK && all_near(out, want, 4, 1e-15));
        CHECK(fp_wma_f64(x, 4, 1, out) == FP_OK && all_near(out, x, 4, 0));
    }
    /* RSI(2), deltas +1 +1 -1 -1 +1: (g, l) = (1, 0), (.5, .5), (.25, .75),
     * (.625, .375) */
    {
        const double x[] = {1, 2, 3, 2, 1, 2}, want[] = {N_NAN, N_NAN, 100, 50, 25, 62.5};
        CHECK(fp_rsi_f64(x, 6, 2, out) == FP_OK && all_near(out, want, 6, 1e-13));
        /* RSI(1): 100 up, 0 down, 0 unchanged */
        const double y[] = {1, 2, 1, 1}, want1[] = {N_NAN, 100, 0, 0};
        CHECK(fp_rsi_f64(y, 4, 1, out) == FP_OK && all_near(out, want1, 4, 0));
        /* no change at all: 0 (TA-Lib's convention) */
        const double flat[] = {3, 3, 3, 3}, want0[] = {N_NAN, N_NAN, 0, 0};
        CHECK(fp_rsi_f64(flat, 4, 2, out) == FP_OK && all_near(out, want0, 4, 0));
    }
    /* simple RSI(2) over windows of two deltas: (+1,+1) 100, (+1,-1) 50,
     * (-1,-1) 0, (-1,+1) 50; flat 100 */
    {
        const double x[] = {1, 2, 3, 2, 1, 2}, want[] = {N_NAN, N_NAN, 100, 50, 0, 50};
        CHECK(fp_rsi_simple_f64(x, 6, 2, out) == FP_OK && all_near(out, want, 6, 0));
        const double flat[] = {3, 3, 3, 3}, want100[] = {N_NAN, N_NAN, 100, 100};
        CHECK(fp_rsi_simple_f64(flat, 4, 2, out) == FP_OK && all_near(out, want100, 4, 0));
        /* gains 3, losses 1 over 4 deltas: 100 - 100 / (1 + 3) = 75 */
        const double y[] = {10, 11, 12, 11, 12}, want75[] = {N_NAN, N_NAN, N_NAN, N_NAN, 75};
        CHECK(fp_rsi_simple_f64(y, 5, 4, out) == FP_OK && all_near(out, want75, 5, 1e-13));
    }
    /* population std of 2,4,4,4,5,5,7,9 is 2 (mean 5) */
    {
        const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
        CHECK(fp_stddev_f64(x, 8, 8, 1.0, out) == FP_OK && nan_prefix(out, 8) == 7 &&
              near(out[7], 2.0, 1e-14));
        CHECK(fp_stddev_f64(x, 8, 8, 2.5, out) == FP_OK && near(out[7], 5.0, 1e-14));
        const double y[] = {1, 3, 3}, want[] = {N_NAN, 1, 0};
        CHECK(fp_stddev_f64(y, 3, 2, 1.0, out) == FP_OK && all_near(out, want, 3, 1e-15));
        CHECK(fp_stddev_f64(y, 3, 1, 1.0, out) == FP_OK && out[0] == 0 && out[1] == 0 &&
              out[2] == 0);
        CHECK(fp_bbands_f64(x, 8, 8, 2.0, 1.0, out, o2, o3) == FP_OK &&
              nan_prefix(o2, 8) == 7 && near(o2[7], 5.0, 1e-15) && near(out[7], 9.0, 1e-14) &&
              near(o3[7], 3.0, 1e-14));
        CHECK(fp_envelope_f64(x, 8, 8, 1.5, out, o2, o3) == FP_OK && nan_prefix(o2, 8) == 7 &&
              near(o2[7], 5.0, 1e-15) && near(out[7], 8.0, 1e-14) && near(o3[7], 2.0, 1e-14));
    }
    /* MACD(2, 3, 2) of 1,3,2,5,4,6, worked in fractions: macd = 1/2, 2/3,
     * 11/36, 103/216 from index 2; signal seeded at index 3 with 7/12, then
     * 43/108, 73/162 */
    {
        const double x[] = {1, 3, 2, 5, 4, 6};
        const double m[] = {N_NAN, N_NAN, N_NAN, 2.0 / 3, 11.0 / 36, 103.0 / 216};
        const double s[] = {N_NAN, N_NAN, N_NAN, 7.0 / 12, 43.0 / 108, 73.0 / 162};
        const double h[] = {N_NAN, N_NAN, N_NAN, 1.0 / 12, -10.0 / 108, 17.0 / 648};
        CHECK(fp_macd_f64(x, 6, 2, 3, 2, out, o2, o3) == FP_OK && all_near(out, m, 6, 1e-14) &&
              all_near(o2, s, 6, 1e-14) && all_near(o3, h, 6, 1e-14));
    }
    /* ATR(2): true ranges 2, 2, 4 from index 1; seed (2+2)/2, then
     * (2*1 + 4)/2 */
    {
        const double hi[] = {2, 3, 4, 3}, lo[] = {1, 1, 2, 1}, cl[] = {1.5, 2, 5, 2};
        const double want[] = {N_NAN, N_NAN, 2, 3}, tr[] = {N_NAN, 2, 2, 4};
        CHECK(fp_atr_f64(hi, lo, cl, 4, 2, out) == FP_OK && all_near(out, want, 4, 1e-15));
        CHECK(fp_atr_f64(hi, lo, cl, 4, 1, out) == FP_OK && all_near(out, tr, 4, 0));
    }
    /* STOCH(2, 2, 1): fastk 200/3, 200/3, 25 from index 1; slowk the mean of
     * two; a zero range gives 0 */
    {
        const double hi[] = {3, 4, 5, 4}, lo[] = {1, 2, 2, 1}, cl[] = {2, 3, 4, 2};
        const double k[] = {N_NAN, N_NAN, 200.0 / 3, (200.0 / 3 + 25) / 2};
        CHECK(fp_stoch_f64(hi, lo, cl, 4, 2, 2, 1, out, o2) == FP_OK &&
              all_near(out, k, 4, 1e-14) && all_near(o2, k, 4, 1e-14));
        /* STOCH(2, 1, 2): slowk = fastk, slowd the mean of two */
        const double k1[] = {N_NAN, N_NAN, 200.0 / 3, 25};
        const double d2[] = {N_NAN, N_NAN, 200.0 / 3, (200.0 / 3 + 25) / 2};
        CHECK(fp_stoch_f64(hi, lo, cl, 4, 2, 1, 2, out, o2) == FP_OK &&
              all_near(out, k1, 4, 1e-14) && all_near(o2, d2, 4, 1e-14));
        const double c5[] = {5, 5, 5}, zero[] = {N_NAN, 0, 0};
        CHECK(fp_stoch_f64(c5, c5, c5, 3, 2, 1, 1, out, o2) == FP_OK &&
              all_near(out, zero, 3, 0) && all_near(o2, zero, 3, 0));
    }
}

/* ------------------------------------------------------------------ */
/* Conventions                                                          */
/* ------------------------------------------------------------------ */

enum { K_SMA, K_EMA, K_WMA, K_RSI, K_RSIS, K_STD, K_BB, K_ENV, K_MACD, K_ATR, K_STOCH, K_COUNT };
static const char *const kernel_name[K_COUNT] = {"sma",      "ema",  "wma", "rsi",
                                                 "rsi_simple", "stddev", "bbands",
                                                 "envelope", "macd", "atr", "stoch"};

/* Runs kernel k with period p (MACD: fast p, slow p+3, signal 2; STOCH:
 * p, 2, 3) on (h, l, x); o1..o3 get the outputs (o2, o3 may go unused). */
static int run(int k, const double *x, const double *h, const double *l, size_t n, int p,
               double *o1, double *o2, double *o3)
{
    switch (k) {
    case K_SMA: return fp_sma_f64(x, n, p, o1);
    case K_EMA: return fp_ema_f64(x, n, p, o1);
    case K_WMA: return fp_wma_f64(x, n, p, o1);
    case K_RSI: return fp_rsi_f64(x, n, p, o1);
    case K_RSIS: return fp_rsi_simple_f64(x, n, p, o1);
    case K_STD: return fp_stddev_f64(x, n, p, 2.0, o1);
    case K_BB: return fp_bbands_f64(x, n, p, 2.0, 1.5, o1, o2, o3);
    case K_ENV: return fp_envelope_f64(x, n, p, 2.0, o1, o2, o3);
    case K_MACD: return fp_macd_f64(x, n, p, p + 3, 2, o1, o2, o3);
    case K_ATR: return fp_atr_f64(h, l, x, n, p, o1);
    default: return fp_stoch_f64(h, l, x, n, p, 2, 3, o1, o2);
    }
}

static size_t lookback(int k, int p)
{
    switch (k) {
    case K_RSI: case K_RSIS: case K_ATR: return (size_t)p;
    case K_MACD: return (size_t)(p + 3 - 1) + 1;
    case K_STOCH: return (size_t)(p - 1) + 1 + 2;
    default: return (size_t)p - 1;
    }
}

static int outputs(int k)
{
    return k == K_BB || k == K_ENV || k == K_MACD ? 3 : k == K_STOCH ? 2 : 1;
}

static void report(int ok, int k, const char *what, int p, size_t n)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s: %s (period %d, n %zu)", kernel_name[k], what, p, n);
    check(ok, buf, __LINE__);
}

static void test_conventions(void)
{
    enum { N = 300 };
    static double x[N], h[N], l[N], a1[N], a2[N], a3[N], b1[N], b2[N], b3[N];
    static double xs[N], hs[N], ls[N];
    walk(x, N, 100.0, 1.0);
    for (size_t i = 0; i < N; i++) {
        h[i] = x[i] + fabs(gauss());
        l[i] = x[i] - fabs(gauss());
    }
    const int periods[] = {1, 2, 3, 7, 14, 30};
    for (int k = 0; k < K_COUNT; k++) {
        const int no = outputs(k);
        double *outs_a[3] = {a1, a2, a3}, *outs_b[3] = {b1, b2, b3};
        for (size_t pi = 0; pi < sizeof periods / sizeof periods[0]; pi++) {
            const int p = periods[pi];
            const size_t lb = lookback(k, p);
            /* NaN prefix = lookback exactly, nothing NaN after it */
            int rc = run(k, x, h, l, N, p, a1, a2, a3);
            int ok = rc == FP_OK;
            for (int j = 0; j < no; j++)
                ok = ok && nan_prefix(outs_a[j], N) == lb && no_nan_from(outs_a[j], lb, N);
            report(ok, k, "NaN prefix is the lookback", p, N);

            /* leading NaNs are skipped: same values, shifted */
            const size_t lead = 5;
            for (size_t i = 0; i < N; i++) {
                xs[i] = i < lead ? NAN : x[i - lead];
                hs[i] = i < lead - 2 ? NAN : i < lead ? 1e300 : h[i - lead];
                ls[i] = i < lead - 1 ? NAN : i < lead ? -7.0 : l[i - lead];
            }
            rc = run(k, xs, hs, ls, N, p, b1, b2, b3);
            ok = rc == FP_OK;
            for (int j = 0; j < no; j++)
                ok = ok && nan_prefix(outs_b[j], N) == lead + lb &&
                     memcmp(outs_b[j] + lead, outs_a[j], (N - lead) * sizeof(double)) == 0;
            report(ok, k, "leading NaNs skipped (same doubles, shifted)", p, N);

            /* just long enough, and one short of it */
            const size_t need = lb + 1;
            if (need <= N) {
                rc = run(k, x, h, l, need, p, b1, b2, b3);
                ok = rc == FP_OK;
                for (int j = 0; j < no; j++)
                    ok = ok && nan_prefix(outs_b[j], need) == lb;
                report(ok, k, "shortest input gives one value", p, need);
                rc = run(k, x, h, l, need - 1, p, b1, b2, b3);
                ok = rc == FP_OK;
                for (int j = 0; j < no; j++)
                    ok = ok && all_nan(outs_b[j], need - 1);
                report(ok, k, "too short gives all NaN", p, need - 1);
            }
        }
        /* all-NaN input and empty input */
        for (size_t i = 0; i < 20; i++)
            xs[i] = NAN;
        int rc = run(k, xs, xs, xs, 20, 3, b1, b2, b3);
        int ok = rc == FP_OK;
        for (int j = 0; j < no; j++)
            ok = ok && all_nan(outs_b[j], 20);
        report(ok, k, "all-NaN input gives all NaN", 3, 20);
        report(run(k, x, h, l, 0, 3, b1, b2, b3) == FP_OK, k, "empty input", 3, 0);

        /* bad periods */
        const int bad[] = {0, -1, FP_MAX_PERIOD + 1};
        for (size_t bi = 0; bi < 3; bi++)
            report(run(k, x, h, l, N, bad[bi], b1, b2, b3) == FP_EINVAL, k,
                   "period out of range is FP_EINVAL", bad[bi], N);
        report(run(k, x, h, l, 50, FP_MAX_PERIOD - 3, b1, b2, b3) == FP_OK && all_nan(b1, 50), k,
               "huge period on short input", FP_MAX_PERIOD - 3, 50);

        /* NaN / inf after the leading NaNs */
        const size_t spots[] = {5, 6, 150, N - 1};
        const double bads[] = {NAN, INF, -INF};
        for (size_t si = 0; si < 4; si++) {
            for (size_t vi = 0; vi < 3; vi++) {
                for (int target = 0; target < 3; target++) {
                    if (target > 0 && k != K_ATR && k != K_STOCH)
                        continue;
                    if (spots[si] == 5 && vi == 0)
                        continue; /* would just be one more leading NaN */
                    memcpy(xs, x, sizeof x);
                    memcpy(hs, h, sizeof h);
                    memcpy(ls, l, sizeof l);
                    for (size_t i = 0; i < 5; i++)
                        xs[i] = hs[i] = ls[i] = NAN;
                    double *t = target == 0 ? xs : target == 1 ? hs : ls;
                    t[spots[si]] = bads[vi];
                    for (size_t pi = 0; pi < 3; pi++)
                        report(run(k, xs, hs, ls, N, periods[pi + 1], b1, b2, b3) ==
                                   FP_ENONFINITE,
                               k, "non-finite input is FP_ENONFINITE", periods[pi + 1], N);
                    /* also when the input is too short for any output */
                    report(run(k, xs, hs, ls, N, 290, b1, b2, b3) == FP_ENONFINITE, k,
                           "non-finite short input is FP_ENONFINITE", 290, N);
                }
            }
        }
    }
    /* other invalid arguments */
    CHECK(fp_macd_f64(x, N, 5, 5, 3, a1, a2, a3) == FP_EINVAL);
    CHECK(fp_macd_f64(x, N, 6, 5, 3, a1, a2, a3) == FP_EINVAL);
    CHECK(fp_stddev_f64(x, N, 5, NAN, a1) == FP_EINVAL);
    CHECK(fp_bbands_f64(x, N, 5, 2.0, INF, a1, a2, a3) == FP_EINVAL);
    CHECK(fp_envelope_f64(x, N, 5, NAN, a1, a2, a3) == FP_EINVAL);
    CHECK(fp_stoch_f64(h, l, x, N, 5, 0, 3, a1, a2) == FP_EINVAL);
    CHECK(fp_stoch_f64(h, l, x, N, 5, 3, FP_MAX_PERIOD + 1, a1, a2) == FP_EINVAL);
    /* a leading infinity is not a leading NaN */
    xs[0] = INF;
    for (size_t i = 1; i < N; i++)
        xs[i] = x[i];
    CHECK(fp_sma_f64(xs, N, 3, a1) == FP_ENONFINITE);
    CHECK(fp_ema_f64(xs, N, 3, a1) == FP_ENONFINITE);
}

/* ------------------------------------------------------------------ */
/* Flat data                                                           */
/* ------------------------------------------------------------------ */

static void test_flat(void)
{
    enum { N = 4000 };
    static double x[N], o1[N], o2[N], o3[N];
    for (int scale = 0; scale < 3; scale++) {
        const double level = scale == 0 ? 1e-3 : scale == 1 ? 100.0 : 1e5;
        walk(x, N, level, level * 0.01);
        for (size_t i = 1000; i < 1600; i++) /* long flat stretch after movement */
            x[i] = x[999];
        for (size_t i = 3000; i < N; i++) /* and at the end */
            x[i] = x[2999];
        const int periods[] = {2, 5, 20, 100};
        for (size_t pi = 0; pi < 4; pi++) {
            const int p = periods[pi];
            int ok = fp_stddev_f64(x, N, p, 2.0, o1) == FP_OK;
            int ok2 = fp_bbands_f64(x, N, p, 2.0, 2.0, o1 + 0, o2, o3) == FP_OK;
            ok = ok && ok2;
            for (size_t i = 999 + (size_t)p; i < 1600; i++)
                ok = ok && o1[i] == o2[i] && o3[i] == o2[i];
            CHECK(ok); /* BBANDS collapses onto the middle band on flat data */
            ok = fp_stddev_f64(x, N, p, 1.0, o1) == FP_OK;
            for (size_t i = 3000 + (size_t)p; i < N; i++)
                ok = ok && o1[i] == 0.0;
            CHECK(ok); /* STDDEV exactly 0 */
            ok = fp_envelope_f64(x, N, p, 3.0, o1, o2, o3) == FP_OK;
            for (size_t i = 999 + (size_t)p; i < 1600; i++)
                ok = ok && o2[i] == x[999] && o1[i] == x[999] && o3[i] == x[999];
            CHECK(ok); /* envelope: exactly the value, std exactly 0 */
            ok = fp_rsi_simple_f64(x, N, p, o1) == FP_OK;
            for (size_t i = 999 + (size_t)p + 1; i < 1600; i++)
                ok = ok && o1[i] == 100.0;
            CHECK(ok); /* flat windows: exactly 100 */
        }
    }
    /* a long rise: no loss in any window, exactly 100 however long */
    for (size_t i = 0; i < N; i++)
        x[i] = 100.0 + 0.37 * (double)i + 0.01 * (double)(i % 7);
    CHECK(fp_rsi_simple_f64(x, N, 14, o1) == FP_OK && o1[N - 1] == 100.0 && o1[20] == 100.0);
    for (size_t i = 0; i < N; i++)
        x[i] = 100.0 - 0.37 * (double)i;
    CHECK(fp_rsi_simple_f64(x, N, 14, o1) == FP_OK && o1[N - 1] == 0.0);
}

/* ------------------------------------------------------------------ */
/* Long series against reference loops                                 */
/* ------------------------------------------------------------------ */

static void ref_ema(const double *x, size_t n, int p, double *out)
{
    const double k = 2.0 / (p + 1);
    double s = 0.0;
    for (int i = 0; i < p; i++) {
        out[i] = NAN;
        s += x[i];
    }
    double y = s / p;
    out[p - 1] = y;
    for (size_t i = (size_t)p; i < n; i++)
        out[i] = y = (x[i] - y) * k + y;
}

/* Wilder's RSI with TA-Lib 0.8's operations in its order */
static void ref_rsi(const double *x, size_t n, int p, double *out)
{
    const double invp = 1.0 / p, pm1 = p - 1;
    double g = 0.0, l = 0.0;
    for (int i = 1; i <= p; i++) {
        double d = x[i] - x[i - 1], up = d > 0 ? d : 0;
        g += up;
        l += up - d;
    }
    g *= invp;
    l *= invp;
    for (int i = 0; i < p; i++)
        out[i] = NAN;
    for (size_t i = (size_t)p;;) {
        out[i] = l + g > 0 ? (g / (l + g)) * 100.0 : 0.0;
        if (++i == n)
            break;
        double d = x[i] - x[i - 1], up = d > 0 ? d : 0;
        g = (g * pm1 + up) * invp;
        l = ((up - d) + l * pm1) * invp;
    }
}

/* MACD with TA-Lib's seeds and steps, one value at a time */
static void ref_macd(const double *x, size_t n, int fast, int slow, int signal, double *m,
                     double *s, double *h)
{
    const double kf = 2.0 / (fast + 1), ks = 2.0 / (slow + 1), kg = 2.0 / (signal + 1);
    const size_t i0 = (size_t)slow - 1, o0 = i0 + (size_t)signal - 1;
    double sf = 0.0, ss = 0.0, sg = 0.0;
    for (size_t i = 0; i <= i0; i++) {
        ss += x[i];
        if (i + (size_t)fast > i0)
            sf += x[i];
    }
    double yf = sf / fast, ys = ss / slow, yg = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (i > i0) {
            yf = (x[i] - yf) * kf + yf;
            ys = (x[i] - ys) * ks + ys;
        }
        double v = yf - ys;
        if (i >= i0 && i <= o0)
            sg += v;
        if (i == o0)
            yg = sg / signal;
        else if (i > o0)
            yg = (v - yg) * kg + yg;
        m[i] = i < o0 ? NAN : v;
        s[i] = i < o0 ? NAN : yg;
        h[i] = i < o0 ? NAN : v - yg;
    }
}

/* two-pass mean and population std of x[i-p+1..i] */
static void window_stats(const double *x, size_t i, int p, double *mean, double *sd)
{
    double m = 0.0, v = 0.0;
    for (int j = 0; j < p; j++)
        m += x[i - (size_t)j];
    m /= p;
    for (int j = 0; j < p; j++)
        v += (x[i - (size_t)j] - m) * (x[i - (size_t)j] - m);
    *mean = m;
    *sd = sqrt(v / p);
}

static void test_long_series(void)
{
    enum { N = 60000 };
    static double x[N], h[N], l[N], o1[N], o2[N], o3[N], r1[N];
    walk(x, N, 100.0, 1.0);
    for (size_t i = 0; i < N; i++) {
        h[i] = x[i] + fabs(gauss());
        l[i] = x[i] - fabs(gauss());
    }
    const int periods[] = {1, 2, 5, 14, 26, 200};
    for (size_t pi = 0; pi < 6; pi++) {
        const int p = periods[pi];
        /* EMA: the reference's exact doubles (eight lanes, checked seams) */
        ref_ema(x, N, p, r1);
        CHECK(fp_ema_f64(x, N, p, o1) == FP_OK && memcmp(o1, r1, sizeof o1) == 0);
        /* RSI: within rounding of the textbook recursion */
        if (p > 1) {
            ref_rsi(x, N, p, r1);
            CHECK(fp_rsi_f64(x, N, p, o1) == FP_OK && all_near(o1, r1, N, 1e-11));
        }
        /* STDDEV, BBANDS, envelope against two-pass windows */
        CHECK(fp_stddev_f64(x, N, p, 1.0, o1) == FP_OK);
        CHECK(fp_envelope_f64(x, N, p, 1.0, o2, o3, r1) == FP_OK);
        int ok_sd = 1, ok_env = 1;
        for (size_t i = (size_t)p - 1; i < N; i += 7) {
            double m, sd;
            window_stats(x, i, p, &m, &sd);
            ok_sd = ok_sd && fabs(o1[i] - sd) < 1e-9;
            ok_env = ok_env && fabs(o3[i] - m) < 1e-11 && fabs(o2[i] - o3[i] - sd) < 1e-11;
        }
        CHECK(ok_sd);
        CHECK(ok_env);
        /* ATR(1) is the true range */
        if (p == 1) {
            CHECK(fp_atr_f64(h, l, x, N, 1, o1) == FP_OK);
            int ok = isnan(o1[0]);
            for (size_t i = 1; i < N; i++) {
                double tr = h[i] - l[i], a = fabs(x[i - 1] - h[i]), b = fabs(x[i - 1] - l[i]);
                tr = a > tr ? a : tr;
                tr = b > tr ? b : tr;
                ok = ok && o1[i] == tr;
            }
            CHECK(ok);
        }
        /* STOCH fastk (slowk 1, slowd 1) against a direct window scan */
        CHECK(fp_stoch_f64(h, l, x, N, p, 1, 1, o1, o2) == FP_OK);
        int ok = 1;
        for (size_t i = (size_t)p - 1; i < N; i += 13) {
            double lo = l[i], hi = h[i];
            for (int j = 1; j < p; j++) {
                lo = l[i - (size_t)j] < lo ? l[i - (size_t)j] : lo;
                hi = h[i - (size_t)j] > hi ? h[i - (size_t)j] : hi;
            }
            ok = ok && o1[i] == ((x[i] - lo) / (hi - lo)) * 100.0 && o2[i] == o1[i];
        }
        CHECK(ok);
    }
    /* MACD: the reference's exact doubles, in one pass (short series) and
     * in cache-sized segments of eight lanes (long ones) */
    {
        enum { M = 200000 };
        double *y = malloc(7 * M * sizeof(double));
        if (!y) {
            CHECK(!"malloc");
            return;
        }
        double *m = y + M, *sg = y + 2 * M, *hh = y + 3 * M, *rm = y + 4 * M, *rs = y + 5 * M,
               *rh = y + 6 * M;
        walk(y, M, 100.0, 1.0);
        const size_t lens[] = {40, 1000, 5000, M};
        for (size_t li = 0; li < 4; li++) {
            ref_macd(y, lens[li], 12, 26, 9, rm, rs, rh);
            CHECK(fp_macd_f64(y, lens[li], 12, 26, 9, m, sg, hh) == FP_OK &&
                  memcmp(m, rm, lens[li] * sizeof(double)) == 0 &&
                  memcmp(sg, rs, lens[li] * sizeof(double)) == 0 &&
                  memcmp(hh, rh, lens[li] * sizeof(double)) == 0);
        }
        free(y);
    }
    /* RSI after a very long unchanged stretch: the averages decay into
     * subnormal numbers, where only the reference's exact arithmetic
     * reproduces the ratio */
    for (size_t i = 1000; i < 40000; i++)
        x[i] = x[999];
    const int flat_periods[] = {2, 14};
    for (size_t pi = 0; pi < 2; pi++) {
        ref_rsi(x, N, flat_periods[pi], r1);
        CHECK(fp_rsi_f64(x, N, flat_periods[pi], o1) == FP_OK &&
              memcmp(o1, r1, sizeof o1) == 0);
    }
}

/* ------------------------------------------------------------------ */
/* EMA lanes against the plain loop, bit for bit                       */
/* ------------------------------------------------------------------ */

/* Data that is hard on ema_run's lanes: their starting estimates, their
 * merging with the exact run, and the boundary checks. */
enum { EX_WALK, EX_TINY, EX_HUGE, EX_FLATS, EX_JUMPS, EX_NOISE, EX_STALL, EX_CREEP, EX_KINDS };
static const char *const ex_name[EX_KINDS] = {"walk",  "tiny",  "huge",  "flats",
                                              "jumps", "noise", "stall", "creep"};

static void adversarial(double *x, size_t n, int kind)
{
    switch (kind) {
    case EX_WALK: /* ordinary prices */
        walk(x, n, 100.0, 1.0);
        break;
    case EX_TINY: /* the weighted sums' products go subnormal */
        walk(x, n, 1e-305, 1e-306);
        break;
    case EX_HUGE: /* differences near overflow */
        walk(x, n, 1e300, 1e299);
        break;
    case EX_FLATS: /* constant stretches of random length and level */
        for (size_t i = 0; i < n;) {
            size_t len = 1 + (size_t)(uniform() * 700.0);
            double level = 100.0 + 10.0 * gauss();
            for (; len > 0 && i < n; len--, i++)
                x[i] = level;
        }
        break;
    case EX_JUMPS: /* two levels six orders of magnitude apart */
        for (size_t i = 0; i < n; i++)
            x[i] = (i / 37) % 2 ? 1e6 + gauss() : 1.0;
        break;
    case EX_NOISE: /* around zero, where ulps are tiny */
        for (size_t i = 0; i < n; i++)
            x[i] = gauss();
        break;
    case EX_STALL: /* a walk, a long unchanged stretch, a walk again */
        walk(x, n, 100.0, 1.0);
        for (size_t i = n / 5; i < 4 * n / 5; i++)
            x[i] = x[n / 5];
        break;
    case EX_CREEP: /* steps of a few ulps: the recursion barely moves */
        for (size_t i = 0; i < n; i++)
            x[i] = 100.0 + 1e-13 * (double)(i % 1000) + (uniform() < 0.01 ? 1e-9 : 0.0);
        break;
    }
}

static void test_ema_exact(void)
{
    enum { N = 40000 };
    static double x[N], o1[N], r1[N], o2[N], o3[N], r2[N], r3[N];
    const int periods[] = {1, 2, 3, 5, 9, 14, 20, 26, 50, 100, 200};
    for (size_t pi = 0; pi < sizeof periods / sizeof *periods; pi++) {
        const int p = periods[pi];
        /* ema_run's thresholds for m = n - p steps after the seed: lanes
         * from warm + 8 * 16 on (warm = 6/k = 3 (p + 1)), one block of
         * weights up to 256 steps per lane, full sums up to 40/k steps */
        const size_t warm = 3 * (size_t)(p + 1), seed = (size_t)p;
        size_t lens[64], nl = 0;
        for (size_t d = 0; d <= 8; d++)
            lens[nl++] = seed + warm + 8 * 16 - 4 + d;
        const size_t per_lane[] = {17, 100, 255, 256, 257, 513, 20 * (size_t)(p + 1) + 1};
        for (size_t q = 0; q < sizeof per_lane / sizeof *per_lane; q++)
            for (int d = 0; d < 3; d++)
                lens[nl++] = seed + warm + 8 * (per_lane[q] - 1 + (size_t)d) + (size_t)d;
        lens[nl++] = N;
        for (int kind = 0; kind < EX_KINDS; kind++) {
            adversarial(x, N, kind);
            size_t li = 0, n = 0;
            for (; li < nl; li++) {
                n = lens[li] < N ? lens[li] : N;
                ref_ema(x, n, p, r1);
                if (fp_ema_f64(x, n, p, o1) != FP_OK || memcmp(o1, r1, n * sizeof(double)))
                    break;
            }
            report(li == nl, K_EMA, ex_name[kind], p, n);
        }
    }
    /* a NaN or an infinity after the seed: reported, and every value
     * still the plain loop's (NaN from there on) */
    walk(x, N, 100.0, 1.0);
    const size_t at[] = {30, 700, 5000, 20001, N - 1};
    for (size_t q = 0; q < sizeof at / sizeof *at; q++) {
        for (int inf = 0; inf < 2; inf++) {
            const double keep = x[at[q]];
            x[at[q]] = inf ? INF : NAN;
            ref_ema(x, N, 20, r1);
            CHECK(fp_ema_f64(x, N, 20, o1) == FP_ENONFINITE &&
                  memcmp(o1, r1, sizeof o1) == 0);
            x[at[q]] = keep;
        }
    }
    /* MACD's three ema_run passes on the same data */
    const size_t macd_lens[] = {300, 1000, 4000, N};
    for (int kind = 0; kind < EX_KINDS; kind++) {
        adversarial(x, N, kind);
        for (size_t li = 0; li < 4; li++) {
            const size_t n = macd_lens[li];
            ref_macd(x, n, 12, 26, 9, r1, r2, r3);
            const int ok = fp_macd_f64(x, n, 12, 26, 9, o1, o2, o3) == FP_OK &&
                           memcmp(o1, r1, n * sizeof(double)) == 0 &&
                           memcmp(o2, r2, n * sizeof(double)) == 0 &&
                           memcmp(o3, r3, n * sizeof(double)) == 0;
            report(ok, K_MACD, ex_name[kind], 26, n);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Several threads at once on shared inputs                            */
/* ------------------------------------------------------------------ */

enum { TN = 20000 };
static double tx[TN], th[TN], tl[TN];

typedef struct {
    double out[K_COUNT][3][TN];
    int ok;
} thread_result;

static void *thread_main(void *arg)
{
    thread_result *r = arg;
    r->ok = 1;
    for (int k = 0; k < K_COUNT; k++)
        r->ok = r->ok && run(k, tx, th, tl, TN, 14, r->out[k][0], r->out[k][1],
                             r->out[k][2]) == FP_OK;
    return NULL;
}

static void test_threads(void)
{
    enum { T = 4 };
    walk(tx, TN, 100.0, 1.0);
    for (size_t i = 0; i < TN; i++) {
        th[i] = tx[i] + 0.5;
        tl[i] = tx[i] - 0.5;
    }
    thread_result *res = malloc(T * sizeof *res);
    if (!res) {
        CHECK(!"malloc");
        return;
    }
    pthread_t tid[T];
    int started = 1;
    for (int t = 0; t < T; t++)
        started = started && pthread_create(&tid[t], NULL, thread_main, &res[t]) == 0;
    CHECK(started);
    if (!started)
        exit(1);
    for (int t = 0; t < T; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < T; t++) {
        CHECK(res[t].ok);
        for (int k = 0; k < K_COUNT; k++)
            for (int j = 0; j < outputs(k); j++)
                CHECK(memcmp(res[t].out[k][j], res[0].out[k][j], sizeof res[t].out[k][j]) == 0);
    }
    free(res);
}

int main(void)
{
    test_examples();
    test_conventions();
    test_flat();
    test_long_series();
    test_ema_exact();
    test_threads();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
