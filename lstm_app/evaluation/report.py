"""The text reports the commands print: the end-of-run summary (test metrics beside the
baselines'), what `--check` found, and numbers formatted for tables.

    print(run_summary(result.metrics, result.data, RunDir(result.run_dir)))
"""

from pathlib import Path

from lstm_app.data.choose import candidate_name
from lstm_app.data.prepare import PreparedData
from lstm_app.data.times import time_text
from lstm_app.evaluation.baselines import BASELINES
from lstm_app.runs.rundir import RunDir


def number_text(value) -> str:
    """A metric for a table: four significant digits, `-` where it could not be computed."""
    return "-" if value is None else f"{value:.4g}"


def percent_text(share) -> str:
    """A share for a table: `82%`, `-` where there is none."""
    return "-" if share is None else f"{share:.0%}"


def interval_rows(report: dict) -> list[dict]:
    """The table rows of an interval report (`metrics.json`'s `intervals`), one per interval:
    `level` (`"80"`), `calibration`, `coverage`, `uncalibrated` (the coverage before
    calibration; None without), `width`, `msis`, `wql` (the model's) and `baseline_wql`
    (`{baseline: wQL}`)."""
    baseline_wql = {name: scores["wql"] for name, scores in report["baselines"].items()}
    return [
        {
            "level": level,
            "calibration": report["calibration"],
            "coverage": scores["coverage"],
            "uncalibrated": scores.get("uncalibrated", {}).get("coverage"),
            "width": scores["width"],
            "msis": scores["msis"],
            "wql": report["model"]["wql"],
            "baseline_wql": baseline_wql,
        }
        for level, scores in report["model"]["intervals"].items()
    ]


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
        rows[_baseline_label(name, data.season_length)] = metrics["baselines"][name]
    for label, m in rows.items():
        lines.append(
            f"  {label:<22} {number_text(m['mae']):>9} {number_text(m['rmse']):>9} "
            f"{number_text(m['mase']):>7} {number_text(m['smape']):>8}"
        )
    compared = ["persistence", "seasonal_naive"] if data.season_length > 1 else ["persistence"]
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
    lines += _where_lines(run, (RunDir.FORECAST_PLOT, RunDir.LOSS_PLOT), "forecast")
    return "\n".join(lines)


def _where_lines(run: RunDir, files, verb: str) -> list[str]:
    """Where a run's results are (`metrics.json`, `files`, the model) and, if it exported, how
    to `verb` (forecast, classify) with the export."""
    listed = ", ".join((RunDir.METRICS, *files, RunDir.MODEL))
    lines = [f"Results: {run.path}/ ({listed}, ...)"]
    if run.export_dir.is_dir():
        lines.append(
            f"Exported to {run.export_dir}/; {verb} with: lstm-predict --model "
            f"{run.export_dir} --input CSV"
        )
    return lines


def interval_lines(report: dict) -> list[str]:
    """The summary's lines on intervals: each level's coverage and width (before and after
    calibration), and the weighted quantile loss beside the baselines'."""
    model, lines = report["model"], []
    wql = ", ".join(
        f"{BASELINES[name].label} {number_text(scores['wql'])}"
        for name, scores in report["baselines"].items()
    )
    lines.append(
        f"Quantiles {', '.join(map(str, report['levels']))} (intervals: "
        f"{report['calibration']}): weighted quantile loss {number_text(model['wql'])}"
        + (f"; {wql}" if wql else "")
        + "."
    )
    for level, scores in model["intervals"].items():
        before = scores.get("uncalibrated")
        was = (
            f" (uncalibrated {before['coverage']:.0%}, width {number_text(before['width'])})"
            if before
            else ""
        )
        scaled = " (in MASE scales)" if report.get("units") else ""
        lines.append(
            f"  {level}% interval: covers {scores['coverage']:.0%} of test values, mean width "
            f"{number_text(scores['width'])}{scaled}, MSIS {number_text(scores['msis'])}{was}"
        )
        if scores.get("note"):
            lines.append(f"  ({scores['note']})")
    return lines


