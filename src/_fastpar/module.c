/*
 * module.c - the glue between Python and fastpar's pure C code.
 *
 * Every kernel entry point has the same shape: convert and check the
 * arguments, allocate the outputs, release the GIL, run one pure C function
 * (directly for one series, as a pool job for one series per row), map its
 * status to a Python exception, return. The indicator entry points convert
 * and check their arguments here, with the messages users see: at a
 * thousand prices, a conversion in Python would cost as much as the kernel.
 * fastpar/indicators.py only turns other inputs (lists, pandas Series) into
 * arrays first, and wraps the results back.
 *
 * The module uses multi-phase initialisation, imports NumPy's C API in its
 * exec slot and declares that it does not need the GIL: it keeps no Python
 * state of its own, and the pool guards its state with its own mutex.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define NPY_NO_DEPRECATED_API NPY_1_21_API_VERSION
#include <numpy/arrayobject.h>

#include "pool.h"
#include "program.h"
#include "registry.h"
#include "strategies.h"

/* How long a waiting caller runs with the GIL released before it looks for
 * a pending signal (Ctrl-C): short enough to feel immediate. */
#define FPG_SLICE_MS 50


/* ------------------------------------------------------------------------ */
/* Status mapping                                                           */

static PyObject *
set_status_error(int status, const char *what)
{
    switch (status) {
    case FP_ENOMEM:
        return PyErr_NoMemory();
    case FP_ENONFINITE:
        PyErr_Format(PyExc_ValueError,
                     "%s: input contains NaN or inf after its leading NaNs", what);
        return NULL;
    case FP_ECANCELLED:
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyboardInterrupt, "fastpar job cancelled");
        return NULL;
    case FP_ETHREAD:
        PyErr_Format(PyExc_RuntimeError, "%s: could not start a thread", what);
        return NULL;
    case FP_EINVAL:
    default:
        PyErr_Format(PyExc_ValueError, "%s: invalid argument (status %d)", what, status);
        return NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Running a pool job from Python                                           */

/* Run `job` with the GIL released, in slices, so that Ctrl-C (seen by
 * PyErr_CheckSignals on the main thread) cancels it promptly: no task
 * starts after that, and `cancel`, if not NULL, is set so that running tasks
 * that watch it stop too. A job of long tasks (`long_tasks`: scenarios,
 * sweeps) runs on the pool's workers while this thread only waits, so that
 * it sees Ctrl-C at once; with nthreads == 1 it runs here instead (what
 * callers that bring their own threads want), and Ctrl-C is seen between
 * two tasks. Returns the job's status, or FP_ECANCELLED after a signal,
 * whose Python exception is left set. */
static int
run_job(fp_job *job, int nthreads, int long_tasks, atomic_int *cancel)
{
    int submitted = 0, finished, status = FP_OK, interrupted = 0;

    for (;;) {
        /* The job is submitted with its first slice and finished with its
         * last, all without the GIL: submitting may wait for the pool's
         * mutex, and each time a thread takes the GIL back it may wait for
         * other threads' Python, so a short job takes it back only once. */
        Py_BEGIN_ALLOW_THREADS
        if (!submitted) {
            /* FP_ETHREAD only means: the caller alone. */
            if (long_tasks && nthreads != 1)
                fp_job_submit_waiting(job, nthreads);
            else
                fp_job_submit(job, nthreads);
            submitted = 1;
        }
        finished = fp_job_work(job, FPG_SLICE_MS);
        if (finished)
            status = fp_job_finish(job);
        Py_END_ALLOW_THREADS
        if (finished)
            break;
        if (!interrupted && PyErr_CheckSignals() < 0) {
            interrupted = 1;
            if (cancel != NULL)
                atomic_store(cancel, 1);
            Py_BEGIN_ALLOW_THREADS
            fp_job_cancel(job); /* takes the pool's mutex */
            Py_END_ALLOW_THREADS
        }
    }
    if (interrupted)
        return FP_ECANCELLED;
    return status;
}

/* ------------------------------------------------------------------------ */
/* Argument helpers                                                         */

/* The name of obj's type as Python's type(obj).__name__ shows it, without
 * the module ("float64", not "numpy.float64"). */
static const char *
type_name(PyObject *obj)
{
    const char *name = Py_TYPE(obj)->tp_name, *dot = strrchr(name, '.');
    return dot != NULL ? dot + 1 : name;
}

/* An integer argument (anything with __index__ but a bool: True is not a
 * period or a thread count) in [lo, hi], as a long; -1 with TypeError
 * "<type_msg>, got <type>" or ValueError "<range_msg> in [lo, hi], got
 * <value>" otherwise, however large the value. lo >= 0. */
static long
index_in_range(PyObject *obj, const char *type_msg, const char *range_msg, long lo, long hi)
{
    int overflow;
    long v;
    PyObject *index;

    if (PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s, got bool", type_msg);
        return -1;
    }
    index = PyNumber_Index(obj);
    if (index == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s, got %s", type_msg, type_name(obj));
        }
        return -1;
    }
    v = PyLong_AsLongAndOverflow(index, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(index);
        return -1;
    }
    if (overflow != 0 || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s in [%ld, %ld], got %R", range_msg, lo, hi, index);
        v = -1;
    }
    Py_DECREF(index);
    return v;
}

static int
parse_threads(PyObject *obj, int *nthreads)
{
    if (obj == Py_None) {
        *nthreads = 0; /* the pool's size */
        return 0;
    }
    long v = index_in_range(obj, "threads must be None or an integer", "threads must be None or",
                            1, FP_POOL_MAX_THREADS);
    if (v < 0)
        return -1;
    *nthreads = (int)v;
    return 0;
}

static PyObject *
shape_of(PyArrayObject *a)
{
    return PyArray_IntTupleFromIntp(PyArray_NDIM(a), PyArray_DIMS(a));
}

/* A NumPy array of real numbers, 1-D (one series) or 2-D (one series per
 * row) and not empty, as an aligned C-contiguous float64 array: a new
 * reference to the same array when it already is one (no copy), else to a
 * converted copy. NULL with TypeError or ValueError otherwise. */
static PyArrayObject *
as_series_array(PyObject *obj, const char *name)
{
    PyArrayObject *a = (PyArrayObject *)obj;
    char kind;
    int ndim;

    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a NumPy array, got %s", name,
                     type_name(obj));
        return NULL;
    }
    kind = PyArray_DESCR(a)->kind;
    if (kind != 'i' && kind != 'u' && kind != 'f') {
        PyErr_Format(PyExc_TypeError, "%s must hold real numbers, got dtype %S", name,
                     (PyObject *)PyArray_DESCR(a));
        return NULL;
    }
    ndim = PyArray_NDIM(a);
    if (ndim != 1 && ndim != 2) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be 1-D (one series) or 2-D (one series per row), got %d "
                     "dimensions",
                     name, ndim);
        return NULL;
    }
    if (PyArray_SIZE(a) == 0) {
        PyObject *shape = shape_of(a);
        if (shape != NULL)
            PyErr_Format(PyExc_ValueError, "%s is empty (shape %R)", name, shape);
        Py_XDECREF(shape);
        return NULL;
    }
    /* Casts from any integer or float type, swaps the byte order, makes
     * it contiguous; returns `a` itself when there is nothing to do. */
    return (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_DOUBLE,
                                             NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
}

/* ------------------------------------------------------------------------ */
/* Indicators (registry.h): every row the same way                          */
/*                                                                          */
/* Each row is exposed twice, as _fastpar.<name> (fastpar's parameter names */
/* in messages, fast < slow required) and _fastpar.<TA_NAME> (TA-Lib's      */
/* names, fast and slow swapped as TA-Lib does), both as                    */
/* f(*inputs, *params, threads): positional, all given (the Python layer    */
/* fills in defaults and keywords).                                         */

/* Rows at most: the method table below is static. */
#define FPG_MAX_ROWS 128

static const fp_indicator *rows[FPG_MAX_ROWS];
static size_t n_rows;

/* Which row, and which naming: the function's `self`. */
#define FPG_TA_NAMES 1
#define ROW_CODE(row, ta) ((Py_ssize_t)(row) * 2 + (ta))

static const char *
param_name(const fp_param *par, int ta)
{
    return ta ? par->ta_name : par->name;
}

/* One parameter into *v, checked against its range. */
static int
parse_param(const fp_indicator *ind, int k, PyObject *arg, int ta, double *v)
{
    const fp_param *par = &ind->params[k];
    const char *name = param_name(par, ta);
    char type_msg[96], range_msg[96];

    if (par->kind == FP_PARAM_REAL) {
        double d = PyFloat_AsDouble(arg);
        if (d == -1.0 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "%s must be a real number, got %s", name,
                             type_name(arg));
            }
            return -1;
        }
        if (!(d >= par->lo && d <= par->hi)) {
            PyObject *f = PyFloat_FromDouble(d);
            if (f == NULL)
                return -1;
            if (par->lo == -DBL_MAX) {
                PyErr_Format(PyExc_ValueError, "%s must be finite, got %R", name, f);
            } else {
                /* PyErr_Format has no %g: the bounds go in as floats' reprs */
                PyObject *lo = PyFloat_FromDouble(par->lo), *hi = PyFloat_FromDouble(par->hi);
                if (lo != NULL && hi != NULL)
                    PyErr_Format(PyExc_ValueError, "%s must be in [%R, %R], got %R", name, lo,
                                 hi, f);
                Py_XDECREF(lo);
                Py_XDECREF(hi);
            }
            Py_DECREF(f);
            return -1;
        }
        *v = d;
        return 0;
    }
    PyOS_snprintf(type_msg, sizeof type_msg, "%s must be an integer", name);
    PyOS_snprintf(range_msg, sizeof range_msg, "%s must be", name);
    long i = index_in_range(arg, type_msg, range_msg, (long)par->lo, (long)par->hi);
    if (i < 0)
        return -1;
    if (par->kind == FP_PARAM_MATYPE) {
        static const char *missing[] = {[7] = "MAMA", [9] = "HMA", [12] = "ZLEMA", [13] = "RMA"};
        if (i == 11) /* TA-Lib's DEFAULT: the function's own */
            i = (long)par->def;
        if (i < 14 && missing[i] != NULL) {
            PyErr_Format(PyExc_NotImplementedError,
                         "%s: %s=%ld (%s) is not implemented in fastpar; the moving averages are "
                         "0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 8 T3 and 10 "
                         "(none: the input itself)",
                         ta && ind->ta_name ? ind->ta_name : ind->name, name, i, missing[i]);
            return -1;
        }
    }
    *v = (double)i;
    return 0;
}

/* All parameters of a call, from args[0 .. n_params), into p (TA-Lib's
 * reading for the TA-Lib names). */
static int
parse_params(const fp_indicator *ind, PyObject *const *args, int ta, double *p)
{
    double raw[FP_MAX_PARAMS];
    for (int k = 0; k < ind->n_params; k++)
        if (parse_param(ind, k, args[k], ta, &raw[k]) < 0)
            return -1;
    if ((ind->flags & FP_FAST_SLOW) && !ta && !(raw[0] < raw[1])) {
        PyErr_Format(PyExc_ValueError, "%s needs %s < %s, got %s=%ld, %s=%ld", ind->name,
                     ind->params[0].name, ind->params[1].name, ind->params[0].name,
                     (long)raw[0], ind->params[1].name, (long)raw[1]);
        return -1;
    }
    fp_indicator_ta_params(ind, raw, p);
    return 0;
}

/* Everything one call needs, shared read-only by the rows' tasks. */
typedef struct {
    const fp_indicator *ind;
    size_t n;
    const double *in[FP_MAX_IN];
    double *out[FP_MAX_OUT];
    double p[FP_MAX_PARAMS];
} indicator_call;

/* Pool task: the indicator on row `row`. Each task writes only its own
 * rows of the outputs, and the kernels allocate their own scratch memory. */
