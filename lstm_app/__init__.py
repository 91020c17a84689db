"""lstm-app: train, understand and ship LSTM models on time series.

The pipeline runs one way, config -> data -> model -> train -> evaluate -> export:

    import lstm_app
    cfg = lstm_app.load_config("configs/article.yaml", ["training.epochs=20"])
    result = lstm_app.train(cfg)                      # writes runs/article-<time>/
    print(result.metrics["test"]["mae"], result.metrics["baselines"]["persistence"]["mae"])
    lstm_app.export(result.run_dir, ["saved_model", "onnx"])

The names of `lstm_app.api` are available here; importing this package imports neither
TensorFlow nor Keras until one of them is used.
"""

from lstm_app.version import __version__  # noqa: F401  (lstm_app.__version__)

_API = (
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
)


def __getattr__(name):
    if name in _API:
        from lstm_app import api

        return getattr(api, name)
    raise AttributeError(f"module 'lstm_app' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
