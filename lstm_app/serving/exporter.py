"""Export a trained run so that others can forecast with it, without lstm_app.

    export_run(run_dir, ["keras", "saved_model", "onnx", "tflite"])   # -> RUN/export/

Every format holds the serving model (`lstm_app.serving.graph`): raw feature values in, forecasts in
the target's original units out; scaling and target transforms are inside it.

    model.keras     Keras; `keras.models.load_model` reads it once `lstm_app` is imported.
    saved_model/    TensorFlow SavedModel: `tf.saved_model.load(path).serve(x)`, no Keras or
                    lstm_app needed; batch and time dynamic; its `serve` function is compiled
                    with XLA (about 0.4 ms a batch-1 forecast on 2 CPU cores instead of 3 ms).
    model.onnx      ONNX (converted by tf2onnx from the same graph, without XLA), for
                    onnxruntime; batch and time dynamic; input `raw_window`.
    model.tflite    TFLite, for ai-edge-litert: the recurrent layers unrolled, so the number
                    of rows is fixed (`metadata.json`: inputs.rows) and the batch is dynamic
                    (resize the input); TFLite cannot convert the loop of an LSTM whose batch
                    is dynamic.
    metadata.json   the model card: input columns in order, rows needed, horizon, target and
                    units, scaler statistics, transforms, versions, config hash, test metrics.

onnx and tflite need the optional dependencies of `pip install 'lstm-app[export]'`.
"""

import contextlib
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf
import yaml

import lstm_app.models.layers  # noqa: F401  (registers GateLSTM for loading model.keras)
from lstm_app.runs.rundir import require_finished, write_atomic, write_json
from lstm_app.serving.graph import build_serving_model, unrolled_copy
from lstm_app.serving.spec import ARTEFACTS, FORMATS, ServingSpec, check_export


@contextlib.contextmanager
def _quiet_tensorflow():
    """Silences TensorFlow's INFO lines ("Assets written to ...") while a SavedModel is saved."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _input_spec(spec: ServingSpec, rows=None) -> tf.TensorSpec:
    return tf.TensorSpec((None, rows, len(spec.inputs)), tf.float32, name="raw_window")


def export_keras(serving: keras.Model, path: Path) -> None:
    write_atomic(path, serving.save)


def export_saved_model(serving: keras.Model, spec: ServingSpec, path: Path) -> None:
    archive = keras.export.ExportArchive()
    archive.track(serving)
    forward = tf.function(lambda x: serving(x, training=False), jit_compile=True)
    archive.add_endpoint("serve", forward, input_signature=[_input_spec(spec)])
    tmp = path.with_name(f".tmp-{path.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with _quiet_tensorflow():
            archive.write_out(str(tmp), verbose=False)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_onnx(serving: keras.Model, spec: ServingSpec, path: Path) -> None:
    import tf2onnx

    forward = tf.function(lambda x: serving(x, training=False))

    def convert(tmp):
        tf2onnx.convert.from_function(
            forward, input_signature=[_input_spec(spec)], output_path=str(tmp)
        )

    write_atomic(path, convert)


def export_tflite(model: keras.Model, spec: ServingSpec, path: Path) -> None:
    unrolled = unrolled_copy(model, time_steps=spec.input_width)
    fixed = build_serving_model(unrolled, spec, time_steps=spec.rows)
    with tempfile.TemporaryDirectory() as tmp:
        with _quiet_tensorflow():
            fixed.export(tmp, verbose=False)
        flat = tf.lite.TFLiteConverter.from_saved_model(tmp).convert()
    write_atomic(path, lambda tmp_path: tmp_path.write_bytes(flat))


def metadata(run_dir: Path, spec: ServingSpec, formats) -> dict:
    """The model card written beside the artefacts."""
    config_text = (run_dir / "config.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(config_text)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    versions = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("versions")
    data = config["data"]
    overall = ("mae", "rmse", "mape", "smape", "mase", "windows")
    return {
        "format_version": 1,
        "run": run_dir.name,
        "inputs": {
            "columns": list(spec.inputs),
            "rows": spec.rows,
            "categorical": spec.categorical,
            "time_column": data.get("time_column"),
            "time_columns": data.get("time_columns"),
            "frequency": metrics.get("data", {}).get("frequency"),
            "dtype": "float32",
            "shape": ["batch", "rows", len(spec.inputs)],
        },
        "output": {"shape": ["batch", spec.horizon], "horizon": spec.horizon},
        "target": {"name": spec.target, "units": data.get("target_units")},
        "input_width": spec.input_width,
        "transforms": list(spec.transforms),
        "season_length": spec.season_length,
        "scaler": {
            "features": dict(
                zip(
                    spec.inputs[: spec.n_features],
                    zip(spec.feature_offset, spec.feature_scale, strict=True),
                    strict=True,
                )
            ),
            "target": [spec.target_offset, spec.target_scale],
            "kind": data.get("scaler"),
            "note": "(offset, scale): scaled = (x - offset) / scale; already inside every format",
        },
        "formats": {name: ARTEFACTS[name] for name in FORMATS if name in formats},
        "tflite": {"rows": spec.rows, "batch": "dynamic (resize the input)"},
        "versions": versions,
        "config_sha256": hashlib.sha256(config_text.encode("utf-8")).hexdigest(),
        "config": config,
        "serving_spec": spec.to_dict(),
        "test_metrics": {
            "model": {k: metrics["test"].get(k) for k in overall},
            **{name: {k: m.get(k) for k in overall} for name, m in metrics["baselines"].items()},
        },
    }


def export_model(model: keras.Model, run_dir: Path, formats, out: Path | None = None) -> Path:
    """Exports `model`, trained in `run_dir`, to each of `formats`, into `out`
    (default `run_dir/export`), with `metadata.json`. Refuses to replace an artefact."""
    out = Path(out) if out is not None else run_dir / "export"
    check_export(formats, out)
    out.mkdir(parents=True, exist_ok=True)
    spec = ServingSpec.from_run(run_dir)
    serving = build_serving_model(model, spec)
    for name in formats:
        path = out / ARTEFACTS[name]
        if name == "keras":
            export_keras(serving, path)
        elif name == "saved_model":
            export_saved_model(serving, spec, path)
        elif name == "onnx":
            export_onnx(serving, spec, path)
        else:
            export_tflite(model, spec, path)
    present = [name for name in FORMATS if (out / ARTEFACTS[name]).exists()]
    write_json(out / "metadata.json", metadata(run_dir, spec, present))
    return out


def export_run(run_dir, formats, out=None) -> Path:
    """Exports a finished run directory (see `export_model`)."""
    run_dir = require_finished(run_dir)
    check_export(formats, Path(out) if out is not None else run_dir / "export")
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)  # no code runs
    return export_model(model, run_dir, formats, out)
