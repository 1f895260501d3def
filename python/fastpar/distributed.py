"""Scenario batches and parameter sweeps on a Dask cluster.

The same arguments and the same results as the local functions, plus the
``client`` of a running cluster:

- :func:`run_scenarios` is :func:`fastpar.scenarios.run_scenarios` over
  the cluster: one entry per scenario, in order, a ScenarioResult or the
  exception that says why that scenario could not run.
- :func:`sweep` is :func:`fastpar.sweep` over the cluster: the same
  DataFrame, rows in grid order.

How a call runs:

1. The market data is prepared on the client and sent to every worker once
   (``client.scatter(..., broadcast=True)``); the tasks refer to it, so it
   does not travel with each task. Scenario data is sent as tick arrays, and
   each worker makes one data worker of them for all its tasks (the warm-up
   bars rendered once per worker); a data directory is not sent: each worker
   opens it itself (:class:`fastpar.ticks.TickDataLoader`), so it must be on
   storage every worker sees at the same path.
2. The scenarios (or parameter sets) are cut into contiguous chunks, about
   ``TASKS_PER_THREAD`` per worker thread of the cluster: small enough that
   a lost worker costs little and that the scheduler balances the load,
   large enough that the per-task overhead stays small.
3. Each task runs its chunk as one job of fastpar's native pool on the
   worker, with as many threads as that worker has (``threads=None``), or
   ``threads``. The kernels release the GIL, so a Dask worker's threads
   run them at full speed. Tasks running at once on one worker share the
   worker's fastpar pool, so they never use more than the worker's task
   threads plus its pool's helpers.
4. Results come back as tasks finish (a progress bar over the items done)
   and are put back in the input order.

A worker that dies mid-run loses nothing: the scheduler runs its tasks
again on the other workers (a task that keeps killing workers fails after
the scheduler's ``distributed.scheduler.allowed-failures`` attempts). If
the workers that held the market data all died (the scheduler may drop
copies of scattered data it thinks redundant), the data is sent again and
the unfinished tasks resubmitted, up to ``RESUBMITS`` times. A task that
raises is retried ``RETRIES`` times before its error reaches the caller.
The results are those of the local run whatever happens to the workers,
since every task is a pure function of its inputs.

The workers need fastpar installed (the same version as the client);
``dask[distributed]`` is the ``dask`` extra: ``pip install 'fastpar[dask]'``.

On a free-threaded CPython, Dask's sampling profiler must be off in every
process of the cluster (``distributed.worker.profile.enabled: false``, or
``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``): it reads other
threads' running frames through ``sys._current_frames()``, which that build
does not make safe, and the process can crash. A call from a free-threaded
client whose Dask configuration leaves it on warns.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import os
import sys
import threading
import time
import uuid
import warnings

import numpy as np

from . import scenarios as _scenarios
from .pool import MAX_THREADS

__all__ = ["run_scenarios", "sweep", "WorkerFile", "TASKS_PER_THREAD", "RETRIES", "RESUBMITS"]

#: Tasks per worker thread of the cluster (fewer when there are fewer items).
TASKS_PER_THREAD = 4
#: How many times a task that raised is run again before its error is
#: raised to the caller (lost workers are handled by the scheduler).
RETRIES = 2
#: How many times the unfinished tasks are submitted again, with the
#: data sent anew, after the cluster lost that data.
RESUBMITS = 3
#: How long to wait for an answer from the scheduler, and for a first
#: worker, before giving up.
CONNECT_TIMEOUT_S = 5.0

# What a cancelled future raises (distributed's FutureCancelledError derives
# from the first; older versions raised the second).
_CANCELLED = (concurrent.futures.CancelledError, asyncio.CancelledError)


# ---------------------------------------------------------------------------
# The client and the cluster
# ---------------------------------------------------------------------------


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "fastpar.distributed needs dask.distributed: pip install 'fastpar[dask]'"
        ) from None
    return distributed


def _free_threaded() -> bool:
    return not getattr(sys, "_is_gil_enabled", lambda: True)()


def _warn_if_the_profiler_is_on():
    """The warning of the module's docstring. The client's configuration is
    the only one visible here; the workers' usually comes from the same
    files and environment."""
    import dask

    if _free_threaded() and dask.config.get("distributed.worker.profile.enabled", False):
        warnings.warn(
            "Dask's sampling profiler is on (distributed.worker.profile.enabled), and on a "
            "free-threaded Python it can crash the processes it runs in: turn it off in every "
            "process of the cluster, e.g. DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False",
            RuntimeWarning,
            stacklevel=4,
        )


def _worker_threads(client) -> dict:
    """{worker address: threads} of the client's cluster; a clear error,
    within about CONNECT_TIMEOUT_S, when it cannot be used."""
    distributed = _distributed()
    _warn_if_the_profiler_is_on()
    if not isinstance(client, distributed.Client):
        raise TypeError(
            f"client must be a dask.distributed.Client, got {type(client).__name__}"
        )
    if client.asynchronous:
        raise ValueError("client must be a synchronous Client (asynchronous=False)")
    if client.status in ("closing", "closed"):
        raise RuntimeError("the dask client is closed")
    address = getattr(client.scheduler, "address", None) or "?"
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        try:
            nthreads = client.sync(client.scheduler.ncores, callback_timeout=max(left, 0.1))
        except (OSError, TimeoutError, AttributeError) as e:
            # AttributeError: the client lost its scheduler connection object
            raise RuntimeError(
                f"cannot reach the dask scheduler at {address}: "
                f"{type(e).__name__}: {e or 'no answer'}"
            ) from None
        if nthreads:
            return dict(nthreads)
        if left <= 0:
            raise RuntimeError(
                f"the dask cluster at {address} has no workers "
                f"(none joined within {CONNECT_TIMEOUT_S:g} s)"
            )
        time.sleep(0.1)


def _realigned(obj):
    """obj with every NumPy array in it aligned: arrays that crossed the
    network may come back on unaligned buffers, which the kernels refuse."""
    if isinstance(obj, np.ndarray):
        return obj if obj.flags.aligned else obj.copy()
    if isinstance(obj, dict):
        return {k: _realigned(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_realigned(v) for v in obj)
    return obj


class _Shared:
    """Market data sent to the workers once. Unpickling it (once per
    worker) realigns its arrays, so tasks use them without a copy."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return (_shared_on_worker, (self.data,))


