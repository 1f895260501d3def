/*
 * test_program.c - checks the program engine of src/_fastpar/program.c.
 *
 * A program of an SMA and two thresholds (parameters) against the same
 * signals computed here and run through fp_backtest (the account both
 * share), on 1 and 2 threads; a cooldown read from the trade's state on a
 * path worked out by hand; rolling windows, shifts, bars-since and crosses
 * on a short series; malformed programs and parameter sets refused with
 * the instruction and set to blame. Prints one line per failure and ends
 * with "N passed, N failed".
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/_fastpar/program.h"
#include "../../src/_fastpar/registry.h"

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

static fp_costs costs(void)
{
    fp_costs k = {0.001, 0.0, 0.0, NAN, NAN, 252.0, 0};
    return k;
}

#define SLOT(i) {FP_ARG_SLOT, (i), 0.0}
#define PARAM(i) {FP_ARG_PARAM, (i), 0.0}
#define CONST(v) {FP_ARG_CONST, 0, (v)}

static size_t row_of(const char *name)
{
    for (size_t i = 0; i < fp_indicator_count(); i++)
        if (strcmp(fp_indicator_at(i)->name, name) == 0)
            return i;
    return SIZE_MAX;
}

/* entry: close < sma(close, p0) * (1 - p1); exit: close > sma(close, p0) */
static void test_against_signal_arrays(void)
{
    enum { N = 4000, SETS = 6 };
    static double close[N], out[SETS * FP_SWEEP_N_METRICS], want[FP_SWEEP_N_METRICS];
    static unsigned char entries[N], exits[N];
    unsigned long long s = 42;
    double x = 100.0;
    for (size_t t = 0; t < N; t++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x *= 1.0 + ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.03;
        close[t] = x;
    }
    const fp_instr code[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},                        /* slot 0 */
        {FP_OP_INDICATOR, (int)row_of("sma"), 2, {SLOT(0), PARAM(0)}}, /* 1 */
        {FP_OP_SUB, 0, 2, {CONST(1.0), PARAM(1)}},                     /* 2 */
        {FP_OP_MUL, 0, 2, {SLOT(1), SLOT(2)}},                         /* 3 */
        {FP_OP_LT, 0, 2, {SLOT(0), SLOT(3)}},                          /* 4: entry */
        {FP_OP_GT, 0, 2, {SLOT(0), SLOT(1)}},                          /* 5: exit */
    };
    const fp_program prog = {code, 6, 2, 4, 5};
    const double params[SETS * 2] = {10, 0.01, 20, 0.0, 10, 0.02, 30, 0.01, 20, 0.01, 10, 0.0};
    fp_prog_bars bars = {{NULL, NULL, NULL, close, NULL}, N};
    fp_costs k = costs();
    for (int threads = 1; threads <= 2; threads++) {
        CHECK(fp_prog_sweep_run(&prog, &bars, params, SETS, &k, out, threads) == FP_OK);
        for (int j = 0; j < SETS; j++) {
            size_t p = (size_t)params[2 * j];
            double sum = 0.0;
            for (size_t t = 0; t < N; t++) { /* TA-Lib's SMA: a running sum */
                sum += close[t];
                double m = NAN;
                if (t + 1 >= p) {
                    m = sum / (double)p;
                    sum -= close[t + 1 - p];
                }
                entries[t] = close[t] < m * (1.0 - params[2 * j + 1]);
                exits[t] = close[t] > m;
            }
            fp_signals sig = {close, entries, exits, 1, 0, 1, 0, 1, 0, N, 1};
            CHECK(fp_backtest_run(&sig, &k, want, 1) == FP_OK);
            int same = 1;
            for (int m = 0; m < FP_SWEEP_N_METRICS; m++) {
                double a = out[j * FP_SWEEP_N_METRICS + m], b = want[m];
                same &= (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12 * (1.0 + fabs(b));
            }
            CHECK(same);
            CHECK(want[3] > 5); /* n_trades: not vacuous */
        }
    }
}

