"""Whole runs, start to end: `lstm-train` against the article's bare script on the same series
and epochs, side by side, and where `lstm-train`'s seconds go (its fixed costs).

    .venv/bin/python bench/whole_run.py                 # 20,000 points, 5 epochs, 3 rounds
    .venv/bin/python bench/whole_run.py --config configs/article.yaml --profile-only

Each side runs in a fresh process, timed from its start to its exit (Python's start-up and the
imports included). The bare script is the article's: import TensorFlow, window the series in
numpy, scale it, `LSTM(50, return_sequences=True) -> LSTM(50) -> Dense(1)`, `model.fit` with
the validation windows, then the test windows' forecasts and their MAE. `lstm-train` (`--quiet`)
does that and more: baselines, metrics.json, plots, the gates plot, model.keras and the
config's exports. Its profile times each phase inside the same kind of process: the seconds
before `main` runs (interpreter, imports), TensorFlow's import, the data, the model, each
epoch (the first one traces and optimizes the training graph), evaluation, plots, saving and
export; "other" is what no phase names (Keras's fit around the epochs, the run directory).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SINE = """
name: sine
seed: 0
data:
  source: sine
  sine: {{length: {points}, period: 44.0, noise: 0.1}}
  window: {{input_width: 30, horizon: 1}}
  split: {{train: 0.7, val: 0.15, test: 0.15}}
model:
  layers:
    - {{type: lstm, units: 50, return_sequences: true}}
    - {{type: lstm, units: 50}}
    - {{type: dense, units: 1}}
training:
  epochs: {epochs}
  batch_size: 64
"""

# Runs lstm-train's main in this process, timing the phases the profile names. argv: the
# lstm-train arguments; prints one JSON line of {phase: seconds}.
PROFILED = r"""
import json, sys, time
started = time.perf_counter()
import keras  # noqa: F401  (TensorFlow's import, timed on its own)
imported = time.perf_counter()
from lstm_app import pipeline
from lstm_app.cli import lstm_train
from lstm_app.training import trainer

seconds = {"TensorFlow and Keras import": imported - started}