static int
indicator_row_task(void *ctx, size_t row)
{
    const indicator_call *c = ctx;
    const double *in[FP_MAX_IN];
    double *out[FP_MAX_OUT];
    size_t off = row * c->n;

    for (int i = 0; i < c->ind->n_in; i++)
        in[i] = c->in[i] + off;
    for (int i = 0; i < c->ind->n_out; i++)
        out[i] = c->out[i] + off;
    return fp_indicator_run(c->ind, in, c->n, c->p, out);
}

/* The bytes an array's elements may occupy, [*lo, *hi), whatever its
 * strides (np.may_share_memory's test: two arrays whose ranges are
 * disjoint cannot share an element). */
static void
memory_range(PyArrayObject *a, const char **lo, const char **hi)
{
    const char *start = PyArray_BYTES(a), *end = start + PyArray_ITEMSIZE(a);
    for (int d = 0; d < PyArray_NDIM(a); d++) {
        npy_intp extent = (PyArray_DIM(a, d) - 1) * PyArray_STRIDE(a, d);
        if (PyArray_DIM(a, d) == 0)
            return (void)(*lo = *hi = start);
        if (extent < 0)
            start += extent;
        else
            end += extent;
    }
    *lo = start;
    *hi = end;
}

static int
may_overlap(PyArrayObject *a, PyArrayObject *b)
{
    const char *alo, *ahi, *blo, *bhi;
    memory_range(a, &alo, &ahi);
    memory_range(b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

/* The caller's output buffers (out=): one float64 array for a row with one
 * output, a tuple of n_out of them otherwise, each of the inputs' shape,
 * C-contiguous, aligned, writable, and sharing no memory with any input
 * (the kernels read inputs after writing outputs) or with another output.
 * New references into bufs; -1 with TypeError or ValueError otherwise. */
static int
parse_out(PyObject *obj, const fp_indicator *ind, const char *fname, PyObject *const *inputs,
          PyArrayObject *like, PyArrayObject **bufs)
{
    PyObject *items[FP_MAX_OUT];
    if (ind->n_out == 1 && PyArray_Check(obj)) {
        items[0] = obj;
    } else if (PyTuple_Check(obj) && PyTuple_GET_SIZE(obj) == ind->n_out) {
        for (int j = 0; j < ind->n_out; j++)
            items[j] = PyTuple_GET_ITEM(obj, j);
    } else {
        if (ind->n_out == 1)
            PyErr_Format(PyExc_TypeError, "%s(): out must be a NumPy array, got %s", fname,
                         type_name(obj));
        else
            PyErr_Format(PyExc_TypeError,
                         "%s(): out must be a tuple of %d NumPy arrays (one per output), got %s",
                         fname, ind->n_out, type_name(obj));
        return -1;
    }
    for (int j = 0; j < ind->n_out; j++) {
        PyArrayObject *o = (PyArrayObject *)items[j];
        const char *what = ind->out[j];
        if (!PyArray_Check(items[j])) {
            PyErr_Format(PyExc_TypeError, "%s(): out for %s must be a NumPy array, got %s", fname,
                         what, type_name(items[j]));
            return -1;
        }
        if (PyArray_TYPE(o) != NPY_DOUBLE || !PyArray_ISNOTSWAPPED(o)) {
            PyErr_Format(PyExc_TypeError, "%s(): out for %s must be float64, got dtype %S",
                         fname, what, (PyObject *)PyArray_DESCR(o));
            return -1;
        }
        if (!PyArray_SAMESHAPE(o, like)) {
            PyObject *so = shape_of(o), *si = shape_of(like);
            if (so != NULL && si != NULL)
                PyErr_Format(PyExc_ValueError,
                             "%s(): out for %s must have the inputs' shape %R, got %R", fname,
                             what, si, so);
            Py_XDECREF(so);
            Py_XDECREF(si);
            return -1;
        }
        if (!PyArray_IS_C_CONTIGUOUS(o) || !PyArray_ISALIGNED(o) || !PyArray_ISWRITEABLE(o)) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): out for %s must be C-contiguous, aligned and writable", fname,
                         what);
            return -1;
        }
        for (int i = 0; i < ind->n_in; i++) {
            if (may_overlap(o, (PyArrayObject *)inputs[i])) {
                PyErr_Format(PyExc_ValueError,
                             "%s(): out for %s shares memory with the input %s; pass a separate "
                             "buffer",
                             fname, what, ind->in[i]);
                return -1;
            }
        }
        for (int k = 0; k < j; k++) {
            if (may_overlap(o, bufs[k])) {
                PyErr_Format(PyExc_ValueError, "%s(): the out buffers for %s and %s share memory",
                             fname, ind->out[k], what);
                return -1;
            }
        }
        Py_INCREF(o);
        bufs[j] = o;
    }
    return 0;
}

/* _fastpar.<name>(*inputs, *params, threads[, out]). Inputs are NumPy
 * arrays of real numbers, 1-D or 2-D, all of one shape (a 2-D array holds
 * one series per row); the result is one float64 array, or a tuple of
 * them, of that shape: new ones, or the caller's `out` (parse_out), which
 * spares the page faults of fresh memory on every call. */
/* The result of a call from its outputs: the array itself for one, a
 * tuple for several. The references move into it (the slots are cleared,
 * so the caller's clean-up releases only what was not taken); NULL with
 * the slots untouched if the tuple cannot be made. */
static PyObject *
take_outputs(PyArrayObject **out, int n_out)
{
    if (n_out == 1) {
        PyObject *result = (PyObject *)out[0];
        out[0] = NULL;
        return result;
    }
    PyObject *result = PyTuple_New(n_out);
    if (result == NULL)
        return NULL;
    for (int i = 0; i < n_out; i++) {
        PyTuple_SET_ITEM(result, i, (PyObject *)out[i]);
        out[i] = NULL;
    }
    return result;
}

static PyObject *
call_indicator(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const Py_ssize_t code = PyLong_AsSsize_t(self);
    const fp_indicator *ind = rows[code / 2];
    const int ta = (int)(code % 2);
    const char *fname = ta ? ind->ta_name : ind->name;
    const char *const *in_names = ta ? ind->ta_in : ind->in;
    indicator_call c = {.ind = ind};
    PyArrayObject *in[FP_MAX_IN] = {NULL};
    PyArrayObject *out[FP_MAX_OUT] = {NULL};
    PyObject *result = NULL;
    int *row_status = NULL;
    int nthreads, status = FP_OK, ndim;
    npy_intp *dims;
    size_t nrows;

    Py_ssize_t want = ind->n_in + ind->n_params + 1;
    PyObject *out_arg = Py_None;
    if (nargs == want + 1) {
        out_arg = args[want];
        nargs = want;
    }
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd", fname, want, nargs);
        return NULL;
    }
    for (int i = 0; i < ind->n_in; i++) {
        in[i] = as_series_array(args[i], in_names[i]);
        if (in[i] == NULL)
            goto done;
        if (i > 0 && !PyArray_SAMESHAPE(in[i], in[0])) {
            PyObject *s0 = shape_of(in[0]), *si = shape_of(in[i]);
            if (s0 != NULL && si != NULL)
                PyErr_Format(PyExc_ValueError, "%s and %s must have the same shape, got %R and %R",
                             in_names[0], in_names[i], s0, si);
            Py_XDECREF(s0);
            Py_XDECREF(si);
            goto done;
        }
        c.in[i] = PyArray_DATA(in[i]);
    }
    if (parse_params(ind, args + ind->n_in, ta, c.p) < 0)
        goto done;
    if (parse_threads(args[nargs - 1], &nthreads) < 0)
        goto done;

    ndim = PyArray_NDIM(in[0]);
    dims = PyArray_DIMS(in[0]);
    nrows = ndim == 2 ? (size_t)dims[0] : 1;
    c.n = (size_t)dims[ndim - 1];
    if (out_arg != Py_None) {
        if (parse_out(out_arg, ind, fname, args, in[0], out) < 0)
            goto done;
        for (int i = 0; i < ind->n_out; i++)
            c.out[i] = PyArray_DATA(out[i]);
    } else {
        for (int i = 0; i < ind->n_out; i++) {
            out[i] = (PyArrayObject *)PyArray_SimpleNew(ndim, dims, NPY_DOUBLE);
            if (out[i] == NULL)
                goto done;
            c.out[i] = PyArray_DATA(out[i]);
        }
    }

    if (ndim == 1) {
        Py_BEGIN_ALLOW_THREADS
        status = fp_indicator_run(ind, c.in, c.n, c.p, c.out);
        Py_END_ALLOW_THREADS
    } else if (nrows > 0) {
        fp_job job;
        row_status = PyMem_Malloc(nrows * sizeof(int));
        if (row_status == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        fp_job_init(&job, indicator_row_task, &c, nrows, row_status);
        status = run_job(&job, nthreads, 0, NULL);
    }
    if (status != FP_OK) {
        if (status == FP_ECANCELLED || row_status == NULL) {
            set_status_error(status, fname);
        } else {
            size_t r = 0;
            while (r < nrows && row_status[r] == FP_OK)
                r++;
            char what[96];
            PyOS_snprintf(what, sizeof what, "%s(), row %zu", fname, r);
            set_status_error(status, what);
        }
        goto done;
    }

    result = take_outputs(out, ind->n_out);

done:
    for (int i = 0; i < ind->n_in; i++)
        Py_XDECREF(in[i]);
    for (int i = 0; i < ind->n_out; i++)
        Py_XDECREF(out[i]);
    PyMem_Free(row_status);
    return result;
}

/* One entry point per row and naming, all calling call_indicator with
 * their row in `self`; filled by the exec slot. */
static PyMethodDef row_defs[2 * FPG_MAX_ROWS];

/* _fastpar.indicator_table(): the rows, as a tuple of dicts, for the
 * Python layer and the documentation. */
static PyObject *
py_indicator_table(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *table = PyTuple_New((Py_ssize_t)n_rows);
    if (table == NULL)
        return NULL;
    for (size_t r = 0; r < n_rows; r++) {
        const fp_indicator *ind = rows[r];
        PyObject *inputs = PyTuple_New(ind->n_in), *ta_inputs = PyTuple_New(ind->n_in);
        PyObject *params = PyTuple_New(ind->n_params), *outputs = PyTuple_New(ind->n_out);
        PyObject *row = NULL;
        if (inputs == NULL || ta_inputs == NULL || params == NULL || outputs == NULL)
            goto fail;
        for (int k = 0; k < ind->n_in; k++) {
            PyTuple_SET_ITEM(inputs, k, PyUnicode_FromString(ind->in[k]));
            PyTuple_SET_ITEM(ta_inputs, k, PyUnicode_FromString(ind->ta_in[k]));
        }
        for (int k = 0; k < ind->n_params; k++) {
            const fp_param *par = &ind->params[k];
            static const char *kinds[] = {"int", "real", "matype"};
            PyObject *d = Py_BuildValue("{s:s,s:s,s:s,s:d,s:d,s:d}", "name", par->name,
                                        "ta_name", par->ta_name, "kind", kinds[par->kind],
                                        "default", par->def, "lo", par->lo, "hi", par->hi);
            if (d == NULL)
                goto fail;
            PyTuple_SET_ITEM(params, k, d);
        }
        for (int k = 0; k < ind->n_out; k++)
            PyTuple_SET_ITEM(outputs, k, PyUnicode_FromString(ind->out[k]));
        row = Py_BuildValue("{s:s,s:z,s:s,s:s,s:N,s:N,s:N,s:N,s:O}", "name", ind->name,
                            "ta_name", ind->ta_name, "group", ind->group, "summary", ind->summary,
                            "inputs", inputs, "ta_inputs", ta_inputs, "params", params,
                            "outputs", outputs, "fast_slow",
                            (ind->flags & FP_FAST_SLOW) ? Py_True : Py_False);
        inputs = ta_inputs = params = outputs = NULL;
        if (row == NULL)
            goto fail;
        PyTuple_SET_ITEM(table, (Py_ssize_t)r, row);
        continue;
    fail:
        Py_XDECREF(inputs);
        Py_XDECREF(ta_inputs);
        Py_XDECREF(params);
        Py_XDECREF(outputs);
        Py_DECREF(table);
        return NULL;
    }
    return table;
}

