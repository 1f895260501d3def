"""Slow, readable reference of fastpar's parameter-sweep strategies.

``fastpar.sweep`` (C, ``src/_fastpar/strategies.c``) is tested against the
functions here; they are the definition, written for clarity, not speed.

A strategy turns bars into two boolean series, ``entries`` and ``exits``
(one function per strategy below). :func:`simulate` turns them into an
equity curve and :func:`metrics`-style numbers.

Fill model (the same as vectorbt's ``Portfolio.from_signals(close, entries,
exits, fees=, slippage=)`` with ``init_cash=100``, ``size=inf``, no stops
unless given, and the default ``upon_*`` modes):

- Orders are decided and filled at the close of the bar whose signal fires.
  A bar with both an entry and an exit does nothing.
- Buy price ``close * (1 + slippage) + spread / 2``, sell price
  ``close * (1 - slippage) - spread / 2``; a fee of ``fees`` times the
  traded value is paid on every fill.
- All-in, fractional sizes: a buy spends all the cash, ``size = cash /
  (price * (1 + fees))``; a long exit sells the whole position.
- ``direction="long"``: flat + entry -> long; long + exit -> flat.
  ``direction="longshort"``: entries mean long, exits mean short. Flat +
  entry -> long, flat + exit -> short, long + exit -> reverse to short,
  short + entry -> reverse to long (one order each). Short sizing follows
  vectorbt: the order sells the long position plus ``free_cash / (price *
  (1 + fees))`` short, where ``free_cash`` is the cash not backing a short
  position (``cash - 2 * debt``, ``debt`` the short's entry value); a buy
  spends all the cash (short proceeds included).
- Stops (``stop_loss`` / ``take_profit``, fractions of the close of the
  entry bar): checked at each close after the entry bar; a long is closed
  when ``close <= entry_close * (1 - stop_loss)`` or ``close >=
  entry_close * (1 + take_profit)`` (a short: mirrored). A stop fills at
  the close without slippage (the spread still applies) and the bar's own
  signals are then ignored; the position is flat afterwards. The levels
  are set when a position is opened or reversed; a short only partly
  covered (the cash did not cover it all) keeps them.
- Equity ``value = cash + position * close`` after the bar's order.
- vectorbt's rounding guards are kept: sums that are 0 up to 1e-9
  (relative) or 1e-12 (absolute) are snapped to 0, balances within 1e-12
  of 0 are 0 when an order is tried (and stay so), and an order for fewer
  than ``MIN_SIZE`` (1e-8) shares is not placed (its default ``min_size``).
  These matter only for a nearly ruined account or prices in the hundreds
  of millions. The equity is valued as vectorbt values it, with the cash
  and position rebuilt from the orders (a cash flow within 1e-12 of 0
  counts as 0), which may differ from the balances orders are decided on
  by about 1e-12.

Metrics (per parameter set):

- ``total_return``: last value / initial cash - 1.
- ``sharpe``: mean / std (ddof=1) of the per-bar returns ``value[t] /
  value[t-1] - 1`` (``value[-1]`` = initial cash), times
  ``sqrt(periods_per_year)``; NaN when there are fewer than two bars or the
  std is 0. (As vectorbt: a return from a negative value has its sign
  flipped, one from 0 is 0 or +-inf.)
- ``max_drawdown``: min over t of ``growth[t] / max(growth[:t+1]) - 1``,
  ``growth`` the running product of ``1 + return``: the same as ``value[t]
  / max(value[:t+1]) - 1`` while the account is positive. 0 or negative,
  vectorbt's sign.
- ``n_trades``: trades (below), including one still open at the end.
- ``win_rate``: trades with P&L > 0 / n_trades (NaN if no trade). Trades
  are vectorbt's exit trades, built from the orders: a reversal closes one
  and opens another, a partial cover closes part of one. A trade's P&L is
  ``direction * (size * exit_price - size * entry_price) - fees``, where a
  value change that is 0 up to 1e-9 (relative) or 1e-12 (absolute) is 0:
  such a trade is neither won nor lost. A trade still open at the end is
  marked at the last close without exit fee.
- ``profit_factor``: sum of winning P&L / -sum of losing P&L (inf with no
  loss, NaN with neither).
- ``exposure``: fraction of bars ending with a position.
"""