def _shared_on_worker(data):
    return _Shared(_realigned(data))


def _scatter(client, data):
    """A future of `data` held by every worker (a private key: cancelling
    it afterwards cannot drop data the caller scattered)."""
    return client.scatter([_Shared(data)], broadcast=True, hash=False)[0]


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """[lo, hi) bounds of `parts` contiguous, near-equal chunks of range(n)."""
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    bounds, lo = [], 0
    for i in range(parts):
        hi = lo + base + (1 if i < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _n_tasks(worker_threads: dict, n_items: int) -> int:
    return min(n_items, TASKS_PER_THREAD * sum(worker_threads.values()))


def _task_threads(threads):
    """The threads of one task: `threads` if given, else those of the
    worker it runs on (None, the pool's size, outside a worker)."""
    if threads is not None:
        return threads
    try:
        from distributed import get_worker

        return min(get_worker().state.nthreads, MAX_THREADS)
    except (ImportError, ValueError, AttributeError):
        return None


def _check_threads(threads):
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be None or an integer, got {type(threads).__name__}")
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be None or in [1, {MAX_THREADS}], got {threads}")
    return threads


def _progress_bar(progress, total, desc, unit, initial=0):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit)


def _run_tasks(client, fn, data, chunks, args, *, name, sizes, bar=None, on_result=None):
    """Send `data` to the workers, run fn(shared data, chunk, *args) for
    each chunk, and return the chunks' results in order.

    ``sizes[i]`` is what chunk i counts for on the progress `bar`;
    ``on_result(i, result)`` is called on the client as each chunk's result
    arrives (in completion order).

    If the cluster loses the data itself (the workers that held it died;
    the scheduler may keep a single copy of scattered data to save memory),
    the tasks that needed it are cancelled: the data is sent again and the
    unfinished chunks resubmitted, up to RESUBMITS times. A task's error is
    raised; on it, or on Ctrl-C, what is left is cancelled.
    """
    distributed = _distributed()
    run = uuid.uuid4().hex[:12]
    results: list = [None] * len(chunks)
    todo = list(range(len(chunks)))
    futures: dict = {}
    shared = None
    try:
        for attempt in range(RESUBMITS + 1):
            shared = _scatter(client, data)
            futures = {
                client.submit(
                    fn, shared, chunks[i], *args, key=f"fastpar-{name}-{run}-{attempt}-{i}",
                    pure=False, retries=RETRIES,
                ): i
                for i in todo
            }
            lost = []
            for future in distributed.as_completed(list(futures), loop=client.loop):
                i = futures[future]
                try:
                    results[i] = future.result()  # raises the task's error
                except _CANCELLED:
                    # the data it needed is gone (this also cancels tasks
                    # already finished, whose results went with it)
                    lost.append(i)
                    continue
                if on_result is not None:
                    on_result(i, results[i])
                if bar is not None:
                    bar.update(sizes[i])
            client.cancel([shared])
            shared = None
            if not lost:
                return results
            todo = sorted(lost)
        raise RuntimeError(
            f"the dask cluster lost the data of this run {RESUBMITS + 1} times "
            f"({len(todo)} of {len(chunks)} tasks unfinished); are its workers dying?"
        )
    except BaseException:
        client.cancel(list(futures) + ([shared] if shared is not None else []))
        raise
    finally:
        if bar is not None:
            bar.close()


