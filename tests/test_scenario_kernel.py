"""The C scenario engine against its pure-Python twin
(fastpar.reference.scenario.run_kernel): on random scenario descriptions
(windows, warm-up bars, workers, decision logics, brokers) both give the
same counts, every amount to the bit, the same order and trade tables; a
hook that reads and trades through the engine sees the same engine on
both; bad descriptions are refused."""

import math
import random

import numpy as np
import pytest
from fastpar import _fastpar
from fastpar.bars import BAR_DTYPE
from fastpar.reference import scenario as ref
from fastpar.scenarios import KernelSpec

NS_MIN = 60_000_000_000
COUNTS = ["ticks_processed", "signals_buy", "signals_sell", "decisions_buy", "decisions_sell",
          "decisions_flat", "orders_sent", "orders_executed", "orders_rejected", "total_trades",
          "winning_trades", "losing_trades"]
AMOUNTS = ["total_profit", "total_loss", "max_drawdown", "max_equity", "balance",
           "portfolio_spread_cost", "execution_spread_cost"]


# ---------------------------------------------------------------------------
# Random scenarios
# ---------------------------------------------------------------------------


def make_window(rng: random.Random, n: int, start_ns: int, digits: int = 5):
    """Ticks on a price grid: a random walk with flat stretches, jumps,
    gaps of seconds to hours and now and then several ticks at one time."""
    point = 10.0 ** -digits
    ts, bid, ask = [], [], []
    t, mid = start_ns, rng.uniform(0.6, 1.8) * (100 if digits == 3 else 1)
    flat = 0
    for _ in range(n):
        r = rng.random()
        t += 0 if r < 0.05 else rng.choice([1, 2, 3, 5, 17, 60, 600, 3600 * 5]) * 1_000_000_000
        if flat:
            flat -= 1
        elif rng.random() < 0.01:
            flat = rng.randint(5, 80)
        else:
            step = rng.gauss(0, 3) if rng.random() > 0.002 else rng.gauss(0, 300)
            mid = max(50 * point, mid + step * point)
        spread = rng.choice([1, 1, 2, 3, 8])
        b = round(mid - spread * point / 2, digits)
        ts.append(t)
        bid.append(float(np.float32(b)))
        ask.append(float(np.float32(round(b + spread * point, digits))))
    vol = [float(rng.randint(0, 3)) for _ in range(n)]
    return (np.array(ts, dtype=np.int64), np.array(bid), np.array(ask), np.array(vol))


def make_warmup(rng: random.Random, n: int, minutes: int, first_tick_ns: int, price: float):
    """n completed bars before the window (float32 prices, some synthetic)."""
    span = minutes * NS_MIN
    start = first_tick_ns - first_tick_ns % span
    out = np.zeros(n, dtype=BAR_DTYPE)
    p = price
    for i in range(n):
        p *= math.exp(rng.gauss(0, 0.002))
        o = float(np.float32(p))
        c = float(np.float32(p * math.exp(rng.gauss(0, 0.001))))
        synthetic = rng.random() < 0.1
        out[i] = (start - (n - i) * span, o if not synthetic else c, max(o, c) * (1 + 0.0005),
                  min(o, c) * (1 - 0.0005), c, 0.0, 0 if synthetic else rng.randint(1, 50))
    return out


TIMEFRAMES = [1, 5, 15, 30, 60, 240, 1440]


