/*
 * ind_statistic.c - TA-Lib's statistic functions, one block per function:
 * its lookback, batch kernel, streaming state and step, and its row in
 * fp_statistic_rows at the end of the file.
 */
#include "ind_common.h"
#include "indicators.h"

/* ------------------------------------------------------------------ */
/* STDDEV                                                              */
/* ------------------------------------------------------------------ */

static size_t stddev_lookback(const double *p)
{
    return per(p, 0) - 1;
}

static int stddev_batch(const double *const *in, size_t n, const double *p, double *const *out)
{
    return fp_stddev_f64(in[0], n, (int)p[0], p[1], out[0]);
}

/* TA-Lib's rolling variance (rolling_var.h) over the stream's window. */
typedef struct {
    fp_window w;
    rolling_var var;
    double nbdev;
    double buf[];
} stddev_state;

static size_t stddev_size(const double *p)
{
    return sizeof(stddev_state) + 2 * per(p, 0) * sizeof(double);
}

static void stddev_init(void *st, const double *p)
{
    stddev_state *s = st;
    window_init(&s->w, s->buf, per(p, 0));
    s->var.p = 0; /* not started */
    s->nbdev = p[1];
}

/* The variance of the window, NaN before it is full. */
static double stream_var(fp_window *w, rolling_var *var)
{
    const size_t p = w->cap;
    if (w->count < p)
        return NAN;
    const double *x = window_values(w);
    double total;
    if (var->p == 0)
        *var = rolling_var_start(x, 0, p);
    return rolling_var_next(var, x, p - 1, &total);
}

static void stddev_update(void *st, const double *in, double *out)
{
    stddev_state *s = st;
    window_push(&s->w, in[0]);
    out[0] = sqrt(stream_var(&s->w, &s->var)) * s->nbdev;
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */
/* ------------------------------------------------------------------ */

const fp_indicator fp_statistic_rows[] = {
    {.name = "stddev", .ta_name = "STDDEV", .group = G_STATISTIC,
     .summary = "Population standard deviation over period values, times nbdev",
     .n_in = IN_X, .n_params = 2, .params = {P_PERIOD(5, 1), P_REAL("nbdev", "nbdev", 1.0)},
     .n_out = 1, .out = {"real"}, .flags = FP_OWN_NANS, KERNELS(stddev)},
};
const size_t fp_statistic_count = sizeof fp_statistic_rows / sizeof fp_statistic_rows[0];
