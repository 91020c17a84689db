"""Sequences to classify (issue 19, its data layer): the sequences or texts read
(`lstm_app.data.sequence_reading`), split, labels encoded and features scaled from the train
split alone, padded to one length for a masked LSTM.

    sequences = read_sequences(path, "sample_id", "t", ["lpc1", ...], "speaker", "split")
    parts = split_indices(sequences, seed=0)           # {"train": idx, "val": idx, "test": idx}
    labels = LabelEncoding.fit(sequences.labels[parts["train"]])
    scaler = fit_feature_scaler(sequences.values, parts["train"])
    x, lengths = pad([scaler.transform(v) for v in sequences.values], max_length=29)
    prepare_sequences(cfg.data, seed)  -> PreparedSequences   all of the above, from the config
"""

import math
from dataclasses import dataclass

import numpy as np

from lstm_app.data.prepare import Scaler
from lstm_app.data.sequence_batches import class_weights, held_sequences, sequence_dataset
from lstm_app.data.sequence_reading import (
    SPLITS,
    Sequences,
    read_sequences,
    read_texts,
    vocabulary,
    words,
)
from lstm_app.errors import DataError, UserInputError


def split_indices(
    sequences: Sequences, fractions=(0.7, 0.15, 0.15), seed: int = 0
) -> dict[str, np.ndarray]:
    """`{split: (k,) sequence indices, ascending}`: the file's split column if it has one
    (a file with no `val` sequences gets them carved from train, `carve_validation`, with
    `fractions[1]` of it), else every label's sequences dealt out by `fractions` (train, val,
    test), shuffled from `seed`: each split keeps the label proportions."""
    if sequences.split is not None:
        parts = {name: np.flatnonzero(sequences.split == name) for name in SPLITS}
        if len(parts["val"]) == 0:
            share = fractions[1] / (fractions[0] + fractions[1])
            parts["train"], parts["val"] = carve_validation(
                parts["train"], sequences.labels, share, seed
            )
        return parts
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in SPLITS}
    for value in sorted(set(sequences.labels)):
        members = rng.permutation(np.flatnonzero(sequences.labels == value))
        cuts = np.round(np.cumsum(fractions[:2]) / np.sum(fractions) * len(members)).astype(int)
        for name, chunk in zip(SPLITS, np.split(members, cuts), strict=True):
            parts[name].extend(chunk.tolist())
    return {name: np.array(sorted(rows), dtype=np.int64) for name, rows in parts.items()}


def carve_validation(train: np.ndarray, labels: np.ndarray, share: float, seed: int):
    """`(train, val)`: `share` of each label's train sequences moved to val (at least one
    where the label has two or more), drawn from `seed`; both ascending."""
    rng = np.random.default_rng(seed)
    keep, val = [], []
    for value in sorted(set(labels[train])):
        members = rng.permutation(train[labels[train] == value])
        count = min(len(members) - 1, max(1, round(share * len(members))))
        val.extend(members[:count].tolist())
        keep.extend(members[count:].tolist())
    return np.array(sorted(keep), dtype=np.int64), np.array(sorted(val), dtype=np.int64)


@dataclass(frozen=True)
class LabelEncoding:
    """The classes of the train split, sorted (numbers as numbers: 2 before 10); a label's
    code is its position."""

    classes: tuple[str, ...]

    @classmethod
    def fit(cls, labels) -> "LabelEncoding":
        def key(value):
            try:
                return (0, float(value), "")
            except ValueError:
                return (1, 0.0, value)

        return cls(tuple(sorted({str(v) for v in labels}, key=key)))

    def encode(self, labels, where: str = "") -> np.ndarray:
        """`(n,)` int64 codes of `labels`; DataError naming the first label the train split
        does not have (`where`: which data, for the message)."""
        index = {name: code for code, name in enumerate(self.classes)}
        unseen = [str(v) for v in labels if str(v) not in index]
        if unseen:
            raise DataError(
                f"{where or 'labels'}: label {unseen[0]!r} is not in the train split, whose "
                f"classes are {', '.join(self.classes)}"
            )
        return np.array([index[str(v)] for v in labels], dtype=np.int64)


