/*
 * program.h - strategies written by their users, run as programs (pure C,
 * no Python.h).
 *
 * A program is a list of instructions in dependency order, each writing
 * one value per bar into its value slot (an indicator writes one slot per
 * output, consecutive). fastpar.strategy traces a user's Python
 * expressions into one; a sweep runs it over many parameter sets on the
 * same bars, through the same account as the built-in strategies
 * (account.h), so that the metrics mean the same.
 *
 * Each slot is evaluated where it costs least, which the plan works out
 * from the program alone:
 *   - series slots (bar columns, indicators, shifts, rolling windows,
 *     crosses, bars-since, and any arithmetic they read) are computed over
 *     all bars at once: those that read no parameter once per sweep, the
 *     others once for the sets of a group that agree on the parameters
 *     they read (sets are sorted by them). A sweep over thresholds
 *     computes its RSI once per period, not once per set;
 *   - element-wise slots that read no parameter (b.high - b.low) are
 *     computed once per sweep, as series; the others (a comparison with a
 *     set's threshold, `&`, ...) per set, a block of bars at a time, into
 *     a few registers: no array as long as the data is written per set;
 *   - slots that read the trade's state (in a position, entry price, bars
 *     in the trade, ...) are computed per set and bar, after the account
 *     has taken the previous bar.
 * The signals are two slots: entry and exit (both bools).
 *
 * Values are doubles; a bool is 1.0 or 0.0. Comparisons with NaN are
 * false. The readable definition of every instruction is the reference
 * (python/fastpar/reference/program.py).
 *
 * Usage:
 *     fp_prog_sweep ps;
 *     fp_prog_sweep_init(&ps, &prog, &bars, params, n_sets, &costs, out);
 *     fp_pool_run(fp_prog_sweep_prep_task, &ps, ps.n_prep, nthreads, NULL);
 *     fp_pool_run(fp_prog_sweep_task, &ps, ps.n_tasks, nthreads, NULL);
 *     fp_prog_sweep_free(&ps);
 * or fp_prog_sweep_run(...) for the same in one call.
 *
 * Thread safety: tasks of one sweep may run on any threads at once; each
 * keeps its series, registers and accounts in its own allocation and
 * writes only the result rows of its own sets.
 */
#ifndef FP_PROGRAM_H
#define FP_PROGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "status.h"
#include "strategies.h"

enum fp_opcode {
    /* Element-wise: a value per bar from the operands' values at that bar. */
    FP_OP_ADD = 0,
    FP_OP_SUB,
    FP_OP_MUL,
    FP_OP_DIV,
    FP_OP_NEG, /* 1 operand */
    FP_OP_ABS, /* 1 operand */
    FP_OP_MIN, /* NaN if either is NaN */
    FP_OP_MAX,
    FP_OP_LT,
    FP_OP_LE,
    FP_OP_GT,
    FP_OP_GE,
    FP_OP_EQ,
    FP_OP_NE,
    FP_OP_AND,
    FP_OP_OR,
    FP_OP_NOT,   /* 1 operand */
    FP_OP_WHERE, /* condition, value if true, value if false */
    /* Series: read the history of their operands. */
    FP_OP_COLUMN,      /* sub: FP_COL_*; no operand */
    FP_OP_INDICATOR,   /* sub: registry row; operands: inputs, then parameters */
    FP_OP_SHIFT,       /* series, bars (>= 0), fill value for the first bars */
    FP_OP_ROLL_MAX,    /* series, window (>= 1): NaN until full or with a */
    FP_OP_ROLL_MIN,    /* value that is not finite in the window */
    FP_OP_ROLL_SUM,
    FP_OP_ROLL_MEAN,
    FP_OP_BARS_SINCE,  /* condition: bars since it was last true, inf before */
    FP_OP_CROSS_ABOVE, /* a, b: vectorbt's crossed_above (wait 0) */
    /* The trade's state when the bar's signals are decided. */
    FP_OP_STATE, /* sub: FP_ST_* */
    FP_N_OPS
};

enum { FP_COL_OPEN = 0, FP_COL_HIGH, FP_COL_LOW, FP_COL_CLOSE, FP_COL_VOLUME, FP_N_COLUMNS };

/* The trade's state at bar t, before the bar's stops and orders. Numbers
 * of a trade are NaN while flat; highest and lowest are of the closes from
 * the entry bar to t; bars_since_exit is infinite before the first exit. */
enum {
    FP_ST_IN_POSITION = 0,
    FP_ST_IS_LONG,
    FP_ST_IS_SHORT,
    FP_ST_ENTRY_PRICE,
    FP_ST_BARS_IN_TRADE,
    FP_ST_HIGHEST,
    FP_ST_LOWEST,
    FP_ST_BARS_SINCE_EXIT,
    FP_N_STATES
};

/* Names of the opcodes, columns and states (for the glue: the Python
 * side builds its programs by name). */
extern const char *const fp_prog_op_names[FP_N_OPS];
extern const char *const fp_prog_column_names[FP_N_COLUMNS];
extern const char *const fp_prog_state_names[FP_N_STATES];

