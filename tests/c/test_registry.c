/*
 * test_registry.c - checks every row of the indicator table (registry.h)
 * from plain C: for each row and several parameter sets (the defaults,
 * every integer parameter at its least value and above it, every moving-
 * average type), on random walks with flat stretches and a jump, at price
 * levels from 1e-3 to 1e5:
 *   - the NaN prefix is exactly begin + lookback, leading NaNs skipped;
 *   - the stream, fed one bar at a time, gives the batch values at every
 *     step (within 1e-12 relative: identical for most rows);
 *   - FP_ENONFINITE for a NaN or infinity after the leading NaNs, in batch
 *     and stream (which then stays unchanged);
 *   - all NaN for inputs too short; FP_EINVAL for a parameter out of range;
 *   - the same results from several threads at once over shared inputs.
 * Prints one line per failure and ends with "N passed, N failed".
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/_fastpar/registry.h"

static int passed, failed;

static void check(int ok, const fp_indicator *ind, const char *what, size_t at)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: %s (at %zu)\n", ind->name, what, at);
    }
}

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

#define N 3000

/* Bars: open, high, low, close, volume, and a second series. */
typedef struct {
    double open[N], high[N], low[N], close[N], volume[N], other[N];
} bars;

static void make_bars(bars *b, double level)
{
    double c = level;
    for (size_t i = 0; i < N; i++) {
        double prev = c;
        c *= exp(0.002 * gauss());
        if (i == N / 2)
            c *= 1.25; /* a jump */
        b->open[i] = prev;
        b->close[i] = c;
        b->high[i] = fmax(prev, c) * (1.0 + 0.001 * fabs(gauss()));
        b->low[i] = fmin(prev, c) * (1.0 - 0.001 * fabs(gauss()));
        b->volume[i] = 1000.0 * (1.0 + fabs(gauss()));
        b->other[i] = 0.5 * c + level * 0.01 * gauss();
    }
    /* a flat stretch longer than any period used here */
    for (size_t i = N / 3; i < N / 3 + 120; i++) {
        b->open[i] = b->high[i] = b->low[i] = b->close[i] = b->close[N / 3];
        b->volume[i] = 1000.0;
        b->other[i] = b->other[N / 3];
    }
}

static const double *input_of(const bars *b, const char *name)
{
    if (strcmp(name, "open") == 0)
        return b->open;
    if (strcmp(name, "high") == 0)
        return b->high;
    if (strcmp(name, "low") == 0)
        return b->low;
    if (strcmp(name, "volume") == 0)
        return b->volume;
    if (strcmp(name, "real1") == 0)
        return b->other;
    return b->close; /* real, real0, close */
}

static int close_to(double a, double b, double rel)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= rel * fmax(1.0, fabs(b));
}

/* One row, one parameter set, one input (with `lead` leading NaNs in each
 * input, the k-th input getting lead + k). */
