/*
 * test_pool.c - test driver for the native thread pool (src/_fastpar/pool.c).
 *
 * Each test is a function run by main; a test passes when none of its
 * CHECKs fails. The last line printed is "N passed, N failed"; the exit
 * status is non-zero on any failure. The fork tests check their child's
 * exit status. Meant to run clean under -fsanitize=thread as well.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

#if defined(__SANITIZE_THREAD__)
/* The fork tests fork while pool workers are alive, one while another
 * thread is mid-job: forking a busy process is the case under test, so
 * the parent cannot be quiesced first. The child then starts workers of
 * its own. By default TSan kills a child that starts threads after a
 * multithreaded fork, since it cannot vouch for state (held locks, say)
 * left by threads that vanished; resetting the pool's part of that state
 * is what the pool's atfork child handler does and what these tests check,
 * so the child must be allowed to run. Reports still fail the run. */
const char *__tsan_default_options(void);
const char *
__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#endif

/* ---- harness ---- */

static atomic_int failures; /* failed CHECKs so far, from any thread */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
            atomic_fetch_add(&failures, 1);                                                        \
        }                                                                                          \
    } while (0)

static void
sleep_us(long us)
{
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};

    while (nanosleep(&t, &t) != 0)
        ;
}

static double
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- a checkable task with uneven durations ---- */

static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Task i hashes a few times; the number of rounds varies with i, so the
 * tasks take uneven times. */
static uint64_t
calc_value(uint64_t seed, unsigned spin_mask, size_t i)
{
    uint64_t v = mix64(seed + i);
    unsigned rounds = (unsigned)v & spin_mask;

    for (unsigned k = 0; k < rounds; k++)
        v = mix64(v);
    return v;
}

struct calc {
    uint64_t seed;
    unsigned spin_mask;
    uint64_t *out;
    pthread_t submitter;
    unsigned char *by_helper; /* optional: 1 where a pool worker ran task i */
};

static int
calc_task(void *ctx, size_t i)
{
    struct calc *c = ctx;

    c->out[i] = calc_value(c->seed, c->spin_mask, i);
    if (c->by_helper)
        c->by_helper[i] = !pthread_equal(pthread_self(), c->submitter);
    return FP_OK;
}

/* Runs one calc job and checks every output and status. slice_ms < 0:
 * fp_pool_run; else init/submit/work(slice_ms) loop/finish. */
static void
run_calc_job(size_t ntasks, int nthreads, uint64_t seed, unsigned spin_mask, long slice_ms)
{
    struct calc c = {seed, spin_mask, xcalloc(ntasks, sizeof(uint64_t)), pthread_self(), NULL};
    int *status = xcalloc(ntasks, sizeof(int));
    int rc;

    if (slice_ms < 0) {
        rc = fp_pool_run(calc_task, &c, ntasks, nthreads, status);
    } else {
        fp_job job;

        CHECK(fp_job_init(&job, calc_task, &c, ntasks, status) == FP_OK);
        CHECK(fp_job_submit(&job, nthreads) == FP_OK);
        while (!fp_job_work(&job, slice_ms))
            ;
        CHECK(fp_job_done(&job) == ntasks);
        rc = fp_job_finish(&job);
    }
    CHECK(rc == FP_OK);
    for (size_t i = 0; i < ntasks; i++) {
        if (c.out[i] != calc_value(seed, spin_mask, i) || status[i] != FP_OK) {
            CHECK(!"task result or status wrong");
            break;
        }
    }
    free(c.out);
    free(status);
}

/* ---- FASTPAR_NUM_THREADS ---- */

