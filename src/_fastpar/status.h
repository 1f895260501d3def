/*
 * status.h - the status codes every pure C function of fastpar returns.
 *
 * Pure C code never prints, exits or aborts on bad input: it returns one of
 * these, and the glue layer (module.c) maps it to a Python exception.
 */
#ifndef FP_STATUS_H
#define FP_STATUS_H

enum fp_status {
    FP_OK = 0,
    FP_EINVAL = 1,      /* an argument is out of range (period, length, ...) */
    FP_ENOMEM = 2,      /* an allocation failed */
    FP_ENONFINITE = 3,  /* NaN or +/-inf after the leading NaNs of an input */
    FP_ECANCELLED = 4,  /* the job was cancelled before this task ran */
    FP_ETHREAD = 5      /* a thread could not be created */
};

/* Longest period any kernel accepts; longer is a caller's mistake. */
#define FP_MAX_PERIOD 100000

#endif