import math

import numpy as np

from ..sweep import METRICS  # the result columns, in the kernel's order

__all__ = [
    "STRATEGIES",
    "INIT_CASH",
    "signals",
    "simulate",
    "run",
    "backtest",
    "rsi_threshold",
    "ma_cross",
    "bbands_reversion",
    "envelope",
    "bigbar",
]

INIT_CASH = 100.0
MIN_SIZE = 1e-8  # shares; vectorbt's default min_size

# ---------------------------------------------------------------------------
# Indicators, TA-Lib's definitions, step by step (NaN until defined).


def _sma(x, p):
    out = np.full(len(x), np.nan)
    total = 0.0
    for i in range(len(x)):
        total += x[i]
        if i >= p - 1:
            out[i] = total / p
            total -= x[i + 1 - p]
    return out


def _ema(x, p):
    out = np.full(len(x), np.nan)
    if len(x) < p:
        return out
    k = 2.0 / (p + 1)
    y = 0.0
    for i in range(p):
        y += x[i]
    y /= p
    out[p - 1] = y
    for i in range(p, len(x)):
        y = (x[i] - y) * k + y
        out[i] = y
    return out


def _rsi(x, p):
    """Wilder's RSI: 100 * avg gain / (avg gain + avg loss), 0 if both are 0."""
    out = np.full(len(x), np.nan)
    if len(x) <= p:
        return out
    g = loss = 0.0
    for i in range(1, p + 1):
        d = x[i] - x[i - 1]
        up = d if d > 0.0 else 0.0
        g += up
        loss += up - d
    g /= p
    loss /= p
    for i in range(p, len(x)):
        if i > p:
            d = x[i] - x[i - 1]
            up = d if d > 0.0 else 0.0
            g = (g * (p - 1) + up) / p
            loss = (loss * (p - 1) + (up - d)) / p
        s = g + loss
        out[i] = g / s * 100.0 if s > 0.0 else 0.0
    return out


def _rolling_variance(x, p):
    """TA-Lib's rolling population variance (that of ``BBANDS`` and
    ``STDDEV``, and of ``fastpar.bbands``), the same doubles; NaN until the
    first full window.

    It keeps sums of ``x - shift`` and ``(x - shift)**2``, ``shift`` starting
    at the first value, and sums the window afresh around its own mean
    (clamping a variance below 1e-12 of the mean square to 0) whenever the
    variance has lost most of its digits to cancellation, whenever the value
    leaving the window dwarfs the rest, and at least every ``32 * p``
    windows. So a flat stretch has a variance of exactly 0, where
    ``mean(x**2) - mean(x)**2`` from running sums leaves rounding noise that
    moves the bands.
    """
    out = np.full(len(x), np.nan)
    if len(x) < p:
        return out
    invp = 1.0 / p
    shift = x[0]
    s1 = s2 = 0.0
    for i in range(p - 1):
        d = x[i] - shift
        s1 += d
        s2 += d * d
    countdown = 32 * p
    for i in range(p - 1, len(x)):
        first = i + 1 - p
        d = x[i] - shift
        s1 += d
        s2 += d * d
        m1 = invp * s1
        var = invp * s2 - m1 * m1
        t = x[first] - shift
        s2 -= t * t
        rebuild = invp * s2 * 1e-6 > var or t * t > s2 * 1e6
        if not rebuild:
            countdown -= 1
            rebuild = countdown == 0
        if rebuild:
            window = x[first : i + 1]
            total = 0.0
            for v in window:
                total += v
            shift = total * invp
            s1 = s2 = 0.0
            for v in window:
                e = v - shift
                s1 += e
                s2 += e * e
            m1, m2 = invp * s1, invp * s2
            var = m2 - m1 * m1
            if var < m2 * 1e-12:
                var = 0.0
            t = x[first] - shift
            s1 -= t
            s2 -= t * t
            countdown = 32 * p
        else:
            s1 -= t
        out[i] = var
    return out


