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
from lstm_app.data.choose import AUTO, TransformChoice, candidate_name
from lstm_app.data.prepare import (
    SPLITS,
    PreparedData,
    prepare_candidates,
    prepare_data,
    with_chosen_transforms,
)
from lstm_app.data.times import time_text
from lstm_app.errors import UserInputError
from lstm_app.evaluation.backtest import check_folds, run_backtest
from lstm_app.evaluation.baselines import BASELINES, NOT_RUN
from lstm_app.evaluation.compare import Run
from lstm_app.evaluation.intervals import interval_report
from lstm_app.evaluation.metrics import forecast_table, metrics_report
from lstm_app.evaluation.plots import plot_forecast, plot_loss
from lstm_app.evaluation.report import (
    interval_lines,
    interval_rows,
    number_text,
    percent_text,
    table_head,
    where_lines,
)
from lstm_app.jobs.base import Job, run_quantile_levels, with_baselines
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
        data = with_baselines(cfg, data)
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


# ---- what lstm-train and lstm-compare print of a series run


def check_summary(config_path: Path, data: PreparedData) -> str:
    """What `lstm-train --check` prints: the data and its windows per split."""
    first = data.splits["train"]
    windows = ", ".join(
        f"{name} {data.splits[name].n_windows}" for name in ("train", "val", "test")
    )
    lines = _reading_notes(data)
    lines.append(
        f"{config_path}: OK; {len(data.series.target)} rows of {data.series.source}, "
        f"{data.n_features} input feature(s), windows of {first.input_width} -> {first.horizon} "
        f"steps: {windows}; nothing written"
    )
    return "\n".join(lines)


def auto_summary(candidates: dict, skipped: dict[str, str]) -> str:
    """What `--check` says of `data.transforms: auto`: the candidates the run will train."""
    names = ", ".join(candidate_name(names) for names in candidates)
    text = (
        f"data.transforms: auto: the run trains the model on each of {len(candidates)} "
        f"candidates ({names}) and keeps the one with the lowest validation MAE"
    )
    if skipped:
        text += "; left out: " + ", ".join(f"{n} ({why})" for n, why in skipped.items())
    return text


def _reading_notes(data: PreparedData) -> list[str]:
    """What was done to the data as it was read: missing time steps and cells, the transforms
    `auto` chose, and notes."""
    lines = []
    cleaning = data.series.cleaning
    gaps = cleaning.get("missing_steps", 0)
    if gaps:
        done = (
            "left as gaps that windows span"
            if cleaning["missing"] == "drop"
            else f"inserted and filled in ({cleaning['missing']}), not scored"
        )
        lines.append(f"Missing time steps of '{cleaning['step']}': {gaps}, {done}.")
    if cleaning["filled"] or cleaning["dropped_rows"]:
        filled = ", ".join(f"'{name}' {n}" for name, n in cleaning["filled"].items())
        if gaps and cleaning["missing"] != "drop":
            filled += " (inserted steps included)"
        lines.append(
            f"Missing values ({cleaning['missing']}): filled {filled or 'none'}; "
            f"dropped {cleaning['dropped_rows']} rows."
        )
    if data.transform_choice is not None:
        lines.append(data.transform_choice.sentence() + ".")
    lines += [f"Note: {note}." for note in data.series.notes]
    return lines


def _baseline_label(name: str, season_length: int) -> str:
    suffix = f" (m={season_length})" if name == "seasonal_naive" else ""
    return BASELINES[name].label + suffix


EXACT = {  # why a baseline can forecast the test split without error
    "persistence": "a constant series",
    "seasonal naive": "the series repeats itself each season",
    "ETS": "its smoothing follows the series exactly",
    "Theta": "its smoothing follows the series exactly",
}


