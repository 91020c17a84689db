"""Training speed of the article's model: lstm-train's own training path against the article's
bare `model.fit`, with each speed option, GateLSTM and PyTorch, plus the memory of windowing a
long series and how throughput scales with window length and batch size.

    .venv/bin/python bench/speed.py              # about ten minutes on 2 CPU cores
    .venv/bin/python bench/speed.py --quick      # a smoke run: fewer windows, one repeat

The reference is the article's script: `LSTM(50, return_sequences=True) -> LSTM(50) ->
Dense(1)`, adam, mean squared error, `model.fit` on pre-windowed numpy arrays (window 30, one
feature, batch 64). "ours" is `lstm_app.fit.fit_model` with `lstm-train`'s callbacks and resume
points, on the same number of windows cut from a series by `data.make_dataset`. Each figure is
the median over `--repeats` measurements (each: the median epoch time after a warm-up epoch);
within a repeat the variants take turns, so a slow spell of a shared machine touches them all
alike. Ratios compare figures of this run only. Runs unchanged on a GPU machine, and says
whether the built-in layer can take the cuDNN path there.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from bench_gate_lstm import machine  # (bench/ is on the path when run as a script)

from lstm_app.config import config_from_dict
from lstm_app.data import prepare_data
from lstm_app.fit import fit_model, make_callbacks
from lstm_app.layers import GateLSTM
from lstm_app.resume import ResumePoint

UNITS = 50


class EpochTimes(keras.callbacks.Callback):
    """Wall time of each epoch."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def rate(times, windows) -> float:
    """Windows per second from epoch times, the first (tracing, compiling) left out."""
    return windows / statistics.median(times[1:])


def series(n: int, seed: int = 0) -> np.ndarray:
    """A noisy sine of `n` points, float32."""
    rng = np.random.default_rng(seed)
    return (np.sin(np.arange(n) / 7) + 0.1 * rng.standard_normal(n)).astype("float32")


def numpy_windows(values: np.ndarray, width: int, count: int):
    """`(x (count, width, 1), y (count, 1))` cut from `values`, as the article's script does."""
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], width)[:count, :, None].copy()
    return x, values[width : width + count, None]