def _bbands(x, p, nbdev):
    """Middle (SMA) and lower band: TA-Lib's ``BBANDS(x, p, nbdev, nbdev,
    matype=0)``, the same doubles as ``fastpar.bbands``."""
    mid = _sma(x, p)
    with np.errstate(invalid="ignore"):  # NaN warm-up
        sd = np.sqrt(_rolling_variance(x, p))
    return mid, mid - nbdev * sd


def _atr(h, low, c, p):
    """Wilder's average true range; first value at index p."""
    out = np.full(len(c), np.nan)
    if len(c) <= p:
        return out
    tr = [0.0] * len(c)
    for i in range(1, len(c)):
        tr[i] = max(h[i] - low[i], abs(c[i - 1] - h[i]), abs(c[i - 1] - low[i]))
    a = 0.0
    for i in range(1, p + 1):
        a += tr[i]
    a /= p
    out[p] = a
    for i in range(p + 1, len(c)):
        a = (a * (p - 1) + tr[i]) / p
        out[i] = a
    return out


# ---------------------------------------------------------------------------
# Strategies: bars -> (entries, exits). NaN indicators give no signal.


def rsi_threshold(bars, period, low, high):
    """Entry when RSI(period) < low, exit when RSI(period) > high."""
    r = _rsi(bars["close"], int(period))
    return r < low, r > high


def ma_cross(bars, fast, slow, kind):
    """Entry while MA(fast) > MA(slow), exit while MA(fast) < MA(slow).

    State-based, not cross-based: with the all-in, no-pyramiding fill model
    the position follows the sign of fast - slow (long-only: flat below).
    ``kind``: "sma" or "ema" (TA-Lib's, seeded with the SMA of the first
    ``period`` closes)."""
    ma = {"sma": _sma, "ema": _ema}[kind]
    f, s = ma(bars["close"], int(fast)), ma(bars["close"], int(slow))
    return f > s, f < s


def bbands_reversion(bars, period, nbdev):
    """Entry when close < SMA - nbdev * std, exit when close > SMA."""
    c = bars["close"]
    mid, low = _bbands(c, int(period), nbdev)
    return c < low, c > mid


def envelope(bars, period, deviation):
    """Entry when close < SMA * (1 - deviation), exit when close > SMA * (1 + deviation)."""
    c = bars["close"]
    m = _sma(c, int(period))
    return c < m * (1.0 - deviation), c > m * (1.0 + deviation)


def bigbar(bars, atr_period, k_atr, tail_ratio, breakout, rsi_period, rsi_max):
    """A big bar breaking out upwards; exit when the close breaks down.

    Entry at bar t when all hold:
      high[t] - low[t] > k_atr * ATR(atr_period)[t-1]  (the ATR before the bar)
      close[t] >= low[t] + tail_ratio * (high[t] - low[t])
      close[t] > max(high[t-breakout : t])
      RSI(rsi_period)[t] <= rsi_max
    Exit at bar t when close[t] < min(low[t-breakout : t]).
    """
    h, lo, c = bars["high"], bars["low"], bars["close"]
    n, b = len(c), int(breakout)
    a = _atr(h, lo, c, int(atr_period))
    r = _rsi(c, int(rsi_period))
    entries = np.zeros(n, bool)
    exits = np.zeros(n, bool)
    for t in range(max(b, 1), n):
        rng = h[t] - lo[t]
        entries[t] = (
            rng > k_atr * a[t - 1]
            and c[t] >= lo[t] + tail_ratio * rng
            and c[t] > max(h[t - b : t])
            and r[t] <= rsi_max
        )
        exits[t] = c[t] < min(lo[t - b : t])
    return entries, exits


