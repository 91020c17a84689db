"""Reading sequences to classify (issue 19): a long CSV, one row per time step, read into
variable-length sequences with one label each (`read_sequences`); or a CSV of texts, one per row
(`read_texts`), and their words as `TextVectorization` splits them.

    sequences = read_sequences(path, "sample_id", "t", ["lpc1", ...], "speaker", "split")
    texts = read_texts(path, "review", "sentiment", "split")

Rows of one sequence share its id and come in increasing `order`; each sequence has one label.
Bad input is one line naming the file, its line, the column and what was expected (DataError).
"""

import re
from dataclasses import dataclass

import numpy as np

from lstm_app.data.columns import as_labels, as_numbers, is_missing, line_of, require_column
from lstm_app.data.reading import read_csv
from lstm_app.errors import DataError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Sequences:
    """Labelled sequences of different lengths.

    Attributes:
        ids: `(n,)` each sequence's id, in the order of their first row in the file.
        values: n arrays `(length_i, features)` float64, time steps in `order`.
        labels: `(n,)` each sequence's label, as text.
        split: `(n,)` the split each sequence belongs to (`train`, `val` or `test`), from the
            file's split column; None when it has none.
        feature_names: the feature columns, in order.
    """

    ids: np.ndarray
    values: list
    labels: np.ndarray
    split: np.ndarray | None
    feature_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """`(n,)` each sequence's number of time steps."""
        return np.array([len(v) for v in self.values], dtype=np.int64)


def read_sequences(
    path,
    sequence_id: str,
    order: str,
    features,
    label: str | None,
    split: str | None = None,
    frame=None,
) -> Sequences:
    """Reads the long CSV at `path` (one row per time step) into Sequences.

    Args:
        sequence_id: the column naming each row's sequence.
        order: a numeric column ordering the rows of a sequence (strictly increasing).
        features: the numeric columns of each time step.
        label: the column of each sequence's label (the same on all its rows); None: no
            label (sequences to classify), every label "".
        split: an optional column saying each sequence's split: train, val or test.
        frame: the file's table if already read (`lstm_app.data.reading.read_csv`); else read here.

    DataError, naming the file's line and the column, for a missing column or cell, a cell
    that is not a number, rows of a sequence out of order, or a sequence with two labels.
    """
    frame = read_csv(path) if frame is None else frame
    if len(frame) == 0:
        raise DataError(f"{path}: no rows under the header; expected one row per time step")
    ids = require_column(frame, sequence_id, "data.sequence_id", path)
    missing = np.flatnonzero(is_missing(ids))
    if len(missing):
        raise DataError(
            f"{path}: line {line_of(missing[0])}, column '{sequence_id}' (data.sequence_id): "
            "a sequence id is missing; every row must name its sequence"
        )
    steps = as_numbers(require_column(frame, order, "data.order", path), "data.order", path)
    columns = []
    for name in features:
        values = as_numbers(
            require_column(frame, name, "data.features", path), "data.features", path
        )
        empty = np.flatnonzero(np.isnan(values))
        if len(empty):
            raise DataError(
                f"{path}: line {line_of(empty[0])}, column '{name}' (data.features): empty; "
                "every time step needs every feature"
            )
        columns.append(values)
    empty = np.flatnonzero(np.isnan(steps))
    if len(empty):
        raise DataError(
            f"{path}: line {line_of(empty[0])}, column '{order}' (data.order): empty; every row "
            "needs its place in its sequence"
        )
    if label is None:  # sequences to classify, not to train on: no label column
        labels = np.full(len(frame), "", dtype=object)
    else:
        labels = as_labels(require_column(frame, label, "data.label", path))
    unlabelled = np.flatnonzero([value is None for value in labels])
    if len(unlabelled):
        raise DataError(
            f"{path}: line {line_of(unlabelled[0])}, column '{label}' (data.label): the label is "
            "missing; every row of a sequence carries its label"
        )
    parts = as_labels(require_column(frame, split, "data.split.column", path)) if split else None
    if parts is not None:
        bad = np.flatnonzero([value not in SPLITS for value in parts])
        if len(bad):
            raise DataError(
                f"{path}: line {line_of(bad[0])}, column '{split}' (data.split.column): expected "
                f"train, val or test, got {parts[bad[0]]!r}"
            )
    table = np.stack(columns, axis=1) if columns else np.zeros((len(frame), 0))
    rows_of = _rows_by_id(ids.to_numpy(dtype=object).astype(str))
    ordered = np.array(sorted(rows_of, key=lambda name: rows_of[name][0]), dtype=object)
    values, sequence_labels, sequence_splits = [], [], []
    for name in ordered:
        rows = rows_of[name]
        _check_rows(rows, steps, labels, parts, name, path, order, label, split)
        values.append(table[rows])
        sequence_labels.append(str(labels[rows[0]]))
        if parts is not None:
            sequence_splits.append(str(parts[rows[0]]))
    return Sequences(
        ids=ordered,
        values=values,
        labels=np.array(sequence_labels, dtype=object),
        split=None if parts is None else np.array(sequence_splits, dtype=object),
        feature_names=tuple(features),
    )


