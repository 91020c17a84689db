"""GateLSTM against keras.layers.LSTM on the article's model: training throughput and inference
latency, with and without XLA (`jit_compile`), measured side by side in one run.

    .venv/bin/python bench/bench_gate_lstm.py            # about two minutes on 2 CPU cores
    .venv/bin/python bench/bench_gate_lstm.py --repeats 7 --windows 8192

The model is the article's, LSTM(50, return_sequences=True) -> LSTM(50) -> Dense(1), on windows
of `--width` steps of one feature, batch 64, adam, mean squared error. Every measurement is
repeated and the median is printed; the configurations take turns within each repeat, so a
slow spell of a shared machine touches them all alike. Ratios compare figures of this run only.
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from lstm_app.models.layers import GateLSTM

LAYERS = {
    "builtin": lambda units, **kw: keras.layers.LSTM(units, **kw),
    "gate": lambda units, **kw: GateLSTM(units, **kw),
}


def machine() -> str:
    """The CPU, its cores and the library versions, for the report's header."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return (
        f"{cpu}, {os.cpu_count()} cores, {len(gpus)} GPU(s); Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, backend {keras.backend.backend()}"
    )


def article_model(kind: str) -> keras.Model:
    layer = LAYERS[kind]
    return keras.Sequential(
        [
            keras.Input((None, 1)),
            layer(50, return_sequences=True),
            layer(50),
            keras.layers.Dense(1),
        ]
    )


def training_rate(kind, jit, x, y, epochs) -> float:
    """Training windows per second of `model.fit`, after one warm-up epoch."""
    keras.utils.set_random_seed(0)
    model = article_model(kind)
    model.compile(optimizer="adam", loss="mean_squared_error", jit_compile=jit)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # traces and compiles
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return epochs * len(x) / (time.perf_counter() - start)


def latency_ms(kind, jit, batch, width, calls) -> float:
    """Median milliseconds of one forward pass on `batch` windows, through a tf.function."""
    model = article_model(kind)
    forward = tf.function(lambda x: model(x, training=False), jit_compile=jit)
    x = tf.constant(np.random.default_rng(0).normal(size=(batch, width, 1)), tf.float32)
    for _ in range(3):
        forward(x).numpy()  # traces and compiles
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        forward(x).numpy()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=30, help="time steps per window")
    parser.add_argument("--windows", type=int, default=4096, help="training windows per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure")
    parser.add_argument("--calls", type=int, default=30, help="timed calls per latency figure")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.windows, args.width, 1)).astype("float32")
    y = rng.normal(size=(args.windows, 1)).astype("float32")
    configs = [(kind, jit) for jit in (False, True) for kind in LAYERS]
    train, lat1, lat1024 = ({c: [] for c in configs} for _ in range(3))
    for _ in range(args.repeats):
        for config in configs:
            train[config].append(training_rate(*config, x, y, args.epochs))
            lat1[config].append(latency_ms(*config, 1, args.width, args.calls))
            lat1024[config].append(latency_ms(*config, 1024, args.width, args.calls // 3 + 1))

    print(f"machine: {machine()}")
    print(f"article model, window {args.width}, batch 64 for training; median of {args.repeats}")
    print(f"{'layer':<9}{'jit':<6}{'train windows/s':>17}{'batch-1 ms':>12}{'batch-1024 ms':>15}")
    median = {
        name: {c: statistics.median(v) for c, v in d.items()}
        for name, d in (("train", train), ("lat1", lat1), ("lat1024", lat1024))
    }
    for kind, jit in configs:
        c = (kind, jit)
        print(
            f"{kind:<9}{jit!s:<6}{median['train'][c]:>17,.0f}{median['lat1'][c]:>12.2f}"
            f"{median['lat1024'][c]:>15.1f}"
        )
    print("ratios, gate / builtin (throughput: higher is better; latency: lower is better):")
    for jit in (False, True):
        g, b = ("gate", jit), ("builtin", jit)
        print(
            f"  jit={jit!s:<5}  training x{median['train'][g] / median['train'][b]:.2f}   "
            f"batch-1 latency x{median['lat1'][g] / median['lat1'][b]:.2f}   "
            f"batch-1024 latency x{median['lat1024'][g] / median['lat1024'][b]:.2f}"
        )
    base = ("builtin", False)
    print(
        "against the built-in layer without jit (training throughput): "
        + ", ".join(
            f"{k}{' +jit' if j else ''} x{median['train'][(k, j)] / median['train'][base]:.2f}"
            for k, j in configs
        )
    )


if __name__ == "__main__":
    main()
