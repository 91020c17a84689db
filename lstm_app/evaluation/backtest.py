"""Backtest: rolling-origin evaluation, K test blocks that step back through time.

Fold K (the last) is the config's own split. Each earlier fold moves the val and test blocks
back by one test block, and trains on every row before its val block:

    fold 1:  train ........ | val | test |
    fold 2:  train ............... | val | test |
    fold K:  train ...................... | val | test |      (= data.split)

Every fold fits its scalers and its model afresh, from the same seed, and is scored with the
baselines on its own test windows; the summary gives the mean and standard deviation over
the folds of each metric, for the model and for each baseline.
"""

from dataclasses import replace

import numpy as np

from lstm_app.config.rules import run_baselines
from lstm_app.config.schema import Config, SplitConfig
from lstm_app.data.prepare import PreparedData, prepare_data, split_bounds
from lstm_app.data.windows import count_windows
from lstm_app.errors import DataError
from lstm_app.evaluation.baselines import BASELINES
from lstm_app.evaluation.metrics import metrics_report

SUMMARY_METRICS = ("mae", "rmse", "mape", "smape", "mase")


def fold_bounds(n_rows: int, split: SplitConfig, folds: int) -> list[dict[str, tuple[int, int]]]:
    """Row ranges `{"train", "val", "test"}` of each fold, oldest first; the last is `split`'s.

    Example: 100 rows, split 0.6/0.2/0.2, 3 folds -> tests (40, 60), (60, 80), (80, 100), each
    after a val block of 20 rows and a train block from row 0.
    """
    last = split_bounds(n_rows, split)
    test_rows = last["test"][1] - last["test"][0]
    val_rows = last["val"][1] - last["val"][0]
    bounds = []
    for fold in range(folds):
        stop = n_rows - (folds - 1 - fold) * test_rows
        test = (stop - test_rows, stop)
        val = (test[0] - val_rows, test[0])
        bounds.append({"train": (0, val[0]), "val": val, "test": test})
    return bounds


def check_folds(cfg: Config, data: PreparedData) -> list[dict[str, tuple[int, int]]]:
    """The folds' row ranges for `data` (prepared from `cfg.data`); DataError if the train
    block of the oldest fold is too short to give a window."""
    folds = cfg.evaluation.backtest.folds
    bounds = fold_bounds(len(data.series), cfg.data.split, folds)
    start, stop = max(bounds[0]["train"][0], data.pipeline.lag), bounds[0]["train"][1]
    window = cfg.data.window.input_width + cfg.data.window.horizon
    if count_windows(stop - start, cfg.data.window.input_width, cfg.data.window.horizon) == 0:
        raise DataError(
            f"{data.series.source}: with evaluation.backtest.folds {folds}, the oldest fold "
            f"trains on {max(stop - start, 0)} rows, fewer than the {window} one window needs; "
            "use fewer folds or a smaller data.split.test"
        )
    return bounds


def _scores(report: dict) -> dict:
    """The overall metrics of the model and each baseline on one fold's test windows."""
    scores = {"model": report["test"], **report["baselines"]}
    return {name: {m: metrics[m] for m in SUMMARY_METRICS} for name, metrics in scores.items()}


def _period(split) -> list[str]:
    return [str(split.times[0]), str(split.times[-1])]


def run_backtest(cfg: Config, data: PreparedData, last_report: dict, forecast_fold) -> dict:
    """Scores every fold; the last is the run's own split, `data`, with `last_report` its
    metrics.

    Args:
        forecast_fold: `forecast_fold(fold_data) -> (windows, horizon)`: trains a model on a
            fold's train split and forecasts its test windows, in original units.

    Returns:
        `{"folds": [{"fold", "train", "test", "model": metrics, "persistence": ..}],
          "summary": {"model": {"mae": {"mean", "std"}, ..}, "persistence": ..}}`.
    """
    folds = cfg.evaluation.backtest.folds
    results = []
    for number, bounds in enumerate(check_folds(cfg, data), start=1):
        if number == folds:
            fold, report = data, last_report
        else:
            fold = prepare_data(cfg.data, cfg.seed, bounds=bounds)
            fold = replace(fold, baselines=run_baselines(cfg))
            report = metrics_report(fold, {"test": forecast_fold(fold)})
        train, test = fold.splits["train"], fold.splits["test"]
        results.append(
            {"fold": number, "train": _period(train), "test": _period(test), **_scores(report)}
        )
    summary = {}
    for name in ("model", *BASELINES):
        summary[name] = {}
        for metric in SUMMARY_METRICS:
            values = [r[name][metric] for r in results if r[name][metric] is not None]
            summary[name][metric] = (
                {"mean": float(np.mean(values)), "std": float(np.std(values))} if values else None
            )
    return {"folds": results, "summary": summary}
