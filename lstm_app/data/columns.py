"""The cells of a table's columns (`lstm_app.data.reading`), checked and converted: a column by
name (a DataError with "did you mean"), missing-value tokens, numbers, labels, the file line of a
row; and the missing-value policy of `data.missing` (`clean_missing`).

Missing cells (empty, NA, NaN, null, ...) follow `data.missing`: `error` (the default: refuse,
counting them per column), `drop` (remove their rows; windows then run across the gaps),
`ffill` (carry the last value forward; leading rows with nothing to carry are dropped) or
`interpolate` (linear in the row number, constant before the first and after the last value;
labels are carried forward). Forecasts of target values that were filled in are not scored.
"""

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.errors import DataError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})
MAX_MAGNITUDE = 1e30  # the largest value accepted: float32 reaches 3.4e38, with room to scale


def line_of(row: int) -> int:
    """The file line of data row `row` (0-based), the header being line 1."""
    return row + 2


def require_column(frame: pd.DataFrame, name: str, key: str, path: Path) -> pd.Series:
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


def is_missing(column: pd.Series) -> np.ndarray:
    """`(rows,)` True where a text cell is empty or a missing-value token such as NA."""
    return column.str.lower().isin(MISSING_TOKENS).to_numpy()


def as_numbers(column: pd.Series, key: str, path: Path) -> np.ndarray:
    """A text column as float64, NaN where a cell is missing; DataError at the first cell that
    is neither missing nor a finite number."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64, na_value=np.nan, copy=True)
    bad = ~np.isfinite(values) & ~is_missing(column)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: line {line_of(row)}, column '{column.name}' ({key}): expected a finite "
            f"number, got {column.iloc[row]!r}"
        )
    values[is_missing(column)] = np.nan
    return values


def as_labels(column: pd.Series) -> np.ndarray:
    """A text column of labels, None where a cell is missing."""
    values = column.to_numpy(dtype=object)
    values[is_missing(column)] = None
    return values


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
