"""The steps between a series' rows: their order, the series' own step (`best_step`), missing
steps and uneven times checked by `data.missing` (`check_steps`), missing steps inserted as empty
rows; steps as text for messages and reports.

    infer_frequency(series.times)    -> "MS", "D", ...   the step between rows
    best_step(series.times)          -> step, grid, on   the series' own step, for gaps

Rows must be one step apart, the step being the series' own (`best_step`: the coarsest calendar
or fixed step every time lies on). Missing steps follow `data.missing` too (`check_steps`):
`error` refuses them, `drop` keeps the rows as they are (windows span the gaps), `ffill` and
`interpolate` insert them as empty rows, filled like empty cells (not scored), up to a window's
length per gap. A row off the step, or uneven times, are refused unless `drop`.
"""

import warnings

import numpy as np
import pandas as pd

from lstm_app.config.schema import DataConfig
from lstm_app.data.times import time_text
from lstm_app.errors import DataError

GRID_LIMIT = 10  # a step whose grid would hold more than this many rows per row is not tried


def check_order(times: np.ndarray, lines: np.ndarray, path) -> None:
    """DataError at the first row whose time does not come after the row before."""
    backwards = np.flatnonzero(times[1:] <= times[:-1])
    if len(backwards):
        row = int(backwards[0]) + 1
        raise DataError(
            f"{path}: line {lines[row]}: time {time_text(times[row])} does not come after the "
            f"row before ({time_text(times[row - 1])}); rows must be in increasing time order, "
            "without repeats"
        )


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
            offset = canonical(pd.tseries.frequencies.to_offset(regular))
            return offset, times, np.ones(len(times), bool)
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


def insert_steps(columns: dict, times, lines, found: np.ndarray, grid: np.ndarray):
    """The columns, times and lines on the regular `grid`, with empty cells (NaN, or None for
    labels) in the rows inserted for missing steps; an inserted row's line is the next row's."""
    out = {}
    for name, values in columns.items():
        full = np.full(len(grid), None if values.dtype == object else np.nan, dtype=values.dtype)
        full[found] = values
        out[name] = full
    next_row = np.searchsorted(found, np.arange(len(grid)))
    return out, grid, lines[next_row]


def canonical(offset):
    """One name per quarterly step, whatever pandas' version infers: quarters starting in
    January, April, July and October are `QS-JAN` (pandas 2 says `QS-OCT`), quarters ending in
    March, June, September and December `QE-DEC`; other offsets as they are."""
    if isinstance(offset, pd.offsets.QuarterBegin):
        return pd.offsets.QuarterBegin(offset.n, startingMonth=(offset.startingMonth - 1) % 3 + 1)
    if isinstance(offset, pd.offsets.QuarterEnd):
        return pd.offsets.QuarterEnd(offset.n, startingMonth=(offset.startingMonth - 1) % 3 + 10)
    return offset


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
