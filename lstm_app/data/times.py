"""Times read from a table's text cells: dates and times (numeric dates in the only order of day
and month that fits, UTC offsets made naive in UTC), Unix times (`data.time_format: epoch_s`),
whole-number steps, dates assembled from columns of their parts; and time stamps as text.

    parse_times(column, path, cfg.data)  -> (rows,) datetime64 or int64 steps
    time_text(stamp)                     -> "1959-08-01"     a time stamp for reports
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config.schema import EPOCH_FORMATS, DataConfig
from lstm_app.data.columns import line_of, require_column
from lstm_app.errors import DataError, first_line

INTEGER = r"[+-]?\d{1,18}"  # a step number (int64 holds 18 digits)
# a numeric date with the day and month in either order: 01/02/1949, 1.2.1949 12:00, 01-02-1949
NUMERIC_DATE = r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(.*)"


def _to_datetime(text: pd.Series, time_format: str | None, path: Path) -> pd.Series:
    """`text` parsed by pandas (by `time_format`, if given), NaT where a cell is not a time;
    times with UTC offsets (`+01:00`, `Z`, ` UTC`), even mixed ones across summer time, become
    naive times in UTC."""
    kwargs = {} if time_format is None else {"format": time_format}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": parsed per cell
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2: mixed offsets give objects
        try:
            times = pd.to_datetime(text, errors="coerce", **kwargs)
            if times.dtype == object:  # pandas 2: mixed offsets (pandas 3 raises ValueError)
                raise ValueError("mixed offsets")
        except ValueError:  # mixed offsets, such as +01:00 then +02:00: convert to UTC
            try:
                times = pd.to_datetime(text, errors="coerce", utc=True, **kwargs)
            except ValueError as err:
                detail = first_line(err, "bad format")
                key = "data.time_format" if time_format else "data.time_column"
                raise DataError(
                    f"{path}: column '{text.name}' ({key}): cannot be read as times: {detail}"
                ) from None
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times


def _day_month_text(column: pd.Series, dayfirst: bool) -> pd.Series:
    """Numeric dates (cells matching `NUMERIC_DATE`) rewritten as ISO dates `YYYY-MM-DD` (and the
    rest of the cell), reading the first number as the day (`dayfirst`) or the month; other
    cells as they are."""
    fields = column.str.extract(NUMERIC_DATE)
    day, month = (fields[0], fields[2]) if dayfirst else (fields[2], fields[0])
    text = fields[3] + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + fields[4]
    return column.where(text.isna(), text)


def _increasing(times: pd.Series) -> bool:
    values = times.to_numpy()
    return not times.isna().any() and bool(np.all(values[1:] > values[:-1]))


def _read_numeric_dates(column: pd.Series, path: Path) -> pd.Series | None:
    """A column of numeric dates (`NUMERIC_DATE`) read in the only order of day and month that
    reads every cell as a date, or the only one that gives increasing times; None for other
    columns, or where neither order reads them. DataError where both orders read every cell and
    give increasing times, but different ones (set data.dayfirst)."""
    if not len(column) or not column.str.fullmatch(NUMERIC_DATE).all():
        return None
    fields = column.str.extract(NUMERIC_DATE)
    if (fields[0].astype(int) == fields[2].astype(int)).all():
        return _to_datetime(_day_month_text(column, False), None, path)  # 01/01, 02/02: alike
    readings = {
        order: _to_datetime(_day_month_text(column, order), None, path) for order in (False, True)
    }
    valid = [order for order, times in readings.items() if not times.isna().any()]
    increasing = [order for order in valid if _increasing(readings[order])]
    if len(increasing) == 2:
        both = (fields[0].astype(int) <= 12) & (fields[2].astype(int) <= 12)
        example = column[both & (fields[0] != fields[2])].iloc[0]
        raise DataError(
            f"{path}: column '{column.name}' (data.time_column): cannot tell the day from the "
            f"month in dates such as '{example}' (both orders give increasing times); set "
            "data.dayfirst: true (day/month/year) or false (month/day/year), or data.time_format"
        )
    chosen = increasing or valid
    return readings[chosen[0]] if chosen else None


def parse_times(column: pd.Series, path: Path, data: DataConfig) -> np.ndarray:
    """A text column of times as datetime64 (naive, in UTC where the cells give offsets), or as
    int64 steps when every cell is a whole number; DataError at the first cell that is not one.

    Numeric dates such as `01/02/1949` follow `data.time_format` or `data.dayfirst`; without
    either, the only order of day and month that reads every cell and gives increasing times,
    and a DataError if both would."""
    if data.time_format in EPOCH_FORMATS:
        return _epoch_times(column, EPOCH_FORMATS[data.time_format], data.time_format, path)
    if data.time_format is None and len(column) and column.str.fullmatch(INTEGER).all():
        return column.astype(np.int64).to_numpy()  # steps: 0, 1, 2, ... or 1000, 1001, ...
    times = None
    if data.time_format is None and data.dayfirst is None:
        times = _read_numeric_dates(column, path)  # read once, in the order they allow
    if times is None:
        dayfirst = data.dayfirst
        text = column if dayfirst is None else _day_month_text(column, dayfirst)
        times = _to_datetime(text, data.time_format, path)
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        expected = "a date or time"
        if data.time_format is not None:
            expected += f" in data.time_format '{data.time_format}'"
        elif data.dayfirst is not None:
            expected += f" in the order of data.dayfirst: {str(data.dayfirst).lower()}"
        raise DataError(
            f"{path}: line {line_of(row)}, column '{column.name}' (data.time_column): expected "
            f"{expected}, got {column.iloc[row]!r}"
        )
    return times.to_numpy()


def _epoch_times(column: pd.Series, unit: str, time_format: str, path: Path) -> np.ndarray:
    """Unix times (whole numbers of `unit`, `s` or `ms`, since 1970-01-01 UTC) as datetime64."""
    bad = np.flatnonzero(~column.str.fullmatch(INTEGER).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{path}: line {line_of(row)}, column '{column.name}' (data.time_column): expected "
            f"a whole number of {'seconds' if unit == 's' else 'milliseconds'} since 1970 "
            f"(data.time_format {time_format}), got {column.iloc[row]!r}"
        )
    try:
        return pd.to_datetime(column.astype(np.int64), unit=unit).to_numpy()
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        raise DataError(
            f"{path}: column '{column.name}' (data.time_column): a time beyond the years "
            f"1677-2262 as data.time_format {time_format}; check the unit (epoch_s or epoch_ms)"
        ) from None


def epoch_hint(times: np.ndarray, step: str | None) -> str | None:
    """A note when whole-number steps (`step`, as `check_steps` reports it) look like Unix times
    (seconds between 1990 and 2100, a step of whole minutes): they are read as plain steps
    unless data.time_format says so."""
    if np.issubdtype(times.dtype, np.datetime64) or step is None or not step.isdigit():
        return None
    step = int(step)
    for unit, scale in (("epoch_s", 1), ("epoch_ms", 1000)):
        low, high = 631_152_000 * scale, 4_102_444_800 * scale  # 1990 .. 2100
        if low <= times[0] and times[-1] <= high and step % (60 * scale) == 0:
            return (
                f"the time column holds whole numbers, read as steps {step} apart; if they are "
                f"Unix times, set data.time_format: {unit} to read them as dates"
            )
    return None


def assemble_times(frame: pd.DataFrame, names, path: Path) -> np.ndarray:
    """Dates from columns named after their parts (year, month, day, hour...), as datetime64."""
    parts = {}
    for i, name in enumerate(names):
        column = require_column(frame, name, f"data.time_columns[{i}]", path)
        values = pd.to_numeric(column, errors="coerce")
        bad = np.flatnonzero((values.isna() | (values % 1 != 0)).to_numpy())
        if len(bad):
            row = int(bad[0])
            raise DataError(
                f"{path}: line {line_of(row)}, column '{name}' (data.time_columns[{i}]): expected "
                f"a whole number, got {column.iloc[row]!r}"
            )
        parts[name.lower()] = values.astype("int64")
    times = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        cells = ", ".join(f"{name} {frame[name].iloc[row]}" for name in names)
        raise DataError(f"{path}: line {line_of(row)}: {cells} is not a date (data.time_columns)")
    return times.to_numpy()


def time_text(stamp) -> str:
    """A time stamp as text: `1959-08-01`, `2010-01-01 06:00:00`, or a step number."""
    if np.issubdtype(np.asarray(stamp).dtype, np.datetime64):
        return str(pd.Timestamp(stamp)).removesuffix(" 00:00:00")
    return str(stamp)
