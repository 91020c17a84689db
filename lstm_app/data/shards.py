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
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lstm_app.config.schema import DataConfig
from lstm_app.data.io import MAX_MAGNITUDE, time_text
from lstm_app.data.panel import ID_SEPARATOR
from lstm_app.data.prepare import MIN_SPREAD, SPLITS, SplitData, every_stride, split_bounds
from lstm_app.data.window_scaling import WINDOW_SCALERS, WindowScaling
from lstm_app.data.windows import make_dataset
from lstm_app.errors import DataError, first_line

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


# --------------------------------------------------------------------------------------------
# reading a shard


def _check_streamable(data: DataConfig) -> None:
    """DataError naming the first key that streaming does not support yet."""
    path = data.path
    if data.series_id is None:
        raise DataError(f"{path}: data.series_id: Parquet shards hold a panel; name its id column")
    if tuple(data.features) != (data.target,):
        raise DataError(
            f"{path}: data.features: only the target ('{data.target}') is streamed from "
            f"Parquet shards, got {list(data.features)}; remove the key"
        )
    if data.transforms:
        raise DataError(
            f"{path}: data.transforms: not applied to Parquet shards yet, got "
            f"{data.transforms if isinstance(data.transforms, str) else list(data.transforms)}; "
            "set it to []"
        )
    if data.missing != "error":
        raise DataError(
            f"{path}: data.missing: only error is supported for Parquet shards, got "
            f"'{data.missing}'; fill the gaps before writing the shards"
        )
    for key in ("time_columns", "time_format", "dayfirst"):
        if getattr(data, key) is not None:
            raise DataError(
                f"{path}: data.{key}: not read from Parquet shards; store the time as one "
                "timestamp, date or number column (data.time_column)"
            )


def _columns(data: DataConfig, target: bool) -> dict[str, str]:
    """`{column: its config key}` of the columns to read: ids, static labels and, with
    `target`, the time and the target."""
    one = len(data.series_id) == 1
    keys = {
        name: "data.series_id" if one else f"data.series_id[{i}]"
        for i, name in enumerate(data.series_id)
    }
    for i, name in enumerate(data.static):
        keys.setdefault(name, f"data.static[{i}]")
    if target:
        if data.time_column is not None:
            keys[data.time_column] = "data.time_column"
        keys[data.target] = "data.target"
    return keys


def _read(path: Path, keys: dict[str, str]) -> pa.Table:
    """The columns `keys` of the shard `path`; DataError naming a missing column's key."""
    try:
        names = pq.read_schema(path).names
        for name, key in keys.items():
            if name not in names:
                raise DataError(f"{path}: no column '{name}' ({key}); the shard has {names}")
        return pq.read_table(path, columns=list(keys))
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{path}: not a readable Parquet file ({first_line(err)})") from None


@dataclass(frozen=True)
class _Series:
    """The series of one shard: its rows grouped by series.

    Attributes:
        ids: `(series,)` str, in the order they first appear in the shard.
        order: `(rows,)` the shard's rows, series by series, each series' in file order.
        counts: `(series,)` rows of each series.
        firsts: `(series,)` where each series' rows begin in `order`.
        of_row: `(rows,)` the series of each row of `order`.
    """

    ids: np.ndarray
    order: np.ndarray
    counts: np.ndarray
    firsts: np.ndarray
    of_row: np.ndarray


def _strings(table: pa.Table, name: str) -> pa.Array:
    """Column `name` as text, in one chunk."""
    return pc.cast(table.column(name), pa.string()).combine_chunks()


def _no_nulls(column: pa.Array, name: str, key: str, path: Path, what: str, series=None) -> None:
    """DataError at the first empty cell of `column` (`series` `_Series`: name its series)."""
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        where = "" if series is None else f"series '{series.ids[_series_of(series, row)]}', "
        raise DataError(f"{path}: {where}row {row}, column '{name}' ({key}): empty; {what}")


def _series_of(series: _Series, row: int) -> int:
    """The series of file row `row`."""
    return int(series.of_row[np.flatnonzero(series.order == row)[0]])


def _group(table: pa.Table, data: DataConfig, keys: dict, path: Path) -> _Series:
    """The shard's rows grouped by series, named by their id cells joined by `|`."""
    parts = []
    for name in data.series_id:
        part = _strings(table, name)
        _no_nulls(part, name, keys[name], path, "every row must name its series")
        parts.append(part)
    ids = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ID_SEPARATOR)
    encoded = pc.dictionary_encode(ids)  # codes in the order series first appear
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)  # (rows,)
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)  # (series,)
    counts = np.bincount(codes, minlength=len(names))
    order = np.argsort(codes, kind="stable")
    of_row = np.repeat(np.arange(len(names)), counts)
    return _Series(names, order, counts, np.cumsum(counts) - counts, of_row)


