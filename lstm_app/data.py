"""Data: load a series, split it by time, scale it on the train split, cut it into windows.

    load_series(cfg.data)            -> TimeSeries       (time, n_features) inputs, (time,) target
    split_bounds(n, cfg.data.split)  -> row ranges       train | val | test, in time order
    Scaler.fit(train split)          -> Scaler           statistics of the train split only
    prepare_data(cfg.data)           -> PreparedData     all of the above, one SplitData per split
    window_views(features, target)   -> inputs, targets  every window, as strided views (no copy)
    make_dataset(split, batch_size)  -> tf.data.Dataset  batches gathered from the split's series

Windows are cut inside each split, so no window crosses a split boundary, and a split's series
is held once: a window is gathered only when its batch is needed.

Errors in the data (missing file or column, a value that is not a number, a series too short to
give a window in some split) raise `DataError` with one line naming the file, the line and the
column. Nothing here imports TensorFlow but `make_dataset`.
"""

import difflib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config import DataConfig, SineConfig, SplitConfig
from lstm_app.errors import DataError

SPLITS = ("train", "val", "test")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})


@dataclass(frozen=True)
class TimeSeries:
    """A series with its input columns, its target column and its time stamps.

    Attributes:
        features: `(time, n_features)` float64, the input columns in `feature_names` order.
        target: `(time,)` float64, the column to forecast, in its original units.
        times: `(time,)` datetime64 stamps from the time column, or int64 steps 0, 1, ...
        feature_names: the input columns' names.
        target_name: the target column's name.
        source: where the series came from, for messages (the CSV's path, or `sine`).
    """

    features: np.ndarray
    target: np.ndarray
    times: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    source: str

    def __len__(self) -> int:
        return len(self.target)

    def rows(self, start: int, stop: int) -> "TimeSeries":
        """Rows `start:stop`, as views of this series."""
        return TimeSeries(
            self.features[start:stop],
            self.target[start:stop],
            self.times[start:stop],
            self.feature_names,
            self.target_name,
            self.source,
        )


# --------------------------------------------------------------------------------------------
# loading


def sine_series(sine: SineConfig, seed: int) -> TimeSeries:
    """A generated series `amplitude*sin(2*pi*t/period) + trend*t + noise*N(0, 1)`, t = 0..length-1.

    Returns:
        A TimeSeries with one column, `value`, as both feature and target; times are the steps.
    """
    t = np.arange(sine.length)
    noise = np.random.default_rng(seed).standard_normal(sine.length)
    value = sine.amplitude * np.sin(2 * np.pi * t / sine.period) + sine.trend * t
    value = value + sine.noise * noise
    return TimeSeries(value[:, None], value, t, ("value",), "value", "sine")


def read_csv(path: Path) -> pd.DataFrame:
    """Every cell of a CSV file as a stripped string (header names stripped too).

    Raises DataError naming the file when it is missing, empty, not UTF-8 or not a CSV table.
    """
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8"
        )
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found (data.path)") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file (data.path)") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a header row, then data") from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1]
        raise DataError(f"{path}: cannot be read as CSV: {detail}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file: {err.strerror}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def _line(row: int) -> int:
    """The file line of data row `row` (0-based), the header being line 1."""
    return row + 2


def _require_column(frame: pd.DataFrame, name: str, key: str, path: Path) -> pd.Series:
    """The column `name` (asked for by config key `key`), or a DataError naming both."""
    if name in frame.columns:
        return frame[name]
    columns = [str(c) for c in frame.columns]
    by_lower = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    hint = f"; did you mean '{by_lower[close[0]]}'?" if close else ""
    raise DataError(
        f"{path}: column '{name}' ({key}) not found; the file has columns: "
        f"{', '.join(columns)}{hint}"
    )


def _numbers(column: pd.Series, key: str, path: Path) -> np.ndarray:
    """A text column as finite float64 numbers; DataError at the first cell that is not one."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    row = int(np.flatnonzero(bad)[0])
    where = f"{path}: line {_line(row)}, column '{column.name}' ({key})"
    missing = column.str.lower().isin(MISSING_TOKENS).to_numpy()
    if missing[row]:
        raise DataError(
            f"{where}: missing value {column.iloc[row]!r} ({int(missing.sum())} missing in this "
            "column); expected a number in every row"
        )
    raise DataError(f"{where}: expected a finite number, got {column.iloc[row]!r}")


def _times(column: pd.Series, path: Path) -> np.ndarray:
    """A text column as increasing datetime64 stamps; DataError at the first bad row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": parsed per cell
        times = pd.to_datetime(column, errors="coerce")
    where = f"{path}: line {{}}, column '{column.name}' (data.time_column)"
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{where.format(_line(row))}: expected a date or time, got {column.iloc[row]!r}"
        )
    stamps = times.to_numpy()
    backwards = np.flatnonzero(stamps[1:] <= stamps[:-1])
    if len(backwards):
        row = int(backwards[0]) + 1
        raise DataError(
            f"{where.format(_line(row))}: {column.iloc[row]!r} does not come after the row "
            f"before ({column.iloc[row - 1]!r}); rows must be in increasing time order, "
            "without repeats"
        )
    return stamps


