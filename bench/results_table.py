"""The README's results tables: every shipped config trained in full by `lstm-train`, its test
MAE and MASE beside those of persistence, seasonal naive, ETS and Theta on the same windows; a
panel's mean and median MASE over its series and the share of series it beats each baseline on; a
classifier's test accuracy over seeds 0-4 (mean, std, range) beside its baselines'.

    .venv/bin/python bench/results_table.py                   # prints the table
    .venv/bin/python bench/results_table.py --update-readme   # and writes it into README.md
    make results                                              # the same as the line above

Each config runs exactly as a user runs it, `lstm-train --config configs/NAME.yaml`, in a
temporary run directory; the table is built from the runs' metrics.json files.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lstm_app.evaluation.report import interval_rows, percent_text
from lstm_app.evaluation.report import number_text as _number

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _beats(model: float, baseline: float | None) -> str:
    if baseline is None:  # a baseline left out (see its note in metrics.json)
        return "-"
    return "yes" if model < baseline else "**no**"


CLASSIFIER_SEEDS = (0, 1, 2, 3, 4)


def run_config(path: Path, runs: Path, seed: int | None = None) -> tuple[dict, float]:
    """Trains one config with lstm-train (with `seed`: under that seed); returns its metrics
    and the wall time in seconds."""
    started = time.time()
    name = path.stem if seed is None else f"{path.stem}-{seed}"
    seeded = [] if seed is None else ["--set", f"seed={seed}"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lstm_app",
            "--config",
            str(path),
            "--run-dir",
            str(runs / name),
            "--quiet",
            *seeded,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if done.returncode != 0:
        sys.exit(f"{path.name} failed:\n{done.stderr[-2000:]}")
    return json.loads((runs / name / "metrics.json").read_text()), time.time() - started


def classification_table(results: dict[str, list[tuple[dict, float]]]) -> str:
    """The markdown table of the classifiers: per config, the test accuracy over the seeds
    (mean +- std, range), balanced accuracy and macro F1 (means), and the baselines' accuracy
    on the same test split (means: 1-NN is the same every seed, bag of words is trained)."""
    import numpy as np

    header = (
        "| config | test sequences | classes | accuracy, mean +- std (range) over seeds | "
        "balanced accuracy | macro F1 | log loss | majority | 1-NN (Euclidean) | "
        "bag of words | beats the best baseline | seconds per run |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for name, runs in results.items():
        metrics = [m for m, _ in runs]

        def mean(key, source=None, metrics=metrics):
            values = [
                (m["test"] if source is None else m["baselines"].get(source, {})).get(key)
                for m in metrics
            ]
            return None if None in values else float(np.mean(values))

        accuracy = np.array([m["test"]["accuracy"] for m in metrics])
        baselines = {
            b: mean("accuracy", b) for b in ("majority", "nearest_neighbour", "bag_of_words")
        }
        best = max(v for v in baselines.values() if v is not None)
        cell = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
        lines.append(
            f"| {name} | {metrics[0]['test']['sequences']} | {len(metrics[0]['classes'])} | "
            f"{accuracy.mean():.1%} +- {accuracy.std():.1%} ({accuracy.min():.1%} .. "
            f"{accuracy.max():.1%}) | {cell(mean('balanced_accuracy'))} | "
            f"{mean('macro_f1'):.3f} | {mean('log_loss'):.3f} | {cell(baselines['majority'])} | "
            f"{cell(baselines['nearest_neighbour'])} | {cell(baselines['bag_of_words'])} | "
            f"{'yes' if accuracy.mean() > best else '**no**'} | "
            f"{np.mean([s for _, s in runs]):.0f} |"
        )
    return "\n".join(lines)


def table(results: dict[str, tuple[dict, float]]) -> str:
    """The markdown table, one row per config."""
    lines = [
        "| config | target | test windows | MAE | MASE | persistence MAE | persistence MASE "
        "| seasonal naive MAE (m) | seasonal naive MASE | ETS MAE | ETS MASE | Theta MAE | "
        "Theta MASE | beats persistence | beats seasonal naive | beats ETS | beats Theta | "
        "wall time |",
        "|" + " --- |" * 18,
    ]
    for name, (metrics, seconds) in results.items():
        test, baselines = metrics["test"], metrics["baselines"]
        naive, seasonal = baselines["persistence"], baselines["seasonal_naive"]
        ets, theta = baselines.get("ets", {}), baselines.get("theta", {})
        lines.append(
            f"| `{name}` | {metrics['target']} | {test['windows']} | {_number(test['mae'])} | "
            f"{_number(test['mase'])} | {_number(naive['mae'])} | {_number(naive['mase'])} | "
            f"{_number(seasonal['mae'])} ({metrics['data']['season_length']}) | "
            f"{_number(seasonal['mase'])} | {_number(ets.get('mae'))} | "
            f"{_number(ets.get('mase'))} | {_number(theta.get('mae'))} | "
            f"{_number(theta.get('mase'))} | {_beats(test['mae'], naive['mae'])} | "
            f"{_beats(test['mae'], seasonal['mae'])} | {_beats(test['mae'], ets.get('mae'))} | "
            f"{_beats(test['mae'], theta.get('mae'))} | {seconds:.0f} s |"
        )
    return "\n".join(lines)


def panel_table(results: dict[str, tuple[dict, float]]) -> str:
    """The panels' markdown table, one row per config: mean and median MASE over the series
    for the model and each baseline, and the share of series the model beats them on."""
    lines = [
        "| config (panel) | target | series | MASE mean | MASE median | sMAPE % mean | "
        "persistence MASE mean | seasonal naive MASE mean | ETS MASE mean | ETS sMAPE % | "
        "Theta MASE mean | Theta sMAPE % | beats seasonal naive on | beats ETS on | "
        "beats Theta on | wall time |",
        "|" + " --- |" * 16,
    ]
    for name, (metrics, seconds) in results.items():
        panel = metrics["panel"]
        model, seasonal = panel["model"]["mase"], panel["seasonal_naive"]["mase"]
        wins = {k: "-" if v is None else f"{v:.0%}" for k, v in panel["wins"].items()}

        def mean(name, metric, panel=panel):
            return _number(((panel.get(name) or {}).get(metric) or {}).get("mean"))

        lines.append(
            f"| `{name}` | {metrics['target']} | {metrics['series']['scored']} | "
            f"{_number(model['mean'])} | {_number(model['median'])} | "
            f"{mean('model', 'smape')} | {_number(panel['persistence']['mase']['mean'])} | "
            f"{_number(seasonal['mean'])} | {mean('ets', 'mase')} | {mean('ets', 'smape')} | "
            f"{mean('theta', 'mase')} | {mean('theta', 'smape')} | {wins['seasonal_naive']} | "
            f"{wins.get('ets', '-')} | {wins.get('theta', '-')} | {seconds:.0f} s |"
        )
    return "\n".join(lines)


def intervals_table(results: dict[str, tuple[dict, float]]) -> str:
    """The intervals' markdown table, one row per config that scores them: each interval's
    test coverage (before and after calibration) and mean width, and the weighted quantile
    loss of the model and of the baselines given intervals from their train residuals."""
    lines = [
        "| config | quantiles | interval | calibration | coverage before | coverage after | "
        "mean width | wQL | persistence wQL | seasonal naive wQL |",
        "|" + " --- |" * 10,
    ]
    for name, (metrics, _) in results.items():
        report = metrics.get("intervals")
        if report is None:
            continue
        quantiles = ", ".join(map(str, report["levels"]))
        for row in interval_rows(report):
            baselines = row["baseline_wql"]
            lines.append(
                f"| `{name}` | {quantiles} | {row['level']}% | {row['calibration']} | "
                f"{percent_text(row['uncalibrated'])} | {percent_text(row['coverage'])} | "
                f"{_number(row['width'])} | {_number(row['wql'])} | "
                f"{_number(baselines.get('persistence'))} | "
                f"{_number(baselines.get('seasonal_naive'))} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-readme", action="store_true", help="write it into README.md")
    args = parser.parse_args()
    import yaml

    results, panels, classifiers = {}, {}, {}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((REPO / "configs").glob("*.yaml")):
            print(f"training {path.name} ...", file=sys.stderr, flush=True)
            if yaml.safe_load(path.read_text()).get("task") == "classification":
                classifiers[path.stem] = [
                    run_config(path, Path(tmp), seed) for seed in CLASSIFIER_SEEDS
                ]
                continue
            metrics, seconds = run_config(path, Path(tmp))
            metrics["target"] = yaml.safe_load(path.read_text())["data"]["target"]
            (panels if "panel" in metrics else results)[path.stem] = (metrics, seconds)
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    footer = (
        f"Produced by `make results` in {time.time() - started:.0f} s on {cpu} "
        f"({os.cpu_count()} cores), Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}."
    )
    seeds = ", ".join(map(str, CLASSIFIER_SEEDS))
    text = (
        f"{table(results)}\n\n{panel_table(panels)}\n\n{intervals_table(results)}\n\n"
        f"Classifiers, each trained once per seed ({seeds}):\n\n"
        f"{classification_table(classifiers)}\n\n{footer}"
    )
    print(text)
    if args.update_readme:
        readme = REPO / "README.md"
        content = readme.read_text()
        if START not in content or END not in content:
            sys.exit(f"README.md has no {START} ... {END} section to update")
        before, rest = content.split(START, 1)
        after = rest.split(END, 1)[1]
        readme.write_text(f"{before}{START}\n{text}\n{END}{after}")
        print("README.md updated", file=sys.stderr)


if __name__ == "__main__":
    main()