def make_spec(rng: random.Random, window, *, logic=None, hook_workers=False):
    n_tf = rng.randint(1, 3)
    minutes = rng.sample(TIMEFRAMES[:5], n_tf)
    price = float(window[1][0])
    tfs = []
    for m in minutes:
        n_warm = rng.choice([0, 1, 5, 14, 15, 20, 30, 60])
        tfs.append((m, True, rng.random() < 0.95,
                    make_warmup(rng, n_warm, m, int(window[0][0]), price)))
    workers = []

    def worker(kind):
        tf = rng.randrange(n_tf)
        period = rng.choice([1, 2, 3, 5, 9, 14, 20, 29])
        dev = rng.choice([0.0, 0.02, 0.5, 1.0, 2.0, 2.5])
        heavy = kind == ref.MACD or rng.random() < 0.1
        return (kind, tf, period, dev, rng.randint(2, 12), rng.randint(5, 30), heavy, 0.0)

    workers.append(worker(ref.RSI))
    workers.append(worker(ref.ENVELOPE))
    for _ in range(rng.randint(0, 3)):
        workers.append(worker(rng.choice([ref.RSI, ref.ENVELOPE, ref.MACD])))
    if hook_workers:
        workers.append((ref.USER, -1, 0, 0.0, 0, 0, False, 0.0))
    # A heavy envelope with too few bars fails the scenario: keep it rare.
    order = list(range(len(workers)))
    rng.shuffle(order)
    workers = [workers[i] for i in order]
    rsi_worker, envelope_worker = order.index(0), order.index(1)
    workers[envelope_worker] = workers[envelope_worker][:6] + (False, 0.0)
    workers[rsi_worker] = workers[rsi_worker][:6] + (False, 0.0)
    logic = rng.choice([ref.SIMPLE_CONSENSUS, ref.AGGRESSIVE_TREND]) if logic is None else logic
    if logic == ref.SIMPLE_CONSENSUS:
        th = (rng.choice([25, 30, 35, 45.5]), rng.choice([55, 65, 70, 75]),
              rng.choice([0.2, 0.3, 0.45]), rng.choice([0.55, 0.7, 0.8]))
        min_conf = rng.choice([0.5, 0.55, 0.6])
    else:
        th = (rng.choice([30, 35, 40]), rng.choice([60, 65, 70]), rng.choice([0.1, 0.25, 0.3]),
              0.0)
        min_conf = rng.choice([0.4, 0.45, 0.5, 0.6])
    digits = 3 if price > 20 else 5
    return KernelSpec(
        timeframes=tuple(tfs), workers=tuple(workers), logic=logic, th=th,
        min_confidence=min_conf,
        lot_size=rng.choice([0.1, 0.1, 0.1, 0.05, 0.15, 0.13, 1.0]),
        min_free_margin=rng.choice([1000, 1000, 0, 5000]),
        rsi_worker=rsi_worker, envelope_worker=envelope_worker,
        symbol_known=rng.random() > 0.02, digits=digits,
        tick_value=rng.choice([0.85155, 1.0, 0.5786]),
        leverage=float(rng.choice([500, 100, 30, 1])),
        margin_contract_size=float(rng.choice([100000, 100000, 1000])),
        margin_price=rng.choice([1.0, 1.17, 150.0]),
        volume_min=rng.choice([0.01, 0.01, 0.02, 0.2]), volume_max=rng.choice([100.0, 0.5]),
        volume_step=rng.choice([0.01, 0.01, 0.05, 0.0]),
        trade_allowed=rng.random() > 0.03,
        initial_balance=float(rng.choice([10000, 10000, 2500, 500, 1e6])),
        compensated_sum=rng.random() < 0.5,
    )


def run_both(window, spec, hook_c=None, hook_ref=None):
    status, r, detail = _fastpar.run_scenario(window, spec, hook_c)
    try:
        expected = ref.run_kernel(window, spec, hook_ref)
    except ref.ScenarioFailed as e:
        assert status == e.status, (status, detail, e)
        return None, None
    assert status == 0, (status, detail)
    return r, ref._as_engine_dict(expected)


def assert_same_result(r, e):
    for k in COUNTS:
        assert r[k] == e[k], k
    for k in AMOUNTS:
        # Exactly the reference's double (NaN never occurs).
        assert r[k] == e[k] or (r[k] != r[k] and e[k] != e[k]), (k, r[k], e[k])
    for table in ("order_ints", "order_floats", "trade_ints", "trade_floats"):
        assert r[table].shape == e[table].shape, table
        assert np.array_equal(r[table], e[table]), table


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(120))
def test_engine_equals_reference_on_random_scenarios(seed):
    rng = random.Random(seed)
    window = make_window(rng, rng.choice([1, 2, 50, 400, 1500]), 1_757_000_000_000_000_000,
                         digits=rng.choice([5, 5, 3]))
    spec = make_spec(rng, window)
    r, e = run_both(window, spec)
    if r is not None:
        assert_same_result(r, e)