static const fp_indicator *
find_row(PyObject *name)
{
    const char *s = PyUnicode_AsUTF8(name);
    if (s == NULL)
        return NULL;
    for (size_t r = 0; r < n_rows; r++)
        if (strcmp(rows[r]->name, s) == 0)
            return rows[r];
    PyErr_Format(PyExc_KeyError, "no indicator %R", name);
    return NULL;
}

/* _fastpar.lookback(name, *params): the number of leading NaNs of the
 * indicator on an input without NaNs (TA-Lib's names and reading). */
static PyObject *
py_lookback(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs < 1 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "lookback(name, *params)");
        return NULL;
    }
    const fp_indicator *ind = find_row(args[0]);
    double p[FP_MAX_PARAMS];
    if (ind == NULL)
        return NULL;
    if (nargs - 1 != ind->n_params) {
        PyErr_Format(PyExc_TypeError, "lookback('%s', ...) takes %d parameters, got %zd",
                     ind->name, ind->n_params, nargs - 1);
        return NULL;
    }
    if (parse_params(ind, args + 1, FPG_TA_NAMES, p) < 0)
        return NULL;
    return PyLong_FromSize_t(fp_indicator_lookback(ind, p));
}

/* ------------------------------------------------------------------------ */
/* Streams: _fastpar.Stream(name, *params)                                  */
/*                                                                          */
/* One value (or bar) at a time through the row's streaming state (pure C,  */
/* no allocation per update). A stream is meant for one thread at a time:   */
/* a second thread that finds it busy gets a RuntimeError instead of        */
/* waiting (no lock is ever waited for with the GIL held).                  */

typedef struct {
    PyObject_HEAD
    fp_stream s;
    int open;
    atomic_int busy;
} StreamObject;

static int
stream_enter(StreamObject *self)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&self->busy, &expected, 1)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this stream is being updated by another thread; give each thread its "
                        "own stream");
        return -1;
    }
    return 0;
}

static void
stream_leave(StreamObject *self)
{
    atomic_store(&self->busy, 0);
}

static int
stream_init(PyObject *op, PyObject *args, PyObject *kwargs)
{
    StreamObject *self = (StreamObject *)op;
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    double p[FP_MAX_PARAMS];

    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError, "Stream(name, *params): positional arguments only");
        return -1;
    }
    if (nargs < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(args, 0))) {
        PyErr_SetString(PyExc_TypeError, "Stream(name, *params): name must be a str");
        return -1;
    }
    const fp_indicator *ind = find_row(PyTuple_GET_ITEM(args, 0));
    if (ind == NULL)
        return -1;
    if (nargs - 1 != ind->n_params) {
        PyErr_Format(PyExc_TypeError, "Stream('%s', ...) takes %d parameters, got %zd",
                     ind->name, ind->n_params, nargs - 1);
        return -1;
    }
    if (parse_params(ind, &PyTuple_GET_ITEM(args, 1), FPG_TA_NAMES, p) < 0)
        return -1;
    if (stream_enter(self) < 0)
        return -1;
    if (self->open) {
        fp_stream_close(&self->s);
        self->open = 0;
    }
    int status = fp_stream_open(&self->s, ind, p);
    stream_leave(self);
    if (status != FP_OK) {
        set_status_error(status, "Stream()");
        return -1;
    }
    self->open = 1;
    return 0;
}

static void
stream_dealloc(PyObject *op)
{
    StreamObject *self = (StreamObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    if (self->open)
        fp_stream_close(&self->s);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int
stream_check_open(StreamObject *self)
{
    if (!self->open) {
        PyErr_SetString(PyExc_ValueError, "the stream was not initialised");
        return -1;
    }
    return 0;
}

static PyObject *
outputs_of(const fp_indicator *ind, const double *out)
{
    if (ind->n_out == 1)
        return PyFloat_FromDouble(out[0]);
    PyObject *t = PyTuple_New(ind->n_out);
    if (t == NULL)
        return NULL;
    for (int j = 0; j < ind->n_out; j++) {
        PyObject *f = PyFloat_FromDouble(out[j]);
        if (f == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, j, f);
    }
    return t;
}

/* The ValueError of a non-finite value after the start; `at` is its index
 * in extend()'s arrays, or -1 for update(). */
static void
stream_nonfinite_error(const fp_indicator *ind, const double *in, Py_ssize_t at)
{
    int k = 0;
    while (k + 1 < ind->n_in && !(in[k] != in[k] || isinf(in[k])))
        k++;
    PyObject *v = PyFloat_FromDouble(in[k]);
    if (v == NULL)
        return;
    char where[48] = "";
    if (at >= 0)
        PyOS_snprintf(where, sizeof where, " at index %zd", at);
    PyErr_Format(PyExc_ValueError,
                 "%s stream: %s is %R%s, after the stream started (the stream is unchanged)",
                 ind->ta_name ? ind->ta_name : ind->name, ind->ta_in[k], v, where);
    Py_DECREF(v);
}

/* update(*values): one value per input (one bar); the outputs after it. */
static PyObject *
stream_update(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    StreamObject *self = (StreamObject *)op;
    double in[FP_MAX_IN], out[FP_MAX_OUT];
    if (stream_check_open(self) < 0)
        return NULL;
    const fp_indicator *ind = self->s.ind;
    if (nargs != ind->n_in) {
        PyErr_Format(PyExc_TypeError, "update() takes %d value(s) (%s), got %zd", ind->n_in,
                     ind->n_in == 1 ? "one value" : "one per input", nargs);
        return NULL;
    }
    for (int k = 0; k < ind->n_in; k++) {
        in[k] = PyFloat_AsDouble(args[k]);
        if (in[k] == -1.0 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "%s must be a real number, got %s",
                             ind->ta_in[k], type_name(args[k]));
            }
            return NULL;
        }
    }
    if (stream_enter(self) < 0)
        return NULL;
    int status = fp_stream_update(&self->s, in, out);
    stream_leave(self);
    if (status != FP_OK) {
        stream_nonfinite_error(ind, in, -1);
        return NULL;
    }
    return outputs_of(ind, out);
}

/* extend(*arrays): many values (bars) in turn, as update() on each; the
 * outputs as arrays (a tuple of them for several). The loop runs without
 * the GIL. A non-finite value after the start stops it with a ValueError
 * naming its index; the values before it have been taken. */
static PyObject *
stream_extend(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    StreamObject *self = (StreamObject *)op;
    PyArrayObject *in[FP_MAX_IN] = {NULL}, *out[FP_MAX_OUT] = {NULL};
    PyObject *result = NULL;
    if (stream_check_open(self) < 0)
        return NULL;
    const fp_indicator *ind = self->s.ind;
    if (nargs != ind->n_in) {
        PyErr_Format(PyExc_TypeError, "extend() takes %d array(s), got %zd", ind->n_in, nargs);
        return NULL;
    }
    for (int k = 0; k < ind->n_in; k++) {
        in[k] = as_series_array(args[k], ind->ta_in[k]);
        if (in[k] == NULL)
            goto done;
        if (PyArray_NDIM(in[k]) != 1) {
            PyErr_Format(PyExc_ValueError, "%s must be 1-D for a stream", ind->ta_in[k]);
            goto done;
        }
        if (k > 0 && !PyArray_SAMESHAPE(in[k], in[0])) {
            PyErr_Format(PyExc_ValueError, "%s and %s must have the same length", ind->ta_in[0],
                         ind->ta_in[k]);
            goto done;
        }
    }
    npy_intp n = PyArray_DIM(in[0], 0);
    for (int j = 0; j < ind->n_out; j++) {
        out[j] = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_DOUBLE);
        if (out[j] == NULL)
            goto done;
    }
    if (stream_enter(self) < 0)
        goto done;
    const double *x[FP_MAX_IN];
    double *y[FP_MAX_OUT];
    for (int k = 0; k < ind->n_in; k++)
        x[k] = PyArray_DATA(in[k]);
    for (int j = 0; j < ind->n_out; j++)
        y[j] = PyArray_DATA(out[j]);
    npy_intp i = 0;
    int status = FP_OK;
    double bar[FP_MAX_IN], res[FP_MAX_OUT];
    Py_BEGIN_ALLOW_THREADS
    for (; i < n; i++) {
        for (int k = 0; k < ind->n_in; k++)
            bar[k] = x[k][i];
        status = fp_stream_update(&self->s, bar, res);
        if (status != FP_OK)
            break;
        for (int j = 0; j < ind->n_out; j++)
            y[j][i] = res[j];
    }
    Py_END_ALLOW_THREADS
    stream_leave(self);
    if (status != FP_OK) {
        stream_nonfinite_error(ind, bar, (Py_ssize_t)i);
        goto done;
    }
    result = take_outputs(out, ind->n_out);
done:
    for (int k = 0; k < FP_MAX_IN; k++)
        Py_XDECREF(in[k]);
    for (int j = 0; j < FP_MAX_OUT; j++)
        Py_XDECREF(out[j]);
    return result;
}

static PyObject *
stream_reset(PyObject *op, PyObject *unused)
{
    StreamObject *self = (StreamObject *)op;
    (void)unused;
    if (stream_check_open(self) < 0 || stream_enter(self) < 0)
        return NULL;
    fp_stream_reset(&self->s);
    stream_leave(self);
    Py_RETURN_NONE;
}

static PyObject *
stream_get_lookback(PyObject *op, void *closure)
{
    StreamObject *self = (StreamObject *)op;
    (void)closure;
    if (stream_check_open(self) < 0)
        return NULL;
    return PyLong_FromSize_t(fp_indicator_lookback(self->s.ind, self->s.p));
}

static PyObject *
stream_get_name(PyObject *op, void *closure)
{
    StreamObject *self = (StreamObject *)op;
    (void)closure;
    if (stream_check_open(self) < 0)
        return NULL;
    return PyUnicode_FromString(self->s.ind->name);
}

