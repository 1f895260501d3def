/*
 * ma.c - a whole series through one of TA-Lib's moving averages (ma.h),
 * for the batch kernels that smooth whole arrays (MA, BBANDS, APO, PPO).
 */
#include "ma.h"

#include <stdlib.h>

#include "indicators.h"

int fp_ma_series(int type, size_t p, double vfactor, const double *x, size_t n, double *out)
{
    if (p == 1 || type == FP_MA_NONE) {
        memcpy(out, x, n * sizeof(double));
        return FP_OK;
    }
    /* The fast kernels perform the very operations of ma_sma_push, ma_ema_push
     * and ma_wma_push (indicators.c), in the same order. */
    switch (type) {
    case FP_MA_SMA:
        return fp_sma_f64(x, n, (int)p, out);
    case FP_MA_EMA:
        return fp_ema_f64(x, n, (int)p, out);
    case FP_MA_WMA:
        return fp_wma_f64(x, n, (int)p, out);
    default:
        break;
    }
    double *buf = NULL;
    size_t nbuf = fp_ma_buffer(type, p);
    if (nbuf > 0 && (buf = malloc(nbuf * sizeof(double))) == NULL)
        return FP_ENOMEM;
    fp_ma m;
    fp_ma_init_v(&m, type, p, buf, vfactor);
    for (size_t i = 0; i < n; i++)
        out[i] = fp_ma_push(&m, x[i]);
    free(buf);
    return FP_OK;
}
