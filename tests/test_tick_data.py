"""The data layer as the batch_orchestrator API has it: tick files found and
loaded by date range (order, duplicates, cache), a scenario's window cut
from them with the API's refusals, warm-up bars read from the bar files,
and bars rendered from ticks in memory exactly as the API's importer
rendered the bar files of tests/data/finiex."""

import shutil
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from fastpar.bars import BAR_DTYPE, BarFiles, InsufficientWarmupDataError, render_bars, warmup_bars
from fastpar.ticks import (
    CriticalGapError,
    DataValidationError,
    DuplicateDataError,
    InsufficientHistoricalDataError,
    InsufficientTickDataError,
    NoDataAvailableError,
    NoTicksInTimespanError,
    TickArrays,
    TickArraysData,
    TickDataLoader,
    prepare_window,
    synthetic_ticks,
)
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "finiex" / "processed"


@pytest.fixture(scope="module")
def loader():
    return TickDataLoader(DATA)


def test_index_finds_the_layouts_tick_files(loader):
    assert loader.list_available_symbols() == ["AUDUSD", "EURUSD", "GBPUSD", "USDJPY"]
    files = loader.index_manager.index["EURUSD"]
    assert len(files) >= 2
    assert [f.start_time for f in files] == sorted(f.start_time for f in files)
    # Bar files are not tick files.
    assert all("/ticks/" in str(f.path) for f in files)


def test_load_symbol_data_is_the_apis_sequence(loader):
    """Concatenate the files covering the range in index order, sort by
    timestamp (pandas' default sort), drop duplicates keeping the last,
    cut to the range: done here with pandas directly, step by step."""
    start, end = "2025-09-17T12:00:00+00:00", "2025-09-19T16:00:00+00:00"
    got = loader.load_symbol_data("EURUSD", start, end)
    relevant = loader.index_manager.get_relevant_files(
        "EURUSD", pd.Timestamp(start), pd.Timestamp(end))
    frame = pd.concat([pd.read_parquet(f) for f in relevant], ignore_index=True)
    frame = frame.sort_values("timestamp").reset_index(drop=True)
    frame = frame.drop_duplicates(subset=["time_msc", "bid", "ask"], keep="last")
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    frame = frame[(frame["timestamp"] >= pd.Timestamp(start))
                  & (frame["timestamp"] <= pd.Timestamp(end))]
    pd.testing.assert_frame_equal(got, frame)
    raw = loader.load_symbol_data("EURUSD", start, end, data_mode="raw")
    assert len(raw) > len(got)  # the generated data has exact duplicates
    # Cached per range: a copy each time.
    again = loader.load_symbol_data("EURUSD", start, end)
    assert again is not got
    pd.testing.assert_frame_equal(again, got)


def test_tie_order_is_pandas_sort_of_the_same_frames(tmp_path):
    """Ticks within one second keep the order pandas' sort gives the
    concatenated files, whatever that order is on this machine."""
    root = tmp_path / "mt5" / "ticks" / "EURUSD"
    root.mkdir(parents=True)
    rng = np.random.default_rng(5)
    frames = []
    for k in range(3):
        n = 4000
        ts = pd.to_datetime("2025-09-01") + pd.to_timedelta(
            np.sort(rng.integers(0, 600, n)) + 600 * k, unit="s")
        bid = np.round(1.1 + rng.normal(0, 1e-4, n), 5).astype(np.float32)
        df = pd.DataFrame({"timestamp": ts, "time_msc": ts.astype("int64") // 10**6,
                           "bid": bid, "ask": (bid + np.float32(1e-4)).astype(np.float32)})
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df).replace_schema_metadata(
            {"source_file": f"src{k}.json"})
        pq.write_table(table, root / f"EURUSD_2025090{k}_000000.parquet")
        frames.append(df)
    loader = TickDataLoader(tmp_path)
    got = loader.load_symbol_data("EURUSD", "2025-09-01T00:00:00+00:00",
                                  "2025-09-02T00:00:00+00:00")
    expected = pd.concat(frames, ignore_index=True).sort_values("timestamp").reset_index(
        drop=True).drop_duplicates(subset=["time_msc", "bid", "ask"], keep="last")
    np.testing.assert_array_equal(got["bid"].to_numpy(), expected["bid"].to_numpy())
    # A source imported twice is refused, as the API refuses it.
    shutil.copy(root / "EURUSD_20250900_000000.parquet", root / "EURUSD_20250909_000000.parquet")
    with pytest.raises(DuplicateDataError, match="src0.json"):
        TickDataLoader(tmp_path).load_symbol_data("EURUSD")


