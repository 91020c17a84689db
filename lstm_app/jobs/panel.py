"""The job of a panel (`data.series_id`: many series in one file, one model): trained on the
windows of every series, each series forecast and scored on its own test block, the panel
summarised.

Writes `series_metrics.csv` (one row per series), `forecast.png` (the panel's total, and its
best, median and worst series), `scaler.json` (per series, or the window scaling), and
`metrics.json` with the panel's summary, the series scored and left out, and the intervals'
(with quantiles or interval levels).
"""

from pathlib import Path

from lstm_app.config.schema import DISTRIBUTION_LOSSES, Config
from lstm_app.data.panel import PreparedPanel, joined_data, panel_scalers, prepare_panel
from lstm_app.evaluation.baselines import BASELINES
from lstm_app.evaluation.combine import combine_each
from lstm_app.evaluation.compare import Run
from lstm_app.evaluation.intervals import panel_interval_report
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.evaluation.panel import panel_summary, series_table, split_table, versus
from lstm_app.evaluation.panel_plots import plot_panel_forecast
from lstm_app.evaluation.plots import plot_loss
from lstm_app.evaluation.report import interval_lines, left_out, number_text, table_head
from lstm_app.jobs.base import Job, run_quantile_levels, with_baselines
from lstm_app.runs.rundir import RunDir

COMPARED = ("seasonal_naive", "ets", "theta")  # what the summary says the model beats, or not


class PanelJob(Job):
    """Many series read at once, one model (`data.series_id`)."""

    kind = "panel"

    def load(self, cfg: Config) -> PreparedPanel:
        return prepare_panel(cfg.data, cfg.seed)

    def check_summary(self, config_path: Path, data: PreparedPanel) -> str:
        return panel_check_summary(config_path, data)

    def training_data(self, cfg: Config, data):
        """The windows of every series joined (train and val splits)."""
        return joined_data(self.load(cfg) if data is None else data)

    def evaluate_and_write(self, cfg: Config, run: RunDir, model, history, data: PreparedPanel):
        from lstm_app.models.inference import forecast_each

        batch_size = cfg.training.batch_size
        data = with_baselines(cfg, data)
        combine = cfg.model.combine
        forecasts, reports, table = score_panel(model, data, batch_size, combine)
        val_forecasts = forecast_each(model, data.parts, "val", batch_size)
        if combine:
            val_forecasts, _ = combine_each(data.parts, val_forecasts, "val", combine)
        metrics = {
            "panel": panel_summary(table),
            "versus": {
                "val": versus(split_table(data.parts, val_forecasts, "val"), COMPARED),
                "test": versus(table, COMPARED),
            },
            "series": {"scored": len(data), "left_out": data.skipped, "padded": padded(data)},
            "combine": list(combine),
            "data": {**reports[0]["data"], "inputs": list(data.feature_names)},
        }
        levels = run_quantile_levels(cfg)
        if levels is not None:
            intervals = cfg.evaluation.intervals
            point = {"val": val_forecasts, "test": forecasts}
            quantiles = None
            if cfg.training.loss in DISTRIBUTION_LOSSES:
                quantiles = {
                    name: forecast_each(model, data.parts, name, batch_size, levels)
                    for name in ("val", "test")
                }
            metrics["intervals"] = panel_interval_report(
                data.parts, point, quantiles, levels, intervals.levels, intervals.calibrate
            )
        run.write_scalers(panel_scalers(data))
        run.write_file(RunDir.SERIES_METRICS, lambda path: table.to_csv(path, index=False))
        run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
        run.write_file(
            RunDir.FORECAST_PLOT, lambda path: plot_panel_forecast(data, forecasts, table, path)
        )
        return metrics, {"test": forecasts}

    def run_summary(self, result) -> str:
        return panel_run_summary(result.metrics, result.run)

    @staticmethod
    def compare_table(runs: list) -> str:
        return panel_table(runs)


def padded(panel) -> dict[str, int]:
    """`{id: rows}` of the series whose test window was led by padding (too short for a
    window's inputs: `SplitData.padded`)."""
    return {
        series_id: part.splits["test"].padded
        for series_id, part in zip(panel.ids, panel.parts, strict=True)
        if part.splits["test"].padded
    }


def score_panel(model, panel, batch_size: int, combine=()):
    """`(forecasts, reports, table)` of a prepared panel (or shard): each series' test
    forecasts, its `metrics_report`, and the `series_table` of them all. With `combine`
    (`model.combine`), the forecasts are the network's combined with those statistical ones
    (`combine_each`), and the table adds the network's own scores (`network_mase`, ...)."""
    from lstm_app.models.inference import forecast_each

    forecasts = forecast_each(model, panel.parts, "test", batch_size)
    network = forecasts
    if combine:
        forecasts, _ = combine_each(panel.parts, network, "test", combine)
    reports = [
        metrics_report(part, {"test": values})
        for part, values in zip(panel.parts, forecasts, strict=True)
    ]
    table = series_table(panel.ids, reports)
    if combine:
        alone = series_table(
            panel.ids,
            [
                metrics_report(part, {"test": values})
                for part, values in zip(panel.parts, network, strict=True)
            ],
        )
        for metric in ("mae", "rmse", "smape", "mase"):
            table[f"network_{metric}"] = alone[f"model_{metric}"]
    return forecasts, reports, table


