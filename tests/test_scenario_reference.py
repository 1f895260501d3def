"""The pure-Python scenario engine (fastpar.reference.scenario) against
independent definitions: NumPy for the workers' sums, CPython's random
module for the fill delays and its sum() for the account, and the API's
trading rules worked out on small hand-made cases."""

import random
import sys

import numpy as np
import pytest
from fastpar.bars import BAR_DTYPE
from fastpar.reference import scenario as ref
from fastpar.scenarios import KernelSpec


def api_rsi(closes, period):
    """The API's CORE/rsi worker, as it computes it with NumPy."""
    prices = np.array(closes[-(period + 1):])
    deltas = np.diff(prices)
    gains = np.where(deltas > 0, deltas, 0)
    losses = np.where(deltas < 0, -deltas, 0)
    avg_gain, avg_loss = np.mean(gains), np.mean(losses)
    return 100.0 if avg_loss == 0 else float(100.0 - (100.0 / (1.0 + avg_gain / avg_loss)))


def api_envelope(closes, period, deviation, mid):
    prices = np.array(closes[-period:])
    middle, std = np.mean(prices), np.std(prices)
    upper, lower = middle + std * deviation, middle - std * deviation
    position = 0.5
    if upper != lower:
        position = max(0.0, min(1.0, (mid - lower) / (upper - lower)))
    return float(upper), float(middle), float(lower), float(position)


def test_numpy_sum_is_numpys():
    rng = np.random.default_rng(1)
    for n in list(range(0, 40)) + [127, 128, 129, 200, 511, 1000, 1001]:
        x = rng.normal(0, 1, n) * rng.choice([1e-5, 1.0, 1e8])
        assert ref.numpy_sum(x.tolist()) == np.add.reduce(x)


@pytest.mark.parametrize("period", [1, 2, 3, 7, 8, 9, 14, 29, 200])
def test_rsi_worker_is_the_apis(period):
    rng = random.Random(period)
    for _ in range(30):
        closes = [1.1 + rng.gauss(0, 0.001) for _ in range(period + 1 + rng.randint(0, 5))]
        if rng.random() < 0.2:
            closes = [round(c, 3) for c in closes]  # flat stretches: zero deltas
        w = ref.Worker((ref.RSI, 0, period, 0.0, 0, 0, False, 0.0))
        w.from_bars([[0, c, c, c, c, 0.0, 1] for c in closes])
        assert w.value == api_rsi(closes, period)
        assert w.confidence == min(1.0, len(closes) / (period * 2))
    w.from_bars([[0, 1.0, 1.0, 1.0, 1.0, 0.0, 1]] * period)  # one close too few
    assert (w.value, w.confidence, w.ready) == (50.0, 0.0, False)


@pytest.mark.parametrize("period", [1, 2, 8, 9, 20, 130])
def test_envelope_worker_is_the_apis(period):
    rng = random.Random(period)
    for deviation in (0.0, 0.02, 2.0):
        closes = [1.1 + rng.gauss(0, 0.001) for _ in range(period + 3)]
        mid = closes[-1] + rng.gauss(0, 0.001)
        w = ref.Worker((ref.ENVELOPE, 0, period, deviation, 0, 0, False, 0.0))
        w.from_bars([[0, c, c, c, c, 0.0, 1] for c in closes])
        assert (w.upper, w.middle, w.lower, w.position(mid)) == api_envelope(
            closes, period, deviation, mid)
    w.from_bars([])
    assert w.position(1.0) == 0.5 and w.confidence == 0.0


def test_fill_delays_are_cpythons_random():
    api, execution = random.Random(42), random.Random(123)
    expected = [api.randint(1, 3) + execution.randint(2, 5) for _ in range(40)]
    e = ref.Engine(spec(), ref.KernelResult())
    e.update_prices(1.1, 1.1002)
    delays = []
    for _ in range(40):
        row = e._send(ref.BUY, 0.1)
        delays.append(e.res.orders[row].fill_at_tick - e.res.orders[row].placed_tick)
    assert delays == expected


def test_sums_over_positions_are_pythons():
    values = [1e16, 1.0, -1e16, 3.0]
    assert ref.python_sum(values, compensated=False) == 3.0  # the 1.0 is lost
    assert ref._neumaier(values) == 4.0
    if sys.version_info >= (3, 12):
        assert ref.python_sum(values, compensated=True) == sum(values) == 4.0


def spec(**kw):
    warm = np.zeros(0, dtype=BAR_DTYPE)
    base = KernelSpec(
        timeframes=((5, True, True, warm),),
        workers=((ref.RSI, 0, 14, 0.0, 0, 0, False, 0.0),
                 (ref.ENVELOPE, 0, 20, 0.02, 0, 0, False, 0.0)),
        logic=ref.AGGRESSIVE_TREND, th=(35, 65, 0.25, 0), min_confidence=0.4, lot_size=0.1,
        min_free_margin=1000, rsi_worker=0, envelope_worker=1, symbol_known=True, digits=5,
        tick_value=1.0, leverage=500.0, margin_contract_size=100000.0, margin_price=1.0,
        volume_min=0.01, volume_max=100.0, volume_step=0.01, trade_allowed=True,
        initial_balance=10000.0)
    return base._replace(**kw)