STRATEGIES = {
    "rsi_threshold": (rsi_threshold, ("period", "low", "high")),
    "ma_cross": (ma_cross, ("fast", "slow", "kind")),
    "bbands_reversion": (bbands_reversion, ("period", "nbdev")),
    "envelope": (envelope, ("period", "deviation")),
    "bigbar": (
        bigbar,
        ("atr_period", "k_atr", "tail_ratio", "breakout", "rsi_period", "rsi_max"),
    ),
}


def signals(strategy, bars, params):
    """(entries, exits) of `strategy` with the parameter tuple `params`."""
    fn, _ = STRATEGIES[strategy]
    bars = {k: np.asarray(v, dtype=np.float64) for k, v in bars.items()}
    return fn(bars, *params)


# ---------------------------------------------------------------------------
# The simulator.


def _add(a, b):
    """a + b, snapped to 0 when it is 0 up to rounding (as vectorbt's add_nb)."""
    c = a + b
    if abs(c) <= max(1e-9 * max(abs(a), abs(b)), 1e-12):
        return 0.0
    return c


def _is_close(a, b):
    """a == b up to rounding (vectorbt's is_close_nb)."""
    if a == b:
        return True
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= max(1e-9 * max(abs(a), abs(b)), 1e-12)


def _close_or_less(a, b):
    """a <= b up to rounding (vectorbt's is_close_or_less_nb)."""
    return a <= b or _is_close(a, b)


def _too_small(size):
    """An order below vectorbt's default min_size is rejected."""
    return size < MIN_SIZE and not _is_close(size, MIN_SIZE)


