"""Data: load a series, clean it, split it by time, scale it on the train split, cut windows.

    load_series(cfg.data)            -> TimeSeries       cleaned columns, time stamps
    split_bounds(n, cfg.data.split)  -> row ranges       train | val | test, in time order
    prepare_data(cfg.data)           -> PreparedData     encoded, transformed, scaled splits
    window_views(features, target)   -> inputs, targets  every window, as strided views (no copy)
    make_dataset(split, batch_size)  -> tf.data.Dataset  batches gathered from the split's series

Everything learnt from the data is learnt from the train split alone: the scalers' statistics
and the categories of one-hot columns. Windows are cut inside each split, so none crosses a
split boundary, and a split's series is held once: a window is gathered when its batch is.

Missing cells (empty, NA, NaN, null, ...) follow `data.missing`: `error` (the default: refuse,
counting them per column), `drop` (remove their rows; windows then run across the gaps),
`ffill` (carry the last value forward; leading rows with nothing to carry are dropped) or
`interpolate` (linear in the row number, constant before the first and after the last value;
labels are carried forward). Forecasts of target values that were filled in are not scored.

Errors in the data raise `DataError` with one line naming the file, the line and the column.
Nothing here imports TensorFlow but `make_dataset`.
"""

import difflib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config.schema import DataConfig, SineConfig, SplitConfig
from lstm_app.data.transforms import TargetPipeline, TransformError
from lstm_app.errors import DataError

SPLITS = ("train", "val", "test")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})


@dataclass(frozen=True)
class TimeSeries:
    """The used columns of a series, cleaned, with their time stamps.

    Attributes:
        columns: `{name: (time,) array}`: float64 for numeric columns (the target and numeric
            features), str for categorical ones.
        target_name: the column to forecast.
        feature_names: the input columns, in `data.features` order (before one-hot encoding).
        categorical: which of them are labels.
        times: `(time,)` datetime64 stamps, or int64 steps 0, 1, ... when there are none.
        lines: `(time,)` the file line of each row (rows may have been dropped), or None.
        source: where it came from, for messages (the CSV's path, or `sine`).
        cleaning: `{"missing": policy, "filled": {column: cells}, "dropped_rows": n}`.
        observed: `(time,)` bool, False where the target's value was filled in, not observed;
            forecasts of such values are not scored.
    """

    columns: dict[str, np.ndarray]
    target_name: str
    feature_names: tuple[str, ...]
    categorical: tuple[str, ...]
    times: np.ndarray
    lines: np.ndarray | None
    source: str
    cleaning: dict
    observed: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    @property
    def target(self) -> np.ndarray:
        """`(time,)` the target in its original units."""
        return self.columns[self.target_name]

    def where(self, row: int) -> str:
        """Where row `row` is, for messages: `file: line N` or `sine: step N`."""
        if self.lines is None:
            return f"{self.source}: step {row}"
        return f"{self.source}: line {self.lines[row]}"


# --------------------------------------------------------------------------------------------
# loading

MAX_MAGNITUDE = 1e30  # the largest value accepted: float32 reaches 3.4e38, with room to scale
MIN_SPREAD = (
    1e-30  # the least a varying column may vary by: float32's normal numbers end near 1e-38
)


def sine_series(sine: SineConfig, seed: int) -> TimeSeries:
    """A generated series `amplitude*sin(2*pi*t/period) + trend*t + noise*N(0, 1)`, t = 0..length-1.

    Returns:
        A TimeSeries with one column, `value`, as both feature and target; times are the steps.
    """
    t = np.arange(sine.length)
    noise = np.random.default_rng(seed).standard_normal(sine.length)
    value = sine.amplitude * np.sin(2 * np.pi * t / sine.period) + sine.trend * t
    value = value + sine.noise * noise
    cleaning = {"missing": "error", "filled": {}, "dropped_rows": 0}
    observed = np.ones(sine.length, bool)
    return TimeSeries(
        {"value": value}, "value", ("value",), (), t, None, "sine", cleaning, observed
    )


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


def _is_missing(column: pd.Series) -> np.ndarray:
    """`(rows,)` True where a text cell is empty or a missing-value token such as NA."""
    return column.str.lower().isin(MISSING_TOKENS).to_numpy()


