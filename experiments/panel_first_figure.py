"""First figure (issue 15, branch only): one global LSTM on the tourism panel, on the textbook
protocol (test 2016 Q1 - 2017 Q4, 8 quarters ahead), against seasonal naive and persistence.

    .venv/bin/python experiments/panel_first_figure.py [EPOCHS]
"""

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from lstm_app.config.load import config_from_dict
from lstm_app.data.panel import prepare_panel
from lstm_app.data.prepare import join_splits
from lstm_app.evaluation.baselines import persistence_forecast, seasonal_naive_forecast
from lstm_app.evaluation.metrics import seasonal_scale
from lstm_app.training.fit import fit_model, forecast, make_callbacks

DATA = Path(__file__).resolve().parent.parent / "data" / "tourism_au_quarterly.csv"
LAYERS = [
    {"type": "lstm", "units": 50, "return_sequences": True},
    {"type": "lstm", "units": 50},
    {"type": "dense", "units": "auto"},
]


def main(epochs: int) -> None:
    cfg = config_from_dict(
        {
            "name": "tourism",
            "seed": 42,
            "data": {
                "path": str(DATA),
                "target": "trips",
                "time_column": "date",
                "series_id": "series_id",
                "static": ["state", "purpose"],
                "season_length": 4,
                "window": {"input_width": 12, "horizon": 8},
                "split": {"test_last": 8, "val_last": 8},
            },
            "model": {"layers": LAYERS},
            "training": {"epochs": epochs, "batch_size": 64},
        }
    )
    started = time.time()
    panel = prepare_panel(cfg.data, cfg.seed)
    splits = {n: join_splits([p.splits[n] for p in panel.parts]) for n in ("train", "val")}
    joined = replace(panel.parts[0], splits=splits, feature_names=panel.feature_names)
    print(f"{len(panel)} series, {splits['train'].n_windows} train windows", flush=True)
    callbacks = make_callbacks(cfg.training.callbacks, Path(tempfile.mkdtemp()))
    model, history = fit_model(cfg, joined, callbacks, verbose=2)
    print(f"trained {len(history['loss'])} epochs in {time.time() - started:.0f} s", flush=True)
    mase = {"model": [], "seasonal naive": [], "persistence": []}
    for part in panel.parts:
        test = part.splits["test"]
        actual, origins, y = test.raw_target_windows(), test.origins(), part.series.target
        scale = seasonal_scale(part.splits["train"].raw_target, 4)
        forecasts = {
            "model": forecast(model, part, test, 64),
            "seasonal naive": seasonal_naive_forecast(y, origins, 8, 4),
            "persistence": persistence_forecast(y, origins, 8),
        }
        for name, values in forecasts.items():
            mase[name].append(np.mean(np.abs(actual - values)) / scale)
    for name, values in mase.items():
        print(f"{name:15s} mean MASE {np.mean(values):.4f}  median {np.median(values):.4f}")
    wins = np.mean(np.array(mase["model"]) < np.array(mase["seasonal naive"]))
    print(f"the model beats seasonal naive on {wins:.0%} of the series")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
