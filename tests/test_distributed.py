"""fastpar.distributed: the same results on a Dask cluster as locally, even
when a worker dies mid-run, and clear errors for a client that cannot work.

One cluster of two single-threaded worker processes serves the module."""

import dataclasses
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import fastpar  # noqa: E402
import fastpar.distributed as fd  # noqa: E402
from fastpar import run_scenarios  # noqa: E402
from fastpar.scenario_config import data_path  # noqa: E402
from fastpar.synthetic import random_walk_ohlc  # noqa: E402
from fastpar.ticks import DataValidationError, TickArraysData, TickDataLoader  # noqa: E402
from scenario_factory import make_scenario  # noqa: E402

# A generous bound for "fails fast": the scheduler's own reconnection
# attempts last 30 s, fastpar.distributed gives up after CONNECT_TIMEOUT_S.
FAIL_FAST_S = 20
BROKER = str(data_path("broker_config.json"))
# The batch_orchestrator API's data layout (tests/finiex/README.md); the
# test cluster's workers see it at the same path.
FINIEX_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "data", "finiex", "processed")
FINIEX_SET = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "finiex", "sets", "core_aggressive.json")


@pytest.fixture(scope="module")
def data(ticks):
    """The ticks as one data worker, so that local runs render their
    warm-up bars once (a TickArrays is bound anew for each scenario)."""
    return TickArraysData(ticks)


@pytest.fixture(scope="module", autouse=True)
def no_sampling_profiler_when_free_threaded():
    """Dask's profiler reads other threads' running frames, which a
    free-threaded CPython does not make safe: it crashed this test process
    now and then. fastpar.distributed's docstring tells users the same."""
    import dask

    with dask.config.set({"distributed.worker.profile.enabled": not fd._free_threaded()}):
        yield


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster


@pytest.fixture()
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def comparable(entry):
    """A result without its measured times, or an error's type, text and
    status."""
    if isinstance(entry, Exception):
        return (type(entry), str(entry), getattr(entry, "status", None))
    d = dataclasses.asdict(entry)
    for key in ("elapsed_time", "user_time", "profiling_data"):
        d.pop(key)
    # the API lists a set: its order follows the process's string hashing
    d["scenario_requirement"]["all_timeframes"].sort()
    return d


def assert_same_entries(local, remote):
    assert len(local) == len(remote)
    for i, (a, b) in enumerate(zip(local, remote, strict=True)):
        assert comparable(a) == comparable(b), f"scenario {i} differs"


def mixed_batch():
    """Scenarios of different lengths and logics, two that cannot run, one
    given as a dict."""
    batch = [
        make_scenario(
            logic="CORE/simple_consensus" if i % 3 == 0 else "CORE/aggressive_trend",
            max_ticks=2_000 + 700 * i,
            name=f"s{i}",
        )
        for i in range(18)
    ]
    batch[4] = make_scenario(start="2030-01-01T00:00:00+00:00", end="2030-01-02T00:00:00+00:00",
                             name="no_ticks")
    batch[11] = make_scenario(extra={"bad": ("CORE/nope", {})}, name="bad_worker")
    batch[7] = dataclasses.asdict(batch[7])
    return batch


# ---------------------------------------------------------------------------
# Scenario batches
# ---------------------------------------------------------------------------


def test_scenarios_identical_to_local(client, ticks, data, broker):
    batch = mixed_batch()
    local = run_scenarios(data, batch, broker=broker, progress=False)
    remote = fd.run_scenarios(ticks, batch, client=client, broker=broker, progress=False)
    assert_same_entries(local, remote)
    assert isinstance(remote[4], DataValidationError) and "no tick data" in str(remote[4])
    assert isinstance(remote[11], ValueError) and "Worker creation failed" in str(remote[11])
    assert sum(isinstance(e, Exception) for e in remote) == 2
    assert {r.elapsed_time for r in remote if not isinstance(r, Exception)} != {0.0}
    # the same from a data worker over the ticks
    assert_same_entries(local, fd.run_scenarios(data, batch, client=client, broker=broker,
                                                progress=False))


def test_scenarios_identical_with_explicit_threads_and_their_own_broker_files(client, data):
    """No broker argument: each scenario's broker_config_path, read on the
    worker; a scenario without one fails alone, as locally."""
    batch = [make_scenario(max_ticks=1_000 + 500 * i, name=f"own_{i}", broker_config_path=BROKER)
             for i in range(4)]
    batch.append(make_scenario(max_ticks=500, name="no_broker"))
    local = run_scenarios(data, batch, progress=False)
    remote = fd.run_scenarios(data, batch, client=client, threads=2, progress=False)
    assert_same_entries(local, remote)
    assert "No broker_config_path" in str(remote[-1])
    assert not any(isinstance(e, Exception) for e in remote[:-1])


