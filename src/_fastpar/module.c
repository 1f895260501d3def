/*
 * module.c - the glue between Python and fastpar's pure C code.
 *
 * Every kernel entry point has the same shape: check the (already
 * converted) arguments, allocate the outputs, release the GIL, run one pure
 * C function (directly for one series, as a pool job for one series per
 * row), map its status to a Python exception, return. Argument conversion
 * with friendly messages lives in the Python package (fastpar/indicators.py);
 * the checks here only guard against misuse of this private module.
 *
 * The module uses multi-phase initialisation, imports NumPy's C API in its
 * exec slot and declares that it does not need the GIL: it keeps no Python
 * state of its own, and the pool guards its state with its own mutex.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <time.h>

#define NPY_NO_DEPRECATED_API NPY_1_21_API_VERSION
#include <numpy/arrayobject.h>

#include "indicators.h"
#include "pool.h"

/* How long a waiting caller runs with the GIL released before it looks for
 * a pending signal (Ctrl-C): short enough to feel immediate. */
#define FPG_SLICE_MS 50

#define FPG_MAX_IN 3
#define FPG_MAX_OUT 3
#define FPG_MAX_INT 3
#define FPG_MAX_DBL 2

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
 * PyErr_CheckSignals on the main thread) cancels it promptly. Returns the
 * job's status; on a signal the Python exception is left set. */
static int
run_job(fp_job *job, int nthreads)
{
    int finished, status, interrupted = 0;

    fp_job_submit(job, nthreads); /* FP_ETHREAD only means: caller alone */
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        finished = fp_job_work(job, FPG_SLICE_MS);
        Py_END_ALLOW_THREADS
        if (finished)
            break;
        if (!interrupted && PyErr_CheckSignals() < 0) {
            interrupted = 1;
            fp_job_cancel(job);
        }
    }
    Py_BEGIN_ALLOW_THREADS
    status = fp_job_finish(job);
    Py_END_ALLOW_THREADS
    if (interrupted)
        return FP_ECANCELLED;
    return status;
}

/* ------------------------------------------------------------------------ */
/* Indicator kernels                                                        */

/* One kernel call on one series: inputs, length, parameters, outputs. */
typedef int (*kernel_fn)(const double *const *in, size_t n, const int *ip,
                         const double *dp, double *const *out);

typedef struct {
    const char *name;
    int n_in, n_out, n_int, n_dbl;
    kernel_fn run;
} kernel_spec;

static int
k_sma(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_sma_f64(in[0], n, ip[0], out[0]);
}

static int
k_ema(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_ema_f64(in[0], n, ip[0], out[0]);
}

static int
k_wma(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_wma_f64(in[0], n, ip[0], out[0]);
}

static int
k_rsi(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_rsi_f64(in[0], n, ip[0], out[0]);
}

static int
k_rsi_simple(const double *const *in, size_t n, const int *ip, const double *dp,
             double *const *out)
{
    (void)dp;
    return fp_rsi_simple_f64(in[0], n, ip[0], out[0]);
}

static int
k_stddev(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    return fp_stddev_f64(in[0], n, ip[0], dp[0], out[0]);
}

static int
k_bbands(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    return fp_bbands_f64(in[0], n, ip[0], dp[0], dp[1], out[0], out[1], out[2]);
}

static int
k_envelope(const double *const *in, size_t n, const int *ip, const double *dp,
           double *const *out)
{
    return fp_envelope_f64(in[0], n, ip[0], dp[0], out[0], out[1], out[2]);
}

static int
k_macd(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_macd_f64(in[0], n, ip[0], ip[1], ip[2], out[0], out[1], out[2]);
}

static int
k_atr(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_atr_f64(in[0], in[1], in[2], n, ip[0], out[0]);
}

static int
k_stoch(const double *const *in, size_t n, const int *ip, const double *dp, double *const *out)
{
    (void)dp;
    return fp_stoch_f64(in[0], in[1], in[2], n, ip[0], ip[1], ip[2], out[0], out[1]);
}

