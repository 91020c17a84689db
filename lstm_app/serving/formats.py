"""The export formats: one class per format, holding everything about it.

    FORMATS.names()                          # ("keras", "saved_model", "onnx", "tflite")
    fmt = FORMATS["onnx"]
    fmt.artefact, fmt.extras                 # "model.onnx", ("tf2onnx", "onnxruntime")
    fmt.write(serving, model, spec, path)    # the export (lstm_app.serving.exporter)
    run = fmt.runner(path)                   # raw windows -> forecasts (lstm_app.serving.predict)
    fmt.recognizes(path)                     # whether `path` is such an artefact

Every format holds the serving model (`lstm_app.serving.graph`): raw feature values in,
forecasts in the target's original units out; scaling and target transforms are inside it.

This module imports neither TensorFlow nor Keras (each method imports what it needs), so the
config schema and the command line can read the formats, their files and their packages
before TensorFlow loads. A new format is one class here, registered under its name, and its
name in the config's choices (`lstm_app.config.choices.FORMAT_NAMES`, which this module checks
on import).
"""

import contextlib
import hashlib
import importlib.util
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lstm_app.config.choices import FORMAT_NAMES, check_catalogue
from lstm_app.errors import UserInputError
from lstm_app.registry import Registry

if TYPE_CHECKING:  # for annotations only: this catalogue stays light
    from lstm_app.runs.rundir import RunDir
    from lstm_app.serving.spec import ServingSpec

FORMATS = Registry("export format")
CARD = "metadata.json"  # the model card beside the artefacts of an export directory

Runner = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Declared:
    """What a loaded artefact says of itself: its input and output shapes (None for dynamic
    sizes; the whole shape None when it is not one tensor) and whether it wraps a model by
    `build_serving_model`."""

    input_shape: tuple | None
    output_shape: tuple | None
    is_serving_model: bool


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded in its format's runtime: `loaded(raw)`, raw windows `(n, rows, inputs)`
    float32 -> forecasts `(n, horizon)`; `declared` when the format can tell (keras)."""

    forward: Runner
    declared: Declared | None = None

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return self.forward(raw)


class ExportFormat:
    """An export format.

    Attributes:
        name: its name in configs and on the command line.
        artefact: the file (or directory) it writes in an export directory.
        extras: the optional modules it needs (`pip install 'lstm-app[export]'`).
        preference: the rank in which `load_forecaster` picks it from an export directory
            (lowest first).
        directory: the artefact is a directory named `title` in messages, not a file named by
            its suffix.
        fixed_rows: the model takes exactly the card's `inputs.rows` rows (others take more,
            using the last ones).
    """

    name: str = ""
    artefact: str = ""
    extras: tuple[str, ...] = ()
    preference: int = 0
    directory: bool = False
    title: str = ""
    fixed_rows: bool = False

    @classmethod
    def write(cls, serving_model, model, spec: "ServingSpec", path: Path) -> None:
        """Exports `serving_model` (`model`, the trained model, wrapped by
        `build_serving_model`) to `path`."""
        raise NotImplementedError

    @classmethod
    def runner(cls, path: Path) -> LoadedModel:
        """The artefact at `path` loaded in the format's own runtime; the forecaster checks
        what it declares (if the format can tell) against the model card before running it."""
        raise NotImplementedError

    @classmethod
    def recognizes(cls, path: Path) -> bool:
        """Whether `path` is an artefact of this format (by its suffix)."""
        return Path(path).suffix == Path(cls.artefact).suffix


def artefact_kinds() -> str:
    """What a model artefact may be, for messages: `a .keras, .onnx or .tflite file, or a
    SavedModel directory`."""
    files = [Path(f.artefact).suffix for _, f in FORMATS.items() if not f.directory]
    folders = [f.title for _, f in FORMATS.items() if f.directory]
    text = (
        f"a {', '.join(files[:-1])} or {files[-1]} file" if len(files) > 1 else f"a {files[0]} file"
    )
    return text + "".join(f", or a {title} directory" for title in folders)


def _register(cls):
    return FORMATS.register(cls.name)(cls)


@contextlib.contextmanager
def _quiet_tensorflow():
    """Silences TensorFlow's INFO lines ("Assets written to ...") while a SavedModel is saved."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