def test_loader_refusals(tmp_path, loader):
    with pytest.raises(FileNotFoundError, match="Data directory not found"):
        TickDataLoader(tmp_path / "nowhere")
    with pytest.raises(DataValidationError, match="Invalid data_mode: 'bogus'"):
        loader.load_symbol_data("EURUSD", data_mode="bogus")
    with pytest.raises(DataValidationError, match="must have a time zone"):
        loader.load_symbol_data("EURUSD", "2025-09-17T12:00:00", "2025-09-18T12:00:00")
    assert loader.load_symbol_data("XAUUSD", "2025-09-17T12:00:00+00:00",
                                   "2025-09-18T12:00:00+00:00").empty


def first_tick_at_or_after(loader, symbol, when):
    df = loader.load_symbol_data(symbol, when, "2025-10-30T00:00:00+00:00")
    return df["timestamp"].iloc[0].isoformat()


def test_prepare_window_cuts_as_the_api(loader):
    start = first_tick_at_or_after(loader, "EURUSD", "2025-09-17T13:00:00+00:00")
    w = prepare_window(loader, "EURUSD", start, "2025-09-17T14:00:00+00:00", max_ticks=700)
    assert len(w) == 700 and w.timestamp[0] == pd.Timestamp(start).value
    assert (np.diff(w.timestamp) >= 0).all()
    # float32 prices widen exactly.
    assert np.array_equal(w.bid.astype(np.float32).astype(np.float64), w.bid)
    span = prepare_window(loader, "EURUSD", start, "2025-09-17T14:00:00+00:00",
                          warmup_requirements={"M5": 20})
    assert span.timestamp[-1] <= pd.Timestamp("2025-09-17T14:00:00").value


def test_prepare_window_refusals(loader):
    start = first_tick_at_or_after(loader, "EURUSD", "2025-09-17T13:00:00+00:00")
    later = (pd.Timestamp(start) + pd.Timedelta(milliseconds=500)).isoformat()
    with pytest.raises(InsufficientHistoricalDataError, match="no tick at the start"):
        prepare_window(loader, "EURUSD", later, later, max_ticks=10)
    with pytest.raises(NoDataAvailableError):
        prepare_window(loader, "EURUSD", "2026-01-01T00:00:00+00:00",
                       "2026-01-02T00:00:00+00:00", max_ticks=10)
    with pytest.raises(InsufficientTickDataError, match="max_ticks asks for 10,000,000"):
        prepare_window(loader, "EURUSD", start, start, max_ticks=10_000_000)
    with pytest.raises(DataValidationError, match="max_ticks must be"):
        prepare_window(loader, "EURUSD", start, start, max_ticks=1.5)
    # An end before the start loads nothing; a window written in another
    # time zone is cut by its instants, then by its wall times, as the
    # API's preparation does: 15:00+02:00 to 16:00+02:00 loads 13:00-14:00
    # UTC and keeps the ticks between 15:00 and 16:00 of those: none.
    with pytest.raises(NoDataAvailableError):
        prepare_window(loader, "EURUSD", start, "2025-09-17T12:00:00+00:00",
                       warmup_requirements={"M5": 1})
    shifted = (pd.Timestamp(start).tz_convert("Etc/GMT-2")).isoformat()
    with pytest.raises(NoTicksInTimespanError):
        prepare_window(loader, "EURUSD", shifted, "2025-09-17T16:00:00+02:00",
                       warmup_requirements={"M5": 1})
    # Gaps between tick files inside a timespan window.
    report = loader.index_manager.get_coverage_report("EURUSD")
    gap = max(report.gaps, key=lambda g: g.gap_seconds)
    before = first_tick_at_or_after(
        loader, "EURUSD", (pd.Timestamp(gap.file1.end_time) - pd.Timedelta(hours=1)).isoformat()
        + "+00:00")
    with pytest.raises(CriticalGapError):
        prepare_window(loader, "EURUSD", before,
                       (pd.Timestamp(gap.file2.start_time) + pd.Timedelta(hours=1)).isoformat()
                       + "+00:00", warmup_requirements={"M1": 5})


