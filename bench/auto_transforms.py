"""`data.transforms: auto` against the transforms a config holds, on the shipped data.

    .venv/bin/python bench/auto_transforms.py                  # the two cases below: ~10 min
    .venv/bin/python bench/auto_transforms.py --all            # and every shipped config
    .venv/bin/python bench/auto_transforms.py --case article   # one of them

For each case, trains the config with `data.transforms: auto` (the model on each candidate,
then the chosen one) and prints every candidate's validation MAE, what auto chose, and the test
MAE of the run it made beside the test MAE of the transforms the config holds and of
persistence. The test split judges the choice here; it took no part in making it.

The two cases: the article's config on its own airline data (it holds the transforms chosen by
`bench/tune_on_validation.py`), and the article's config on a daily series it was not tuned for
(the daily minimum temperatures), where the airline's differences (its log cannot apply: a day
at 0 degrees) do not suit.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lstm_app.config.load import load_config
from lstm_app.pipeline import train

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DAILY = [
    "data.path=" + str(CONFIGS.parent / "data" / "daily-min-temperatures.csv"),
    "data.time_column=Date",
    "data.target=Temp",
    "data.features=[Temp]",
    "data.missing=interpolate",
    "data.target_units=degrees Celsius",
]
# case -> (config, overrides, the overrides of the transforms it holds)
CASES = {
    "article": ("article", [], []),
    # the article's differences: its log cannot apply, the series has a day at 0 degrees
    "article on daily temperatures": ("article", DAILY, ["data.transforms=[diff, seasonal_diff]"]),
}
MORE = {name: (name, [], []) for name in ("temperatures", "sunspots", "pollution")}


def _run(cfg):
    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        result = train(cfg, Path(tmp) / "run", verbose=0)
        return result, time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every shipped config too")
    parser.add_argument("--case", choices=[*CASES, *MORE], help="only this case")
    args = parser.parse_args()
    import tensorflow as tf

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}"
    )
    cases = CASES | (MORE if args.all else {})
    if args.case:
        cases = {args.case: (CASES | MORE)[args.case]}
    for case, (name, overrides, holds) in cases.items():
        held = load_config(CONFIGS / f"{name}.yaml", [*overrides, *holds])
        auto = load_config(CONFIGS / f"{name}.yaml", [*overrides, "data.transforms=auto"])
        result, seconds = _run(auto)
        print(f"{case}: {result.data.transform_choice.sentence()}")
        chosen = result.data.pipeline.names
        test = {f"auto [{', '.join(chosen)}]": result.metrics["test"]["mae"]}
        persistence = result.metrics["baselines"]["persistence"]["mae"]
        line = f"  auto took {seconds:.0f} s; test MAE: "
        if chosen != held.data.transforms:
            held_result, _ = _run(held)
            test[f"held [{', '.join(held.data.transforms)}]"] = held_result.metrics["test"]["mae"]
        else:
            line += "(auto chose what the config holds) "
        test["persistence"] = persistence
        print(line + ", ".join(f"{label} {mae:.4g}" for label, mae in test.items()), flush=True)


if __name__ == "__main__":
    main()
