/*
 * registry.h - every indicator fastpar exposes, one table row per function
 * (pure C, no Python.h).
 *
 * A row is the whole definition of a function as the rest of fastpar sees
 * it: its names (fastpar's and TA-Lib's), inputs, parameters (defaults and
 * accepted ranges), outputs, lookback, batch kernel and streaming state.
 * The glue (module.c) exposes every row the same way, as fastpar.<name>,
 * fastpar.talib.<TA_NAME> and fastpar.stream.<TA_NAME>; the Python package,
 * the tests and the documentation table are derived from the rows. Adding
 * an indicator means writing its kernel and its streaming step beside its
 * row, in the family file that holds it (ind_overlap.c, ind_momentum.c,
 * ...), and its readable reference in python/fastpar/reference/.
 *
 * Conventions, common to all rows (those of TA-Lib):
 *   - every output is as long as the input and written in full;
 *   - leading NaNs are skipped: with `begin` the largest index of the
 *     first non-NaN value over the inputs, the function runs on
 *     [begin, n) and out[0 .. begin + lookback) is NaN; a shorter input
 *     gives all NaN;
 *   - after `begin` every input must be finite, else FP_ENONFINITE;
 *   - parameters are passed as doubles (integers exactly), in the row's
 *     order, and must lie in the row's ranges (fp_indicator_check).
 *
 * Streaming: fp_stream_open allocates a state once; fp_stream_update takes
 * one value per input (one bar) and writes one value per output, with the
 * same conventions (NaN until begin + lookback, FP_ENONFINITE after that
 * for a non-finite input), and gives the batch kernel's numbers at every
 * step. An update allocates nothing.
 */
#ifndef FP_REGISTRY_H
#define FP_REGISTRY_H

#include <stddef.h>

#include "status.h"

#define FP_MAX_IN 4
#define FP_MAX_PARAMS 5
#define FP_MAX_OUT 3

/* Parameter kinds. FP_PARAM_MATYPE is one of TA-Lib's moving-average
 * types (ma.h): 0-6, 8 and 10 are implemented; the glue reads 11 (TA-Lib's
 * "the function's own default") as the parameter's default. */
enum { FP_PARAM_INT = 0, FP_PARAM_REAL = 1, FP_PARAM_MATYPE = 2 };

typedef struct {
    const char *name;    /* fastpar's keyword: "period" */
    const char *ta_name; /* TA-Lib's keyword: "timeperiod" */
    int kind;
    double def;    /* the default (TA-Lib's, under either name) */
    double lo, hi; /* accepted values, inclusive */
} fp_param;

/* Row flags. */
enum {
    /* The batch kernel skips leading NaNs and checks finiteness itself
     * (the first ten kernels of indicators.h): it gets the whole series. */
    FP_OWN_NANS = 1,
    /* Parameters 0 and 1 are a fast and a slow period. fastpar requires
     * fast < slow; TA-Lib swaps them when fast > slow, and so does the
     * TA-Lib-named entry point (fp_indicator_ta_params). */
    FP_FAST_SLOW = 2,
    /* The batch kernel checks finiteness itself (after `begin`). */
    FP_OWN_FINITE = 4,
};

typedef int (*fp_batch_fn)(const double *const *in, size_t n, const double *p,
                           double *const *out);

typedef struct {
    const char *name;    /* fastpar.<name>, fastpar.reference.<name> */
    const char *ta_name; /* TA-Lib's name, or NULL: no TA-Lib twin */
    const char *group;   /* TA-Lib's function group */
    const char *summary; /* one line, for the docstring and the docs table */
    int n_in;
    const char *in[FP_MAX_IN];    /* fastpar's input names */
    const char *ta_in[FP_MAX_IN]; /* TA-Lib's */
    int n_params;
    fp_param params[FP_MAX_PARAMS];
    int n_out;
    const char *out[FP_MAX_OUT]; /* output names (TA-Lib's) */
    int flags;
    /* Leading NaNs of an input without NaNs (parameters checked). */
    size_t (*lookback)(const double *p);
    /* The batch kernel. Without FP_OWN_NANS it runs on [begin, n) of
     * finite inputs, with n - begin > lookback, and writes out[lookback..). */
    fp_batch_fn batch;
    /* Streaming: bytes of state (one block, rings included), its start,
     * and one step over finite values. The step writes NaN until it has
     * seen lookback + 1 values. */
    size_t (*state_size)(const double *p);
    void (*state_init)(void *state, const double *p);
    void (*update)(void *state, const double *in, double *out);
} fp_indicator;

/* The rows, in documentation order; fp_indicator_at(i) for i below
 * fp_indicator_count(), NULL past the end. */
size_t fp_indicator_count(void);
const fp_indicator *fp_indicator_at(size_t i);
const fp_indicator *fp_indicator_find(const char *name);

/* Index of the first parameter outside its range (or a fast period not
 * below the slow one, with FP_FAST_SLOW), or -1 if all are valid. */
int fp_indicator_check(const fp_indicator *ind, const double *p);

/* TA-Lib's reading of the parameters: with FP_FAST_SLOW, fast and slow
 * swapped when fast > slow. Writes into q (n_params values). */
void fp_indicator_ta_params(const fp_indicator *ind, const double *p, double *q);

/* Lookback of the row for parameters p (checked). */
size_t fp_indicator_lookback(const fp_indicator *ind, const double *p);

/* The function over inputs in[0..n_in), each of n values, into outputs
 * out[0..n_out), each of n values: leading NaNs, finiteness and short
 * inputs handled as above. FP_OK, FP_EINVAL (a parameter out of range),
 * FP_ENONFINITE or FP_ENOMEM. */
int fp_indicator_run(const fp_indicator *ind, const double *const *in, size_t n, const double *p,
                     double *const *out);

/* One streaming computation. Not safe for concurrent use: callers
 * serialise updates of one stream (different streams are independent). */
typedef struct {
    const fp_indicator *ind;
    double p[FP_MAX_PARAMS];
    int started;   /* every input has had a value that is not NaN */
    unsigned seen; /* bit k: input k has had one */
    void *state;
} fp_stream;

/* FP_OK, FP_EINVAL (parameters) or FP_ENOMEM. */
int fp_stream_open(fp_stream *s, const fp_indicator *ind, const double *p);
/* One bar: in[0..n_in) -> out[0..n_out). FP_ENONFINITE (outputs NaN) for
 * a NaN or infinity after the start; the stream then stays unchanged, so
 * that the caller may go on with valid values (the batch function would
 * have refused the whole series). */
int fp_stream_update(fp_stream *s, const double *in, double *out);
/* Back to the state of a stream just opened. */
void fp_stream_reset(fp_stream *s);
void fp_stream_close(fp_stream *s);

/* The family tables (one per source file), for registry.c. */
extern const fp_indicator fp_overlap_rows[];
extern const size_t fp_overlap_count;
extern const fp_indicator fp_momentum_rows[];
extern const size_t fp_momentum_count;
extern const fp_indicator fp_volatility_rows[];
extern const size_t fp_volatility_count;
extern const fp_indicator fp_statistic_rows[];
extern const size_t fp_statistic_count;
extern const fp_indicator fp_volume_rows[];
extern const size_t fp_volume_count;
extern const fp_indicator fp_price_rows[];
extern const size_t fp_price_count;
extern const fp_indicator fp_math_rows[];
extern const size_t fp_math_count;

#endif
