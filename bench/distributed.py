"""Training throughput under tf.distribute: the article's model on one device against
`training.distribute.strategy: mirrored` over 2 replicas, measured side by side.

    .venv/bin/python bench/distributed.py            # about five minutes on 2 CPU cores
    .venv/bin/python bench/distributed.py --rounds 1 --epochs 3    # a smoke run

On a CPU the machine is split into 2 logical devices (`--replicas`), so the 2 replicas share
the same cores: expect no speed-up, only the strategy's overhead, which is what this reports.
On a GPU machine, the replicas are its GPUs (as many as `--replicas`, when it has them).
Rows: one device with the fused CPU path (lstm-train's default), one device unfused (what a
strategy trains: a like-for-like baseline), and mirrored. Each is a fit of `--epochs` epochs,
timed by the median epoch after the first (which traces the graphs); the variants take turns
in `--rounds` rounds, and each ratio is the median of the ratios measured in the same round.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf


def split_cpu(replicas: int) -> list[str]:
    """The devices replicas run on: the GPUs, else `replicas` logical CPU devices (set before
    TensorFlow starts)."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return [f"/gpu:{i}" for i in range(min(replicas, len(gpus)))]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
    )
    return [f"/cpu:{i}" for i in range(replicas)]


class EpochClock(keras.callbacks.Callback):
    """Each epoch's wall time, in `seconds`."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--length", type=int, default=20_000, help="rows of the sine series")
    args = parser.parse_args()
    devices = split_cpu(args.replicas)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_gate_lstm import machine

    from lstm_app.config.load import config_from_dict, load_config
    from lstm_app.config.load import config_to_dict as as_dict
    from lstm_app.data.prepare import prepare_data
    from lstm_app.training.fit import fit_model

    article = as_dict(load_config(Path(__file__).resolve().parent.parent / "configs/article.yaml"))
    article["data"] = {
        "source": "sine",
        "sine": {"length": args.length},
        "window": {"input_width": 30, "horizon": 1},
    }
    article["export"] = {"formats": []}
    article["training"]["epochs"] = args.epochs
    variants = {
        "1 device, fused": {"fused": True},
        "1 device, unfused": {"fused": False},
        f"mirrored, {len(devices)} replicas": {
            "distribute": {"strategy": "mirrored", "devices": devices}
        },
    }
    epoch_seconds = {name: [] for name in variants}
    windows = None
    for _ in range(args.rounds):
        for name, training in variants.items():
            raw = {**article, "training": {**article["training"], **training}}
            cfg = config_from_dict(raw)
            data = prepare_data(cfg.data, cfg.seed)
            windows = data.splits["train"].n_windows
            clock = EpochClock()
            fit_model(cfg, data, [clock], verbose=0)
            epoch_seconds[name].append(statistics.median(clock.seconds[1:]))
    print(f"machine: {machine()}")
    print(f"devices of the replicas: {', '.join(devices)}; {windows} training windows, batch 64")
    base = "1 device, unfused"
    print("| variant | windows/s (median) | time per epoch vs 1 device unfused | each round |")
    print("| --- | --- | --- | --- |")
    for name, seconds in epoch_seconds.items():
        ratios = [s / b for s, b in zip(seconds, epoch_seconds[base], strict=True)]
        rate = windows / statistics.median(seconds)
        rounds = ", ".join(f"{r:.2f}x" for r in ratios)
        print(f"| {name} | {rate:,.0f} | {statistics.median(ratios):.2f}x | {rounds} |")


if __name__ == "__main__":
    main()