/*                                  name     in out int dbl */
static const kernel_spec SMA = {"sma", 1, 1, 1, 0, k_sma};
static const kernel_spec EMA = {"ema", 1, 1, 1, 0, k_ema};
static const kernel_spec WMA = {"wma", 1, 1, 1, 0, k_wma};
static const kernel_spec RSI = {"rsi", 1, 1, 1, 0, k_rsi};
static const kernel_spec RSI_SIMPLE = {"rsi_simple", 1, 1, 1, 0, k_rsi_simple};
static const kernel_spec STDDEV = {"stddev", 1, 1, 1, 1, k_stddev};
static const kernel_spec BBANDS = {"bbands", 1, 3, 1, 2, k_bbands};
static const kernel_spec ENVELOPE = {"envelope", 1, 3, 1, 1, k_envelope};
static const kernel_spec MACD = {"macd", 1, 3, 3, 0, k_macd};
static const kernel_spec ATR = {"atr", 3, 1, 1, 0, k_atr};
static const kernel_spec STOCH = {"stoch", 3, 2, 3, 0, k_stoch};

/* Everything one call needs, shared read-only by the rows' tasks. */
typedef struct {
    const kernel_spec *spec;
    size_t n;
    const double *in[FPG_MAX_IN];
    double *out[FPG_MAX_OUT];
    int ip[FPG_MAX_INT];
    double dp[FPG_MAX_DBL];
} kernel_call;

/* Pool task: the kernel on row `row`. Each task writes only its own rows of
 * the outputs, and the kernels allocate their own scratch memory. */
static int
kernel_row_task(void *ctx, size_t row)
{
    const kernel_call *c = ctx;
    const double *in[FPG_MAX_IN];
    double *out[FPG_MAX_OUT];
    size_t off = row * c->n;

    for (int i = 0; i < c->spec->n_in; i++)
        in[i] = c->in[i] + off;
    for (int i = 0; i < c->spec->n_out; i++)
        out[i] = c->out[i] + off;
    return c->spec->run(in, c->n, c->ip, c->dp, out);
}

static int
parse_threads(PyObject *obj, int *nthreads)
{
    if (obj == Py_None) {
        *nthreads = 0; /* the pool's size */
        return 0;
    }
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 1 || v > FP_POOL_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "threads must be None or in [1, %d], got %ld",
                     FP_POOL_MAX_THREADS, v);
        return -1;
    }
    *nthreads = (int)v;
    return 0;
}

/* _fastpar.<kernel>(*inputs, *int_params, *float_params, threads). Inputs
 * are float64, C-contiguous, 1-D or 2-D arrays of one shape (a 2-D array
 * holds one series per row); the result is one array or a tuple. */
