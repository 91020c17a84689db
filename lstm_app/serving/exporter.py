"""Export a trained run so that others can forecast with it, without lstm_app.

    export_run(run_dir, ["keras", "saved_model", "onnx", "tflite"])   # -> RUN/export/

Every format holds the serving model (`lstm_app.serving.graph`): raw feature values in, forecasts
in the target's original units out; scaling and target transforms are inside it.

    model.keras     Keras, for `keras.models.load_model` once `lstm_app` is imported.
    saved_model/    TensorFlow SavedModel (`serve`, XLA-compiled), no Keras or lstm_app needed.
    model.onnx      ONNX, for onnxruntime.
    model.tflite    TFLite, for ai-edge-litert; the number of rows is fixed.
    metadata.json   the model card: input columns in order, rows needed, horizon, target and
                    units, scaler statistics, transforms, versions, config hash, test metrics.

Each format is a class in `lstm_app.serving.formats` (registry `FORMATS`), whose docstring says
what a consumer does with its artefact. onnx and tflite need the optional dependencies of
`pip install 'lstm-app[export]'`.
"""

from pathlib import Path

import keras
import yaml

import lstm_app.models.classifier
import lstm_app.models.layers  # noqa: F401  (registers GateLSTM for loading model.keras)
from lstm_app.config.kinds import PANEL_KINDS
from lstm_app.errors import UserInputError, first_line
from lstm_app.runs.rundir import RunDir, write_json
from lstm_app.serving.formats import CARD, FORMATS, check_export, config_sha256
from lstm_app.serving.graph import build_serving_model
from lstm_app.serving.spec import ServingSpec


def metadata(run: RunDir, spec: ServingSpec, formats) -> dict:
    """The model card written beside the artefacts."""
    config_text = run.config_text()
    config = yaml.safe_load(config_text)
    metrics = run.read_metrics()
    versions = run.read_status().get("versions")
    kind = run.read_kind()
    data = config["data"]
    overall = ("mae", "rmse", "mape", "smape", "mase", "windows")
    return {
        "format_version": 1,
        "run": run.name,
        "kind": kind,
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
        "output": _output_card(spec),
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
            **_window_card(spec),
        },
        "formats": {name: FORMATS[name].artefact for name in FORMATS.names() if name in formats},
        "tflite": {"rows": spec.rows, "batch": "dynamic (resize the input)"},
        "versions": versions,
        "config_sha256": config_sha256(config_text),
        "config": config,
        "serving_spec": spec.to_dict(),
        "test_metrics": _test_metrics(metrics, overall, kind),
        **_panel_card(data, metrics),
        **_series_scaling_card(run, spec),
    }


def _series_scaling_card(run: RunDir, spec: ServingSpec) -> dict:
    """A panel scaled series by series: each series' statistics, which a consumer applies to
    the window before the model and to its forecast after (lstm-predict does, by id)."""
    if not spec.series_scaled:
        return {}
    scalers = run.read_scalers()["series"]
    first = next(iter(scalers.values()))
    columns = list(first["features"]["columns"])
    return {
        "series_scaling": {
            "columns": columns,
            "note": "per series: scaled = (x - offset) / scale for each of `columns` (the other "
            "inputs as they are); the model's output * target[1] + target[0] is the forecast",
            "series": {
                series_id: {
                    "offset": [s["features"]["columns"][c]["offset"] for c in columns],
                    "scale": [s["features"]["columns"][c]["scale"] for c in columns],
                    "target": _offset_scale(next(iter(s["target"]["columns"].values()))),
                }
                for series_id, s in scalers.items()
            },
        }
    }


def _test_metrics(metrics: dict, overall, kind: str) -> dict:
    """The card's test metrics: the model's and the baselines' (a panel: its summary)."""
    if kind in PANEL_KINDS:
        return metrics["panel"]
    return {
        "model": {k: metrics["test"].get(k) for k in overall},
        **{name: {k: m.get(k) for k in overall} for name, m in metrics["baselines"].items()},
    }


def _panel_card(data: dict, metrics: dict) -> dict:
    """For a panel: how its series are named and which were scored."""
    if data.get("series_id") is None:
        return {}
    ids = data["series_id"]
    return {
        "series": {
            "id_columns": [ids] if isinstance(ids, str) else list(ids),
            "static": list(data.get("static") or ()),
            "scored": metrics["series"]["scored"],
            "note": "any series forecasts from its own raw window (its static labels one-hot, "
            "as inputs.columns name them); lstm-predict --input a long CSV forecasts each",
        }
    }


def export_model(
    model: keras.Model, run_dir, formats, out: Path | None = None, where: str = ""
) -> Path:
    """Exports `model`, trained in `run_dir`, to each of `formats`, into `out`
    (default `run_dir/export`), with `metadata.json`. Refuses to replace an artefact, and a
    folder that holds another run's export (adding formats to this run's export is fine).

    Args:
        where: how messages name `out` (e.g. `--out DIR`); default: the path.
    """
    run = RunDir(run_dir)
    out = Path(out) if out is not None else run.export_dir
    check_export(formats, out, run, where)
    kind = run.read_kind()  # a run.json that does not say: one line, before `out` is made
    out.mkdir(parents=True, exist_ok=True)
    if kind == "classification":  # raw sequences in, probabilities out
        from lstm_app.serving.classify import export_classifier

        export_classifier(model, run, formats, out)
        return out
    spec = ServingSpec.from_run(run)
    serving = build_serving_model(model, spec)
    for name in formats:
        FORMATS[name].write(serving, model, spec, out / FORMATS[name].artefact)
    present = [name for name in FORMATS.names() if (out / FORMATS[name].artefact).exists()]
    write_json(out / CARD, metadata(run, spec, present))
    return out


def export_run(run_dir, formats, out=None, where: str = "") -> Path:
    """Exports a finished run directory (see `export_model`); UserInputError, naming the file,
    if its `model.keras` cannot be read."""
    run = RunDir.finished(run_dir)
    check_export(formats, Path(out) if out is not None else run.export_dir, run, where)
    path = run / RunDir.MODEL
    try:
        model = keras.models.load_model(path, safe_mode=True)  # no code runs
    except Exception as err:  # truncated, corrupt or foreign: one line naming the file
        raise UserInputError(
            f"{path}: cannot be read as a Keras model: {first_line(err)}"
        ) from None
    return export_model(model, run, formats, out, where)


def _window_card(spec) -> dict:
    """The card's words on window scaling (`data.scaler: window`, `window_abs`), if used."""
    if spec.window_scaler is None:
        return {}
    columns = [n for n, on in zip(spec.inputs, spec.window_columns, strict=False) if on]
    return {
        "window": {
            "kind": spec.window_scaler,
            "columns": columns,
            "note": "each window scaled by its own statistics over its input rows, inside the "
            "model: no per-series statistics to apply",
        }
    }


def _offset_scale(stats: dict) -> list[float]:
    return [stats["offset"], stats["scale"]]


def _output_card(spec: ServingSpec) -> dict:
    """What the model returns: `(batch, horizon)` forecasts, or a distribution's quantiles
    `(batch, horizon, quantiles)` and which intervals among them are calibrated."""
    if spec.distribution is None:
        return {"shape": ["batch", spec.horizon], "horizon": spec.horizon}
    return {
        "shape": ["batch", spec.horizon, len(spec.quantiles)],
        "horizon": spec.horizon,
        "quantiles": list(spec.quantiles),
        "calibrated_intervals": list(spec.calibrated),
        "note": "the last axis holds the quantiles in order; calibrated intervals already "
        "include their conformal offsets (in the graph)",
    }
