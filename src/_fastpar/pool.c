/*
 * pool.c - fastpar's native thread pool (the contract is in pool.h).
 *
 * One process-wide set of detached worker pthreads helps the threads that
 * submit jobs. Threads claim task indices with an atomic counter; the pool
 * mutex is taken only to join or leave a job, to resize, and around fork.
 *
 * Reading order: pool state, tasks, the job list, workers, the job API,
 * pool sizing, fork.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, pthread_setname_np */

#include "pool.h"

#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/*
 * All fields but `restless` are guarded by `mu`. The mutex is never held
 * while a task runs, so submitters do not wait on each other's work.
 */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* idle workers wait here for a job to open */
    int size;            /* threads per job, submitter included */
    int nworkers;        /* workers alive and not on their way out */
    /* Jobs that accept helpers, from submit to finish, least recently
     * joined first so that picks rotate among them. */
    fp_job *head, *tail;
    /* Read between tasks without the lock: a worker should come back to
     * the pool because the pool shrank or some open job has no helper. */
    atomic_int restless;
} pool = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_init(void);

/* ---- tasks: lock free, shared by the submitter and the workers ---- */

static int
claim(fp_job *job, size_t *index)
{
    if (atomic_load_explicit(&job->cancelled, memory_order_relaxed))
        return 0;
    /* Relaxed is enough: the task's inputs were published by the pool
     * mutex when the job was submitted, and its outputs are published by
     * the same mutex when the worker leaves the job. */
    *index = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
    return *index < job->ntasks;
}

static void
record_error(fp_job *job, size_t index, int rc)
{
    /* Once a low index is recorded, most failing tasks lose to it: the
     * unlocked test keeps them off the lock. The lock keeps err_index and
     * err_status describing the same task. */
    if (index >= atomic_load_explicit(&job->err_index, memory_order_relaxed))
        return;
    pthread_mutex_lock(&job->err_lock);
    if (index < atomic_load_explicit(&job->err_index, memory_order_relaxed)) {
        atomic_store_explicit(&job->err_index, index, memory_order_relaxed);
        job->err_status = rc;
    }
    pthread_mutex_unlock(&job->err_lock);
}

static void
run_task(fp_job *job, size_t index)
{
    int rc = job->fn(job->ctx, index);

    if (job->status)
        job->status[index] = rc;
    if (rc != FP_OK)
        record_error(job, index, rc);
    atomic_fetch_add_explicit(&job->done, 1, memory_order_release);
}

/* ---- the job list; every function here needs pool.mu ---- */

static int
job_open(const fp_job *job)
{
    return job->helpers_active < job->helpers_wanted &&
           !atomic_load_explicit(&job->cancelled, memory_order_relaxed) &&
           atomic_load_explicit(&job->next, memory_order_relaxed) < job->ntasks;
}

static void
list_append(fp_job *job)
{
    job->link = NULL;
    if (pool.tail)
        pool.tail->link = job;
    else
        pool.head = job;
    pool.tail = job;
    job->queued = 1;
}

static void
list_remove(fp_job *job)
{
    fp_job **p = &pool.head, *prev = NULL;

    while (*p != job) {
        prev = *p;
        p = &prev->link;
    }
    *p = job->link;
    if (pool.tail == job)
        pool.tail = prev;
    job->link = NULL;
    job->queued = 0;
}

static void
update_restless(void)
{
    int restless = pool.nworkers > pool.size;

    for (fp_job *j = pool.head; j && !restless; j = j->link)
        restless = job_open(j) && j->helpers_active == 0;
    atomic_store_explicit(&pool.restless, restless, memory_order_relaxed);
}

/* The open job with the fewest helpers, so that every concurrent submitter
 * gets some; ties go to the job joined least recently. */
static fp_job *
pick_job(void)
{
    fp_job *best = NULL;

    for (fp_job *j = pool.head; j; j = j->link)
        if (job_open(j) && (!best || j->helpers_active < best->helpers_active))
            best = j;
    if (best) {
        list_remove(best);
        list_append(best);
    }
    return best;
}

/* ---- workers ---- */