def test_random_scenarios_trade_and_refuse():
    """The random scenarios above reach every path: trades, refusals at
    send and at fill, two positions open at once."""
    seen = {"trades": 0, "rejected_send": 0, "rejected_fill": 0, "two_open": 0}
    for seed in range(120):
        rng = random.Random(seed)
        window = make_window(rng, rng.choice([1, 2, 50, 400, 1500]), 1_757_000_000_000_000_000,
                             digits=rng.choice([5, 5, 3]))
        spec = make_spec(rng, window)
        try:
            r = ref.run_kernel(window, spec)
        except ref.ScenarioFailed:
            continue
        seen["trades"] += r.total_trades > 0
        seen["rejected_send"] += any(o.status == ref.REJECTED for o in r.orders)
        seen["rejected_fill"] += any(o.status == ref.FILL_REJECTED for o in r.orders)
        opened = sorted([(t.entry_tick, 1) for t in r.trades] + [(t.exit_tick, -1) for t in r.trades])
        level = peak = 0
        for _, d in opened:
            level += d
            peak = max(peak, level)
        seen["two_open"] += peak >= 2
    assert all(v > 0 for v in seen.values()), seen


def _tie_spec(rng, window, logic):
    """A scenario whose thresholds equal values the indicators reach, so
    that `<=` and `<` decide differently."""
    spec = make_spec(rng, window, logic=logic)
    probe = ref.Engine(spec, ref.KernelResult())
    rsis = set()
    for i, (ts, b, a, v) in enumerate(zip(*(x.tolist() for x in window))):
        for bars, tf in zip(probe.bars, spec.timeframes):
            if tf[1]:
                bars.add(ts, (b + a) / 2, v)
        w = probe.workers[spec.rsi_worker]
        hist = probe.bars[w.timeframe].history if spec.timeframes[w.timeframe][2] else []
        w.from_bars(hist)
        rsis.add(w.value)
    values = sorted(v for v in rsis if 0 < v < 100 and v != 50.0)
    return spec, values