static void check_row(const fp_indicator *ind, const double *p, const bars *b, size_t lead)
{
    static double in_buf[FP_MAX_IN][N], out_buf[FP_MAX_OUT][N];
    const double *in[FP_MAX_IN];
    double *out[FP_MAX_OUT];
    size_t begin = 0;
    for (int k = 0; k < ind->n_in; k++) {
        memcpy(in_buf[k], input_of(b, ind->ta_in[k]), sizeof in_buf[k]);
        for (size_t i = 0; lead > 0 && i < lead + (size_t)k && i < N; i++)
            in_buf[k][i] = NAN;
        if (lead > 0 && lead + (size_t)k > begin)
            begin = lead + (size_t)k;
        in[k] = in_buf[k];
    }
    for (int j = 0; j < ind->n_out; j++)
        out[j] = out_buf[j];
    check(fp_indicator_check(ind, p) < 0 || (ind->flags & FP_FAST_SLOW), ind,
          "parameters accepted", 0);
    int status = fp_indicator_run(ind, in, N, p, out);
    check(status == FP_OK, ind, "batch status", (size_t)status);
    const size_t first = begin + fp_indicator_lookback(ind, p);
    for (int j = 0; j < ind->n_out; j++) {
        size_t i = 0;
        while (i < N && isnan(out[j][i]))
            i++;
        check(i == first, ind, "NaN prefix = begin + lookback", i);
        if (i != first)
            printf("  output %d: first value at %zu, begin %zu + lookback %zu; params %g %g %g %g %g\n", j,
                   i, begin, first - begin, p[0], p[1], p[2], p[3], p[4]);
        while (i < N && !isnan(out[j][i]))
            i++;
        check(i == N, ind, "no NaN after the prefix", i);
    }

    fp_stream s;
    check(fp_stream_open(&s, ind, p) == FP_OK, ind, "stream opens", 0);
    double bar[FP_MAX_IN], res[FP_MAX_OUT];
    size_t bad = N;
    for (size_t i = 0; i < N; i++) {
        for (int k = 0; k < ind->n_in; k++)
            bar[k] = in[k][i];
        fp_stream_update(&s, bar, res);
        for (int j = 0; j < ind->n_out; j++)
            if (bad == N && !close_to(res[j], out[j][i], 1e-12))
                bad = i;
    }
    check(bad == N, ind, "stream == batch at every step", bad);

    /* a NaN after the start: the stream refuses it and stays unchanged */
    for (int k = 0; k < ind->n_in; k++)
        bar[k] = in[k][N - 1];
    bar[ind->n_in - 1] = NAN;
    check(fp_stream_update(&s, bar, res) == FP_ENONFINITE, ind, "stream refuses NaN", 0);
    bar[ind->n_in - 1] = in[ind->n_in - 1][N - 1];
    fp_stream_update(&s, bar, res);
    fp_stream_reset(&s);
    for (size_t i = 0; i < 50 && i < N; i++) {
        for (int k = 0; k < ind->n_in; k++)
            bar[k] = in[k][i];
        fp_stream_update(&s, bar, res);
    }
    fp_stream_close(&s);

    /* a NaN or infinity after the leading NaNs: in the last bars, and in
     * the middle (kernels that check a chunk at a time as they go) */
    static const size_t where[] = {N - 7, N / 2 + 3, N / 3};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        for (int k = 0; k < ind->n_in; k++) {
            double kept = in_buf[k][where[w]];
            in_buf[k][where[w]] = (k + (int)w) % 2 ? INFINITY : NAN;
            check(fp_indicator_run(ind, in, N, p, out) == FP_ENONFINITE, ind,
                  "batch refuses NaN", where[w] + (size_t)k);
            in_buf[k][where[w]] = kept;
        }
    }

    /* too short: all NaN */
    const size_t n_short = first < N ? first : N;
    check(fp_indicator_run(ind, in, n_short, p, out) == FP_OK, ind, "short input", n_short);
    for (int j = 0; j < ind->n_out; j++)
        for (size_t i = 0; i < n_short; i++)
            if (!isnan(out[j][i])) {
                check(0, ind, "short input is all NaN", i);
                break;
            }
}

/* The parameter sets of a row: defaults; each integer parameter at its
 * least value and 3 above; each matype at every type, with periods of 4. */
static int param_sets(const fp_indicator *ind, double sets[][FP_MAX_PARAMS], int max)
{
    static const int types[] = {0, 1, 2, 3, 4, 5, 6, 8, 10};
    int n = 0;
    for (int k = 0; k < ind->n_params; k++)
        sets[n][k] = ind->params[k].def;
    n++;
    for (int k = 0; k < ind->n_params && n + 2 < max; k++) {
        if (ind->params[k].kind != FP_PARAM_INT)
            continue;
        for (int d = 0; d <= 3; d += 3) {
            memcpy(sets[n], sets[0], sizeof sets[0]);
            sets[n][k] = ind->params[k].lo + d;
            n++;
        }
    }
    for (int k = 0; k < ind->n_params; k++) {
        if (ind->params[k].kind != FP_PARAM_MATYPE)
            continue;
        for (size_t t = 0; t < sizeof types / sizeof types[0] && n < max; t++) {
            memcpy(sets[n], sets[0], sizeof sets[0]);
            for (int q = 0; q < ind->n_params; q++)
                if (ind->params[q].kind == FP_PARAM_INT)
                    sets[n][q] = 4;
            sets[n][k] = types[t];
            n++;
        }
    }
    /* TA-Lib's reading of fast and slow */
    for (int i = 0; i < n; i++)
        fp_indicator_ta_params(ind, sets[i], sets[i]);
    return n;
}

static void test_rows(void)
{
    static bars b;
    static const double levels[] = {1e-3, 100.0, 1e5};
    double sets[64][FP_MAX_PARAMS];
    const fp_indicator *ind;
    for (size_t l = 0; l < 3; l++) {
        make_bars(&b, levels[l]);
        for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++) {
            int n = param_sets(ind, sets, 64);
            for (int i = 0; i < n; i++)
                check_row(ind, sets[i], &b, l == 1 ? 9 : 0);
        }
    }
}