/* An operand: a constant, a column of the parameter sets, or a value slot. */
enum { FP_ARG_CONST = 0, FP_ARG_PARAM, FP_ARG_SLOT };

typedef struct {
    int kind;
    size_t index; /* FP_ARG_PARAM: column; FP_ARG_SLOT: slot */
    double value; /* FP_ARG_CONST */
} fp_arg;

#define FP_PROG_MAX_ARGS (FP_MAX_IN + FP_MAX_PARAMS)
/* Parameters a program may read (a bit each in the plan). */
#define FP_PROG_MAX_PARAMS 64

typedef struct {
    int op, sub;
    int n_args;
    fp_arg arg[FP_PROG_MAX_ARGS];
} fp_instr;

typedef struct {
    const fp_instr *code;
    size_t n_code;
    size_t n_params;  /* columns of the parameter sets */
    long entry, exit; /* slots of the signals; -1: never */
} fp_program;

/* The bars: col[FP_COL_CLOSE] always (the fills), the others when the
 * program reads them (else may be NULL); all finite. */
typedef struct {
    const double *col[FP_N_COLUMNS];
    size_t n;
} fp_prog_bars;

typedef struct {
    /* Set by fp_prog_sweep_init, read-only afterwards. */
    fp_program prog;
    fp_prog_bars bars;
    fp_costs costs;
    const double *params; /* n_sets rows of prog.n_params */
    size_t n_sets;
    double *out; /* n_sets rows of FP_SWEEP_N_METRICS */
    size_t n_slots;
    size_t *first_slot;   /* per instruction */
    unsigned char *where; /* per slot: how it is evaluated (program.c) */
    size_t *at;           /* per slot: index among the slots evaluated the same way */
    uint64_t *deps;       /* per slot: the parameter columns it reads, a bit each */
    size_t n_where[4];
    double *global; /* the series slots that read no parameter */
    size_t *order;      /* set indices, grouped by the parameters series read */
    /* Series many sets read, computed once each by the preparation job
     * (fp_prog_sweep_prep_task) when they fit in FP_PROG_CACHE_BYTES:
     * for instruction i (NULL rows: not cached), cache_n[i] distinct
     * values of the parameter columns it reads (cache_keys[i], sorted
     * rows) and its outputs for each (cache_data[i]: cache_n[i] rows of
     * outputs x n doubles). Prep task t computes entry prep_entry[t] of
     * instruction prep_instr[t]. */
    size_t *cache_n;
    double **cache_keys, **cache_data;
    size_t n_prep;
    size_t *prep_instr, *prep_entry;
    size_t *task_start; /* task i runs order[task_start[i] .. task_start[i+1]) */
    size_t n_tasks;
    /* When the entry reads the trade's state and is an AND, a conjunct that
     * does not (-1: none): while the account is idle and the guard is
     * false, the entry is false without the bar-by-bar work. */
    long entry_guard;

    /* After FP_EINVAL or FP_ENONFINITE: the instruction, and for a bad
     * parameter the set, to blame (SIZE_MAX: none). bad_instr is also
     * written by a task whose series gets a value that is not finite. */
    atomic_size_t bad_instr;
    size_t bad_set;
    atomic_size_t done;
    atomic_int cancel;
    atomic_size_t *progress; /* optional, as fp_sweep's */
} fp_prog_sweep;

/* Check the program (operands, arities, rows, slots read before they are
 * written, no series reading the trade's state), every parameter set
 * (indicator parameters in their rows' ranges, shifts and windows whole
 * and in range, every parameter finite), the costs and the bars; compute
 * the series that read no parameter; plan the tasks. FP_OK, FP_EINVAL,
 * FP_ENONFINITE (a column, or a series fed a value that is not finite) or
 * FP_ENOMEM; on FP_OK free with fp_prog_sweep_free. `prog->code`, `bars`'
 * columns and `params` are kept, not copied. */
int fp_prog_sweep_init(fp_prog_sweep *ps, const fp_program *prog, const fp_prog_bars *bars,
                       const double *params, size_t n_sets, const fp_costs *costs, double *out);

/* Most memory the shared series (cache_*) may take. */
#define FP_PROG_CACHE_BYTES ((size_t)256 << 20)

/* Pool task of the preparation job, which must finish before the first
 * fp_prog_sweep_task starts: one shared series. FP_OK, FP_ECANCELLED or
 * FP_ENONFINITE (bad_instr says where). */
int fp_prog_sweep_prep_task(void *ctx, size_t index);

/* Pool task of the sweep. FP_OK, FP_ECANCELLED, FP_ENONFINITE (bad_instr
 * says where) or FP_ENOMEM. */
int fp_prog_sweep_task(void *ctx, size_t index);

void fp_prog_sweep_cancel(fp_prog_sweep *ps);
void fp_prog_sweep_free(fp_prog_sweep *ps);

/* init + run on the pool (nthreads as fp_job_submit) + free. */
int fp_prog_sweep_run(const fp_program *prog, const fp_prog_bars *bars, const double *params,
                      size_t n_sets, const fp_costs *costs, double *out, int nthreads);

#endif