# ---------------------------------------------------------------------------
# Scenario batches
# ---------------------------------------------------------------------------


class _TickData:
    """Scenario data as it travels to the workers: one symbol's tick arrays
    each (the arrays only, not a data worker's caches of rendered bars), or
    the path of a data directory the workers open themselves."""

    def __init__(self, arrays=None, data_dir=None):
        self.arrays = arrays  # [{"symbol": ..., "timestamp": ..., ...}, ...]
        self.data_dir = data_dir
        self._worker = None
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"arrays": self.arrays, "data_dir": self.data_dir}

    def __setstate__(self, state):
        self.__init__(_realigned(state["arrays"]), state["data_dir"])

    def data_worker(self):
        """The data worker of this data: one per process (its warm-up bars
        rendered once and shared by the tasks), made on first use."""
        with self._lock:
            if self._worker is None:
                from .ticks import TickArrays, TickArraysData

                if self.data_dir is not None:
                    self._worker = _worker_loader(self.data_dir)
                else:
                    self._worker = TickArraysData(*(
                        TickArrays(a["symbol"], a["timestamp"], a["bid"], a["ask"], a["volume"])
                        for a in self.arrays))
            return self._worker


def _arrays_of(ticks) -> dict:
    return {"symbol": ticks.symbol, "timestamp": ticks.timestamp, "bid": ticks.bid,
            "ask": ticks.ask, "volume": ticks.volume}