static void test_parameters_out_of_range(void)
{
    const fp_indicator *ind;
    double p[FP_MAX_PARAMS], out_buf[FP_MAX_OUT][8];
    double *out[FP_MAX_OUT] = {out_buf[0], out_buf[1], out_buf[2]};
    const double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const double *in[FP_MAX_IN] = {x, x, x, x};
    for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++) {
        for (int k = 0; k < ind->n_params; k++) {
            const fp_param *par = &ind->params[k];
            const double bad[] = {par->lo - 1.0, par->hi + 1.0, NAN, par->lo + 0.5};
            for (size_t v = 0; v < 4; v++) {
                if (par->kind == FP_PARAM_REAL && (v == 3 || (bad[v] >= par->lo && bad[v] <= par->hi)))
                    continue; /* fractions are valid reals; DBL_MAX + 1 is DBL_MAX */
                for (int q = 0; q < ind->n_params; q++)
                    p[q] = ind->params[q].def;
                p[k] = bad[v];
                check(fp_indicator_check(ind, p) == k, ind, "check names the parameter", v);
                check(fp_indicator_run(ind, in, 8, p, out) == FP_EINVAL, ind,
                      "run refuses the parameter", v);
            }
        }
    }
    /* fast < slow, fastpar's rule for the FP_FAST_SLOW rows: equal periods
     * are refused and name the slow one; in TA-Lib's order (run) they pass */
    for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++) {
        if (!(ind->flags & FP_FAST_SLOW))
            continue;
        for (int q = 0; q < ind->n_params; q++)
            p[q] = ind->params[q].def;
        p[1] = p[0];
        check(fp_indicator_check(ind, p) == 1, ind, "fast == slow refused", 0);
        check(fp_indicator_run(ind, in, 8, p, out) == FP_OK, ind, "fast == slow runs as TA-Lib", 0);
    }
    /* MAMA, HMA, ZLEMA, RMA and DEFAULT (which the glue resolves) */
    const int missing[] = {7, 9, 11, 12, 13};
    for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++)
        for (int k = 0; k < ind->n_params; k++)
            if (ind->params[k].kind == FP_PARAM_MATYPE)
                for (size_t m = 0; m < 5; m++) {
                    for (int q = 0; q < ind->n_params; q++)
                        p[q] = ind->params[q].def;
                    p[k] = missing[m];
                    check(fp_indicator_check(ind, p) == k, ind, "unimplemented matype", m);
                }
}

/* Several threads run every row over the same inputs at once; each must
 * get the single-threaded results (and TSan must see no race). */
#define THREADS 4
static bars shared_bars;

static void *thread_main(void *arg)
{
    int *ok = arg;
    static const size_t n = 500;
    double out_buf[FP_MAX_OUT][500], ref_buf[FP_MAX_OUT][500];
    const fp_indicator *ind;
    *ok = 1;
    for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++) {
        const double *in[FP_MAX_IN];
        double *out[FP_MAX_OUT], *ref[FP_MAX_OUT], p[FP_MAX_PARAMS];
        for (int k = 0; k < ind->n_in; k++)
            in[k] = input_of(&shared_bars, ind->ta_in[k]);
        for (int j = 0; j < ind->n_out; j++) {
            out[j] = out_buf[j];
            ref[j] = ref_buf[j];
        }
        for (int q = 0; q < ind->n_params; q++)
            p[q] = ind->params[q].def;
        fp_indicator_ta_params(ind, p, p);
        for (int rep = 0; rep < 3; rep++) {
            if (fp_indicator_run(ind, in, n, p, rep == 0 ? ref : out) != FP_OK)
                *ok = 0;
            if (rep > 0)
                for (int j = 0; j < ind->n_out; j++)
                    for (size_t i = 0; i < n; i++)
                        if (!close_to(out[j][i], ref[j][i], 0.0))
                            *ok = 0;
        }
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    int ok[THREADS];
    make_bars(&shared_bars, 100.0);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, thread_main, &ok[i]);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        if (ok[i])
            passed++;
        else {
            failed++;
            printf("FAIL thread %d: results differ or a row failed\n", i);
        }
    }
}

int main(void)
{
    printf("%zu indicators\n", fp_indicator_count());
    test_rows();
    test_parameters_out_of_range();
    test_threads();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
