"""A panel's scores: each series' metrics (`series_metrics.csv`) and the panel's summary.

    table = series_table(ids, reports)     one row per series: the model's and baselines' metrics
    summary = panel_summary(table)         mean and median MASE and sMAPE, share of wins
    versus(table)                          the model against each baseline, series by series
    split_table(parts, forecasts, "val")   the same columns as `table` for another split

`reports` are the series' `metrics_report`s (each scored on its own test windows against its
own in-sample seasonal naive error); the summary weighs every series alike.
"""

import numpy as np
import pandas as pd

from lstm_app.evaluation.baselines import BASELINES, baseline_forecasts
from lstm_app.evaluation.metrics import forecast_metrics, seasonal_scale

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
    """`{name: {"mase": {"mean", "median"}, "smape": {...}}}` for the model, the network alone
    (with `model.combine`: columns `network_*`) and each baseline (NaN-free series only,
    counted in `series`), and `{"wins": {baseline: share of series where the model's MASE is
    lower}}`."""
    summary = {}
    table = table.reindex(columns=[*table.columns, *_absent(table)])  # baselines not reported
    network = ("network",) if "network_mase" in table.columns else ()  # model.combine
    for name in ("model", *network, *BASELINES.names()):
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


def _absent(table: pd.DataFrame) -> list[str]:
    """The baseline score columns `table` lacks (a report without that baseline)."""
    wanted = [f"{name}_{metric}" for name in BASELINES.names() for metric in ("mase", "smape")]
    return [column for column in wanted if column not in table.columns]


def versus(table: pd.DataFrame, names=None) -> dict:
    """`{baseline: {"series", "wins", "model_mase", "mase", "model_smape", "smape"}}`: over
    the series both the model and the baseline scored, how many the model's MASE beats, and
    the mean MASE and sMAPE of each (columns `model_mase`, `<name>_mase`, ... of `table`)."""
    result = {}
    for name in BASELINES.names() if names is None else names:
        columns = ["model_mase", f"{name}_mase", "model_smape", f"{name}_smape"]
        both = table[columns].dropna()
        if not len(both):
            continue
        result[name] = {
            "series": len(both),
            "wins": int((both["model_mase"] < both[f"{name}_mase"]).sum()),
            "model_mase": float(both["model_mase"].mean()),
            "mase": float(both[f"{name}_mase"].mean()),
            "model_smape": float(both["model_smape"].mean()),
            "smape": float(both[f"{name}_smape"].mean()),
        }
    return result


def split_table(parts, forecasts, split_name: str) -> pd.DataFrame:
    """One row per series of its windows in `split_name` (`val`): `model_mase, model_smape`
    and the same for each baseline run, MASE scaled by the series up to the split's first
    origin (what a forecaster of the split has seen).

    Args:
        parts: the panel's PreparedData, one per series.
        forecasts: the model's forecasts of each series' split, `(windows, horizon)` each.
    """
    rows = []
    for part, forecast in zip(parts, forecasts, strict=True):
        split = part.splits[split_name]
        if split.n_windows == 0:  # a series too short for a window there: not scored on it
            rows.append({})
            continue
        scored = split.scored()
        if not scored.any():  # every target filled in: nothing to score
            rows.append({})
            continue
        actual = split.raw_target_windows()[scored]
        history = part.series.target[: split.origins()[0] + 1]
        scale = seasonal_scale(history, part.season_length)
        row = {}
        for name, values in {"model": forecast, **baseline_forecasts(part, split)}.items():
            metrics = forecast_metrics(actual, values[scored], scale)
            for metric in SUMMARY:
                row[f"{name}_{metric}"] = np.nan if metrics[metric] is None else metrics[metric]
        rows.append(row)
    columns = [f"{name}_{m}" for name in ("model", *BASELINES.names()) for m in SUMMARY]
    return pd.DataFrame(rows).reindex(columns=columns)
