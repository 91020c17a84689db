"""Reading one Parquet shard of a panel (`lstm_app.data.shards`): which keys of `data` can be
streamed, the columns to read, its rows grouped by series (`ShardSeries`), and its static labels,
times and target checked, each DataError naming the shard, the series, the row or time, and the
column.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lstm_app.config.schema import DataConfig
from lstm_app.data.columns import MAX_MAGNITUDE
from lstm_app.data.panel import ID_SEPARATOR
from lstm_app.data.times import time_text
from lstm_app.errors import DataError, first_line


def check_streamable(data: DataConfig) -> None:
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


def shard_columns(data: DataConfig, target: bool) -> dict[str, str]:
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


def read_shard(path: Path, keys: dict[str, str]) -> pa.Table:
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
class ShardSeries:
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
    """DataError at the first empty cell of `column` (`series` `ShardSeries`: name its series)."""
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        where = "" if series is None else f"series '{series.ids[_series_of(series, row)]}', "
        raise DataError(f"{path}: {where}row {row}, column '{name}' ({key}): empty; {what}")


def _series_of(series: ShardSeries, row: int) -> int:
    """The series of file row `row`."""
    return int(series.of_row[np.flatnonzero(series.order == row)[0]])


def group_series(table: pa.Table, data: DataConfig, keys: dict, path: Path) -> ShardSeries:
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
    return ShardSeries(names, order, counts, np.cumsum(counts) - counts, of_row)


def static_labels(table, name: str, key: str, series: ShardSeries, path: Path):
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


def shard_times(table: pa.Table, data: DataConfig, series: ShardSeries, path: Path) -> np.ndarray:
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


def shard_target(table: pa.Table, data: DataConfig, series: ShardSeries, times, path: Path):
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