@pytest.mark.parametrize("logic", [ref.SIMPLE_CONSENSUS, ref.AGGRESSIVE_TREND])
def test_thresholds_hit_exactly(logic):
    """An RSI exactly at the threshold: simple_consensus buys (<=),
    aggressive_trend does not (<); both engines agree tick for tick."""
    hits = 0
    for seed in range(40):
        rng = random.Random(1000 + seed)
        window = make_window(rng, 600, 1_757_000_000_000_000_000)
        spec, values = _tie_spec(rng, window, logic)
        if not values:
            continue
        for v in values[:: max(1, len(values) // 4)]:
            # The RSI value itself as buy and as sell threshold; the
            # envelope always agrees (simple_consensus) or never triggers.
            if logic == ref.SIMPLE_CONSENSUS:
                th = (v, v, 1.0, 0.0)
            else:
                th = (v, v, -1.0, 0.0)
            s = spec._replace(th=th, min_confidence=0.0)
            r, e = run_both(window, s)
            if r is None:
                continue
            assert_same_result(r, e)
            hits += r["decisions_buy"] + r["decisions_sell"]
    assert hits > 0


def test_decision_counts_follow_the_threshold_rule():
    """With the envelope out of play, simple_consensus decides BUY exactly
    on the ticks whose RSI is <= the threshold, aggressive_trend exactly on
    those < it."""
    rng = random.Random(7)
    window = make_window(rng, 800, 1_757_000_000_000_000_000)
    spec, values = _tie_spec(rng, window, ref.SIMPLE_CONSENSUS)
    v = values[len(values) // 2]
    counted = {}
    for logic, th in ((ref.SIMPLE_CONSENSUS, (v, 1000.0, 1.0, 2.0)),
                      (ref.AGGRESSIVE_TREND, (v, 1000.0, -1.0, 0.0))):
        s = spec._replace(logic=logic, th=th, min_confidence=0.0)
        status, r, _ = _fastpar.run_scenario(window, s, None)
        assert status == 0
        counted[logic] = r["decisions_buy"]
    probe = ref.run_kernel(window, spec._replace(th=(v, 1000.0, 1.0, 2.0), min_confidence=0.0))
    at_or_below = probe.decisions_buy
    assert counted[ref.SIMPLE_CONSENSUS] == at_or_below
    assert counted[ref.AGGRESSIVE_TREND] < at_or_below


def _envelope_positions(spec, window):
    """The envelope positions a scenario's ticks reach (as the reference
    computes them, tick by tick)."""
    probe = ref.Engine(spec, ref.KernelResult())
    w = probe.workers[spec.envelope_worker]
    positions = set()
    for ts, b, a, v in zip(*(x.tolist() for x in window)):
        mid = (b + a) / 2
        for bars, tf in zip(probe.bars, spec.timeframes):
            if tf[1]:
                bars.add(ts, mid, v)
        w.from_bars(probe.bars[w.timeframe].history if spec.timeframes[w.timeframe][2] else [])
        positions.add(w.position(mid))
    return positions


def test_envelope_thresholds_hit_exactly():
    """An envelope position exactly at aggressive_trend's sell line
    (1 - envelope_extremes) does not sell (>); one exactly at
    simple_consensus's sell threshold does (>=). Lines from positions in
    [0.5, 1), where 1 - (1 - x) == x exactly; the RSI out of play; both
    engines agree tick for tick."""
    hits = 0
    for seed in range(40):
        rng = random.Random(2000 + seed)
        window = make_window(rng, 600, 1_757_000_000_000_000_000)
        spec = make_spec(rng, window, logic=ref.AGGRESSIVE_TREND)
        lines = sorted(p for p in _envelope_positions(spec, window)
                       if 0.5 <= p < 1.0 and 1.0 - (1.0 - p) == p)
        for p in lines[:: max(1, len(lines) // 4)]:
            for logic, th in ((ref.AGGRESSIVE_TREND, (-1.0, 1000.0, 1.0 - p, 0.0)),
                              (ref.SIMPLE_CONSENSUS, (1000.0, -1.0, 1.0 - p, p))):
                s = spec._replace(logic=logic, th=th, min_confidence=0.0)
                r, e = run_both(window, s)
                if r is None:
                    continue
                assert_same_result(r, e)
                hits += r["decisions_buy"] + r["decisions_sell"]
    assert hits > 0


def test_min_free_margin_reached_exactly_still_trades():
    """The API refuses an order only when the free margin is below
    min_free_margin: with no position open the free margin is the balance,
    so a balance equal to min_free_margin sends the first order."""
    rng = random.Random(11)
    window = make_window(rng, 600, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window, logic=ref.AGGRESSIVE_TREND)._replace(
        th=(1000.0, 1000.0, -1.0, 0.0), min_confidence=0.0, initial_balance=5000.0,
        min_free_margin=5000, trade_allowed=True, symbol_known=True, lot_size=0.1,
        volume_min=0.01, volume_step=0.01, volume_max=100.0)
    r, e = run_both(window, spec)
    assert r is not None
    assert_same_result(r, e)
    assert r["orders_sent"] >= 1
    below = spec._replace(initial_balance=4999.99)
    r2, _ = run_both(window, below)
    assert r2["orders_sent"] == 0


def _recording_hook(log):
    """A hook that reads everything the view offers and trades by its own
    rule; ``log`` receives what it saw."""

    def hook(view):
        i = view.tick_index()
        for tf in range(2):
            try:
                n = view.history_len(tf)
            except IndexError:
                break
            log.append(("bars", i, tf, n, view.bars_completed(tf), view.current_bar(tf),
                        tuple(view.history(tf, max(0, n - 2)))))
        log.append(("w", i, view.worker_result(0)))
        acct = view.account()
        pos = view.positions()
        pend = view.pending()
        log.append(("acct", i, acct, tuple(pos), tuple(pend)))
        if i % 37 == 5 and not pend:
            log.append(("send", i, view.send_order(1 if (i // 37) % 2 else -1, 0.1, 0)))
        if i % 53 == 11 and pos:
            log.append(("close", i, view.close_position(pos[0][0])))
        if i % 101 == 7:
            log.append(("limit", i, view.send_order(1, 0.1, 1 + i % 5)))
            view.count_signal(1)

    return hook


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("logic", [ref.USER_LOGIC, ref.AGGRESSIVE_TREND])
def test_hook_sees_the_same_engine(seed, logic):
    rng = random.Random(500 + seed)
    window = make_window(rng, 700, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window, hook_workers=True)
    spec = spec._replace(logic=logic, min_free_margin=0, lot_size=0.1, volume_min=0.01,
                         volume_step=0.01, trade_allowed=True, symbol_known=True,
                         initial_balance=10000.0)
    got, want = [], []
    r, e = run_both(window, spec, _recording_hook(got), _recording_hook(want))
    if r is None:
        return
    assert got == want
    assert_same_result(r, e)


def test_hook_exception_stops_the_scenario():
    rng = random.Random(3)
    window = make_window(rng, 100, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window, hook_workers=True)

    def hook(view):
        if view.tick_index() == 10:
            raise ZeroDivisionError("from the hook")

    status, r, detail = _fastpar.run_scenario(window, spec, hook)
    assert status == 10 and r is None
    assert isinstance(detail, ZeroDivisionError) and str(detail) == "from the hook"


def test_view_is_dead_after_the_hook():
    rng = random.Random(4)
    window = make_window(rng, 20, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window, hook_workers=True)
    kept = []
    _fastpar.run_scenario(window, spec, kept.append)
    with pytest.raises(RuntimeError, match="not running"):
        kept[0].account()


def test_user_parts_need_a_hook():
    rng = random.Random(5)
    window = make_window(rng, 20, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window, hook_workers=True)
    status, _, _ = _fastpar.run_scenario(window, spec, None)
    assert status == 1


def test_unknown_symbol_fails_on_the_first_tick():
    rng = random.Random(6)
    window = make_window(rng, 20, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window)._replace(symbol_known=False)
    status, _, _ = _fastpar.run_scenario(window, spec, None)
    assert status == 9


@pytest.mark.parametrize(("field", "value", "status"), [
    ("leverage", 0.0, 1), ("leverage", float("nan"), 1), ("tick_value", float("inf"), 1),
    ("th", (float("nan"), 0.0, 0.0, 0.0), 1), ("rsi_worker", 5, 1), ("logic", 7, 1),
])
def test_bad_descriptions_are_refused(field, value, status):
    rng = random.Random(8)
    window = make_window(rng, 20, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window)._replace(**{field: value})
    got, _, _ = _fastpar.run_scenario(window, spec, None)
    assert got == status


def test_bad_windows_are_refused():
    rng = random.Random(9)
    window = make_window(rng, 20, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window)
    ts, bid, ask, vol = window
    assert _fastpar.run_scenario((ts[:0], bid[:0], ask[:0], vol[:0]), spec, None)[0] == 7
    assert _fastpar.run_scenario((ts[::-1].copy(), bid, ask, vol), spec, None)[0] == 6
    bad = bid.copy()
    bad[3] = np.nan
    assert _fastpar.run_scenario((ts, bad, ask, vol), spec, None)[0] == 3
    nat = ts.copy()
    nat[0] = np.iinfo(np.int64).min
    assert _fastpar.run_scenario((nat, bid, ask, vol), spec, None)[0] == 8
    with pytest.raises(TypeError, match="float64"):
        _fastpar.run_scenario((ts, bid.astype(np.float32), ask, vol), spec, None)
    with pytest.raises(ValueError, match="rows"):
        _fastpar.run_scenario((ts, bid[:-1], ask, vol), spec, None)
    with pytest.raises(TypeError, match="BAR_DTYPE"):
        tf = spec.timeframes[0]
        _fastpar.run_scenario(window, spec._replace(
            timeframes=((tf[0], tf[1], tf[2], np.zeros((3, 7))),) + spec.timeframes[1:]), None)


def test_batch_keeps_each_scenarios_own_outcome():
    rng = random.Random(10)
    windows, specs = [], []
    for k in range(6):
        w = make_window(rng, 300, 1_757_000_000_000_000_000)
        s = make_spec(rng, w)._replace(symbol_known=k != 2)
        windows.append(w)
        specs.append(s)
    out = _fastpar.run_scenarios(windows, specs, [None] * 6, 2, None)
    for k, (status, r, _) in enumerate(out):
        alone = _fastpar.run_scenario(windows[k], specs[k], None)
        assert status == alone[0]
        if status == 0:
            assert_same_result(r, alone[1])
    assert out[2][0] == 9


def test_long_warmup_keeps_the_last_thousand_bars():
    rng = random.Random(11)
    window = make_window(rng, 300, 1_757_000_000_000_000_000)
    spec = make_spec(rng, window)
    m = spec.timeframes[0][0]
    warm = make_warmup(rng, 1500, m, int(window[0][0]), float(window[1][0]))
    spec = spec._replace(timeframes=((m, True, True, warm),) + spec.timeframes[1:])
    r, e = run_both(window, spec)
    if r is not None:
        assert_same_result(r, e)
