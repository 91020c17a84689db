"""`lstm-train`: parses the command line and wires config -> data -> train; nothing more.

    lstm-train --config FILE [--set KEY=VALUE ...] [--run-dir DIR] [--quiet]

Exit status: 0 done; 1 training failed (e.g. the loss diverged); 2 bad input (config, data or
arguments), reported on one line before anything is trained; 130 interrupted.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_app import __version__
from lstm_app.config import load_config
from lstm_app.data import prepare_data
from lstm_app.errors import RunFailedError, UserInputError
from lstm_app.rundir import claim_run_dir, create_run_dir

RUNS_ROOT = Path("runs")

EXAMPLES = """examples:
  lstm-train --config configs/article.yaml
  lstm-train --config my.yaml --set training.epochs=20 --set data.window.input_width=24
  lstm-train --config my.yaml --run-dir runs/first-try"""


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
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _time_text(stamp) -> str:
    """A time stamp as text: `1959-08-01`, `1959-08-01 06:00:00`, or a step number."""
    if np.issubdtype(np.asarray(stamp).dtype, np.datetime64):
        return str(pd.Timestamp(stamp)).removesuffix(" 00:00:00")
    return str(stamp)


def summary(result) -> str:
    """The end-of-run summary: test metrics beside persistence's, and where the results are."""
    test, naive = result.metrics["test"], result.metrics["baselines"]["persistence"]
    split = result.data.splits["test"]
    times = split.target_times()
    ratio = test["mae"] / naive["mae"] if naive["mae"] > 0 else float("inf")
    verdict = "lower" if ratio < 1 else "higher"
    return "\n".join(
        [
            f"Test split: {test['windows']} windows forecasting {_time_text(times[0, 0])} .. "
            f"{_time_text(times[-1, -1])} ({split.horizon} step{'s' * (split.horizon > 1)} ahead), "
            f"in the target's original units:",
            f"  {'':<12} {'MAE':>10} {'RMSE':>10}",
            f"  {'model':<12} {test['mae']:>10.4g} {test['rmse']:>10.4g}",
            f"  {'persistence':<12} {naive['mae']:>10.4g} {naive['rmse']:>10.4g}",
            f"The model's test MAE is {abs(1 - ratio):.0%} {verdict} than persistence's.",
            f"Results: {result.run_dir}/ (metrics.json, forecast.png, loss.png, model.keras, ...)",
        ]
    )


def main(argv=None) -> int:
    """Runs `lstm-train`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
        data = prepare_data(cfg.data, cfg.seed)
        if args.run_dir is not None:
            run_dir = claim_run_dir(args.run_dir)
        else:
            run_dir = create_run_dir(RUNS_ROOT, cfg.name)
    except UserInputError as err:
        print(f"lstm-train: error: {err}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log noise
    from lstm_app.train import train  # imports TensorFlow: only once the inputs are known good

    try:
        result = train(cfg, run_dir, data, verbose=0 if args.quiet else "auto")
    except RunFailedError as err:
        print(f"lstm-train: {err} (run directory: {run_dir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lstm-train: interrupted; {run_dir}/run.json says so", file=sys.stderr)
        return 130
    print(summary(result))
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