/* Enter whenever flat and p0 bars have passed since the last exit; leave
 * one bar into the trade: trades every 1 + max(1, p0) bars. */
static void test_cooldown(void)
{
    enum { N = 30 };
    double close[N], out[4 * FP_SWEEP_N_METRICS];
    for (int t = 0; t < N; t++)
        close[t] = 10.0 + t;
    const fp_instr code[] = {
        {FP_OP_STATE, FP_ST_IN_POSITION, 0, {{0}}},      /* 0 */
        {FP_OP_NOT, 0, 1, {SLOT(0)}},                    /* 1 */
        {FP_OP_STATE, FP_ST_BARS_SINCE_EXIT, 0, {{0}}},  /* 2 */
        {FP_OP_GE, 0, 2, {SLOT(2), PARAM(0)}},           /* 3 */
        {FP_OP_AND, 0, 2, {SLOT(1), SLOT(3)}},           /* 4: entry */
        {FP_OP_STATE, FP_ST_BARS_IN_TRADE, 0, {{0}}},    /* 5 */
        {FP_OP_GE, 0, 2, {SLOT(5), CONST(1.0)}},         /* 6: exit */
    };
    const fp_program prog = {code, 7, 1, 4, 6};
    const double params[4] = {0, 1, 2, 4};
    const double trades[4] = {15, 15, 10, 6};
    fp_prog_bars bars = {{NULL, NULL, NULL, close, NULL}, N};
    fp_costs k = costs();
    CHECK(fp_prog_sweep_run(&prog, &bars, params, 4, &k, out, 2) == FP_OK);
    for (int j = 0; j < 4; j++)
        CHECK(out[j * FP_SWEEP_N_METRICS + 3] == trades[j]);
}

/* Series instructions on a short series, read back through a program
 * whose entry is "series == expected" at every bar: entries then hold
 * iff the series matches. Checked by total exposure. */
static double exposure_of(const fp_instr *code, size_t n_code, const double *close, size_t n)
{
    double out[FP_SWEEP_N_METRICS];
    const fp_program prog = {code, n_code, 0, (long)n_code - 1, -1};
    fp_prog_bars bars = {{NULL, NULL, NULL, close, NULL}, n};
    fp_costs k = costs();
    if (fp_prog_sweep_run(&prog, &bars, NULL, 1, &k, out, 1) != FP_OK)
        return -1.0;
    return out[6];
}

static void test_series(void)
{
    const double close[8] = {5, 3, 4, 4, 6, 2, 7, 7};
    /* rolling_max(close, 3) >= 6: bars 4, 5, 6, 7 -> entry at 4, held to the end */
    const fp_instr roll[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_ROLL_MAX, 0, 2, {SLOT(0), CONST(3.0)}},
        {FP_OP_GE, 0, 2, {SLOT(1), CONST(6.0)}},
    };
    CHECK(exposure_of(roll, 3, close, 8) == 4.0 / 8.0);
    /* close crosses above shift(close, 1): 3->4 at 2 is, 4->4 not; first at bar 2 */
    const fp_instr cross[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_SHIFT, 0, 3, {SLOT(0), CONST(1.0), CONST(NAN)}},
        {FP_OP_CROSS_ABOVE, 0, 2, {SLOT(0), SLOT(1)}},
    };
    CHECK(exposure_of(cross, 3, close, 8) == 6.0 / 8.0);
    /* bars_since(close < 3) == 0 only at bar 5 */
    const fp_instr since[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_LT, 0, 2, {SLOT(0), CONST(3.0)}},
        {FP_OP_BARS_SINCE, 0, 1, {SLOT(1)}},
        {FP_OP_EQ, 0, 2, {SLOT(2), CONST(0.0)}},
    };
    CHECK(exposure_of(since, 4, close, 8) == 3.0 / 8.0);
    /* rolling_sum(close, 2) <= 7: 8 at bar 1, 7 at bar 2: first at bar 2 */
    const fp_instr sum[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_ROLL_SUM, 0, 2, {SLOT(0), CONST(2.0)}},
        {FP_OP_LE, 0, 2, {SLOT(1), CONST(7.0)}},
    };
    CHECK(exposure_of(sum, 3, close, 8) == 6.0 / 8.0);
}