def _numbers(column: pd.Series, key: str, path: Path) -> np.ndarray:
    """A text column as float64, NaN where a cell is missing; DataError at the first cell that
    is neither missing nor a finite number."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64, na_value=np.nan, copy=True)
    bad = ~np.isfinite(values) & ~_is_missing(column)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {_line(row)}, column '{column.name}' ({key}): expected a finite "
            f"number, got {column.iloc[row]!r}"
        )
    values[_is_missing(column)] = np.nan
    return values


def _labels(column: pd.Series) -> np.ndarray:
    """A text column of labels, None where a cell is missing."""
    values = column.to_numpy(dtype=object)
    values[_is_missing(column)] = None
    return values


def _parse_times(column: pd.Series, path: Path) -> np.ndarray:
    """A text column of dates as datetime64; DataError at the first cell that is not one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": parsed per cell
        times = pd.to_datetime(column, errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{path}: line {_line(row)}, column '{column.name}' (data.time_column): expected a "
            f"date or time, got {column.iloc[row]!r}"
        )
    return times.to_numpy()


def _assemble_times(frame: pd.DataFrame, names, path: Path) -> np.ndarray:
    """Dates from columns named after their parts (year, month, day, hour...), as datetime64."""
    parts = {}
    for i, name in enumerate(names):
        column = _require_column(frame, name, f"data.time_columns[{i}]", path)
        values = pd.to_numeric(column, errors="coerce")
        bad = np.flatnonzero((values.isna() | (values % 1 != 0)).to_numpy())
        if len(bad):
            row = int(bad[0])
            raise DataError(
                f"{path}: line {_line(row)}, column '{name}' (data.time_columns[{i}]): expected "
                f"a whole number, got {column.iloc[row]!r}"
            )
        parts[name.lower()] = values.astype("int64")
    times = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        cells = ", ".join(f"{name} {frame[name].iloc[row]}" for name in names)
        raise DataError(f"{path}: line {_line(row)}: {cells} is not a date (data.time_columns)")
    return times.to_numpy()


def _check_order(times: np.ndarray, lines: np.ndarray, path) -> None:
    """DataError at the first row whose time does not come after the row before."""
    backwards = np.flatnonzero(times[1:] <= times[:-1])
    if len(backwards):
        row = int(backwards[0]) + 1
        raise DataError(
            f"{path}: line {lines[row]}: time {time_text(times[row])} does not come after the "
            f"row before ({time_text(times[row - 1])}); rows must be in increasing time order, "
            "without repeats"
        )


