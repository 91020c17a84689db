"""Panels bigger than memory (issue 15): a long-format panel stored as Parquet shards, trained
on by streaming its windows shard by shard, memory bounded by one shard.

    shard_paths("panel/")                -> [panel/part-000.parquet, ...]   sorted by name
    panel = scan_shards(cfg.data)        -> ShardedPanel    ids and static labels checked
    split, skipped = shard_split(panel, 3) -> SplitData     shard 3's series, train split
    stream_dataset(panel, 64, seed, epoch) -> tf.data.Dataset  one epoch of batches

A shard is a `.parquet` file in long format, as a panel CSV is (`lstm_app.data.panel`): one row
per series and time step, columns named by `data.series_id`, `data.time_column` (a timestamp,
date, number or ISO text column; none: the row order), `data.target` and `data.static`.
`data.path` names one shard or a folder of them. A series lies in one shard; its rows need not
be together, but must come in increasing time order.

Two passes. `scan_shards` reads the id and static columns of every shard: no series in two
shards, static labels constant within a series, and the labels' categories, which the one-hot
inputs need before the first batch. `shard_split` then reads one shard whole and prepares its
series as `prepare_panel` + `joined_data` prepare them in memory: the same split bounds
(`split_bounds`, the val and test inputs reaching back `input_width` rows with `test_last`),
the same scaling, one-hot columns and windows (compared in tests/test_shards.py); numpy over
the shard's rows, with no Python loop over rows or series.

An epoch (`stream_dataset`) takes the shards in an order drawn from `(seed, epoch)`; each
shard's windows are shuffled, or sampled (`windows_per_series`), by `make_dataset` from a seed
of `(seed, shard)` and the epoch. The batch order is thus a function of `(seed, epoch)` alone,
and a resumed run sees the batches of one that never stopped. Windows mix within a shard, not
across shards, and each shard's last batch may be short.

Not streamed yet (a one-line DataError naming the key): input columns besides the target
(`data.features`), `data.transforms`, `data.missing` other than `error`, dates split across
columns or read with a format. Not checked, unlike a CSV: missing time steps (rows are taken as
consecutive steps). The static labels' categories are those of every series in the shards,
including series left out as too short.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_app.config.schema import DataConfig
from lstm_app.data.prepare import SPLITS, SplitData
from lstm_app.data.shard_prepare import (
    in_rows,
    narrow_series,
    series_bounds,
    series_scaled,
    static_one_hot,
)
from lstm_app.data.shard_reading import (
    check_streamable,
    group_series,
    read_shard,
    shard_columns,
    shard_target,
    shard_times,
    static_labels,
)
from lstm_app.data.window_scaling import WINDOW_SCALERS, WindowScaling
from lstm_app.data.windows import every_stride, make_dataset
from lstm_app.errors import DataError

SUFFIX = ".parquet"


def shard_paths(path) -> list[Path]:
    """The shards of `path`: a `.parquet` file alone, or a folder's `*.parquet` files sorted
    by name; DataError naming `path` when it is missing or holds none."""
    path = Path(path)
    if path.is_file():
        if path.suffix != SUFFIX:
            raise DataError(f"{path}: expected a {SUFFIX} file or a folder of them (data.path)")
        return [path]
    if path.is_dir():
        paths = sorted((p for p in path.glob(f"*{SUFFIX}") if p.is_file()), key=lambda p: p.name)
        if not paths:
            raise DataError(f"{path}: the folder holds no *{SUFFIX} file (data.path)")
        return paths
    raise DataError(f"{path}: no such file or folder (data.path)")


@dataclass(frozen=True)
class ShardedPanel:
    """A panel stored as Parquet shards, scanned (`scan_shards`) but not loaded.

    Attributes:
        paths: the shards, in name order.
        data: the data section of the config.
        static: `{column: sorted labels over all shards}` for each `data.static` column.
        series_per_shard: `(shards,)` how many series each shard holds.
        feature_names: the model's input columns: the target, then `column=label` one-hot
            columns in `lstm_app.data.panel.static_columns`' order.
    """

    paths: tuple[Path, ...]
    data: DataConfig
    static: dict[str, tuple[str, ...]]
    series_per_shard: tuple[int, ...]
    feature_names: tuple[str, ...]

    @property
    def n_series(self) -> int:
        return sum(self.series_per_shard)

    # its training input (`lstm_app.data.feed.TrainingInput`): every shard read in turn
    streamed = True
    masked = False

    def train_dataset(self, training, seed: int, epoch):
        return stream_dataset(
            self, training.batch_size, seed, epoch, training.windows_per_series, training.stride
        )

    def val_dataset(self, batch_size: int):
        return stream_dataset(self, batch_size, 0, split="val")

    def train_batches(self, training) -> int:
        raise TypeError("a panel read shard by shard learns its batches as it reads them")

    def val_count(self) -> int:
        raise TypeError("a panel read shard by shard counts its val windows as it reads them")

    def held_validation(self, max_bytes: int):
        return None  # read shard by shard: never held

    def input_width(self) -> int:
        return self.data.window.input_width


# --------------------------------------------------------------------------------------------
# the first pass


def scan_shards(data: DataConfig) -> ShardedPanel:
    """Reads the id and static columns of every shard of `data.path`: DataError if a series is
    in two shards (naming both) or a static column holds two values in one series, or if a key
    of `data` is not streamed yet (see the module's docstring)."""
    check_streamable(data)
    paths = shard_paths(data.path)
    keys = shard_columns(data, target=False)
    ids, labels = [], {name: set() for name in data.static}
    for path in paths:
        table = read_shard(path, keys)
        series = group_series(table, data, keys, path)
        for name in data.static:
            labels[name].update(static_labels(table, name, keys[name], series, path)[1])
        ids.append(series.ids)
    _check_one_shard_each(ids, paths)
    static = {name: tuple(sorted(found)) for name, found in labels.items()}
    names = [f"{name}={label}" for name, categories in static.items() for label in categories]
    return ShardedPanel(
        tuple(paths), data, static, tuple(len(i) for i in ids), (data.target, *names)
    )


def _check_one_shard_each(ids: list[np.ndarray], paths: list[Path]) -> None:
    """DataError naming the first series found in two shards, and both shards."""
    every = np.concatenate(ids)  # (series over all shards,)
    _, inverse, counts = np.unique(every.astype(str), return_inverse=True, return_counts=True)
    twice = np.flatnonzero(counts[inverse] > 1)
    if len(twice):
        shard = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
        first, second = np.flatnonzero(inverse == inverse[twice[0]])[:2]
        raise DataError(
            f"series '{every[first]}' is in two shards, {paths[shard[first]]} and "
            f"{paths[shard[second]]}; each series must lie in one shard (data.path)"
        )


def shard_split(panel: ShardedPanel, index: int, name: str = "train") -> tuple[SplitData, int]:
    """Shard `index`'s series prepared and cut to split `name`, end to end, as
    `joined_data(prepare_panel(data))` joins them in memory.

    Each series is split as `prepare_data` splits it (`split_bounds`; with `test_last` the
    val and test inputs reach back `input_width` rows), scaled by `data.scaler` (`series`: by
    its own train rows' mean and standard deviation; `window`, `window_abs`: unscaled, with
    `window_scaling`; `none`: as it is) and given its static labels as constant one-hot
    columns. Series without a window in one of the three splits (or whose train part varies
    by less than `MIN_SPREAD`) are left out, as `prepare_panel` leaves them out.

    Returns:
        `(split, skipped)`: the SplitData of the kept series joined end to end (`features`
        `(rows, n_features)` float32, `target` `(rows,)` float32, `starts` `(windows,)`,
        `series_windows` `(kept series,)`), and how many series were left out.
    """
    path, data = panel.paths[index], panel.data
    width, horizon = data.window.input_width, data.window.horizon
    keys = shard_columns(data, target=True)
    table = read_shard(path, keys)
    series = group_series(table, data, keys, path)
    labels = {
        column: static_labels(table, column, keys[column], series, path) for column in data.static
    }
    times = shard_times(table, data, series, path)
    values = shard_target(table, data, series, times, path)
    del table
    bounds = series_bounds(series.counts, data)  # (series, 3, 2)
    windows = np.maximum(bounds[:, :, 1] - bounds[:, :, 0] - width - horizon + 1, 0)
    kept = (windows > 0).all(axis=1)  # (series,)
    train = in_rows(series, bounds[:, 0, 0], bounds[:, 0, 1])
    if kept.any():
        kept &= ~narrow_series(values, series, train, kept)
    scaled = series_scaled(values, series, train) if data.scaler == "series" else values
    split = SPLITS.index(name)
    rows = in_rows(series, bounds[:, split, 0], bounds[:, split, 1]) & kept[series.of_row]
    onehot = static_one_hot(panel.static, labels, series, path)[
        series.of_row[rows]
    ]  # (rows, one-hot columns)
    lengths = (bounds[kept, split, 1] - bounds[kept, split, 0]).astype(np.int64)  # (kept,)
    counts = windows[kept, split].astype(np.int64)
    firsts = np.repeat(np.cumsum(lengths) - lengths, counts)  # each window's series' first row
    starts = firsts + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    scaling = None
    if data.scaler in WINDOW_SCALERS:
        scaling = WindowScaling(data.scaler, (True,)).with_columns(onehot.shape[1])
    result = SplitData(
        name=name,
        features=np.concatenate([scaled[rows, None], onehot], axis=1).astype(np.float32),
        target=scaled[rows].astype(np.float32),
        raw_target=values[rows],
        times=times[rows],
        observed=np.ones(int(rows.sum()), bool),
        first_row=0,
        input_width=width,
        horizon=horizon,
        starts=starts,
        window_scaling=scaling,
        series_windows=counts,
    )
    return result, int(len(kept) - kept.sum())


# --------------------------------------------------------------------------------------------
# streaming


def shard_order(n_shards: int, seed: int, epoch: int) -> np.ndarray:
    """`(n_shards,)` the order of the shards in epoch `epoch`, drawn from `(seed, epoch)`
    alone."""
    return np.random.default_rng([seed, epoch]).permutation(n_shards)


def shard_seed(seed: int, index: int) -> int:
    """The seed of shard `index`'s window order: drawn from `(seed, index)`, below 2**32."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _epoch_number(epoch) -> int:
    """An epoch given as an int or as an int64 `tf.Variable` (read now)."""
    return int(epoch.numpy()) if hasattr(epoch, "numpy") else int(epoch)


def _shard_batches(panel, index, batch_size, seed, epoch, windows_per_series, stride, name):
    """The batches of shard `index`'s split `name` for epoch `epoch`, as numpy arrays (the
    train split shuffled and sampled, the others in order); the shard's arrays are released
    when the last batch has been taken."""
    split, _ = shard_split(panel, index, name)
    if split.n_windows == 0:  # every series too short
        return
    train = name == "train"
    dataset = make_dataset(
        every_stride(split, stride) if train else split,
        batch_size,
        shuffle=train,
        seed=shard_seed(seed, index),
        epoch=epoch,
        windows_per_series=windows_per_series if train else None,
    )
    del split
    for inputs, targets in dataset:
        yield inputs.numpy(), targets.numpy()


def stream_dataset(
    panel: ShardedPanel,
    batch_size: int,
    seed: int,
    epoch=0,
    windows_per_series: int | None = None,
    stride: int = 1,
    split: str = "train",
):
    """A `tf.data.Dataset` of one epoch of training batches (or of another split's, every
    window in shard and file order: validation), read shard by shard.

    Args:
        panel: the scanned shards (`scan_shards`).
        batch_size: windows per batch (each shard's last batch may be smaller).
        seed: the shard order of epoch e is drawn from `(seed, e)`, and each shard's window
            order from `(shard_seed(seed, shard), e)`: the same `(seed, epoch)`, the same
            batches.
        epoch: an int, or an int64 `tf.Variable` read each time iteration starts
            (`training.fit.EpochNumber`: `fit` gets epoch e's order at epoch e).
        windows_per_series: each epoch, draw this many windows of each series (with
            replacement); None: every window (`make_dataset`).
        stride: keep every `stride`-th window of each series (`every_stride`).
        split: `train`, or `val` / `test` for their windows in order (no sampling).

    Returns:
        Batches of inputs `(batch, input_width, n_features)` float32 and targets
        `(batch, horizon)` float32; one shard's arrays are held at a time. The number of
        batches is unknown until the first epoch ends (Keras then learns it), and the same in
        every epoch.

    Example:
        >>> model.fit(stream_dataset(scan_shards(cfg.data), 64, seed=0), epochs=1)
    """
    import tensorflow as tf  # here, so that reading and checking shards never waits for it

    width, horizon = panel.data.window.input_width, panel.data.window.horizon

    def batches():  # called as each iteration starts
        number = _epoch_number(epoch)
        order = shard_order(len(panel.paths), seed, number) if split == "train" else None
        for index in range(len(panel.paths)) if order is None else order:
            yield from _shard_batches(
                panel, int(index), batch_size, seed, number, windows_per_series, stride, split
            )

    signature = (
        tf.TensorSpec((None, width, len(panel.feature_names)), tf.float32),
        tf.TensorSpec((None, horizon), tf.float32),
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return dataset.prefetch(tf.data.AUTOTUNE)