# ---- what lstm-train and lstm-compare print of a panel run


def panel_check_summary(config_path: Path, panel) -> str:
    """What `lstm-train --check` prints for a panel (a PreparedPanel)."""
    first = panel.parts[0].splits["train"]
    windows = ", ".join(
        f"{name} {sum(part.splits[name].n_windows for part in panel.parts)}"
        for name in ("train", "val", "test")
    )
    lines = [
        f"{config_path}: OK; {len(panel)} series of {panel.parts[0].series.source}, "
        f"{len(panel.feature_names)} input feature(s), windows of {first.input_width} -> "
        f"{first.horizon} steps over all series: {windows}; nothing written"
    ]
    if panel.skipped:
        lines.insert(0, left_out(panel.skipped) + ".")
    return "\n".join(lines)


def panel_run_summary(metrics: dict, run: RunDir) -> str:
    """The end-of-run summary of a panel: the mean and median MASE of the model and the
    baselines over the series, and the share of series the model wins."""
    summary, series = metrics["panel"], metrics["series"]
    lines = [f"Test blocks of {series['scored']} series; MASE over the series:"]
    lines.append(f"  {'':<22} {'mean':>9} {'median':>9}")
    labels = {"model": "model", **{name: BASELINES[name].label for name in BASELINES}}
    for name, label in labels.items():
        mase = summary[name]["mase"]
        lines.append(
            f"  {label:<22} {number_text(mase['mean']):>9} {number_text(mase['median']):>9}"
        )
    wins = ", ".join(
        f"{BASELINES[name].label} on {share:.0%}"
        for name, share in summary["wins"].items()
        if share is not None
    )
    network = summary.get("network")
    if network:
        lines.append(
            f"  {'(the network alone)':<22} {number_text(network['mase']['mean']):>9} "
            f"{number_text(network['mase']['median']):>9}"
        )
    lines.append(f"The model beats {wins} of the series.")
    if network:
        others = ", ".join(f"{BASELINES[n].label}'s" for n in metrics.get("combine", []))
        lines.append(
            f"The model's forecasts are the median of the network's, {others} (model.combine)."
        )
    lines += versus_lines(metrics.get("versus", {}))
    if series.get("padded"):
        lines.append(
            f"{len(series['padded'])} series shorter than a window's inputs were forecast from "
            "windows led by copies of their first value (metrics.json: series.padded)."
        )
    if series["left_out"]:
        lines.append(left_out(series["left_out"]) + ".")
    if "intervals" in metrics:
        lines += interval_lines(metrics["intervals"])
    if series.get("shards"):
        lines.append(f"Read in {series['shards']} shard(s), one at a time.")
    lines.append(
        f"Results: {run.path}/ ({RunDir.METRICS}, {RunDir.SERIES_METRICS}, "
        f"{RunDir.FORECAST_PLOT}, {RunDir.LOSS_PLOT}, {RunDir.MODEL})"
    )
    return "\n".join(lines)


def versus_lines(found: dict) -> list[str]:
    """Plain sentences: on each split scored (`val`, `test`), whether the model beats each
    baseline of `COMPARED` on mean MASE and sMAPE, on how many series, and by how much."""
    lines = []
    for split, label in (("val", "Validation"), ("test", "Test")):
        for name, v in found.get(split, {}).items():
            base = BASELINES[name].label
            better = v["model_mase"] < v["mase"] and v["model_smape"] < v["smape"]
            worse = v["model_mase"] >= v["mase"] and v["model_smape"] >= v["smape"]
            verdict = "beats" if better else "loses to" if worse else "ties with"
            lines.append(
                f"{label}: the model {verdict} {base}: mean MASE {v['model_mase']:.3f} vs "
                f"{v['mase']:.3f} ({v['model_mase'] / v['mase'] - 1:+.1%}), sMAPE "
                f"{v['model_smape']:.2f} vs {v['smape']:.2f} %; better on {v['wins']} of "
                f"{v['series']} series."
            )
    return lines


def panel_table(runs: list[Run]) -> str:
    header = (
        "| run (panel) | target | horizon | series | MASE mean | MASE median | "
        "persistence MASE mean | seasonal naive MASE mean | seasonal naive MASE median | "
        "ETS MASE mean | Theta MASE mean | beats seasonal naive on |"
    )
    lines = table_head(header)
    n = number_text
    for run in runs:
        panel = run.metrics["panel"]
        model, naive = panel["model"]["mase"], panel["seasonal_naive"]["mase"]
        wins = panel["wins"].get("seasonal_naive")
        lines.append(
            f"| {run.name} | {run.config['data']['target']} | "
            f"{run.config['data']['window']['horizon']} | {run.metrics['series']['scored']} | "
            f"{n(model['mean'])} | {n(model['median'])} | "
            f"{n(panel['persistence']['mase']['mean'])} | {n(naive['mean'])} | "
            f"{n(naive['median'])} | {n(_mean_mase(panel, 'ets'))} | "
            f"{n(_mean_mase(panel, 'theta'))} | "
            f"{'-' if wins is None else f'{wins:.0%}'} of the series |"
        )
    return "\n".join(lines)


def _mean_mase(panel: dict, name: str) -> float | None:
    """A baseline's mean MASE in a panel's summary; None where it was not run (or the run is
    older than it)."""
    return (panel.get(name) or {}).get("mase", {}).get("mean")
