/*
 * pool.h - fastpar's native thread pool (pure C, pthreads, no Python.h).
 *
 * One persistent pool per process. A job is N independent tasks; threads
 * claim task indices from an atomic counter, so uneven tasks balance
 * themselves and there is no chunk size to tune. The thread that submits a
 * job works on it too (unless it asks only to wait, for jobs of long
 * tasks), so a job finishes even when every pool worker is busy
 * elsewhere: jobs submitted at once from many threads neither deadlock
 * nor queue behind one global lock.
 *
 * Usage:
 *     fp_job job;
 *     fp_job_init(&job, fn, ctx, ntasks, status);   // status may be NULL
 *     fp_job_submit(&job, nthreads);
 *     while (!fp_job_work(&job, 100))                // caller runs tasks too
 *         report(fp_job_done(&job));                 // progress, cancel, ...
 *     rc = fp_job_finish(&job);
 * or simply fp_pool_run(fn, ctx, ntasks, nthreads, status).
 *
 * Thread safety: every function may be called from any thread. A job
 * belongs to the thread that submitted it: only that thread calls
 * fp_job_work and fp_job_finish; any thread may call fp_job_done and
 * fp_job_cancel. Task functions run on pool threads, which block all
 * signals, so they must not call into Python.
 *
 * fork(): a child process never uses the parent's (absent) threads; the
 * pool is re-created lazily at the child's first job. In the child, a job
 * the forking thread had open with workers on it reports FP_ECANCELLED, as
 * the tasks those workers held are lost.
 */
#ifndef FP_POOL_H
#define FP_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "status.h"

/* A task: do item `index` of the job, return FP_OK or an error status. */
typedef int (*fp_task_fn)(void *ctx, size_t index);

/* Upper bound for the pool size, a guard against absurd requests. */
#define FP_POOL_MAX_THREADS 1024

typedef struct fp_job {
    /* Set by fp_job_init, read-only afterwards. */
    fp_task_fn fn;
    void *ctx;
    size_t ntasks;
    int *status; /* optional: one status per task, FP_ECANCELLED until run */

    /* Shared between the threads working on the job. */
    atomic_size_t next; /* next task index to claim */
    atomic_size_t done; /* tasks finished, successfully or not */
    atomic_int cancelled;
    atomic_size_t err_index;  /* lowest failing task index, ntasks if none */
    int err_status;           /* its status; written under err_lock */
    pthread_mutex_t err_lock; /* pairs err_index with err_status */

    /* Owned by the pool, guarded by its mutex. */
    int submitter_runs; /* 0 after fp_job_submit_waiting */
    int helpers_wanted; /* pool workers that may join (nthreads - 1) */
    int helpers_active; /* pool workers currently on this job */
    int queued;         /* in the pool's list of jobs open to helpers */
    struct fp_job *link;
    pthread_cond_t helpers_gone;
} fp_job;

/* Pool size: total threads that may work on one job, the submitter
 * included. The pool keeps that many workers, so that a job submitted
 * with fp_job_submit_waiting gets as many threads too. Default:
 * FASTPAR_NUM_THREADS if it holds an integer in [1, FP_POOL_MAX_THREADS],
 * else the number of online CPUs. */
int fp_pool_get_num_threads(void);
/* FP_OK, or FP_EINVAL for n outside [1, FP_POOL_MAX_THREADS]. Running jobs
 * finish normally; surplus workers leave after their current task; extra
 * workers start when a job next wants them. */
int fp_pool_set_num_threads(int n);

/* Internal, exposed for tests: the value of FASTPAR_NUM_THREADS as a pool
 * size (an integer in [1, FP_POOL_MAX_THREADS], blanks around it allowed),
 * or 0 if `s` is NULL or anything else. */
int fp_pool_parse_num_threads(const char *s);

/* Prepare a job of `ntasks` tasks. If `status` is not NULL it must hold
 * ntasks ints; each is set to FP_ECANCELLED now and to the task's result
 * when it runs. Returns FP_OK or FP_EINVAL (NULL fn). */
int fp_job_init(fp_job *job, fp_task_fn fn, void *ctx, size_t ntasks, int *status);

/* Open the job to up to nthreads - 1 pool workers (nthreads <= 0 means
 * the pool size, larger values are capped to it; 1 means the caller
 * alone). Starts the workers on first use. Returns FP_OK, or FP_ETHREAD if
 * a worker could not be started: information only, the job still runs, on
 * the caller and whatever workers exist. */
int fp_job_submit(fp_job *job, int nthreads);

/* Like fp_job_submit, but the submitter runs no task: up to nthreads pool
 * workers run them all while fp_job_work and fp_job_finish only wait. For
 * jobs of long tasks, so that the submitter stays free to look for a
 * signal between two waits and cancel. If no worker could be started
 * (FP_ETHREAD), the submitter runs the tasks after all. */
int fp_job_submit_waiting(fp_job *job, int nthreads);

/* The submitter works on the job: runs tasks until none is left to claim
 * or `timeout_ms` has passed (checked between tasks; < 0 means no limit),
 * then waits for the pool's workers up to the same deadline. Returns 1
 * when no task is running or will start, 0 on timeout. */
int fp_job_work(fp_job *job, long timeout_ms);

/* Run any task still unclaimed (if the caller stopped calling
 * fp_job_work early) and wait until no pool worker is on the job, then
 * return its result: FP_ECANCELLED if it was cancelled, else the status of
 * the lowest-index failing task, else FP_OK. After it returns the job
 * memory may be freed. Every initialised job must be finished once. */
int fp_job_finish(fp_job *job);

/* Stop handing out tasks; running tasks complete. Safe from any thread. */
void fp_job_cancel(fp_job *job);

/* Tasks finished so far (progress), safe from any thread. */
size_t fp_job_done(const fp_job *job);

/* init + submit + work + finish. */
int fp_pool_run(fp_task_fn fn, void *ctx, size_t ntasks, int nthreads, int *status);

#endif
