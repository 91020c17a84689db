"""The text reports the commands print: the end-of-run summary (test metrics beside the
baselines'), what `--check` found, and numbers formatted for tables.

    print(run_summary(result.metrics, result.data, RunDir(result.run_dir)))
"""

from pathlib import Path

from lstm_app.data.io import time_text
from lstm_app.data.prepare import PreparedData
from lstm_app.evaluation.baselines import BASELINES
from lstm_app.runs.rundir import RunDir


def number_text(value) -> str:
    """A metric for a table: four significant digits, `-` where it could not be computed."""
    return "-" if value is None else f"{value:.4g}"


def check_summary(config_path: Path, data: PreparedData) -> str:
    """What `lstm-train --check` prints: the data and its windows per split."""
    first = data.splits["train"]
    windows = ", ".join(
        f"{name} {data.splits[name].n_windows}" for name in ("train", "val", "test")
    )
    return (
        f"{config_path}: OK; {len(data.series.target)} rows of {data.series.source}, "
        f"{data.n_features} input feature(s), windows of {first.input_width} -> {first.horizon} "
        f"steps: {windows}; nothing written"
    )


def _baseline_label(name: str, season_length: int) -> str:
    suffix = f" (m={season_length})" if name == "seasonal_naive" else ""
    return BASELINES[name].label + suffix


def _compare(model_mae: float, other_mae: float, name: str) -> str:
    if other_mae == 0:
        return f"{name}'s is 0"
    ratio = model_mae / other_mae
    if ratio >= 10:
        return f"{ratio:.3g} times {name}'s"
    return f"{abs(1 - ratio):.0%} {'lower' if ratio < 1 else 'higher'} than {name}'s"


def run_summary(metrics: dict, data: PreparedData, run: RunDir) -> str:
    """The end-of-run summary: what was cleaned, the test metrics beside the baselines', the
    backtest, and where the results are.

    Args:
        metrics: the content of `metrics.json`.
        data: the prepared data the model was evaluated on.
        run: the run directory.
    """
    split = data.splits["test"]
    times = split.target_times()
    lines = []
    cleaning = data.series.cleaning
    if cleaning["filled"] or cleaning["dropped_rows"]:
        filled = ", ".join(f"'{name}' {n}" for name, n in cleaning["filled"].items())
        lines.append(
            f"Missing values ({cleaning['missing']}): filled {filled or 'none'}; "
            f"dropped {cleaning['dropped_rows']} rows."
        )
    steps = f"{split.horizon} step{'s' * (split.horizon > 1)} ahead"
    unscored = metrics["data"]["unscored_windows"]["test"]
    if unscored:
        steps += f"; {unscored} more with filled-in targets not scored"
    lines.append(
        f"Test split: {metrics['test']['windows']} windows forecasting "
        f"{time_text(times[0, 0])} .. {time_text(times[-1, -1])} ({steps}), in the target's "
        "original units:"
    )
    lines.append(f"  {'':<22} {'MAE':>9} {'RMSE':>9} {'MASE':>7} {'sMAPE %':>8}")
    rows = {"model": metrics["test"]}
    for name in BASELINES:
        rows[_baseline_label(name, data.season_length)] = metrics["baselines"][name]
    for label, m in rows.items():
        lines.append(
            f"  {label:<22} {number_text(m['mae']):>9} {number_text(m['rmse']):>9} "
            f"{number_text(m['mase']):>7} {number_text(m['smape']):>8}"
        )
    model_mae = metrics["test"]["mae"]
    persistence = metrics["baselines"]["persistence"]["mae"]
    seasonal = metrics["baselines"]["seasonal_naive"]["mae"]
    comparison = _compare(model_mae, persistence, "persistence")
    if data.season_length > 1:
        comparison += " and " + _compare(model_mae, seasonal, "seasonal naive")
    lines.append(f"The model's test MAE is {comparison}.")
    if "backtest" in metrics:
        folds = metrics["backtest"]["folds"]
        parts = []
        labels = {"model": "model", **{name: BASELINES[name].label for name in BASELINES}}
        for name, label in labels.items():
            mae = metrics["backtest"]["summary"][name]["mae"]
            parts.append(f"{label} {mae['mean']:.4g} +- {mae['std']:.3g}")
        lines.append(f"Backtest, {len(folds)} folds, test MAE mean +- std: {', '.join(parts)}.")
    lines.append(
        f"Results: {run.path}/ ({RunDir.METRICS}, {RunDir.FORECAST_PLOT}, {RunDir.LOSS_PLOT}, "
        f"{RunDir.MODEL}, ...)"
    )
    if run.export_dir.is_dir():
        lines.append(
            f"Exported to {run.export_dir}/; forecast with: lstm-predict --model "
            f"{run.export_dir} --input CSV"
        )
    return "\n".join(lines)