def simulate(
    close,
    entries,
    exits,
    fees=0.0,
    slippage=0.0,
    spread=0.0,
    stop_loss=None,
    take_profit=None,
    direction="long",
    periods_per_year=252.0,
    decide=None,
):
    """Metrics dict of trading `entries` / `exits` on `close` (module docstring).

    decide: instead of entries and exits, an object whose
    ``signals(t, pos, base)`` gives each bar's (entry, exit) from the
    position and its entry close before the bar, and whose
    ``filled(t, before, after)`` hears the position after the bar's orders
    (a strategy reading the trade's state: fastpar.reference.program)."""
    close = np.asarray(close, dtype=np.float64)
    longshort = direction == "longshort"
    half = spread / 2.0
    st = {"cash": INIT_CASH, "free": INIT_CASH, "pos": 0.0, "debt": 0.0}
    # The cash and position the equity is valued with: vectorbt rebuilds
    # them from its order records (cash_flow_nb, assets_nb), where a cash
    # flow within 1e-12 of 0 is 0 and the balances above are not snapped,
    # so they may differ from `st` by about 1e-12.
    book = {"cash": INIT_CASH, "pos": 0.0}
    trade = []  # the open trade: [dir, size, gross (size * price), fees]
    pnls = []

    def pnl(d, size, entry_price, entry_fees, exit_price, exit_fees):
        # vectorbt's get_trade_stats_nb: a value change that is 0 up to
        # rounding (1e-9 relative, 1e-12 absolute) is 0.
        diff = _add(size * exit_price, -(size * entry_price))
        return d * diff - entry_fees - exit_fees

    def record(d, size, price, fee):
        # vectorbt's exit trades (get_exit_trades_nb), built order by order:
        # an order against the open trade closes it (or part of it), one
        # beyond it closes it and opens the opposite one.
        if not trade:
            trade.append([d, size, size * price, fee])
            return
        td, tsize, tgross, tfees = trade[0]
        if d == td:  # adds to the trade (only once a balance was snapped to 0)
            trade[0] = [td, tsize + size, tgross + size * price, tfees + fee]
        elif _close_or_less(size, tsize):
            exit_size = tsize if _is_close(size, tsize) else size
            share = exit_size / tsize * tfees
            pnls.append(pnl(td, exit_size, tgross / tsize, share, price, fee))
            if _is_close(size, tsize):
                trade.clear()
            else:
                left = (tsize - size) / tsize
                trade[0] = [td, tsize * left, tgross * left, tfees * left]
        else:
            closing_fee = tsize / size * fee
            pnls.append(pnl(td, tsize, tgross / tsize, tfees, price, closing_fee))
            opened = size - tsize
            trade[0] = [d, opened, opened * price, fee - closing_fee]

    def settle():
        # vectorbt's execute_order_nb: balances that are 0 up to 1e-12 are 0
        # before any order is tried, and stay so even if it is not placed.
        for k in st:
            if _is_close(st[k], 0.0):
                st[k] = 0.0

    def buy(price, want):
        # vectorbt's buy_nb, cash limit = all the cash: up to `want` shares.
        settle()
        cash, pos = st["cash"], st["pos"]
        if want == math.inf and cash == 0.0:
            return
        req = want * price
        if want != math.inf and _close_or_less(req + req * fees, cash):
            size, fee, spent = want, req * fees, req + req * fees
        else:
            spend = cash / (1.0 + fees)
            if spend <= 0.0:
                return
            size, fee, spent = spend / price, cash - spend, cash
        if _too_small(size):
            return
        st["cash"] = _add(cash, -spent)
        st["pos"] = _add(pos, size)
        if pos < 0.0:
            covered = size if st["pos"] < 0.0 else -pos
            debt_diff = covered * (st["debt"] / -pos)
            st["debt"] = _add(st["debt"], -debt_diff)
            st["free"] = _add(st["free"] + 2.0 * debt_diff, -spent)
        else:
            st["free"] = _add(st["free"], -spent)
        book["cash"] = _add(book["cash"], _add(0.0, -size * price - fee))
        book["pos"] = _add(book["pos"], size)
        record(1.0, size, price, fee)

    def sell(price, size):
        # vectorbt's sell_nb for `size` shares.
        settle()
        pos = st["pos"]
        if _is_close(size, 0.0) or _too_small(size):
            return
        acq = size * price
        fee = acq * fees
        got = _add(acq, -fee)
        if got < 0.0:
            return
        st["cash"] = st["cash"] + got
        st["pos"] = _add(pos, -size)
        if st["pos"] < 0.0:
            short = size if pos < 0.0 else -st["pos"]
            st["debt"] = st["debt"] + short * price
            st["free"] = _add(st["free"], _add(got, -2.0 * (short * price)))
        else:
            st["free"] = st["free"] + got
        book["cash"] = _add(book["cash"], _add(0.0, size * price - fee))
        book["pos"] = _add(book["pos"], -size)
        record(-1.0, size, price, fee)

    def short_all(price):
        # vectorbt's sell_nb for an infinite short: close any long, then
        # short all that the free cash allows.
        settle()
        pos = st["pos"]
        long_size = max(pos, 0.0)
        total_free = _add(st["free"], long_size * price * (1.0 - fees))
        if total_free <= 0.0:
            if pos <= 0.0:
                return
            size = long_size
        else:
            size = _add(long_size, total_free / (price * (1.0 + fees)))
            if size <= 0.0:
                return
        sell(price, size)

    base = 0.0  # close of the entry bar, for the stops
    values = np.empty(len(close))
    in_market = 0
    for t in range(len(close)):
        c = close[t]
        pos = st["pos"]
        stopped = False
        if pos != 0.0:
            d = 1.0 if pos > 0.0 else -1.0
            if stop_loss is not None:
                level = base * (1.0 - d * stop_loss)
                stopped = c <= level if d > 0.0 else c >= level
            if not stopped and take_profit is not None:
                level = base * (1.0 + d * take_profit)
                stopped = c >= level if d > 0.0 else c <= level
            if stopped:
                if d > 0.0:
                    sell(c - half, pos)
                else:
                    buy(c + half, -pos)
        if decide is not None:
            entry, exit_ = decide.signals(t, pos, base)
        else:
            entry, exit_ = entries[t], exits[t]
        if not stopped and entry != exit_:
            if entry and pos <= 0.0:
                buy(c * (1.0 + slippage) + half, math.inf)
            elif exit_ and pos > 0.0 and not longshort:
                sell(c * (1.0 - slippage) - half, pos)
            elif exit_ and pos >= 0.0 and longshort:
                short_all(c * (1.0 - slippage) - half)
            if st["pos"] != 0.0 and (pos == 0.0 or (st["pos"] > 0.0) != (pos > 0.0)):
                base = c  # opened or reversed (a short partly covered keeps its stops)
        if decide is not None:
            decide.filled(t, pos, st["pos"])
        values[t] = book["cash"] + book["pos"] * c
        in_market += st["pos"] != 0.0

    if trade and trade[0][1] > 0.0 and not _is_close(trade[0][1], 0.0):
        # still open: marked at the last close, without exit fee
        d, tsize, tgross, tfees = trade[0]
        pnls.append(pnl(d, tsize, tgross / tsize, tsize / tsize * tfees, close[-1], 0.0))
    return _metrics(values, pnls, in_market, periods_per_year)