static PyMethodDef stream_methods[] = {
    {"update", (PyCFunction)(void (*)(void))stream_update, METH_FASTCALL,
     "update(*values): one value per input; the output(s) after it"},
    {"extend", (PyCFunction)(void (*)(void))stream_extend, METH_FASTCALL,
     "extend(*arrays): update() with each value (bar) in turn; the outputs as arrays"},
    {"reset", stream_reset, METH_NOARGS, "reset(): back to the state of a new stream"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef stream_getset[] = {
    {"lookback", stream_get_lookback, NULL, "values before the first output", NULL},
    {"name", stream_get_name, NULL, "the indicator's fastpar name", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_init, stream_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_methods, stream_methods},
    {Py_tp_getset, stream_getset},
    {Py_tp_doc, "Stream(name, *params): one indicator, one value (or bar) at a time."},
    {0, NULL},
};

static PyType_Spec stream_spec = {
    .name = "fastpar._fastpar.Stream",
    .basicsize = sizeof(StreamObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = stream_slots,
};

/* The module's Stream type, created by the exec slot. */
static PyTypeObject *stream_type;

/* The row entry points and the Stream type, added by the exec slot. */
static int
add_indicators(PyObject *module)
{
    if (n_rows == 0) {
        const fp_indicator *ind;
        for (size_t r = 0; (ind = fp_indicator_at(r)) != NULL; r++) {
            if (r >= FPG_MAX_ROWS) {
                PyErr_SetString(PyExc_SystemError, "more indicators than FPG_MAX_ROWS");
                return -1;
            }
            rows[r] = ind;
            row_defs[2 * r] = (PyMethodDef){ind->name, (PyCFunction)(void (*)(void))call_indicator,
                                            METH_FASTCALL, ind->summary};
            row_defs[2 * r + 1] = (PyMethodDef){ind->ta_name,
                                                (PyCFunction)(void (*)(void))call_indicator,
                                                METH_FASTCALL, ind->summary};
        }
        n_rows = fp_indicator_count();
    }
    for (size_t r = 0; r < n_rows; r++) {
        for (int ta = 0; ta < 2; ta++) {
            PyMethodDef *def = &row_defs[2 * r + (size_t)ta];
            if (def->ml_name == NULL)
                continue;
            PyObject *code = PyLong_FromSsize_t(ROW_CODE(r, ta));
            if (code == NULL)
                return -1;
            PyObject *fn = PyCFunction_NewEx(def, code, NULL);
            Py_DECREF(code);
            if (fn == NULL)
                return -1;
            int rc = PyModule_AddObjectRef(module, def->ml_name, fn);
            Py_DECREF(fn);
            if (rc < 0)
                return -1;
        }
    }
    if (stream_type == NULL) {
        stream_type = (PyTypeObject *)PyType_FromSpec(&stream_spec);
        if (stream_type == NULL)
            return -1;
    }
    return PyModule_AddObjectRef(module, "Stream", (PyObject *)stream_type);
}

/* ------------------------------------------------------------------------ */
/* The pool                                                                 */

static PyObject *
py_get_num_threads(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(fp_pool_get_num_threads());
}

static PyObject *
py_set_num_threads(PyObject *module, PyObject *arg)
{
    int status;
    (void)module;
    long n = index_in_range(arg, "n must be an integer", "number of threads must be", 1,
                            FP_POOL_MAX_THREADS);
    if (n < 0)
        return NULL;
    /* Resizing may join exiting workers: never wait with the GIL held. */
    Py_BEGIN_ALLOW_THREADS
    status = fp_pool_set_num_threads((int)n);
    Py_END_ALLOW_THREADS
    if (status != FP_OK)
        return set_status_error(status, "set_num_threads()");
    Py_RETURN_NONE;
}

/* A job whose tasks only sleep: lets the tests drive the pool, its
 * progress and its cancellation from Python with a known task duration,
 * independent of any kernel's speed. */
static int
sleep_task(void *ctx, size_t index)
{
    const long *us = ctx;
    struct timespec ts = {*us / 1000000, (*us % 1000000) * 1000};
    (void)index;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return FP_OK;
}

static PyObject *
py_sleep_job(PyObject *module, PyObject *args)
{
    Py_ssize_t ntasks;
    long task_us;
    PyObject *threads_obj;
    int nthreads, status;
    fp_job job;
    (void)module;

    if (!PyArg_ParseTuple(args, "nlO:_sleep_job", &ntasks, &task_us, &threads_obj))
        return NULL;
    if (ntasks < 0 || task_us < 0) {
        PyErr_SetString(PyExc_ValueError, "_sleep_job: ntasks and task_us must be >= 0");
        return NULL;
    }
    if (parse_threads(threads_obj, &nthreads) < 0)
        return NULL;
    fp_job_init(&job, sleep_task, &task_us, (size_t)ntasks, NULL);
    status = run_job(&job, nthreads, 0, NULL);
    if (status != FP_OK)
        return set_status_error(status, "_sleep_job()");
    return PyLong_FromSize_t(fp_job_done(&job));
}

/* ======================================================================== */
/* Scenario engine (scenario.h): run_scenario / run_scenarios               */
/*                                                                          */
/* A scenario crosses the boundary as fastpar.scenarios.KernelSpec (a named */
/* tuple, field order below), its window as four arrays, its USER parts as  */
/* a hook: a Python callable run once per tick with a ScenarioView of the   */
/* engine. A result comes back as a dict of counts plus number tables of    */
/* orders and trades.                                                       */

#include <stdint.h>

#include "scenario.h"

_Static_assert(sizeof(atomic_size_t) == sizeof(int64_t),
               "progress counters are stored in an int64 array");
_Static_assert(sizeof(fp_bar) == 56, "fastpar.scenarios.BAR_DTYPE mirrors fp_bar");

/* ---- Python inside a job ------------------------------------------------- */

/* The one path by which Python code (a scenario's USER parts) runs inside a
 * job: the thread takes the GIL with its own thread state. The thread that
 * submitted the job has one, saved when it released the GIL; a pool thread
 * gets a persistent one at its first call, which it keeps for its life
 * (CPython deletes what is left at finalization). Never called with a lock
 * held: the engine holds none while it calls its hook. */
static PyThreadState *
fpg_enter_python(PyInterpreterState *interp)
{
    PyThreadState *ts = PyGILState_GetThisThreadState();
    if (ts == NULL)
        ts = PyThreadState_New(interp); /* binds itself to this thread */
    if (ts == NULL)
        return NULL;
    PyEval_RestoreThread(ts);
    return ts;
}

static void
fpg_leave_python(void)
{
    PyEval_SaveThread();
}

/* ---- ScenarioView: the engine as a hook sees it -------------------------- */

typedef struct {
    PyObject_HEAD
    fp_engine *engine; /* NULL outside the hook's call */
    int n_timeframes, n_workers;
} ScenarioView;

static fp_engine *
view_engine(ScenarioView *v)
{
    if (v->engine == NULL)
        PyErr_SetString(PyExc_RuntimeError,
                        "the scenario is not running: a ScenarioView is valid only during the "
                        "call it was passed to");
    return v->engine;
}

static int
view_index(PyObject *arg, int n, const char *what)
{
    long i = PyLong_AsLong(arg);
    if (i == -1 && PyErr_Occurred())
        return -1;
    if (i < 0 || i >= n) {
        PyErr_Format(PyExc_IndexError, "%s index %ld out of range", what, i);
        return -1;
    }
    return (int)i;
}

static PyObject *
bar_tuple(const fp_bar *b)
{
    return Py_BuildValue("(Lddddd L)", (long long)b->start_ns, b->open, b->high, b->low,
                         b->close, b->volume, (long long)b->tick_count);
}

static PyObject *
view_tick_index(ScenarioView *v, PyObject *unused)
{
    (void)unused;
    fp_engine *e = view_engine(v);
    return e == NULL ? NULL : PyLong_FromSize_t(fp_engine_tick_index(e));
}

/* history(tf, start): the completed bars of timeframe tf from index start */
static PyObject *
view_history(ScenarioView *v, PyObject *const *args, Py_ssize_t nargs)
{
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "history(tf, start)");
        return NULL;
    }
    int tf = view_index(args[0], v->n_timeframes, "timeframe");
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (tf < 0 || (start == -1 && PyErr_Occurred()))
        return NULL;
    size_t n = fp_engine_history_len(e, tf);
    if (start < 0 || (size_t)start > n) {
        PyErr_SetString(PyExc_IndexError, "history start out of range");
        return NULL;
    }
    PyObject *out = PyList_New((Py_ssize_t)n - start);
    if (out == NULL)
        return NULL;
    for (size_t i = (size_t)start; i < n; i++) {
        PyObject *b = bar_tuple(fp_engine_history_bar(e, tf, i));
        if (b == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)(i - (size_t)start), b);
    }
    return out;
}

static PyObject *
view_history_len(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    int tf = e == NULL ? -1 : view_index(arg, v->n_timeframes, "timeframe");
    return tf < 0 ? NULL : PyLong_FromSize_t(fp_engine_history_len(e, tf));
}

static PyObject *
view_current_bar(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    int tf = e == NULL ? -1 : view_index(arg, v->n_timeframes, "timeframe");
    if (tf < 0)
        return NULL;
    const fp_bar *b = fp_engine_current_bar(e, tf);
    if (b == NULL)
        Py_RETURN_NONE;
    return bar_tuple(b);
}

static PyObject *
view_bars_completed(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    int tf = e == NULL ? -1 : view_index(arg, v->n_timeframes, "timeframe");
    return tf < 0 ? NULL : PyLong_FromUnsignedLongLong(fp_engine_bars_completed(e, tf));
}

static PyObject *
view_worker_result(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    int w = e == NULL ? -1 : view_index(arg, v->n_workers, "worker");
    if (w < 0)
        return NULL;
    double o[8];
    int ready = fp_engine_worker_result(e, w, o);
    return Py_BuildValue("(N(dddddddd))", PyBool_FromLong(ready), o[0], o[1], o[2], o[3], o[4],
                         o[5], o[6], o[7]);
}

static PyObject *
view_account(ScenarioView *v, PyObject *unused)
{
    (void)unused;
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    fp_account a;
    fp_engine_account(e, &a);
    return Py_BuildValue("(ddddddn)", a.balance, a.equity, a.margin_used, a.free_margin,
                         a.margin_level, a.total_lots, (Py_ssize_t)a.open_positions);
}