def test_scenarios_from_files_and_dataframes(client, ticks, data, tmp_path):
    path = tmp_path / "EURUSD_ticks.parquet"
    ticks.to_dataframe().to_parquet(path)
    scenario_set = "sample_scenarios.json"  # the bundled set, by name
    local = run_scenarios(str(path), scenario_set, progress=False)
    assert not any(isinstance(e, Exception) for e in local)
    remote = fd.run_scenarios(str(path), scenario_set, client=client, progress=False)
    assert_same_entries(local, remote)
    from_frame = fd.run_scenarios(ticks.to_dataframe(), scenario_set, client=client, progress=False)
    assert_same_entries(run_scenarios(data, scenario_set, progress=False), from_frame)


def test_scenarios_from_a_data_directory_each_worker_opens(client):
    """A data directory in the API's layout is not sent: each worker opens
    it (a TickDataLoader made there from its data_dir)."""
    local = run_scenarios(FINIEX_DATA, FINIEX_SET, broker=BROKER, progress=False)
    assert sum(not isinstance(e, Exception) for e in local) > 1
    remote = fd.run_scenarios(TickDataLoader(FINIEX_DATA), FINIEX_SET, client=client,
                              broker=BROKER, progress=False)
    assert_same_entries(local, remote)
    assert all(FINIEX_DATA in opened
               for opened in client.run(lambda: list(fd._worker_loaders)).values())
    assert_same_entries(local, fd.run_scenarios(FINIEX_DATA, FINIEX_SET, client=client,
                                                broker=BROKER, progress=False))


def test_scenarios_whose_data_cannot_be_prepared_fail_alone(client, ticks):
    """Ticks that are no data at all: each scenario's slot holds the
    local run's error, and nothing is sent."""
    batch = [make_scenario(max_ticks=100, name="a"), make_scenario(max_ticks=100, name="b")]
    bad = {"timestamp": ticks.timestamp[:10]}  # no prices
    local = run_scenarios(bad, batch, broker=BROKER, progress=False)
    remote = fd.run_scenarios(bad, batch, client=client, broker=BROKER, progress=False)
    assert_same_entries(local, remote)
    assert all(isinstance(e, ValueError) and "missing" in str(e) for e in remote)


def test_scenarios_from_a_file_each_worker_reads(client, ticks, tmp_path):
    path = tmp_path / "EURUSD_ticks.parquet"
    ticks.to_dataframe().to_parquet(path)
    batch = [make_scenario(max_ticks=500 + 300 * i, name=f"f{i}", broker_config_path=BROKER)
             for i in range(6)]
    local = run_scenarios(str(path), batch, progress=False)
    assert not any(isinstance(e, Exception) for e in local)
    remote = fd.run_scenarios(fd.WorkerFile(path), batch, client=client, progress=False)
    assert_same_entries(local, remote)
    # the workers read the file, the client did not
    assert any(any(k[0] == str(path) for k in cached)
               for cached in client.run(lambda: list(fd._worker_files)).values())
    assert not fd._worker_files
    with pytest.raises(FileNotFoundError, match="not readable on this worker"):
        fd.run_scenarios(fd.WorkerFile(tmp_path / "nope.parquet"), batch, client=client,
                         progress=False)


def test_scenarios_progress_bar_counts_scenarios(client, data, broker, capsys):
    batch = mixed_batch()[:6]
    fd.run_scenarios(data, batch, client=client, broker=broker, progress=True)
    err = capsys.readouterr().err
    assert "scenarios" in err and "6/6" in err