def _return(before, after):
    """One bar's return as vectorbt defines it (sign kept for a negative
    account, infinite from an empty one)."""
    if before == 0.0:
        return 0.0 if after == 0.0 else math.copysign(math.inf, after)
    r = (after - before) / before
    return -r if before < 0.0 else r


def _metrics(values, pnls, in_market, periods_per_year):
    n = len(values)
    prev = np.concatenate(([INIT_CASH], values[:-1]))
    returns = np.array([_return(b, a) for b, a in zip(prev, values)])
    sd = float(np.std(returns, ddof=1)) if n > 1 else 0.0
    sharpe = float(np.mean(returns)) / sd * math.sqrt(periods_per_year) if sd > 0 else math.nan
    # the drawdown of the compounded returns (the value itself, unless the
    # account went negative)
    growth = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(growth) if n else growth
    won = lost = 0.0  # summed in trade order (not math.fsum): as the kernel
    n_wins = 0
    for p in pnls:
        if p > 0.0:
            won += p
            n_wins += 1
        elif p < 0.0:
            lost += p
    if not pnls:
        profit_factor = math.nan
    elif lost < 0.0:
        profit_factor = won / -lost
    else:
        profit_factor = math.inf if won > 0.0 else math.nan
    return {
        "total_return": (values[-1] if n else INIT_CASH) / INIT_CASH - 1.0,
        "sharpe": sharpe,
        "max_drawdown": float(np.min(growth / peak - 1.0)) if n else 0.0,
        "n_trades": float(len(pnls)),
        "win_rate": n_wins / len(pnls) if pnls else math.nan,
        "profit_factor": profit_factor,
        "exposure": in_market / n if n else math.nan,
    }


def run(strategy, bars, params, **costs):
    """Metrics dict of one parameter set: signals() then simulate()."""
    entries, exits = signals(strategy, bars, params)
    return simulate(np.asarray(bars["close"], dtype=np.float64), entries, exits, **costs)


def backtest(close, entries, exits, **costs):
    """``fastpar.backtest`` column by column: a DataFrame of METRICS, one row
    per column. ``close``, ``entries``, ``exits``: NumPy arrays, each 1-D
    (the same series for every column) or 2-D (bars x columns)."""
    import pandas as pd

    arrays = [np.asarray(a) for a in (close, entries, exits)]
    width = max([a.shape[1] for a in arrays if a.ndim == 2], default=1)
    columns = [[a[:, j] if a.ndim == 2 else a for a in arrays] for j in range(width)]
    rows = [simulate(c.astype(np.float64), e.astype(bool), x.astype(bool), **costs)
            for c, e, x in columns]
    return pd.DataFrame(rows, columns=list(METRICS))
