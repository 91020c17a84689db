"""Training speed of the article's model: lstm-train's own training path against the article's
bare `model.fit`, with each speed option, GateLSTM and PyTorch, a 1,000-series panel against
one series, a profile of one training step, the memory of windowing a long series, and how
throughput scales with window length and batch.

    .venv/bin/python bench/speed.py              # about fifteen minutes on 2 CPU cores
    .venv/bin/python bench/speed.py --quick      # a smoke run: fewer windows, two rounds
    .venv/bin/python bench/speed.py --only PyTorch "fused + jit"   # some rows of the table

The reference is the article's script: `LSTM(50, return_sequences=True) -> LSTM(50) ->
Dense(1)`, adam, mean squared error, `model.fit` on pre-windowed numpy arrays (window 30, one
feature, batch 64). "ours" is `lstm_app.training.fit.fit_model` with `lstm-train`'s callbacks
and resume points, on the same number of windows cut from a series by
`data.windows.make_dataset`; "default path" is what `lstm-train` runs with the config's defaults
(`fused: true`, `jit_compile: auto`, `steps_per_execution: auto`, which for these short fits
means 8 steps an execution and no XLA), with its progress bar written into a drained pipe (as
`lstm-train | tee log` shows it). Each measurement is a fit of `--epochs` epochs, timed by the
median epoch after a warm-up epoch; the variants take turns in `--rounds` rounds, and each
ratio is the median of the ratios to the reference *measured in the same round* (a shared
machine's slow spells, which here change throughput by 1.5x within minutes, then touch both
sides of a ratio alike). Runs unchanged on a GPU machine, and says whether the built-in layer
can take the cuDNN path there.
"""

import argparse
import contextlib
import gc
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from bench_gate_lstm import machine  # (bench/ is on the path when run as a script)

from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data
from lstm_app.models.layers import GateLSTM
from lstm_app.training.fit import fit_model, make_callbacks
from lstm_app.training.fused import MAX_STEPS
from lstm_app.training.resume import ResumePoint

UNITS = 50


@contextlib.contextmanager
def stdout_into_a_pipe():
    """sys.stdout (and file descriptor 1) written into a pipe, drained by a thread: what a
    progress bar costs when its output goes to `lstm-train | tee` or a log collector."""
    read, write = os.pipe()
    saved = os.dup(1)

    def drain():
        with os.fdopen(read, "rb") as pipe:
            while pipe.read(65536):
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    sys.stdout.flush()
    os.dup2(write, 1)
    os.close(write)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        reader.join(timeout=10)


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


def ours(
    layer: str, windows: int, width: int, batch: int, epochs: int, verbose=0, **training_options
):
    """`lstm-train`'s training path on a series cut into `windows` training windows (`verbose`:
    Keras's fit verbosity, 0 as `lstm-train --quiet`)."""
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
        fit_model(cfg, data, callbacks, verbose=verbose)
    return rate(timer.times, data.splits["train"].n_windows)


def panel_csv(path: Path, series: int, length: int) -> Path:
    """A long-format CSV of `series` noisy sines of `length` steps (`id`, `value`), each with its
    own phase and level."""
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(length)
    values = [
        10 * rng.random() + np.sin(t / 7 + 6.3 * rng.random()) + 0.1 * rng.standard_normal(length)
        for _ in range(series)
    ]
    ids = np.repeat([f"s{i}" for i in range(series)], length)
    pd.DataFrame({"id": ids, "value": np.concatenate(values)}).to_csv(path, index=False)
    return path


def panel_or_single(csv: Path | None, windows: int, epochs: int) -> float:
    """Training windows/s of lstm-train's default path (quiet) on the panel of `csv` (its
    last 2 steps of each series for test, the 2 before for val), or with `csv` None on one
    sine series cut into `windows` training windows; window 30, batch 64, the article's model."""
    if csv is None:
        return ours("lstm", windows, 30, 64, epochs)
    raw = {
        "name": "panel",
        "data": {
            "source": "csv",
            "path": str(csv),
            "series_id": "id",
            "target": "value",
            "features": ["value"],
            "window": {"input_width": 30, "horizon": 1},
            "split": {"val_last": 2, "test_last": 2},
            "scaler": "series",
        },
        "model": {
            "layers": [
                {"type": "lstm", "units": UNITS, "return_sequences": True},
                {"type": "lstm", "units": UNITS},
                {"type": "dense", "units": 1},
            ]
        },
        "training": {"epochs": epochs, "batch_size": 64},
    }
    from lstm_app.data.panel import joined_data, prepare_panel

    cfg = config_from_dict(raw)
    data = joined_data(prepare_panel(cfg.data, cfg.seed))
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
from lstm_app.config.load import config_from_dict
from lstm_app.data.prepare import prepare_data
from lstm_app.data.windows import make_dataset
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


def rounds_of(variants: dict, rounds: int) -> dict:
    """`{name: [figure of each round]}`: every round measures each variant once, in turn."""
    figures = {name: [] for name in variants}
    for _ in range(rounds):
        for name, measure in variants.items():
            keras.backend.clear_session()  # the previous models' graphs go, and are collected
            gc.collect()  # now rather than while the next one is timed
            figures[name].append(measure())
    return figures


