/*
 * program.c - sweeps of strategies written as programs (program.h).
 *
 * Three layers, top-down:
 *   - the plan (fp_prog_sweep_init): where each slot is evaluated, the
 *     series that read no parameter, and the sets sorted by the
 *     parameters the other series read, cut into tasks;
 *   - a task: its sets in groups of up to LANES advanced in lockstep; per
 *     group, the series of each lane over all bars (a lane reuses
 *     another's when the parameters they read agree); then per block of
 *     bars the element-wise slots, and per bar the slots of the trade's
 *     state and the accounts (account.h);
 *   - the instructions: element-wise (ELEMENTWISE, one definition each,
 *     for blocks and single bars) and series (exec_series).
 */
#include "program.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "pool.h"

const char *const fp_prog_op_names[FP_N_OPS] = {
    "ADD", "SUB", "MUL", "DIV", "NEG", "ABS", "MIN", "MAX", "LT", "LE", "GT", "GE", "EQ",
    "NE", "AND", "OR", "NOT", "WHERE", "COLUMN", "INDICATOR", "SHIFT", "ROLL_MAX", "ROLL_MIN",
    "ROLL_SUM", "ROLL_MEAN", "BARS_SINCE", "CROSS_ABOVE", "STATE"};
const char *const fp_prog_column_names[FP_N_COLUMNS] = {"open", "high", "low", "close",
                                                        "volume"};
const char *const fp_prog_state_names[FP_N_STATES] = {
    "in_position",         "is_long",        "is_short",           "entry_price",
    "bars_in_trade",       "highest_since_entry", "lowest_since_entry", "bars_since_exit"};

/* How a slot is evaluated. */
enum {
    W_GLOBAL = 0, /* reads no parameter (series or element-wise): once per sweep */
    W_SERIES = 1, /* series reading parameters: per lane, shared where they agree */
    W_BLOCK = 2,  /* element-wise, per set: BLOCK bars at a time */
    W_LATE = 3    /* reads the trade's state: per set and bar */
};

/* Bars per block of element-wise evaluation: the registers of a set stay
 * in the first-level cache. */
#define BLOCK 256
/* Most sets of one task: a few groups of lanes, short enough to balance. */
#define TASK_SETS 64
/* A grid is cut into at least this many tasks when it has enough sets. */
#define MIN_TASKS 8

static int is_series_op(int op)
{
    return op >= FP_OP_COLUMN && op <= FP_OP_CROSS_ABOVE;
}

/* Operands of `op` (-1: an indicator's, from its row). */
static int arity(int op)
{
    switch (op) {
    case FP_OP_NEG:
    case FP_OP_ABS:
    case FP_OP_NOT:
    case FP_OP_BARS_SINCE:
        return 1;
    case FP_OP_WHERE:
    case FP_OP_SHIFT:
        return 3;
    case FP_OP_COLUMN:
    case FP_OP_STATE:
        return 0;
    case FP_OP_INDICATOR:
        return -1;
    default:
        return 2;
    }
}

