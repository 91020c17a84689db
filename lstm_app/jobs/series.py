"""The job of one series (a CSV's column, or a generated sine): windows of its past, one
model, forecasts of the test split beside the naive baselines on the same windows.

Writes `forecasts.csv` (every test window and step), `forecast.png`, `gates.png` (GateLSTM
layers), `scaler.json`, and `metrics.json` with the model's metrics per split, the baselines',
the intervals' (with quantiles or interval levels) and the backtest's (with folds). With
`data.transforms: auto`, the transforms are chosen first, by training on each candidate.
"""

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from lstm_app.config.schema import Config
from lstm_app.data.choose import AUTO, TransformChoice
from lstm_app.data.prepare import (
    SPLITS,
    PreparedData,
    prepare_candidates,
    prepare_data,
    with_chosen_transforms,
)
from lstm_app.errors import UserInputError
from lstm_app.evaluation.backtest import check_folds, run_backtest
from lstm_app.evaluation.compare import intervals_table, single_table
from lstm_app.evaluation.intervals import interval_report
from lstm_app.evaluation.metrics import forecast_table, metrics_report
from lstm_app.evaluation.plots import plot_forecast, plot_loss
from lstm_app.evaluation.report import auto_summary, check_summary, run_summary
from lstm_app.jobs.base import Job, run_quantile_levels
from lstm_app.runs.rundir import RunDir

AUTO_CHOICE = "transforms_auto"  # run.json: what data.transforms: auto chose, and the scores


@dataclass(frozen=True)
class Candidates:
    """`data.transforms: auto` before the choice: the data prepared with each candidate's
    transforms (by candidate name), and the candidates skipped, with why."""

    prepared: dict[str, PreparedData]
    skipped: dict[str, str]


class SeriesJob(Job):
    """One series, one model (`data.series_id` unset, `task: forecast`)."""

    kind = "series"

    def load(self, cfg: Config) -> PreparedData:
        return prepare_data(cfg.data, cfg.seed)

    def prepare(self, cfg: Config) -> PreparedData | Candidates:
        """The prepared data, or with `data.transforms: auto` every candidate's; each checked
        for the backtest's folds."""
        if cfg.data.transforms == AUTO:  # chosen by training on each candidate: check them all
            data = Candidates(*prepare_candidates(cfg.data, cfg.seed))
            prepared = list(data.prepared.values())
        else:
            data = self.load(cfg)
            prepared = [data]
        for each in prepared:
            check_folds(cfg, each)
        return data

    def check_summary(self, config_path: Path, data) -> str:
        if isinstance(data, Candidates):
            first = next(iter(data.prepared.values()))
            summary = check_summary(config_path, first)
            return f"{summary}\n{auto_summary(data.prepared, data.skipped)}"
        return check_summary(config_path, data)

    def training_data(self, cfg: Config, data) -> PreparedData:
        return self.load(cfg) if data is None or isinstance(data, Candidates) else data

    def settle(self, cfg: Config, run_dir, data, verbose, resume: bool):
        """With `data.transforms: auto`: the config with the transforms chosen and the data
        prepared with them; run.json records the choice and the scores."""
        if cfg.data.transforms != AUTO:  # chosen now (or when the run started): config.yaml says
            return cfg, data, {}
        cfg, data = _auto_transforms(cfg, run_dir, data, verbose, resume)
        choice = data.transform_choice
        record = {"chosen": list(choice.chosen), "scores": choice.scores, "skipped": choice.skipped}
        return cfg, data, {AUTO_CHOICE: record}

    def evaluate_and_write(self, cfg: Config, run: RunDir, model, history, data: PreparedData):
        from lstm_app.models.gates import plot_gates, trace_gates
        from lstm_app.models.inference import forecast, forecast_quantiles
        from lstm_app.training.trainer import forecast_fold

        batch_size = cfg.training.batch_size
        forecasts = {name: forecast(model, data, data.splits[name], batch_size) for name in SPLITS}
        metrics, bands = metrics_report(data, forecasts), {}
        levels = run_quantile_levels(cfg)
        if levels is not None:
            intervals = cfg.evaluation.intervals
            quantiles = {
                name: forecast_quantiles(model, data, data.splits[name], levels, batch_size)
                for name in ("val", "test")
            }
            distribution = quantiles["test"] is not None
            metrics["intervals"], bands = interval_report(
                data,
                forecasts,
                quantiles if distribution else None,
                levels,
                intervals.levels,
                intervals.calibrate,
            )
        if cfg.evaluation.backtest.folds > 1:
            metrics["backtest"] = run_backtest(cfg, data, metrics, partial(forecast_fold, cfg))
        test = data.splits["test"]
        run.write_scalers(series_scalers(data))
        run.write_forecasts(forecast_table(data, test, forecasts["test"]))
        run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
        run.write_file(
            RunDir.FORECAST_PLOT,
            lambda path: plot_forecast(data, forecasts["test"], path, bands=bands),
        )
        traces = trace_gates(model, test.windows()[0])
        if traces:
            title = "Gates on the last test window; heatmaps: units (rows) by time steps (columns)"
            run.write_file(RunDir.GATES_PLOT, lambda path: plot_gates(traces, path, title=title))
        return metrics, forecasts

    def run_summary(self, result) -> str:
        return run_summary(result.metrics, result.data, result.run)

    @staticmethod
    def compare_table(runs: list) -> str:
        """The runs' test metrics beside the baselines', then the intervals of those that
        scored some."""
        scored = [run for run in runs if "intervals" in run.metrics]
        tables = [single_table(runs)] + ([intervals_table(scored)] if scored else [])
        return "\n\n".join(tables)


def series_scalers(data: PreparedData) -> dict:
    """`scaler.json` of one series: the features' and the target's statistics from the train
    split, the target transforms, and the window scaling (if each window has its own)."""
    scalers = {
        "features": data.feature_scaler.to_dict(data.feature_names),
        "target": data.target_scaler.to_dict([data.series.target_name]),
        "target_transforms": list(data.pipeline.names),
    }
    test = data.splits["test"]
    if test.window_scaling is not None:  # each window by its own statistics
        scalers["window"] = test.window_scaling.to_dict(data.feature_names)
    return scalers


def _auto_transforms(cfg: Config, run_dir, data, verbose, resume: bool):
    """`data.transforms: auto`: the config with the transforms chosen, and the data prepared
    with them. A new run trains the model on each candidate (`lstm_app.training.choose`),
    prepared now or by `prepare` (`Candidates`); a resumed run takes what it chose when it
    started (its config.yaml and run.json)."""
    if data is not None and not isinstance(data, Candidates):
        raise UserInputError(
            "data: with data.transforms: auto, lstm_app.train prepares the data of each "
            "candidate itself; pass no data, or give the transforms in the config"
        )
    if resume:
        run = RunDir(run_dir)
        chosen = tuple(run.read_config()["data"]["transforms"])
        record = run.read_status().get(AUTO_CHOICE) or {}
        choice = TransformChoice(chosen, record.get("scores", {}), record.get("skipped", {}))
        cfg = replace(cfg, data=replace(cfg.data, transforms=chosen))
        data = replace(prepare_data(cfg.data, cfg.seed), transform_choice=choice)
        return cfg, data
    from lstm_app.training.choose import choose_transforms

    if data is None:
        data = Candidates(*prepare_candidates(cfg.data, cfg.seed))
    say = None if verbose == 0 else partial(print, flush=True)
    choice = choose_transforms(cfg, data.prepared, data.skipped, say)
    chosen = replace(data.prepared[choice.chosen], transform_choice=choice)
    return with_chosen_transforms(cfg, chosen), chosen
