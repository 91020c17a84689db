"""A panel bigger than memory (issue 15): one epoch streamed from Parquet shards, its speed and
its peak memory, and the same training streamed and in memory side by side.

    .venv/bin/python bench/panel_scale.py --quick     # 2,000 series x 200 steps, about a minute
    .venv/bin/python bench/panel_scale.py             # 100,000 series x 500 steps, 50 shards

1. Generates a synthetic panel (each series: its own level, a seasonal wave of 12 steps, a
   trend and noise; one static label, `region`, of four categories), shard by shard with
   numpy, written as Parquet shards into a temporary folder (or `--dir`).
2. Trains the article's model (LSTM(50, return_sequences) -> LSTM(50) -> Dense(horizon)) for
   one epoch on `lstm_app.data.shards.stream_dataset` (8 windows per series, `scaler:
   window`), and prints the wall time, windows/s, and the peak memory: `ru_maxrss` and the
   resident size sampled every 0.1 s from /proc/self/statm, during training alone and
   overall. Goal: under 2 GB, whatever the panel's size.
3. A panel that fits in memory (`--compare-series`, default 2,000 series: the full run's first
   shard) trained one epoch in memory (`prepare_panel` + `joined_data` + `make_dataset` from a
   CSV of the same data) and streamed from its shards, same model and seed, alternated twice.
   Goal: streamed within 1.5x of in memory.

Windows/s count the batches after the first (the first one traces the graph); the wall time is
the whole `fit`.
"""

import argparse
import dataclasses
import math
import os
import platform
import resource
import tempfile
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lstm_app.config.load import config_from_dict
from lstm_app.data.shards import scan_shards, stream_dataset

GOAL_BYTES = 2e9  # peak memory
GOAL_RATIO = 1.5  # streamed / in-memory time
REGIONS = np.array(["north", "south", "east", "west"])
PAGE = os.sysconf("SC_PAGE_SIZE")


def synthetic_shard(first: int, count: int, steps: int, seed: int) -> pa.Table:
    """Series `first .. first + count - 1`, `steps` monthly rows each, long format: `id`, `t`
    (date), `y`, `region`. Each series is drawn from `(seed, first)` alone."""
    rng = np.random.default_rng([seed, first])
    m = np.arange(steps)  # (steps,)
    level = rng.uniform(10, 1000, (count, 1))  # (count, 1)
    season = level * rng.uniform(0.05, 0.3, (count, 1))
    phase = rng.uniform(0, 2 * np.pi, (count, 1))
    trend = level * rng.normal(0, 0.002, (count, 1))
    noise = level * 0.03 * rng.normal(size=(count, steps))
    y = level + season * np.sin(2 * np.pi * m / 12 + phase) + trend * m + noise  # (count, steps)
    ids = np.char.add("s", np.char.zfill(np.arange(first, first + count).astype(str), 7))
    series = np.repeat(np.arange(count, dtype=np.int32), steps)  # (rows,)
    region = rng.integers(0, len(REGIONS), count, dtype=np.int32)
    months = np.datetime64("1980-01", "M") + m
    return pa.table(
        {
            "id": pa.DictionaryArray.from_arrays(series, pa.array(ids)),
            "t": pa.array(np.tile(months.astype("datetime64[D]"), count), pa.date32()),
            "y": pa.array(y.reshape(-1)),
            "region": pa.DictionaryArray.from_arrays(region[series], pa.array(REGIONS)),
        }
    )


def write_panel(folder: Path, series: int, steps: int, shards: int, seed: int) -> list[Path]:
    """The panel of `series` series as `shards` Parquet files in `folder`, one built at a
    time."""
    folder.mkdir(parents=True, exist_ok=True)
    edges = np.linspace(0, series, shards + 1).round().astype(int)
    paths = []
    for i in range(shards):
        path = folder / f"part-{i:05d}.parquet"
        pq.write_table(synthetic_shard(edges[i], edges[i + 1] - edges[i], steps, seed), path)
        paths.append(path)
    return paths