static PyObject *
call_kernel(const kernel_spec *spec, PyObject *const *args, Py_ssize_t nargs)
{
    kernel_call c = {.spec = spec};
    PyArrayObject *out[FPG_MAX_OUT] = {NULL};
    PyObject *result = NULL;
    int *row_status = NULL;
    int nthreads, status = FP_OK, ndim;
    npy_intp *dims;
    size_t rows;

    Py_ssize_t want = spec->n_in + spec->n_int + spec->n_dbl + 1;
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd", spec->name, want,
                     nargs);
        return NULL;
    }
    for (int i = 0; i < spec->n_in; i++) {
        PyArrayObject *a = (PyArrayObject *)args[i];
        if (!PyArray_Check(args[i]) || PyArray_TYPE(a) != NPY_DOUBLE ||
            !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || PyArray_NDIM(a) < 1 ||
            PyArray_NDIM(a) > 2) {
            PyErr_Format(PyExc_TypeError,
                         "%s(): input %d must be an aligned C-contiguous float64 array of "
                         "1 or 2 dimensions",
                         spec->name, i);
            return NULL;
        }
        if (i > 0 && !PyArray_SAMESHAPE(a, (PyArrayObject *)args[0])) {
            PyErr_Format(PyExc_ValueError, "%s(): inputs must have the same shape", spec->name);
            return NULL;
        }
        c.in[i] = PyArray_DATA(a);
    }
    for (int i = 0; i < spec->n_int; i++) {
        long v = PyLong_AsLong(args[spec->n_in + i]);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v < 1 || v > FP_MAX_PERIOD) {
            PyErr_Format(PyExc_ValueError, "%s(): period %ld out of range [1, %d]", spec->name,
                         v, FP_MAX_PERIOD);
            return NULL;
        }
        c.ip[i] = (int)v;
    }
    for (int i = 0; i < spec->n_dbl; i++) {
        c.dp[i] = PyFloat_AsDouble(args[spec->n_in + spec->n_int + i]);
        if (c.dp[i] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    if (parse_threads(args[nargs - 1], &nthreads) < 0)
        return NULL;

    ndim = PyArray_NDIM((PyArrayObject *)args[0]);
    dims = PyArray_DIMS((PyArrayObject *)args[0]);
    rows = ndim == 2 ? (size_t)dims[0] : 1;
    c.n = (size_t)dims[ndim - 1];
    for (int i = 0; i < spec->n_out; i++) {
        out[i] = (PyArrayObject *)PyArray_SimpleNew(ndim, dims, NPY_DOUBLE);
        if (out[i] == NULL)
            goto done;
        c.out[i] = PyArray_DATA(out[i]);
    }

    if (ndim == 1) {
        Py_BEGIN_ALLOW_THREADS
        status = spec->run(c.in, c.n, c.ip, c.dp, c.out);
        Py_END_ALLOW_THREADS
    } else if (rows > 0) {
        fp_job job;
        row_status = PyMem_Malloc(rows * sizeof(int));
        if (row_status == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        fp_job_init(&job, kernel_row_task, &c, rows, row_status);
        status = run_job(&job, nthreads);
    }
    if (status != FP_OK) {
        if (status == FP_ECANCELLED || row_status == NULL) {
            set_status_error(status, spec->name);
        } else {
            size_t r = 0;
            while (r < rows && row_status[r] == FP_OK)
                r++;
            char what[64];
            PyOS_snprintf(what, sizeof what, "%s(), row %zu", spec->name, r);
            set_status_error(status, what);
        }
        goto done;
    }

    if (spec->n_out == 1) {
        result = (PyObject *)out[0];
        out[0] = NULL;
    } else {
        result = PyTuple_New(spec->n_out);
        if (result == NULL)
            goto done;
        for (int i = 0; i < spec->n_out; i++) {
            PyTuple_SET_ITEM(result, i, (PyObject *)out[i]);
            out[i] = NULL;
        }
    }

done:
    for (int i = 0; i < spec->n_out; i++)
        Py_XDECREF(out[i]);
    PyMem_Free(row_status);
    return result;
}

#define KERNEL_METHOD(fn, spec)                                                       \
    static PyObject *fn(PyObject *module, PyObject *const *args, Py_ssize_t nargs)    \
    {                                                                                 \
        (void)module;                                                                 \
        return call_kernel(&spec, args, nargs);                                       \
    }

KERNEL_METHOD(py_sma, SMA)
KERNEL_METHOD(py_ema, EMA)
KERNEL_METHOD(py_wma, WMA)
KERNEL_METHOD(py_rsi, RSI)
KERNEL_METHOD(py_rsi_simple, RSI_SIMPLE)
KERNEL_METHOD(py_stddev, STDDEV)
KERNEL_METHOD(py_bbands, BBANDS)
KERNEL_METHOD(py_envelope, ENVELOPE)
KERNEL_METHOD(py_macd, MACD)
KERNEL_METHOD(py_atr, ATR)
KERNEL_METHOD(py_stoch, STOCH)

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
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 1 || n > FP_POOL_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "number of threads must be in [1, %d], got %ld",
                     FP_POOL_MAX_THREADS, n);
        return NULL;
    }
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
    status = run_job(&job, nthreads);
    if (status != FP_OK)
        return set_status_error(status, "_sleep_job()");
    return PyLong_FromSize_t(fp_job_done(&job));
}

/* ------------------------------------------------------------------------ */
/* Module definition                                                        */

#define FASTCALL(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc}

static PyMethodDef fastpar_methods[] = {
    FASTCALL("sma", py_sma, "sma(x, period, threads)"),
    FASTCALL("ema", py_ema, "ema(x, period, threads)"),
    FASTCALL("wma", py_wma, "wma(x, period, threads)"),
    FASTCALL("rsi", py_rsi, "rsi(x, period, threads)"),
    FASTCALL("rsi_simple", py_rsi_simple, "rsi_simple(x, period, threads)"),
    FASTCALL("stddev", py_stddev, "stddev(x, period, nbdev, threads)"),
    FASTCALL("bbands", py_bbands, "bbands(x, period, nbdev_up, nbdev_dn, threads)"),
    FASTCALL("envelope", py_envelope, "envelope(x, period, deviation, threads)"),
    FASTCALL("macd", py_macd, "macd(x, fast, slow, signal, threads)"),
    FASTCALL("atr", py_atr, "atr(high, low, close, period, threads)"),
    FASTCALL("stoch", py_stoch,
             "stoch(high, low, close, fastk_period, slowk_period, slowd_period, threads)"),
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
    return 0;
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
