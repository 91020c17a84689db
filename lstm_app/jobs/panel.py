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
from lstm_app.evaluation.compare import Run
from lstm_app.evaluation.intervals import panel_interval_report
from lstm_app.evaluation.metrics import metrics_report
from lstm_app.evaluation.panel import panel_summary, series_table
from lstm_app.evaluation.panel_plots import plot_panel_forecast
from lstm_app.evaluation.plots import plot_loss
from lstm_app.evaluation.report import interval_lines, left_out, number_text, table_head
from lstm_app.jobs.base import Job, run_quantile_levels
from lstm_app.runs.rundir import RunDir


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
        forecasts, reports, table = score_panel(model, data, batch_size)
        metrics = {
            "panel": panel_summary(table),
            "series": {"scored": len(data), "left_out": data.skipped},
            "data": {**reports[0]["data"], "inputs": list(data.feature_names)},
        }
        levels = run_quantile_levels(cfg)
        if levels is not None:
            intervals = cfg.evaluation.intervals
            point = {"val": forecast_each(model, data.parts, "val", batch_size), "test": forecasts}
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


def score_panel(model, panel, batch_size: int):
    """`(forecasts, reports, table)` of a prepared panel (or shard): each series' test
    forecasts, its `metrics_report`, and the `series_table` of them all."""
    from lstm_app.models.inference import forecast_each

    forecasts = forecast_each(model, panel.parts, "test", batch_size)
    reports = [
        metrics_report(part, {"test": values})
        for part, values in zip(panel.parts, forecasts, strict=True)
    ]
    return forecasts, reports, series_table(panel.ids, reports)


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
    lines.append(f"The model beats {wins} of the series.")
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


def panel_table(runs: list[Run]) -> str:
    header = (
        "| run (panel) | target | horizon | series | MASE mean | MASE median | "
        "persistence MASE mean | seasonal naive MASE mean | seasonal naive MASE median | "
        "beats seasonal naive on |"
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
            f"{n(naive['median'])} | {'-' if wins is None else f'{wins:.0%}'} of the series |"
        )
    return "\n".join(lines)
