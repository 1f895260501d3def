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
 *     returns FP_ENONFINITE (the outputs are then unspecified);
 *   - periods must lie in [1, FP_MAX_PERIOD], else FP_EINVAL;
 *   - no allocation is shared: a kernel that needs scratch memory
 *     allocates its own (FP_ENOMEM on failure), so kernels may run on many
 *     threads at once over shared read-only inputs.
 * Inputs and outputs are contiguous and must not overlap.
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

/* Simple moving average. */
int fp_sma_f64(const double *x, size_t n, int period, double *out);

/* Exponential moving average, k = 2 / (period + 1), seeded with the simple
 * mean of the first `period` values (TA-Lib's default). */
int fp_ema_f64(const double *x, size_t n, int period, double *out);

/* Linearly weighted moving average, weights 1..period (newest heaviest). */
int fp_wma_f64(const double *x, size_t n, int period, double *out);

/* Wilder's RSI: gains and losses seeded with their simple mean over the
 * first `period` deltas, then smoothed by (prev * (period-1) + v) / period;
 * 0.0 when gain + loss is zero (TA-Lib's RSI). */
int fp_rsi_f64(const double *x, size_t n, int period, double *out);

/* Simple-mean RSI of the batch_orchestrator's CORE/rsi worker: at index i,
 * over the deltas of x[i-period..i], avg_gain and avg_loss are plain means
 * of the gains and losses; 100 if avg_loss == 0, else
 * 100 - 100 / (1 + avg_gain / avg_loss). A window with no loss is exactly
 * 100, however long the series before it. */
int fp_rsi_simple_f64(const double *x, size_t n, int period, double *out);

/* Population standard deviation over `period` values, times nbdev
 * (TA-Lib's STDDEV). */
int fp_stddev_f64(const double *x, size_t n, int period, double nbdev, double *out);

/* Bollinger bands on the SMA: middle = SMA, upper/lower = middle +/-
 * nbdev_up/nbdev_dn * population std (TA-Lib's BBANDS, matype SMA). */
int fp_bbands_f64(const double *x, size_t n, int period, double nbdev_up, double nbdev_dn,
                  double *upper, double *middle, double *lower);

/* The CORE/envelope band: middle = mean of the last `period` values,
 * upper/lower = middle +/- deviation * population std of the window.
 * A flat window has std exactly 0. */
int fp_envelope_f64(const double *x, size_t n, int period, double deviation,
                    double *upper, double *middle, double *lower);

/* MACD: ema(fast) - ema(slow), signal = ema(signal) of it, hist = macd -
 * signal, exactly as TA-Lib seeds them (the fast EMA seeded at the slow
 * EMA's first index). Requires fast < slow, else FP_EINVAL. */
int fp_macd_f64(const double *x, size_t n, int fast, int slow, int signal,
                double *macd, double *macd_signal, double *macd_hist);

/* Average true range, Wilder-smoothed, seeded with the mean of the first
 * `period` true ranges (TA-Lib's ATR). */
int fp_atr_f64(const double *high, const double *low, const double *close, size_t n,
               int period, double *out);

/* Slow stochastic with SMA smoothing (TA-Lib's STOCH, matypes 0):
 * fastk = 100 * (close - lowest low) / (highest high - lowest low) over
 * fastk_period (0 when the range is 0), slowk = SMA(fastk, slowk_period),
 * slowd = SMA(slowk, slowd_period). */
int fp_stoch_f64(const double *high, const double *low, const double *close, size_t n,
                 int fastk_period, int slowk_period, int slowd_period,
                 double *slowk, double *slowd);

#endif