static PyObject *
view_positions(ScenarioView *v, PyObject *unused)
{
    (void)unused;
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    size_t n = fp_engine_n_positions(e);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out != NULL && i < n; i++) {
        fp_position_info p;
        fp_engine_position(e, i, &p);
        PyObject *t = Py_BuildValue("(Liddddd L)", (long long)p.position_id, p.direction, p.lots,
                                    p.entry_price, p.current_price, p.unrealized_pnl,
                                    p.spread_cost, (long long)p.entry_tick);
        if (t == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    return out;
}

static PyObject *
view_pending(ScenarioView *v, PyObject *unused)
{
    (void)unused;
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    size_t n = fp_engine_n_pending(e);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out != NULL && i < n; i++) {
        fp_pending_info p;
        fp_engine_pending(e, i, &p);
        PyObject *t = Py_BuildValue("(LidLL)", (long long)p.pending_id, p.direction, p.lots,
                                    (long long)p.placed_tick, (long long)p.fill_at_tick);
        if (t == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
    return out;
}

/* send_order(direction, lots, kind) -> (row, number, pending_id, status,
 * reject, value, value2, fill_at_tick) */
static PyObject *
view_send_order(ScenarioView *v, PyObject *args)
{
    fp_engine *e = view_engine(v);
    int direction, kind;
    double lots;
    if (e == NULL || !PyArg_ParseTuple(args, "idi:send_order", &direction, &lots, &kind))
        return NULL;
    if (direction != FP_BUY && direction != FP_SELL) {
        PyErr_SetString(PyExc_ValueError, "send_order(): direction must be 1 (BUY) or -1 (SELL)");
        return NULL;
    }
    if (!isfinite(lots)) {
        PyErr_SetString(PyExc_ValueError, "send_order(): lots must be finite");
        return NULL;
    }
    size_t row;
    if (kind < FP_ORDER_MARKET || kind > FP_ORDER_ICEBERG) {
        PyErr_SetString(PyExc_ValueError, "send_order(): kind must be an order kind 0..5");
        return NULL;
    }
    if (fp_engine_send_order(e, direction, lots, kind, &row) != FP_OK)
        return PyErr_NoMemory();
    const fp_order *o = &fp_engine_result(e)->orders[row];
    return Py_BuildValue("(nLLiiddL)", (Py_ssize_t)row, (long long)o->number,
                         (long long)o->pending_id, o->status, o->reject, o->reject_value,
                         o->reject_value2, (long long)o->fill_at_tick);
}

static PyObject *
view_close_position(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred())
        return NULL;
    int found;
    double pnl = 0.0;
    if (fp_engine_close_position(e, id, &found, &pnl) != FP_OK)
        return PyErr_NoMemory();
    return Py_BuildValue("(Nd)", PyBool_FromLong(found), pnl);
}

static PyObject *
view_count_signal(ScenarioView *v, PyObject *arg)
{
    fp_engine *e = view_engine(v);
    if (e == NULL)
        return NULL;
    long d = PyLong_AsLong(arg);
    if (d == -1 && PyErr_Occurred())
        return NULL;
    fp_engine_count_signal(e, d == FP_BUY ? FP_BUY : FP_SELL);
    Py_RETURN_NONE;
}

static PyMethodDef view_methods[] = {
    {"tick_index", (PyCFunction)view_tick_index, METH_NOARGS, "window index of this tick"},
    {"history", (PyCFunction)(void (*)(void))view_history, METH_FASTCALL,
     "history(tf, start): completed bars from index start"},
    {"history_len", (PyCFunction)view_history_len, METH_O, "history_len(tf)"},
    {"current_bar", (PyCFunction)view_current_bar, METH_O, "current_bar(tf): the open bar"},
    {"bars_completed", (PyCFunction)view_bars_completed, METH_O,
     "bars_completed(tf): bars completed in the window so far"},
    {"worker_result", (PyCFunction)view_worker_result, METH_O,
     "worker_result(w): (ready, values) of a CORE worker"},
    {"account", (PyCFunction)view_account, METH_NOARGS, "the account's state"},
    {"positions", (PyCFunction)view_positions, METH_NOARGS, "the open positions"},
    {"pending", (PyCFunction)view_pending, METH_NOARGS, "the pending orders"},
    {"send_order", (PyCFunction)view_send_order, METH_VARARGS,
     "send_order(direction, lots, kind): kind 0 market, 1 limit, 2 stop, 3 stop_limit, "
     "4 trailing_stop, 5 iceberg"},
    {"close_position", (PyCFunction)view_close_position, METH_O, "close_position(id)"},
    {"count_signal", (PyCFunction)view_count_signal, METH_O, "count_signal(direction)"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot view_slots[] = {
    {Py_tp_doc, "The state of a running scenario, as its USER parts see it (for "
                "fastpar.scenarios; valid only during the call it is passed to)."},
    {Py_tp_methods, view_methods},
    {0, NULL},
};

static PyType_Spec view_spec = {
    .name = "fastpar._fastpar.ScenarioView",
    .basicsize = sizeof(ScenarioView),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = view_slots,
};

/* The module's ScenarioView type, created by the exec slot. */
static PyTypeObject *view_type;

/* ---- the hook ------------------------------------------------------------ */

typedef struct {
    PyObject *callable;         /* hook(view), or NULL */
    ScenarioView *view;         /* made at the first tick */
    PyInterpreterState *interp;
    PyObject *error;            /* the exception the hook raised */
    int n_timeframes, n_workers;
} hook_ctx;

static void
hook_fetch_error(hook_ctx *h)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *exc = value;
    Py_XDECREF(type);
    Py_XDECREF(tb);
#endif
    Py_XSETREF(h->error, exc);
}

static int
hook_tick(void *ctx, fp_engine *e)
{
    hook_ctx *h = ctx;
    int status = FP_OK;
    if (fpg_enter_python(h->interp) == NULL)
        return FP_ENOMEM;
    if (h->view == NULL) {
        h->view = PyObject_New(ScenarioView, view_type);
        if (h->view != NULL) {
            h->view->n_timeframes = h->n_timeframes;
            h->view->n_workers = h->n_workers;
        }
    }
    if (h->view == NULL) {
        hook_fetch_error(h);
        status = FP_EHOOK;
    } else {
        h->view->engine = e;
        PyObject *r = PyObject_CallOneArg(h->callable, (PyObject *)h->view);
        h->view->engine = NULL;
        if (r == NULL) {
            hook_fetch_error(h);
            status = FP_EHOOK;
        }
        Py_XDECREF(r);
    }
    fpg_leave_python();
    return status;
}

/* ---- specs ---------------------------------------------------------------- */

/* A structured array of BAR_DTYPE (checked by itemsize and layout flags; the
 * Python side builds it). */
static int
parse_bars(PyObject *obj, const fp_bar **bars, size_t *n)
{
    PyArrayObject *a = (PyArrayObject *)obj;
    if (!PyArray_Check(obj) || PyArray_NDIM(a) != 1 || PyArray_ITEMSIZE(a) != sizeof(fp_bar) ||
        PyArray_TYPE(a) != NPY_VOID || !PyArray_IS_C_CONTIGUOUS(a) ||
        !PyArray_ISALIGNED(a)) {
        PyErr_SetString(PyExc_TypeError,
                        "warm-up bars must be an aligned 1-D array of fastpar.scenarios.BAR_DTYPE");
        return -1;
    }
    *bars = PyArray_DATA(a);
    *n = (size_t)PyArray_DIM(a, 0);
    return 0;
}

/* spec = (timeframes, workers, logic, (th0, th1, th2, th3), min_confidence,
 *         lot_size, min_free_margin, rsi_worker, envelope_worker,
 *         symbol_known, digits, tick_value, leverage, margin_contract_size,
 *         margin_price, volume_min, volume_max, volume_step, trade_allowed,
 *         initial_balance, api_latency_seed, market_execution_seed,
 *         compensated_sum)
 * timeframes = ((minutes, rendered, in_history, warmup bars), ...)
 * workers = ((kind, timeframe, period, deviation, fast, slow, heavy,
 *             load_ms), ...) */
static int
parse_scenario_spec(PyObject *spec, fp_scenario *sc)
{
    PyObject *tfs, *workers;
    unsigned long long api_seed, exec_seed;

    memset(sc, 0, sizeof *sc);
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "scenario spec must be a KernelSpec");
        return -1;
    }
    if (!PyArg_ParseTuple(spec, "O!O!i(dddd)dddiipidddddddpdKKp:KernelSpec", &PyTuple_Type, &tfs,
                          &PyTuple_Type, &workers, &sc->logic, &sc->th[0], &sc->th[1],
                          &sc->th[2], &sc->th[3], &sc->min_confidence, &sc->lot_size,
                          &sc->min_free_margin, &sc->rsi_worker, &sc->envelope_worker,
                          &sc->symbol_known, &sc->digits, &sc->tick_value, &sc->leverage,
                          &sc->margin_contract_size, &sc->margin_price, &sc->volume_min,
                          &sc->volume_max, &sc->volume_step, &sc->trade_allowed,
                          &sc->initial_balance, &api_seed, &exec_seed, &sc->compensated_sum))
        return -1;
    Py_ssize_t ntf = PyTuple_GET_SIZE(tfs), nw = PyTuple_GET_SIZE(workers);
    if (ntf > FP_SCENARIO_MAX_TIMEFRAMES || nw > FP_SCENARIO_MAX_WORKERS) {
        PyErr_Format(PyExc_ValueError,
                     "a scenario has at most %d timeframes and %d workers, got %zd and %zd",
                     FP_SCENARIO_MAX_TIMEFRAMES, FP_SCENARIO_MAX_WORKERS, ntf, nw);
        return -1;
    }
    sc->api_latency_seed = api_seed;
    sc->market_execution_seed = exec_seed;
    sc->n_timeframes = (int)ntf;
    for (Py_ssize_t i = 0; i < ntf; i++) {
        fp_timeframe_spec *t = &sc->timeframes[i];
        PyObject *bars;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(tfs, i), "ippO:timeframe", &t->minutes,
                              &t->rendered, &t->in_history, &bars) ||
            parse_bars(bars, &t->warmup, &t->n_warmup) < 0)
            return -1;
    }
    sc->n_workers = (int)nw;
    for (Py_ssize_t i = 0; i < nw; i++) {
        fp_worker_spec *w = &sc->workers[i];
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(workers, i), "iiidiipd:worker", &w->kind,
                              &w->timeframe, &w->period, &w->deviation, &w->fast, &w->slow,
                              &w->heavy, &w->load_ms))
            return -1;
        if (w->kind == FP_WORKER_USER)
            sc->has_user_workers = 1;
    }
    return 0;
}

/* The window's four arrays: int64 timestamps, float64 bid/ask/volume, 1-D,
 * aligned, C-contiguous, one length. */
static int
parse_window(PyObject *window, fp_ticks *t)
{
    static const char *names[4] = {"timestamps", "bid", "ask", "volume"};
    npy_intp n = 0;
    if (!PyTuple_Check(window) || PyTuple_GET_SIZE(window) != 4) {
        PyErr_SetString(PyExc_TypeError, "a window is a (timestamps, bid, ask, volume) tuple");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        PyObject *obj = PyTuple_GET_ITEM(window, i);
        PyArrayObject *a = (PyArrayObject *)obj;
        if (!PyArray_Check(obj) || PyArray_TYPE(a) != (i == 0 ? NPY_INT64 : NPY_DOUBLE) ||
            !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || PyArray_NDIM(a) != 1) {
            PyErr_Format(PyExc_TypeError, "%s must be an aligned C-contiguous 1-D %s array",
                         names[i], i == 0 ? "int64" : "float64");
            return -1;
        }
        if (i == 0)
            n = PyArray_DIM(a, 0);
        else if (PyArray_DIM(a, 0) != n) {
            PyErr_Format(PyExc_ValueError, "%s has %zd rows, timestamps has %zd", names[i],
                         (Py_ssize_t)PyArray_DIM(a, 0), (Py_ssize_t)n);
            return -1;
        }
    }
    t->timestamp = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(window, 0));
    t->bid = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(window, 1));
    t->ask = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(window, 2));
    t->volume = PyArray_DATA((PyArrayObject *)PyTuple_GET_ITEM(window, 3));
    t->n = (size_t)n;
    return 0;
}

/* ---- results -------------------------------------------------------------- */

#define ORDER_INTS 11
#define ORDER_FLOATS 9
#define TRADE_INTS 5
#define TRADE_FLOATS 5

static PyArrayObject *
new_table(size_t rows, int cols, int typenum)
{
    npy_intp dims[2] = {(npy_intp)rows, cols};
    return (PyArrayObject *)PyArray_SimpleNew(2, dims, typenum);
}

/* The engine's result as a dict. Orders and trades stay numbers: one int64
 * and one float64 table each (column order in fastpar/scenarios.py), so
 * no Python object is made per order or trade here, where the GIL is
 * held; the Python side builds those objects only when they are read. */
static PyObject *
scenario_result_to_py(const fp_scenario_result *r)
{
    PyObject *out = NULL;
    PyArrayObject *oi = new_table(r->n_orders, ORDER_INTS, NPY_INT64);
    PyArrayObject *of = new_table(r->n_orders, ORDER_FLOATS, NPY_DOUBLE);
    PyArrayObject *ti = new_table(r->n_trades, TRADE_INTS, NPY_INT64);
    PyArrayObject *tf = new_table(r->n_trades, TRADE_FLOATS, NPY_DOUBLE);
    if (oi == NULL || of == NULL || ti == NULL || tf == NULL)
        goto done;
    int64_t *pi = PyArray_DATA(oi);
    double *pf = PyArray_DATA(of);
    for (size_t i = 0; i < r->n_orders; i++, pi += ORDER_INTS, pf += ORDER_FLOATS) {
        const fp_order *o = &r->orders[i];
        const int64_t ints[ORDER_INTS] = {o->number,      o->pending_id,   o->direction,
                                          o->status,      o->reject,       o->placed_tick,
                                          o->fill_at_tick, o->filled_tick, o->position_id,
                                          o->rsi_hit,     o->env_hit};
        const double floats[ORDER_FLOATS] = {o->lots,          o->fill_price,    o->spread_cost,
                                             o->reject_value,  o->reject_value2, o->confidence,
                                             o->rsi,           o->position,      o->mid};
        memcpy(pi, ints, sizeof ints);
        memcpy(pf, floats, sizeof floats);
    }
    pi = PyArray_DATA(ti);
    pf = PyArray_DATA(tf);
    for (size_t i = 0; i < r->n_trades; i++, pi += TRADE_INTS, pf += TRADE_FLOATS) {
        const fp_trade *t = &r->trades[i];
        const int64_t ints[TRADE_INTS] = {t->position_id, t->direction, t->reason, t->entry_tick,
                                          t->exit_tick};
        const double floats[TRADE_FLOATS] = {t->lots, t->entry_price, t->exit_price,
                                             t->spread_cost, t->pnl};
        memcpy(pi, ints, sizeof ints);
        memcpy(pf, floats, sizeof floats);
    }
    out = Py_BuildValue(
        "{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:d,s:d,s:d,s:d,s:d,s:d,s:d,"
        "s:O,s:O,s:O,s:O}",
        "ticks_processed", (Py_ssize_t)r->ticks_processed, "signals_buy",
        (Py_ssize_t)r->signals_buy, "signals_sell", (Py_ssize_t)r->signals_sell,
        "decisions_buy", (Py_ssize_t)r->decisions_buy, "decisions_sell",
        (Py_ssize_t)r->decisions_sell, "decisions_flat", (Py_ssize_t)r->decisions_flat,
        "orders_sent", (Py_ssize_t)r->orders_sent, "orders_executed",
        (Py_ssize_t)r->orders_executed, "orders_rejected", (Py_ssize_t)r->orders_rejected,
        "total_trades", (Py_ssize_t)r->total_trades, "winning_trades",
        (Py_ssize_t)r->winning_trades, "losing_trades", (Py_ssize_t)r->losing_trades,
        "total_profit", r->total_profit, "total_loss", r->total_loss, "max_drawdown",
        r->max_drawdown, "max_equity", r->max_equity, "balance", r->balance,
        "portfolio_spread_cost", r->portfolio_spread_cost, "execution_spread_cost",
        r->execution_spread_cost, "order_ints", oi, "order_floats", of, "trade_ints", ti,
        "trade_floats", tf);
done:
    Py_XDECREF(oi);
    Py_XDECREF(of);
    Py_XDECREF(ti);
    Py_XDECREF(tf);
    return out;
}

