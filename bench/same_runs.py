"""Every shipped config trained once by `lstm-train` into one folder, and two such folders
compared file by file: the check that a restructure changed no number.

    .venv/bin/python bench/same_runs.py train OUT            # configs/*.yaml -> OUT/NAME/
    .venv/bin/python bench/same_runs.py compare BEFORE AFTER  # byte-equal, or what differs

`train` runs each config as a user does (`python -m lstm_app --config configs/NAME.yaml
--run-dir OUT/NAME --quiet`), plus the tourism panel read shard by shard (`data.stream`), and
prints each run's wall time. `compare` reads the files a run writes that hold numbers
(metrics.json, forecasts.csv, series_metrics.csv, predictions.csv, scaler.json, history.csv)
and says, per run, which are byte-equal and, for the others, the largest difference of a
number in metrics.json; run.json's kind is printed beside.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPARED = (
    "metrics.json",
    "forecasts.csv",
    "series_metrics.csv",
    "predictions.csv",
    "scaler.json",
    "history.csv",
)
SHARDS = 3  # the tourism panel written into this many Parquet shards for the streamed run


def tourism_shards(out: Path) -> Path:
    """`out/_shards/part-I.parquet`: the shipped tourism panel, its series dealt in turn into
    `SHARDS` files (a panel read shard by shard, `data.stream`)."""
    import pandas as pd

    folder = out / "_shards"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(REPO / "data" / "tourism_au_quarterly.csv")
    ids = list(dict.fromkeys(frame["series_id"]))
    for i in range(SHARDS):
        mine = frame[frame["series_id"].isin(ids[i::SHARDS])]
        mine.to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def train(out: Path) -> None:
    """Trains every shipped config (and `EXTRA`) into `out/NAME/`."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(p.stem, p, []) for p in sorted((REPO / "configs").glob("*.yaml"))]
    shards = tourism_shards(out)
    streamed = ["--set", "data.stream=true", "--set", f"data.path={shards}"]
    streamed += ["--set", "model.combine=[]"]  # not yet for a stream
    jobs.append(("tourism_stream", REPO / "configs" / "tourism.yaml", streamed))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for name, path, sets in jobs:
        started = time.time()
        args = [sys.executable, "-m", "lstm_app", "--config", str(path)]
        args += ["--run-dir", str(out / name), "--quiet", *sets]
        done = subprocess.run(args, capture_output=True, text=True, env=env)
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
        print(f"{name}: {status} in {time.time() - started:.0f} s", flush=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)


def _numbers(value, prefix=""):
    """`{key path: number}` of every number in a JSON value."""
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            found.update(_numbers(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list):
        found = {}
        for i, item in enumerate(value):
            found.update(_numbers(item, f"{prefix}.{i}"))
        return found
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {prefix: float(value)}
    return {}


def compare(before: Path, after: Path) -> int:
    """Prints, per run, which compared files are byte-equal; returns the count that are not."""
    differ = 0
    for run in sorted(p for p in before.iterdir() if p.is_dir() and not p.name.startswith("_")):
        other = after / run.name
        kind = "-"
        if (other / "run.json").is_file():
            kind = json.loads((other / "run.json").read_text()).get("kind", "-")
        same, notes = [], []
        for name in COMPARED:
            a, b = run / name, other / name
            if not a.is_file() and not b.is_file():
                continue
            if a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes():
                same.append(name)
                continue
            differ += 1
            if name == "metrics.json" and a.is_file() and b.is_file():
                x = _numbers(json.loads(a.read_text()))
                y = _numbers(json.loads(b.read_text()))
                gaps = [abs(x[k] - y[k]) for k in x.keys() & y.keys()]
                keys = sorted(x.keys() ^ y.keys())
                notes.append(
                    f"{name} differs (largest gap {max(gaps, default=0):.3g}; keys on one side "
                    f"only: {keys[:5]})"
                )
            else:
                notes.append(
                    f"{name} differs" if a.is_file() and b.is_file() else f"{name} missing"
                )
        print(f"{run.name} (kind {kind}): equal {', '.join(same) or '-'}; {'; '.join(notes)}")
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train").add_argument("out", type=Path)
    both = sub.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "train":
        train(args.out)
        return 0
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    sys.exit(main())
