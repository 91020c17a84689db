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
from lstm_app.data.prepare import PreparedData
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.jobs import job_for
from lstm_app.models.assemble import model_for
from lstm_app.models.gates import plot_gates, trace_gates
from lstm_app.models.inference import forecast
from lstm_app.pipeline import TrainResult, train
from lstm_app.serving.exporter import export_run
from lstm_app.serving.predict import forecast_csv, load_forecaster
from lstm_app.training.fit import compile_model, fit_model

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


def prepare_data(cfg: Config):
    """The data of `cfg`, loaded, cleaned, transformed, split by time and scaled (train split
    statistics only), as its kind of run trains on it (`lstm_app.jobs`): one series'
    `PreparedData` (`.splits["train"].windows()` gives `(n, input_width, features)` inputs
    and `(n, horizon)` targets); a panel's `PreparedPanel` (one PreparedData per series); a
    panel read shard by shard, its `ShardedPanel`; under `task: classification`, the labelled
    sequences split and padded (`PreparedSequences`: `.inputs["train"]`, `.labels[...]`)."""
    return job_for(cfg).load(cfg)


def build_model(cfg: Config, data) -> keras.Model:
    """The model of `cfg` for `data`, compiled (ready to fit) as lstm-train compiles its model
    (speed options `auto`: Keras's defaults; `fit_model` chooses them for its fit):
    `(batch, time, features) -> (batch, horizon)`; a classifier's `-> (batch, classes)`."""
    return compile_model(model_for(cfg, data), cfg.training)


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
