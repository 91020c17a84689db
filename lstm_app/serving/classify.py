"""A classifier as shipped (`task: classification`), and classifying with it.

    export_classifier(model, run, ["keras", "saved_model", "onnx"], out)   # -> out/
    table = classify_csv(load_forecaster("runs/japanese_vowels-.../export"), "new.csv")

The trained classifier already takes what a user has (`lstm_app.models.classifier`): raw
sequences `(batch, time, features)` float32 in their original units, NaN after each sequence's
last step, or raw texts `(batch,)`; it returns `(batch, classes)` probabilities, the classes
named in `metadata.json`. The artefacts read at most `max_length` steps (words) per sequence:
a longer sequence is read to its first `max_length`, and `classify_csv` counts those it cut.
TFLite's recurrent layers are unrolled: it takes exactly `max_length` steps (pad with NaN).
Text models (TextVectorization's string ops) export to keras and saved_model only.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app.config.choices import TEXT_FORMATS
from lstm_app.errors import DataError, UserInputError, first_line
from lstm_app.runs.rundir import RunDir, write_json
from lstm_app.serving.formats import CARD, FORMATS, config_sha256
from lstm_app.serving.spec import spec_from_dict

BATCH_SIZE = 1024  # sequences per run of the model


@dataclass(frozen=True)
class ClassifierSpec:
    """What an exported classifier takes and returns.

    Attributes:
        inputs: the feature columns, in order (a text model: the text column).
        text: whether the model takes raw texts `(batch,)` instead of sequences.
        classes: the class names, in the order of the probabilities.
        max_length: steps (words) read per sequence; the first ones.
        sequence_id, order, label: the training CSV's columns (a long CSV to classify has the
            same sequence id and order columns; its label column, if any, is compared).
    """

    wrapped = False  # served as it is: it takes raw sequences or texts itself

    inputs: tuple[str, ...]
    text: bool
    classes: tuple[str, ...]
    max_length: int
    sequence_id: str | None = None
    order: str | None = None
    label: str | None = None

    @property
    def compiles_with_xla(self) -> bool:
        """XLA has no string ops: a text model's SavedModel is not XLA-compiled."""
        return not self.text

    @property
    def input_width(self) -> int:  # steps of a fixed-length (unrolled) model
        return self.max_length

    @property
    def rows(self) -> int:
        return self.max_length

    def input_signature(self, rows: int | None = None):
        """The model's input: `(batch, rows, features)` float32, or `(batch,)` strings."""
        import tensorflow as tf

        if self.text:
            return tf.TensorSpec((None,), tf.string, name="text")
        return tf.TensorSpec((None, rows, len(self.inputs)), tf.float32, name="sequence")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ClassifierSpec":
        return spec_from_dict(cls, values)

    @classmethod
    def from_run(cls, run: RunDir) -> "ClassifierSpec":
        data, scalers = run.read_config()["data"], run.read_scalers()
        text = data.get("text") is not None
        return cls(
            inputs=(data["text"],) if text else tuple(data["features"]),
            text=text,
            classes=tuple(scalers["classes"]),
            max_length=int(scalers["max_length"]),
            sequence_id=data.get("sequence_id"),
            order=data.get("order"),
            label=data.get("label"),
        )


def check_formats(formats, text: bool) -> None:
    """UserInputError if a text model is asked for a format its string ops cannot go to."""
    if text:
        for name in formats:
            if name not in TEXT_FORMATS:
                raise UserInputError(
                    f"export.formats: {name} cannot hold a text model's tokenizer (string ops); "
                    f"export {' or '.join(TEXT_FORMATS)}"
                )


def export_classifier(model, run: RunDir, formats, out: Path) -> None:
    """Writes `model` (a classifier of `run`) in each of `formats` into `out`, with the card."""
    spec = ClassifierSpec.from_run(run)
    check_formats(formats, spec.text)
    for name in formats:
        FORMATS[name].write(model, model, spec, out / FORMATS[name].artefact)
    present = [name for name in FORMATS.names() if (out / FORMATS[name].artefact).exists()]
    write_json(out / CARD, classifier_card(run, spec, present))