def _left_out(skipped: dict[str, str], shown: int = 3) -> str:
    """`2 series left out: 'a' (why), 'b' (why)` (the first `shown`), or ``."""
    if not skipped:
        return ""
    named = "; ".join(f"'{sid}' ({why})" for sid, why in list(skipped.items())[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} series left out: {named}{more}"


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
        lines.insert(0, _left_out(panel.skipped) + ".")
    return "\n".join(lines)


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
        lines.append(_left_out(series["left_out"]) + ".")
    if "intervals" in metrics:
        lines += interval_lines(metrics["intervals"])
    if series.get("shards"):
        lines.append(f"Read in {series['shards']} shard(s), one at a time.")
    lines.append(
        f"Results: {run.path}/ ({RunDir.METRICS}, {RunDir.SERIES_METRICS}, "
        f"{RunDir.FORECAST_PLOT}, {RunDir.LOSS_PLOT}, {RunDir.MODEL})"
    )
    return "\n".join(lines)


BASELINE_LABELS = {
    "majority": "majority class",
    "nearest_neighbour": "1-NN (Euclidean)",
    "bag_of_words": "bag of words",
}


def _sequence_notes(data) -> list[str]:
    """What preparing a classification's sequences did that a user should know: the sequences
    cut to `max_length` steps (words), per split."""
    cut = {name: n for name, n in data.truncated.items() if n}
    if not cut:
        return []
    unit = "words" if data.is_text else "steps"
    where = ", ".join(f"{n} in {name}" for name, n in cut.items())
    return [
        f"Truncated: {sum(cut.values())} sequences longer than {data.max_length} {unit} "
        f"read to their first {data.max_length} ({where})."
    ]


def sequence_check_summary(config_path: Path, data) -> str:
    """What `lstm-train --check` prints for a classification: sequences per split, classes."""
    sizes = ", ".join(f"{name} {len(data.labels[name])}" for name in ("train", "val", "test"))
    unit = "words" if data.is_text else "steps"
    what = "texts" if data.is_text else f"sequences of {len(data.feature_names)} feature(s)"
    return "\n".join(
        [
            *_sequence_notes(data),
            f"{config_path}: OK; {what}, up to {data.max_length} {unit}: {sizes}; "
            f"{len(data.classes)} classes ({', '.join(data.classes)}); nothing written",
        ]
    )


def classification_run_summary(metrics: dict, data, run: RunDir) -> str:
    """The end-of-run summary of a classification: the test metrics beside the baselines'."""
    lines = _sequence_notes(data)
    test = metrics["test"]
    lines.append(f"Test split: {test['sequences']} sequences, {len(metrics['classes'])} classes:")
    lines.append(f"  {'':<20} {'accuracy':>9} {'balanced':>9} {'macro F1':>9} {'log loss':>9}")
    rows = {"model": test}
    rows |= {BASELINE_LABELS[name]: m for name, m in metrics["baselines"].items()}
    for label, m in rows.items():
        lines.append(
            f"  {label:<20} {m['accuracy']:>9.1%} {m['balanced_accuracy']:>9.1%} "
            f"{m['macro_f1']:>9.3f} {number_text(m['log_loss']):>9}"
        )
    best = max(metrics["baselines"].items(), key=lambda item: item[1]["accuracy"])
    gap = test["accuracy"] - best[1]["accuracy"]
    verdict = "above" if gap > 0 else "not above"
    lines.append(
        f"The model is {verdict} the best baseline ({BASELINE_LABELS[best[0]]}) by "
        f"{gap * 100:+.1f} accuracy points on the same test split."
    )
    files = (RunDir.PREDICTIONS, RunDir.CONFUSION_PLOT, RunDir.LOSS_PLOT)
    lines += _where_lines(run, files, "classify")
    return "\n".join(lines)