static void test_errors(void)
{
    double close[50], out[2 * FP_SWEEP_N_METRICS];
    for (int t = 0; t < 50; t++)
        close[t] = 10.0 + t % 7;
    fp_prog_bars bars = {{NULL, NULL, NULL, close, NULL}, 50};
    fp_costs k = costs();
    fp_prog_sweep ps;
    /* a period of 0 in the second set */
    const fp_instr code[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_INDICATOR, (int)row_of("rsi"), 2, {SLOT(0), PARAM(0)}},
        {FP_OP_LT, 0, 2, {SLOT(1), CONST(30.0)}},
    };
    const fp_program prog = {code, 3, 1, 2, -1};
    const double params[2] = {14, 0};
    CHECK(fp_prog_sweep_init(&ps, &prog, &bars, params, 2, &k, out) == FP_EINVAL);
    CHECK(atomic_load(&ps.bad_instr) == 1 && ps.bad_set == 1);
    /* a slot read before it is written */
    const fp_instr early[] = {
        {FP_OP_LT, 0, 2, {SLOT(1), CONST(30.0)}},
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
    };
    const fp_program bad = {early, 2, 0, 0, -1};
    CHECK(fp_prog_sweep_init(&ps, &bad, &bars, NULL, 1, &k, out) == FP_EINVAL);
    CHECK(atomic_load(&ps.bad_instr) == 0);
    /* a series of the trade's state */
    const fp_instr state[] = {
        {FP_OP_STATE, FP_ST_ENTRY_PRICE, 0, {{0}}},
        {FP_OP_SHIFT, 0, 3, {SLOT(0), CONST(1.0), CONST(NAN)}},
        {FP_OP_GT, 0, 2, {SLOT(1), CONST(0.0)}},
    };
    const fp_program series_of_state = {state, 3, 0, 2, -1};
    CHECK(fp_prog_sweep_init(&ps, &series_of_state, &bars, NULL, 1, &k, out) == FP_EINVAL);
    CHECK(atomic_load(&ps.bad_instr) == 0); /* the state a series reads */
    /* a column the bars do not have; an unknown opcode */
    const fp_instr high[] = {{FP_OP_COLUMN, FP_COL_HIGH, 0, {{0}}},
                             {FP_OP_GT, 0, 2, {SLOT(0), CONST(0.0)}}};
    const fp_program no_high = {high, 2, 0, 1, -1};
    CHECK(fp_prog_sweep_init(&ps, &no_high, &bars, NULL, 1, &k, out) == FP_EINVAL);
    const fp_instr unknown[] = {{FP_N_OPS, 0, 0, {{0}}}};
    const fp_program no_op = {unknown, 1, 0, 0, -1};
    CHECK(fp_prog_sweep_init(&ps, &no_op, &bars, NULL, 1, &k, out) == FP_EINVAL);
    /* a division by zero fed to an indicator */
    const fp_instr div[] = {
        {FP_OP_COLUMN, FP_COL_CLOSE, 0, {{0}}},
        {FP_OP_SUB, 0, 2, {SLOT(0), CONST(10.0)}},
        {FP_OP_DIV, 0, 2, {CONST(1.0), SLOT(1)}},
        {FP_OP_INDICATOR, (int)row_of("sma"), 2, {SLOT(2), CONST(3.0)}},
        {FP_OP_GT, 0, 2, {SLOT(3), CONST(0.0)}},
    };
    const fp_program inf = {div, 5, 0, 4, -1};
    CHECK(fp_prog_sweep_init(&ps, &inf, &bars, NULL, 1, &k, out) == FP_ENONFINITE);
    CHECK(atomic_load(&ps.bad_instr) == 3);
}

int main(void)
{
    test_against_signal_arrays();
    test_cooldown();
    test_series();
    test_errors();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