def csv_series(data: DataConfig) -> TimeSeries:
    """The feature and target columns (and time stamps) of `data.path`, checked cell by cell."""
    frame = read_csv(data.path)
    if frame.empty:
        raise DataError(f"{data.path}: no data rows under the header")

    def numbers(name: str, key: str) -> np.ndarray:
        return _numbers(_require_column(frame, name, key, data.path), key, data.path)

    target = numbers(data.target, "data.target")
    columns = [numbers(name, f"data.features[{i}]") for i, name in enumerate(data.features)]
    if data.time_column is None:
        times = np.arange(len(frame))
    else:
        column = _require_column(frame, data.time_column, "data.time_column", data.path)
        times = _times(column, data.path)
    return TimeSeries(
        np.stack(columns, axis=1), target, times, data.features, data.target, str(data.path)
    )


def load_series(data: DataConfig, seed: int = 0) -> TimeSeries:
    """The series that `data` describes: a CSV file, or a generated sine (seeded by `seed`)."""
    if data.source == "sine":
        return sine_series(data.sine, seed)
    return csv_series(data)


# --------------------------------------------------------------------------------------------
# splitting and scaling


def split_bounds(n_rows: int, split: SplitConfig) -> dict[str, tuple[int, int]]:
    """Row ranges `[start, stop)` of the train, val and test splits, in time order.

    Example: 144 rows with fractions 0.6/0.2/0.2 -> train (0, 86), val (86, 115), test (115, 144).
    """
    n_train = math.floor(n_rows * split.train + 0.5)
    n_val = math.floor(n_rows * split.val + 0.5)
    return {
        "train": (0, n_train),
        "val": (n_train, n_train + n_val),
        "test": (n_train + n_val, n_rows),
    }


@dataclass(frozen=True)
class Scaler:
    """Per-column scaling `(x - offset) / scale`, with statistics of the train split.

    `standard`: offset = mean, scale = standard deviation; `minmax`: offset = min,
    scale = max - min; `none`: offset 0, scale 1. A column constant in the train split
    gets scale 1, so it stays finite.

    Attributes:
        kind: `standard`, `minmax` or `none`.
        offset: `(columns,)` float64.
        scale: `(columns,)` float64.
    """

    kind: str
    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, kind: str, values: np.ndarray) -> "Scaler":
        """Fits to `values` of shape `(time, columns)`."""
        if kind == "standard":
            offset, scale = values.mean(axis=0), values.std(axis=0)
        elif kind == "minmax":
            offset, scale = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        elif kind == "none":
            offset, scale = np.zeros(values.shape[1]), np.ones(values.shape[1])
        else:
            raise ValueError(f"kind must be standard, minmax or none, got {kind!r}")
        scale = np.where(scale > 0, scale, 1.0)
        return cls(kind, offset, scale)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """`(..., columns)` original units -> scaled."""
        return (values - self.offset) / self.scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        """`(..., columns)` scaled -> original units."""
        return values * self.scale + self.offset

    def to_dict(self, columns) -> dict:
        """`{"kind": .., "columns": {name: {"offset": .., "scale": ..}}}`, for JSON."""
        return {
            "kind": self.kind,
            "columns": {
                name: {"offset": float(o), "scale": float(s)}
                for name, o, s in zip(columns, self.offset, self.scale, strict=True)
            },
        }


# --------------------------------------------------------------------------------------------
# windows


def count_windows(n_rows: int, input_width: int, horizon: int) -> int:
    """How many windows `n_rows` consecutive rows give: `n_rows - input_width - horizon + 1`."""
    return max(0, n_rows - input_width - horizon + 1)