/* One scenario of a call: its arrays, spec, hook and result. */
typedef struct {
    fp_ticks ticks;
    fp_scenario sc;
    hook_ctx hook;
    fp_scenario_result res;
    int status;
} scenario_slot;

static int
slot_init(scenario_slot *s, PyObject *window, PyObject *spec, PyObject *hook)
{
    memset(s, 0, sizeof *s);
    if (parse_window(window, &s->ticks) < 0 || parse_scenario_spec(spec, &s->sc) < 0)
        return -1;
    if (hook != Py_None) {
        if (!PyCallable_Check(hook)) {
            PyErr_SetString(PyExc_TypeError, "a scenario hook must be callable or None");
            return -1;
        }
        s->hook.callable = hook;
        s->hook.interp = PyThreadState_GetInterpreter(PyThreadState_Get());
        s->hook.n_timeframes = s->sc.n_timeframes;
        s->hook.n_workers = s->sc.n_workers;
    }
    return 0;
}

static int
slot_run(scenario_slot *s, atomic_size_t *progress, const atomic_int *cancel)
{
    fp_scenario_hooks hooks = {hook_tick, &s->hook};
    return fp_scenario_run(&s->ticks, &s->sc, &s->res, s->hook.callable ? &hooks : NULL,
                           progress, cancel);
}

/* (status, result dict or None, message or the hook's exception). Steals
 * nothing; clears the slot's result and error. Needs the GIL. */
static PyObject *
slot_outcome(scenario_slot *s)
{
    PyObject *out;
    if (s->status == FP_OK) {
        PyObject *r = scenario_result_to_py(&s->res);
        out = r == NULL ? NULL : Py_BuildValue("(iNs)", s->status, r, "ok");
    } else if (s->status == FP_EHOOK && s->hook.error != NULL) {
        out = Py_BuildValue("(iOO)", s->status, Py_None, s->hook.error);
    } else {
        out = Py_BuildValue("(iOs)", s->status, Py_None, fp_scenario_strerror(s->status));
    }
    return out;
}

static void
slot_free(scenario_slot *s)
{
    fp_scenario_result_free(&s->res);
    Py_CLEAR(s->hook.view);
    Py_CLEAR(s->hook.error);
}

/* _fastpar.run_scenario(window, spec, hook): one scenario on the calling
 * thread, GIL released (taken back only by the hook). Returns (status,
 * result dict or None, message or the hook's exception). Ctrl-C is seen by
 * the hook's Python code only. */
static PyObject *
py_run_scenario(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    scenario_slot s;
    (void)module;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "run_scenario() takes 3 arguments, got %zd", nargs);
        return NULL;
    }
    if (slot_init(&s, args[0], args[1], args[2]) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    s.status = slot_run(&s, NULL, NULL);
    Py_END_ALLOW_THREADS
    PyObject *out = slot_outcome(&s);
    slot_free(&s);
    return out;
}

typedef struct {
    scenario_slot *slots;
    atomic_size_t *progress; /* one per scenario, or NULL */
    atomic_int cancel;
} scenarios_call;

static int
scenario_task(void *ctx, size_t i)
{
    scenarios_call *c = ctx;
    c->slots[i].status =
        slot_run(&c->slots[i], c->progress != NULL ? &c->progress[i] : NULL, &c->cancel);
    return c->slots[i].status;
}

/* _fastpar.run_scenarios(windows, specs, hooks, threads, progress): the
 * scenarios as one pool job, one task each; windows, specs and hooks are
 * lists of one item per scenario. `progress` is None or a writable int64
 * array of len(specs), set to each scenario's ticks done so far (readable
 * from another thread while this runs). Returns a list of (status, result
 * dict or None, message or the hook's exception); one failing scenario
 * leaves the others' results intact. Ctrl-C cancels the running scenarios
 * and raises KeyboardInterrupt. */
static PyObject *
py_run_scenarios(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    scenarios_call c;
    scenario_slot *slots = NULL;
    PyObject *out = NULL;
    int nthreads, interrupted = 0;
    Py_ssize_t n, ready = 0;
    (void)module;

    memset(&c, 0, sizeof c);
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "run_scenarios() takes 5 arguments, got %zd", nargs);
        return NULL;
    }
    if (!PyList_Check(args[0]) || !PyList_Check(args[1]) || !PyList_Check(args[2]) ||
        PyList_GET_SIZE(args[1]) != PyList_GET_SIZE(args[0]) ||
        PyList_GET_SIZE(args[2]) != PyList_GET_SIZE(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "run_scenarios(): windows, specs and hooks must be lists of one length");
        return NULL;
    }
    if (parse_threads(args[3], &nthreads) < 0)
        return NULL;
    n = PyList_GET_SIZE(args[0]);
    if (args[4] != Py_None) {
        PyArrayObject *p = (PyArrayObject *)args[4];
        if (!PyArray_Check(args[4]) || PyArray_TYPE(p) != NPY_INT64 || PyArray_NDIM(p) != 1 ||
            !PyArray_IS_C_CONTIGUOUS(p) || !PyArray_ISALIGNED(p) || !PyArray_ISWRITEABLE(p) ||
            PyArray_DIM(p, 0) != n) {
            PyErr_SetString(PyExc_TypeError,
                            "run_scenarios(): progress must be None or a writable aligned "
                            "C-contiguous int64 array of len(specs)");
            return NULL;
        }
        c.progress = PyArray_DATA(p);
        for (Py_ssize_t i = 0; i < n; i++)
            atomic_store_explicit(&c.progress[i], 0, memory_order_relaxed);
    }
    slots = PyMem_Calloc((size_t)n + 1, sizeof *slots);
    if (slots == NULL)
        return PyErr_NoMemory();
    for (; ready < n; ready++)
        if (slot_init(&slots[ready], PyList_GET_ITEM(args[0], ready),
                      PyList_GET_ITEM(args[1], ready), PyList_GET_ITEM(args[2], ready)) < 0)
            goto done;
    c.slots = slots;
    atomic_init(&c.cancel, 0);

    if (n > 0) {
        /* A scenario may run for seconds: a job of long tasks, whose running
         * scenarios watch c.cancel. */
        fp_job job;
        fp_job_init(&job, scenario_task, &c, (size_t)n, NULL);
        interrupted = run_job(&job, nthreads, 1, &c.cancel) == FP_ECANCELLED;
    }
    if (interrupted) {
        set_status_error(FP_ECANCELLED, "run_scenarios()");
        goto done;
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *item = slot_outcome(&slots[i]);
        if (item == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, item);
    }

done:
    for (Py_ssize_t i = 0; i < ready; i++)
        slot_free(&slots[i]);
    PyMem_Free(slots);
    return out;
}

#define FPG_SCENARIO_METHODS                                                                  \
    FASTCALL("run_scenario", py_run_scenario, "run_scenario(window, spec, hook)"),            \
    FASTCALL("run_scenarios", py_run_scenarios,                                               \
             "run_scenarios(windows, specs, hooks, threads, progress)"),

/* End of the scenario engine section.                                      */
/* ======================================================================== */


/* ======================================================================== */
/* Parameter sweeps                                                         */

/* A float64 C-contiguous aligned 1-D array of length n (n < 0: any), or
 * None when allowed; its data in *data (NULL for None). */
static int
sweep_series(PyObject *obj, const char *name, Py_ssize_t *n, const double **data)
{
    PyArrayObject *a = (PyArrayObject *)obj;
    if (obj == Py_None) {
        *data = NULL;
        return 0;
    }
    if (!PyArray_Check(obj) || PyArray_TYPE(a) != NPY_DOUBLE || PyArray_NDIM(a) != 1 ||
        !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
        PyErr_Format(PyExc_TypeError,
                     "sweep(): %s must be an aligned C-contiguous 1-D float64 array",
                     name);
        return -1;
    }
    if (*n >= 0 && PyArray_DIM(a, 0) != *n) {
        PyErr_Format(PyExc_ValueError, "sweep(): %s has %zd bars, close has %zd", name,
                     (Py_ssize_t)PyArray_DIM(a, 0), *n);
        return -1;
    }
    *n = PyArray_DIM(a, 0);
    *data = PyArray_DATA(a);
    return 0;
}

/* One asset's bars from the glue's high, low and close (each an array or
 * None); `which` names the asset in messages ("" for a lone one). */
static int
sweep_asset(int strategy, PyObject *high, PyObject *low, PyObject *close, const char *which,
            fp_sweep_bars *bars)
{
    Py_ssize_t n = -1;
    if (sweep_series(close, "close", &n, &bars->close) < 0 || bars->close == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "sweep(): close%s is required", which);
        return -1;
    }
    if (sweep_series(high, "high", &n, &bars->high) < 0 ||
        sweep_series(low, "low", &n, &bars->low) < 0)
        return -1;
    bars->n = (size_t)n;
    if (strategy == FP_BIGBAR && (bars->high == NULL || bars->low == NULL)) {
        PyErr_Format(PyExc_ValueError, "sweep(): this strategy needs high and low%s", which);
        return -1;
    }
    return 0;
}

/* The assets of the glue's high, low, close: arrays (or None) of one
 * asset, or tuples of the same length holding each asset's. Returns a
 * PyMem_Malloc'ed array of *n_assets bars, or NULL with an exception. */
static fp_sweep_bars *
sweep_assets(int strategy, PyObject *high, PyObject *low, PyObject *close, size_t *n_assets)
{
    const int several = PyTuple_Check(close);
    Py_ssize_t k = several ? PyTuple_GET_SIZE(close) : 1;
    if (several && (k == 0 ||
                    (high != Py_None && (!PyTuple_Check(high) || PyTuple_GET_SIZE(high) != k)) ||
                    (low != Py_None && (!PyTuple_Check(low) || PyTuple_GET_SIZE(low) != k)))) {
        PyErr_SetString(PyExc_TypeError,
                        "sweep(): with several assets, close is a non-empty tuple and high "
                        "and low are None or tuples of the same length");
        return NULL;
    }
    fp_sweep_bars *assets = PyMem_Calloc((size_t)k, sizeof *assets);
    if (assets == NULL)
        return (fp_sweep_bars *)PyErr_NoMemory();
    for (Py_ssize_t a = 0; a < k; a++) {
        char which[48] = "";
        PyObject *h = high, *l = low, *c = close;
        if (several) {
            PyOS_snprintf(which, sizeof which, " of asset %zd", a);
            h = high == Py_None ? Py_None : PyTuple_GET_ITEM(high, a);
            l = low == Py_None ? Py_None : PyTuple_GET_ITEM(low, a);
            c = PyTuple_GET_ITEM(close, a);
        }
        if (sweep_asset(strategy, h, l, c, which, &assets[a]) < 0) {
            PyMem_Free(assets);
            return NULL;
        }
    }
    *n_assets = (size_t)k;
    return assets;
}

