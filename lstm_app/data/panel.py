"""Many series in one long-format file: one row per series and time step, the series named by
an id column (`data.series_id: series_id`) or by a combination of columns (`[state, region,
purpose]`).

    panel = read_panel(cfg.data)     -> Panel     each series read and checked as one series is
    panel.ids, panel.series          -> ("ACT|Canberra|Business", ...), (TimeSeries, ...)
    panel.static["state"]            -> ("ACT", ...)   one label per series

The file is read and its cells checked once; then each series' rows (in file order) are checked
as a single series is (`lstm_app.data.series.rows_series`: increasing times, missing steps and
cells by `data.missing`), its messages naming the file, the series and the line. A series'
rows need not be contiguous in the file. Static columns (`data.static`) must hold one value per
series.
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lstm_app.config.schema import DataConfig
from lstm_app.data.columns import is_missing, line_of, require_column
from lstm_app.data.prepare import PreparedData, Scaler, join_splits, one_hot, prepare_data
from lstm_app.data.reading import read_table
from lstm_app.data.series import TimeSeries, check_magnitude, read_columns, rows_series
from lstm_app.errors import DataError, without_source

ID_SEPARATOR = "|"  # between the cells of several id columns: "ACT|Canberra|Business"


@dataclass(frozen=True)
class Panel:
    """The series of a long-format file, in the order they first appear in it.

    Attributes:
        ids: one name per series: its id cell, or its id cells joined by `|`.
        series: one TimeSeries per id, each cleaned and checked on its own.
        static: `{column: (label per series,)}` for each `data.static` column.
        source: the file, for messages.
    """

    ids: tuple[str, ...]
    series: tuple[TimeSeries, ...]
    static: dict[str, tuple[str, ...]]
    source: str

    def __len__(self) -> int:
        return len(self.ids)


def _id_column(frame: pd.DataFrame, name: str, key: str, path) -> np.ndarray:
    """The id cells of column `name` as text; DataError at the first empty one."""
    column = require_column(frame, name, key, path)
    empty = np.flatnonzero(is_missing(column))
    if len(empty):
        raise DataError(
            f"{path}: line {line_of(empty[0])}, column '{name}' ({key}): a series id is missing; "
            "every row must name its series"
        )
    return column.to_numpy(dtype=object)


def _series_ids(frame: pd.DataFrame, data: DataConfig, path) -> np.ndarray:
    """`(rows,)` the id of each row's series: its id cell, or its id cells joined by `|`."""
    one = len(data.series_id) == 1
    parts = [
        _id_column(frame, name, "data.series_id" if one else f"data.series_id[{i}]", path)
        for i, name in enumerate(data.series_id)
    ]
    if one:
        return parts[0]
    return np.array([ID_SEPARATOR.join(cells) for cells in zip(*parts, strict=True)], object)


def _static_labels(frame, data: DataConfig, rows: list[np.ndarray], ids, path) -> dict:
    """`{column: (label per series,)}`; DataError naming the series, the column and two lines
    where a static column holds two values in one series (or misses one)."""
    static = {}
    for i, name in enumerate(data.static):
        key = f"data.static[{i}]"
        column = require_column(frame, name, key, path)
        values = column.to_numpy(dtype=object)
        missing = is_missing(column)
        labels = []
        for series_id, where in zip(ids, rows, strict=True):
            if missing[where].any():
                line = line_of(where[np.flatnonzero(missing[where])[0]])
                raise DataError(
                    f"{path}: series '{series_id}', line {line}, column '{name}' ({key}): "
                    "empty; a static column holds one value per series"
                )
            first = values[where[0]]
            other = np.flatnonzero(values[where] != first)
            if len(other):
                line = line_of(where[other[0]])
                raise DataError(
                    f"{path}: series '{series_id}', column '{name}' ({key}): '{first}' at line "
                    f"{line_of(where[0])} but '{values[where[other[0]]]}' at line {line}; a static "
                    "column holds one value per series"
                )
            labels.append(str(first))
        static[name] = tuple(labels)
    return static


def read_panel(data: DataConfig) -> Panel:
    """The series of the long-format file `data.path` (see the module's docstring)."""
    path = data.path
    frame = read_table(path, data.separator)
    if frame.empty:
        raise DataError(f"{path}: no data rows under the header")
    ids = _series_ids(frame, data, path)
    columns, times, lines = read_columns(frame, data, path)
    codes, names = pd.factorize(ids)  # in the order series first appear
    order = np.argsort(codes, kind="stable")  # each series' rows, in file order
    rows = np.split(order, np.cumsum(np.bincount(codes))[:-1])
    series = []
    for series_id, where in zip(names, rows, strict=True):
        one = rows_series(
            {name: values[where] for name, values in columns.items()},
            times[where],
            lines[where],
            data,
            f"{path}: series '{series_id}'",
            str(path),
        )
        check_magnitude(one)
        series.append(one)
    static = _static_labels(frame, data, rows, names, path)
    return Panel(tuple(str(n) for n in names), tuple(series), static, str(path))


