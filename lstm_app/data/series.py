"""Reading a series: a CSV or Parquet file checked cell by cell and cleaned, or a generated sine.

    load_series(cfg.data)            -> TimeSeries       cleaned columns, time stamps

The file's table is read by `lstm_app.data.reading`, its cells checked and missing values
handled by `lstm_app.data.columns` (`data.missing`), its times parsed by `lstm_app.data.times`,
and their order and steps checked by `lstm_app.data.steps`.

Errors in the data raise `DataError` with one line naming the file, the line and the column.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config.schema import DataConfig, SineConfig
from lstm_app.data.columns import (
    MAX_MAGNITUDE,
    as_labels,
    as_numbers,
    clean_missing,
    require_column,
)
from lstm_app.data.reading import read_table
from lstm_app.data.steps import check_order, check_steps, insert_steps
from lstm_app.data.times import assemble_times, epoch_hint, parse_times
from lstm_app.errors import DataError


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
        cleaning: `{"missing": policy, "filled": {column: cells}, "dropped_rows": n, "step":
            the step between rows ("MS", "D", "1"; None for uneven times), "missing_steps": n}`.
        observed: `(time,)` bool, False where the target's value was filled in, not observed;
            forecasts of such values are not scored.
        notes: what the user may want to know about how the file was read, one sentence each.
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
    notes: tuple[str, ...] = ()

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


def sine_series(sine: SineConfig, seed: int) -> TimeSeries:
    """A generated series `amplitude*sin(2*pi*t/period) + trend*t + noise*N(0, 1)`, t = 0..length-1.

    Returns:
        A TimeSeries with one column, `value`, as both feature and target; times are the steps.
    """
    t = np.arange(sine.length)
    noise = np.random.default_rng(seed).standard_normal(sine.length)
    value = sine.amplitude * np.sin(2 * np.pi * t / sine.period) + sine.trend * t
    value = value + sine.noise * noise
    cleaning = {
        "missing": "error",
        "filled": {},
        "dropped_rows": 0,
        "step": "1",
        "missing_steps": 0,
    }
    observed = np.ones(sine.length, bool)
    return TimeSeries(
        {"value": value}, "value", ("value",), (), t, None, "sine", cleaning, observed
    )


def read_columns(frame: pd.DataFrame, data: DataConfig, path: Path):
    """The used columns of a whole file, each cell checked: `(columns, times, lines)`, with
    `columns` `{name: (rows,) array}` (NaN or None where a cell is missing), `times` `(rows,)`
    and `lines` `(rows,)` the file line of each row."""
    keys = {data.target: "data.target"}
    for i, name in enumerate(data.features):
        keys.setdefault(name, f"data.features[{i}]")
    columns = {}
    for name, key in keys.items():
        column = require_column(frame, name, key, path)
        columns[name] = (
            as_labels(column) if name in data.categorical else as_numbers(column, key, path)
        )
    if data.time_column is not None:
        column = require_column(frame, data.time_column, "data.time_column", path)
        times = parse_times(column, path, data)
    elif data.time_columns is not None:
        times = assemble_times(frame, data.time_columns, path)
    else:
        times = np.arange(len(frame))
    return columns, times, np.arange(len(frame)) + 2


def rows_series(columns: dict, times, lines, data: DataConfig, where: str, source: str):
    """One series from its rows (`read_columns`' arrays, or a series' rows of a panel): time
    order checked, missing steps and cells handled by `data.missing`. Messages start with
    `where` (the file, or the file and the series)."""
    check_order(times, lines, where)
    (found, grid), steps = check_steps(times, lines, data, where)
    if grid is not None:
        columns, times, lines = insert_steps(columns, times, lines, found, grid)
    note = epoch_hint(times, steps["step"])
    columns, keep, filled, cleaning = clean_missing(columns, data.missing, where, lines)
    cleaning.update(steps)
    times, lines = times[keep], lines[keep]
    if len(times) == 0:
        raise DataError(f"{where}: no rows left after data.missing: {data.missing}")
    return TimeSeries(
        columns,
        data.target,
        data.features,
        data.categorical,
        times,
        lines,
        source,
        cleaning,
        observed=~filled[data.target],
        notes=(f"{where}: {note}",) if note else (),
    )


def csv_series(data: DataConfig) -> TimeSeries:
    """The used columns of `data.path` (target, features, time), checked cell by cell and
    cleaned by `data.missing`."""
    path = data.path
    frame = read_table(path, data.separator)
    if frame.empty:
        raise DataError(f"{path}: no data rows under the header")
    columns, times, lines = read_columns(frame, data, path)
    return rows_series(columns, times, lines, data, str(path), str(path))


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
