"""A panel's scores: each series' metrics (`series_metrics.csv`) and the panel's summary.

    table = series_table(ids, reports)     one row per series: the model's and baselines' metrics
    summary = panel_summary(table)         mean and median MASE and sMAPE, share of wins

`reports` are the series' `metrics_report`s (each scored on its own test windows against its
own in-sample seasonal naive error); the summary weighs every series alike.
"""

import numpy as np
import pandas as pd

from lstm_app.evaluation.baselines import BASELINES

SUMMARY = ("mase", "smape")  # averaged over the series


def series_table(ids, reports: list[dict]) -> pd.DataFrame:
    """One row per series: `series, windows`, then `model_mae, model_rmse, model_smape,
    model_mase` and the same for each baseline (empty where a baseline was left out)."""
    rows = []
    for series_id, report in zip(ids, reports, strict=True):
        row = {"series": series_id, "windows": report["test"]["windows"]}
        scores = {"model": report["test"], **report["baselines"]}
        for name, metrics in scores.items():
            for metric in ("mae", "rmse", "smape", "mase"):
                value = metrics[metric]
                row[f"{name}_{metric}"] = np.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows)


def panel_summary(table: pd.DataFrame) -> dict:
    """`{name: {"mase": {"mean", "median"}, "smape": {...}}}` for the model and each baseline
    (NaN-free series only, counted in `series`), and `{"wins": {baseline: share of series
    where the model's MASE is lower}}`."""
    summary = {}
    for name in ("model", *BASELINES.names()):
        summary[name] = {}
        for metric in SUMMARY:
            values = table[f"{name}_{metric}"].dropna().to_numpy()
            summary[name][metric] = {
                "mean": float(values.mean()) if len(values) else None,
                "median": float(np.median(values)) if len(values) else None,
                "series": len(values),
            }
    summary["wins"] = {}
    for name in BASELINES.names():
        both = table[["model_mase", f"{name}_mase"]].dropna()
        summary["wins"][name] = (
            float((both["model_mase"] < both[f"{name}_mase"]).mean()) if len(both) else None
        )
    return summary
