/*
 * ind_common.h - what the indicator family files (ind_*.c) share: the
 * parameter shorthands of their table rows, and FP_STEP_KERNELS, which
 * turns one streaming step into both a row's batch kernel and its stream
 * update, so that both compute the same doubles by construction.
 *
 * Internal to src/_fastpar (no Python.h).
 */
#ifndef FP_IND_COMMON_H
#define FP_IND_COMMON_H

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ma.h"
#include "registry.h"
#include "series.h"

/* TA-Lib's function groups. */
#define G_OVERLAP "Overlap Studies"
#define G_MOMENTUM "Momentum Indicators"
#define G_VOLUME "Volume Indicators"
#define G_VOLATILITY "Volatility Indicators"
#define G_STATISTIC "Statistic Functions"
#define G_PRICE "Price Transform"
#define G_MATH "Math Operators"

/* Parameters: fastpar's name, TA-Lib's, default, least value. */
#define P_INT(name, ta_name, def, lo)                                                             \
    {(name), (ta_name), FP_PARAM_INT, (def), (lo), FP_MAX_PERIOD}
#define P_PERIOD(def, lo) P_INT("period", "timeperiod", def, lo)
#define P_MATYPE(name, def) {(name), (name), FP_PARAM_MATYPE, (def), 0, 13}
/* A real number, any finite value unless lo/hi say otherwise. */
#define P_REAL(name, ta_name, def) {(name), (ta_name), FP_PARAM_REAL, (def), -DBL_MAX, DBL_MAX}
#define P_REAL_IN(name, ta_name, def, lo, hi) {(name), (ta_name), FP_PARAM_REAL, (def), (lo), (hi)}

/* Input lists: fastpar's names, TA-Lib's. */
#define IN_X 1, {"x"}, {"real"}
#define IN_HL 2, {"high", "low"}, {"high", "low"}
#define IN_HLC 3, {"high", "low", "close"}, {"high", "low", "close"}
#define IN_HLCV 4, {"high", "low", "close", "volume"}, {"high", "low", "close", "volume"}
#define IN_OHLC 4, {"open", "high", "low", "close"}, {"open", "high", "low", "close"}

/* The kernel fields of a row whose functions are NAME_lookback,
 * NAME_batch, NAME_size, NAME_init and NAME_update. */
#define KERNELS(name)                                                                             \
    .lookback = name##_lookback, .batch = name##_batch, .state_size = name##_size,                \
    .state_init = name##_init, .update = name##_update

/* From a state type NAME_state, NAME_size(p) (its bytes), NAME_init(st, p)
 * and `static FP_INLINE void NAME_step(NAME_state *, const double *in,
 * double *out)`: the row's stream update (NAME_update) and its batch
 * kernel (NAME_batch), which runs the same step over the series, inlined,
 * with the state on the heap as the stream's. The step writes NaN over the
 * lookback, which the runner has filled with NaN already. */
#define FP_STEP_KERNELS(name, n_in, n_out)                                                        \
    static void name##_update(void *st, const double *in, double *out)                          \
    {                                                                                             \
        name##_step((name##_state *)st, in, out);                                                 \
    }                                                                                             \
    FP_STEP_BATCH(name##_batch, name, n_in, n_out)

/* Only the batch kernel, under the name fn. The loop works on a copy of
 * the state's fixed part on the stack, which the compiler keeps in
 * registers (the heap copy could alias the outputs); its rings stay in the
 * heap block. It checks the inputs' finiteness a chunk at a time as it
 * goes (the row has FP_OWN_FINITE); steps over a NaN or an infinity give
 * garbage, never read: the kernel then returns FP_ENONFINITE. */
#define FP_STEP_BATCH(fn, name, n_in, n_out)                                                      \
    static int fn(const double *const *in, size_t n, const double *p, double *const *out)       \
    {                                                                                             \
        name##_state *st = malloc(name##_size(p));                                                \
        if (st == NULL)                                                                           \
            return FP_ENOMEM;                                                                     \
        name##_init(st, p);                                                                       \
        name##_state local;                                                                       \
        memcpy(&local, st, sizeof local);                                                         \
        double iv[n_in], ov[n_out];                                                               \
        size_t upto = 0;                                                                          \
        for (size_t b0 = 0; b0 < n; b0 += FP_CHECK_CHUNK) {                                       \
            const size_t e = n - b0 > FP_CHECK_CHUNK ? b0 + FP_CHECK_CHUNK : n;                   \
            for (size_t i = b0; i < e; i++) {                                                     \
                for (int k = 0; k < (n_in); k++)                                                  \
                    iv[k] = in[k][i];                                                             \
                name##_step(&local, iv, ov);                                                      \
                for (int j = 0; j < (n_out); j++)                                                 \
                    out[j][i] = ov[j];                                                            \
            }                                                                                     \
            if (!finite_upto(in, n_in, n, e, &upto))                                              \
                break;                                                                            \
        }                                                                                         \
        free(st);                                                                                 \
        return upto == n ? FP_OK : FP_ENONFINITE;                                                 \
    }

/* A batch loop over i in [from, n) that checks the inputs' finiteness a
 * chunk at a time as it goes (series.h's finite_upto; the row has
 * FP_OWN_FINITE), returning FP_ENONFINITE from the enclosing kernel. The
 * body computes bar i. */
#define FP_CHECKED_LOOP(i, from, n, in, n_in, body)                                               \
    do {                                                                                          \
        size_t upto_ = 0;                                                                         \
        for (size_t b0_ = (from); b0_ < (n); b0_ += FP_CHECK_CHUNK) {                             \
            const size_t e_ = (n) - b0_ > FP_CHECK_CHUNK ? b0_ + FP_CHECK_CHUNK : (n);            \
            for (size_t i = b0_; i < e_; i++) {                                                   \
                body;                                                                             \
            }                                                                                     \
            if (!finite_upto((in), (n_in), (n), e_, &upto_))                                      \
                return FP_ENONFINITE;                                                             \
        }                                                                                         \
        if (!finite_upto((in), (n_in), (n), (n), &upto_)) /* from == n: no chunk */             \
            return FP_ENONFINITE;                                                                 \
    } while (0)

/* TA-Lib's true range: high - low, raised to |prev_close - high| or
 * |prev_close - low| if larger. */
static inline double true_range(double h, double l, double prev_close)
{
    double r = h - l;
    double up = fabs(prev_close - h), dn = fabs(prev_close - l);
    r = up > r ? up : r;
    return dn > r ? dn : r;
}

/* A period parameter as a size. */
static inline size_t per(const double *p, int k)
{
    return (size_t)p[k];
}

#endif