def _client_data(ticks, scenarios):
    """What to send for ``ticks`` (see run_scenarios), prepared on the
    client, and the errors of the scenarios it cannot serve: {index:
    exception}, as the local run_scenarios gives them."""
    from .ticks import TickArraysData, TickDataLoader

    source = _scenarios.as_data_worker(ticks)
    if isinstance(source, TickDataLoader):
        return _TickData(data_dir=os.path.abspath(source.data_dir)), {}
    if isinstance(source, TickArraysData):
        return _TickData([_arrays_of(t) for t in source.ticks.values()]), {}
    if hasattr(source, "load_symbol_data"):
        return source, {}  # the caller's own data worker: it must pickle
    # Arrays without a symbol are each scenario's symbol's ticks.
    bound, errors = {}, {}
    for i, scenario in enumerate(scenarios):
        symbol = _scenarios._get(scenario, "symbol")
        if not isinstance(symbol, str):
            continue  # the scenario fails on the worker, as it does locally
        if symbol not in bound:
            try:
                bound[symbol] = _scenarios._bind(source, symbol)
            except Exception as e:  # noqa: BLE001 - those scenarios' error, as locally
                bound[symbol] = e
        if isinstance(bound[symbol], Exception):
            errors[i] = bound[symbol]
    arrays = {}
    for data in bound.values():
        if not isinstance(data, Exception):
            for t in data.ticks.values():
                arrays[t.symbol] = _arrays_of(t)
    return _TickData(list(arrays.values())), errors


def _client_scenarios(scenarios) -> list:
    if isinstance(scenarios, (str, os.PathLike)):
        from .scenario_config import ScenarioConfigLoader

        return list(ScenarioConfigLoader().load_config(scenarios))
    return list(scenarios)