def _compare_sentence(model_mae: float, baselines: dict[str, float]) -> str:
    """The model's test MAE against the baselines' (`{label: MAE}`), as one sentence: `The
    model's test MAE is 73% lower than persistence's and ...`. A baseline whose MAE is 0 (a
    constant series) cannot be compared in proportion: the sentence gives both values."""
    exact = [name for name, mae in baselines.items() if mae == 0]
    relative = []
    for name, mae in baselines.items():
        if mae == 0:
            continue
        ratio = model_mae / mae
        if ratio >= 10:
            relative.append(f"{ratio:.3g} times {name}'s")
        else:
            relative.append(
                f"{abs(1 - ratio):.0%} {'lower' if ratio < 1 else 'higher'} than {name}'s"
            )
    if not exact:
        return f"The model's test MAE is {' and '.join(relative)}."
    zeros = " and ".join(
        f"{name}'s is 0 ({EXACT.get(name, 'an exact forecast')})" for name in exact
    )
    text = f"The model's test MAE is {number_text(model_mae)}; {zeros}"
    if relative:
        text += f"; it is {' and '.join(relative)}"
    return text + "."


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
    lines = _reading_notes(data)
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
        if metrics["baselines"][name].get("note") != NOT_RUN:
            rows[_baseline_label(name, data.season_length)] = metrics["baselines"][name]
    for label, m in rows.items():
        lines.append(
            f"  {label:<22} {number_text(m['mae']):>9} {number_text(m['rmse']):>9} "
            f"{number_text(m['mase']):>7} {number_text(m['smape']):>8}"
        )
    compared = [
        name
        for name in ("persistence", "seasonal_naive", "ets", "theta")
        if name != "seasonal_naive" or data.season_length > 1
    ]
    compared = [name for name in compared if metrics["baselines"][name].get("note") != NOT_RUN]
    maes = {BASELINES[name].label: metrics["baselines"][name]["mae"] for name in compared}
    lines.append(
        _compare_sentence(
            metrics["test"]["mae"], {label: mae for label, mae in maes.items() if mae is not None}
        )
    )
    for name in compared:  # left out (see baselines.baseline_notes): say why, once
        note = metrics["baselines"][name].get("note")
        if note:
            lines.append(f"{BASELINES[name].label.capitalize()} is {note}.")
    if "backtest" in metrics:
        folds = metrics["backtest"]["folds"]
        parts = []
        labels = {"model": "model", **{name: BASELINES[name].label for name in BASELINES}}
        for name, label in labels.items():
            mae = metrics["backtest"]["summary"][name]["mae"]  # None: left out of every fold
            parts.append(f"{label} {mae['mean']:.4g} +- {mae['std']:.3g}" if mae else f"{label} -")
        lines.append(f"Backtest, {len(folds)} folds, test MAE mean +- std: {', '.join(parts)}.")
    if "intervals" in metrics:
        lines += interval_lines(metrics["intervals"])
    lines += where_lines(run, (RunDir.FORECAST_PLOT, RunDir.LOSS_PLOT), "forecast")
    return "\n".join(lines)


def single_table(runs: list[Run]) -> str:
    header = (
        "| run | target | horizon | test windows | MAE | RMSE | MASE | sMAPE % | "
        "persistence MAE | persistence MASE | seasonal naive MAE (m) | seasonal naive MASE | "
        "ETS MASE | Theta MASE |"
    )
    lines = table_head(header)
    n = number_text
    for run in runs:
        test, baselines = run.metrics["test"], run.metrics["baselines"]
        naive, seasonal = baselines["persistence"], baselines["seasonal_naive"]
        season = run.metrics.get("data", {}).get("season_length", 1)
        lines.append(
            f"| {run.name} | {run.config['data']['target']} | "
            f"{run.config['data']['window']['horizon']} | {test['windows']} | "
            f"{n(test['mae'])} | {n(test['rmse'])} | {n(test['mase'])} | {n(test['smape'])} | "
            f"{n(naive['mae'])} | {n(naive['mase'])} | {n(seasonal['mae'])} ({season}) | "
            f"{n(seasonal['mase'])} | {n(baselines.get('ets', {}).get('mase'))} | "
            f"{n(baselines.get('theta', {}).get('mase'))} |"
        )
    return "\n".join(lines)


def intervals_table(runs: list[Run]) -> str:
    """Per run and interval: its test coverage (before and after calibration), mean width and
    MSIS, and the weighted quantile loss of the model and of the baselines."""
    header = (
        "| run | interval | calibration | coverage | uncalibrated coverage | mean width | MSIS | "
        "wQL | persistence wQL | seasonal naive wQL |"
    )
    lines = table_head(header)
    n = number_text
    for run in runs:
        for row in interval_rows(run.metrics["intervals"]):
            baselines = row["baseline_wql"]
            lines.append(
                f"| {run.name} | {row['level']}% | {row['calibration']} | "
                f"{percent_text(row['coverage'])} | {percent_text(row['uncalibrated'])} | "
                f"{n(row['width'])} | {n(row['msis'])} | {n(row['wql'])} | "
                f"{n(baselines.get('persistence'))} | {n(baselines.get('seasonal_naive'))} |"
            )
    return "\n".join(lines)
