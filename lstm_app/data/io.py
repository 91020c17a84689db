"""Reading a series: a CSV file checked cell by cell and cleaned, or a generated sine; its times.

    load_series(cfg.data)            -> TimeSeries       cleaned columns, time stamps
    infer_frequency(series.times)    -> "MS", "D", ...   the step between rows
    best_step(series.times)          -> step, grid, on   the series' own step, for gaps
    time_text(stamp)                 -> "1959-08-01"     a time stamp for reports

Missing cells (empty, NA, NaN, null, ...) follow `data.missing`: `error` (the default: refuse,
counting them per column), `drop` (remove their rows; windows then run across the gaps),
`ffill` (carry the last value forward; leading rows with nothing to carry are dropped) or
`interpolate` (linear in the row number, constant before the first and after the last value;
labels are carried forward). Forecasts of target values that were filled in are not scored.

Rows must be one step apart, the step being the series' own (`best_step`: the coarsest calendar
or fixed step every time lies on). Missing steps follow `data.missing` too (`check_steps`):
`error` refuses them, `drop` keeps the rows as they are (windows span the gaps), `ffill` and
`interpolate` insert them as empty rows, filled like empty cells (not scored), up to a window's
length per gap. A row off the step, or uneven times, are refused unless `drop`.

Errors in the data raise `DataError` with one line naming the file, the line and the column.
"""

import codecs
import difflib
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config.schema import EPOCH_FORMATS, DataConfig, SineConfig
from lstm_app.errors import DataError, first_line

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


# --------------------------------------------------------------------------------------------
# loading

MAX_MAGNITUDE = 1e30  # the largest value accepted: float32 reaches 3.4e38, with room to scale


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