def _static_labels(table, name: str, key: str, series: _Series, path: Path):
    """`(codes (series,), labels)`: each series' label of static column `name`, as an index
    into `labels`; DataError naming the series, the column and both values where a series
    holds two."""
    column = _strings(table, name)
    _no_nulls(column, name, key, path, "a static column holds one value per series", series)
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.to_numpy(zero_copy_only=False)[series.order]  # (rows,) by series
    first = codes[series.firsts]  # (series,)
    other = np.flatnonzero(codes != np.repeat(first, series.counts))
    labels = encoded.dictionary.to_pylist()
    if len(other):
        j, s = other[0], series.of_row[other[0]]
        raise DataError(
            f"{path}: series '{series.ids[s]}', column '{name}' ({key}): '{labels[first[s]]}' "
            f"at row {series.order[series.firsts[s]]} but '{labels[codes[j]]}' at row "
            f"{series.order[j]}; a static column holds one value per series"
        )
    return first, labels


def _times(table: pa.Table, data: DataConfig, series: _Series, path: Path) -> np.ndarray:
    """`(rows,)` the times of the rows of `series.order`; DataError naming the series and the
    time where one does not come after the row before."""
    if data.time_column is None:
        return series.order.copy()  # the row order
    name, key = data.time_column, "data.time_column"
    column = table.column(name)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = pc.cast(column, pa.timestamp("ns"))
        except pa.ArrowInvalid as err:
            raise DataError(
                f"{path}: column '{name}' ({key}): {first_line(err)}; store times as a "
                "timestamp, date or number column, or as ISO text (2000-01-31)"
            ) from None
    column = column.combine_chunks()
    _no_nulls(column, name, key, path, "every row needs its time", series)
    times = column.to_numpy(zero_copy_only=False)[series.order]
    back = np.flatnonzero((times[1:] <= times[:-1]) & (series.of_row[1:] == series.of_row[:-1]))
    if len(back):
        j = back[0] + 1
        raise DataError(
            f"{path}: series '{series.ids[series.of_row[j]]}', row {series.order[j]}: time "
            f"{time_text(times[j])} does not come after the row before "
            f"({time_text(times[j - 1])}); a series' rows must be in increasing time order, "
            "without repeats"
        )
    return times


def _target(table: pa.Table, data: DataConfig, series: _Series, times, path: Path):
    """`(rows,)` float64 target of the rows of `series.order`; DataError naming the series and
    the time of the first value that is not a finite number within +-`MAX_MAGNITUDE`."""
    name, key = data.target, "data.target"
    try:
        column = pc.cast(table.column(name), pa.float64())
    except pa.ArrowInvalid as err:
        raise DataError(
            f"{path}: column '{name}' ({key}): not numeric ({first_line(err)})"
        ) from None
    values = column.to_numpy()[series.order]  # empty cells: NaN
    bad = np.flatnonzero(~(np.abs(values) <= MAX_MAGNITUDE))
    if len(bad):
        j = bad[0]
        if np.isfinite(values[j]):
            why = f"{values[j]:.4g} is too large; values must be within +-{MAX_MAGNITUDE:g}"
        elif table.column(name)[int(series.order[j])].is_valid:
            why = f"{values[j]} is not a finite number (data.missing: error)"
        else:
            why = "empty; every row needs a value (data.missing: error)"
        raise DataError(
            f"{path}: series '{series.ids[series.of_row[j]]}', time {time_text(times[j])}, "
            f"column '{name}' ({key}): {why}"
        )
    return values


# --------------------------------------------------------------------------------------------
# the first pass


def scan_shards(data: DataConfig) -> ShardedPanel:
    """Reads the id and static columns of every shard of `data.path`: DataError if a series is
    in two shards (naming both) or a static column holds two values in one series, or if a key
    of `data` is not streamed yet (see the module's docstring)."""
    _check_streamable(data)
    paths = shard_paths(data.path)
    keys = _columns(data, target=False)
    ids, labels = [], {name: set() for name in data.static}
    for path in paths:
        table = _read(path, keys)
        series = _group(table, data, keys, path)
        for name in data.static:
            labels[name].update(_static_labels(table, name, keys[name], series, path)[1])
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


# --------------------------------------------------------------------------------------------
# one shard prepared


