"""One shard's series prepared as `prepare_data` prepares a series, for
`lstm_app.data.shards.shard_split`: numpy over the shard's rows grouped by series
(`ShardSeries`), giving each series' split bounds, the rows of a split, the series
`prepare_panel` leaves out as too narrow, per-series scaling, and the static labels as one-hot
columns.
"""

from pathlib import Path

import numpy as np

from lstm_app.config.schema import DataConfig
from lstm_app.data.prepare import MIN_SPREAD, SPLITS, split_bounds
from lstm_app.data.shard_reading import ShardSeries
from lstm_app.errors import DataError


def series_bounds(counts: np.ndarray, data: DataConfig) -> np.ndarray:
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


def in_rows(series: ShardSeries, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """`(rows,)` bool: the rows of `series.order` at positions `[start, stop)` (each
    `(series,)`) of their series."""
    position = np.arange(len(series.order)) - np.repeat(series.firsts, series.counts)
    return (position >= start[series.of_row]) & (position < stop[series.of_row])


def narrow_series(values: np.ndarray, series: ShardSeries, train: np.ndarray, kept: np.ndarray):
    """`(series,)` bool: the kept series whose train part varies, but by less than
    `MIN_SPREAD` (`prepare_data` refuses them, so `prepare_panel` leaves them out)."""
    rows = train & kept[series.of_row]  # series by series, none empty
    sizes = np.bincount(series.of_row[rows], minlength=len(series.ids))[kept]
    starts = np.cumsum(sizes) - sizes
    spread = np.maximum.reduceat(values[rows], starts) - np.minimum.reduceat(values[rows], starts)
    narrow = np.zeros(len(kept), bool)
    narrow[np.flatnonzero(kept)] = (spread > 0) & (spread < MIN_SPREAD)
    return narrow


def series_scaled(values: np.ndarray, series: ShardSeries, train: np.ndarray) -> np.ndarray:
    """`values` `(rows,)` scaled per series by its train rows' mean and standard deviation
    (`Scaler.fit("series")`: a constant series by 1)."""
    of_train = series.of_row[train]
    n = np.maximum(np.bincount(of_train, minlength=len(series.ids)), 1)  # (series,)
    mean = np.bincount(of_train, values[train], len(series.ids)) / n
    deviation = values[train] - mean[of_train]
    std = np.sqrt(np.bincount(of_train, deviation * deviation, len(series.ids)) / n)
    std = np.where(std > 0, std, 1.0)
    return (values - mean[series.of_row]) / std[series.of_row]


def static_one_hot(static: dict, codes: dict, series: ShardSeries, path: Path) -> np.ndarray:
    """`(series, one-hot columns)` float32: each series' static labels, in the columns of
    `ShardedPanel.feature_names` (`static`: `ShardedPanel.static`, the categories scanned)."""
    blocks = [np.zeros((len(series.ids), 0), np.float32)]
    for name, categories in static.items():
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