def window_views(features: np.ndarray, target: np.ndarray, input_width: int, horizon: int):
    """Every (input, target) window of a series, as read-only strided views: nothing is copied.

    Window `i` has inputs `features[i : i + input_width]` and targets
    `target[i + input_width : i + input_width + horizon]`.

    Args:
        features: `(time, n_features)`.
        target: `(time,)`.

    Returns:
        inputs `(n, input_width, n_features)` and targets `(n, horizon)`, where
        `n = time - input_width - horizon + 1`.

    Example:
        >>> x, y = window_views(np.arange(6)[:, None], np.arange(6), input_width=3, horizon=2)
        >>> x[:, :, 0].tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3]], [[3, 4], [4, 5]])
    """
    n = count_windows(len(target), input_width, horizon)
    if n == 0:
        raise ValueError(
            f"a series of {len(target)} steps has no window of input_width {input_width} + "
            f"horizon {horizon}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(features, input_width, axis=0)
    inputs = windows[:n].transpose(0, 2, 1)  # (n, n_features, width) -> (n, width, n_features)
    targets = np.lib.stride_tricks.sliding_window_view(target[input_width:], horizon)[:n]
    return inputs, targets


@dataclass(frozen=True)
class SplitData:
    """One chronological split: the scaled series the model sees, and the original target.

    Attributes:
        name: `train`, `val` or `test`.
        features: `(time, n_features)` float32, scaled.
        target: `(time,)` float32, scaled.
        raw_target: `(time,)` float64, the target in original units.
        times: `(time,)` time stamps (or steps).
        input_width, horizon: the window geometry.
    """

    name: str
    features: np.ndarray
    target: np.ndarray
    raw_target: np.ndarray
    times: np.ndarray
    input_width: int
    horizon: int

    @property
    def n_windows(self) -> int:
        return count_windows(len(self.target), self.input_width, self.horizon)

    def windows(self):
        """Scaled inputs `(n, input_width, n_features)` and targets `(n, horizon)` (views)."""
        return window_views(self.features, self.target, self.input_width, self.horizon)

    def raw_target_windows(self) -> np.ndarray:
        """The targets of every window in original units, `(n, horizon)`."""
        return window_views(
            self.raw_target[:, None], self.raw_target, self.input_width, self.horizon
        )[1]

    def target_times(self) -> np.ndarray:
        """The time stamp of each window's each target step, `(n, horizon)`."""
        steps = np.arange(len(self.times))
        return self.times[window_views(steps[:, None], steps, self.input_width, self.horizon)[1]]


@dataclass(frozen=True)
class PreparedData:
    """A series split by time and scaled, ready to be windowed.

    Attributes:
        series: the whole series, in original units.
        splits: `{"train": SplitData, "val": ..., "test": ...}`.
        feature_scaler: fitted on the train split's feature columns.
        target_scaler: fitted on the train split's target (one column).
    """

    series: TimeSeries
    splits: dict[str, SplitData]
    feature_scaler: Scaler
    target_scaler: Scaler

    @property
    def n_features(self) -> int:
        return self.series.features.shape[1]


def prepare_data(data: DataConfig, seed: int = 0) -> PreparedData:
    """Loads the series of `data`, splits it by time and scales it with train statistics.

    Raises DataError when a split is too short to give one window.
    """
    series = load_series(data, seed)
    width, horizon = data.window.input_width, data.window.horizon
    bounds = split_bounds(len(series), data.split)
    for name, (start, stop) in bounds.items():
        if count_windows(stop - start, width, horizon) == 0:
            raise DataError(
                f"{series.source}: the {name} split has {stop - start} of the {len(series)} "
                f"rows, fewer than the {width + horizon} one window needs (data.window."
                f"input_width {width} + horizon {horizon}); use a longer series, a shorter "
                f"window or a larger data.split.{name}"
            )
    train = series.rows(*bounds["train"])
    feature_scaler = Scaler.fit(data.scaler, train.features)
    target_scaler = Scaler.fit(data.scaler, train.target[:, None])
    splits = {}
    for name, (start, stop) in bounds.items():
        part = series.rows(start, stop)
        splits[name] = SplitData(
            name=name,
            features=feature_scaler.transform(part.features).astype(np.float32),
            target=target_scaler.transform(part.target[:, None])[:, 0].astype(np.float32),
            raw_target=part.target,
            times=part.times,
            input_width=width,
            horizon=horizon,
        )
    return PreparedData(series, splits, feature_scaler, target_scaler)


def make_dataset(split: SplitData, batch_size: int, shuffle: bool = False, seed: int | None = None):
    """A `tf.data.Dataset` of `(inputs, targets)` batches cut from one split.

    The split's series is held once; each batch gathers its windows by index, so memory stays
    near the size of the series whatever the window length.

    Args:
        split: the split to window.
        batch_size: windows per batch (the last batch may be smaller).
        shuffle: reshuffle the windows every epoch (seeded by `seed`).

    Returns:
        Batches of inputs `(batch, input_width, n_features)` float32 and targets
        `(batch, horizon)` float32.
    """
    import tensorflow as tf  # here, so that config and data errors never wait for TensorFlow

    features = tf.constant(split.features)  # (time, n_features)
    target = tf.constant(split.target)  # (time,)
    input_steps = tf.range(split.input_width, dtype=tf.int64)  # (input_width,)
    target_steps = tf.range(split.horizon, dtype=tf.int64) + split.input_width  # (horizon,)

    def gather(starts):  # starts: (batch,) first row of each window
        inputs = tf.gather(features, starts[:, None] + input_steps)  # (batch, width, n_features)
        targets = tf.gather(target, starts[:, None] + target_steps)  # (batch, horizon)
        return inputs, targets

    starts = tf.data.Dataset.range(split.n_windows)
    if shuffle:
        starts = starts.shuffle(split.n_windows, seed=seed, reshuffle_each_iteration=True)
    return starts.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)
