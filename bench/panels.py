"""Every development panel x {the shipped recipe for its frequency, seasonal naive, ETS, Theta}:
mean MASE and mean sMAPE over the series, and the time each took. Each panel runs its shipped
config (`PANELS`): the recipe of its frequency (configs/panel_monthly.yaml,
panel_quarterly.yaml) with only its data keys changed.

    .venv/bin/python bench/panels.py                        # test blocks (what the README shows)
    .venv/bin/python bench/panels.py --split val            # validation blocks: choose here
    .venv/bin/python bench/panels.py --split val --panels m1_quarterly \\
        --set training.loss=mean_squared_error              # one idea, on validation

`--split val` drops each series' test block before anything is read, so the run's last block
is the validation block: settings are chosen there and never see a test block. `--split test`
trains the recipe as shipped (its own validation block for early stopping) and scores the test
blocks. The statistical baselines are the run's own (`evaluation.baselines`: statsforecast's
AutoETS and AutoTheta, fitted on each series up to the block's origin), scored on the same
series and windows as the model. NeuralForecast's LSTM and NHITS join the table when
`neuralforecast` is importable (not a dependency).
"""

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

# development panel: its shipped config, the recipe of its frequency with its data keys
PANELS = {
    "m1_monthly": "panel_monthly",
    "aus_livestock": "livestock",
    "m1_quarterly": "panel_quarterly",
    "tourism_au_quarterly": "tourism",
}
SHOWN = ("model", "seasonal_naive", "ets", "theta")


def config_path(panel: str) -> Path:
    return ROOT / "configs" / f"{PANELS[panel]}.yaml"


def without_test_blocks(panel: str, folder: Path) -> Path:
    """A copy of the panel's CSV without each series' last `test_last` rows (in file order),
    so that its last block is the validation block."""
    from lstm_app.config.load import load_config

    cfg = load_config(config_path(panel))
    frame = pd.read_csv(cfg.data.path)
    ids = cfg.data.series_id
    ids = [ids] if isinstance(ids, str) else list(ids)
    position = frame.groupby(ids, sort=False).cumcount(ascending=False)
    path = folder / f"{panel}_val.csv"
    frame[position >= cfg.data.split.test_last].to_csv(path, index=False)
    return path


def run_panel(panel: str, split: str, extra, folder: Path) -> dict:
    """Trains the recipe on `panel` and returns `{name: (mean MASE, mean sMAPE)}` for the model
    and the baselines over the series all of them scored, with the series count and seconds."""
    from lstm_app.config.load import load_config
    from lstm_app.pipeline import train

    overrides = [f"data.path={without_test_blocks(panel, folder)}"] if split == "val" else []
    cfg = load_config(config_path(panel), [*overrides, *extra])
    started = time.time()
    result = train(cfg, folder / f"{panel}-{split}", verbose=0)
    seconds = time.time() - started
    table = pd.read_csv(result.run.path / "series_metrics.csv")
    run = [name for name in SHOWN if table[f"{name}_mase"].notna().any()]  # the baselines run
    both = table[[f"{name}_{m}" for name in run for m in ("mase", "smape")]].dropna()
    scores = {
        name: (both[f"{name}_mase"].mean(), both[f"{name}_smape"].mean())
        if name in run
        else (float("nan"), float("nan"))
        for name in SHOWN
    }
    left_out = len(result.metrics["series"]["left_out"])
    return {"scores": scores, "series": len(both), "left_out": left_out, "seconds": seconds}


def machine() -> str:
    import keras
    import statsforecast
    import tensorflow as tf

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"statsforecast {statsforecast.__version__}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--panels", nargs="+", choices=list(PANELS), default=list(PANELS))
    parser.add_argument("--set", action="append", default=[], help="one more override")
    args = parser.parse_args(argv)
    print(f"bench/panels.py --split {args.split} {' '.join(sys.argv[1:])}")
    print(f"machine: {machine()}")
    print(
        "| panel | series | lstm-app MASE | sMAPE % | seasonal naive MASE | sMAPE % | "
        "ETS MASE | sMAPE % | Theta MASE | sMAPE % | lstm-app run (s) |"
    )
    print("| --- | ---: |" + " ---: |" * 9)
    with tempfile.TemporaryDirectory() as tmp:
        for panel in args.panels:
            found = run_panel(panel, args.split, args.set, Path(tmp))
            cells = " | ".join(
                f"{mase:.3f} | {smape:.2f}" for mase, smape in found["scores"].values()
            )
            series = f"{found['series']}" + (
                f" ({found['left_out']} left out)" if found["left_out"] else ""
            )
            print(f"| {panel} | {series} | {cells} | {found['seconds']:.0f} |", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"peak resident memory of the whole bench: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