@pytest.mark.parametrize("free_threaded", [False, True])
@pytest.mark.parametrize("profiler", [False, True])
def test_a_free_threaded_client_warns_of_the_profiler(client, ticks, monkeypatch,
                                                      free_threaded, profiler):
    import dask

    monkeypatch.setattr(fd, "_free_threaded", lambda: free_threaded)
    with dask.config.set({"distributed.worker.profile.enabled": profiler}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert fd.run_scenarios(ticks, [], client=client) == []
    profiler_warnings = [w for w in caught if "sampling profiler" in str(w.message)]
    assert len(profiler_warnings) == (1 if free_threaded and profiler else 0)
    for w in profiler_warnings:
        assert w.category is RuntimeWarning and w.filename == __file__


def test_empty_batch(client, ticks):
    assert fd.run_scenarios(ticks, [], client=client) == []


def test_tasks_use_the_worker_threads(client):
    assert client.submit(fd._task_threads, None, pure=False).result() == 1
    assert client.submit(fd._task_threads, 3, pure=False).result() == 3


def test_sweep_chunks_keep_result_order():
    sets = [(p,) for p in range(10)]
    todo = [[0, 1, 2, 5], [], [3, 9]]
    payloads, places = fd._sweep_chunks(todo, sets, 3)
    flat = [(a, i) for chunk in places for a, idx in chunk for i in idx]
    assert flat == [(0, 0), (0, 1), (0, 2), (0, 5), (2, 3), (2, 9)]
    for payload, place in zip(payloads, places, strict=True):
        assert [(a, [sets[i] for i in idx]) for a, idx in place] == payload


@pytest.mark.parametrize("n, parts", [(1, 8), (7, 8), (8, 8), (20, 8), (1000, 3)])
def test_split_is_contiguous_and_even(n, parts):
    bounds = fd._split(n, parts)
    assert len(bounds) == min(n, parts)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def heavy_batch():
    """Scenarios that burn CPU per tick: the batch runs long enough for a
    worker to be killed while tasks are still outstanding."""
    heavy = ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 0.5})
    # An extra worker: given as rsi_fast, heavy_rsi is refused by the
    # decision logic's type check and the batch would do no work at all.
    batch = [make_scenario(extra={"load": heavy}, max_ticks=150, name=f"h{i}") for i in range(8)]
    batch[5] = make_scenario(start="2030-01-01T00:00:00+00:00", end="2030-01-02T00:00:00+00:00",
                             name="no_ticks")
    return batch


@pytest.fixture(scope="module")
def heavy_local(data, broker):
    results = run_scenarios(data, heavy_batch(), broker=broker, progress=False)
    # The batch must do real work for a kill to land while it runs.
    assert sum(not isinstance(r, Exception) for r in results) == 7
    return results


def run_killing_a_worker(client, run, pick=None):
    """run(), while a thread SIGKILLs a worker process as soon as tasks are
    running: pick(busy workers) or the first busy one. Returns run()'s
    result; fails if the kill did not happen while run() was running."""
    pids = client.run(os.getpid)
    done = threading.Event()
    killed = {}

    def kill_a_worker():
        while not done.is_set():
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy:
                victim = pick(busy) if pick else busy[0]
                os.kill(pids[victim], signal.SIGKILL)
                killed["while_running"] = not done.is_set()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    try:
        result = run()
    finally:
        done.set()
        killer.join()
    assert killed.get("while_running"), "the worker was not killed during the run"
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests
    return result


@pytest.mark.thread_unsafe(reason="kills a worker of the cluster all the tests share")
def test_worker_killed_mid_run_loses_nothing(client, ticks, broker, heavy_local):
    batch = heavy_batch()
    remote = run_killing_a_worker(
        client, lambda: fd.run_scenarios(ticks, batch, client=client, broker=broker, progress=False)
    )
    assert_same_entries(heavy_local, remote)


def test_lost_data_is_sent_again(client, ticks, broker, heavy_local, monkeypatch):
    # When the workers holding the ticks die (the scheduler may keep one
    # copy only), the tasks needing them are cancelled. Cancelling the data
    # mid-run does the same, deterministically.
    scatters = []
    real_scatter = fd._scatter

    def wait_then_cancel(shared):
        while not any(client.processing().values()):
            time.sleep(0.01)
        client.cancel([shared])

    def scatter(client, data):
        shared = real_scatter(client, data)
        scatters.append(shared)
        if len(scatters) == 1:
            threading.Thread(target=wait_then_cancel, args=(shared,), daemon=True).start()
        return shared

    monkeypatch.setattr(fd, "_scatter", scatter)
    remote = fd.run_scenarios(ticks, heavy_batch(), client=client, broker=broker, progress=False)
    assert len(scatters) == 2, "the data was not sent again"
    assert scatters[0].cancelled()
    assert_same_entries(heavy_local, remote)


# ---------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------

W3_GRID = {"period": range(2, 51), "low": [20, 25, 30], "high": [70, 75, 80]}


@pytest.fixture(scope="module")
def ohlc():
    """Three assets of seeded bars (DataFrames with capitalised columns)."""
    raw = random_walk_ohlc(3, 4_000, seed=11)
    return {
        name: pd.DataFrame({k.capitalize(): raw[k][j] for k in ("open", "high", "low", "close")})
        for j, name in enumerate(("AAA", "BBB", "CCC"))
    }


