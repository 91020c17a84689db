"""Prediction latency of the article's exported model in every format, side by side.

    .venv/bin/python bench/bench_predict.py               # about a minute on 2 CPU cores

Trains configs/article.yaml briefly (the weights do not change the arithmetic), exports it to
the four formats, and times one forecast of a batch of 1 and of 1,024 raw windows through:
Keras `model.predict`, a direct eager call `model(x)`, the same call in a `tf.function` (with
and without XLA), the SavedModel's `serve` signature, onnxruntime and ai-edge-litert. Each
figure is the median of many calls, after warm-up; ratios are to `model.predict` in this run.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from lstm_app.config.load import load_config
from lstm_app.pipeline import train
from lstm_app.runs.rundir import write_json
from lstm_app.serving.exporter import export_run
from lstm_app.serving.predict import load_forecaster

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "article.yaml"


def median_ms(call, x, calls: int) -> float:
    for _ in range(3):
        call(x)  # warm up: traces, compiles, allocates
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="timed calls per batch-1 figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        train(load_config(CONFIG, ["training.epochs=5"]), run_dir, verbose=0)
        write_json(run_dir / "run.json", {"status": "done"})  # as lstm-train leaves it
        out = export_run(run_dir, ["keras", "saved_model", "onnx", "tflite"])
        forecasters = {
            f: load_forecaster(out / a)
            for f, a in (
                ("keras", "model.keras"),
                ("saved_model", "saved_model"),
                ("onnx", "model.onnx"),
                ("tflite", "model.tflite"),
            )
        }
        model = keras.models.load_model(out / "model.keras")
        rows, inputs = forecasters["keras"].spec.rows, len(forecasters["keras"].spec.inputs)
        rng = np.random.default_rng(0)
        base = 300 + 100 * rng.random((1024, rows, inputs))
        graph = tf.function(lambda x: model(x, training=False))
        xla = tf.function(lambda x: model(x, training=False), jit_compile=True)
        paths = {
            "keras model.predict": lambda x: model.predict(x, verbose=0),
            "keras direct call (eager)": lambda x: np.asarray(model(x, training=False)),
            "keras call in tf.function": lambda x: graph(x).numpy(),
            "keras call in tf.function, XLA": lambda x: xla(x).numpy(),
            "SavedModel serve (XLA)": forecasters["saved_model"].run,
            "onnxruntime": forecasters["onnx"].run,
            "ai-edge-litert (TFLite)": forecasters["tflite"].run,
        }
        figures = {}
        for batch, calls in ((1, args.calls), (1024, max(args.calls // 10, 5))):
            x = np.ascontiguousarray(base[:batch], dtype=np.float32)
            for name, call in paths.items():
                figures[name, batch] = median_ms(call, x, calls if "eager" not in name else 10)
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"article model exported from configs/article.yaml: raw windows of {rows} rows")
    print(f"{'path':<34}{'batch 1 ms':>12}{'x predict':>11}{'batch 1024 ms':>15}{'x predict':>11}")
    reference = "keras model.predict"
    for name in paths:
        one, many = figures[name, 1], figures[name, 1024]
        print(
            f"{name:<34}{one:>12.3f}{figures[reference, 1] / one:>11.1f}"
            f"{many:>15.2f}{figures[reference, 1024] / many:>11.1f}"
        )


if __name__ == "__main__":
    main()
