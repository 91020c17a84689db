"""How much a config's test metrics move with the seed alone: the noise any comparison of two
configs has to beat.

    .venv/bin/python bench/seed_spread.py configs/article.yaml configs/article_gate.yaml
    .venv/bin/python bench/seed_spread.py configs/article.yaml --seeds 1 2 3 4 5 6 7 8

Trains each config once per seed (in a temporary directory) and prints the test MAE of each
run, then the mean and standard deviation per config, and where the loss curves of the first
two configs, seed by seed, first differ by more than 1e-4 relative.
"""

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from lstm_app.config.load import load_config
from lstm_app.pipeline import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.configs:
            for seed in args.seeds:
                run_dir = Path(tmp) / f"{path.stem}-{seed}"
                run_dir.mkdir()
                result = train(load_config(path, [f"seed={seed}"]), run_dir, verbose=0)
                results[path.stem, seed] = result
                print(
                    f"{path.stem:<16} seed {seed:<4} test MAE {result.metrics['test']['mae']:.4g}",
                    flush=True,
                )
    for path in args.configs:
        maes = [results[path.stem, seed].metrics["test"]["mae"] for seed in args.seeds]
        print(
            f"{path.stem:<16} test MAE over {len(maes)} seeds: mean {np.mean(maes):.4g}, "
            f"std {np.std(maes):.3g}, range {min(maes):.4g} .. {max(maes):.4g}"
        )
    if len(args.configs) >= 2:
        first, second = (p.stem for p in args.configs[:2])
        for seed in args.seeds:
            a = np.array(results[first, seed].history["loss"])
            b = np.array(results[second, seed].history["loss"])
            n = min(len(a), len(b))
            apart = np.flatnonzero(np.abs(a[:n] - b[:n]) > 1e-4 * np.abs(a[:n]))
            where = f"from epoch {apart[0] + 1}" if len(apart) else "never"
            print(f"seed {seed}: {first} and {second} losses differ by more than 1e-4 {where}")


if __name__ == "__main__":
    main()