def test_a_signal_waits_only_for_a_pending_order_of_its_direction():
    e = ref.Engine(spec(), ref.KernelResult())
    e.update_prices(1.1000, 1.1002)
    assert e.core_execute(ref.BUY).status == ref.PENDING
    assert e.core_execute(ref.BUY) is None  # a BUY is pending
    sell = e.core_execute(ref.SELL)  # a SELL is not: two orders in flight
    assert sell.status == ref.PENDING
    for _ in range(10):
        e.update_prices(1.1001, 1.1003)
    assert [p.direction for p in e.pos] == [ref.BUY, ref.SELL]  # two positions open
    # A BUY signal: the oldest position is a BUY, so nothing happens.
    assert e.core_execute(ref.BUY) is None and len(e.pos) == 2
    # A SELL signal closes the oldest (the BUY) and sends a SELL.
    assert e.core_execute(ref.SELL).status == ref.PENDING
    assert [t.direction for t in e.res.trades] == [ref.BUY]


def test_fills_and_marks():
    e = ref.Engine(spec(), ref.KernelResult())
    e.update_prices(1.10000, 1.10020)
    e.core_execute(ref.BUY)
    fill_at = e.res.orders[0].fill_at_tick
    while e.tick < fill_at:
        e.update_prices(1.10010, 1.10025)
    p = e.pos[0]
    # A BUY fills at the ask; the spread of that tick is its fee.
    assert p.entry_price == 1.10025
    assert p.fee == abs((1.10025 - 1.10010) * 100000.0 * 1.0 * 0.1)
    # Marked at the bid: (bid - entry) * 10**digits * tick_value * lots - fee.
    e.update_prices(1.10050, 1.10060)
    assert p.unrealized == (1.10050 - 1.10025) * 100000.0 * 1.0 * 0.1 - p.fee
    assert e.res.portfolio_spread_cost == e.res.execution_spread_cost == p.fee


def test_margin_at_fill_uses_the_broker_files_bid():
    # 0.1 lots * 100000 * 1000.0 / 500 = 20,000 > 10,000 free: refused at fill.
    e = ref.Engine(spec(margin_price=1000.0), ref.KernelResult())
    e.update_prices(1.1, 1.1002)
    e.core_execute(ref.BUY)
    for _ in range(10):
        e.update_prices(1.1, 1.1002)
    order = e.res.orders[0]
    assert order.status == ref.FILL_REJECTED and order.reject == ref.REJ_MARGIN_FILL
    assert order.reject_value == 0.1 * 100000.0 * 1000.0 / 500.0
    assert not e.pos and e.res.orders_rejected == 1
    # Its spread counts in the execution statistics, not in the portfolio's.
    assert e.res.execution_spread_cost > 0 and e.res.portfolio_spread_cost == 0


def test_refusals_when_sent():
    e = ref.Engine(spec(initial_balance=99.0, min_free_margin=0), ref.KernelResult())
    e.update_prices(1.1, 1.1002)
    order = e.core_execute(ref.BUY)  # free margin 99 < 0.1 * 100000 * 0.01 = 100
    assert order.status == ref.REJECTED and order.reject == ref.REJ_MARGIN
    assert order.reject_value == 100.0 and order.pending_id == 0
    for lots, step, rejected in ((0.1, 0.01, False), (0.15, 0.05, False), (0.13, 0.05, True),
                                 (0.005, 0.01, True)):
        e = ref.Engine(spec(lot_size=lots, volume_step=step), ref.KernelResult())
        e.update_prices(1.1, 1.1002)
        order = e.core_execute(ref.BUY)
        off_step = abs((lots - 0.01) % step) > 1e-8
        assert (order.status == ref.REJECTED) == (rejected or off_step)
    e = ref.Engine(spec(trade_allowed=False), ref.KernelResult())
    e.update_prices(1.1, 1.1002)
    assert e.core_execute(ref.BUY).reject == ref.REJ_NOT_TRADEABLE
    # A refused order draws no delay: the next pending one gets the first.
    assert e.api.getstate() == random.Random(42).getstate()


def test_bars_and_their_open_quirk():
    bars = ref.Bars(5, np.zeros(0, dtype=BAR_DTYPE), True)
    m = 60_000_000_000
    for t, mid in ((0, 1.0), (m, 3.0), (4 * m, 0.5), (5 * m, 0.0), (6 * m, 2.0), (7 * m, 4.0)):
        bars.add(t, mid, 1.0)
    assert bars.history == [[0, 1.0, 3.0, 0.5, 0.5, 3.0, 3]]
    # A bar whose first mid is 0 takes open, high and low from the next tick.
    assert bars.current == [5 * m, 2.0, 4.0, 2.0, 4.0, 3.0, 3]


def test_open_positions_close_at_the_end_in_opening_order():
    rng = random.Random(2)
    n = 400
    ts = np.arange(n, dtype=np.int64) * 20_000_000_000 + 1_757_000_000_000_000_000
    bid = np.round(1.1 + np.cumsum([rng.gauss(0, 0.0002) for _ in range(n)]), 5)
    window = (ts, bid, bid + 0.0001, np.zeros(n))
    r = ref.run_kernel(window, spec(min_confidence=0.0, th=(90, 10, 0.5, 0)))
    end = [t for t in r.trades if t.reason == ref.CLOSE_END]
    assert end and all(t.exit_tick == n for t in end)
    assert [t.position_id for t in end] == sorted(t.position_id for t in end)
    balance = 10000.0
    for t in r.trades:
        balance += t.pnl
    assert r.balance == balance