def fit_feature_scaler(values: list, train: np.ndarray, kind: str = "standard") -> Scaler:
    """A Scaler of each feature over every time step of the train sequences `values[train]`."""
    return Scaler.fit(kind, np.concatenate([values[i] for i in train], axis=0))


def pad(values: list, max_length: int, pad_value: float = 0.0):
    """`(x, lengths, truncated)`: `x` `(n, max_length, features)` float32, each sequence's
    steps first, then `pad_value`; `lengths` `(n,)` its steps kept; `truncated` the number of
    sequences longer than `max_length`, cut to their first `max_length` steps."""
    n_features = values[0].shape[1] if values else 0
    x = np.full((len(values), max_length, n_features), pad_value, dtype=np.float32)
    lengths = np.array([min(len(v), max_length) for v in values], dtype=np.int64)
    for i, (sequence, length) in enumerate(zip(values, lengths, strict=True)):
        x[i, :length] = sequence[:length]
    truncated = int(sum(len(v) > max_length for v in values))
    return x, lengths, truncated


def resample(values: list, length: int) -> np.ndarray:
    """`(n, length, features)`: each sequence linearly interpolated to `length` evenly spaced
    steps (its first and last kept), the fixed length a 1-nearest-neighbour baseline compares."""
    out = np.empty((len(values), length, values[0].shape[1]), dtype=np.float64)
    grid = np.linspace(0.0, 1.0, length)
    for i, sequence in enumerate(values):
        steps = np.linspace(0.0, 1.0, len(sequence)) if len(sequence) > 1 else np.zeros(1)
        for j in range(sequence.shape[1]):
            out[i, :, j] = np.interp(grid, steps, sequence[:, j])
    return out


# --------------------------------------------------------------------------------------------
# the whole data layer of a classification


@dataclass
class PreparedSequences:
    """Labelled sequences ready for a classifier: split, labels encoded from train, padded.

    Attributes:
        ids: `{split: (k,)}` each sequence's id.
        inputs: `{split: array}`: numeric sequences `(k, steps, features)` float32 (steps: the
            split's longest sequence, at most `max_length`) in
            their original units, NaN after each sequence's last step (the model scales and
            masks, `lstm_app.models.classifier`); texts `(k,)` as they are.
        labels: `{split: (k,)}` int64 codes of `encoding`.
        encoding: the classes, from the train split.
        feature_names: the feature columns (a text: the text column).
        max_length: steps (words) the model reads per sequence; longer ones are cut.
        lengths: `{split: (k,)}` each sequence's steps (words) before any cut.
        truncated: `{split: count}` sequences longer than `max_length`, cut to its first steps.
        scaler: `(offset, scale)` per feature from the train split's steps (numeric only).
        vocabulary: the words of the train texts the tokenizer keeps (text only).
        raw: the Sequences (numeric) or Texts read, for the baselines.
        parts: `{split: (k,)}` indices into `raw`.
    """

    ids: dict
    inputs: dict
    labels: dict
    encoding: LabelEncoding
    feature_names: tuple[str, ...]
    max_length: int
    lengths: dict
    truncated: dict
    scaler: Scaler | None
    vocabulary: list | None
    raw: object
    parts: dict
    prepared_from: dict | None = None  # (lstm_app.pipeline.check_prepared_from: not checked)

    @property
    def is_text(self) -> bool:
        return self.vocabulary is not None

    @property
    def classes(self) -> tuple[str, ...]:
        return self.encoding.classes

    def counts(self, split: str) -> np.ndarray:
        """`(classes,)` the number of sequences of each class in `split`."""
        return np.bincount(self.labels[split], minlength=len(self.classes))

    # its training input (`lstm_app.data.feed.TrainingInput`): padded, masked sequences
    streamed = False
    masked = True

    def train_dataset(self, training, seed: int, epoch):
        weights = class_weights(self) if training.class_weights == "balanced" else None
        return sequence_dataset(
            self, "train", training.batch_size, training.shuffle, seed, epoch, weights
        )

    def val_dataset(self, batch_size: int):
        return sequence_dataset(self, "val", batch_size)

    def train_batches(self, training) -> int:
        return math.ceil(len(self.labels["train"]) / training.batch_size)

    def val_count(self) -> int:
        return len(self.labels["val"])

    def held_validation(self, max_bytes: int):
        return held_sequences(self, "val", max_bytes)

    def input_width(self) -> None:
        return None  # each sequence has its own length