/* The costs of a sweep or backtest from the glue's seven arguments
 * (fees, slippage, spread, stop_loss, take_profit, longshort,
 * periods_per_year); fp_sweep_check_costs checks their values. */
static int
parse_costs(PyObject *const *args, fp_costs *costs)
{
    double *dst[5] = {&costs->fees, &costs->slippage, &costs->spread, &costs->stop_loss,
                      &costs->take_profit};
    for (int i = 0; i < 5; i++) {
        *dst[i] = PyFloat_AsDouble(args[i]);
        if (*dst[i] == -1.0 && PyErr_Occurred())
            return -1;
    }
    costs->longshort = PyObject_IsTrue(args[5]);
    if (costs->longshort < 0)
        return -1;
    costs->periods_per_year = PyFloat_AsDouble(args[6]);
    return costs->periods_per_year == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* A sweep's progress counter: None, or a writable aligned int64 array of
 * length 1 (*progress NULL for None). */
static int
parse_progress(PyObject *obj, atomic_size_t **progress)
{
    PyArrayObject *p = (PyArrayObject *)obj;
    *progress = NULL;
    if (obj == Py_None)
        return 0;
    if (!PyArray_Check(obj) || PyArray_TYPE(p) != NPY_INT64 || PyArray_NDIM(p) != 1 ||
        !PyArray_IS_C_CONTIGUOUS(p) || !PyArray_ISALIGNED(p) || !PyArray_ISWRITEABLE(p) ||
        PyArray_DIM(p, 0) != 1) {
        PyErr_SetString(PyExc_TypeError,
                        "sweep(): progress must be None or a writable aligned int64 array "
                        "of length 1");
        return -1;
    }
    *progress = PyArray_DATA(p);
    return 0;
}

/* _fastpar.sweep(strategy, high, low, close, params, fees, slippage, spread,
 * stop_loss, take_profit, longshort, periods_per_year, threads, progress):
 * the parameter sets (rows of the 2-D float64 array `params`) of strategy
 * number `strategy` (fastpar's enum fp_strategy) as one pool job. high,
 * low and close are one asset's arrays, or tuples of one array per asset
 * (all assets then run in the same job); high and low may be None unless
 * the strategy needs them; stops NaN = off. `progress` is None or a
 * writable int64 array of length 1 that counts the sets finished (readable
 * from another thread while this runs). Returns an (n_assets * n_sets, 7)
 * float64 array, asset after asset. Ctrl-C cancels and raises
 * KeyboardInterrupt. */
static PyObject *
py_sweep(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fp_sweep_bars *assets = NULL;
    size_t n_assets = 0;
    fp_costs costs;
    fp_sweep sw;
    PyArrayObject *params, *out = NULL;
    int nthreads, status;
    (void)module;

    if (nargs != 14) {
        PyErr_Format(PyExc_TypeError, "sweep() takes 14 arguments, got %zd", nargs);
        return NULL;
    }
    long strategy = PyLong_AsLong(args[0]);
    if (strategy == -1 && PyErr_Occurred())
        return NULL;
    if (strategy < 0 || strategy >= FP_N_STRATEGIES) {
        PyErr_Format(PyExc_ValueError, "sweep(): unknown strategy number %ld", strategy);
        return NULL;
    }
    params = (PyArrayObject *)args[4];
    if (!PyArray_Check(args[4]) || PyArray_TYPE(params) != NPY_DOUBLE ||
        PyArray_NDIM(params) != 2 || !PyArray_IS_C_CONTIGUOUS(params) ||
        !PyArray_ISALIGNED(params) ||
        PyArray_DIM(params, 1) != fp_strategy_n_params((int)strategy)) {
        PyErr_Format(PyExc_TypeError,
                     "sweep(): params must be an aligned C-contiguous 2-D float64 array of "
                     "%d columns",
                     fp_strategy_n_params((int)strategy));
        return NULL;
    }
    if (parse_costs(args + 5, &costs) < 0)
        return NULL;
    if (parse_threads(args[12], &nthreads) < 0)
        return NULL;
    atomic_size_t *progress;
    if (parse_progress(args[13], &progress) < 0)
        return NULL;
    assets = sweep_assets((int)strategy, args[1], args[2], args[3], &n_assets);
    if (assets == NULL)
        return NULL;
    if (progress != NULL)
        atomic_store_explicit(progress, 0, memory_order_relaxed);

    npy_intp dims[2] = {(npy_intp)n_assets * PyArray_DIM(params, 0), FP_SWEEP_N_METRICS};
    out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    if (out == NULL) {
        PyMem_Free(assets);
        return NULL;
    }
    status = fp_sweep_init_assets(&sw, (int)strategy, assets, n_assets, PyArray_DATA(params),
                                  (size_t)PyArray_DIM(params, 0), &costs, PyArray_DATA(out));
    if (status != FP_OK) {
        char which[48] = "";
        if (n_assets > 1)
            PyOS_snprintf(which, sizeof which, " of asset %zu", sw.bad_asset);
        if (status == FP_EINVAL)
            PyErr_SetString(PyExc_ValueError,
                            "sweep(): invalid parameter set, costs or missing bars");
        else if (status == FP_ENONFINITE)
            PyErr_Format(PyExc_ValueError, "sweep(): bars%s contain NaN or inf", which);
        else
            set_status_error(status, "sweep()");
        PyMem_Free(assets);
        Py_DECREF(out);
        return NULL;
    }
    sw.progress = progress;
    if (sw.n_tasks > 0) {
        /* A job of long tasks, whose running tasks watch the sweep's own
         * cancel flag. */
        fp_job job;
        fp_job_init(&job, fp_sweep_task, &sw, sw.n_tasks, NULL);
        status = run_job(&job, nthreads, 1, &sw.cancel);
    }
    fp_sweep_free(&sw);
    PyMem_Free(assets);
    if (status != FP_OK) {
        set_status_error(status, "sweep()");
        Py_DECREF(out);
        return NULL;
    }
    return (PyObject *)out;
}

/* A column series of the backtest glue: an aligned 1-D or 2-D array of
 * `type` with n_bars rows; its row and column strides in units of `unit`
 * bytes (column stride 0 for 1-D), and its number of columns (0 for 1-D)
 * in *cols. */
static int
backtest_array(PyObject *obj, const char *name, int type, const char *what, Py_ssize_t n_bars,
               ptrdiff_t unit, const void **data, ptrdiff_t *row, ptrdiff_t *col,
               Py_ssize_t *cols)
{
    PyArrayObject *a = (PyArrayObject *)obj;
    if (!PyArray_Check(obj) || PyArray_TYPE(a) != type || PyArray_NDIM(a) < 1 ||
        PyArray_NDIM(a) > 2 || !PyArray_ISALIGNED(a)) {
        PyErr_Format(PyExc_TypeError, "backtest(): %s must be an aligned 1-D or 2-D %s array",
                     name, what);
        return -1;
    }
    if (PyArray_DIM(a, 0) != n_bars) {
        PyErr_Format(PyExc_ValueError, "backtest(): %s has %zd bars, close has %zd", name,
                     (Py_ssize_t)PyArray_DIM(a, 0), n_bars);
        return -1;
    }
    *data = PyArray_DATA(a);
    *row = (ptrdiff_t)PyArray_STRIDE(a, 0) / unit;
    *col = PyArray_NDIM(a) == 2 ? (ptrdiff_t)PyArray_STRIDE(a, 1) / unit : 0;
    *cols = PyArray_NDIM(a) == 2 ? PyArray_DIM(a, 1) : 0;
    return 0;
}

/* _fastpar.backtest(close, entries, exits, fees, slippage, spread,
 * stop_loss, take_profit, longshort, periods_per_year, threads): the
 * user's signals through the sweep's account, one backtest per column, as
 * one pool job. close: float64, entries and exits: bool, each 1-D (the
 * same series for every column) or 2-D (n_bars, n_cols) in any layout;
 * at least one of them 2-D, or all 1-D for one column. Stops NaN = off.
 * Returns an (n_cols, 7) float64 array. Ctrl-C cancels and raises
 * KeyboardInterrupt. */
static PyObject *
py_backtest(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fp_signals sig;
    fp_costs costs;
    fp_backtest bt;
    PyArrayObject *out;
    int nthreads, status = FP_OK;
    Py_ssize_t cols[3], n_cols = 0;
    const void *data[3];
    (void)module;

    if (nargs != 11) {
        PyErr_Format(PyExc_TypeError, "backtest() takes 11 arguments, got %zd", nargs);
        return NULL;
    }
    if (!PyArray_Check(args[0]) || PyArray_NDIM((PyArrayObject *)args[0]) < 1) {
        PyErr_SetString(PyExc_TypeError,
                        "backtest(): close must be an aligned 1-D or 2-D float64 array");
        return NULL;
    }
    const Py_ssize_t n_bars = PyArray_DIM((PyArrayObject *)args[0], 0);
    if (backtest_array(args[0], "close", NPY_DOUBLE, "float64", n_bars, sizeof(double),
                       &data[0], &sig.close_row, &sig.close_col, &cols[0]) < 0 ||
        backtest_array(args[1], "entries", NPY_BOOL, "bool", n_bars, 1, &data[1],
                       &sig.entries_row, &sig.entries_col, &cols[1]) < 0 ||
        backtest_array(args[2], "exits", NPY_BOOL, "bool", n_bars, 1, &data[2], &sig.exits_row,
                       &sig.exits_col, &cols[2]) < 0)
        return NULL;
    int two_d = 0;
    for (int i = 0; i < 3; i++) {
        if (PyArray_NDIM((PyArrayObject *)args[i]) == 1)
            continue;
        if (two_d++ && cols[i] != n_cols) {
            PyErr_SetString(PyExc_ValueError,
                            "backtest(): the 2-D arrays of close, entries and exits must have "
                            "the same number of columns");
            return NULL;
        }
        n_cols = cols[i];
    }
    if (!two_d)
        n_cols = 1;
    sig.close = data[0];
    sig.entries = data[1];
    sig.exits = data[2];
    sig.n_bars = (size_t)n_bars;
    sig.n_cols = (size_t)n_cols;

    if (parse_costs(args + 3, &costs) < 0)
        return NULL;
    if (parse_threads(args[10], &nthreads) < 0)
        return NULL;

    npy_intp dims[2] = {n_cols, FP_SWEEP_N_METRICS};
    out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    if (out == NULL)
        return NULL;
    status = fp_backtest_init(&bt, &sig, &costs, PyArray_DATA(out));
    if (status == FP_EINVAL) {
        PyErr_SetString(PyExc_ValueError, "backtest(): invalid costs");
        Py_DECREF(out);
        return NULL;
    }
    if (status == FP_ENONFINITE) {
        PyErr_SetString(PyExc_ValueError, "backtest(): close contains NaN or inf");
        Py_DECREF(out);
        return NULL;
    }
    if (status == FP_OK && bt.n_tasks > 0) {
        /* A job of long tasks, whose running tasks watch the backtest's
         * own cancel flag. */
        fp_job job;
        fp_job_init(&job, fp_backtest_task, &bt, bt.n_tasks, NULL);
        status = run_job(&job, nthreads, 1, &bt.cancel);
    }
    if (status != FP_OK) {
        set_status_error(status, "backtest()");
        Py_DECREF(out);
        return NULL;
    }
    return (PyObject *)out;
}

/* One instruction of a program from Python: (op, sub, ((kind, index,
 * value), ...)). The program's own checks are fp_prog_sweep_init's. */
static int
program_instr(PyObject *item, fp_instr *ins)
{
    PyObject *args;
    if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "iiO!", &ins->op, &ins->sub,
                                                  &PyTuple_Type, &args)) {
        PyErr_SetString(PyExc_TypeError,
                        "program_sweep(): an instruction is a tuple (op, sub, operands)");
        return -1;
    }
    if (PyTuple_GET_SIZE(args) > FP_PROG_MAX_ARGS) {
        PyErr_SetString(PyExc_ValueError, "program_sweep(): too many operands");
        return -1;
    }
    ins->n_args = (int)PyTuple_GET_SIZE(args);
    for (int k = 0; k < ins->n_args; k++) {
        PyObject *a = PyTuple_GET_ITEM(args, k);
        Py_ssize_t index;
        fp_arg *arg = &ins->arg[k];
        if (!PyTuple_Check(a) || !PyArg_ParseTuple(a, "ind", &arg->kind, &index, &arg->value)) {
            PyErr_SetString(PyExc_TypeError,
                            "program_sweep(): an operand is a tuple (kind, index, value)");
            return -1;
        }
        if (index < 0) {
            PyErr_SetString(PyExc_ValueError, "program_sweep(): negative operand index");
            return -1;
        }
        arg->index = (size_t)index;
    }
    return 0;
}