@dataclass(frozen=True)
class PreparedPanel:
    """A panel prepared for one global model: each series transformed, split by time and scaled
    on its own train part (`scaler: series`) or window by window (`window`, `window_abs`), with
    the same input columns.

    Attributes:
        ids: the series kept, in the panel's order.
        parts: one PreparedData per kept series; its inputs end with the one-hot columns of the
            static labels (`static=label`), constant along the series.
        skipped: `{id: why}` for series left out (too short for a window in a split...).
        static: `{column: (label per kept series,)}`.
        feature_names: the model's input columns, the same for every series.
    """

    ids: tuple[str, ...]
    parts: tuple[PreparedData, ...]
    skipped: dict[str, str]
    static: dict[str, tuple[str, ...]]
    feature_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def prepared_from(self) -> dict | None:
        """What every series was prepared from (`PreparedData.prepared_from`)."""
        return self.parts[0].prepared_from


def static_columns(static: dict[str, tuple[str, ...]], n_series: int, categories=None):
    """The one-hot columns of the static labels: `(names, (n_series, columns) 0/1 matrix)`,
    the labels of each column sorted (or `categories[column]`, those of a whole panel read
    shard by shard), names `column=label`."""
    names, blocks = [], [np.zeros((n_series, 0))]
    for column, labels in static.items():
        known = sorted(set(labels)) if categories is None else categories[column]
        names += [f"{column}={label}" for label in known]
        blocks.append(one_hot(np.asarray(labels, object), known))
    return tuple(names), np.concatenate(blocks, axis=1).astype(np.float32)


# a panel's series is kept when its test block can be forecast: one that is too short to give
# a train or validation window adds none, and is forecast by the model the others trained (one
# with fewer rows before its test block than a window's inputs, from a padded window)
PANEL_REQUIRED = ("test",)


def prepare_panel(
    data: DataConfig, seed: int = 0, panel: Panel | None = None, categories=None
) -> PreparedPanel:
    """Each series of `data`'s panel prepared on its own (`prepare_data` with its own series:
    transforms, splits by `data.split`, scalers fitted on its train part), the static labels
    appended as one-hot inputs (of `categories`, `{column: labels}`, when given: a shard's
    series among those of every shard). A series that cannot be prepared (too short for a
    test window, a log of a non-positive value...) is left out, with the reason;
    DataError if none is left."""
    panel = panel or read_panel(data)
    kept, parts, skipped = [], [], {}
    for i, (series_id, series) in enumerate(zip(panel.ids, panel.series, strict=True)):
        try:
            parts.append(
                prepare_data(data, seed, series=series, require=PANEL_REQUIRED, pad_test=True)
            )
            kept.append(i)
        except DataError as err:
            skipped[series_id] = without_source(err)
    if not parts:
        first = next(iter(skipped.items()))
        raise DataError(
            f"{panel.source}: no series can be prepared; series '{first[0]}': {first[1]}"
        )
    static = {column: tuple(labels[i] for i in kept) for column, labels in panel.static.items()}
    names, onehot = static_columns(static, len(parts), categories)
    parts = [_with_static(part, onehot[j]) for j, part in enumerate(parts)]
    return PreparedPanel(
        tuple(panel.ids[i] for i in kept),
        tuple(parts),
        skipped,
        static,
        parts[0].feature_names + names,
    )


def _with_static(part: PreparedData, values: np.ndarray) -> PreparedData:
    """`part` with the constant columns `values` `(columns,)` appended to every split's
    inputs."""
    if not len(values):
        return part
    splits = {
        name: replace(
            split,
            features=np.concatenate(
                [split.features, np.broadcast_to(values, (len(split.features), len(values)))],
                axis=1,
            ).astype(np.float32),
            window_scaling=split.window_scaling and split.window_scaling.with_columns(len(values)),
        )
        for name, split in part.splits.items()
    }
    return replace(part, splits=splits)


def joined_data(prepared: PreparedPanel, names=("train", "val")) -> PreparedData:
    """One PreparedData for training a model on every series at once: the splits `names` of
    all series end to end (`join_splits`: no window across series), the panel's inputs. Its
    scalers and series are the first series' and mean nothing for the whole: forecast and
    score each series with its own part."""
    splits = {name: join_splits([part.splits[name] for part in prepared.parts]) for name in names}
    return replace(prepared.parts[0], splits=splits, feature_names=prepared.feature_names)


def panel_scalers(prepared: PreparedPanel) -> dict:
    """What `scaler.json` holds for a panel: with `scaler: series`, each series' statistics
    (`{"kind": "series", "series": {id: {"features": .., "target": ..}}}`); else the one set
    of statistics every series shares (none: offset 0, scale 1) over the panel's inputs, and
    the window scaling, as for one series."""
    first = prepared.parts[0]
    transforms = list(first.pipeline.names)
    if first.feature_scaler.kind == "series":
        return {
            "kind": "series",
            "inputs": list(prepared.feature_names),
            "series": {
                series_id: {
                    "features": part.feature_scaler.to_dict(part.feature_names),
                    "target": part.target_scaler.to_dict([part.series.target_name]),
                }
                for series_id, part in zip(prepared.ids, prepared.parts, strict=True)
            },
            "target_transforms": transforms,
        }
    n = len(prepared.feature_names)
    features = Scaler(first.feature_scaler.kind, np.zeros(n), np.ones(n))  # none, window
    scalers = {
        "features": features.to_dict(prepared.feature_names),
        "target": first.target_scaler.to_dict([first.series.target_name]),
        "target_transforms": transforms,
    }
    scaling = first.splits["train"].window_scaling
    if scaling is not None:
        scalers["window"] = scaling.to_dict(prepared.feature_names)
    return scalers
