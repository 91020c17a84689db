"""The adding problem at full size: SimpleRNN, LSTM and GateLSTM at several sequence lengths.

    .venv/bin/python bench/long_memory.py                         # lengths 10 50 100 200
    .venv/bin/python bench/long_memory.py --lengths 10 50 --epochs 20 --train-size 4000

The notebook notebooks/03_long_memory.ipynb runs the small version. Prints, per length, each
model's test MSE beside the mean's (1/6), and how the gradient of the loss with respect to the
inputs falls from the last step to the first in the untrained and the trained model.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/: a study, not installed

from experiments.adding import BASELINE_MSE, adding_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--kinds", nargs="+", default=["simple_rnn", "lstm", "gate_lstm"])
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--units", type=int, default=32)
    args = parser.parse_args()
    results = adding_experiment(
        args.kinds,
        args.lengths,
        train_size=args.train_size,
        epochs=args.epochs,
        units=args.units,
        log=print,
    )
    print(f"\ntest MSE (predicting the mean scores {BASELINE_MSE:.4f}; solved: below 0.01)")
    print(results.table().round(4).to_string())
    sensitivity = {(r["kind"], r["length"]): (r["d_first"], r["d_second"]) for r in results.rows}
    print("\nd prediction / d marked value, first and second marked step (solved: both near 1):")
    for (kind, length), (first, second) in sensitivity.items():
        print(f"  length {length:>4} {kind:<11} {first:6.3f} {second:6.3f}")
    print("\n|dL/dx| at the first step / at the last step (how much a gradient survives):")
    for (kind, length), norms in results.gradients.items():
        ratios = {when: values[0] / values[-1] for when, values in norms.items()}
        print(
            f"  length {length:>4} {kind:<11} untrained {ratios['initial']:.2e}   "
            f"trained {ratios['trained']:.2e}"
        )


if __name__ == "__main__":
    main()