def assert_same_frame(local, remote):
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert local.attrs == remote.attrs


def test_sweep_identical_to_local(client, ohlc):
    data = ohlc["AAA"]
    local = fastpar.sweep(data, "rsi_threshold", W3_GRID, progress=False, fees=0.001)
    remote = fd.sweep(data, "rsi_threshold", W3_GRID, client=client, progress=False, fees=0.001)
    assert len(remote) == 49 * 9
    assert_same_frame(local, remote)


@pytest.mark.parametrize(
    "strategy, grid, costs",
    [
        ("ma_cross", {"fast": [2, 5, 10, 40], "slow": [5, 20, 60], "kind": ["sma", "ema"]},
         {"direction": "longshort", "slippage": 0.0005}),
        ("bigbar", {"atr_period": [7, 14], "k_atr": [1.0, 1.5], "tail_ratio": [0.3],
                    "breakout": [3, 5], "rsi_period": 14, "rsi_max": [60, 80]},
         {"stop_loss": 0.05, "take_profit": 0.1, "spread": 0.01}),
    ],
    ids=["ma_cross_longshort_skipped_sets", "bigbar_stops"],
)
def test_sweep_several_assets_identical_to_local(client, ohlc, strategy, grid, costs):
    local = fastpar.sweep(ohlc, strategy, grid, progress=False, **costs)
    remote = fd.sweep(ohlc, strategy, grid, client=client, threads=2, progress=False, **costs)
    assert list(remote["asset"].unique()) == ["AAA", "BBB", "CCC"]
    assert_same_frame(local, remote)


def test_own_strategy_sweeps_on_the_cluster_as_locally(client, ohlc):
    strat = fastpar.strategy(
        entry=lambda b, p: (fastpar.rsi(b.close, p.period) < p.low) & (b.bars_since_exit >= 5),
        exit=lambda b, p: (fastpar.rsi(b.close, p.period) > 70) | (b.bars_in_trade >= 30),
        name="own")
    grid = {"period": [5, 9, 14], "low": [25, 35]}
    local = fastpar.sweep(ohlc, strat, grid, progress=False, fees=0.001)
    remote = fd.sweep(ohlc, strat, grid, client=client, progress=False, fees=0.001)
    assert (local["n_trades"] > 0).all()
    assert_same_frame(local, remote)


def test_sweep_progress_bar_counts_sets(client, ohlc, capsys):
    fd.sweep(ohlc["BBB"], "envelope", {"period": [5, 10], "deviation": [0.01, 0.02, 0.03]},
             client=client, progress=True)
    err = capsys.readouterr().err
    assert "sweep envelope" in err and "6/6" in err


def test_sweep_bad_input_is_the_local_error(client, ohlc):
    with pytest.raises(ValueError, match="unknown strategy"):
        fd.sweep(ohlc["AAA"], "nope", {}, client=client)
    with pytest.raises(ValueError, match="missing parameter"):
        fd.sweep(ohlc["AAA"], "rsi_threshold", {"period": 14}, client=client)
    with pytest.raises(ValueError, match="spread"):
        fd.sweep(ohlc["AAA"], "envelope", {"period": 5, "deviation": 0.01}, client=client,
                 spread=1e6)
    with pytest.raises(TypeError, match="dask.distributed.Client"):
        fd.sweep(ohlc["AAA"], "envelope", {"period": 5, "deviation": 0.01}, client=None)


def test_sweep_checkpoint_resumes_and_matches_local_files(client, ohlc, tmp_path):
    grid = {"period": range(2, 30), "nbdev": [1.5, 2.0, 2.5]}
    local = fastpar.sweep(ohlc, "bbands_reversion", grid, progress=False,
                          checkpoint=tmp_path / "local.sqlite")
    path = tmp_path / "remote.sqlite"
    first = fd.sweep(ohlc, "bbands_reversion", grid, client=client, progress=False,
                     checkpoint=path)
    assert_same_frame(local, first)
    # a file the local sweep can resume from (the same format), holding it all
    assert_same_frame(local, fastpar.sweep(ohlc, "bbands_reversion", grid, progress=False,
                                           checkpoint=path, threads=1))
    # drop some rows, as if the run had been interrupted: only those are
    # submitted again
    import sqlite3

    with sqlite3.connect(path) as con:
        n = 28 * 3  # rows are numbered asset-major: asset 1's start at n
        con.execute("DELETE FROM results WHERE row >= ? AND (row - ?) % 7 = 3", (n, n))
        missing = con.total_changes
    assert missing > 0
    submitted = []
    real = fd._run_tasks

    def counting(*args, sizes, **kwargs):
        submitted.append(sum(sizes))
        return real(*args, sizes=sizes, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fd, "_run_tasks", counting)
        resumed = fd.sweep(ohlc, "bbands_reversion", grid, client=client, progress=False,
                           checkpoint=path)
        again = fd.sweep(ohlc, "bbands_reversion", grid, client=client, progress=False,
                         checkpoint=path)
    assert submitted == [missing]  # and nothing at all the second time
    assert_same_frame(local, resumed)
    assert_same_frame(local, again)
    with pytest.raises(ValueError, match="belongs to another sweep"):
        fd.sweep(ohlc, "bbands_reversion", {**grid, "nbdev": 3.0}, client=client,
                 progress=False, checkpoint=path)