static void *
worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    while (pool.nworkers <= pool.size) {
        fp_job *job = pick_job();
        size_t index;

        if (!job) {
            pthread_cond_wait(&pool.wake, &pool.mu);
            continue;
        }
        job->helpers_active++;
        update_restless();
        pthread_mutex_unlock(&pool.mu);

        /* One task at a time while the pool is restless, so a surplus
         * worker leaves soon and a job left without help gets some. */
        while (claim(job, &index)) {
            run_task(job, index);
            if (atomic_load_explicit(&pool.restless, memory_order_relaxed))
                break;
        }

        pthread_mutex_lock(&pool.mu);
        /* Signalled under the mutex: the submitter cannot see the count
         * reach 0, and free the job, before this thread lets go of it. */
        if (--job->helpers_active == 0)
            pthread_cond_signal(&job->helpers_gone);
        update_restless();
    }
    pool.nworkers--;
    update_restless();
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* Needs pool.mu. Returns FP_ETHREAD at the first pthread_create failure. */
static int
spawn_workers(void)
{
    sigset_t all, saved;
    pthread_attr_t attr;
    int rc = FP_OK;

    if (pool.nworkers >= pool.size)
        return FP_OK;
    /* A new thread inherits its creator's signal mask: blocking every
     * signal around pthread_create leaves no instant at which a worker
     * could take Ctrl-C meant for Python's main thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pthread_attr_init(&attr);
    /* Nobody joins a worker: one that leaves after a shrink touches only
     * the static pool state on its way out, so detaching it is enough to
     * free its stack. */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool.nworkers < pool.size) {
        pthread_t thread;

        if (pthread_create(&thread, &attr, worker_main, NULL) != 0) {
            rc = FP_ETHREAD;
            break;
        }
        pthread_setname_np(thread, "fastpar");
        pool.nworkers++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}

/* ---- the job API ---- */

static int
init_job_sync(fp_job *job)
{
    pthread_condattr_t attr;
    int rc;

    /* Deadlines are on the monotonic clock so that a wall-clock jump can
     * neither stretch nor cut a slice of fp_job_work. */
    if (pthread_condattr_init(&attr) != 0)
        return FP_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&job->helpers_gone, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return FP_ENOMEM;
    if (pthread_mutex_init(&job->err_lock, NULL) != 0) {
        pthread_cond_destroy(&job->helpers_gone);
        return FP_ENOMEM;
    }
    return FP_OK;
}

int
fp_job_init(fp_job *job, fp_task_fn fn, void *ctx, size_t ntasks, int *status)
{
    if (!job || !fn)
        return FP_EINVAL;
    job->fn = fn;
    job->ctx = ctx;
    job->ntasks = ntasks;
    job->status = status;
    for (size_t i = 0; status && i < ntasks; i++)
        status[i] = FP_ECANCELLED;
    atomic_init(&job->next, 0);
    atomic_init(&job->done, 0);
    atomic_init(&job->cancelled, 0);
    atomic_init(&job->err_index, ntasks);
    job->err_status = FP_OK;
    job->submitter_runs = 1;
    job->helpers_wanted = 0;
    job->helpers_active = 0;
    job->queued = 0;
    job->link = NULL;
    return init_job_sync(job);
}

/* Opens the job to `helpers` pool workers at most (after capping the
 * request to the pool size and the task count). */
static int
open_job(fp_job *job, int nthreads, int submitter_runs)
{
    int rc, n, helpers;

    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool.mu);
    n = nthreads <= 0 || nthreads > pool.size ? pool.size : nthreads;
    if ((size_t)n > job->ntasks)
        n = (int)job->ntasks;
    helpers = submitter_runs ? n - 1 : n;
    rc = helpers > 0 ? spawn_workers() : FP_OK;
    if (helpers > 0 && pool.nworkers > 0) {
        job->helpers_wanted = helpers;
        job->submitter_runs = submitter_runs;
        list_append(job);
        update_restless();
        if (helpers == 1)
            pthread_cond_signal(&pool.wake);
        else
            pthread_cond_broadcast(&pool.wake);
    }
    pthread_mutex_unlock(&pool.mu);
    return rc;
}

int
fp_job_submit(fp_job *job, int nthreads)
{
    if (nthreads == 1 || job->ntasks < 2)
        return FP_OK;
    return open_job(job, nthreads, 1);
}

int
fp_job_submit_waiting(fp_job *job, int nthreads)
{
    if (job->ntasks == 0)
        return FP_OK;
    /* Without any worker (FP_ETHREAD), submitter_runs stays 1 and the
     * submitter runs the tasks after all. */
    return open_job(job, nthreads, 0);
}

