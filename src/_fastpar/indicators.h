/*
 * indicators.h - technical indicators over float64 series (pure C).
 *
 * Conventions (those of TA-Lib, the field's reference):
 *   - every output is as long as the input, `n`, and is written in full;
 *   - leading NaNs are skipped: with `begin` the index of the first element
 *     that is not NaN (for several inputs, the largest such index), the
 *     indicator is computed on x[begin..n) and out[0 .. begin+lookback) is
 *     NaN; an all-NaN input, or one shorter than begin+lookback+1, gives
 *     all NaN;
 *   - after `begin`, every input must be finite: a NaN or +/-inf there
 *     returns FP_ENONFINITE (the outputs are then unspecified), also when
 *     the input is too short to give any value; finite inputs so large
 *     that the arithmetic overflows are no error (the outputs then hold
 *     what the arithmetic gives, as TA-Lib's would);
 *   - periods must lie in [1, FP_MAX_PERIOD], else FP_EINVAL; a NaN or
 *     infinite multiplier (nbdev, deviation) is FP_EINVAL too; n == 0 is
 *     valid and writes nothing;
 *   - no allocation is shared: a kernel that needs scratch memory
 *     (rsi_simple, envelope, stoch) allocates its own (FP_ENOMEM on
 *     failure), so kernels may run on many threads at once over shared
 *     read-only inputs.
 * Inputs and outputs are contiguous and must not overlap.
 *
 * Agreement with TA-Lib (the ta-lib Python package, C library 0.8): SMA,
 * WMA, STDDEV, BBANDS and STOCH return TA-Lib's very doubles (BBANDS's
 * bands within an ulp where TA-Lib fuses their multiply-add); EMA and
 * MACD too, but for rare one-ulp ties; RSI and ATR agree to rounding
 * (about 1e-13). Where TA-Lib rejects a period (RSI, STDDEV, BBANDS, MACD
 * below 2) the kernels still accept it, with the meaning given below.
 *
 * Lookbacks (the number of leading NaNs for an input without NaNs):
 *   sma, ema, wma, stddev, bbands, envelope: period - 1
 *   rsi, rsi_simple, atr: period
 *   macd: slow - 1 + signal - 1 (all three outputs)
 *   stoch: fastk - 1 + slowk - 1 + slowd - 1 (both outputs)
 */
#ifndef FP_INDICATORS_H
#define FP_INDICATORS_H

#include <stddef.h>

#include "status.h"

/* Simple moving average (TA-Lib's running total). Period 1: the input. */
int fp_sma_f64(const double *x, size_t n, int period, double *out);

/* Exponential moving average, k = 2 / (period + 1), seeded with the simple
 * mean of the first `period` values (TA-Lib's default), then
 * y += k * (x - y). Period 1 (k = 1): the input, to within that step's
 * rounding, as TA-Lib. */
int fp_ema_f64(const double *x, size_t n, int period, double *out);

/* Linearly weighted moving average, weights 1..period (newest heaviest).
 * Period 1: the input. */
int fp_wma_f64(const double *x, size_t n, int period, double *out);

/* Wilder's RSI: gains and losses seeded with their simple mean over the
 * first `period` deltas, then smoothed by (prev * (period-1) + v) / period;
 * 100 * gain / (gain + loss), and 0.0 when gain + loss is zero (TA-Lib's
 * RSI). Period 1 (no smoothing): 100 after a rise, 0 after a fall or no
 * change. */
int fp_rsi_f64(const double *x, size_t n, int period, double *out);

/* Simple-mean RSI of the batch_orchestrator's CORE/rsi worker: at index i,
 * over the deltas of x[i-period..i], avg_gain and avg_loss are plain means
 * of the gains and losses; 100 if avg_loss == 0, else
 * 100 - 100 / (1 + avg_gain / avg_loss). A window with no loss (a flat one
 * included) is exactly 100 and one with losses only exactly 0, however
 * long the series before it. Period 1: 100 after a rise or no change, 0
 * after a fall. */
int fp_rsi_simple_f64(const double *x, size_t n, int period, double *out);

/* Population standard deviation over `period` values, times nbdev (any
 * finite value, as TA-Lib): TA-Lib's STDDEV, whose variance rebuilds its
 * sums when they would cancel, so that flat windows give exactly 0.
 * Period 1: 0. */
int fp_stddev_f64(const double *x, size_t n, int period, double nbdev, double *out);

/* Bollinger bands on the SMA: middle = SMA, upper/lower = middle +/-
 * nbdev_up/nbdev_dn * population std (TA-Lib's BBANDS, matype SMA; the
 * multipliers any finite values). Period 1: all three bands are the
 * input. */
int fp_bbands_f64(const double *x, size_t n, int period, double nbdev_up, double nbdev_dn,
                  double *upper, double *middle, double *lower);

/* The CORE/envelope band: middle = mean of the last `period` values,
 * upper/lower = middle +/- deviation * population std of the window (each
 * window as accurate as numpy's np.mean and np.std of it; deviation any
 * finite value). A flat window has middle exactly its value and std
 * exactly 0. Period 1: all three bands are the input. */
int fp_envelope_f64(const double *x, size_t n, int period, double deviation,
                    double *upper, double *middle, double *lower);

/* MACD: ema(fast) - ema(slow), signal = ema(signal) of it, hist = macd -
 * signal, exactly as TA-Lib seeds them (the fast EMA seeded at the slow
 * EMA's first index with the mean of the `fast` values ending there; the
 * signal EMA with the mean of the first `signal` MACD values). Requires
 * fast < slow, else FP_EINVAL (TA-Lib would swap them). fast = 1 makes the
 * fast line the input; signal = 1 makes the signal the MACD itself. */
int fp_macd_f64(const double *x, size_t n, int fast, int slow, int signal,
                double *macd, double *macd_signal, double *macd_hist);

/* Average true range, Wilder-smoothed, seeded with the mean of the first
 * `period` true ranges (TA-Lib's ATR; the first true range needs a
 * previous close). Period 1: the true range itself, from index 1. */
int fp_atr_f64(const double *high, const double *low, const double *close, size_t n,
               int period, double *out);

/* Slow stochastic with SMA smoothing (TA-Lib's STOCH, matypes 0):
 * fastk = ((close - lowest low) / (highest high - lowest low)) * 100 over
 * fastk_period (0 when the range is within 1e-14 * (|highest| + |lowest|)
 * of zero, as TA-Lib 0.8), slowk = SMA(fastk, slowk_period),
 * slowd = SMA(slowk, slowd_period). A period of 1 leaves that stage
 * unsmoothed (fastk_period 1: the bar's own range). */
int fp_stoch_f64(const double *high, const double *low, const double *close, size_t n,
                 int fastk_period, int slowk_period, int slowd_period,
                 double *slowk, double *slowd);

#endif