@_register
class Keras(ExportFormat):
    """`model.keras`: Keras; `keras.models.load_model` reads it once `lstm_app` is imported
    (its layers are registered by `lstm_app.serving.graph`)."""

    name = "keras"
    artefact = "model.keras"
    preference = 1

    @classmethod
    def write(cls, serving_model, model, spec, path):
        from lstm_app.runs.rundir import write_atomic

        write_atomic(path, serving_model.save)

    @classmethod
    def runner(cls, path):
        import keras

        import lstm_app.models.classifier
        import lstm_app.models.layers  # noqa: F401  (registers GateLSTM)
        from lstm_app.serving.graph import ToModelInputs, ToOriginalUnits  # registered too

        loaded = keras.models.load_model(path, safe_mode=True)  # never runs code from the file

        kinds = {type(layer) for layer in getattr(loaded, "layers", ())}
        declared = Declared(
            input_shape=_shape(getattr(loaded, "input_shape", None)),
            output_shape=_shape(getattr(loaded, "output_shape", None)),
            is_serving_model={ToModelInputs, ToOriginalUnits} <= kinds,
        )
        return LoadedModel(lambda x: np.asarray(loaded(x, training=False)), declared)


@_register
class SavedModel(ExportFormat):
    """`saved_model/`: TensorFlow SavedModel: `model = tf.saved_model.load(path)`, then
    `model.serve(x)` (keep `model`: its variables die with it), no Keras or lstm_app needed;
    batch and time dynamic; its `serve` function is compiled with XLA (about
    0.4 ms a batch-1 forecast on 2 CPU cores instead of 3 ms)."""

    name = "saved_model"
    artefact = "saved_model"
    preference = 0
    directory = True
    title = "SavedModel"

    @classmethod
    def write(cls, serving_model, model, spec, path):
        import keras
        import tensorflow as tf

        archive = keras.export.ExportArchive()
        archive.track(serving_model)
        forward = tf.function(
            lambda x: serving_model(x, training=False), jit_compile=spec.compiles_with_xla
        )
        archive.add_endpoint("serve", forward, input_signature=[spec.input_signature()])
        tmp = path.with_name(f".tmp-{path.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with _quiet_tensorflow():
                archive.write_out(str(tmp), verbose=False)
            tmp.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def runner(cls, path):
        import tensorflow as tf

        served = tf.saved_model.load(str(path))

        def run_saved_model(x):
            # `served` lives as long as this function: a loaded SavedModel whose object is
            # garbage-collected fails ("variables which have been deleted")
            return served.serve(tf.constant(x)).numpy()

        return LoadedModel(run_saved_model)

    @classmethod
    def recognizes(cls, path):
        path = Path(path)
        return path.is_dir() and (path / "saved_model.pb").is_file()


@_register
class Onnx(ExportFormat):
    """`model.onnx`: ONNX (converted by tf2onnx from the same graph, without XLA), for
    onnxruntime; batch and time dynamic; input `raw_window`."""

    name = "onnx"
    artefact = "model.onnx"
    extras = ("tf2onnx", "onnxruntime")
    preference = 2

    @classmethod
    def write(cls, serving_model, model, spec, path):
        import tensorflow as tf
        import tf2onnx

        from lstm_app.runs.rundir import write_atomic

        forward = tf.function(lambda x: serving_model(x, training=False))

        def convert(tmp):
            tf2onnx.convert.from_function(
                forward, input_signature=[spec.input_signature()], output_path=str(tmp)
            )

        write_atomic(path, convert)

    @classmethod
    def runner(cls, path):
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return LoadedModel(lambda x: session.run(None, {name: x})[0])


@_register
class TFLite(ExportFormat):
    """`model.tflite`: TFLite, for ai-edge-litert: the recurrent layers unrolled, so the number
    of rows is fixed (`metadata.json`: inputs.rows) and the batch is dynamic (resize the
    input); TFLite cannot convert the loop of an LSTM whose batch is dynamic."""

    name = "tflite"
    artefact = "model.tflite"
    fixed_rows = True
    extras = ("ai_edge_litert",)
    preference = 3

    @classmethod
    def write(cls, serving_model, model, spec, path):
        import tensorflow as tf

        from lstm_app.runs.rundir import write_atomic
        from lstm_app.serving.graph import served, unrolled_copy

        unrolled = unrolled_copy(model, time_steps=spec.input_width)
        fixed = served(unrolled, spec, time_steps=spec.rows)
        with tempfile.TemporaryDirectory() as tmp:
            with _quiet_tensorflow():
                fixed.export(tmp, verbose=False)
            flat = tf.lite.TFLiteConverter.from_saved_model(tmp).convert()
        write_atomic(path, lambda tmp_path: tmp_path.write_bytes(flat))

    @classmethod
    def runner(cls, path):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        allocated = False

        def run_tflite(x):
            nonlocal allocated
            (details,) = interpreter.get_input_details()
            if tuple(details["shape"]) != x.shape:
                interpreter.resize_tensor_input(details["index"], x.shape)
                interpreter.allocate_tensors()
            elif not allocated:
                interpreter.allocate_tensors()
            allocated = True
            interpreter.set_tensor(details["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()

        return LoadedModel(run_tflite)


check_catalogue("lstm_app.serving.formats.FORMATS", FORMAT_NAMES, FORMATS.names())


def _shape(shape):
    """A Keras model's declared shape as a tuple, or None if it has several inputs/outputs."""
    if isinstance(shape, list | tuple) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    return None


def config_sha256(config_text: str) -> str:
    """The hash of a run's `config.yaml`, as the model card records it (`config_sha256`)."""
    return hashlib.sha256(config_text.encode("utf-8")).hexdigest()


def _check_folder(out: Path, where: str) -> None:
    """UserInputError if `out`, or the nearest of its folders that exists, is not a folder."""
    if out.exists():
        if not out.is_dir():
            raise UserInputError(f"{where}: is a file; expected a directory")
        return
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserInputError(f"{where}: {parent} is a file; expected a directory")
            return


def _check_owner(out: Path, run: "RunDir", where: str) -> None:
    """UserInputError if `out` holds an export of another run than `run` (the card's `run` and
    `config_sha256` say whose it is), or artefacts or a card that cannot be told apart."""
    card_path = out / CARD
    if not card_path.exists():
        present = [f.artefact for _, f in FORMATS.items() if (out / f.artefact).exists()]
        if present:
            raise UserInputError(
                f"{where}: holds {present[0]} but no {CARD}, so whose export it is cannot be "
                "told; choose another --out"
            )
        return
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        card = None
    if not isinstance(card, dict) or not {"run", "config_sha256"} <= card.keys():
        raise UserInputError(
            f"{where}: its {CARD} is not a model card of lstm-export; choose another --out"
        )
    mine = config_sha256(run.config_text())
    if (card["run"], card["config_sha256"]) != (run.name, mine):
        raise UserInputError(
            f"{where}: holds the export of run {card['run']!r} (config sha256 "
            f"{str(card['config_sha256'])[:12]}), not of run {run.name!r} ({mine[:12]}); "
            "choose another --out"
        )


def check_export(formats, out: Path, run: "RunDir | None" = None, where: str = "") -> None:
    """UserInputError if a format is unknown, lacks its packages, `out` is not a folder or holds
    another run's export (when `run` is given), or an artefact would be replaced.

    Args:
        where: how messages name `out` (e.g. `--out DIR`); default: the path.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UserInputError(
            f"unknown export format '{unknown[0]}'; expected one of: {', '.join(FORMATS.names())}"
        )
    problem = missing_extras(formats)
    if problem:
        raise UserInputError(problem)
    out = Path(out)
    where = where or str(out)
    _check_folder(out, where)
    if run is not None and out.is_dir():
        _check_owner(out, run, where)
    for name in formats:
        artefact = out / FORMATS[name].artefact
        if artefact.exists():
            raise UserInputError(f"{artefact}: exists; remove it to export {name} again")


def missing_extras(formats) -> str | None:
    """A one-line message naming the optional packages `formats` need and lack, or None."""
    for name in formats:
        extras = FORMATS[name].extras if name in FORMATS else ()
        absent = [module for module in extras if not importlib.util.find_spec(module)]
        if absent:
            return (
                f"the {name} format needs {', '.join(absent)}, which is not installed: "
                "pip install 'lstm-app[export]'"
            )
    return None
