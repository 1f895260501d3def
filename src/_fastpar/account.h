/*
 * account.h - the account every backtest steps: vectorbt's all-in order
 * arithmetic (pure C, no Python.h), included by the loops that drive it
 * (strategies.c: the built-in strategies and signal arrays; program.c:
 * strategies written as programs).
 *
 * One account per backtest, stepped once per bar with that bar's entry and
 * exit signals (sim_bar), then turned into the seven metrics
 * (sim_finish). The arithmetic is kept operation for operation equal to
 * the reference's (python/fastpar/reference/strategies.py) so that the two
 * agree to the last bit. Every function is static: each loop gets its own
 * inlined copy of sim_bar, the hot one.
 */
#ifndef FP_ACCOUNT_H
#define FP_ACCOUNT_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "rolling_var.h" /* FP_NOINLINE */
#include "strategies.h"  /* fp_costs, FP_SWEEP_N_METRICS, FP_SWEEP_INIT_CASH */

/* ------------------------------------------------------------------ */
/* The account: vectorbt's order arithmetic                            */
/* ------------------------------------------------------------------ */

typedef struct {
    /* Read or written at every bar, first: one cache line. */
    double pos;  /* shares held (< 0: short), as orders are decided on */
    double base; /* close of the bar the position was entered, for stops */
    /* the cash and position the equity is valued with: vectorbt rebuilds
     * them from its orders, within about 1e-12 of the balances orders are
     * decided on */
    double book_cash, book_pos;
    /* metrics so far; growth: product of (1 + return), as vectorbt's
     * drawdown compounds returns */
    double value, growth, peak;
    size_t in_market;
    double max_dd, sum_r, sum_r2;
    /* the rest of vectorbt's execution state */
    double cash, free_cash, debt;
    /* the open trade as vectorbt's exit trades see it: direction (+1, -1,
     * 0 = none), size, size * price summed over its orders, fees */
    double t_dir, t_size, t_gross, t_fees;
    double win_sum, loss_sum;
    size_t n_trades, n_wins;
} sim;

static void sim_init(sim *s)
{
    memset(s, 0, sizeof *s);
    s->cash = s->free_cash = s->book_cash = s->value = FP_SWEEP_INIT_CASH;
    s->growth = 1.0;
    s->peak = -INFINITY;
}

/* The larger of two numbers that are not NaN (fmax, which handles NaN,
 * is a library call). */
static inline double max2(double a, double b)
{
    return a > b ? a : b;
}

/* a + b, snapped to 0 when it is 0 up to rounding (vectorbt's add_nb). A
 * NaN sum fails the test whatever the bound. */
static inline double add_snap(double a, double b)
{
    double c = a + b, m = max2(fabs(a), fabs(b));
    return fabs(c) <= max2(1e-9 * m, 1e-12) ? 0.0 : c;
}

/* a == b up to rounding (vectorbt's is_close_nb). */
static inline int is_close(double a, double b)
{
    if (a == b)
        return 1;
    return isfinite(a) && isfinite(b) && fabs(a - b) <= max2(1e-9 * max2(fabs(a), fabs(b)), 1e-12);
}

/* is_close(x, 0): within 1e-12 of 0 (the relative bound never exceeds the
 * absolute one here). */
static inline int near_zero(double x)
{
    return fabs(x) <= 1e-12;
}

/* a <= b up to rounding (vectorbt's is_close_or_less_nb). */
static inline int close_or_less(double a, double b)
{
    return a <= b || is_close(a, b);
}

/* vectorbt's default min_size: smaller orders are not placed. */
#define MIN_SIZE 1e-8

static inline int too_small(double size)
{
    return size < MIN_SIZE && !is_close(size, MIN_SIZE);
}

/* One bar's return as vectorbt defines it: sign kept for a negative
 * account, infinite from an empty one. */
static inline double bar_return(double before, double after)
{
    if (before == 0.0)
        return after == 0.0 ? 0.0 : copysign(INFINITY, after);
    double r = (after - before) / before;
    return before < 0.0 ? -r : r;
}

static void count_trade(sim *s, double pnl)
{
    s->n_trades++;
    if (pnl > 0.0) {
        s->n_wins++;
        s->win_sum += pnl;
    } else if (pnl < 0.0) {
        s->loss_sum += pnl;
    }
}

/* A trade's P&L as vectorbt's get_trade_stats_nb computes it: a change of
 * value that is 0 up to rounding (1e-9 relative, 1e-12 absolute) is 0. */
static double trade_pnl(double dir, double size, double entry_price, double entry_fees,
                        double exit_price, double exit_fees)
{
    double diff = add_snap(size * exit_price, -(size * entry_price));
    return dir * diff - entry_fees - exit_fees;
}