# what a file given as a CSV may be instead, by its first bytes: (magic, what it is, what to do)
NOT_CSV = (
    (b"\xd0\xcf\x11\xe0", "an Excel workbook (.xls)", "save the sheet as CSV (UTF-8)"),
    (b"\x1f\x8b", "gzip-compressed", "name it *.csv.gz (read as is), or decompress it"),
    (b"%PDF", "a PDF document", "export its table as CSV (UTF-8)"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV (UTF-8)"),
    (b"\x89HDF", "an HDF5 file", "write the table as CSV (UTF-8)"),
    (b"\x93NUMPY", "a NumPy array file", "write the array as CSV (UTF-8)"),
)
COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")  # pandas decompresses these itself
SNIFF_BYTES = 8192  # read to tell a binary file from text


def _not_csv(path: Path) -> str | None:
    """What the file at `path` is, and what to do, when its first bytes say it is a spreadsheet
    or another binary format rather than CSV text; None for text (or an unreadable file)."""
    if path.suffix.lower() in COMPRESSED:
        return None
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return None  # read_csv says why
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{path}: UTF-16 text, not UTF-8; save it as CSV (UTF-8)"
    if head.startswith(b"PK\x03\x04"):
        what = _zip_kind(path)
    else:
        what = next(((kind, todo) for magic, kind, todo in NOT_CSV if head.startswith(magic)), None)
        if what is None and b"\x00" in head:
            what = "a binary file", "expected a CSV file (UTF-8 text)"
    if what is None:
        return None
    kind, todo = what
    if kind == "a binary file":
        return f"{path}: a binary file, not a CSV file (UTF-8 text); {todo}"
    return f"{path}: {kind}, not a CSV file; {todo}"


def _zip_kind(path: Path) -> tuple[str, str]:
    """What a zip archive given as a CSV holds: an Excel workbook, an OpenDocument sheet, or
    other files; and what to do."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        names = []
    if any(name.startswith("xl/") for name in names) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return "an Excel workbook", "save the sheet as CSV (UTF-8)"
    if "content.xml" in names:
        return "an OpenDocument spreadsheet", "save the sheet as CSV (UTF-8)"
    return "a zip archive", "extract the CSV file from it, or name it *.csv.zip (read as is)"


def _first_non_utf8(path: Path) -> tuple[int, int] | None:
    """`(byte offset, line)` of the first byte in the file at `path` that is not UTF-8 (the
    offset from 0, the line from 1), read in blocks; None if there is none, or the file is
    compressed (pandas decompresses it: the offset would not be the file's)."""
    if path.suffix.lower() in COMPRESSED:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0  # bytes handed to the decoder so far, newlines among them
    try:
        with open(path, "rb") as file:
            while True:
                block = file.read(1 << 20)
                pending = decoder.getstate()[0]  # bytes of a character cut by the last block
                try:
                    decoder.decode(block, final=not block)
                except UnicodeDecodeError as err:
                    start = offset - len(pending) + err.start
                    seen = (pending + block)[: err.start]
                    return start, lines - pending.count(b"\n") + seen.count(b"\n") + 1
                if not block:
                    return None
                offset += len(block)
                lines += block.count(b"\n")
    except OSError:
        return None


def _separator_hint(frame: pd.DataFrame, separator: str) -> str | None:
    """When the header was read as one column whose name holds `;` or a tab (a file separated
    by another character than `separator`): the separator it looks like, as YAML; else None."""
    if len(frame.columns) != 1:
        return None
    header = str(frame.columns[0])
    for other, shown, yaml_text in (
        (";", "';'", "';'"),
        ("\t", "tabs", '"\\t"'),
        ("|", "'|'", "'|'"),
    ):
        if other != separator and other in header:
            return f"the header looks separated by {shown}: set data.separator: {yaml_text}"
    return None


def read_table(path: Path, separator: str = ",") -> pd.DataFrame:
    """Every cell of the data file as a stripped string: a CSV file (`read_csv`), or a Parquet
    file or folder of Parquet files (`read_parquet`)."""
    path = Path(path)
    if is_parquet(path):
        return read_parquet(path)
    return read_csv(path, separator)


def is_parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file (by its name or its first bytes) or a folder."""
    if path.is_dir() or path.suffix.lower() == ".parquet":
        return True
    try:
        with open(path, "rb") as file:
            return file.read(4) == b"PAR1"
    except OSError:
        return False


def read_parquet(path: Path) -> pd.DataFrame:
    """Every cell of a Parquet file, or of the Parquet files of a folder read as one table, as a
    string, as `read_csv` gives a CSV's: empty cells `""`, times as ISO 8601 text. Messages
    count its rows as lines of the same table saved as CSV (the header is line 1).

    Raises DataError naming the file when it is missing, not Parquet, or a folder without
    Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        raise DataError(f"{path}: data file not found (data.path)")
    if path.is_dir() and not any(path.glob("*.parquet")):
        raise DataError(
            f"{path}: a folder without .parquet files; expected a CSV or Parquet file, or a "
            "folder of Parquet files (data.path)"
        )
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"{path}: cannot be read as Parquet: {first_line(err)}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame.apply(_as_text)


def _as_text(column: pd.Series) -> pd.Series:
    """A column's cells as stripped strings; missing ones (None, NaN, NaT) as `""`."""
    missing = column.isna().to_numpy()
    text = column.astype(str).str.strip().to_numpy(dtype=object)
    text[missing] = ""
    return pd.Series(text, index=column.index, dtype=object)


def read_csv(path: Path, separator: str = ",") -> pd.DataFrame:
    """Every cell of a CSV file as a stripped string (header names stripped too), its cells
    separated by `separator` (`data.separator`).

    Raises DataError naming the file when it is missing, empty, not UTF-8 (with the byte and
    line), a spreadsheet or another binary file, not a CSV table, or a table of one column
    whose header looks separated by another character.
    """
    if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
        raise DataError(
            f"{path}: data.separator: expected one character such as ',', ';' or \"\\t\", "
            f"got {separator!r}"
        )
    not_csv = _not_csv(path)
    if not_csv is not None:
        raise DataError(not_csv)
    try:
        frame = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            encoding="utf-8",
        )
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found (data.path)") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file (data.path)") from None
    except UnicodeDecodeError as err:
        where = _first_non_utf8(path)
        at = f"(byte {where[0]}) at line {where[1]}" if where else f"(byte {err.start})"
        raise DataError(f"{path}: not UTF-8 text {at}; save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; expected a header row, then data") from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1]
        raise DataError(f"{path}: cannot be read as CSV: {detail}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file: {err.strerror}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    hint = _separator_hint(frame, separator)
    if hint is not None:
        raise DataError(f"{path}: one column, '{frame.columns[0]}'; {hint}")
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
        try:
            times = pd.to_datetime(text, errors="coerce", **kwargs)
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


def _parse_times(column: pd.Series, path: Path, data: DataConfig) -> np.ndarray:
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
            f"{path}: line {_line(row)}, column '{column.name}' (data.time_column): expected "
            f"{expected}, got {column.iloc[row]!r}"
        )
    return times.to_numpy()