def ratio_of(figures: dict, name: str, reference: str) -> tuple[float, float, float]:
    """`(median, lowest, highest)` over the rounds of `name`'s figure divided by `reference`'s
    of the same round."""
    ratios = [a / b for a, b in zip(figures[name], figures[reference], strict=True)]
    return statistics.median(ratios), *_span(ratios)


def side_by_side(variants: dict, rounds: int, reference: str, figures: dict | None = None) -> dict:
    """`{name: (windows/s, ratio, lowest ratio, highest ratio)}`: `rounds_of` the variants (or
    the `figures` already measured); a ratio divides a variant's figure by the reference's of the
    same round; the figures and ratios are medians over the rounds."""
    figures = figures if figures is not None else rounds_of(variants, rounds)
    return {
        name: (statistics.median(values), *ratio_of(figures, name, reference))
        for name, values in figures.items()
    }


def _span(values):
    return min(values), max(values)


def step_profile(batch: int = 64, width: int = 30, calls: int = 40, rounds: int = 5) -> dict:
    """Milliseconds per batch of the article's two LSTM layers alone: forward, and forward with
    the backward pass (the gradient by every weight), built-in vs fused, with and without XLA;
    medians over `rounds` rounds of `calls` calls, the variants taking turns."""
    from lstm_app.training.fused import lstm_stack

    keras.utils.set_random_seed(0)
    x = tf.constant(series(batch * width).reshape(batch, width, 1))
    layers = [keras.layers.LSTM(UNITS, return_sequences=True), keras.layers.LSTM(UNITS)]
    layers[1](layers[0](x))
    weights = [w for layer in layers for w in layer.trainable_weights]

    def builtin():
        return layers[1](layers[0](x))

    def fused():
        return lstm_stack(x, [tf.identity(w) for w in weights])

    def with_gradient(forward):
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(forward())
            return tape.gradient(loss, weights)

        return step

    functions = {}
    for jit in (False, True):
        for name, forward in (("built-in", builtin), ("fused", fused)):
            xla = " + XLA" if jit else ""
            functions[f"{name}{xla}, forward"] = tf.function(forward, jit_compile=jit)
            functions[f"{name}{xla}, forward + backward"] = tf.function(
                with_gradient(forward), jit_compile=jit
            )
    for function in functions.values():
        function()  # trace, compile
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(calls):
                function()
            times[name].append((time.perf_counter() - start) / calls * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def print_panel_against_one_series(rounds: int, epochs: int, series: int = 1000) -> None:
    """Training windows/s of the default path on a panel of `series` series against one series
    cut into as many training windows, side by side in `rounds` rounds."""
    length = 44  # 44 - 4 held out - 30 + 1: 10 training windows a series (and 2 val windows:
    # 2,000 in all, about the one series' 15 % split)
    with tempfile.TemporaryDirectory() as folder:
        csv = panel_csv(Path(folder) / "panel.csv", series, length)
        panel = {
            "one series": lambda: panel_or_single(None, series * 10, epochs),
            f"{series:,} series": lambda: panel_or_single(csv, series * 10, epochs),
        }
        compared = side_by_side(panel, rounds, "one series")
    print(
        f"\npanel against one series, the same {series * 10:,} training windows an epoch "
        f"(window 30, batch 64, default path, quiet), medians of {rounds} rounds:"
    )
    for name, (value, ratio, low, high) in compared.items():
        print(f"  {name:<14}{value:>9,.0f} windows/s  {ratio:.2f}x ({low:.2f}..{high:.2f})")


REFERENCE = "bare fit, keras LSTM (the article)"
VALIDATED = "bare fit + validation, keras LSTM"
DEFAULT = "ours, default path (progress bar into a pipe)"
TORCH = "plain PyTorch nn.LSTM"


def with_progress_bar(measure):
    """`measure()` with stdout into a pipe (a progress bar's output, drained)."""
    with stdout_into_a_pipe():
        return measure()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=4096, help="training windows an epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement (1 warm-up)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of side-by-side measures")
    parser.add_argument("--points", type=int, default=10_000_000, help="series for the memory")
    parser.add_argument("--quick", action="store_true", help="1024 windows, 2 rounds, 1M points")
    parser.add_argument("--panel", action="store_true", help="the panel against one series alone")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="TEXT",
        help="the training paths whose name holds a TEXT (and the reference); then the table alone",
    )
    args = parser.parse_args()
    if args.quick:
        args.windows, args.rounds, args.epochs, args.points = 1024, 2, 3, 1_000_000
    n, e = args.windows, args.epochs
    if args.panel:
        print(f"machine: {machine()}")
        print_panel_against_one_series(args.rounds, e)
        return
    gpus = tf.config.list_physical_devices("GPU")
    print(f"machine: {machine()}")
    print(
        f"article model (LSTM {UNITS} -> LSTM {UNITS} -> Dense 1), window 30, batch 64, {n} "
        f"training windows an epoch; medians of {args.rounds} rounds"
    )
    if gpus:
        print(
            "GPU: the built-in LSTM takes the cuDNN path with its defaults (tanh, sigmoid, no "
            "recurrent dropout, unroll false), as here; GateLSTM runs its own loop; "
            "training.fused applies on CPUs only, so the fused rows run the plain layers"
        )

    plain = dict(fused=False, jit_compile=False, steps_per_execution=1)
    variants = {
        REFERENCE: lambda: bare_fit("lstm", n, 30, 64, e),
        VALIDATED: lambda: bare_fit("lstm", n, 30, 64, e, True),
        "bare fit, keras LSTM, jit_compile": lambda: bare_fit(
            "lstm", n, 30, 64, e, jit_compile=True
        ),
        DEFAULT: lambda: with_progress_bar(lambda: ours("lstm", n, 30, 64, e, verbose=1)),
        "ours, default path, --quiet": lambda: ours("lstm", n, 30, 64, e),
        "ours, plain (not fused, 1 step/exec, no XLA)": lambda: ours("lstm", n, 30, 64, e, **plain),
        "ours, fused, 1 step/exec, no XLA": lambda: ours(
            "lstm", n, 30, 64, e, fused=True, jit_compile=False, steps_per_execution=1
        ),
        "ours, fused + jit + 8 steps/exec": lambda: ours(
            "lstm", n, 30, 64, e, fused=True, jit_compile=True, steps_per_execution=8
        ),
        "ours, gate_lstm, plain": lambda: ours("gate_lstm", n, 30, 64, e, **plain),
        "ours, gate_lstm, default path, --quiet": lambda: ours("gate_lstm", n, 30, 64, e),
    }
    if importlib.util.find_spec("torch") is not None:
        variants[TORCH] = lambda: torch_fit(n, 30, 64, e)
    if args.only:
        variants = {
            name: call
            for name, call in variants.items()
            if name == REFERENCE or any(text in name for text in args.only)
        }
    measured = rounds_of(variants, args.rounds)
    figures = side_by_side(variants, args.rounds, REFERENCE, measured)
    print(f"\n{'training path':<50}{'windows/s':>11}{'vs article':>12}{'(lowest..highest)':>19}")
    for name, (value, ratio, low, high) in figures.items():
        print(f"{name:<50}{value:>11,.0f}{ratio:>11.2f}x{f'({low:.2f}..{high:.2f})':>19}")
    if TORCH not in figures:
        print(f"{TORCH:<50}{'not installed (pip install torch==2.13.0)':>42}")
    for other, goal in ((VALIDATED, 2.0), (TORCH, 1.2)):
        if DEFAULT in measured and other in measured:
            ratio, low, high = ratio_of(measured, DEFAULT, other)
            verdict = "in every round" if low >= goal else f"not in every round (lowest {low:.2f}x)"
            print(
                f"default path against {other}: {ratio:.2f}x ({low:.2f}..{high:.2f}), same round;"
                f" goal >= {goal}x {verdict}"
            )
    if args.only:
        return
    plain = figures["ours, plain (not fused, 1 step/exec, no XLA)"][1]
    validated = figures[VALIDATED][1]
    print(
        f"lstm-train's plain path against the bare fit with the same validation pass, i.e. its "
        f"data pipeline and callbacks alone: {plain / validated:.3f}x "
        f"({validated / plain - 1:+.1%} time)"
    )

    print_panel_against_one_series(args.rounds, e)

    print("\none training step of the two LSTM layers alone (batch 64, window 30), ms per batch:")
    for name, ms in step_profile().items():
        print(f"  {name:<40}{ms:>8.2f}")

    used, count = windowing_memory(args.points, 30)
    size = args.points * 8
    print(
        f"\nwindowing {args.points:,} points (float64: {size / 1e6:.0f} MB) into {count:,} "
        f"training windows of 30, 200 shuffled batches of 1024: peak memory +{used / 1e6:.0f} MB "
        f"= {used / size:.1f}x the series (copied out, the windows would be "
        f"{30 * count * 4 / size:.0f}x)"
    )

    print(
        f"\nscaling, windows/s (ours, keras LSTM, fused / bare fit), {max(n // 2, 512)} windows "
        f"of 30 steps or as many steps in all; windows over {MAX_STEPS} steps are not fused"
    )
    batches = (32, 64, 256, 1024)
    print(f"{'width':>6}" + "".join(f"{f'batch {b}':>22}" for b in batches))
    for width in (30, 120, 480):
        cells = []
        for batch in batches:
            windows = max(n * 30 // width // 2, 2 * batch)
            a = ours("lstm", windows, width, batch, 3, fused=True)
            b = bare_fit("lstm", windows, width, batch, 3)
            cells.append(f"{a:,.0f} / {b:,.0f}")
        print(f"{width:>6}" + "".join(f"{c:>22}" for c in cells))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(this process peaked at {peak:,.0f} MB)")


if __name__ == "__main__":
    main()