def _rows_by_id(ids: np.ndarray) -> dict[str, np.ndarray]:
    """`{id: (rows,) its row numbers in file order}` (so `rows[0]` is its first row)."""
    order = np.argsort(ids, kind="stable")
    names, starts = np.unique(ids[order], return_index=True)
    return dict(zip(names, np.split(order, starts[1:]), strict=True))


def _check_rows(rows, steps, labels, parts, name, path, order, label, split) -> None:
    """DataError if the rows of sequence `name` are not in strictly increasing `order`, or
    disagree on its label or split."""
    back = np.flatnonzero(np.diff(steps[rows]) <= 0)
    if len(back):
        row = rows[back[0] + 1]
        raise DataError(
            f"{path}: line {line_of(row)}, column '{order}' (data.order): sequence '{name}' has "
            f"{order} {steps[row]:g} after {steps[rows[back[0]]]:g}; the rows of a sequence must "
            f"come in increasing {order}"
        )
    for values, column, key in ((labels, label, "data.label"), (parts, split, "data.split.column")):
        if values is None:
            continue
        other = np.flatnonzero(values[rows] != values[rows[0]])
        if len(other):
            row = rows[other[0]]
            raise DataError(
                f"{path}: line {line_of(row)}, column '{column}' ({key}): sequence '{name}' has "
                f"{values[row]!r} here and {values[rows[0]]!r} on its first row; one per sequence"
            )


# --------------------------------------------------------------------------------------------
# texts: one row, one sequence of words


@dataclass(frozen=True)
class Texts:
    """Labelled texts, one per row of the file.

    Attributes:
        ids: `(n,)` each text's id: its line in the file.
        texts: `(n,)` the texts.
        labels: `(n,)` each text's label, as text.
        split: `(n,)` each text's split, from the file's split column; None when it has none.
    """

    ids: np.ndarray
    texts: np.ndarray
    labels: np.ndarray
    split: np.ndarray | None

    def __len__(self) -> int:
        return len(self.ids)


def read_texts(path, text: str, label: str | None, split: str | None = None, frame=None) -> Texts:
    """Reads the CSV at `path` (or its table `frame`, if already read), one labelled text per
    row (`label` None: texts to classify, every label ""). DataError naming the line and the
    column for a missing column, an empty text (a sequence of no words), a missing label or a
    split other than train/val/test."""
    frame = read_csv(path) if frame is None else frame
    if len(frame) == 0:
        raise DataError(f"{path}: no rows under the header; expected one text per row")
    texts = as_labels(require_column(frame, text, "data.text", path))
    checks = [(texts, text, "data.text", "empty: a text of no words has nothing to classify")]
    if label is None:
        labels = np.full(len(frame), "", dtype=object)
    else:
        labels = as_labels(require_column(frame, label, "data.label", path))
        checks.append(
            (labels, label, "data.label", "the label is missing; every text needs its label")
        )
    for values, column, key, what in checks:
        missing = [
            i
            for i, value in enumerate(values)
            if value is None or (key == "data.text" and not words(value))
        ]
        if missing:
            raise DataError(
                f"{path}: line {line_of(missing[0])}, column '{column}' ({key}): {what}"
            )
    parts = None
    if split:
        parts = as_labels(require_column(frame, split, "data.split.column", path))
        bad = np.flatnonzero([value not in SPLITS for value in parts])
        if len(bad):
            raise DataError(
                f"{path}: line {line_of(bad[0])}, column '{split}' (data.split.column): expected "
                f"train, val or test, got {parts[bad[0]]!r}"
            )
    return Texts(
        ids=np.array([str(line_of(i)) for i in range(len(frame))], dtype=object),
        texts=np.asarray(texts, dtype=object),
        labels=np.array([str(v) for v in labels], dtype=object),
        split=None if parts is None else np.asarray(parts, dtype=object),
    )


# Keras TextVectorization's default standardization: lower case, this punctuation removed
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def words(text: str) -> list[str]:
    """The words of `text` as `TextVectorization` splits them by default (lower case,
    punctuation stripped, split on whitespace): `words("Good case, Excellent!")` ->
    `["good", "case", "excellent"]`."""
    return PUNCTUATION.sub("", str(text).lower()).split()


def vocabulary(texts, max_tokens: int) -> list[str]:
    """The `max_tokens - 2` most frequent words of `texts` (ties in alphabetical order), the
    vocabulary `TextVectorization` is given (its ids 0 and 1: padding, out of vocabulary)."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in words(text):
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    return ranked[: max_tokens - 2]