def _epoch_times(column: pd.Series, unit: str, time_format: str, path: Path) -> np.ndarray:
    """Unix times (whole numbers of `unit`, `s` or `ms`, since 1970-01-01 UTC) as datetime64."""
    bad = np.flatnonzero(~column.str.fullmatch(INTEGER).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{path}: line {_line(row)}, column '{column.name}' (data.time_column): expected "
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


# --------------------------------------------------------------------------------------------
# time steps

GRID_LIMIT = 10  # a step whose grid would hold more than this many rows per row is not tried


def _candidate_steps(times: np.ndarray) -> list:
    """Steps that may be a series' own: pandas offsets for dates (what `pd.infer_freq` reads
    on the first and last rows, the calendar steps, the most common and the smallest gap), whole
    numbers for integer steps."""
    gaps = np.diff(times)
    common, smallest = pd.Series(gaps).mode().iloc[0], gaps.min()
    if not np.issubdtype(times.dtype, np.datetime64):
        return sorted({int(common), int(smallest), int(np.gcd.reduce(gaps))})
    index = pd.DatetimeIndex(times)
    names = []
    for part in (index[:100], index[-100:]):
        if len(part) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 announces an offset, not a string
                names.append(pd.infer_freq(part))
    weekday = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")[index[0].weekday()]
    names += ["B", f"W-{weekday}", "MS", "ME", "QS", "QE", "YS", "YE"]
    offsets = [pd.tseries.frequencies.to_offset(name) for name in names if name is not None]
    offsets += [pd.tseries.frequencies.to_offset(pd.Timedelta(gap)) for gap in (common, smallest)]
    return list({offset.freqstr: offset for offset in offsets}.values())


def _grid(first, last, step) -> np.ndarray | None:
    """The regular times `first, first + step, ...` up to `last`, or None when `first` is not
    on the step (a calendar step such as month starts). `best_step` sizes it first
    (`_grid_rows`)."""
    if isinstance(step, int):
        return np.arange(first, last + 1, step, dtype=np.int64)
    start = pd.Timestamp(first)
    grid = pd.date_range(start, periods=2, freq=step)
    if grid[0] != start:
        return None
    return pd.date_range(start, pd.Timestamp(last), freq=step).to_numpy()


def _grid_rows(times: np.ndarray, step) -> float:
    """About how many rows the regular grid of `step` spans from the first time to the last."""
    if isinstance(step, int):
        return (int(times[-1]) - int(times[0])) / step + 1
    start = pd.Timestamp(times[0])
    one = (start + step) - start
    return (pd.Timestamp(times[-1]) - start) / one + 1 if one > pd.Timedelta(0) else np.inf


def best_step(times: np.ndarray):
    """The step that most of a series' rows follow: the coarsest regular step (a pandas offset
    such as `MS` or `D` for dates, a whole number for integer steps) whose grid, from the first
    time, holds every time (rows missing from it are gaps), else the one that holds the most.

    Returns:
        `(step, grid, on_step)`: `grid` `(steps,)` the step's regular times from the first time to
        the last, `on_step` `(rows,)` True where a row's time is on it; all None with fewer than
        three rows or no step that fits.
    """
    if len(times) < 3:
        return None, None, None
    if np.issubdtype(times.dtype, np.datetime64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            regular = pd.infer_freq(pd.DatetimeIndex(times))  # every row one step apart
        if regular is not None:
            return pd.tseries.frequencies.to_offset(regular), times, np.ones(len(times), bool)
    elif np.all(np.diff(times) == times[1] - times[0]):
        return int(times[1] - times[0]), times, np.ones(len(times), bool)
    limit = GRID_LIMIT * len(times) + 1000
    candidates = sorted(
        (rows, i, step)
        for i, step in enumerate(_candidate_steps(times))
        if (rows := _grid_rows(times, step)) <= limit
    )
    best = (None, None, None)
    for _, _, step in candidates:
        grid = _grid(times[0], times[-1], step)
        if grid is None:
            continue
        found = np.minimum(np.searchsorted(grid, times), len(grid) - 1)
        on_step = grid[found] == times
        if on_step.all():
            return step, grid, on_step
        if best[2] is None or on_step.sum() > best[2].sum():
            best = (step, grid, on_step)
    return best


def series_step(times: np.ndarray):
    """`(step, grid)` of `best_step` when every row is on the step, else `(None, None)`."""
    step, grid, on_step = best_step(times)
    return (step, grid) if on_step is not None and on_step.all() else (None, None)


def step_text(step) -> str:
    """A step for messages: `'MS' (a month)`, `'D' (a day)`, `3600`."""
    if isinstance(step, int):
        return str(step)
    names = {
        "MS": "a month", "ME": "a month", "D": "a day", "h": "an hour", "min": "a minute",
        "s": "a second", "B": "a business day", "QS": "a quarter", "QE": "a quarter",
        "YS": "a year", "YE": "a year", "W": "a week",
    }  # fmt: skip
    base = step.freqstr.split("-")[0]
    return f"'{step.freqstr}' ({names[base]})" if base in names else f"'{step.freqstr}'"


def _duration_text(gap) -> str:
    """The time between two rows: `31 days`, `1 days 06:00:00`, or a number of steps."""
    if isinstance(gap, np.timedelta64 | pd.Timedelta):
        return str(pd.Timedelta(gap)).removeprefix("0 days ").removesuffix(" 00:00:00")
    return str(int(gap))


def step_name(step) -> str | None:
    """A step as recorded in reports: a pandas frequency (`MS`) or a whole number as text."""
    return None if step is None else str(step) if isinstance(step, int) else step.freqstr


def _uneven(times, lines, step, on_step, policy: str, path) -> None:
    """DataError naming the first row off the step most rows follow (or, where no step fits most
    rows, the first gap unlike the most common), unless `policy` is `drop`."""
    if policy == "drop":
        return
    if on_step is not None and on_step.mean() > 0.5:
        row = int(np.flatnonzero(~on_step)[0])
        where = (
            f"time {time_text(times[row])} is off the step that most rows follow "
            f"({step_text(step)} from {time_text(times[0])})"
        )
    else:
        gaps = np.diff(times)
        common = pd.Series(gaps).mode().iloc[0]
        row = int(np.flatnonzero(gaps != common)[0]) + 1
        where = (
            f"time {time_text(times[row])} comes {_duration_text(gaps[row - 1])} after the row "
            f"before, where most rows are {_duration_text(common)} apart"
        )
    raise DataError(
        f"{path}: line {lines[row]}: {where}; times must be evenly spaced: fix the file, or set "
        "data.missing: drop to let windows span uneven steps"
    )


def check_steps(times: np.ndarray, lines: np.ndarray, data: DataConfig, path) -> tuple:
    """Checks that the rows are one step apart, the step being the series' own
    (`best_step`); what happens to missing steps and uneven times follows `data.missing`:
    `error` refuses them, `drop` keeps the rows as they are (windows span the gaps), `ffill` and
    `interpolate` insert the missing steps as empty rows to be filled, up to a window's length
    (`data.window.input_width`) per gap.

    Returns:
        `(grid_rows, report)`: `grid_rows` `(rows,)` the position of each row on the regular
        grid when steps are to be inserted (else None) and the grid itself (else None);
        `report` `{"step": text or None, "missing_steps": n}`.
    """
    step, grid, on_step = best_step(times)
    if len(times) >= 3 and (on_step is None or not on_step.all()):
        _uneven(times, lines, step, on_step, data.missing, path)
        return (None, None), {"step": None, "missing_steps": 0}  # data.missing: drop
    report = {"step": step_name(step)}
    missing = 0 if grid is None else len(grid) - len(times)
    report["missing_steps"] = missing
    if missing == 0 or data.missing == "drop":
        return (None, None), report
    found = np.searchsorted(grid, times)
    skipped = np.diff(found) - 1  # steps missing after each row
    first = int(np.flatnonzero(skipped)[0])
    where = (
        f"after line {lines[first]} ({time_text(times[first])}), whose next row is "
        f"{time_text(times[first + 1])} (line {lines[first + 1]})"
    )
    if data.missing == "error":
        raise DataError(
            f"{path}: {missing} missing time step(s), rows being {step_text(step)} apart: "
            f"the first {where}; "
            "set data.missing to interpolate or ffill to fill them in, or drop to let windows "
            "span the gaps"
        )
    longest = int(np.argmax(skipped))
    if skipped[longest] > data.window.input_width:
        raise DataError(
            f"{path}: {int(skipped[longest])} missing time steps, rows being "
            f"{step_text(step)} apart, after line {lines[longest]} "
            f"({time_text(times[longest])}): a gap longer than a window "
            f"(data.window.input_width {data.window.input_width}) is not filled in; cut the "
            "file there, or set data.missing: drop to let windows span it"
        )
    return (found, grid), report


def _insert_steps(columns: dict, times, lines, found: np.ndarray, grid: np.ndarray):
    """The columns, times and lines on the regular `grid`, with empty cells (NaN, or None for
    labels) in the rows inserted for missing steps; an inserted row's line is the next row's."""
    out = {}
    for name, values in columns.items():
        full = np.full(len(grid), None if values.dtype == object else np.nan, dtype=values.dtype)
        full[found] = values
        out[name] = full
    next_row = np.searchsorted(found, np.arange(len(grid)))
    return out, grid, lines[next_row]


def infer_frequency(times: np.ndarray) -> str | None:
    """The step between rows as a pandas frequency (`MS`, `D`, `h`, ...): the series' own
    (`series_step`), else the most common step between the last rows; None without dates."""
    if not np.issubdtype(times.dtype, np.datetime64) or len(times) < 3:
        return None
    step, _, _ = best_step(times)
    if step is not None:
        return step.freqstr
    recent = pd.DatetimeIndex(times[-100:])
    common = pd.Series(np.diff(recent)).mode().iloc[0]
    return pd.tseries.frequencies.to_offset(pd.Timedelta(common)).freqstr


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


def _read_columns(frame: pd.DataFrame, data: DataConfig, path: Path):
    """The used columns of a whole file, each cell checked: `(columns, times, lines)`, with
    `columns` `{name: (rows,) array}` (NaN or None where a cell is missing), `times` `(rows,)`
    and `lines` `(rows,)` the file line of each row."""
    keys = {data.target: "data.target"}
    for i, name in enumerate(data.features):
        keys.setdefault(name, f"data.features[{i}]")
    columns = {}
    for name, key in keys.items():
        column = _require_column(frame, name, key, path)
        columns[name] = _labels(column) if name in data.categorical else _numbers(column, key, path)
    if data.time_column is not None:
        column = _require_column(frame, data.time_column, "data.time_column", path)
        times = _parse_times(column, path, data)
    elif data.time_columns is not None:
        times = _assemble_times(frame, data.time_columns, path)
    else:
        times = np.arange(len(frame))
    return columns, times, np.arange(len(frame)) + 2


def rows_series(columns: dict, times, lines, data: DataConfig, where: str, source: str):
    """One series from its rows (`_read_columns`' arrays, or a series' rows of a panel): time
    order checked, missing steps and cells handled by `data.missing`. Messages start with
    `where` (the file, or the file and the series)."""
    _check_order(times, lines, where)
    (found, grid), steps = check_steps(times, lines, data, where)
    if grid is not None:
        columns, times, lines = _insert_steps(columns, times, lines, found, grid)
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
    columns, times, lines = _read_columns(frame, data, path)
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
