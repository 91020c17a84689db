"""Choose a shipped config's settings on the validation split only, and print the evidence.

    .venv/bin/python bench/tune_on_validation.py article        # or temperatures, sunspots,
    .venv/bin/python bench/tune_on_validation.py --list          #    pollution

For the named config, trains it once per candidate (a set of `--set` overrides, listed below)
and prints each candidate's validation MAE and MASE, marking the lowest MAE. Test metrics are
never printed: the choice must not see the test split. The shipped config holds the winner.
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lstm_app.config.load import load_config
from lstm_app.pipeline import train

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

# config -> {candidate name: overrides}; every candidate trains with the config's own model
# and training settings unless an override says otherwise.
CANDIDATES = {
    "article": {
        "levels": ["data.transforms=[]"],
        "log": ["data.transforms=[log]"],
        "diff": ["data.transforms=[diff]"],
        "log, diff": ["data.transforms=[log, diff]"],
        "log, seasonal_diff": ["data.transforms=[log, seasonal_diff]"],
        "log, diff, seasonal_diff": ["data.transforms=[log, diff, seasonal_diff]"],
    },
    "temperatures": {
        "levels, 30 days": ["data.transforms=[]", "data.window.input_width=30"],
        "levels, 60 days": ["data.transforms=[]", "data.window.input_width=60"],
        "diff, 30 days": ["data.transforms=[diff]", "data.window.input_width=30"],
        "diff, 60 days": ["data.transforms=[diff]", "data.window.input_width=60"],
    },
    "sunspots": {
        "levels, 24 months": ["data.transforms=[]", "data.window.input_width=24"],
        "levels, 60 months": ["data.transforms=[]", "data.window.input_width=60"],
        "diff, 24 months": ["data.transforms=[diff]", "data.window.input_width=24"],
        "diff, 60 months": ["data.transforms=[diff]", "data.window.input_width=60"],
    },
    "pollution": {
        "mse, 24 hours": ["training.loss=mean_squared_error", "data.window.input_width=24"],
        "mae, 24 hours": ["training.loss=mean_absolute_error", "data.window.input_width=24"],
        "mae, 48 hours": ["training.loss=mean_absolute_error", "data.window.input_width=48"],
        "mae, diff, 24 hours": [
            "training.loss=mean_absolute_error",
            "data.window.input_width=24",
            "data.transforms=[diff]",
        ],
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", choices=sorted(CANDIDATES))
    parser.add_argument("--list", action="store_true", help="list the candidates")
    args = parser.parse_args()
    if args.list or not args.config:
        for name, candidates in CANDIDATES.items():
            print(f"{name}: " + "; ".join(candidates))
        return
    path = CONFIGS / f"{args.config}.yaml"
    print(f"{path.name}: validation metrics of each candidate (test metrics are not looked at)")
    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in CANDIDATES[args.config].items():
            cfg = load_config(path, overrides)
            run_dir = Path(tmp) / "run"
            run_dir.mkdir()
            started = time.time()
            val = train(cfg, run_dir, verbose=0).metrics["val"]
            shutil.rmtree(run_dir)
            scores[name] = val["mae"]
            mase = "-" if val["mase"] is None else f"{val['mase']:.3f}"
            print(
                f"  {name:<28} val MAE {val['mae']:10.4g}   val MASE {mase:>7}   "
                f"({time.time() - started:.0f} s)",
                flush=True,
            )
    best = min(scores, key=scores.get)
    print(f"lowest validation MAE: {best} ({' '.join(CANDIDATES[args.config][best])})")


if __name__ == "__main__":
    main()