static size_t n_outputs(const fp_instr *ins)
{
    if (ins->op == FP_OP_INDICATOR)
        return (size_t)fp_indicator_at((size_t)ins->sub)->n_out;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Element-wise instructions                                           */
/* ------------------------------------------------------------------ */

/* An operand as a pointer and a stride (0: the same value at every bar). */
typedef struct {
    const double *p;
    size_t s;
} operand;

/* Every element-wise instruction, once: its value from the operands' a,
 * b, c at one bar (bools are 1.0 / 0.0; comparisons with NaN are false).
 * Expanded into the block loops (exec_elem) and the bar-by-bar
 * evaluation of slots that read the trade's state (eval1). */
#define ELEMENTWISE(X)                                                                             \
    X(FP_OP_ADD, a + b)                                                                            \
    X(FP_OP_SUB, a - b)                                                                            \
    X(FP_OP_MUL, a * b)                                                                            \
    X(FP_OP_DIV, a / b)                                                                            \
    X(FP_OP_NEG, -a)                                                                               \
    X(FP_OP_ABS, fabs(a))                                                                          \
    X(FP_OP_MIN, isnan(a) || isnan(b) ? NAN : a < b ? a : b)                                       \
    X(FP_OP_MAX, isnan(a) || isnan(b) ? NAN : a > b ? a : b)                                       \
    X(FP_OP_LT, a < b)                                                                             \
    X(FP_OP_LE, a <= b)                                                                            \
    X(FP_OP_GT, a > b)                                                                             \
    X(FP_OP_GE, a >= b)                                                                            \
    X(FP_OP_EQ, a == b)                                                                            \
    X(FP_OP_NE, a != b)                                                                            \
    X(FP_OP_AND, a != 0.0 && b != 0.0)                                                             \
    X(FP_OP_OR, a != 0.0 || b != 0.0)                                                              \
    X(FP_OP_NOT, a == 0.0)                                                                         \
    X(FP_OP_WHERE, a != 0.0 ? b : c)

/* The loop with the strides of the common cases as constants (a series
 * against a series or a threshold), which the compiler vectorises. */
#define BODY(SA, SB, expr)                                                                         \
    {                                                                                              \
        const size_t sa = SA, sb = SB;                                                             \
        for (size_t i = 0; i < len; i++) {                                                         \
            const double a = x.p[i * sa], b = y.p[i * sb], c = z.p[i * z.s];                       \
            (void)b;                                                                               \
            (void)c;                                                                               \
            d[i] = (expr);                                                                         \
        }                                                                                          \
    }
#define LOOP_CASE(op, expr)                                                                        \
    case op:                                                                                       \
        if (x.s == 1 && y.s == 0)                                                                  \
            BODY(1, 0, expr)                                                                       \
        else if (x.s == 1 && y.s == 1)                                                             \
            BODY(1, 1, expr)                                                                       \
        else if (x.s == 0 && y.s == 1)                                                             \
            BODY(0, 1, expr)                                                                       \
        else                                                                                       \
            BODY(x.s, y.s, expr)                                                                   \
        break;

static void exec_elem(int op, double *d, size_t len, operand x, operand y, operand z)
{
    switch (op) { ELEMENTWISE(LOOP_CASE) }
}

#define SCALAR_CASE(op, expr)                                                                      \
    case op:                                                                                       \
        return (expr);

static inline double eval1(int op, double a, double b, double c)
{
    (void)b;
    (void)c;
    switch (op) { ELEMENTWISE(SCALAR_CASE) }
    return NAN;
}

#undef SCALAR_CASE
#undef LOOP_CASE
#undef BODY

/* ------------------------------------------------------------------ */
/* Series instructions                                                 */
/* ------------------------------------------------------------------ */

/* Rolling sum or mean over k bars: NaN until k bars, and while a value
 * that is not finite is inside the window (only finite values enter the
 * running sum, so the window recovers once it has left). */
static void roll_sum(const double *x, size_t n, size_t k, int mean, double *d)
{
    double sum = 0.0;
    size_t bad = 0;
    for (size_t t = 0; t < n; t++) {
        if (isfinite(x[t]))
            sum += x[t];
        else
            bad++;
        if (t >= k) {
            if (isfinite(x[t - k]))
                sum -= x[t - k];
            else
                bad--;
        }
        d[t] = t + 1 < k || bad ? NAN : mean ? sum / (double)k : sum;
    }
}

/* Rolling max (sign > 0) or min (sign < 0) over k bars, by a monotonic
 * queue of positions (ring of k): O(n) for any window. NaN as roll_sum. */
static int roll_extreme(const double *x, size_t n, size_t k, double sign, double *d)
{
    size_t *q = malloc(k * sizeof *q);
    if (q == NULL)
        return FP_ENOMEM;
    size_t head = 0, count = 0, bad_until = 0; /* NaN while t < bad_until */
    for (size_t t = 0; t < n; t++) {
        if (count > 0 && q[head] + k <= t) {
            head = (head + 1) % k;
            count--;
        }
        if (!isfinite(x[t])) {
            bad_until = t + k;
        } else {
            while (count > 0 && sign * x[q[(head + count - 1) % k]] <= sign * x[t])
                count--;
            q[(head + count) % k] = t;
            count++;
        }
        d[t] = t + 1 < k || t < bad_until || count == 0 ? NAN : x[q[head]];
    }
    free(q);
    return FP_OK;
}

/* vectorbt's crossed_above_1d_nb with wait 0: a above b at t, having been
 * strictly below at some bar since the last NaN. */
static void cross_above(const double *a, const double *b, size_t n, double *d)
{
    int was_below = 0;
    long ago = -1;
    for (size_t t = 0; t < n; t++) {
        d[t] = 0.0;
        if (isnan(a[t]) || isnan(b[t])) {
            ago = -1;
            was_below = 0;
        } else if (a[t] > b[t]) {
            if (was_below)
                d[t] = ++ago == 0;
        } else if (a[t] == b[t]) {
            ago = -1;
        } else {
            ago = -1;
            was_below = 1;
        }
    }
}

/* The value of a CONST or PARAM operand for parameter row p. */
static double scalar(const fp_arg *a, const double *p)
{
    return a->kind == FP_ARG_CONST ? a->value : p[a->index];
}

/* Series instruction `ins` over all n bars, its inputs in slot arrays
 * `base`, its outputs from slot `first`, parameters of row p. */
static int exec_series(const fp_instr *ins, double *const *base, size_t first, size_t n,
                       const fp_prog_bars *bars, const double *p)
{
    const fp_arg *g = ins->arg;
    double *d = base[first];
    switch (ins->op) {
    case FP_OP_INDICATOR: {
        const fp_indicator *ind = fp_indicator_at((size_t)ins->sub);
        const double *in[FP_MAX_IN];
        double q[FP_MAX_PARAMS], *out[FP_MAX_OUT];
        for (int i = 0; i < ind->n_in; i++)
            in[i] = base[g[i].index];
        for (int i = 0; i < ind->n_params; i++)
            q[i] = scalar(&g[ind->n_in + i], p);
        for (int i = 0; i < ind->n_out; i++)
            out[i] = base[first + (size_t)i];
        return fp_indicator_run(ind, in, n, q, out);
    }
    case FP_OP_COLUMN:
        memcpy(d, bars->col[ins->sub], n * sizeof *d);
        return FP_OK;
    case FP_OP_SHIFT: {
        const double *x = base[g[0].index];
        size_t k = (size_t)scalar(&g[1], p);
        double fill = scalar(&g[2], p);
        for (size_t t = 0; t < n; t++)
            d[t] = t >= k ? x[t - k] : fill;
        return FP_OK;
    }
    case FP_OP_ROLL_MAX:
    case FP_OP_ROLL_MIN:
        return roll_extreme(base[g[0].index], n, (size_t)scalar(&g[1], p),
                            ins->op == FP_OP_ROLL_MAX ? 1.0 : -1.0, d);
    case FP_OP_ROLL_SUM:
    case FP_OP_ROLL_MEAN:
        roll_sum(base[g[0].index], n, (size_t)scalar(&g[1], p), ins->op == FP_OP_ROLL_MEAN, d);
        return FP_OK;
    case FP_OP_BARS_SINCE: {
        const double *c = base[g[0].index];
        size_t last = SIZE_MAX;
        for (size_t t = 0; t < n; t++) {
            if (c[t] != 0.0 && !isnan(c[t]))
                last = t;
            d[t] = last == SIZE_MAX ? INFINITY : (double)(t - last);
        }
        return FP_OK;
    }
    case FP_OP_CROSS_ABOVE:
        cross_above(base[g[0].index], base[g[1].index], n, d);
        return FP_OK;
    }
    return FP_EINVAL;
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */
/* ------------------------------------------------------------------ */

static int whole_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

/* FP_OK if parameter row p suits instruction `ins` (or it reads none). */
static int check_set(const fp_instr *ins, const double *p)
{
    switch (ins->op) {
    case FP_OP_INDICATOR: {
        const fp_indicator *ind = fp_indicator_at((size_t)ins->sub);
        double q[FP_MAX_PARAMS];
        for (int i = 0; i < ind->n_params; i++)
            q[i] = scalar(&ins->arg[ind->n_in + i], p);
        return fp_indicator_check(ind, q) < 0 ? FP_OK : FP_EINVAL;
    }
    case FP_OP_SHIFT:
        return whole_in(scalar(&ins->arg[1], p), 0, FP_MAX_PERIOD) ? FP_OK : FP_EINVAL;
    case FP_OP_ROLL_MAX:
    case FP_OP_ROLL_MIN:
    case FP_OP_ROLL_SUM:
    case FP_OP_ROLL_MEAN:
        return whole_in(scalar(&ins->arg[1], p), 1, FP_MAX_PERIOD) ? FP_OK : FP_EINVAL;
    }
    return FP_OK;
}

/* Check instruction i's shape; mark its slots. FP_OK or FP_EINVAL. */
static int check_instr(fp_prog_sweep *ps, size_t i, const fp_prog_bars *bars)
{
    const fp_instr *ins = &ps->prog.code[i];
    if (ins->op < 0 || ins->op >= FP_N_OPS || ins->n_args < 0 || ins->n_args > FP_PROG_MAX_ARGS)
        return FP_EINVAL;
    int want = arity(ins->op);
    if (ins->op == FP_OP_INDICATOR) {
        const fp_indicator *ind =
            ins->sub >= 0 ? fp_indicator_at((size_t)ins->sub) : NULL;
        if (ind == NULL)
            return FP_EINVAL;
        want = ind->n_in + ind->n_params;
    }
    if (ins->n_args != want)
        return FP_EINVAL;
    if (ins->op == FP_OP_COLUMN &&
        (ins->sub < 0 || ins->sub >= FP_N_COLUMNS || (bars->n > 0 && bars->col[ins->sub] == NULL)))
        return FP_EINVAL;
    if (ins->op == FP_OP_STATE && (ins->sub < 0 || ins->sub >= FP_N_STATES))
        return FP_EINVAL;
    for (int k = 0; k < ins->n_args; k++) {
        const fp_arg *a = &ins->arg[k];
        /* the series operands of series instructions are slots; their
         * periods and parameters are not */
        int series_in = is_series_op(ins->op) &&
                        (ins->op == FP_OP_INDICATOR
                             ? k < fp_indicator_at((size_t)ins->sub)->n_in
                             : ins->op == FP_OP_CROSS_ABOVE || k == 0);
        if (a->kind == FP_ARG_SLOT) {
            if (a->index >= ps->first_slot[i] || (is_series_op(ins->op) && !series_in))
                return FP_EINVAL;
        } else if (a->kind == FP_ARG_PARAM) {
            if (a->index >= ps->prog.n_params || series_in)
                return FP_EINVAL;
        } else if (a->kind != FP_ARG_CONST || series_in) {
            return FP_EINVAL;
        }
    }
    return FP_OK;
}

/* Where each slot is evaluated (ps->where, ps->at, ps->n_where) and which
 * parameters the series read (*key, a bit per parameter column).
 * FP_OK or FP_EINVAL (ps->bad_instr set). */
static int plan_slots(fp_prog_sweep *ps, const fp_prog_bars *bars, uint64_t *key)
{
    const fp_program *pr = &ps->prog;
    const size_t n_code = pr->n_code;
    size_t n_slots = 0;
    ps->first_slot = malloc((n_code + 1) * sizeof *ps->first_slot);
    if (ps->first_slot == NULL)
        return FP_ENOMEM;
    for (size_t i = 0; i < n_code; i++) {
        const fp_instr *ins = &pr->code[i];
        if (ins->op == FP_OP_INDICATOR &&
            (ins->sub < 0 || (size_t)ins->sub >= fp_indicator_count())) {
            atomic_store(&ps->bad_instr, i);
            return FP_EINVAL;
        }
        ps->first_slot[i] = n_slots;
        n_slots += ins->op >= 0 && ins->op < FP_N_OPS ? n_outputs(ins) : 1;
    }
    ps->first_slot[n_code] = ps->n_slots = n_slots;
    for (size_t i = 0; i < n_code; i++)
        if (check_instr(ps, i, bars) != FP_OK) {
            atomic_store(&ps->bad_instr, i);
            return FP_EINVAL;
        }
    if (pr->entry < -1 || pr->exit < -1 || (pr->entry >= 0 && (size_t)pr->entry >= n_slots) ||
        (pr->exit >= 0 && (size_t)pr->exit >= n_slots))
        return FP_EINVAL;

    unsigned char *series = calloc(n_slots + 1, 1), *late = calloc(n_slots + 1, 1);
    uint64_t *deps = ps->deps = calloc(n_slots + 1, sizeof *deps);
    ps->where = malloc(n_slots + 1);
    ps->at = malloc((n_slots + 1) * sizeof *ps->at);
    int status = FP_OK;
    if (series == NULL || late == NULL || deps == NULL || ps->where == NULL || ps->at == NULL) {
        status = FP_ENOMEM;
        goto done;
    }
    /* Series: the outputs of series instructions, what they read, and
     * what the element-wise slots they read read (operands come first). */
    for (size_t i = n_code; i-- > 0;) {
        const fp_instr *ins = &pr->code[i];
        const size_t first = ps->first_slot[i];
        if (is_series_op(ins->op))
            memset(series + first, 1, n_outputs(ins));
        if (series[first])
            for (int k = 0; k < ins->n_args; k++)
                if (ins->arg[k].kind == FP_ARG_SLOT)
                    series[ins->arg[k].index] = 1;
    }
    *key = 0;
    for (size_t i = 0; i < n_code; i++) {
        const fp_instr *ins = &pr->code[i];
        const size_t first = ps->first_slot[i];
        int reads_state = ins->op == FP_OP_STATE;
        uint64_t dep = 0;
        for (int k = 0; k < ins->n_args; k++) {
            const fp_arg *a = &ins->arg[k];
            if (a->kind == FP_ARG_SLOT) {
                reads_state |= late[a->index];
                dep |= deps[a->index];
            } else if (a->kind == FP_ARG_PARAM) {
                dep |= (uint64_t)1 << a->index;
            }
        }
        if (reads_state && series[first]) { /* a series cannot wait for the account */
            atomic_store(&ps->bad_instr, i);
            status = FP_EINVAL;
            goto done;
        }
        for (size_t s = first; s < ps->first_slot[i + 1]; s++) {
            late[s] = (unsigned char)reads_state;
            deps[s] = dep;
            /* element-wise slots that read no parameter are the same for
             * every set: computed once, as series */
            ps->where[s] = reads_state ? W_LATE : dep ? (series[s] ? W_SERIES : W_BLOCK) : W_GLOBAL;
            ps->at[s] = ps->n_where[ps->where[s]]++;
            if (ps->where[s] == W_SERIES)
                *key |= dep;
        }
    }
done:
    free(series);
    free(late);
    return status;
}

/* A conjunct of slot `slot` (an AND of ANDs) that does not read the
 * trade's state, or -1. */
static long guard_of(const fp_prog_sweep *ps, long slot)
{
    if (slot < 0 || ps->where[slot] != W_LATE)
        return -1;
    size_t i = 0;
    while (ps->first_slot[i] != (size_t)slot)
        i++;
    const fp_instr *ins = &ps->prog.code[i];
    if (ins->op != FP_OP_AND)
        return -1;
    for (int a = 0; a < 2; a++) {
        const fp_arg *g = &ins->arg[a];
        if (g->kind != FP_ARG_SLOT)
            continue;
        long found = ps->where[g->index] != W_LATE ? (long)g->index : guard_of(ps, (long)g->index);
        if (found >= 0)
            return found;
    }
    return -1;
}

/* The operand `a` at bar t, for a block starting at t0. */
static operand operand_at(const fp_prog_sweep *ps, double *const *base, const fp_arg *a,
                          const double *p, size_t t, size_t t0)
{
    if (a->kind == FP_ARG_CONST)
        return (operand){&a->value, 0};
    if (a->kind == FP_ARG_PARAM)
        return (operand){&p[a->index], 0};
    switch (ps->where[a->index]) {
    case W_BLOCK:
        return (operand){base[a->index] + (t - t0), 1};
    case W_LATE:
        return (operand){base[a->index], 0};
    default:
        return (operand){base[a->index] + t, 1};
    }
}

/* Element-wise instruction i over bars [t, t + len) of the block at t0. */
static void exec_elem_at(const fp_prog_sweep *ps, double *const *base, size_t i, const double *p,
                         size_t t, size_t t0, size_t len)
{
    static const fp_arg none = {FP_ARG_CONST, 0, 0.0};
    const fp_instr *ins = &ps->prog.code[i];
    const size_t s = ps->first_slot[i];
    operand o[3];
    for (int k = 0; k < 3; k++)
        o[k] = operand_at(ps, base, k < ins->n_args ? &ins->arg[k] : &none, p, t, t0);
    double *d = ps->where[s] == W_BLOCK ? base[s] + (t - t0)
                : ps->where[s] == W_LATE ? base[s]
                                         : base[s] + t;
    exec_elem(ins->op, d, len, o[0], o[1], o[2]);
}

/* The series of instruction i (whose slots are `where`) over all bars. */
static int exec_series_at(fp_prog_sweep *ps, double *const *base, size_t i, const double *p)
{
    const fp_instr *ins = &ps->prog.code[i];
    int status = FP_OK;
    if (is_series_op(ins->op))
        status = exec_series(ins, base, ps->first_slot[i], ps->bars.n, &ps->bars, p);
    else
        exec_elem_at(ps, base, i, p, 0, 0, ps->bars.n);
    if (status == FP_ENONFINITE) {
        size_t none = SIZE_MAX;
        atomic_compare_exchange_strong(&ps->bad_instr, &none, i);
    }
    return status;
}

/* Set grouping: sets sorted by the parameter columns the series read. The
 * comparison reads its context from the sorting thread's own variable. */
static _Thread_local const fp_prog_sweep *sort_ps;
static _Thread_local uint64_t sort_key;

static int by_key(const void *pa, const void *pb)
{
    const size_t a = *(const size_t *)pa, b = *(const size_t *)pb, np = sort_ps->prog.n_params;
    for (size_t c = 0; c < np; c++) {
        if (!(sort_key >> c & 1))
            continue;
        double x = sort_ps->params[a * np + c], y = sort_ps->params[b * np + c];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (a > b) - (a < b);
}

/* Sets a and b give a slot reading parameter columns `deps` the same values. */
static int same_key(const fp_prog_sweep *ps, uint64_t deps, size_t a, size_t b)
{
    const size_t np = ps->prog.n_params;
    for (size_t c = 0; c < np; c++)
        if ((deps >> c & 1) && ps->params[a * np + c] != ps->params[b * np + c])
            return 0;
    return 1;
}

static int plan_tasks(fp_prog_sweep *ps, uint64_t key)
{
    const size_t n_sets = ps->n_sets;
    ps->order = malloc((n_sets + 1) * sizeof *ps->order);
    ps->task_start = malloc((n_sets + 1) * sizeof *ps->task_start);
    if (ps->order == NULL || ps->task_start == NULL)
        return FP_ENOMEM;
    for (size_t i = 0; i < n_sets; i++)
        ps->order[i] = i;
    sort_ps = ps;
    sort_key = key;
    qsort(ps->order, n_sets, sizeof *ps->order, by_key);
    size_t group = (n_sets + MIN_TASKS - 1) / MIN_TASKS;
    if (ps->bars.n > 0 && group > ((size_t)1 << 24) / ps->bars.n)
        group = ((size_t)1 << 24) / ps->bars.n;
    group = group < 1 ? 1 : group > TASK_SETS ? TASK_SETS : group;
    size_t tasks = 0;
    for (size_t i = 0; i < n_sets; i += group)
        ps->task_start[tasks++] = i;
    ps->task_start[tasks] = n_sets;
    ps->n_tasks = tasks;
    return FP_OK;
}

/* The sorted, distinct values of parameter columns `deps` over all sets:
 * rows of k values (k the columns' count), *count of them. NULL when out
 * of memory. */
static double *distinct_rows(const fp_prog_sweep *ps, uint64_t deps, size_t *k, size_t *count)
{
    const size_t np = ps->prog.n_params, n_sets = ps->n_sets;
    size_t cols[FP_PROG_MAX_PARAMS], nk = 0;
    for (size_t c = 0; c < np; c++)
        if (deps >> c & 1)
            cols[nk++] = c;
    /* the sets are sorted by every column series read: distinct values of
     * these columns need not be adjacent, so sort the rows themselves */
    double *rows = malloc((n_sets * nk + 1) * sizeof *rows);
    size_t *idx = malloc((n_sets + 1) * sizeof *idx);
    if (rows == NULL || idx == NULL) {
        free(rows);
        free(idx);
        return NULL;
    }
    for (size_t i = 0; i < n_sets; i++)
        idx[i] = i;
    sort_ps = ps;
    sort_key = deps;
    qsort(idx, n_sets, sizeof *idx, by_key);
    size_t m = 0;
    for (size_t i = 0; i < n_sets; i++) {
        if (m > 0 && same_key(ps, deps, idx[i - 1], idx[i]))
            continue;
        for (size_t c = 0; c < nk; c++)
            rows[m * nk + c] = ps->params[idx[i] * np + cols[c]];
        m++;
    }
    free(idx);
    *k = nk;
    *count = m;
    return rows;
}

/* The shared series: every series slot whose operands the whole sweep
 * shares (columns and series that read no parameter), computed once per
 * distinct value of the parameters it reads, if all of them fit in
 * FP_PROG_CACHE_BYTES; otherwise none (each group computes its own). */
static int plan_cache(fp_prog_sweep *ps)
{
    const fp_program *pr = &ps->prog;
    const size_t n = ps->bars.n;
    ps->cache_n = calloc(pr->n_code + 1, sizeof *ps->cache_n);
    ps->cache_keys = calloc(pr->n_code + 1, sizeof *ps->cache_keys);
    ps->cache_data = calloc(pr->n_code + 1, sizeof *ps->cache_data);
    if (ps->cache_n == NULL || ps->cache_keys == NULL || ps->cache_data == NULL)
        return FP_ENOMEM;
    size_t bytes = 0, entries = 0;
    for (size_t i = 0; i < pr->n_code && ps->n_sets > 0; i++) {
        const fp_instr *ins = &pr->code[i];
        const size_t first = ps->first_slot[i];
        if (ps->where[first] != W_SERIES || !is_series_op(ins->op))
            continue;
        int leaf = 1;
        for (int a = 0; a < ins->n_args; a++)
            leaf &= ins->arg[a].kind != FP_ARG_SLOT || ps->where[ins->arg[a].index] == W_GLOBAL;
        if (!leaf)
            continue;
        size_t k;
        ps->cache_keys[i] = distinct_rows(ps, ps->deps[first], &k, &ps->cache_n[i]);
        if (ps->cache_keys[i] == NULL)
            return FP_ENOMEM;
        bytes += ps->cache_n[i] * n_outputs(ins) * n * sizeof(double);
        entries += ps->cache_n[i];
    }
    if (bytes > FP_PROG_CACHE_BYTES || entries == 0) { /* each group computes its own */
        for (size_t i = 0; i < pr->n_code; i++) {
            free(ps->cache_keys[i]);
            ps->cache_keys[i] = NULL;
            ps->cache_n[i] = 0;
        }
        return FP_OK;
    }
    ps->prep_instr = malloc(entries * sizeof *ps->prep_instr);
    ps->prep_entry = malloc(entries * sizeof *ps->prep_entry);
    if (ps->prep_instr == NULL || ps->prep_entry == NULL)
        return FP_ENOMEM;
    for (size_t i = 0; i < pr->n_code; i++) {
        if (ps->cache_n[i] == 0)
            continue;
        ps->cache_data[i] =
            malloc(ps->cache_n[i] * n_outputs(&pr->code[i]) * (n + 1) * sizeof(double));
        if (ps->cache_data[i] == NULL)
            return FP_ENOMEM;
        for (size_t e = 0; e < ps->cache_n[i]; e++) {
            ps->prep_instr[ps->n_prep] = i;
            ps->prep_entry[ps->n_prep++] = e;
        }
    }
    return FP_OK;
}

/* The entry of cached instruction i for set `set`: a binary search of
 * its sorted rows of parameter values. */
static size_t cache_entry(const fp_prog_sweep *ps, size_t i, size_t set)
{
    const size_t np = ps->prog.n_params;
    const uint64_t deps = ps->deps[ps->first_slot[i]];
    double v[FP_PROG_MAX_PARAMS];
    size_t k = 0;
    for (size_t c = 0; c < np; c++)
        if (deps >> c & 1)
            v[k++] = ps->params[set * np + c];
    size_t lo = 0, hi = ps->cache_n[i];
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        const double *row = ps->cache_keys[i] + mid * k;
        size_t c = 0;
        while (c < k && row[c] == v[c])
            c++;
        if (c < k && v[c] < row[c])
            hi = mid;
        else
            lo = mid;
    }
    return lo;
}

/* Slot pointers of cached instruction i, entry e, into base. */
static void cache_slots(const fp_prog_sweep *ps, size_t i, size_t e, double **base)
{
    const size_t n = ps->bars.n, first = ps->first_slot[i], last = ps->first_slot[i + 1];
    for (size_t s = first; s < last; s++)
        base[s] = ps->cache_data[i] + (e * (last - first) + (s - first)) * n;
}

int fp_prog_sweep_prep_task(void *ctx, size_t index)
{
    fp_prog_sweep *ps = ctx;
    if (atomic_load_explicit(&ps->cancel, memory_order_relaxed))
        return FP_ECANCELLED;
    const size_t i = ps->prep_instr[index], e = ps->prep_entry[index];
    const size_t np = ps->prog.n_params, first = ps->first_slot[i];
    /* the parameters of this entry, as a full row (the others unread) */
    double p[FP_PROG_MAX_PARAMS + 1] = {0};
    const uint64_t deps = ps->deps[first];
    size_t k = 0;
    for (size_t c = 0; c < np; c++)
        if (deps >> c & 1)
            k++;
    for (size_t c = 0, j = 0; c < np; c++)
        if (deps >> c & 1)
            p[c] = ps->cache_keys[i][e * k + j++];
    /* operands: the global series; outputs: the entry */
    double **slots = calloc(ps->n_slots + 1, sizeof *slots);
    if (slots == NULL)
        return FP_ENOMEM;
    for (size_t s = 0; s < ps->n_slots; s++)
        if (ps->where[s] == W_GLOBAL)
            slots[s] = ps->global + ps->at[s] * ps->bars.n;
    cache_slots(ps, i, e, slots);
    int status = exec_series_at(ps, slots, i, p);
    free(slots);
    return status;
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int init(fp_prog_sweep *ps, const fp_program *prog, const fp_prog_bars *bars,
                const double *params, size_t n_sets, const fp_costs *costs, double *out)
{
    atomic_init(&ps->bad_instr, SIZE_MAX);
    ps->bad_set = SIZE_MAX;
    if (prog == NULL || bars == NULL || costs == NULL || (prog->n_code > 0 && prog->code == NULL) ||
        prog->n_params > FP_PROG_MAX_PARAMS || (n_sets > 0 && out == NULL) ||
        (n_sets > 0 && prog->n_params > 0 && params == NULL) ||
        (bars->n > 0 && bars->col[FP_COL_CLOSE] == NULL) ||
        fp_sweep_check_costs(costs) != FP_OK)
        return FP_EINVAL;
    ps->prog = *prog;
    ps->bars = *bars;
    ps->costs = *costs;
    ps->params = params;
    ps->n_sets = n_sets;
    ps->out = out;
    uint64_t key;
    int status = plan_slots(ps, bars, &key);
    if (status != FP_OK)
        return status;

    /* Every set against every instruction that reads a parameter; the
     * others once. */
    const size_t np = prog->n_params;
    if (n_sets > 0 && !all_finite(params, n_sets * np))
        return FP_EINVAL;
    static const double no_params[1] = {0.0};
    for (size_t i = 0; i < prog->n_code; i++) {
        const fp_instr *ins = &prog->code[i];
        int reads = 0;
        for (int k = 0; k < ins->n_args; k++)
            reads |= ins->arg[k].kind == FP_ARG_PARAM;
        for (size_t j = 0; j < (reads ? n_sets : 1); j++)
            if (check_set(ins, reads ? params + j * np : no_params) != FP_OK) {
                atomic_store(&ps->bad_instr, i);
                ps->bad_set = reads ? j : SIZE_MAX;
                return FP_EINVAL;
            }
    }
    for (size_t i = 0; i < prog->n_code; i++)
        if (prog->code[i].op == FP_OP_COLUMN && bars->n > 0 &&
            !all_finite(bars->col[prog->code[i].sub], bars->n)) {
            atomic_store(&ps->bad_instr, i);
            return FP_ENONFINITE;
        }
    if (bars->n > 0 && !all_finite(bars->col[FP_COL_CLOSE], bars->n))
        return FP_ENONFINITE;

    /* The series that read no parameter, once for the whole sweep. */
    const size_t n = bars->n;
    double **base = calloc(ps->n_slots + 1, sizeof *base);
    ps->global = malloc((ps->n_where[W_GLOBAL] * n + 1) * sizeof *ps->global);
    if (base == NULL || ps->global == NULL) {
        free(base);
        return FP_ENOMEM;
    }
    for (size_t s = 0; s < ps->n_slots; s++)
        if (ps->where[s] == W_GLOBAL)
            base[s] = ps->global + ps->at[s] * n;
    for (size_t i = 0; i < prog->n_code && status == FP_OK; i++)
        if (ps->where[ps->first_slot[i]] == W_GLOBAL)
            status = exec_series_at(ps, base, i, no_params);
    free(base);
    if (status != FP_OK)
        return status;
    ps->entry_guard = guard_of(ps, prog->entry);
    status = plan_tasks(ps, key);
    return status == FP_OK ? plan_cache(ps) : status;
}

int fp_prog_sweep_init(fp_prog_sweep *ps, const fp_program *prog, const fp_prog_bars *bars,
                       const double *params, size_t n_sets, const fp_costs *costs, double *out)
{
    memset(ps, 0, sizeof *ps);
    int status = init(ps, prog, bars, params, n_sets, costs, out);
    if (status != FP_OK)
        fp_prog_sweep_free(ps); /* what the failed plan allocated; bad_* stay */
    return status;
}

/* ------------------------------------------------------------------ */
/* A task                                                              */
/* ------------------------------------------------------------------ */

/* The trade's state as the program sees it (FP_ST_*). */
typedef struct {
    size_t entry_bar, exit_bar; /* exit_bar SIZE_MAX: no exit yet */
    double highest, lowest;
} trade_state;

static double state_value(int which, const sim *acc, const trade_state *ts, size_t t)
{
    const double pos = acc->pos;
    switch (which) {
    case FP_ST_IN_POSITION:
        return pos != 0.0;
    case FP_ST_IS_LONG:
        return pos > 0.0;
    case FP_ST_IS_SHORT:
        return pos < 0.0;
    case FP_ST_ENTRY_PRICE:
        return pos != 0.0 ? acc->base : NAN;
    case FP_ST_BARS_IN_TRADE:
        return pos != 0.0 ? (double)(t - ts->entry_bar) : NAN;
    case FP_ST_HIGHEST:
        return pos != 0.0 ? ts->highest : NAN;
    case FP_ST_LOWEST:
        return pos != 0.0 ? ts->lowest : NAN;
    default: /* FP_ST_BARS_SINCE_EXIT */
        return ts->exit_bar == SIZE_MAX ? INFINITY : (double)(t - ts->exit_bar);
    }
}

/* A signal slot over a block, from the block's first bar. */
static operand signal_of(const fp_prog_sweep *ps, double *const *base, long slot, size_t t0)
{
    static const double never = 0.0;
    if (slot < 0)
        return (operand){&never, 0};
    const size_t s = (size_t)slot;
    switch (ps->where[s]) {
    case W_BLOCK:
        return (operand){base[s], 1};
    case W_LATE: /* rewritten at every bar, before it is read */
        return (operand){base[s], 0};
    default:
        return (operand){base[s] + t0, 1};
    }
}

/* A signal is true when not 0 and not NaN. */
static inline int truthy(double v)
{
    return (v < 0.0) | (v > 0.0); /* ordered comparisons: no branch, vectorised */
}

/* Sets advanced in lockstep: their accounts are independent, so the
 * processor overlaps their arithmetic (one account alone waits on its own
 * chain of divisions). */
#define LANES 16

/* A slot that reads the trade's state, resolved for one block of one set:
 * its operands' values at the block's bar i are a[k].p[i * a[k].s]. */
typedef struct {
    int op, sub;
    double *dst;
    operand a[3];
} late_step;

/* What one task holds for its sets: the slot pointers of each lane (the
 * series are shared, the registers and state slots are the lane's own),
 * and the lanes' resolved state slots. */
typedef struct {
    double **base;     /* LANES rows of n_slots pointers */
    double *regs;      /* LANES rows of the element-wise slots' registers */
    unsigned char *owns; /* LANES rows of n_block: does the lane compute the slot? */
    late_step *steps;  /* LANES rows of n_late steps */
    const size_t *block_code, *late_code;
    size_t n_block, n_late;
} lanes;

/* Sets idx[0..k) (k <= LANES) over all bars: per block, each set's
 * element-wise slots; then bar by bar, for each set, its slots of the
 * trade's state and its account. */
static int run_lanes(fp_prog_sweep *ps, const lanes *ln, const size_t *idx, size_t k)
{
    const size_t n = ps->bars.n, np = ps->prog.n_params, n_slots = ps->n_slots;
    const double *c = ps->bars.col[FP_COL_CLOSE];
    const fp_costs *costs = &ps->costs;
    /* a long-only exit while flat does nothing: such bars are skipped
     * while the account is idle */
    const unsigned char acts = costs->longshort ? 3 : 1;
    const int acts_on_exit = acts & 2;
    sim acc[LANES];
    trade_state ts[LANES];
    operand en[LANES], ex[LANES], guard[LANES];
    unsigned char sig[LANES][BLOCK];
    for (size_t j = 0; j < k; j++) {
        sim_init(&acc[j]);
        ts[j] = (trade_state){0, SIZE_MAX, NAN, NAN};
    }
    /* An element-wise slot is computed by the first lane whose set gives
     * the parameters it reads these values; the other lanes read its
     * registers (a comparison with a threshold several sets share). */
    for (size_t j = 0; j < k; j++)
        for (size_t b = 0; b < ln->n_block; b++) {
            const size_t s = ps->first_slot[ln->block_code[b]];
            size_t same = 0;
            while (same < j && !same_key(ps, ps->deps[s], idx[same], idx[j]))
                same++;
            ln->owns[j * ln->n_block + b] = same == j;
            ln->base[j * n_slots + s] =
                same == j ? ln->regs + (j * ps->n_where[W_BLOCK] + ps->at[s]) * BLOCK
                          : ln->base[same * n_slots + s];
        }
    for (size_t t0 = 0; t0 < n; t0 += BLOCK) {
        if (atomic_load_explicit(&ps->cancel, memory_order_relaxed))
            return FP_ECANCELLED;
        const size_t len = n - t0 < BLOCK ? n - t0 : BLOCK;
        for (size_t j = 0; j < k; j++) {
            double *const *base = ln->base + j * n_slots;
            const double *p = ps->params + idx[j] * np;
            for (size_t b = 0; b < ln->n_block; b++)
                if (ln->owns[j * ln->n_block + b])
                    exec_elem_at(ps, base, ln->block_code[b], p, t0, t0, len);
            en[j] = signal_of(ps, base, ps->prog.entry, t0);
            guard[j] = signal_of(ps, base, ps->entry_guard, t0);
            ex[j] = signal_of(ps, base, ps->prog.exit, t0);
            for (size_t q = 0; q < ln->n_late; q++) {
                const size_t i = ln->late_code[q];
                const fp_instr *ins = &ps->prog.code[i];
                late_step *st = &ln->steps[j * ln->n_late + q];
                st->op = ins->op;
                st->sub = ins->sub;
                st->dst = base[ps->first_slot[i]];
                for (int a = 0; a < 3; a++)
                    st->a[a] = a < ins->n_args ? operand_at(ps, base, &ins->arg[a], p, t0, t0)
                                               : (operand){&st->dst[0], 0};
            }
            if (ln->n_late > 0)
                continue;
            /* Without the trade's state the signals are known for the
             * whole block: as bits, 1 entry and 2 exit. */
            unsigned char *s = sig[j];
            const operand e = en[j], x = ex[j];
            if (e.s == 1 && x.s == 1) /* the usual case, vectorised */
                for (size_t i = 0; i < len; i++)
                    s[i] = (unsigned char)(truthy(e.p[i]) | truthy(x.p[i]) << 1);
            else
                for (size_t i = 0; i < len; i++)
                    s[i] = (unsigned char)(truthy(e.p[i * e.s]) | truthy(x.p[i * x.s]) << 1);
        }
        if (ln->n_late == 0) {
            for (size_t i = 0; i < len; i++)
                for (size_t j = 0; j < k; j++) {
                    const unsigned char s = sig[j][i];
                    if (!(s & acts) && sim_idle(&acc[j]))
                        continue;
                    sim_bar(&acc[j], c[t0 + i], s & 1, s >> 1, costs);
                }
            continue;
        }
        for (size_t i = 0; i < len; i++) {
            const size_t t = t0 + i;
            for (size_t j = 0; j < k; j++) {
                sim *a = &acc[j];
                trade_state *tr = &ts[j];
                const double pos = a->pos;
                /* idle, the entry's guard false, an exit unable to act: the
                 * bar changes nothing */
                if (ps->entry_guard >= 0 && !acts_on_exit && sim_idle(a) &&
                    !truthy(guard[j].p[i * guard[j].s]))
                    continue;
                if (pos != 0.0) {
                    tr->highest = c[t] > tr->highest ? c[t] : tr->highest;
                    tr->lowest = c[t] < tr->lowest ? c[t] : tr->lowest;
                }
                const late_step *st = &ln->steps[j * ln->n_late];
                for (size_t q = 0; q < ln->n_late; q++, st++)
                    *st->dst = st->op == FP_OP_STATE
                                   ? state_value(st->sub, a, tr, t)
                                   : eval1(st->op, st->a[0].p[i * st->a[0].s],
                                           st->a[1].p[i * st->a[1].s], st->a[2].p[i * st->a[2].s]);
                const int e = truthy(en[j].p[i * en[j].s]), x = truthy(ex[j].p[i * ex[j].s]);
                if (!(e | ((x << 1) & acts)) && sim_idle(a))
                    continue;
                sim_bar(a, c[t], e, x, costs);
                const double now = a->pos;
                if (pos != 0.0 && (now == 0.0 || (now > 0.0) != (pos > 0.0)))
                    tr->exit_bar = t;
                if (now != 0.0 && (pos == 0.0 || (now > 0.0) != (pos > 0.0))) {
                    tr->entry_bar = t;
                    tr->highest = tr->lowest = c[t];
                }
            }
        }
    }
    for (size_t j = 0; j < k; j++)
        sim_finish(&acc[j], n, n > 0 ? c[n - 1] : NAN, costs,
                   ps->out + idx[j] * FP_SWEEP_N_METRICS);
    return FP_OK;
}

/* Lanes of a task whose series read parameters: each lane has its own
 * series (a lane shares another's when their parameters agree), within
 * this much memory. */
#define SERIES_BUDGET ((size_t)64 << 20)

/* The series of lanes 0..m) (sets idx[0..m)), into their own storage, a
 * lane reusing an earlier lane's where the parameters they read agree. */
static int lane_series(fp_prog_sweep *ps, const lanes *ln, double *series, const size_t *idx,
                       size_t m)
{
    const size_t n = ps->bars.n, np = ps->prog.n_params, n_slots = ps->n_slots;
    const size_t n_ser = ps->n_where[W_SERIES];
    for (size_t j = 0; j < m; j++)
        for (size_t s = 0; s < n_slots; s++)
            if (ps->where[s] == W_SERIES)
                ln->base[j * n_slots + s] = series + (j * n_ser + ps->at[s]) * n;
    for (size_t i = 0; i < ps->prog.n_code; i++) {
        const size_t first = ps->first_slot[i], last = ps->first_slot[i + 1];
        if (ps->where[first] != W_SERIES)
            continue;
        if (ps->cache_n[i] > 0) { /* computed once for the sweep */
            for (size_t j = 0; j < m; j++)
                cache_slots(ps, i, cache_entry(ps, i, idx[j]), ln->base + j * n_slots);
            continue;
        }
        for (size_t j = 0; j < m; j++) {
            size_t same = 0;
            while (same < j && !same_key(ps, ps->deps[first], idx[same], idx[j]))
                same++;
            if (same < j) {
                for (size_t s = first; s < last; s++)
                    ln->base[j * n_slots + s] = ln->base[same * n_slots + s];
                continue;
            }
            int status = exec_series_at(ps, ln->base + j * n_slots, i, ps->params + idx[j] * np);
            if (status != FP_OK)
                return status;
        }
    }
    return FP_OK;
}

int fp_prog_sweep_task(void *ctx, size_t index)
{
    fp_prog_sweep *ps = ctx;
    const size_t n = ps->bars.n, n_code = ps->prog.n_code, n_slots = ps->n_slots;
    const size_t first = ps->task_start[index], end = ps->task_start[index + 1];
    const size_t n_ser = ps->n_where[W_SERIES];
    size_t n_lanes = LANES;
    if (n_ser > 0 && n > 0 && SERIES_BUDGET / (n_ser * n * sizeof(double)) < n_lanes)
        n_lanes = SERIES_BUDGET / (n_ser * n * sizeof(double));
    n_lanes = n_lanes < 1 ? 1 : n_lanes;
    /* One allocation: the lanes' state steps, slot pointers, the
     * instruction lists, the lanes' series, registers and state slots. */
    const size_t n_ptr = LANES * n_slots + 1, n_idx = 2 * n_code + 1;
    const size_t n_steps = LANES * ps->n_where[W_LATE] + 1;
    const size_t n_dbl = n_lanes * n_ser * n +
                         LANES * (ps->n_where[W_BLOCK] * BLOCK + ps->n_where[W_LATE]) + 1;
    void *mem = malloc(n_steps * sizeof(late_step) + n_ptr * sizeof(double *) +
                       n_idx * sizeof(size_t) + n_dbl * sizeof(double) + LANES * n_code + 1);
    if (mem == NULL)
        return FP_ENOMEM;
    lanes ln;
    ln.steps = mem;
    ln.base = (double **)(ln.steps + n_steps);
    size_t *block_code = (size_t *)(ln.base + n_ptr), *late_code = block_code + n_code;
    double *series = (double *)(block_code + n_idx);
    double *regs = series + n_lanes * n_ser * n;
    double *late = regs + LANES * ps->n_where[W_BLOCK] * BLOCK;
    ln.regs = regs;
    ln.owns = (unsigned char *)(late + LANES * ps->n_where[W_LATE] + 1);
    for (size_t j = 0; j < LANES; j++)
        for (size_t s = 0; s < n_slots; s++) {
            const size_t at = ps->at[s];
            double **b = &ln.base[j * n_slots + s];
            switch (ps->where[s]) {
            case W_GLOBAL: *b = ps->global + at * n; break;
            case W_SERIES: *b = NULL; break; /* per group of lanes: lane_series */
            case W_BLOCK: *b = regs + (j * ps->n_where[W_BLOCK] + at) * BLOCK; break;
            default: *b = late + j * ps->n_where[W_LATE] + at; break;
            }
        }
    ln.n_block = ln.n_late = 0;
    for (size_t i = 0; i < n_code; i++) {
        int w = ps->where[ps->first_slot[i]];
        if (w == W_BLOCK)
            block_code[ln.n_block++] = i;
        else if (w == W_LATE)
            late_code[ln.n_late++] = i;
    }
    ln.block_code = block_code;
    ln.late_code = late_code;

    int status = FP_OK;
    for (size_t k = first; k < end && status == FP_OK;) {
        const size_t m = end - k < n_lanes ? end - k : n_lanes;
        status = lane_series(ps, &ln, series, ps->order + k, m);
        if (status == FP_OK)
            status = run_lanes(ps, &ln, ps->order + k, m);
        k += m;
        atomic_fetch_add_explicit(&ps->done, m, memory_order_relaxed);
        if (ps->progress != NULL)
            atomic_fetch_add_explicit(ps->progress, m, memory_order_relaxed);
    }
    free(mem);
    return status;
}

void fp_prog_sweep_cancel(fp_prog_sweep *ps)
{
    atomic_store(&ps->cancel, 1);
}

void fp_prog_sweep_free(fp_prog_sweep *ps)
{
    free(ps->first_slot);
    free(ps->where);
    free(ps->at);
    free(ps->deps);
    free(ps->global);
    free(ps->order);
    free(ps->task_start);
    for (size_t i = 0; ps->cache_keys != NULL && i < ps->prog.n_code; i++) {
        free(ps->cache_keys[i]);
        free(ps->cache_data[i]);
    }
    free(ps->cache_n);
    free(ps->cache_keys);
    free(ps->cache_data);
    free(ps->prep_instr);
    free(ps->prep_entry);
    ps->cache_n = ps->prep_instr = ps->prep_entry = NULL;
    ps->cache_keys = ps->cache_data = NULL;
    ps->first_slot = ps->at = ps->order = ps->task_start = NULL;
    ps->deps = NULL;
    ps->where = NULL;
    ps->global = NULL;
}

int fp_prog_sweep_run(const fp_program *prog, const fp_prog_bars *bars, const double *params,
                      size_t n_sets, const fp_costs *costs, double *out, int nthreads)
{
    fp_prog_sweep ps;
    int status = fp_prog_sweep_init(&ps, prog, bars, params, n_sets, costs, out);
    if (status == FP_OK && ps.n_prep > 0)
        status = fp_pool_run(fp_prog_sweep_prep_task, &ps, ps.n_prep, nthreads, NULL);
    if (status == FP_OK && ps.n_tasks > 0)
        status = fp_pool_run(fp_prog_sweep_task, &ps, ps.n_tasks, nthreads, NULL);
    fp_prog_sweep_free(&ps);
    return status;
}