/* A ValueError whose args are (message, instruction, set), either -1 when
 * not known, for the caller to name the expression. */
static void
program_error(const char *message, size_t instr, size_t set)
{
    PyObject *args = Py_BuildValue("(snn)", message,
                                   instr == SIZE_MAX ? (Py_ssize_t)-1 : (Py_ssize_t)instr,
                                   set == SIZE_MAX ? (Py_ssize_t)-1 : (Py_ssize_t)set);
    if (args != NULL) {
        PyErr_SetObject(PyExc_ValueError, args);
        Py_DECREF(args);
    }
}

/* _fastpar.program_sweep(code, n_params, entry, exit, columns, params,
 * fees, slippage, spread, stop_loss, take_profit, longshort,
 * periods_per_year, threads, progress): the parameter sets (rows of the
 * 2-D float64 array `params`, n_params columns) of a program (program.h;
 * `code` a sequence of instructions as program_instr reads them, entry
 * and exit its signal slots, -1 = never) as one pool job. columns: open,
 * high, low, close, volume, each None or an aligned C-contiguous 1-D
 * float64 array, all of one length; close is required. progress as
 * sweep()'s. Returns an (n_sets, 7) float64 array. A bad program,
 * parameter set or series value raises ValueError(message, instruction,
 * set); Ctrl-C cancels and raises KeyboardInterrupt. */
static PyObject *
py_program_sweep(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    fp_program prog;
    fp_prog_bars bars = {{NULL}, 0};
    fp_costs costs;
    fp_prog_sweep ps;
    fp_instr *code = NULL;
    PyObject *seq = NULL;
    PyArrayObject *params, *out = NULL;
    int nthreads, status;
    (void)module;

    if (nargs != 15) {
        PyErr_Format(PyExc_TypeError, "program_sweep() takes 15 arguments, got %zd", nargs);
        return NULL;
    }
    Py_ssize_t n_params = PyLong_AsSsize_t(args[1]);
    prog.entry = PyLong_AsLong(args[2]);
    prog.exit = PyLong_AsLong(args[3]);
    if (PyErr_Occurred())
        return NULL;
    if (n_params < 0 || n_params > FP_PROG_MAX_PARAMS) {
        PyErr_Format(PyExc_ValueError, "program_sweep(): at most %d parameters",
                     FP_PROG_MAX_PARAMS);
        return NULL;
    }
    prog.n_params = (size_t)n_params;
    params = (PyArrayObject *)args[5];
    if (!PyArray_Check(args[5]) || PyArray_TYPE(params) != NPY_DOUBLE ||
        PyArray_NDIM(params) != 2 || !PyArray_IS_C_CONTIGUOUS(params) ||
        !PyArray_ISALIGNED(params) || PyArray_DIM(params, 1) != n_params) {
        PyErr_Format(PyExc_TypeError,
                     "program_sweep(): params must be an aligned C-contiguous 2-D float64 "
                     "array of %zd columns",
                     n_params);
        return NULL;
    }
    if (!PyTuple_Check(args[4]) || PyTuple_GET_SIZE(args[4]) != FP_N_COLUMNS) {
        PyErr_SetString(PyExc_TypeError,
                        "program_sweep(): columns is a tuple (open, high, low, close, volume)");
        return NULL;
    }
    static const char *const col_names[FP_N_COLUMNS] = {"open", "high", "low", "close",
                                                        "volume"};
    Py_ssize_t n = -1;
    for (int c = 0; c < FP_N_COLUMNS; c++) {
        /* all the columns given have the length of the first one */
        if (sweep_series(PyTuple_GET_ITEM(args[4], c), col_names[c], &n, &bars.col[c]) < 0)
            return NULL;
    }
    if (bars.col[FP_COL_CLOSE] == NULL) {
        PyErr_SetString(PyExc_TypeError, "program_sweep(): close is required");
        return NULL;
    }
    bars.n = (size_t)n;
    if (parse_costs(args + 6, &costs) < 0)
        return NULL;
    if (parse_threads(args[13], &nthreads) < 0)
        return NULL;
    atomic_size_t *progress;
    if (parse_progress(args[14], &progress) < 0)
        return NULL;
    if (progress != NULL)
        atomic_store(progress, 0);

    seq = PySequence_Fast(args[0], "program_sweep(): code must be a sequence of instructions");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n_code = PySequence_Fast_GET_SIZE(seq);
    code = PyMem_Calloc((size_t)n_code + 1, sizeof *code);
    if (code == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n_code; i++)
        if (program_instr(PySequence_Fast_GET_ITEM(seq, i), &code[i]) < 0)
            goto fail;
    prog.code = code;
    prog.n_code = (size_t)n_code;

    npy_intp dims[2] = {PyArray_DIM(params, 0), FP_SWEEP_N_METRICS};
    out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_DOUBLE);
    if (out == NULL)
        goto fail;
    /* The plan computes the series that read no parameter: without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    status = fp_prog_sweep_init(&ps, &prog, &bars, PyArray_DATA(params),
                                (size_t)PyArray_DIM(params, 0), &costs, PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    if (status == FP_EINVAL || status == FP_ENONFINITE) {
        program_error(status == FP_EINVAL ? "program_sweep(): invalid program, parameter set "
                                            "or costs"
                                          : "program_sweep(): a value that is not finite",
                      atomic_load(&ps.bad_instr), ps.bad_set);
        goto fail;
    }
    if (status != FP_OK) {
        set_status_error(status, "program_sweep()");
        goto fail;
    }
    ps.progress = progress;
    /* The shared series first (a job of its own: the sweep's tasks read
     * them), then the sweep. */
    if (ps.n_prep > 0) {
        fp_job job;
        fp_job_init(&job, fp_prog_sweep_prep_task, &ps, ps.n_prep, NULL);
        status = run_job(&job, nthreads, 1, &ps.cancel);
    }
    if (status == FP_OK && ps.n_tasks > 0) {
        fp_job job;
        fp_job_init(&job, fp_prog_sweep_task, &ps, ps.n_tasks, NULL);
        status = run_job(&job, nthreads, 1, &ps.cancel);
    }
    size_t bad = atomic_load(&ps.bad_instr);
    fp_prog_sweep_free(&ps);
    if (status == FP_ENONFINITE) {
        program_error("program_sweep(): a value that is not finite", bad, SIZE_MAX);
        goto fail;
    }
    if (status != FP_OK) {
        set_status_error(status, "program_sweep()");
        goto fail;
    }
    PyMem_Free(code);
    Py_DECREF(seq);
    return (PyObject *)out;

fail:
    PyMem_Free(code);
    Py_DECREF(seq);
    Py_XDECREF(out);
    return NULL;
}

/* _fastpar.PROGRAM: {"ops": names, "columns": names, "states": names},
 * each in the engine's order (its codes are the positions). */
static PyObject *
program_names(void)
{
    static const struct {
        const char *key;
        const char *const *names;
        int n;
    } tables[] = {{"ops", fp_prog_op_names, FP_N_OPS},
                  {"columns", fp_prog_column_names, FP_N_COLUMNS},
                  {"states", fp_prog_state_names, FP_N_STATES}};
    PyObject *d = PyDict_New();
    for (size_t t = 0; d != NULL && t < sizeof tables / sizeof *tables; t++) {
        PyObject *names = PyTuple_New(tables[t].n);
        for (int i = 0; names != NULL && i < tables[t].n; i++) {
            PyObject *s = PyUnicode_FromString(tables[t].names[i]);
            if (s == NULL)
                Py_CLEAR(names);
            else
                PyTuple_SET_ITEM(names, i, s);
        }
        if (names == NULL || PyDict_SetItemString(d, tables[t].key, names) < 0)
            Py_CLEAR(d);
        Py_XDECREF(names);
    }
    return d;
}

#define FPG_SWEEP_METHODS                                                                     \
    FASTCALL("sweep", py_sweep,                                                               \
             "sweep(strategy, high, low, close, params, fees, slippage, spread, stop_loss, "  \
             "take_profit, longshort, periods_per_year, threads, progress)"),                 \
    FASTCALL("backtest", py_backtest,                                                         \
             "backtest(close, entries, exits, fees, slippage, spread, stop_loss, "            \
             "take_profit, longshort, periods_per_year, threads)"),                           \
    FASTCALL("program_sweep", py_program_sweep,                                               \
             "program_sweep(code, n_params, entry, exit, columns, params, fees, slippage, "   \
             "spread, stop_loss, take_profit, longshort, periods_per_year, threads, "         \
             "progress)"),

/* End of the parameter sweep section.                                      */
/* ======================================================================== */

/* ------------------------------------------------------------------------ */
/* Module definition                                                        */

#define FASTCALL(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc}

static PyMethodDef fastpar_methods[] = {
    {"indicator_table", py_indicator_table, METH_NOARGS,
     "indicator_table(): every indicator's names, inputs, parameters and outputs"},
    FASTCALL("lookback", py_lookback, "lookback(name, *params): leading NaNs on a clean input"),
    FPG_SCENARIO_METHODS
    FPG_SWEEP_METHODS
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads()"},
    {"set_num_threads", py_set_num_threads, METH_O, "set_num_threads(n)"},
    {"_sleep_job", py_sleep_job, METH_VARARGS, "_sleep_job(ntasks, task_us, threads): for tests"},
    {NULL, NULL, 0, NULL},
};

static int
fastpar_exec(PyObject *module)
{
    if (PyArray_ImportNumPyAPI() < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "MAX_PERIOD", FP_MAX_PERIOD) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "MAX_THREADS", FP_POOL_MAX_THREADS) < 0)
        return -1;
    if (view_type == NULL) {
        view_type = (PyTypeObject *)PyType_FromSpec(&view_spec);
        if (view_type == NULL)
            return -1;
    }
    if (PyModule_AddObjectRef(module, "ScenarioView", (PyObject *)view_type) < 0)
        return -1;
    PyObject *names = program_names();
    int rc = names == NULL ? -1 : PyModule_AddObjectRef(module, "PROGRAM", names);
    Py_XDECREF(names);
    if (rc < 0)
        return -1;
    return add_indicators(module);
}

static PyModuleDef_Slot fastpar_slots[] = {
    {Py_mod_exec, fastpar_exec},
#ifdef Py_mod_multiple_interpreters
    /* NumPy itself supports only one interpreter per process. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef fastpar_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fastpar._fastpar",
    .m_doc = "fastpar's native kernels and thread pool (private: use the fastpar package).",
    .m_size = 0,
    .m_methods = fastpar_methods,
    .m_slots = fastpar_slots,
};

PyMODINIT_FUNC
PyInit__fastpar(void)
{
    return PyModuleDef_Init(&fastpar_module);
}