/* A filled order (dir +1 buy, -1 sell) in the trade records, as vectorbt's
 * exit trades (get_exit_trades_nb) build them: an order against the open
 * trade closes it or part of it, one beyond it closes it and opens the
 * opposite one. */
static void trade_order(sim *s, double dir, double size, double price, double fee)
{
    const double t_size = s->t_size;
    if (s->t_dir == 0.0) {
        s->t_dir = dir;
        s->t_size = size;
        s->t_gross = size * price;
        s->t_fees = fee;
    } else if (dir == s->t_dir) { /* only once a balance was snapped to 0 */
        s->t_size = t_size + size;
        s->t_gross = s->t_gross + size * price;
        s->t_fees = s->t_fees + fee;
    } else if (close_or_less(size, t_size)) {
        const int whole = is_close(size, t_size);
        double exit_size = whole ? t_size : size;
        double share = exit_size / t_size * s->t_fees;
        count_trade(s, trade_pnl(s->t_dir, exit_size, s->t_gross / t_size, share, price, fee));
        if (whole) {
            s->t_dir = 0.0;
        } else {
            double left = (t_size - size) / t_size;
            s->t_size = t_size * left;
            s->t_gross = s->t_gross * left;
            s->t_fees = s->t_fees * left;
        }
    } else {
        double closing_fee = t_size / size * fee;
        count_trade(s, trade_pnl(s->t_dir, t_size, s->t_gross / t_size, s->t_fees, price,
                                 closing_fee));
        double opened = size - t_size;
        s->t_dir = dir;
        s->t_size = opened;
        s->t_gross = opened * price;
        s->t_fees = fee - closing_fee;
    }
}

/* vectorbt's execute_order_nb: before an order is tried, balances within
 * 1e-12 of 0 become 0, and stay so even if the order is not placed. */
static inline void sim_settle(sim *s)
{
    if (near_zero(s->cash))
        s->cash = 0.0;
    if (near_zero(s->free_cash))
        s->free_cash = 0.0;
    if (near_zero(s->pos))
        s->pos = 0.0;
    if (near_zero(s->debt))
        s->debt = 0.0;
}

/* The order in the book: vectorbt's cash_flow_nb and assets_nb. */
static void book_order(sim *s, double dir, double size, double price, double fee)
{
    s->book_cash = add_snap(s->book_cash, add_snap(0.0, -dir * size * price - fee));
    s->book_pos = add_snap(s->book_pos, dir * size);
    trade_order(s, dir, size, price, fee);
}

/* Buy up to `want` shares (INFINITY: all the cash) at `price`. */
static FP_NOINLINE void sim_buy(sim *s, double price, double want, double fees)
{
    sim_settle(s);
    double cash = s->cash, pos = s->pos, size, fee, spent;
    if (isinf(want) && cash == 0.0)
        return;
    double req = want * price;
    if (isfinite(want) && close_or_less(req + req * fees, cash)) {
        size = want;
        fee = req * fees;
        spent = req + req * fees;
    } else {
        double spend = cash / (1.0 + fees);
        if (spend <= 0.0)
            return;
        size = spend / price;
        fee = cash - spend;
        spent = cash;
    }
    if (too_small(size))
        return;
    s->cash = add_snap(cash, -spent);
    s->pos = add_snap(pos, size);
    if (pos < 0.0) {
        double covered = s->pos < 0.0 ? size : -pos;
        double debt_diff = covered * (s->debt / -pos);
        s->debt = add_snap(s->debt, -debt_diff);
        s->free_cash = add_snap(s->free_cash + 2.0 * debt_diff, -spent);
    } else {
        s->free_cash = add_snap(s->free_cash, -spent);
    }
    book_order(s, 1.0, size, price, fee);
}

/* Sell `size` shares at `price` (closing a long, opening or adding to a
 * short). */
static FP_NOINLINE void sim_sell(sim *s, double price, double size, double fees)
{
    sim_settle(s);
    double pos = s->pos;
    if (near_zero(size) || too_small(size))
        return;
    double acq = size * price;
    double fee = acq * fees;
    double got = add_snap(acq, -fee);
    if (got < 0.0)
        return;
    s->cash = s->cash + got;
    s->pos = add_snap(pos, -size);
    if (s->pos < 0.0) {
        double shorted = pos < 0.0 ? size : -s->pos;
        double short_value = shorted * price;
        s->debt = s->debt + short_value;
        s->free_cash = add_snap(s->free_cash, add_snap(got, -2.0 * short_value));
    } else {
        s->free_cash = s->free_cash + got;
    }
    book_order(s, -1.0, size, price, fee);
}

/* Close any long, then short all that the free cash allows. */
static FP_NOINLINE void sim_short_all(sim *s, double price, double fees)
{
    sim_settle(s);
    double pos = s->pos, size;
    double long_size = fmax(pos, 0.0);
    double total_free = add_snap(s->free_cash, long_size * price * (1.0 - fees));
    if (total_free <= 0.0) {
        if (pos <= 0.0)
            return;
        size = long_size;
    } else {
        size = add_snap(long_size, total_free / (price * (1.0 + fees)));
        if (size <= 0.0)
            return;
    }
    sim_sell(s, price, size, fees);
}