def write_csv(paths: list[Path], path: Path) -> Path:
    """The shards `paths` as one CSV, for the in-memory path."""
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    plain = [pc.cast(column, pa.string()) for column in (table["id"], table["region"])]
    table = table.set_column(0, "id", plain[0]).set_column(3, "region", plain[1])
    pacsv.write_csv(table, path)
    return path


def config(path: Path, seed: int):
    """The run's config: the article's model on the panel at `path`."""
    lstm = {"type": "lstm", "units": 50}
    return config_from_dict(
        {
            "name": "panel_scale",
            "seed": seed,
            "data": {
                "source": "csv",
                "path": str(path),
                "target": "y",
                "time_column": "t",
                "series_id": "id",
                "static": ["region"],
                "season_length": 12,
                "window": {"input_width": 24, "horizon": 8},
                "split": {"test_last": 8, "val_last": 8},
                "scaler": "window",
            },
            "model": {
                "layers": [
                    {**lstm, "return_sequences": True},
                    lstm,
                    {"type": "dense", "units": "auto"},
                ]
            },
            "training": {"epochs": 1, "batch_size": 64, "windows_per_series": 8},
            "export": {"formats": []},
        }
    )


class MemorySampler:
    """The resident size of this process, sampled every `interval` s in a thread: its peak
    overall, and while `during` is on."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.peak, self.peak_during, self.during = interval, 0, 0, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE

    def _run(self):
        while not self._stop.is_set():
            size = self.resident()
            self.peak = max(self.peak, size)
            if self.during:
                self.peak_during = max(self.peak_during, size)
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()


def max_rss() -> int:
    """`ru_maxrss` of this process, bytes (Linux counts it in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fit_one_epoch(cfg, n_features: int, dataset_for) -> dict:
    """Trains a new model of `cfg` (seed `cfg.seed`) one epoch on `dataset_for(epoch)`;
    `{"wall": s, "batches": n, "steady_s": s from the first batch's end to the epoch's}`."""
    import keras

    from lstm_app.models.build import build_sequential
    from lstm_app.training.fit import EpochNumber, compile_model

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.batches, self.after_first = 0, None

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if self.after_first is None:
                self.after_first = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.end = time.perf_counter()

    keras.utils.set_random_seed(cfg.seed)
    model = compile_model(build_sequential(cfg.model, n_features), cfg.training)
    number, clock = EpochNumber(0), Clock()
    dataset = dataset_for(number.epoch)
    start = time.perf_counter()
    model.fit(dataset, epochs=1, shuffle=False, verbose=0, callbacks=[number, clock])
    wall = time.perf_counter() - start
    return {"wall": wall, "batches": clock.batches, "steady_s": clock.end - clock.after_first}


def streamed(cfg):
    """`(ShardedPanel, dataset_for(epoch))` streaming `cfg.data.path`'s shards."""
    panel = scan_shards(cfg.data)
    training = cfg.training

    def dataset_for(epoch):
        return stream_dataset(
            panel, training.batch_size, cfg.seed, epoch, training.windows_per_series
        )

    return panel, dataset_for


def in_memory(cfg, csv: Path):
    """`(prepared panel, dataset_for(epoch))` from the CSV `csv`, prepared in memory."""
    from lstm_app.data.panel import joined_data, prepare_panel
    from lstm_app.data.windows import make_dataset

    prepared = prepare_panel(dataclasses.replace(cfg.data, path=csv), cfg.seed)
    train = joined_data(prepared).splits["train"]
    training = cfg.training

    def dataset_for(epoch):
        return make_dataset(
            train, training.batch_size, True, cfg.seed, epoch, training.windows_per_series
        )

    return prepared, dataset_for


def machine() -> str:
    import keras
    import tensorflow as tf

    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    gpus = len(tf.config.list_physical_devices("GPU"))
    return (
        f"{cpu}, {os.cpu_count()} cores, {gpus} GPU(s); Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, pyarrow {pa.__version__}"
    )


def gb(size: float) -> str:
    return f"{size / 1e9:.2f} GB"


def windows_per_s(run: dict, batch_size: int, windows: int) -> float:
    """Windows/s over the batches after the first."""
    return (windows - min(batch_size, windows)) / run["steady_s"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=500, help="rows per series")
    parser.add_argument("--shards", type=int, default=50)
    parser.add_argument("--compare-series", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, help="where to write the shards (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,000 series x 200 steps, 4 shards")
    args = parser.parse_args(argv)
    # a streamed epoch's length is unknown until it ends: Keras says so once per model
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    if args.quick:
        args.series, args.steps, args.shards = 2_000, 200, 4
    if args.steps < 24 + 8 + 16:
        parser.error(
            "--steps must be at least 48: a window (24 + 8) before the val and test blocks"
        )
    sampler = MemorySampler()
    with tempfile.TemporaryDirectory() as temporary:
        root = args.dir or Path(temporary)
        print(f"machine: {machine()}")
        print(f"rss after imports: {gb(sampler.resident())}")

        start = time.perf_counter()
        paths = write_panel(root / "panel", args.series, args.steps, args.shards, args.seed)
        size = sum(p.stat().st_size for p in paths)
        rows = args.series * args.steps
        print(
            f"generated {args.series:,} series x {args.steps} steps = {rows:,} rows in "
            f"{args.shards} shards ({size / 1e6:,.0f} MB on disk) in "
            f"{time.perf_counter() - start:.1f} s"
        )

        cfg = config(root / "panel", args.seed)
        start = time.perf_counter()
        panel, dataset_for = streamed(cfg)
        print(f"scan_shards: {panel.n_series:,} series in {time.perf_counter() - start:.1f} s")
        before = max_rss()
        sampler.during = True
        run = fit_one_epoch(cfg, len(panel.feature_names), dataset_for)
        sampler.during = False
        windows = panel.n_series * cfg.training.windows_per_series
        rate = windows_per_s(run, cfg.training.batch_size, windows)
        print(
            f"streamed epoch: {windows:,} windows in {run['batches']:,} batches, wall "
            f"{run['wall']:.1f} s, {rate:,.0f} windows/s (after the first batch)"
        )
        during, after = sampler.peak_during, max_rss()
        verdict = "met" if max(during, after) < GOAL_BYTES else "MISSED"
        print(
            f"peak memory: sampled RSS during training {gb(during)}, overall {gb(sampler.peak)}; "
            f"ru_maxrss {gb(after)} (before training {gb(before)}); goal < {gb(GOAL_BYTES)}: "
            f"{verdict}"
        )

        compare(args, root, cfg)
    sampler.stop()


def compare(args, root: Path, cfg) -> None:
    """One epoch in memory and streamed, alternated twice, on `--compare-series` series."""
    per_shard = math.ceil(args.series / args.shards)
    shards = max(1, round(args.compare_series / per_shard))
    folder = root / "compare"
    paths = write_panel(folder / "shards", args.compare_series, args.steps, shards, args.seed)
    csv = write_csv(paths, folder / "panel.csv")
    small = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, path=folder / "shards"))
    start = time.perf_counter()
    prepared, memory_for = in_memory(small, csv)
    print(
        f"\ncompare: {args.compare_series:,} series x {args.steps} steps in {shards} shard(s); "
        f"in memory: read_panel + prepare_panel {time.perf_counter() - start:.1f} s"
    )
    panel, stream_for = streamed(small)
    assert panel.feature_names == prepared.feature_names
    windows = len(prepared) * cfg.training.windows_per_series
    batch = cfg.training.batch_size
    rates = {"in memory": [], "streamed": []}
    for attempt in (1, 2):
        for name, dataset_for in (("in memory", memory_for), ("streamed", stream_for)):
            run = fit_one_epoch(small, len(panel.feature_names), dataset_for)
            rates[name].append(windows_per_s(run, batch, windows))
            print(
                f"  {attempt}. {name:9s}: wall {run['wall']:.2f} s, "
                f"{rates[name][-1]:,.0f} windows/s ({windows:,} windows)"
            )
    best = {name: max(values) for name, values in rates.items()}
    ratio = best["in memory"] / best["streamed"]
    verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
    print(
        f"best windows/s: in memory {best['in memory']:,.0f}, streamed {best['streamed']:,.0f}; "
        f"streamed takes {ratio:.2f}x the in-memory time; goal within {GOAL_RATIO}x: {verdict}"
    )


if __name__ == "__main__":
    main()
