"""`lstm-train`: parses the command line and wires config -> data -> train; nothing more.

    lstm-train --config FILE [--set KEY=VALUE ...] [--run-dir DIR] [--quiet]

Exit status: 0 done; 1 training failed (e.g. the loss diverged); 2 bad input (config, data or
arguments), reported on one line before anything is trained; 130 interrupted.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

from lstm_app import __version__
from lstm_app.config.schema import config_to_dict, load_config
from lstm_app.data.prepare import prepare_data, time_text
from lstm_app.errors import RunFailedError, UserInputError
from lstm_app.evaluation.backtest import check_folds
from lstm_app.runs.rundir import (
    check_resumable,
    claim_run_dir,
    create_run_dir,
    require_finished,
    write_atomic,
    write_text,
)
from lstm_app.serving.spec import FORMATS, check_export, missing_extras

RUNS_ROOT = Path("runs")

EXAMPLES = """examples:
  lstm-train --config configs/article.yaml
  lstm-train --config my.yaml --set training.epochs=20 --set data.window.input_width=24
  lstm-train --config my.yaml --run-dir runs/first-try
  lstm-train --config my.yaml --run-dir runs/first-try --resume   # after a crash or Ctrl-C"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `lstm-train` argument parser."""
    parser = _Parser(
        prog="lstm-train",
        description="Train an LSTM forecaster from a YAML config; write a run directory.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        required=True,
        type=Path,
        metavar="FILE",
        help="the YAML config (see configs/article.yaml)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value: a dotted key and a YAML value, e.g. "
        "training.epochs=20 or model.layers.0.units=64 (repeatable)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        metavar="DIR",
        help="write the run here (a new or empty directory); default: "
        f"{RUNS_ROOT}/<name>-<timestamp>/",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the unfinished run in --run-dir from its last completed epoch (same "
        "config); it ends as the uninterrupted run would have",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the config and the data (windows per split), then stop: nothing is "
        "trained or written",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def check_summary(config_path: Path, data) -> str:
    """What `--check` prints: the data and its windows per split."""
    first = data.splits["train"]
    windows = ", ".join(
        f"{name} {data.splits[name].n_windows}" for name in ("train", "val", "test")
    )
    return (
        f"{config_path}: OK; {len(data.series.target)} rows of {data.series.source}, "
        f"{data.n_features} input feature(s), windows of {first.input_width} -> {first.horizon} "
        f"steps: {windows}; nothing written"
    )


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"


BASELINE_LABELS = {
    "persistence": "persistence",
    "seasonal_naive": "seasonal naive",
    "mean": "train mean",
}


def _compare(model_mae: float, other_mae: float, name: str) -> str:
    if other_mae == 0:
        return f"{name}'s is 0"
    ratio = model_mae / other_mae
    if ratio >= 10:
        return f"{ratio:.3g} times {name}'s"
    return f"{abs(1 - ratio):.0%} {'lower' if ratio < 1 else 'higher'} than {name}'s"


def summary(result) -> str:
    """The end-of-run summary: what was cleaned, the test metrics beside the baselines', the
    backtest, and where the results are."""
    metrics, data = result.metrics, result.data
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
    for name, label in BASELINE_LABELS.items():
        suffix = f" (m={data.season_length})" if name == "seasonal_naive" else ""
        rows[label + suffix] = metrics["baselines"][name]
    for label, m in rows.items():
        lines.append(
            f"  {label:<22} {_number(m['mae']):>9} {_number(m['rmse']):>9} "
            f"{_number(m['mase']):>7} {_number(m['smape']):>8}"
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
        for name, label in (("model", "model"), *BASELINE_LABELS.items()):
            mae = metrics["backtest"]["summary"][name]["mae"]
            parts.append(f"{label} {mae['mean']:.4g} +- {mae['std']:.3g}")
        lines.append(f"Backtest, {len(folds)} folds, test MAE mean +- std: {', '.join(parts)}.")
    lines.append(
        f"Results: {result.run_dir}/ (metrics.json, forecast.png, loss.png, model.keras, ...)"
    )
    if (result.run_dir / "export").is_dir():
        lines.append(
            f"Exported to {result.run_dir}/export/; forecast with: lstm-predict --model "
            f"{result.run_dir}/export --input CSV"
        )
    return "\n".join(lines)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Runs `lstm-train`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
        data = prepare_data(cfg.data, cfg.seed)
        check_folds(cfg, data)
        problem = missing_extras(cfg.export.formats)
        if problem:
            raise UserInputError(f"{args.config}: export.formats: {problem}")
        if args.check:
            print(check_summary(args.config, data))
            return 0
        if args.resume:
            if args.run_dir is None:
                raise UserInputError("--resume needs --run-dir: the run directory to continue")
            run_dir = check_resumable(args.run_dir, config_to_dict(cfg))
        elif args.run_dir is not None:
            run_dir = claim_run_dir(args.run_dir)
        else:
            run_dir = create_run_dir(RUNS_ROOT, cfg.name)
    except UserInputError as err:
        print(f"lstm-train: error: {err}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log noise
    from lstm_app.training.trainer import (
        train,  # imports TensorFlow: once the inputs are known good
    )

    polite_kill = signal.signal(signal.SIGTERM, _interrupt)  # a polite kill stops like Ctrl-C
    try:
        result = train(cfg, run_dir, data, 0 if args.quiet else "auto", resume=args.resume)
    except RunFailedError as err:
        print(f"lstm-train: {err} (run directory: {run_dir})", file=sys.stderr)
        return 1
    except UserInputError as err:  # found once TensorFlow is up: a resume state that does not fit
        print(f"lstm-train: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        again = f"lstm-train --config {args.config} --run-dir {run_dir} --resume"
        overrides = "".join(f" --set {o}" for o in args.overrides)
        saved = (run_dir / ".resume" / "state.json").is_file()
        how = f"resume with: {again}{overrides}" if saved else "no epoch had completed"
        print(f"lstm-train: interrupted; {how}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, polite_kill)
    print(summary(result))
    return 0


def run() -> None:
    """Console-script entry point of `lstm-train`."""
    sys.exit(main())


def build_compare_parser() -> argparse.ArgumentParser:
    """The `lstm-compare` argument parser."""
    parser = _Parser(
        prog="lstm-compare",
        description="Compare finished runs: test metrics and baselines side by side "
        "(printed, and written to comparison.md) and their test forecasts (comparison.png).",
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"write comparison.md and comparison.png here (a new or empty directory); "
        f"default: {RUNS_ROOT}/compare-<timestamp>/",
    )
    return parser


def compare_main(argv=None) -> int:
    """Runs `lstm-compare`; returns the exit status."""
    from lstm_app.evaluation.compare import comparison_table, load_run, plot_comparison

    args = build_compare_parser().parse_args(argv)
    try:
        runs = [load_run(path) for path in args.runs]
        out = claim_run_dir(args.out) if args.out else create_run_dir(RUNS_ROOT, "compare")
    except UserInputError as err:
        print(f"lstm-compare: error: {err}", file=sys.stderr)
        return 2
    table = comparison_table(runs)
    listing = "\n".join(f"- `{run.name}`: {run.path.resolve()}" for run in runs)
    write_text(out / "comparison.md", f"# Comparison of {len(runs)} runs\n\n{table}\n\n{listing}\n")
    write_atomic(out / "comparison.png", lambda path: plot_comparison(runs, path))
    print(table)
    print(f"Written: {out}/comparison.md, {out}/comparison.png")
    return 0


def run_compare() -> None:
    """Console-script entry point of `lstm-compare`."""
    sys.exit(compare_main())


def build_export_parser() -> argparse.ArgumentParser:
    """The `lstm-export` argument parser."""
    parser = _Parser(
        prog="lstm-export",
        description="Export a finished run's model (raw values in, forecasts in the target's "
        "units out) to one or more formats, with metadata.json.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS,
        required=True,
        help="a format to export (repeatable)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="where to write; default: RUN_DIR/export/"
    )
    return parser


def export_main(argv=None) -> int:
    """Runs `lstm-export`; returns the exit status."""
    args = build_export_parser().parse_args(argv)
    formats = list(dict.fromkeys(args.formats))
    try:  # every check before TensorFlow loads
        run_dir = require_finished(args.run_dir)
        check_export(formats, args.out or run_dir / "export")
    except UserInputError as err:
        print(f"lstm-export: error: {err}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from lstm_app.serving.exporter import export_run

    out = export_run(run_dir, formats, args.out)
    print(f"Exported {', '.join(formats)} to {out}/ (metadata.json describes the inputs)")
    return 0


def run_export() -> None:
    """Console-script entry point of `lstm-export`."""
    sys.exit(export_main())


def build_predict_parser() -> argparse.ArgumentParser:
    """The `lstm-predict` argument parser."""
    parser = _Parser(
        prog="lstm-predict",
        description="Forecast with an exported model from the last rows of a CSV file.",
    )
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="PATH",
        help="an export directory, or one of its artefacts (.keras, .onnx, .tflite, saved_model)",
    )
    parser.add_argument(
        "--input", required=True, type=Path, metavar="CSV", help="recent data, as in training"
    )
    parser.add_argument(
        "--output", type=Path, metavar="CSV", help="also write the forecasts here (a new file)"
    )
    parser.add_argument(
        "--all-windows", action="store_true", help="forecast from every window, not the last"
    )
    return parser


def predict_main(argv=None) -> int:
    """Runs `lstm-predict`; returns the exit status."""
    args = build_predict_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from lstm_app.serving.predict import forecast_csv, load_forecaster

    try:
        if args.output is not None and args.output.exists():
            raise UserInputError(f"--output {args.output}: exists; give a new file name")
        forecaster = load_forecaster(args.model)
        table = forecast_csv(forecaster, args.input, args.all_windows)
    except UserInputError as err:
        print(f"lstm-predict: error: {err}", file=sys.stderr)
        return 2
    if args.output is not None:
        write_text(args.output, table.to_csv(index=False))
    units = forecaster.metadata["target"].get("units")
    target = forecaster.metadata["target"]["name"] + (f" ({units})" if units else "")
    print(f"Forecasts of {target} by {forecaster.path} ({forecaster.format}):")
    print(table.to_string(index=False))
    return 0


def run_predict() -> None:
    """Console-script entry point of `lstm-predict`."""
    sys.exit(predict_main())
