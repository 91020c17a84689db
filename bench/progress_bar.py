"""What Keras's progress bar costs lstm-train's training path (issue 20: at most 2 %).

    .venv/bin/python bench/progress_bar.py [--rounds 3] [--windows 10000] [--epochs 4]

Trains the article's model (fused, as lstm-train does by default) on the same windows with
`verbose` 0 (`lstm-train --quiet`), 1 (the progress bar, `lstm-train`'s default, "auto") and 2
(one line per epoch), stdout sent into a pipe that a thread drains (as `lstm-train | tee`
would), side by side in rounds (`speed.side_by_side`); prints windows per second and each
variant's ratio to the quiet run, median and range over the rounds, and the machine.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_gate_lstm import machine  # (bench/ is on the path when run as a script)
from speed import ours, side_by_side, stdout_into_a_pipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    setting = dict(layer="lstm", windows=args.windows, width=30, batch=64, epochs=args.epochs)
    variants = {
        "quiet (verbose 0)": lambda: ours(**setting, verbose=0),
        "progress bar (verbose 1)": lambda: ours(**setting, verbose=1),
        "a line an epoch (verbose 2)": lambda: ours(**setting, verbose=2),
    }
    with stdout_into_a_pipe():
        results = side_by_side(variants, args.rounds, "quiet (verbose 0)")
    print(machine())
    print(
        f"{args.windows} windows of 30 steps, batch 64, {args.epochs} epochs (the first left "
        f"out), {args.rounds} rounds; stdout into a pipe"
    )
    for name, (windows_per_s, ratio, low, high) in results.items():
        print(f"{name:<28} {windows_per_s:>9.0f} windows/s  {ratio:.3f}x ({low:.3f} .. {high:.3f})")


if __name__ == "__main__":
    main()