def classifier_card(run: RunDir, spec: ClassifierSpec, formats) -> dict:
    """`metadata.json` of an exported classifier."""
    config_text = run.config_text()
    metrics = run.read_metrics()
    short = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss")
    if spec.text:
        inputs = {
            "column": spec.inputs[0],
            "dtype": "string",
            "shape": ["batch"],
            "max_words": spec.max_length,
            "note": "raw text; lower-cased, punctuation stripped and cut to its first "
            "max_words words inside the model",
        }
    else:
        inputs = {
            "columns": list(spec.inputs),
            "dtype": "float32",
            "shape": ["batch", "steps", len(spec.inputs)],
            "max_steps": spec.max_length,
            "padding": "NaN",
            "note": "raw feature values in their original units (scaled inside the model); "
            "sequences of different lengths padded after their last step with NaN (masked); "
            "only the first max_steps steps are read; tflite takes exactly max_steps",
        }
    return {
        "format_version": 1,
        "task": "classification",
        "run": run.name,
        "kind": run.read_kind(),
        "inputs": inputs,
        "output": {
            "shape": ["batch", len(spec.classes)],
            "classes": list(spec.classes),
            "note": "probabilities of the classes, in this order (each row sums to 1)",
        },
        "formats": {name: FORMATS[name].artefact for name in FORMATS.names() if name in formats},
        "versions": run.read_status().get("versions"),
        "config_sha256": config_sha256(config_text),
        "classifier_spec": spec.to_dict(),
        "test_metrics": {
            "model": {k: metrics["test"].get(k) for k in short},
            **{
                name: {k: m.get(k) for k in short}
                for name, m in metrics.get("baselines", {}).items()
            },
        },
    }


def classifier_inputs(
    spec: ClassifierSpec, csv
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """`(ids, inputs, labels, truncated)` of the CSV `csv` as the classifier takes them:
    numeric sequences `(n, max_length, features)` float32 NaN-padded (each read to its first
    `max_length` steps; `truncated` counts those cut), or texts `(n,)`; `labels` the CSV's
    label column (None without one). DataError (one line) for bad input."""
    from lstm_app.data.reading import read_csv
    from lstm_app.data.sequence_reading import read_sequences, read_texts, words
    from lstm_app.data.sequences import pad

    path = Path(csv)
    frame = read_csv(path)  # read once: whether it has the label column, then its sequences
    label = spec.label if spec.label is not None and spec.label in frame.columns else None
    if spec.text:
        texts = read_texts(path, spec.inputs[0], label, frame=frame)
        cut = int(sum(len(words(t)) > spec.max_length for t in texts.texts))
        labels = texts.labels if label else None
        return texts.ids, texts.texts.astype(str), labels, cut
    sequences = read_sequences(path, spec.sequence_id, spec.order, spec.inputs, label, frame=frame)
    x, _, cut = pad(sequences.values, spec.max_length, np.nan)
    labels = sequences.labels if label else None
    return sequences.ids, x, labels, cut


def classify_csv(forecaster, csv) -> tuple[pd.DataFrame, int]:
    """`(table, truncated)`: each sequence of `csv` with its predicted class and the
    probability of every class (and its actual class, when the CSV has the label column),
    by the exported classifier `forecaster` (`load_forecaster`)."""
    spec = ClassifierSpec.from_dict(forecaster.metadata["classifier_spec"])
    try:
        ids, inputs, labels, cut = classifier_inputs(spec, csv)
    except DataError as err:
        raise UserInputError(f"--input {err}") from None
    try:
        run = FORMATS[forecaster.format].runner(forecaster.path)
    except Exception as err:
        raise UserInputError(
            f"--model {forecaster.path}: cannot be loaded as {forecaster.format}: {first_line(err)}"
        ) from None
    try:
        parts = [run(inputs[i : i + BATCH_SIZE]) for i in range(0, len(inputs), BATCH_SIZE)]
    except Exception as err:  # a model that is not this card's: one line
        raise UserInputError(
            f"--model {forecaster.path}: cannot classify the sequences of --input {csv} "
            f"({CARD}): {first_line(err)}"
        ) from None
    probabilities = np.concatenate(parts, axis=0)
    if probabilities.shape != (len(inputs), len(spec.classes)):
        raise UserInputError(
            f"--model {forecaster.path}: returns probabilities of shape {probabilities.shape} "
            f"for {len(inputs)} sequences; {CARD} says {len(spec.classes)} classes"
        )
    classes = np.asarray(spec.classes, dtype=object)
    table = pd.DataFrame({"id": ids})
    if labels is not None:
        table["actual"] = labels
    table["predicted"] = classes[np.argmax(probabilities, axis=1)]
    for k, name in enumerate(spec.classes):
        table[f"p_{name}"] = probabilities[:, k]
    return table, cut