@pytest.mark.parametrize("timeframe", ["M1", "M5", "M15", "M30", "H1", "H4", "D1"])
@pytest.mark.parametrize("symbol", ["EURUSD", "USDJPY"])
def test_render_bars_is_the_importers(loader, symbol, timeframe):
    """Bars rendered from the tick files equal the bar files the API's
    importer wrote from them, bit for bit (float32 mids, synthetic bars in
    the gaps)."""
    frame = loader.load_symbol_data(symbol, data_mode="raw")
    ts = frame["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
        "datetime64[ns]").astype(np.int64)
    volume = frame["volume"].to_numpy() if "volume" in frame.columns else None
    rendered = render_bars(ts, frame["bid"].to_numpy(), frame["ask"].to_numpy(), volume, timeframe)
    stored = loader.bar_source.bars(symbol, timeframe)
    assert rendered.dtype == BAR_DTYPE
    assert len(rendered) == len(stored)
    for name in BAR_DTYPE.names:
        np.testing.assert_array_equal(rendered[name], stored[name], err_msg=name)


def test_warmup_bars_are_the_last_before_the_start(loader):
    bars = loader.bar_source.bars("EURUSD", "M5")
    start = datetime.fromisoformat("2025-09-17T13:07:03+00:00")
    warm = warmup_bars(bars, start, 20, symbol="EURUSD", timeframe="M5")
    assert len(warm) == 20
    # The bar open at a start inside it is in the warm-up already.
    assert warm["start_ns"][-1] == pd.Timestamp("2025-09-17T13:05:00").value
    with pytest.raises(InsufficientWarmupDataError, match="needs 100000 bars"):
        warmup_bars(bars, start, 100_000, symbol="EURUSD", timeframe="M5")
    with pytest.raises(InsufficientWarmupDataError, match="no time zone"):
        warmup_bars(bars, start.replace(tzinfo=None), 1, symbol="EURUSD", timeframe="M5")
    with pytest.raises(InsufficientWarmupDataError, match="no bar file for EURUSD M7"):
        loader.bar_source.bars("EURUSD", "M7")
    assert BarFiles(DATA).path("EURUSD", "M5") is not None


def test_arrays_are_a_data_worker():
    ticks = synthetic_ticks("EURUSD", days=3)
    data = TickArraysData(ticks)
    frame = data.load_symbol_data("EURUSD", "2025-09-01T10:00:00+00:00",
                                  "2025-09-01T11:00:00+00:00")
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2025-09-01T10:00:00", tz="UTC")
    assert data.load_symbol_data("GBPUSD").empty
    bars = data.bars("EURUSD", "M5")
    assert bars is data.bars("EURUSD", "M5")  # rendered once
    assert (np.diff(bars["start_ns"]) == 5 * 60 * 10**9).all()
    with pytest.raises(InsufficientWarmupDataError, match="no ticks for GBPUSD"):
        data.bars("GBPUSD", "M5")
    assert isinstance(ticks, TickArrays)
