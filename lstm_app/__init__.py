"""lstm-app: train, understand and ship LSTM models on time series.

The pipeline runs one way, config -> data -> model -> train -> evaluate:

    from lstm_app.config import load_config
    from lstm_app.train import train
    cfg = load_config("configs/article.yaml", ["training.epochs=20"])
    result = train(cfg, run_dir)          # result.metrics["test"]["mae"], result.model, ...

Importing this package imports neither TensorFlow nor Keras; `lstm_app.models` and
`lstm_app.train` do.
"""

__version__ = "0.1.0"