def timed(module, name, phase):
    inner = getattr(module, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - start
    setattr(module, name, wrapper)

sys.path.insert(0, "bench")
from speed import EpochTimes  # the epochs' wall times

epochs = EpochTimes()
fit_model = trainer.fit_model
def fit_with_timer(cfg, data, callbacks, *args, **kwargs):
    start = time.perf_counter()
    try:
        return fit_model(cfg, data, [*callbacks, epochs], *args, **kwargs)
    finally:
        seconds["fit"] = time.perf_counter() - start
trainer.fit_model = fit_with_timer
timed(pipeline, "prepare_data", "data")
timed(trainer, "new_model", "model")
timed(pipeline, "forecast", "evaluation (forecasts)")
timed(pipeline, "metrics_report", "evaluation (metrics, baselines)")
timed(pipeline, "plot_loss", "plots")
timed(pipeline, "plot_forecast", "plots")
timed(pipeline, "plot_gates", "plots")
timed(pipeline, "trace_gates", "gates (traced)")
timed(pipeline, "_write_model_metrics_export", "model.keras, metrics.json, export")
start = time.perf_counter()
code = lstm_train.main(sys.argv[1:])
seconds["main"] = time.perf_counter() - start
times = epochs.times
seconds["first epoch"] = times[0] if times else 0.0
seconds["later epochs"] = sum(times[1:])
seconds["fit, outside the epochs"] = seconds.pop("fit", 0.0) - sum(times)
print(json.dumps({"seconds": seconds, "epochs": len(times)}))
sys.exit(code)
"""

# The article's script on the same sine series (the same generator as `data.source: sine`).
BARE = r"""
import sys, time
import numpy as np
import keras

points, epochs = int(sys.argv[1]), int(sys.argv[2])
t = np.arange(points)  # data.source: sine, seed 0
noise = np.random.default_rng(0).standard_normal(points)
values = (np.sin(2 * np.pi * t / 44.0) + 0.1 * noise).astype("float32")
n_train, n_val = int(points * 0.7), int(points * 0.15)
train, val, test = values[:n_train], values[n_train:n_train + n_val], values[n_train + n_val:]
low, high = train.min(), train.max()

def windows(part, width=30):
    part = (part - low) / (high - low)
    x = np.lib.stride_tricks.sliding_window_view(part[:-1], width)[:, :, None]
    return x, part[width:, None]

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((30, 1)),
    keras.layers.LSTM(50, return_sequences=True),
    keras.layers.LSTM(50),
    keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mean_squared_error")
model.fit(*windows(train), validation_data=windows(val), epochs=epochs, batch_size=64, verbose=0)
x, y = windows(test)
predicted = model.predict(x, batch_size=64, verbose=0)
mae = float(np.mean(np.abs(predicted - y)) * (high - low))
print(f"test MAE {mae:.4f}")
"""


def timed_run(args: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of `python args...` in a fresh process, and its standard output."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args[:2]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, done.stdout


def ours(config: Path, tmp: Path, profile: bool) -> tuple[float, dict | None]:
    """`lstm-train --quiet --config config` into a new run directory: wall seconds, and with
    `profile` its phases (the run then goes through the PROFILED wrapper)."""
    run_dir = Path(tempfile.mkdtemp(dir=tmp)) / "run"
    arguments = ["--config", str(config), "--quiet", "--run-dir", str(run_dir)]
    if profile:
        wall, out = timed_run(["-c", PROFILED, *arguments], ROOT)
        return wall, json.loads(out.strip().splitlines()[-1])
    wall, _ = timed_run([str(Path(sys.executable).parent / "lstm-train"), *arguments], ROOT)
    return wall, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000, help="the sine series' length")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", type=Path, help="profile this config instead of the sine")
    parser.add_argument("--profile-only", action="store_true", help="no bare script, one run")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_gate_lstm import machine

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        config = args.config
        if config is None:
            config = tmp / "sine.yaml"
            config.write_text(SINE.format(points=args.points, epochs=args.epochs))
            print(
                f"{args.points:,}-point sine, window 30, batch 64, the article's model, "
                f"{args.epochs} epochs with validation"
            )
        else:
            config = config.resolve()
            print(f"config {config.name}")
        _, profile = ours(config, tmp, profile=True)
        print_profile(profile)
        if args.profile_only or args.config is not None:
            return
        walls = {"lstm-train": [], "bare script": []}
        for _ in range(args.rounds):
            walls["lstm-train"].append(ours(config, tmp, profile=False)[0])
            bare, out = timed_run(["-c", BARE, str(args.points), str(args.epochs)], ROOT)
            walls["bare script"].append(bare)
        ratios = [a / b for a, b in zip(walls["lstm-train"], walls["bare script"], strict=True)]
        print(f"\nwhole run, wall seconds from process start to exit, {args.rounds} rounds:")
        for name, values in walls.items():
            print(f"  {name:<14}{statistics.median(values):>8.1f} s  ({_spread(values)})")
        print(
            f"  lstm-train / bare script: {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}..{max(ratios):.2f}); bare script's {out.strip()}"
        )


def print_profile(profile: dict) -> None:
    """The phases of one profiled run, in seconds, largest first."""
    seconds = dict(profile["seconds"])
    main = seconds.pop("main")
    before = seconds.pop("TensorFlow and Keras import")
    named = sum(seconds.values())
    print(f"\nlstm-train's phases ({profile['epochs']} epochs), seconds:")
    print(f"  {'TensorFlow and Keras import':<40}{before:>7.2f}")
    for name, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40}{value:>7.2f}")
    print(f"  {'other (run directory, checks, ...)':<40}{main - named:>7.2f}")
    print(f"  {'total (import + main)':<40}{before + main:>7.2f}")


def _spread(values) -> str:
    return " ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()
