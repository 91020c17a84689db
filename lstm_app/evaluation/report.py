"""What every text report shares: numbers and shares formatted for tables, the lines on
intervals, the series left out, where a run's results are. Each kind of run's own check and
run summaries, and its `lstm-compare` table, are its job's (`lstm_app.jobs`).

    number_text(0.42413), percent_text(0.82)     # "0.4241", "82%"
    interval_lines(metrics["intervals"])         # the summary's lines on intervals
"""

from lstm_app.evaluation.baselines import BASELINES
from lstm_app.runs.rundir import RunDir


def number_text(value) -> str:
    """A metric for a table: four significant digits, `-` where it could not be computed."""
    return "-" if value is None else f"{value:.4g}"


def percent_text(share) -> str:
    """A share for a table: `82%`, `-` where there is none."""
    return "-" if share is None else f"{share:.0%}"


def table_head(header: str) -> list[str]:
    """The first lines of a markdown table: `header` (`| a | b |`) and its rule (`| --- |`)."""
    return [header, "|" + " --- |" * (header.count("|") - 1)]


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


def where_lines(run: RunDir, files, verb: str) -> list[str]:
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


def left_out(skipped: dict[str, str], shown: int = 3) -> str:
    """`2 series left out: 'a' (why), 'b' (why)` (the first `shown`), or ``."""
    if not skipped:
        return ""
    named = "; ".join(f"'{sid}' ({why})" for sid, why in list(skipped.items())[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} series left out: {named}{more}"


BASELINE_LABELS = {
    "majority": "majority class",
    "nearest_neighbour": "1-NN (Euclidean)",
    "bag_of_words": "bag of words",
}