static int
cpu_count(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* In a child, so that each case sees a pool that was never initialised. */
static int
pool_size_with_env(const char *value)
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
        if (value)
            setenv("FASTPAR_NUM_THREADS", value, 1);
        else
            unsetenv("FASTPAR_NUM_THREADS");
        _exit(fp_pool_get_num_threads() & 0xff);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* Must run first: the children rely on this process never having used
 * the pool, and forking a single-threaded process is clean under TSan. */
static void
test_num_threads_env(void)
{
    int cpus = cpu_count() & 0xff;

    CHECK(fp_pool_parse_num_threads("4") == 4);
    CHECK(fp_pool_parse_num_threads(" 8 \n") == 8);
    CHECK(fp_pool_parse_num_threads("1") == 1);
    CHECK(fp_pool_parse_num_threads("1024") == FP_POOL_MAX_THREADS);
    CHECK(fp_pool_parse_num_threads("1025") == 0);
    CHECK(fp_pool_parse_num_threads("0") == 0);
    CHECK(fp_pool_parse_num_threads("-2") == 0);
    CHECK(fp_pool_parse_num_threads("") == 0);
    CHECK(fp_pool_parse_num_threads("  ") == 0);
    CHECK(fp_pool_parse_num_threads("abc") == 0);
    CHECK(fp_pool_parse_num_threads("4x") == 0);
    CHECK(fp_pool_parse_num_threads("2.5") == 0);
    CHECK(fp_pool_parse_num_threads("99999999999999999999999") == 0);
    CHECK(fp_pool_parse_num_threads(NULL) == 0);

    CHECK(pool_size_with_env("3") == 3);
    CHECK(pool_size_with_env(" 7") == 7);
    CHECK(pool_size_with_env(NULL) == cpus);
    CHECK(pool_size_with_env("lots") == cpus);
    CHECK(pool_size_with_env("0") == cpus);
    CHECK(pool_size_with_env("5000") == cpus);
}

static void
test_set_get(void)
{
    CHECK(fp_pool_set_num_threads(3) == FP_OK);
    CHECK(fp_pool_get_num_threads() == 3);
    CHECK(fp_pool_set_num_threads(0) == FP_EINVAL);
    CHECK(fp_pool_set_num_threads(-1) == FP_EINVAL);
    CHECK(fp_pool_set_num_threads(FP_POOL_MAX_THREADS + 1) == FP_EINVAL);
    CHECK(fp_pool_get_num_threads() == 3);
    CHECK(fp_pool_set_num_threads(4) == FP_OK);
    CHECK(fp_pool_get_num_threads() == 4);
}

/* ---- basic runs ---- */

static void
test_jobs_in_sequence(void)
{
    static const int nthreads[] = {0, 1, 2, 4, 16};

    fp_pool_set_num_threads(4);
    for (int k = 0; k < 300; k++)
        run_calc_job((size_t)(k * 7) % 500, nthreads[k % 5], (uint64_t)k, 63, k % 2 ? -1 : 5);
}

static void
test_edge_cases(void)
{
    fp_job job;
    struct calc c = {1, 0, xcalloc(64, sizeof(uint64_t)), pthread_self(), NULL};

    CHECK(fp_job_init(&job, NULL, NULL, 10, NULL) == FP_EINVAL);

    /* no tasks */
    CHECK(fp_job_init(&job, calc_task, &c, 0, NULL) == FP_OK);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    CHECK(fp_job_work(&job, 0) == 1);
    CHECK(fp_job_finish(&job) == FP_OK);
    CHECK(fp_pool_run(calc_task, &c, 0, 0, NULL) == FP_OK);

    /* finish without working: the caller still runs what is left */
    CHECK(fp_job_init(&job, calc_task, &c, 64, NULL) == FP_OK);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    CHECK(fp_job_finish(&job) == FP_OK);
    for (size_t i = 0; i < 64; i++)
        CHECK(c.out[i] == calc_value(1, 0, i));
    free(c.out);
}

static void
test_caller_alone(void)
{
    enum { N = 200 };
    struct calc c = {42, 255, xcalloc(N, sizeof(uint64_t)), pthread_self(), xcalloc(N, 1)};
    size_t by_helpers = 0;

    fp_pool_set_num_threads(4);
    CHECK(fp_pool_run(calc_task, &c, N, 1, NULL) == FP_OK);
    for (size_t i = 0; i < N; i++)
        by_helpers += c.by_helper[i];
    CHECK(by_helpers == 0);

    fp_pool_set_num_threads(1);
    memset(c.by_helper, 0, N);
    CHECK(fp_pool_run(calc_task, &c, N, 0, NULL) == FP_OK);
    for (size_t i = 0; i < N; i++) {
        by_helpers += c.by_helper[i];
        CHECK(c.out[i] == calc_value(42, 255, i));
    }
    CHECK(by_helpers == 0);
    fp_pool_set_num_threads(4);
    free(c.out);
    free(c.by_helper);
}

/* Ctrl-C must reach Python's main thread, never a pool worker. */
struct sigcheck {
    pthread_t submitter;
    atomic_int helper_tasks;
    atomic_int helper_unblocked; /* a worker ran with SIGINT or SIGTERM open */
};

static int
sigcheck_task(void *ctx, size_t i)
{
    struct sigcheck *c = ctx;
    sigset_t mask;

    (void)i;
    sleep_us(200);
    if (pthread_equal(pthread_self(), c->submitter))
        return FP_OK;
    atomic_fetch_add(&c->helper_tasks, 1);
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    if (!sigismember(&mask, SIGINT) || !sigismember(&mask, SIGTERM))
        atomic_store(&c->helper_unblocked, 1);
    return FP_OK;
}

static void
test_workers_block_signals(void)
{
    struct sigcheck c = {pthread_self(), 0, 0};
    sigset_t mask;

    fp_pool_set_num_threads(4);
    CHECK(fp_pool_run(sigcheck_task, &c, 200, 0, NULL) == FP_OK);
    CHECK(atomic_load(&c.helper_tasks) > 0);
    CHECK(!atomic_load(&c.helper_unblocked));
    /* and the submitter's own mask is left as it was */
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    CHECK(!sigismember(&mask, SIGINT));
}

/* ---- many submitters at once ---- */

struct submitter {
    int id;
    int njobs;
    pthread_barrier_t *start;
    atomic_int *stop; /* optional: run until set instead of njobs */
};

static void *
submitter_main(void *arg)
{
    struct submitter *s = arg;
    uint64_t r = mix64((uint64_t)s->id);

    if (s->start)
        pthread_barrier_wait(s->start);
    for (int k = 0; s->stop ? !atomic_load(s->stop) : k < s->njobs; k++) {
        r = mix64(r);
        run_calc_job(1 + r % 400, (int)(r >> 20) % 3 == 0 ? 0 : 1 + (int)(r >> 24) % 8, r,
                     (r >> 32) % 2 ? 1023 : 15, (r >> 40) % 2 ? -1 : 2);
    }
    return NULL;
}

static void
test_many_submitters(void)
{
    enum { NSUB = 8 };
    pthread_t threads[NSUB];
    struct submitter subs[NSUB];
    pthread_barrier_t start;

    fp_pool_set_num_threads(4);
    pthread_barrier_init(&start, NULL, NSUB);
    for (int i = 0; i < NSUB; i++) {
        subs[i] = (struct submitter){i, 40, &start, NULL};
        pthread_create(&threads[i], NULL, submitter_main, &subs[i]);
    }
    for (int i = 0; i < NSUB; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
}

/* Every concurrent submitter should get help, not only the first. */
struct sleepy {
    size_t ntasks;
    long task_us;
    pthread_t submitter;
    atomic_size_t by_helpers;
};

static int
sleepy_task(void *ctx, size_t i)
{
    struct sleepy *s = ctx;

    (void)i;
    sleep_us(s->task_us);
    if (!pthread_equal(pthread_self(), s->submitter))
        atomic_fetch_add(&s->by_helpers, 1);
    return FP_OK;
}

struct fair_arg {
    size_t ntasks;
    pthread_barrier_t *start; /* optional */
    struct sleepy *s;
    int rc;
};

static void *
fair_submitter(void *arg)
{
    struct fair_arg *a = arg;

    a->s->submitter = pthread_self();
    if (a->start)
        pthread_barrier_wait(a->start);
    a->rc = fp_pool_run(sleepy_task, a->s, a->s->ntasks, 0, NULL);
    return NULL;
}

/* One worker, one long job already being helped, then three short jobs:
 * the worker must not stay on the long job while the short ones finish. */
static void
test_fairness(void)
{
    enum { NSHORT = 3 };
    pthread_t long_thread, threads[NSHORT];
    struct sleepy long_job = {600, 1000, 0, 0}, short_jobs[NSHORT];
    struct fair_arg long_arg = {0, NULL, &long_job, -1}, args[NSHORT];
    pthread_barrier_t start;

    fp_pool_set_num_threads(2);
    pthread_create(&long_thread, NULL, fair_submitter, &long_arg);
    for (int k = 0; k < 1000 && !atomic_load(&long_job.by_helpers); k++)
        sleep_us(1000);
    CHECK(atomic_load(&long_job.by_helpers) > 0);
    pthread_barrier_init(&start, NULL, NSHORT);
    for (int i = 0; i < NSHORT; i++) {
        short_jobs[i] = (struct sleepy){100, 1000, 0, 0};
        args[i] = (struct fair_arg){0, &start, &short_jobs[i], -1};
        pthread_create(&threads[i], NULL, fair_submitter, &args[i]);
    }
    for (int i = 0; i < NSHORT; i++) {
        pthread_join(threads[i], NULL);
        CHECK(args[i].rc == FP_OK);
        CHECK(atomic_load(&short_jobs[i].by_helpers) > 0);
    }
    pthread_join(long_thread, NULL);
    CHECK(long_arg.rc == FP_OK);
    pthread_barrier_destroy(&start);
    fp_pool_set_num_threads(4);
}

/* ---- errors ---- */

static int
expected_status(size_t i)
{
    if (i == 5)
        return FP_ENOMEM;
    if (i % 97 == 13 || i == 700)
        return FP_EINVAL;
    if (i % 211 == 100)
        return FP_ENONFINITE;
    return FP_OK;
}

/* The lowest failing task is slow, so higher ones fail before it. */
static int
failing_task(void *ctx, size_t i)
{
    (void)ctx;
    if (i == 5)
        sleep_us(2000);
    return expected_status(i);
}

static void
test_errors(void)
{
    enum { N = 1000 };
    int *status = xcalloc(N, sizeof(int));
    static const int nthreads[] = {0, 1, 2, 3};

    fp_pool_set_num_threads(4);
    for (int k = 0; k < 40; k++) {
        fp_job job;

        CHECK(fp_job_init(&job, failing_task, NULL, N, status) == FP_OK);
        CHECK(fp_job_submit(&job, nthreads[k % 4]) == FP_OK);
        while (!fp_job_work(&job, 1))
            ;
        CHECK(fp_job_done(&job) == N);
        CHECK(fp_job_finish(&job) == FP_ENOMEM);
        for (size_t i = 0; i < N; i++)
            if (status[i] != expected_status(i)) {
                CHECK(!"per-task status wrong");
                break;
            }
    }
    CHECK(fp_pool_run(failing_task, NULL, 20, 0, NULL) == FP_ENOMEM); /* no status array */
    CHECK(fp_pool_run(failing_task, NULL, 5, 0, NULL) == FP_OK);
    free(status);
}

/* ---- cancellation and progress ---- */

struct canceller {
    fp_job *job;
    size_t after; /* cancel once this many tasks are done */
};

static void *
canceller_main(void *arg)
{
    struct canceller *c = arg;

    while (fp_job_done(c->job) < c->after)
        sleep_us(200);
    fp_job_cancel(c->job);
    return NULL;
}

static void
test_cancel(void)
{
    enum { N = 2000 };
    struct sleepy s = {N, 500, pthread_self(), 0};
    int *status = xcalloc(N, sizeof(int));
    struct canceller c;
    pthread_t thread;
    fp_job job;
    size_t done, ok = 0, cancelled = 0;

    fp_pool_set_num_threads(4);
    CHECK(fp_job_init(&job, sleepy_task, &s, N, status) == FP_OK);
    c = (struct canceller){&job, 40};
    pthread_create(&thread, NULL, canceller_main, &c);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    while (!fp_job_work(&job, 20))
        ;
    pthread_join(thread, NULL);
    done = fp_job_done(&job);
    CHECK(fp_job_finish(&job) == FP_ECANCELLED);
    CHECK(done >= 40 && done < N / 2);
    for (size_t i = 0; i < N; i++) {
        ok += status[i] == FP_OK;
        cancelled += status[i] == FP_ECANCELLED;
    }
    CHECK(ok == done);
    CHECK(ok + cancelled == N);

    /* cancelled before any work: nothing runs */
    CHECK(fp_job_init(&job, sleepy_task, &s, N, status) == FP_OK);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    fp_job_cancel(&job);
    CHECK(fp_job_finish(&job) == FP_ECANCELLED);
    CHECK(fp_job_done(&job) <= 50); /* workers may have started a few */

    /* the pool is still fine */
    run_calc_job(500, 0, 7, 63, 5);
    free(status);
}

struct observer {
    const fp_job *job;
    atomic_int stop;
    int monotonic;
    size_t last;
};

static void *
observer_main(void *arg)
{
    struct observer *o = arg;

    while (!atomic_load(&o->stop)) {
        size_t d = fp_job_done(o->job);

        if (d < o->last)
            o->monotonic = 0;
        o->last = d;
        sleep_us(300);
    }
    return NULL;
}

static void
test_progress_and_slices(void)
{
    enum { N = 200 };
    struct sleepy s = {N, 1000, pthread_self(), 0};
    struct observer o;
    pthread_t thread;
    fp_job job;
    int zeros = 0, increases = 0;
    size_t last = 0;
    double worst = 0;

    fp_pool_set_num_threads(2);
    CHECK(fp_job_init(&job, sleepy_task, &s, N, NULL) == FP_OK);
    o = (struct observer){&job, 0, 1, 0};
    pthread_create(&thread, NULL, observer_main, &o);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    for (;;) {
        double t0 = now_ms();
        int r = fp_job_work(&job, 10);
        double took = now_ms() - t0;
        size_t d = fp_job_done(&job);

        if (took > worst)
            worst = took;
        CHECK(d >= last);
        increases += d > last;
        last = d;
        if (r)
            break;
        zeros++;
    }
    atomic_store(&o.stop, 1);
    pthread_join(thread, NULL);
    CHECK(o.monotonic);
    CHECK(last == N);
    CHECK(zeros >= 3);
    CHECK(increases >= 3);
    /* 10 ms slice plus at most one 1 ms task, with room for a busy CI */
    CHECK(worst < 100);
    CHECK(atomic_load(&s.by_helpers) > 0);
    CHECK(fp_job_finish(&job) == FP_OK);
    fp_pool_set_num_threads(4);
}

/* A worker holds a task until the gate opens; the submitter's slices must
 * time out waiting for it, then report completion once it is let go. */
struct gated {
    pthread_t submitter;
    atomic_int gate;
    atomic_size_t held; /* tasks a worker is holding at the gate */
};

static int
gated_task(void *ctx, size_t i)
{
    struct gated *g = ctx;

    (void)i;
    if (pthread_equal(pthread_self(), g->submitter)) {
        sleep_us(3000);
        return FP_OK;
    }
    atomic_fetch_add(&g->held, 1);
    for (int k = 0; k < 10000 && !atomic_load(&g->gate); k++)
        sleep_us(500);
    return FP_OK;
}

static void
test_work_waits_for_workers(void)
{
    enum { N = 30 };
    struct gated g = {pthread_self(), 0, 0};
    fp_job job;
    double t0, took;

    fp_pool_set_num_threads(2);
    CHECK(fp_job_init(&job, gated_task, &g, N, NULL) == FP_OK);
    CHECK(fp_job_submit(&job, 2) == FP_OK);
    /* The submitter runs every task but the one the worker holds. */
    while (atomic_load(&job.next) < N)
        CHECK(fp_job_work(&job, 20) == 0);
    CHECK(atomic_load(&g.held) == 1);
    /* Nothing left to claim: the slices time out waiting for the worker. */
    t0 = now_ms();
    CHECK(fp_job_work(&job, 20) == 0);
    took = now_ms() - t0;
    CHECK(took >= 19 && took < 120);
    CHECK(fp_job_work(&job, 0) == 0);
    atomic_store(&g.gate, 1);
    CHECK(fp_job_work(&job, 5000) == 1);
    CHECK(fp_job_done(&job) == N);
    CHECK(fp_job_finish(&job) == FP_OK);
    fp_pool_set_num_threads(4);
}

/* ---- resizing under load ---- */

static void
test_resize_while_running(void)
{
    enum { NSUB = 4 };
    static const int sizes[] = {1, 4, 2, 8, 3, 1, 6, 2, 5};
    pthread_t threads[NSUB];
    struct submitter subs[NSUB];
    atomic_int stop = 0;

    fp_pool_set_num_threads(4);
    for (int i = 0; i < NSUB; i++) {
        subs[i] = (struct submitter){100 + i, 0, NULL, &stop};
        pthread_create(&threads[i], NULL, submitter_main, &subs[i]);
    }
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        CHECK(fp_pool_set_num_threads(sizes[k]) == FP_OK);
        CHECK(fp_pool_get_num_threads() == sizes[k]);
        sleep_us(20000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NSUB; i++)
        pthread_join(threads[i], NULL);

    /* shrunk to one: jobs run on their caller alone */
    fp_pool_set_num_threads(1);
    {
        struct calc c = {9, 15, xcalloc(300, sizeof(uint64_t)), pthread_self(), xcalloc(300, 1)};
        size_t by_helpers = 0;

        CHECK(fp_pool_run(calc_task, &c, 300, 0, NULL) == FP_OK);
        for (size_t i = 0; i < 300; i++)
            by_helpers += c.by_helper[i];
        CHECK(by_helpers == 0);
        free(c.out);
        free(c.by_helper);
    }
    fp_pool_set_num_threads(4);
    run_calc_job(1000, 0, 11, 63, -1);
}

/* Linux: the threads of this process, workers included. */
static int
thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* Waits for exiting workers, which are detached and leave on their own. */
static int
thread_count_settles_at(int want)
{
    for (int k = 0; k < 2000; k++) {
        if (thread_count() == want)
            return 1;
        sleep_us(1000);
    }
    fprintf(stderr, "  %d threads, expected %d\n", thread_count(), want);
    return 0;
}

/* Run with no other thread of the test alive. */
static void
test_shrink_and_grow(void)
{
    int base = -1;

    /* With no worker left: this thread and whatever the runtime has. */
    fp_pool_set_num_threads(1);
    for (int stable = 0, k = 0; stable < 50 && k < 5000; k++) {
        int n = thread_count();

        stable = n == base ? stable + 1 : 0;
        base = n;
        sleep_us(1000);
    }
    fp_pool_set_num_threads(8);
    run_calc_job(100, 0, 1, 0, -1);
    CHECK(thread_count() == base + 7);
    fp_pool_set_num_threads(2);
    CHECK(thread_count_settles_at(base + 1));
    /* growing starts workers only when a job wants them */
    fp_pool_set_num_threads(5);
    CHECK(thread_count() == base + 1);
    run_calc_job(100, 1, 1, 0, -1);
    CHECK(thread_count() == base + 1);
    run_calc_job(100, 0, 1, 0, -1);
    CHECK(thread_count() == base + 4);
    fp_pool_set_num_threads(1);
    CHECK(thread_count_settles_at(base));
    fp_pool_set_num_threads(4);
    run_calc_job(100, 0, 1, 0, -1);
    CHECK(thread_count() == base + 3);
}

/* ---- fork ---- */

/* Tasks wait for each other: the job passes only if at least two threads
 * run it at the same time, which proves the pool has live workers. */
struct rendezvous {
    atomic_int running;
    atomic_int met; /* two tasks have run at the same time */
};

static int
rendezvous_task(void *ctx, size_t i)
{
    struct rendezvous *r = ctx;

    (void)i;
    atomic_fetch_add(&r->running, 1);
    for (int k = 0; k < 1000 && !atomic_load(&r->met); k++) {
        if (atomic_load(&r->running) >= 2)
            atomic_store(&r->met, 1);
        else
            sleep_us(1000);
    }
    atomic_fetch_sub(&r->running, 1);
    return FP_OK;
}

/* The child's half of every fork test: its pool must work, with helpers. */
static int
child_runs_jobs(void)
{
    int before = atomic_load(&failures);
    struct rendezvous r = {0, 0};

    alarm(30); /* a hang becomes a failure, not a stuck test */
    CHECK(fp_pool_get_num_threads() == 4);
    CHECK(fp_pool_run(rendezvous_task, &r, 4, 4, NULL) == FP_OK);
    CHECK(atomic_load(&r.met));
    run_calc_job(2000, 0, 5, 63, 5);
    return atomic_load(&failures) != before;
}

static int
wait_child(pid_t pid)
{
    int st;

    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    if (!WIFEXITED(st)) {
        fprintf(stderr, "  child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
        return -1;
    }
    return WEXITSTATUS(st);
}

static void
test_fork_after_run(void)
{
    pid_t pid;

    fp_pool_set_num_threads(4);
    run_calc_job(1000, 0, 3, 63, -1);
    pid = fork();
    if (pid == 0)
        _exit(child_runs_jobs());
    CHECK(wait_child(pid) == 0);
    run_calc_job(1000, 0, 4, 63, -1);
}

struct long_job {
    fp_job job;
    struct sleepy s;
    int *status;
    atomic_int submitted;
    int rc;
};

static void *
long_job_main(void *arg)
{
    struct long_job *l = arg;

    l->s.submitter = pthread_self();
    fp_job_init(&l->job, sleepy_task, &l->s, l->s.ntasks, l->status);
    fp_job_submit(&l->job, 0);
    atomic_store(&l->submitted, 1);
    while (!fp_job_work(&l->job, 10))
        ;
    l->rc = fp_job_finish(&l->job);
    return NULL;
}

static void
test_fork_while_other_thread_works(void)
{
    enum { N = 300 };
    struct long_job l = {.s = {N, 1000, 0, 0}, .status = xcalloc(N, sizeof(int))};
    pthread_t thread;
    pid_t pid;

    fp_pool_set_num_threads(4);
    pthread_create(&thread, NULL, long_job_main, &l);
    while (!atomic_load(&l.submitted) || fp_job_done(&l.job) < 10)
        sleep_us(500);
    pid = fork();
    if (pid == 0)
        _exit(child_runs_jobs());
    CHECK(fp_job_done(&l.job) < N); /* the fork really was mid-job */
    CHECK(wait_child(pid) == 0);
    pthread_join(thread, NULL);
    CHECK(l.rc == FP_OK);
    for (size_t i = 0; i < N; i++)
        if (l.status[i] != FP_OK) {
            CHECK(!"parent's job lost a task");
            break;
        }
    free(l.status);
}

/* What a signal handler forking between two slices of a job looks like:
 * in the child the job must end (cancelled if workers were on it, else
 * complete), and the child's pool must work. */
static void
test_fork_between_slices(void)
{
    enum { N = 300 };
    struct sleepy s = {N, 1000, pthread_self(), 0};
    int *status = xcalloc(N, sizeof(int));
    fp_job job;
    pid_t pid;

    fp_pool_set_num_threads(4);
    CHECK(fp_job_init(&job, sleepy_task, &s, N, status) == FP_OK);
    CHECK(fp_job_submit(&job, 0) == FP_OK);
    CHECK(fp_job_work(&job, 20) == 0);
    pid = fork();
    if (pid == 0) {
        int before = atomic_load(&failures), rc;

        alarm(30);
        while (!fp_job_work(&job, 10))
            ;
        rc = fp_job_finish(&job);
        CHECK(rc == FP_OK || rc == FP_ECANCELLED);
        for (size_t i = 0; rc == FP_OK && i < N; i++)
            CHECK(status[i] == FP_OK);
        _exit(atomic_load(&failures) != before || child_runs_jobs());
    }
    CHECK(wait_child(pid) == 0);
    while (!fp_job_work(&job, 10))
        ;
    CHECK(fp_job_finish(&job) == FP_OK);
    for (size_t i = 0; i < N; i++)
        if (status[i] != FP_OK) {
            CHECK(!"parent's job lost a task");
            break;
        }
    free(status);
}

#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
/* With no address space left for thread stacks, a job still runs, on its
 * caller. (Not under TSan or ASan: their runtimes map memory as they go,
 * ASan an alternate signal stack for every new thread, and abort when they
 * cannot; a thread whose stack glibc had cached then kills the child. The
 * normal build and valgrind run it.) */
static void
test_thread_creation_failure(void)
{
    pid_t pid = fork();

    if (pid == 0) {
        enum { N = 500 };
        uint64_t out[N];
        int status[N];
        struct calc c = {77, 63, out, pthread_self(), NULL};
        int before = atomic_load(&failures), rc;
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        struct rlimit lim;
        fp_job job;

        alarm(30);
        if (!f || fscanf(f, "%ld", &pages) != 1)
            _exit(3);
        fclose(f);
        /* Forked from a process with workers: glibc keeps their stacks for
         * reuse, so ask for more threads than it can have cached. */
        fp_pool_set_num_threads(64);
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (1 << 20);
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(4);
        CHECK(fp_job_init(&job, calc_task, &c, N, status) == FP_OK);
        CHECK(fp_job_submit(&job, 0) == FP_ETHREAD);
        rc = fp_job_finish(&job);
        CHECK(rc == FP_OK);
        for (size_t i = 0; i < N; i++)
            CHECK(out[i] == calc_value(77, 63, i) && status[i] == FP_OK);
        _exit(atomic_load(&failures) != before);
    }
    CHECK(wait_child(pid) == 0);
}
#endif

/* ---- a submitter that only waits ---- */

static int
slow_task(void *ctx, size_t i)
{
    (void)i;
    sleep_us(*(const long *)ctx);
    return FP_OK;
}

/* Slow tasks on a waiting job: the submitter runs none of them, returns
 * from every slice on time, gets all results, and can cancel between two
 * slices even while every task is still running. */
static void
test_submit_waiting(void)
{
    enum { N = 64 };
    static const int sizes[] = {1, 2, 3};

    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        uint64_t out[N];
        int status[N];
        unsigned char by_helper[N];
        struct calc c = {5, 1023, out, pthread_self(), by_helper};
        fp_job job;
        double t0;

        fp_pool_set_num_threads(sizes[k]);
        CHECK(fp_job_init(&job, calc_task, &c, N, status) == FP_OK);
        CHECK(fp_job_submit_waiting(&job, 0) == FP_OK);
        while (!fp_job_work(&job, 1))
            ;
        CHECK(fp_job_done(&job) == N);
        CHECK(fp_job_finish(&job) == FP_OK);
        for (size_t i = 0; i < N; i++)
            CHECK(out[i] == calc_value(5, 1023, i) && status[i] == FP_OK && by_helper[i]);

        /* 200 ms tasks: a 10 ms slice must come back long before the
         * first task ends, and a cancel then stops the rest. */
        long us = 200000;
        CHECK(fp_job_init(&job, slow_task, &us, N, status) == FP_OK);
        CHECK(fp_job_submit_waiting(&job, 0) == FP_OK);
        t0 = now_ms();
        CHECK(fp_job_work(&job, 10) == 0);
        CHECK(now_ms() - t0 < 150);
        fp_job_cancel(&job);
        CHECK(fp_job_finish(&job) == FP_ECANCELLED);
        CHECK(fp_job_done(&job) <= (size_t)sizes[k]);
        CHECK(now_ms() - t0 < 1000);
    }
    /* Nothing to do is done at once. */
    {
        fp_job job;
        CHECK(fp_job_init(&job, calc_task, NULL, 0, NULL) == FP_OK);
        CHECK(fp_job_submit_waiting(&job, 0) == FP_OK);
        CHECK(fp_job_work(&job, 0) == 1);
        CHECK(fp_job_finish(&job) == FP_OK);
    }
    fp_pool_set_num_threads(4);
}

/* ---- main ---- */

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"num_threads_env", test_num_threads_env}, /* first: needs an unused pool */
    {"set_get", test_set_get},
    {"jobs_in_sequence", test_jobs_in_sequence},
    {"edge_cases", test_edge_cases},
    {"caller_alone", test_caller_alone},
    {"workers_block_signals", test_workers_block_signals},
    {"many_submitters", test_many_submitters},
    {"fairness", test_fairness},
    {"errors", test_errors},
    {"cancel", test_cancel},
    {"progress_and_slices", test_progress_and_slices},
    {"work_waits_for_workers", test_work_waits_for_workers},
    {"submit_waiting", test_submit_waiting},
    {"resize_while_running", test_resize_while_running},
    {"shrink_and_grow", test_shrink_and_grow},
    {"fork_after_run", test_fork_after_run},
    {"fork_while_other_thread_works", test_fork_while_other_thread_works},
    {"fork_between_slices", test_fork_between_slices},
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
    {"thread_creation_failure", test_thread_creation_failure},
#endif
};

int
main(void)
{
    int passed = 0, failed = 0;

    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        int before = atomic_load(&failures);
        double t0 = now_ms();

        tests[i].fn();
        if (atomic_load(&failures) == before) {
            passed++;
            printf("ok   %s (%.0f ms)\n", tests[i].name, now_ms() - t0);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