static struct timespec
deadline_after(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static int
reached(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Needs pool.mu. Some thread is, or will be, running a task of the job:
 * a worker on it, or, when the submitter does not run tasks, a task not
 * yet claimed that a worker will come for. */
static int
job_busy(const fp_job *job)
{
    return job->helpers_active > 0 ||
           (!job->submitter_runs && !atomic_load_explicit(&job->cancelled, memory_order_relaxed) &&
            atomic_load_explicit(&job->next, memory_order_relaxed) < job->ntasks);
}

int
fp_job_work(fp_job *job, long timeout_ms)
{
    int timed = timeout_ms >= 0, idle;
    struct timespec deadline;
    size_t index;

    if (timed)
        deadline = deadline_after(timeout_ms);
    /* The deadline is checked after each task, so every call makes
     * progress even with a timeout shorter than one task. */
    while (job->submitter_runs && claim(job, &index)) {
        run_task(job, index);
        if (timed && reached(&deadline))
            return 0;
    }
    if (job->helpers_wanted == 0)
        return 1;
    /* Once no task is left to claim, workers join only open jobs, so the
     * helper count can only fall; a waiting submitter is woken when it
     * reaches 0 and looks again. */
    pthread_mutex_lock(&pool.mu);
    while (job_busy(job)) {
        if (!timed)
            pthread_cond_wait(&job->helpers_gone, &pool.mu);
        else if (pthread_cond_timedwait(&job->helpers_gone, &pool.mu, &deadline) == ETIMEDOUT)
            break;
    }
    idle = !job_busy(job);
    pthread_mutex_unlock(&pool.mu);
    return idle;
}

int
fp_job_finish(fp_job *job)
{
    /* A caller that stopped calling fp_job_work early still gets every
     * task run, and this also waits out the workers. */
    fp_job_work(job, -1);
    if (job->helpers_wanted > 0) {
        pthread_mutex_lock(&pool.mu);
        if (job->queued)
            list_remove(job);
        update_restless();
        pthread_mutex_unlock(&pool.mu);
    }
    pthread_cond_destroy(&job->helpers_gone);
    pthread_mutex_destroy(&job->err_lock);
    if (atomic_load(&job->cancelled))
        return FP_ECANCELLED;
    if (atomic_load(&job->err_index) < job->ntasks)
        return job->err_status;
    return FP_OK;
}

void
fp_job_cancel(fp_job *job)
{
    atomic_store(&job->cancelled, 1);
    /* A submitter that only waits may be waiting for a worker that will
     * now never come for the unclaimed tasks: let it look again. */
    pthread_mutex_lock(&pool.mu);
    if (!job->submitter_runs)
        pthread_cond_broadcast(&job->helpers_gone);
    pthread_mutex_unlock(&pool.mu);
}

size_t
fp_job_done(const fp_job *job)
{
    return atomic_load_explicit(&job->done, memory_order_acquire);
}

int
fp_pool_run(fp_task_fn fn, void *ctx, size_t ntasks, int nthreads, int *status)
{
    fp_job job;
    int rc = fp_job_init(&job, fn, ctx, ntasks, status);

    if (rc != FP_OK)
        return rc;
    fp_job_submit(&job, nthreads); /* FP_ETHREAD: the caller runs it all */
    return fp_job_finish(&job);
}

/* ---- pool sizing ---- */

int
fp_pool_parse_num_threads(const char *s)
{
    char *end;
    long n;

    if (!s)
        return 0;
    errno = 0;
    n = strtol(s, &end, 10);
    if (end == s || errno != 0)
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '\0' || n < 1 || n > FP_POOL_MAX_THREADS)
        return 0;
    return (int)n;
}

static int
cpu_count(void)
{
    cpu_set_t set;
    long n;

    /* The affinity mask, not the machine, is what this process may use
     * (taskset, cgroup cpusets, batch schedulers). */
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    else
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > FP_POOL_MAX_THREADS ? FP_POOL_MAX_THREADS : (int)n;
}

int
fp_pool_get_num_threads(void)
{
    int n;

    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool.mu);
    n = pool.size;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

int
fp_pool_set_num_threads(int n)
{
    if (n < 1 || n > FP_POOL_MAX_THREADS)
        return FP_EINVAL;
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool.mu);
    pool.size = n;
    update_restless();
    /* Idle surplus workers are waiting for a job: wake them to leave. */
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    return FP_OK;
}

/* ---- fork ---- */

/* Holding the mutex across fork() means the child copies the pool state
 * between two changes, never halfway through one, and never inherits the
 * mutex held by a thread that does not exist there. */
static void
fork_prepare(void)
{
    pthread_mutex_lock(&pool.mu);
}

static void
fork_parent(void)
{
    pthread_mutex_unlock(&pool.mu);
}

/* Only the forking thread lives on in the child: no worker, and no other
 * submitter to ever finish its job. Drop every job from the list; one that
 * had workers on it lost the tasks they held, so it is cancelled rather
 * than reported complete. The next job that wants help starts new workers. */
static void
fork_child(void)
{
    fp_job *job = pool.head, *next;

    for (; job; job = next) {
        next = job->link;
        if (job->helpers_active > 0)
            atomic_store(&job->cancelled, 1);
        job->helpers_active = 0;
        job->queued = 0;
        job->link = NULL;
        /* Their state may count waiters that vanished with the parent's
         * threads. */
        init_job_sync(job);
    }
    pool.head = pool.tail = NULL;
    pool.nworkers = 0;
    atomic_store(&pool.restless, 0);
    /* This thread took the mutex in fork_prepare; a fresh one is free. */
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
}

/* Runs once, at the first call that needs the pool size. */
static void
pool_init(void)
{
    int n = fp_pool_parse_num_threads(getenv("FASTPAR_NUM_THREADS"));

    pool.size = n ? n : cpu_count();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}