class WorkerFile:
    """A parquet or CSV tick file that each worker reads itself, from
    storage they all see at the same path, instead of the client reading
    it and sending the ticks: ``run_scenarios(WorkerFile("/shared/EURUSD.parquet"),
    ...)``. A worker reads it once (its symbol from its name, as
    :func:`fastpar.ticks.load_file` reads it) and keeps the last
    WORKER_FILES files read with their warm-up bars (a file changed since
    is read again)."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"WorkerFile({self.path!r})"


#: Tick files a worker process keeps after reading them (WorkerFile).
WORKER_FILES = 2
_worker_files: collections.OrderedDict = collections.OrderedDict()
_worker_files_lock = threading.Lock()


def _worker_ticks(file: WorkerFile):
    """A data worker of the ticks of `file`, read on this worker (once
    while unchanged)."""
    try:
        st = os.stat(file.path)
    except OSError as e:
        raise FileNotFoundError(
            f"tick file {file.path!r} not readable on this worker: {e}"
        ) from None
    key = (file.path, st.st_mtime_ns, st.st_size)
    # other tasks of this worker wait here (GIL released) rather than read
    # the same file again
    with _worker_files_lock:
        ticks = _worker_files.get(key)
        if ticks is None:
            from .ticks import TickArraysData, load_file

            ticks = TickArraysData(load_file(file.path))
            _worker_files[key] = ticks
            while len(_worker_files) > WORKER_FILES:
                _worker_files.popitem(last=False)
        _worker_files.move_to_end(key)
    return ticks


#: Data directories a worker process keeps open (TickDataLoader), by path.
_worker_loaders: dict = {}


def _worker_loader(data_dir):
    """This worker's TickDataLoader of `data_dir` (one per process: its
    files and bars are read once for all tasks)."""
    from .ticks import TickDataLoader

    with _worker_files_lock:
        loader = _worker_loaders.get(data_dir)
        if loader is None:
            if not os.path.isdir(data_dir):
                raise FileNotFoundError(
                    f"data directory {data_dir!r} not readable on this worker (a data "
                    "directory must be on storage every worker sees at the same path)")
            loader = _worker_loaders[data_dir] = TickDataLoader(data_dir)
        return loader


def _scenario_task(shared, scenarios, broker, threads):
    """One chunk of scenarios on a worker, as one native pool job."""
    data = shared.data
    if isinstance(data, WorkerFile):
        data = _worker_ticks(data)
    elif isinstance(data, _TickData):
        data = data.data_worker()
    return _scenarios.run_scenarios(
        data, scenarios, threads=_task_threads(threads), progress=False, broker=broker
    )


def run_scenarios(ticks, scenarios, *, client, threads=None, progress=True, broker=None):
    """Run a scenario batch on a Dask cluster.

    Arguments and result as the local ``run_scenarios``. ``ticks``: where
    the ticks come from. Read on the client and sent to each worker once:
    a :class:`fastpar.ticks.TickArraysData`, TickArrays, a DataFrame, a dict
    of arrays, a (timestamp, bid, ask, volume) tuple, or a parquet/CSV
    file's path. Opened by each worker from storage they all see at the
    same path: a data directory or a :class:`fastpar.ticks.TickDataLoader`
    (re-created on the worker from its ``data_dir``), or a
    :class:`WorkerFile`. Another data worker (an object with
    ``load_symbol_data``) is sent as it is and must pickle. ``scenarios``:
    a list of TestScenario or dicts, or a scenario-set JSON path;
    ``broker``: a BrokerConfig, a dict or a path for every scenario, or
    None for each scenario's own ``broker_config_path`` (read on the
    worker). Returns one entry per scenario, in order: its ScenarioResult,
    or the exception that stopped it. ``client`` is a ``dask.distributed.Client``;
    ``threads`` is the native threads of each task (None: as many as the
    worker running it has); ``progress`` shows a bar of scenarios done.
    Each result's ``elapsed_time`` is the whole call's wall time.
    """
    started = time.perf_counter()
    threads = _check_threads(threads)
    worker_threads = _worker_threads(client)
    scenario_list = _client_scenarios(scenarios)
    if not scenario_list:
        return []
    if isinstance(ticks, WorkerFile):
        data, failed = ticks, {}
    else:
        data, failed = _client_data(ticks, scenario_list)
    # Scenarios whose data could not be prepared fail here, as locally.
    todo = [i for i in range(len(scenario_list)) if i not in failed]
    out: list = [failed.get(i) for i in range(len(scenario_list))]
    if todo:
        chunks = [[scenario_list[i] for i in todo[lo:hi]]
                  for lo, hi in _split(len(todo), _n_tasks(worker_threads, len(todo)))]
        bar = _progress_bar(progress, len(scenario_list), "scenarios", "scenario",
                            initial=len(failed))
        parts = _run_tasks(
            client, _scenario_task, data, chunks, (broker, threads), name="scenarios",
            sizes=[len(c) for c in chunks], bar=bar,
        )
        for i, entry in zip(todo, (entry for part in parts for entry in part), strict=True):
            out[i] = entry
    elapsed = time.perf_counter() - started
    for entry in out:
        if isinstance(entry, _scenarios.ScenarioResult):
            entry.elapsed_time = elapsed
    return out


# ---------------------------------------------------------------------------
# Parameter sweeps
# ---------------------------------------------------------------------------


def _sweep_task(shared, groups, strategy, costs, threads):
    """One chunk of parameter sets on a worker: for each (asset index,
    sets) group, the metrics array of run_sets (one native pool job)."""
    from .sweep import run_sets

    t = _task_threads(threads)
    assets = shared.data
    return [run_sets(assets[a][1], strategy, sets, costs, t) for a, sets in groups]


def _sweep_chunks(todo, sets, n_tasks):
    """Cut the (asset, set index) pairs still to compute, in result order,
    into n_tasks contiguous chunks. Returns, per chunk, what the task gets
    ([(asset, [sets])]) and where its rows go ([(asset, [set indices])])."""
    pairs = [(a, i) for a, indices in enumerate(todo) for i in indices]
    payloads, places = [], []
    for lo, hi in _split(len(pairs), n_tasks):
        groups: list = []
        for a, i in pairs[lo:hi]:
            if not groups or groups[-1][0] != a:
                groups.append((a, []))
            groups[-1][1].append(i)
        places.append(groups)
        payloads.append([(a, [sets[i] for i in idx]) for a, idx in groups])
    return payloads, places


def sweep(
    data,
    strategy,
    grid,
    *,
    client,
    threads=None,
    progress=True,
    checkpoint=None,
    fees=0.0,
    slippage=0.0,
    spread=0.0,
    stop_loss=None,
    take_profit=None,
    direction="long",
    periods_per_year=252.0,
):
    """Run a parameter sweep on a Dask cluster: :func:`fastpar.sweep`'s
    arguments and its DataFrame, rows in grid order (assets outer).

    The bars are checked and prepared on the client and sent to every
    worker once; the parameter sets are cut into a few tasks per worker
    thread. ``client`` is a ``dask.distributed.Client``; ``threads`` is the
    native threads of each task (None: as many as the worker running it
    has); ``progress`` shows a bar of sets done.

    ``checkpoint``: the SQLite file of :func:`fastpar.sweep`, kept on the
    client: the sets it already holds are not submitted, and each task's
    rows are stored as the task finishes, so an interrupted distributed
    sweep resumes locally or on a cluster alike (same file format).
    """
    # (`from . import sweep` would give the function fastpar.sweep)
    from .sweep import METRICS, prepare, to_frame

    costs, assets, sets, skipped = prepare(data, strategy, grid, fees, slippage, spread,
                                           stop_loss, take_profit, direction, periods_per_year)
    threads = _check_threads(threads)
    worker_threads = _worker_threads(client)
    names = None if assets[0][0] is None else [a for a, _ in assets]

    ckpt = None
    if checkpoint is not None:
        ckpt = _ClientCheckpoint(checkpoint, assets, strategy, sets, costs)
    try:
        done = ckpt.done() if ckpt is not None else [set() for _ in assets]
        todo = [[i for i in range(len(sets)) if i not in done[a]] for a in range(len(assets))]
        n_todo = sum(len(t) for t in todo)
        payloads, places = _sweep_chunks(todo, sets, _n_tasks(worker_threads, max(n_todo, 1)))
        results = [np.full((len(sets), len(METRICS)), np.nan) for _ in assets]

        def store(k, arrays):
            for (a, idx), out in zip(places[k], arrays, strict=True):
                results[a][idx] = out
                if ckpt is not None:
                    ckpt.store(a, idx, out)

        if n_todo:
            _run_tasks(
                client, _sweep_task, assets, payloads, (strategy, costs, threads), name="sweep",
                sizes=[sum(len(idx) for _, idx in p) for p in places], on_result=store,
                bar=_progress_bar(progress, len(sets) * len(assets), f"sweep {strategy}", "set",
                                  initial=len(sets) * len(assets) - n_todo),
            )
        if ckpt is not None:
            # the whole table as the file holds it, like a resumed local sweep
            results = ckpt.results()
    finally:
        if ckpt is not None:
            ckpt.close()
    return to_frame(strategy, sets, results, names, skipped)


class _ClientCheckpoint:
    """fastpar.sweep's checkpoint file, used from the client with the same
    row numbering, so that a sweep started on a cluster resumes locally and
    the other way round."""

    def __init__(self, path, assets, strategy, sets, costs):
        from .sweep import METRICS, open_checkpoint

        self.n_assets, self.n_sets, self.n_metrics = len(assets), len(sets), len(METRICS)
        self.cp = open_checkpoint(path, assets, strategy, sets, costs)

    def done(self) -> list[set]:
        """Per asset, the set indices the file holds."""
        rows, _ = self.cp.done()
        done = [set() for _ in range(self.n_assets)]
        for r in rows.tolist():
            done[r // self.n_sets].add(r % self.n_sets)
        return done

    def store(self, asset, indices, values):
        """One task's rows of one asset, in one transaction."""
        self.cp.store(asset * self.n_sets + np.asarray(indices, dtype=np.int64), values)

    def results(self) -> list:
        """Per asset, the (sets, metrics) array of every stored row."""
        rows, values = self.cp.done()
        full = np.full((self.n_assets * self.n_sets, self.n_metrics), np.nan)
        full[rows] = values
        return [full[a * self.n_sets:(a + 1) * self.n_sets] for a in range(self.n_assets)]

    def close(self):
        self.cp.close()