/* True when a bar without signals changes nothing: flat, nothing left in
 * the book, the value already counted. sim_bar would then only find its
 * value unchanged, so a loop may skip it. */
static inline int sim_idle(const sim *s)
{
    return s->pos == 0.0 && s->book_pos == 0.0 && s->book_cash == s->value &&
           s->peak != -INFINITY;
}

/* One bar: stops, then the bar's signals, then the metrics. */
static inline void sim_bar(sim *s, double c, int entry, int exit, const fp_costs *k)
{
    const double half = k->spread / 2.0;
    double pos = s->pos;
    int stopped = 0;
    if (pos != 0.0) {
        if (pos > 0.0) {
            stopped = c <= s->base * (1.0 - k->stop_loss) || c >= s->base * (1.0 + k->take_profit);
            if (stopped)
                sim_sell(s, c - half, pos, k->fees);
        } else {
            stopped = c >= s->base * (1.0 + k->stop_loss) || c <= s->base * (1.0 - k->take_profit);
            if (stopped)
                sim_buy(s, c + half, -pos, k->fees);
        }
    }
    if (!stopped && entry != exit) {
        if (entry && pos <= 0.0)
            sim_buy(s, c * (1.0 + k->slippage) + half, INFINITY, k->fees);
        else if (exit && pos > 0.0 && !k->longshort)
            sim_sell(s, c * (1.0 - k->slippage) - half, pos, k->fees);
        else if (exit && pos >= 0.0 && k->longshort)
            sim_short_all(s, c * (1.0 - k->slippage) - half, k->fees);
        /* opened or reversed (a short partly covered keeps its stops) */
        if (s->pos != pos && s->pos != 0.0 && (pos == 0.0 || (s->pos > 0.0) != (pos > 0.0)))
            s->base = c;
    }
    double v = s->book_cash + s->book_pos * c;
    s->in_market += s->pos != 0.0;
    /* An unchanged value (flat, no order) is a return of 0, which leaves
     * the sums, the growth and the drawdown as they are - once the first
     * bar has set the peak. */
    if (v == s->value && s->peak != -INFINITY)
        return;
    double r = bar_return(s->value, v);
    s->value = v;
    s->sum_r += r;
    s->sum_r2 += r * r;
    s->growth *= 1.0 + r;
    if (s->growth > s->peak)
        s->peak = s->growth;
    /* The division only where the drawdown may be a new low: with a
     * finite peak > 0, growth above peak * (1 + max_dd) by a margin of
     * 1e-9 of the peak (far beyond any rounding) gives a drawdown above
     * max_dd, which changes nothing. On most bars this saves the
     * division. */
    const double g = s->growth, pk = s->peak;
    if (pk > 0.0 && pk < INFINITY && g < INFINITY && g > pk * (1.0 + s->max_dd) + pk * 1e-9)
        return;
    double dd = g / pk - 1.0;
    /* A return from an account of exactly 0 is infinite and the drawdown
     * inf / inf undefined from there on: vectorbt's max drawdown is then
     * NaN, and stays so. */
    if (dd < s->max_dd || isnan(dd))
        s->max_dd = dd;
}

/* The metrics of an account after its n bars, `last` the last close. */
static void sim_finish(sim *s, size_t n, double last, const fp_costs *k, double *out)
{
    /* a trade still open: marked at the last close, without exit fee */
    if (s->t_dir != 0.0 && s->t_size > 1e-12)
        count_trade(s, trade_pnl(s->t_dir, s->t_size, s->t_gross / s->t_size,
                                 s->t_size / s->t_size * s->t_fees, last, 0.0));
    double sharpe = NAN;
    if (n > 1) {
        double mean = s->sum_r / (double)n;
        double var = (s->sum_r2 - s->sum_r * mean) / (double)(n - 1);
        if (var > 0.0)
            sharpe = mean / sqrt(var) * sqrt(k->periods_per_year);
    }
    double pf = NAN;
    if (s->loss_sum < 0.0)
        pf = s->win_sum / -s->loss_sum;
    else if (s->win_sum > 0.0)
        pf = INFINITY;
    out[0] = s->value / FP_SWEEP_INIT_CASH - 1.0;
    out[1] = sharpe;
    out[2] = s->max_dd;
    out[3] = (double)s->n_trades;
    out[4] = s->n_trades > 0 ? (double)s->n_wins / (double)s->n_trades : NAN;
    out[5] = s->n_trades > 0 ? pf : NAN;
    out[6] = n > 0 ? (double)s->in_market / (double)n : NAN;
}

#endif