def prepare_sequences(data, seed: int = 0) -> PreparedSequences:
    """The classification data of config section `data` (a DataConfig with `label`): read,
    split (the file's split column, else by fractions within each label, from `seed`),
    labels encoded and features' statistics taken from the train split alone, padded.

    DataError (one line naming the file, line, column or label) for bad input; an unseen label
    in val or test names it and its split."""
    fractions = tuple(
        getattr(data.split, name) or default
        for name, default in (("train", 0.7), ("val", 0.15), ("test", 0.15))
    )
    if data.split.column is not None:  # a file without val: 15 % of each label's train
        fractions = (0.85, 0.15, 0.0)
    if data.text is not None:
        raw = read_texts(data.path, data.text, data.label, data.split.column)
    else:
        raw = read_sequences(
            data.path, data.sequence_id, data.order, data.features, data.label, data.split.column
        )
    parts = split_indices(raw, fractions, seed)
    for name in ("train", "test"):
        if len(parts[name]) == 0:
            raise DataError(f"{data.path}: the {name} split holds no sequence")
    encoding = LabelEncoding.fit(raw.labels[parts["train"]])
    if len(encoding.classes) < 2:
        raise DataError(
            f"{data.path}: column '{data.label}' (data.label): the train split holds one class "
            f"({encoding.classes[0]}); a classifier needs two or more"
        )
    labels = {
        name: encoding.encode(raw.labels[rows], f"{data.path}: the {name} split")
        for name, rows in parts.items()
    }
    ids = {name: raw.ids[rows] for name, rows in parts.items()}
    if data.text is not None:
        lengths = {n: np.array([len(words(t)) for t in raw.texts[r]]) for n, r in parts.items()}
        max_length = data.tokenizer.sequence_length
        return PreparedSequences(
            ids=ids,
            inputs={name: raw.texts[rows] for name, rows in parts.items()},
            labels=labels,
            encoding=encoding,
            feature_names=(data.text,),
            max_length=max_length,
            lengths=lengths,
            truncated={name: int(np.sum(n > max_length)) for name, n in lengths.items()},
            scaler=None,
            vocabulary=vocabulary(raw.texts[parts["train"]], data.tokenizer.max_tokens),
            raw=raw,
            parts=parts,
        )
    scaler = fit_feature_scaler(raw.values, parts["train"], data.scaler)
    max_length = data.max_length or int(raw.lengths[parts["train"]].max())
    inputs, truncated = {}, {}
    for name, rows in parts.items():
        values = [raw.values[i] for i in rows]
        # padded to its own longest sequence when shorter than max_length: a generous
        # data.max_length costs no memory (the model reads any length, up to max_length)
        width = min(max_length, max((len(v) for v in values), default=1))
        inputs[name], _, truncated[name] = pad(values, width, np.nan)
    return PreparedSequences(
        ids=ids,
        inputs=inputs,
        labels=labels,
        encoding=encoding,
        feature_names=tuple(data.features),
        max_length=max_length,
        lengths={name: raw.lengths[rows] for name, rows in parts.items()},
        truncated=truncated,
        scaler=scaler,
        vocabulary=None,
        raw=raw,
        parts=parts,
    )


def output_units(model, classes) -> int:
    """The units of a classifier's output layer (the last of `model.layers`, a ModelConfig)
    for the train split's `classes`: `auto` gives one score per class, or one for two classes
    (a sigmoid); a number must be the number of classes (or 1 for two). UserInputError
    otherwise, so that `lstm-train` refuses it before anything is written."""
    k, out = len(classes), len(model.layers) - 1
    units = model.layers[out].units
    if units == "auto":
        return 1 if k == 2 else k
    if units != k and not (k == 2 and units == 1):
        raise UserInputError(
            f"model.layers[{out}].units: the train split has {k} classes "
            f"({', '.join(classes)}); give auto (one unit per class) or {k}, got {units}"
        )
    return units
