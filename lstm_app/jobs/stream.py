"""The job of a panel read shard by shard (`data.stream`: each Parquet file of a folder in
turn, memory bounded by one shard): trained on the windows of every shard in turn
(`lstm_app.data.shards.stream_dataset`), then each shard read again, forecast and scored as a
panel in memory is. What it writes is what the panel job writes (`lstm_app.jobs.panel`), its
forecast plot drawn from the totals of every shard and the picked series read again.
"""

from dataclasses import replace
from pathlib import Path

import pandas as pd

from lstm_app.config.schema import Config
from lstm_app.data.panel import panel_scalers, prepare_panel
from lstm_app.data.shards import ShardedPanel, scan_shards
from lstm_app.evaluation.panel import panel_summary, versus
from lstm_app.evaluation.panel_plots import (
    draw_panel_forecast,
    history_total,
    panel_totals,
    pick_series,
    series_points,
    sum_by_time,
)
from lstm_app.evaluation.plots import plot_loss
from lstm_app.jobs.base import Job, with_baselines
from lstm_app.jobs.panel import COMPARED, PanelJob, panel_run_summary, score_panel
from lstm_app.runs.rundir import RunDir


class StreamJob(Job):
    """A panel read shard by shard, one model (`data.stream`)."""

    kind = "stream"

    def load(self, cfg: Config) -> ShardedPanel:
        """The shards' ids and labels (`scan_shards`): their values are read while training."""
        return scan_shards(cfg.data)

    def check_summary(self, config_path: Path, data: ShardedPanel) -> str:
        return stream_check_summary(config_path, data)

    def evaluate_and_write(self, cfg: Config, run: RunDir, model, history, data: ShardedPanel):
        from lstm_app.models.inference import forecast_each

        batch_size = cfg.training.batch_size
        tables, skipped, histories, totals, scalers, where = [], {}, [], [], None, {}
        for index, path in enumerate(data.paths):
            shard = self._shard(cfg, data, path)
            forecasts, reports, table = score_panel(model, shard, batch_size)
            tables.append(table)
            skipped.update(shard.skipped)
            histories.append(history_total(shard))
            totals.append(panel_totals(shard, forecasts))
            where.update(dict.fromkeys(shard.ids, index))
            scalers = _merged_scalers(scalers, panel_scalers(shard))
        table = pd.concat(tables, ignore_index=True)
        metrics = {
            "panel": panel_summary(table),
            "versus": {"test": versus(table, COMPARED)},
            "series": {"scored": len(table), "left_out": skipped, "shards": len(data.paths)},
            "data": {**reports[0]["data"], "inputs": list(data.feature_names)},
        }
        picked = []
        for role, series_id in pick_series(table):  # read again: one shard is held at a time
            shard = self._shard(cfg, data, data.paths[where[series_id]])
            part = shard.parts[shard.ids.index(series_id)]
            (values,) = forecast_each(model, [part], "test", batch_size)
            picked.append((role, series_id, part, series_points(part, values)))
        run.write_scalers(scalers)
        run.write_file(RunDir.SERIES_METRICS, lambda path: table.to_csv(path, index=False))
        run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
        run.write_file(
            RunDir.FORECAST_PLOT,
            lambda path: draw_panel_forecast(
                sum_by_time(histories),
                sum_by_time(totals),
                picked,
                table,
                path,
                f"test split, read in {len(data.paths)} shards",
            ),
        )
        return metrics, {}

    @staticmethod
    def _shard(cfg: Config, data: ShardedPanel, path):
        """One shard prepared as a panel in memory, its static labels one-hot over every
        shard's."""
        shard = prepare_panel(replace(cfg.data, path=path), cfg.seed, categories=data.static)
        return with_baselines(cfg, shard)

    def run_summary(self, result) -> str:
        return panel_run_summary(result.metrics, result.run)

    compare_table = staticmethod(PanelJob.compare_table)  # a panel's: in the same table


def _merged_scalers(merged: dict | None, shard: dict) -> dict:
    """`scaler.json` of a panel read shard by shard: one shard's (`panel_scalers`), with the
    series of every shard when each series has its own statistics."""
    if merged is None:
        return shard
    if "series" in merged:
        merged["series"].update(shard["series"])
    return merged


# ---- what lstm-train --check prints of a panel read shard by shard


def stream_check_summary(config_path: Path, sharded) -> str:
    """What `lstm-train --check` prints for a panel read shard by shard (a ShardedPanel):
    what its ids and labels say; the series themselves are read as training reads them."""
    data = sharded.data
    return (
        f"{config_path}: OK; {sharded.n_series} series in {len(sharded.paths)} shard(s) of "
        f"{data.path}, {len(sharded.feature_names)} input feature(s), windows of "
        f"{data.window.input_width} -> {data.window.horizon} steps, read one shard at a time "
        "(each series' rows are checked as training reads them); nothing written"
    )