def infer_frequency(times: np.ndarray) -> str | None:
    """The step between rows as a pandas frequency (`MS`, `D`, `h`, ...), from the last rows;
    the most common step where the rows are irregular; None without dates."""
    if not np.issubdtype(times.dtype, np.datetime64) or len(times) < 3:
        return None
    recent = pd.DatetimeIndex(times[-100:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces an offset instead of a string
        frequency = pd.infer_freq(recent)
    frequency = getattr(frequency, "freqstr", frequency)
    if frequency is None:
        step = pd.Series(np.diff(recent)).mode().iloc[0]
        frequency = pd.tseries.frequencies.to_offset(pd.Timedelta(step)).freqstr
    return frequency


def time_text(stamp) -> str:
    """A time stamp as text: `1959-08-01`, `2010-01-01 06:00:00`, or a step number."""
    if np.issubdtype(np.asarray(stamp).dtype, np.datetime64):
        return str(pd.Timestamp(stamp)).removesuffix(" 00:00:00")
    return str(stamp)


def clean_missing(columns: dict[str, np.ndarray], policy: str, path, lines: np.ndarray):
    """Applies the missing-value policy to the used columns.

    Args:
        columns: `{name: (rows,) array}`, NaN (numbers) or None (labels) where a cell is missing.
        policy: `error`, `drop`, `ffill` or `interpolate`.
        lines: `(rows,)` the file line of each row, for messages.

    Returns:
        `(columns, keep, filled, report)`: the cleaned columns (only the kept rows), the
        `(rows,)` mask of kept rows, `{name: (kept rows,) mask of filled cells}`, and
        `{"missing": policy, "filled": {name: cells}, "dropped_rows": n}`.
    """
    missing = {name: pd.isna(values) for name, values in columns.items()}
    counts = {name: int(m.sum()) for name, m in missing.items() if m.any()}
    report = {"missing": policy, "filled": {}, "dropped_rows": 0}
    keep = np.ones(len(lines), bool)
    if not counts:
        return columns, keep, {name: m[keep] for name, m in missing.items()}, report
    if policy == "error":
        details = ", in ".join(
            f"'{name}': {n} (first at line {lines[np.flatnonzero(missing[name])[0]]})"
            for name, n in counts.items()
        )
        raise DataError(
            f"{path}: missing values in {details}; set data.missing to drop, ffill or interpolate"
        )
    frame = pd.DataFrame(columns)
    if policy == "drop":
        keep = ~np.any(np.column_stack(list(missing.values())), axis=1)
        filled = {name: np.zeros(int(keep.sum()), bool) for name in columns}
    else:
        for name in frame.columns:
            numeric = frame[name].dtype.kind == "f"
            if policy == "interpolate" and numeric:
                frame[name] = frame[name].interpolate(method="linear", limit_direction="both")
            else:
                frame[name] = frame[name].ffill()
        keep = ~frame.isna().any(axis=1).to_numpy()  # only leading rows: nothing to carry
        filled = {name: m[keep] for name, m in missing.items()}
        counts = {name: int(m.sum()) for name, m in filled.items()}
        report["filled"] = {name: n for name, n in counts.items() if n}
    report["dropped_rows"] = int((~keep).sum())
    cleaned = {name: frame[name].to_numpy()[keep] for name in frame.columns}
    return cleaned, keep, filled, report


def csv_series(data: DataConfig) -> TimeSeries:
    """The used columns of `data.path` (target, features, time), checked cell by cell and
    cleaned by `data.missing`."""
    path = data.path
    frame = read_csv(path)
    if frame.empty:
        raise DataError(f"{path}: no data rows under the header")
    keys = {data.target: "data.target"}
    for i, name in enumerate(data.features):
        keys.setdefault(name, f"data.features[{i}]")
    columns = {}
    for name, key in keys.items():
        column = _require_column(frame, name, key, path)
        columns[name] = _labels(column) if name in data.categorical else _numbers(column, key, path)
    if data.time_column is not None:
        column = _require_column(frame, data.time_column, "data.time_column", path)
        times = _parse_times(column, path)
    elif data.time_columns is not None:
        times = _assemble_times(frame, data.time_columns, path)
    else:
        times = np.arange(len(frame))
    lines = np.arange(len(frame)) + 2
    columns, keep, filled, cleaning = clean_missing(columns, data.missing, path, lines)
    times, lines = times[keep], lines[keep]
    if len(times) == 0:
        raise DataError(f"{path}: no rows left after data.missing: {data.missing}")
    _check_order(times, lines, path)
    return TimeSeries(
        columns,
        data.target,
        data.features,
        data.categorical,
        times,
        lines,
        str(path),
        cleaning,
        observed=~filled[data.target],
    )


def load_series(data: DataConfig, seed: int = 0) -> TimeSeries:
    """The series that `data` describes: a CSV file, or a generated sine (seeded by `seed`)."""
    series = sine_series(data.sine, seed) if data.source == "sine" else csv_series(data)
    check_magnitude(series)
    return series


def check_magnitude(series: TimeSeries) -> None:
    """DataError at the first numeric value beyond `MAX_MAGNITUDE`, which the float32 model
    and its exported copies could not compute with (scaling would overflow to inf)."""
    for name, values in series.columns.items():
        if values.dtype.kind != "f":
            continue  # labels
        big = np.flatnonzero(np.abs(values) > MAX_MAGNITUDE)  # (NaN compares False)
        if len(big):
            raise DataError(
                f"{series.where(big[0])}, column '{name}': {values[big[0]]:.4g} is too large; "
                f"values must be within +-{MAX_MAGNITUDE:g} (the model computes in float32): "
                "rescale the column (for example to thousands)"
            )


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
    def fit(cls, kind: str, values: np.ndarray, passthrough=None) -> "Scaler":
        """Fits to `values` of shape `(time, columns)`; `passthrough` `(columns,)` marks
        columns left as they are (offset 0, scale 1), such as one-hot columns."""
        if kind == "standard":
            offset, scale = values.mean(axis=0), values.std(axis=0)
        elif kind == "minmax":
            offset, scale = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        elif kind == "none":
            offset, scale = np.zeros(values.shape[1]), np.ones(values.shape[1])
        else:
            raise ValueError(f"kind must be standard, minmax or none, got {kind!r}")
        scale = np.where(scale > 0, scale, 1.0)
        if passthrough is not None:
            offset = np.where(passthrough, 0.0, offset)
            scale = np.where(passthrough, 1.0, scale)
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
        features: `(time, n_features)` float32: encoded, transformed, scaled.
        target: `(time,)` float32: the target transformed and scaled, as the model learns it.
        raw_target: `(time,)` float64, the target in original units.
        times: `(time,)` time stamps (or steps).
        observed: `(time,)` bool, False where the target was filled in (see `scored`).
        offset: the row of the split's first row in the whole series (`PreparedData.series`).
        input_width, horizon: the window geometry.
    """

    name: str
    features: np.ndarray
    target: np.ndarray
    raw_target: np.ndarray
    times: np.ndarray
    observed: np.ndarray
    offset: int
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

    def scored(self) -> np.ndarray:
        """`(n,)` bool: the windows whose every target was observed, not filled in. Metrics
        are computed on these alone, for the model and the baselines alike."""
        observed = self.observed.astype(np.float64)
        return window_views(observed[:, None], observed, self.input_width, self.horizon)[1].all(1)

    def origins(self) -> np.ndarray:
        """`(n,)` the row, in the whole series, of each window's last input: its forecast origin."""
        return self.offset + np.arange(self.n_windows) + self.input_width - 1


@dataclass(frozen=True)
class PreparedData:
    """A series cleaned, encoded, transformed, split by time and scaled, ready to be windowed.

    Attributes:
        series: the whole cleaned series, in original units.
        pipeline: the target's transforms (`data.transforms`), with every stage of the series.
        splits: `{"train": SplitData, "val": ..., "test": ...}`.
        feature_names: the model's input columns: one-hot columns as `name=label`.
        feature_scaler: fitted on the train split's input columns (one-hot columns pass).
        target_scaler: fitted on the train split's transformed target (one column).
        season_length: steps per season (`data.season_length`).
    """

    series: TimeSeries
    pipeline: TargetPipeline
    splits: dict[str, SplitData]
    feature_names: tuple[str, ...]
    feature_scaler: "Scaler"
    target_scaler: "Scaler"
    season_length: int

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def to_original_units(self, split: SplitData, scaled: np.ndarray) -> np.ndarray:
        """Model outputs `(windows, horizon)` for `split`, unscaled and untransformed."""
        transformed = self.target_scaler.inverse_transform(scaled.astype(np.float64))
        return self.pipeline.invert(transformed, split.origins())


def one_hot(labels: np.ndarray, categories) -> np.ndarray:
    """`(time,)` labels -> `(time, len(categories))` 0/1 columns; unknown labels are all 0."""
    return (labels[:, None] == np.asarray(categories, dtype=object)[None, :]).astype(np.float64)


def encode_features(series: TimeSeries, model_target: np.ndarray, train_rows: slice):
    """The model's input matrix: numeric columns as they are (the target's own column replaced by
    `model_target`, the transformed target), label columns one-hot with the train split's labels.

    Returns:
        `(features (time, n_inputs) float64, names, passthrough (n_inputs,) bool)`, where
        `passthrough` marks the one-hot columns, which are not scaled.
    """
    blocks, names, passthrough = [], [], []
    for name in series.feature_names:
        values = series.columns[name]
        if name in series.categorical:
            categories = sorted({v for v in values[train_rows] if v is not None})
            blocks.append(one_hot(values, categories))
            names += [f"{name}={label}" for label in categories]
            passthrough += [True] * len(categories)
        else:
            blocks.append((model_target if name == series.target_name else values)[:, None])
            names.append(name)
            passthrough.append(False)
    return np.concatenate(blocks, axis=1), tuple(names), np.array(passthrough)


def _check_spread(values: np.ndarray, names, source: str, role: str) -> None:
    """DataError if a column of `values` `(time, columns)` varies, but by less than
    `MIN_SPREAD`: scaling it would underflow, and float32 could not tell its values apart."""
    spread = np.ptp(values, axis=0)
    narrow = np.flatnonzero((spread > 0) & (spread < MIN_SPREAD))
    if len(narrow):
        i = narrow[0]
        raise DataError(
            f"{source}: column '{names[i]}' ({role}, train split) varies by only "
            f"{spread[i]:.3g}; the model computes in float32: rescale the column (for example "
            "multiply it by a power of ten)"
        )


def prepare_data(data: DataConfig, seed: int = 0, bounds=None) -> PreparedData:
    """Loads, cleans, encodes, transforms, splits and scales the series of `data`.

    Args:
        data: the data section of a config.
        seed: seeds a generated series.
        bounds: `{"train": (start, stop), "val": .., "test": ..}` row ranges to use instead
            of `data.split` (backtesting).

    The splits are cut from the whole series, so the test windows are the same whatever the
    transforms; the first rows that the transforms leave undefined (one for `diff`, a season
    for `seasonal_diff`) are left out of the train split.

    Raises:
        DataError when a transform cannot apply or a split is too short to give one window.
    """
    series = load_series(data, seed)
    try:
        pipeline = TargetPipeline.fit(series.target, data.transforms, data.season_length)
    except TransformError as err:
        raise DataError(
            f"{series.where(err.row)}, column '{series.target_name}' (data.target): {err} "
            "(data.transforms)"
        ) from None
    lag, width, horizon = pipeline.lag, data.window.input_width, data.window.horizon
    bounds = {
        name: (max(start, lag), max(stop, lag))
        for name, (start, stop) in (bounds or split_bounds(len(series), data.split)).items()
    }
    for name, (start, stop) in bounds.items():
        if count_windows(stop - start, width, horizon) == 0:
            taken = f" once data.transforms take the first {lag}" if lag else ""
            raise DataError(
                f"{series.source}: the {name} split has {stop - start} of the {len(series)} "
                f"rows{taken}, fewer than the {width + horizon} one window needs (data.window."
                f"input_width {width} + horizon {horizon}); use a longer series, a shorter "
                f"window or a larger data.split.{name}"
            )
    train_rows = slice(*bounds["train"])
    features, names, passthrough = encode_features(series, pipeline.transformed, train_rows)
    _check_spread(features[train_rows], names, series.source, "input")
    _check_spread(
        pipeline.transformed[train_rows, None], [series.target_name], series.source, "target"
    )
    feature_scaler = Scaler.fit(data.scaler, features[train_rows], passthrough)
    target_scaler = Scaler.fit(data.scaler, pipeline.transformed[train_rows, None])
    scaled_features = feature_scaler.transform(features).astype(np.float32)
    scaled_target = target_scaler.transform(pipeline.transformed[:, None])[:, 0].astype(np.float32)
    splits = {}
    for name, (start, stop) in bounds.items():
        rows = slice(start, stop)
        splits[name] = SplitData(
            name=name,
            features=scaled_features[rows],
            target=scaled_target[rows],
            raw_target=series.target[rows],
            times=series.times[rows],
            observed=series.observed[rows],
            offset=start,
            input_width=width,
            horizon=horizon,
        )
    return PreparedData(
        series, pipeline, splits, names, feature_scaler, target_scaler, data.season_length
    )


def make_dataset(split: SplitData, batch_size: int, shuffle: bool = False, seed: int = 0, epoch=0):
    """A `tf.data.Dataset` of `(inputs, targets)` batches cut from one split: one epoch.

    The split's series is held once; each batch gathers its windows by index, so memory stays
    that of the series, not `input_width` times it.

    Args:
        split: the split to window.
        batch_size: windows per batch (the last batch may be smaller).
        shuffle: shuffle the windows.
        seed: with `shuffle`, the order of epoch e is drawn from `(seed, e)` alone (a stateless
            shuffle), so a run resumed at epoch k sees exactly the batches of one that never
            stopped.
        epoch: the epoch whose order to give: an int, or an int64 `tf.Variable` that is read
            each time the dataset is iterated (`fit.EpochNumber` sets it as each epoch
            begins, so `fit` gets epoch e's order at epoch e).

    Returns:
        Batches of inputs `(batch, input_width, n_features)` float32 and targets
        `(batch, horizon)` float32.
    """
    import tensorflow as tf  # here, so that config and data errors never wait for TensorFlow

    features = tf.constant(split.features)  # (time, n_features)
    target = tf.constant(split.target)  # (time,)
    input_steps = tf.range(split.input_width, dtype=tf.int64)  # (input_width,)
    target_steps = tf.range(split.horizon, dtype=tf.int64) + split.input_width  # (horizon,)
    n = split.n_windows

    def gather(starts):  # starts: (batch,) first row of each window
        inputs = tf.gather(features, starts[:, None] + input_steps)  # (batch, width, n_features)
        targets = tf.gather(target, starts[:, None] + target_steps)  # (batch, horizon)
        return inputs, targets

    def shuffled_starts(_):  # the window starts of the epoch, shuffled, in batches
        number = tf.cast(tf.convert_to_tensor(epoch), tf.int64)  # read at each iteration
        key = tf.stack([tf.constant(seed, tf.int64), number])
        starts = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)
        return tf.data.Dataset.from_tensor_slices(starts).batch(batch_size)

    if shuffle:
        batches = tf.data.Dataset.from_tensors(0).flat_map(shuffled_starts)
    else:  # the same batches without flat_map, whose function costs ~5 ms per iterator (2 cores)
        batches = tf.data.Dataset.range(n).batch(batch_size)
    batches = batches.apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))
    return batches.map(gather).prefetch(tf.data.AUTOTUNE)
