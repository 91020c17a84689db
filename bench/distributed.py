"""Training throughput under tf.distribute: the article's model on one device against
`training.distribute.strategy: mirrored` over 2 replicas, and one process against
`multi_worker` with 2 worker processes, measured side by side.

    .venv/bin/python bench/distributed.py            # about ten minutes on 2 CPU cores
    .venv/bin/python bench/distributed.py --rounds 1 --epochs 3    # a smoke run

On a CPU the machine is split into 2 logical devices (`--replicas`), so the 2 replicas share
the same cores: expect no speed-up, only the strategy's overhead, which is what this reports.
On a GPU machine, the replicas are its GPUs (as many as `--replicas`, when it has them).
Rows: one device with the fused CPU path (lstm-train's default), one device unfused (what a
strategy trains: a like-for-like baseline), and mirrored. Each is a fit of `--epochs` epochs,
timed by the median epoch after the first (which traces the graphs); the variants take turns
in `--rounds` rounds, and each ratio is the median of the ratios measured in the same round.

The second table runs each variant in fresh processes (a multi-worker strategy must start
before TensorFlow does anything): one process unfused, and 2 workers on loopback ports
(ports the OS says are free), each reading its half of every global batch. On one machine
the workers share its cores (and talk through the loopback): again the overhead, not a
speed-up. Its windows/s counts the windows of the global batches, all workers together.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def split_cpu(replicas: int) -> list[str]:
    """The devices replicas run on: the GPUs, else `replicas` logical CPU devices (set before
    TensorFlow starts)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return [f"/gpu:{i}" for i in range(min(replicas, len(gpus)))]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
    )
    return [f"/cpu:{i}" for i in range(replicas)]


def article_config(length: int, epochs: int) -> dict:
    """The article's config on a sine of `length` rows (window 30), `epochs` epochs, no export."""
    from lstm_app.config.load import config_to_dict, load_config

    article = config_to_dict(
        load_config(Path(__file__).resolve().parent.parent / "configs/article.yaml")
    )
    article["data"] = {
        "source": "sine",
        "sine": {"length": length},
        "window": {"input_width": 30, "horizon": 1},
    }
    article["export"] = {"formats": []}
    article["training"]["epochs"] = epochs
    return article


def fit_seconds(raw: dict) -> tuple[int, list[float]]:
    """Fits the config `raw`; `(training windows, each epoch's seconds)`."""
    from speed import EpochTimes  # bench/ is on the path when run as a script

    from lstm_app.config.load import config_from_dict
    from lstm_app.data.prepare import prepare_data
    from lstm_app.training.fit import fit_model

    cfg = config_from_dict(raw)
    data = prepare_data(cfg.data, cfg.seed)
    clock = EpochTimes()
    fit_model(cfg, data, [clock], verbose=0)
    return data.splits["train"].n_windows, clock.times


def one_worker(args) -> None:
    """`--as-worker WORKERS INDEX` (or `--as-worker - 0`: one process, no strategy): fits the
    article's model and prints `{"windows": N, "seconds": [...]}`."""
    workers, index = args.as_worker
    raw = article_config(args.length, args.epochs)
    training = {"fused": False}
    if workers != "-":
        from lstm_app.training.distribute import TF_CONFIG, tf_config

        os.environ[TF_CONFIG] = tf_config(workers.split(","), int(index))
        training["distribute"] = {"strategy": "multi_worker"}
    raw["training"] = {**raw["training"], **training}
    windows, seconds = fit_seconds(raw)
    print(json.dumps({"windows": windows, "seconds": seconds}), flush=True)


def free_addresses(n: int) -> str:
    """`localhost:PORT,...`: `n` ports the OS says are free now."""
    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    text = ",".join(f"localhost:{sock.getsockname()[1]}" for sock in sockets)
    for sock in sockets:
        sock.close()
    return text


def timed_processes(args, workers: int) -> tuple[int, float]:
    """Runs one process (`workers` 1) or `workers` worker processes of this script; returns
    `(training windows, the median epoch after the first, the slowest worker's)`."""
    base = [sys.executable, __file__, "--epochs", str(args.epochs), "--length", str(args.length)]
    addresses = free_addresses(workers) if workers > 1 else "-"
    processes = [
        subprocess.Popen(
            [*base, "--as-worker", addresses, str(i)], stdout=subprocess.PIPE, text=True
        )
        for i in range(workers)
    ]
    found = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in processes]
    if any(p.returncode for p in processes):
        raise SystemExit(f"a worker failed: {[p.returncode for p in processes]}")
    medians = [statistics.median(f["seconds"][1:]) for f in found]
    return found[0]["windows"], max(medians)


def table(epoch_seconds: dict, windows: int, base: str, first: str) -> None:
    """Prints the markdown table of `epoch_seconds` (`{variant: [median epoch seconds per
    round]}`), each ratio against `base` in the same round."""
    print(f"| {first} | windows/s (median) | time per epoch vs {base} | each round |")
    print("| --- | --- | --- | --- |")
    for name, seconds in epoch_seconds.items():
        ratios = [s / b for s, b in zip(seconds, epoch_seconds[base], strict=True)]
        rate = windows / statistics.median(seconds)
        rounds = ", ".join(f"{r:.2f}x" for r in ratios)
        print(f"| {name} | {rate:,.0f} | {statistics.median(ratios):.2f}x | {rounds} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--length", type=int, default=20_000, help="rows of the sine series")
    parser.add_argument("--as-worker", nargs=2, metavar=("WORKERS", "INDEX"), help="internal")
    args = parser.parse_args()
    if args.as_worker:
        one_worker(args)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_gate_lstm import machine

    print(f"machine: {machine()}")
    separate = {"1 process, unfused": 1, f"multi_worker, {args.workers} workers": args.workers}
    process_seconds = {name: [] for name in separate}
    for _ in range(args.rounds):
        for name, workers in separate.items():
            windows, seconds = timed_processes(args, workers)
            process_seconds[name].append(seconds)
    print(f"processes on this machine; {windows} training windows, batch 64 (global)")
    table(process_seconds, windows, "1 process, unfused", "variant")

    devices = split_cpu(args.replicas)
    article = article_config(args.length, args.epochs)
    variants = {
        "1 device, fused": {"fused": True},
        "1 device, unfused": {"fused": False},
        f"mirrored, {len(devices)} replicas": {
            "distribute": {"strategy": "mirrored", "devices": devices}
        },
    }
    epoch_seconds = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, training in variants.items():
            raw = {**article, "training": {**article["training"], **training}}
            windows, seconds = fit_seconds(raw)
            epoch_seconds[name].append(statistics.median(seconds[1:]))
    print()
    print(f"devices of the replicas: {', '.join(devices)}; {windows} training windows, batch 64")
    table(epoch_seconds, windows, "1 device, unfused", "variant")


if __name__ == "__main__":
    main()