@pytest.mark.thread_unsafe(reason="kills a worker of the cluster all the tests share")
def test_sweep_worker_killed_mid_run_loses_nothing(client):
    bars = random_walk_ohlc(1, 60_000, seed=5)
    data = {"close": bars["close"][0]}
    local = fastpar.sweep(data, "rsi_threshold", W3_GRID, progress=False)
    remote = run_killing_a_worker(
        client, lambda: fd.sweep(data, "rsi_threshold", W3_GRID, client=client, progress=False)
    )
    assert_same_frame(local, remote)


def test_sweep_ctrl_c_cancels_and_the_checkpoint_resumes(client, sigint_raises, tmp_path):
    # Long enough (about a second of work per worker) that the signal lands
    # while the sweep runs; a signal after it ended would hit the test runner.
    bars = random_walk_ohlc(1, 1_000_000, seed=6)
    data = {"close": bars["close"][0]}
    path = tmp_path / "interrupted.sqlite"
    ended = threading.Event()

    def interrupt_when_running():
        while not any(client.processing().values()) and not ended.is_set():
            time.sleep(0.01)
        time.sleep(0.1)
        if not ended.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_when_running, daemon=True)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fd.sweep(data, "rsi_threshold", W3_GRID, client=client, progress=False,
                     checkpoint=path)
    finally:
        ended.set()
        interrupter.join()
    import sqlite3

    with sqlite3.connect(path) as con:
        (stored,) = con.execute("SELECT count(*) FROM results").fetchone()
    assert stored < 49 * 9, "the sweep was not interrupted"
    # the cancelled tasks leave the workers
    deadline = time.monotonic() + 30
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(client.processing().values())
    local = fastpar.sweep(data, "rsi_threshold", W3_GRID, progress=False)
    resumed = fd.sweep(data, "rsi_threshold", W3_GRID, client=client, progress=False,
                       checkpoint=path)
    assert_same_frame(local, resumed)


# ---------------------------------------------------------------------------
# Clients that cannot work
# ---------------------------------------------------------------------------


def test_not_a_client_is_a_type_error(ticks):
    with pytest.raises(TypeError, match="dask.distributed.Client"):
        fd.run_scenarios(ticks, [make_scenario()], client="tcp://127.0.0.1:8786")


def test_bad_threads(client, ticks):
    with pytest.raises(ValueError, match="threads"):
        fd.run_scenarios(ticks, [make_scenario()], client=client, threads=0)


def test_closed_client_fails_fast(cluster, ticks):
    client = distributed.Client(cluster, set_as_default=False)
    client.close()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="closed"):
        fd.run_scenarios(ticks, [make_scenario()], client=client)
    assert time.monotonic() - started < FAIL_FAST_S


def test_unreachable_scheduler_fails_fast(ticks, monkeypatch):
    monkeypatch.setattr(fd, "CONNECT_TIMEOUT_S", 1.0)
    # A client whose scheduler went away: it keeps trying to reconnect.
    lone = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0")
    client = distributed.Client(lone.scheduler_address, set_as_default=False)
    try:
        lone.close()
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="cannot reach the dask scheduler"):
            fd.run_scenarios(ticks, [make_scenario()], client=client)
        assert time.monotonic() - started < FAIL_FAST_S
    finally:
        client.close(timeout=2)


def test_cluster_without_workers_fails_fast(ticks, monkeypatch):
    monkeypatch.setattr(fd, "CONNECT_TIMEOUT_S", 0.5)
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty,
        distributed.Client(empty, set_as_default=False) as client,
    ):
        with pytest.raises(RuntimeError, match="no workers"):
            fd.run_scenarios(ticks, [make_scenario()], client=client)
