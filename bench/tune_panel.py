"""Choose the tourism panel's settings on validation only, and print the evidence.

    .venv/bin/python bench/tune_panel.py                 # every candidate below
    .venv/bin/python bench/tune_panel.py --only "5 epochs" embedding   # names holding either

Trains `configs/tourism.yaml` once per candidate (a set of `--set` overrides) and prints each
candidate's mean and median MASE over the series' validation blocks (2014 Q1 - 2015 Q4,
forecast from 2013 Q4), each scaled by the seasonal naive error of the rows up to the
validation origin, beside the seasonal naive forecast's own. Test metrics are never printed:
the choice must not see the test block. The shipped config holds the winner.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from lstm_app.config.load import load_config
from lstm_app.evaluation.baselines import baseline_forecasts
from lstm_app.evaluation.metrics import mae, seasonal_scale
from lstm_app.models.inference import forecast
from lstm_app.pipeline import train

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "tourism.yaml"
EARLY = ["training.callbacks.early_stopping.enabled=true"]

CANDIDATES = {
    "series, 30 epochs": ["data.scaler=series", "training.epochs=30"],
    "series, 10 epochs": ["data.scaler=series", "training.epochs=10"],
    "window, 30 epochs": ["data.scaler=window", "training.epochs=30"],
    "window, 10 epochs": ["data.scaler=window", "training.epochs=10"],
    "window_abs, 10 epochs": ["data.scaler=window_abs", "training.epochs=10"],
    "window, mae loss, 10 epochs": [
        "data.scaler=window",
        "training.epochs=10",
        "training.loss=mean_absolute_error",
    ],
    "series, mae loss, 10 epochs": [
        "data.scaler=series",
        "training.epochs=10",
        "training.loss=mean_absolute_error",
    ],
    "window, 5 epochs": ["data.scaler=window", "training.epochs=5"],
    "window, 10 epochs, embedding 4": [
        "data.scaler=window",
        "training.epochs=10",
        "model.static_embedding=4",
    ],
    "window, 10 epochs, one LSTM(50)": [
        "data.scaler=window",
        "training.epochs=10",
        "model.layers=[{type: lstm, units: 50}, {type: dense, units: auto}]",
    ],
    "window, 10 epochs, learning rate 0.0003": [
        "data.scaler=window",
        "training.epochs=10",
        "training.learning_rate=0.0003",
    ],
    "window, early stopping (patience 3)": [
        "data.scaler=window",
        "training.epochs=30",
        "training.callbacks.early_stopping={enabled: true, patience: 3}",
    ],
}


def validation_mase(result) -> tuple[np.ndarray, np.ndarray]:
    """`(model, seasonal naive)` MASE of each series on its validation block `(series,)`."""
    model, naive = [], []
    for part in result.data.parts:
        val = part.splits["val"]
        actual = val.raw_target_windows()
        scale = seasonal_scale(part.series.target[: val.origins()[0] + 1], part.season_length)
        predicted = forecast(result.model, part, val, 256)
        model.append(mae(actual, predicted) / scale)
        naive.append(mae(actual, baseline_forecasts(part, val)["seasonal_naive"]) / scale)
    return np.asarray(model), np.asarray(naive)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="the candidates whose name holds one of these")
    args = parser.parse_args()
    print(f"{CONFIG.name}: validation MASE of each candidate (test metrics are not looked at)")
    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in CANDIDATES.items():
            if args.only and not any(text in name for text in args.only):
                continue
            cfg = load_config(CONFIG, overrides)
            started = time.time()
            result = train(cfg, Path(tmp) / name.replace(" ", "_").replace(",", ""), verbose=0)
            model, naive = validation_mase(result)
            scores[name] = model.mean()
            print(
                f"  {name:<32} val MASE mean {model.mean():.3f} median {np.median(model):.3f}"
                f"   seasonal naive {naive.mean():.3f} ({np.median(naive):.3f})"
                f"   wins {np.mean(model < naive):.0%}   ({time.time() - started:.0f} s)",
                flush=True,
            )
    best = min(scores, key=scores.get)
    print(f"lowest mean validation MASE: {best} ({' '.join(CANDIDATES[best])})")


if __name__ == "__main__":
    main()
