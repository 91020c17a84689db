"""lstm-tune against the hand-tuned shipped configs: validation and test MAE side by side.

    .venv/bin/python bench/tune_table.py                 # every config with a space file
    .venv/bin/python bench/tune_table.py article --trials 4

For each config, trains the shipped config once (its validation and test MAE), then runs the
search of `configs/spaces/NAME.yaml` (`lstm_app.tuning.tune`: chosen on validation alone, the
best retrained from scratch and scored on test), and prints a Markdown table with the
machine and the time each search took (with the best config's retraining; not the shipped run).
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lstm_app.config.load import load_config
from lstm_app.pipeline import train
from lstm_app.tuning import read_space, tune

ROOT = Path(__file__).resolve().parent.parent
TRIALS = {"article": 12, "sunspots": 8, "temperatures": 8, "pollution": 6}


def compare(name: str, trials: int, folder: Path) -> dict:
    """The shipped config's and the tuned config's MAE on validation and test."""
    config = ROOT / "configs" / f"{name}.yaml"
    shipped = train(load_config(config, ["export.formats=[]"]), folder / "shipped", verbose=0)
    started = time.time()
    space = read_space(ROOT / "configs" / "spaces" / f"{name}.yaml", config)
    study, result = tune(config, space, trials, folder / "tune", say=lambda _: None)
    return {
        "name": name,
        "trials": f"{trials} ({sum(t.state.name == 'PRUNED' for t in study.trials)} pruned)",
        "seconds": time.time() - started,
        "shipped val": shipped.metrics["val"]["mae"],
        "tuned val": study.best_value,
        "shipped test": shipped.metrics["test"]["mae"],
        "tuned test": result.metrics["test"]["mae"],
        "naive test": shipped.metrics["baselines"]["seasonal_naive"]["mae"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"configs (default: all of {', '.join(TRIALS)})")
    parser.add_argument("--trials", type=int, help="trials per search (default: the table's)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(TRIALS))
    if unknown:
        parser.error(f"{unknown[0]}: no space file; expected one of {', '.join(TRIALS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names or TRIALS:
            rows.append(compare(name, args.trials or TRIALS[name], Path(tmp) / name))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        "| config | trials | search time | val MAE shipped | val MAE tuned | "
        "test MAE shipped | test MAE tuned | test MAE seasonal naive |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        minutes, seconds = divmod(round(r["seconds"]), 60)
        print(
            f"| {r['name']} | {r['trials']} | {minutes} min {seconds:02d} s | "
            f"{r['shipped val']:.3g} | {r['tuned val']:.3g} | {r['shipped test']:.3g} | "
            f"{r['tuned test']:.3g} | {r['naive test']:.3g} |"
        )


if __name__ == "__main__":
    main()
