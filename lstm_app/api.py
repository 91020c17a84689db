"""The Python API: the same steps `lstm-train` takes, for notebooks and scripts.

    import lstm_app
    cfg = lstm_app.load_config("configs/article.yaml", ["training.epochs=20"])
    data = lstm_app.prepare_data(cfg)            # cleaned, transformed, split, scaled
    result = lstm_app.train(cfg, data=data)      # fits, evaluates, writes runs/<name>-<time>/
    result.metrics["test"]["mae"], result.metrics["baselines"]["persistence"]["mae"]
    lstm_app.export(result.run_dir, ["saved_model"])

Every name here is also importable from `lstm_app` itself; importing `lstm_app` stays light
(no TensorFlow) until one of them is used.
"""

from pathlib import Path

import keras

from lstm_app.config.load import load_config
from lstm_app.config.schema import Config
from lstm_app.data import prepare
from lstm_app.data.prepare import PreparedData
from lstm_app.data.sequences import PreparedSequences, prepare_sequences
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.models import build
from lstm_app.models.classifier import build_classifier
from lstm_app.models.gates import plot_gates, trace_gates
from lstm_app.pipeline import TrainResult, train
from lstm_app.serving.exporter import export_run
from lstm_app.serving.predict import forecast_csv, load_forecaster
from lstm_app.training.fit import compile_model, fit_model, forecast

__all__ = [
    "TrainResult",
    "build_model",
    "evaluate",
    "export",
    "fit_model",
    "forecast_csv",
    "load_config",
    "load_forecaster",
    "plot_gates",
    "prepare_data",
    "trace_gates",
    "train",
]


def prepare_data(cfg: Config) -> PreparedData | PreparedSequences:
    """The data of `cfg`, loaded, cleaned, transformed, split by time and scaled (train split
    statistics only); `.splits["train"].windows()` gives `(n, input_width, features)` inputs
    and `(n, horizon)` targets. Under `task: classification`, the labelled sequences split and
    padded (`lstm_app.data.sequences.PreparedSequences`: `.inputs["train"]`, `.labels[...]`)."""
    if cfg.task == "classification":
        return prepare_sequences(cfg.data, cfg.seed)
    return prepare.prepare_data(cfg.data, cfg.seed)


def build_model(cfg: Config, data: PreparedData | PreparedSequences) -> keras.Model:
    """The model of `cfg` for `data`, compiled (ready to fit) as lstm-train compiles its model
    (speed options `auto`: Keras's defaults; `fit_model` chooses them for its fit):
    `(batch, time, features) -> (batch, horizon)`; a classifier's `-> (batch, classes)`."""
    if cfg.task == "classification":
        return compile_model(build_classifier(cfg, data), cfg.training)
    return compile_model(build.build_model(cfg, data.feature_names), cfg.training)


def evaluate(model: keras.Model, data: PreparedData, batch_size: int = 256) -> dict:
    """The metrics of `model` on every split and of the baselines on the test split, in the
    target's original units, as in `metrics.json`."""
    forecasts = {
        name: forecast(model, data, split, batch_size) for name, split in data.splits.items()
    }
    return metrics_report(data, forecasts)


def export(run_dir, formats=("keras", "saved_model"), out=None) -> Path:
    """Exports a finished run (see `lstm_app.serving.exporter`); returns the export directory."""
    return export_run(run_dir, list(formats), out)
