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

from lstm_app.config.load import config_from_dict
from lstm_app.data.panel import prepare_panel
from lstm_app.data.prepare import join_splits
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.evaluation.panel import panel_summary, series_table
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
    reports = [
        metrics_report(part, {"test": forecast(model, part, part.splits["test"], 64)})
        for part in panel.parts
    ]
    summary = panel_summary(series_table(panel.ids, reports))
    for name in ("model", "seasonal_naive", "persistence", "mean"):
        mase = summary[name]["mase"]
        print(f"{name:15s} mean MASE {mase['mean']:.4f}  median {mase['median']:.4f}")
    wins = summary["wins"]
    print(
        f"the model beats seasonal naive on {wins['seasonal_naive']:.0%} of the series, "
        f"persistence on {wins['persistence']:.0%}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