def bare_fit(
    layer: str,
    windows: int,
    width: int,
    batch: int,
    epochs: int,
    validation: bool = False,
    **compile_options,
):
    """The article's script: windows as numpy arrays, then `model.fit` (with `validation`,
    on val windows 15/70 as many as the train ones, as `lstm-train`'s split has). Windows per
    second of training."""
    x, y = numpy_windows(series(windows + width + 1), width, windows)
    val_windows = max(windows * 15 // 70, 1)
    val = numpy_windows(series(val_windows + width + 1, seed=1), width, val_windows)
    keras.utils.set_random_seed(0)
    kind = {"lstm": keras.layers.LSTM, "gate_lstm": GateLSTM}[layer]
    model = keras.Sequential(
        [
            keras.Input((width, 1)),
            kind(UNITS, return_sequences=True),
            kind(UNITS),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mean_squared_error", **compile_options)
    timer = EpochTimes()
    model.fit(
        x,
        y,
        batch_size=batch,
        epochs=epochs,
        verbose=0,
        callbacks=[timer],
        validation_data=val if validation else None,
    )
    return rate(timer.times, windows)


def ours(layer: str, windows: int, width: int, batch: int, epochs: int, **training_options):
    """`lstm-train`'s training path on a series cut into `windows` training windows."""
    # a train split (70%) of `windows` windows, and val and test splits of one window at least
    length = max(int((windows + width) / 0.7) + 3 * width, int((width + 1) / 0.15) + 10)
    raw = {
        "name": "speed",
        "data": {
            "source": "sine",
            "sine": {"length": length, "period": 44.0, "noise": 0.1},
            "window": {"input_width": width, "horizon": 1},
            "split": {"train": 0.7, "val": 0.15, "test": 0.15},
        },
        "model": {
            "layers": [
                {"type": layer, "units": UNITS, "return_sequences": True},
                {"type": layer, "units": UNITS},
                {"type": "dense", "units": 1},
            ]
        },
        "training": {"epochs": epochs, "batch_size": batch, **training_options},
    }
    cfg = config_from_dict(raw)
    data = prepare_data(cfg.data, cfg.seed)
    timer = EpochTimes()
    with tempfile.TemporaryDirectory() as run_dir:
        callbacks = make_callbacks(cfg.training.callbacks, Path(run_dir))
        callbacks += [ResumePoint(run_dir, list(callbacks)), timer]
        fit_model(cfg, data, callbacks, verbose=0)
    return rate(timer.times, data.splits["train"].n_windows)


def torch_fit(windows: int, width: int, batch: int, epochs: int):
    """The same model in plain PyTorch (`nn.LSTM`, two layers), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    x, y = (
        torch.from_numpy(a.copy())
        for a in numpy_windows(series(windows + width + 1), width, windows)
    )
    lstm = torch.nn.LSTM(1, UNITS, num_layers=2, batch_first=True)
    dense = torch.nn.Linear(UNITS, 1)
    optimizer = torch.optim.Adam([*lstm.parameters(), *dense.parameters()], lr=1e-3)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for i in range(0, windows, batch):
            optimizer.zero_grad()
            out, _ = lstm(x[i : i + batch])
            loss = torch.nn.functional.mse_loss(dense(out[:, -1]), y[i : i + batch])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return rate(times, windows)


WINDOWING = """
import os, sys, threading, time
from lstm_app.config import config_from_dict
from lstm_app.data import make_dataset, prepare_data
import tensorflow as tf  # its own memory is not the windowing's: measured from here

def resident():  # bytes in memory now
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

peak, running = [0], [True]
def watch():
    while running[0]:
        peak[0] = max(peak[0], resident())
        time.sleep(0.002)

n, width = int(sys.argv[1]), int(sys.argv[2])
raw = {"data": {"source": "sine", "sine": {"length": n}, "window": {"input_width": width}},
       "model": {"layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 1}]}}
before = resident()
threading.Thread(target=watch, daemon=True).start()
data = prepare_data(config_from_dict(raw).data)
for i, _ in enumerate(make_dataset(data.splits["train"], 1024, shuffle=True)):
    if i == 200:
        break
running[0] = False
time.sleep(0.01)
print(max(peak[0], resident()) - before, data.splits["train"].n_windows)
"""


def windowing_memory(n: int, width: int) -> tuple[int, int]:
    """Peak resident memory (bytes) added by preparing an `n`-point series and drawing 200
    shuffled batches from it, in a fresh process (sampled every 2 ms: Linux), and the number of
    training windows."""
    out = subprocess.run(
        [sys.executable, "-c", WINDOWING, str(n), str(width)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def medians(measure, variants: dict, repeats: int) -> dict:
    """`{name: median windows/s}`, the variants taking turns within each repeat."""
    figures = {name: [] for name in variants}
    for _ in range(repeats):
        for name, call in variants.items():
            figures[name].append(measure(call))
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=8192, help="training windows an epoch")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement (1 warm-up)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--points", type=int, default=10_000_000, help="series for the memory")
    parser.add_argument("--quick", action="store_true", help="2048 windows, 1 repeat, 1M points")
    args = parser.parse_args()
    if args.quick:
        args.windows, args.repeats, args.epochs, args.points = 2048, 1, 3, 1_000_000
    n, e = args.windows, args.epochs
    gpus = tf.config.list_physical_devices("GPU")
    print(f"machine: {machine()}")
    print(
        f"article model (LSTM {UNITS} -> LSTM {UNITS} -> Dense 1), window 30, batch 64, {n} "
        f"training windows an epoch; median of {args.repeats} repeats"
    )
    if gpus:
        print(
            "GPU: the built-in LSTM takes the cuDNN path with its defaults (tanh, sigmoid, no "
            "recurrent dropout, unroll false), as here; GateLSTM runs its own loop"
        )

    variants = {
        "bare fit, keras LSTM (the article)": lambda: bare_fit("lstm", n, 30, 64, e),
        "bare fit, keras LSTM, jit_compile": lambda: bare_fit(
            "lstm", n, 30, 64, e, jit_compile=True
        ),
        "bare fit + validation, keras LSTM": lambda: bare_fit("lstm", n, 30, 64, e, True),
        "ours, keras LSTM": lambda: ours("lstm", n, 30, 64, e),
        "ours, keras LSTM, jit_compile": lambda: ours("lstm", n, 30, 64, e, jit_compile=True),
        "ours, keras LSTM, jit + 16 steps/execution": lambda: ours(
            "lstm", n, 30, 64, e, jit_compile=True, steps_per_execution=16
        ),
        "ours, gate_lstm": lambda: ours("gate_lstm", n, 30, 64, e),
        "ours, gate_lstm, jit + 16 steps/execution": lambda: ours(
            "gate_lstm", n, 30, 64, e, jit_compile=True, steps_per_execution=16
        ),
    }
    figures = medians(lambda call: call(), variants, args.repeats)
    reference = figures["bare fit, keras LSTM (the article)"]
    torch_rate = torch_fit(n, 30, 64, e)
    print(f"\n{'training path':<46}{'windows/s':>11}{'vs article':>12}")
    for name, value in figures.items():
        print(f"{name:<46}{value:>11,.0f}{value / reference:>11.2f}x")
    if torch_rate is None:
        print(f"{'plain PyTorch nn.LSTM':<46}{'not installed (pip install torch==2.13.0)':>23}")
    else:
        print(f"{'plain PyTorch nn.LSTM':<46}{torch_rate:>11,.0f}{torch_rate / reference:>11.2f}x")
    plain, validated = figures["ours, keras LSTM"], figures["bare fit + validation, keras LSTM"]
    print(
        f"lstm-train's path against the bare fit, same model and batch: {plain / reference:.3f}x "
        f"({reference / plain - 1:+.1%} time); against the bare fit with the same validation "
        f"pass, i.e. its data pipeline and callbacks alone: {plain / validated:.3f}x "
        f"({validated / plain - 1:+.1%} time)"
    )

    used, count = windowing_memory(args.points, 30)
    size = args.points * 8
    print(
        f"\nwindowing {args.points:,} points (float64: {size / 1e6:.0f} MB) into {count:,} "
        f"training windows of 30, 200 shuffled batches of 1024: peak memory +{used / 1e6:.0f} MB "
        f"= {used / size:.1f}x the series (copied out, the windows would be "
        f"{30 * count * 4 / size:.0f}x)"
    )

    print(f"\nscaling, windows/s (ours, keras LSTM / bare fit), {max(n // 4, 512)} windows of...")
    batches = (32, 64, 256, 1024)
    print(f"{'width':>6}" + "".join(f"{f'batch {b}':>22}" for b in batches))
    for width in (30, 120, 480):
        cells = []
        for batch in batches:
            windows = max(n * 30 // width // 4, 2 * batch)
            a = ours("lstm", windows, width, batch, 3)
            b = bare_fit("lstm", windows, width, batch, 3)
            cells.append(f"{a:,.0f} / {b:,.0f}")
        print(f"{width:>6}" + "".join(f"{c:>22}" for c in cells))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(this process peaked at {peak:,.0f} MB)")


if __name__ == "__main__":
    main()
