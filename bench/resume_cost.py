"""What the resume points cost: the time `lstm-train` spends saving a resumable state after each
epoch, against the whole run, for one config.

    .venv/bin/python bench/resume_cost.py                      # configs/article.yaml
    .venv/bin/python bench/resume_cost.py configs/sunspots.yaml --repeats 3

Trains the config as `lstm-train` does (in a temporary directory), timing every call of
`ResumePoint.on_epoch_end`; prints the median over the repeats, and the machine.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_gate_lstm import machine  # (bench/ is on the path when run as a script)

from lstm_app.config.load import load_config
from lstm_app.data.prepare import prepare_data
from lstm_app.pipeline import train
from lstm_app.training.resume import ResumePoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=Path("configs/article.yaml"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config(args.config)
    data = prepare_data(cfg.data, cfg.seed)
    save = ResumePoint.on_epoch_end
    spent = []

    def timed(self, epoch, logs=None):
        start = time.perf_counter()
        save(self, epoch, logs)
        spent[-1] += time.perf_counter() - start

    ResumePoint.on_epoch_end = timed
    totals, saves, epochs = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.repeats):
            spent.append(0.0)
            start = time.perf_counter()
            result = train(cfg, Path(folder) / f"run{i}", data, verbose=0)
            totals.append(time.perf_counter() - start)
            saves.append(spent[-1])
            epochs = len(result.history["loss"])
    total, saved = statistics.median(totals), statistics.median(saves)
    print(f"{args.config}: {epochs} epochs; median of {args.repeats} runs")
    print(f"  whole run (train, evaluate, write)  {total:8.2f} s")
    print(f"  resume points                       {saved:8.2f} s  ({saved / total:.1%} of the run)")
    print(f"  per epoch                           {1000 * saved / epochs:8.2f} ms")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