def _bounds(counts: np.ndarray, data: DataConfig) -> np.ndarray:
    """`(series, 3, 2)` the `[start, stop)` rows of each series' train, val and test splits,
    as `prepare_data` cuts them: `split_bounds`, once per distinct length, the val and test
    inputs reaching back `input_width` rows with `test_last`."""
    lengths, inverse = np.unique(counts, return_inverse=True)
    table = np.array(
        [[split_bounds(int(n), data.split)[name] for name in SPLITS] for n in lengths], np.int64
    ).reshape(len(lengths), len(SPLITS), 2)
    bounds = table[inverse]  # (series, 3, 2)
    if data.split.test_last is not None:  # blocks of targets: inputs reach back before them
        bounds[:, 1:, 0] = np.maximum(bounds[:, 1:, 0] - data.window.input_width, 0)
    return bounds


def _in_rows(series: _Series, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """`(rows,)` bool: the rows of `series.order` at positions `[start, stop)` (each
    `(series,)`) of their series."""
    position = np.arange(len(series.order)) - np.repeat(series.firsts, series.counts)
    return (position >= start[series.of_row]) & (position < stop[series.of_row])


def _narrow(values: np.ndarray, series: _Series, train: np.ndarray, kept: np.ndarray):
    """`(series,)` bool: the kept series whose train part varies, but by less than
    `MIN_SPREAD` (`prepare_data` refuses them, so `prepare_panel` leaves them out)."""
    rows = train & kept[series.of_row]  # series by series, none empty
    sizes = np.bincount(series.of_row[rows], minlength=len(series.ids))[kept]
    starts = np.cumsum(sizes) - sizes
    spread = np.maximum.reduceat(values[rows], starts) - np.minimum.reduceat(values[rows], starts)
    narrow = np.zeros(len(kept), bool)
    narrow[np.flatnonzero(kept)] = (spread > 0) & (spread < MIN_SPREAD)
    return narrow


def _series_scaled(values: np.ndarray, series: _Series, train: np.ndarray) -> np.ndarray:
    """`values` `(rows,)` scaled per series by its train rows' mean and standard deviation
    (`Scaler.fit("series")`: a constant series by 1)."""
    of_train = series.of_row[train]
    n = np.maximum(np.bincount(of_train, minlength=len(series.ids)), 1)  # (series,)
    mean = np.bincount(of_train, values[train], len(series.ids)) / n
    deviation = values[train] - mean[of_train]
    std = np.sqrt(np.bincount(of_train, deviation * deviation, len(series.ids)) / n)
    std = np.where(std > 0, std, 1.0)
    return (values - mean[series.of_row]) / std[series.of_row]


def _one_hot(panel: ShardedPanel, codes: dict, series: _Series, path: Path) -> np.ndarray:
    """`(series, one-hot columns)` float32: each series' static labels, in the columns of
    `panel.feature_names`."""
    blocks = [np.zeros((len(series.ids), 0), np.float32)]
    for name, categories in panel.static.items():
        first, labels = codes[name]
        where = {label: i for i, label in enumerate(categories)}
        unknown = [label for label in labels if label not in where]
        if unknown:
            raise DataError(
                f"{path}: column '{name}': label '{unknown[0]}' was not there when the shards "
                "were scanned; scan them again (scan_shards)"
            )
        column = np.array([where[label] for label in labels], np.int64)[first]  # (series,)
        blocks.append((column[:, None] == np.arange(len(categories))).astype(np.float32))
    return np.concatenate(blocks, axis=1)


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
    keys = _columns(data, target=True)
    table = _read(path, keys)
    series = _group(table, data, keys, path)
    labels = {
        column: _static_labels(table, column, keys[column], series, path) for column in data.static
    }
    times = _times(table, data, series, path)
    values = _target(table, data, series, times, path)
    del table
    bounds = _bounds(series.counts, data)  # (series, 3, 2)
    windows = np.maximum(bounds[:, :, 1] - bounds[:, :, 0] - width - horizon + 1, 0)
    kept = (windows > 0).all(axis=1)  # (series,)
    train = _in_rows(series, bounds[:, 0, 0], bounds[:, 0, 1])
    if kept.any():
        kept &= ~_narrow(values, series, train, kept)
    scaled = _series_scaled(values, series, train) if data.scaler == "series" else values
    split = SPLITS.index(name)
    rows = _in_rows(series, bounds[:, split, 0], bounds[:, split, 1]) & kept[series.of_row]
    onehot = _one_hot(panel, labels, series, path)[series.of_row[rows]]  # (rows, one-hot columns)
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
