"""`lstm-train`: parses the command line and runs the pipeline (config -> data -> train ->
evaluate -> export); nothing more.

    lstm-train --config FILE [--set KEY=VALUE ...] [--run-dir DIR] [--resume] [--check] [--quiet]
               [--workers HOST:PORT,HOST:PORT --worker-index I]

Exit status: 0 done; 1 training failed (e.g. the loss diverged); 2 bad input (config, data or
arguments), reported on one line before anything is trained; 130 interrupted.
"""

import argparse
import json
import os
import re
import shlex
import signal
import sys
from pathlib import Path

from lstm_app.cli.common import ArgumentParser, entry_point, quiet_tensorflow, report_error
from lstm_app.config.json_schema import json_schema
from lstm_app.config.load import config_to_dict, load_config
from lstm_app.errors import RunFailedError, UserInputError
from lstm_app.jobs import job_for
from lstm_app.runs.rundir import RUNS_ROOT, RunDir, worker_dir
from lstm_app.runs.tracking import missing_mlflow
from lstm_app.serving.formats import missing_extras
from lstm_app.training.distribute import TF_CONFIG, cluster_of, parse_workers, tf_config
from lstm_app.version import __version__

EXAMPLES = """examples:
  lstm-train --config configs/article.yaml
  lstm-train --config my.yaml --set training.epochs=20 --set data.window.input_width=24
  lstm-train --config my.yaml --run-dir runs/first-try
  lstm-train --config my.yaml --run-dir runs/first-try --resume   # after a crash or Ctrl-C
  lstm-train --config my.yaml --set training.distribute.strategy=multi_worker \
      --run-dir runs/big --workers host1:12345,host2:12345 --worker-index 0   # 1 on host2"""


def build_parser() -> ArgumentParser:
    """The `lstm-train` argument parser."""
    parser = ArgumentParser(
        prog="lstm-train",
        description="Train an LSTM forecaster from a YAML config; write a run directory.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the YAML config (see configs/article.yaml); required but with --schema",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value: a dotted key and a YAML value, e.g. "
        "training.epochs=20 or model.layers.0.units=64 (repeatable)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        metavar="DIR",
        help="write the run here (a new or empty directory); default: "
        f"{RUNS_ROOT}/<name>-<timestamp>/",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the unfinished run in --run-dir from its last completed epoch (same "
        "config); it ends as the uninterrupted run would have",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the config and the data (windows per split), then stop: nothing is "
        "trained or written",
    )
    parser.add_argument(
        "--workers",
        metavar="HOST:PORT,...",
        help="training.distribute.strategy: multi_worker: every worker's address, the same list "
        "on each (the first is the chief, which writes the run); instead of TF_CONFIG",
    )
    parser.add_argument(
        "--worker-index",
        type=int,
        metavar="I",
        help="with --workers: this worker's position in the list, from 0",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--schema",
        action="store_true",
        help="print the config's JSON Schema (for editors: yaml-language-server) and stop",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _named_workers(text: str, cluster) -> str:
    """`worker 1 (host:port), ...` for the TensorFlow tasks `/job:JOB/.../task:I` in `text`."""
    tasks = re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", text)
    found = [cluster.task_index(job, int(t)) for job, t in tasks]
    return ", ".join(
        f"worker {i} ({cluster.workers[i]})" for i in dict.fromkeys(found) if i is not None
    )


def lost_workers(err, cluster) -> str:
    """What a collective aborted by a stopped worker says, in a few words: `worker 1
    (host:port) stopped` for each task TensorFlow names as unhealthy (its heartbeats stopped),
    `... stopped or cannot be reached` for the peer whose connection broke first (seen when
    the kill lands mid-exchange), else the error's first line."""
    text = str(err)
    unhealthy = re.search(r"unhealthy \(stopped sending heartbeats\):\s*((?:/job:\S+\s*)+)", text)
    named = _named_workers(unhealthy.group(1), cluster) if unhealthy else ""
    if named:
        return f"{named} stopped"
    peer = re.search(r"from remote target (/job:\S+)", text)
    named = _named_workers(peer.group(1), cluster) if peer else ""
    if named:
        return f"{named} stopped or cannot be reached"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(err).__name__}: {first[:160]}"


def _cluster(cfg, args):
    """The Cluster of a multi-worker run (None for another strategy), from --workers and
    --worker-index (which set TF_CONFIG for TensorFlow) or from TF_CONFIG; UserInputError for
    a missing or malformed one."""
    multi = cfg.training.distribute.strategy == "multi_worker"
    if args.workers is None and args.worker_index is None:
        return cluster_of(os.environ.get(TF_CONFIG)) if multi else None
    if not multi:
        raise UserInputError(
            f"--workers: {args.config}: training.distribute.strategy is "
            f"{cfg.training.distribute.strategy}; set it to multi_worker (or --set "
            "training.distribute.strategy=multi_worker)"
        )
    if args.workers is None or args.worker_index is None:
        raise UserInputError("--workers and --worker-index go together: give both")
    workers = parse_workers(args.workers)
    if not 0 <= args.worker_index < len(workers):
        raise UserInputError(
            f"--worker-index: {args.worker_index}; expected 0 to {len(workers) - 1} (one per "
            "--workers entry)"
        )
    os.environ[TF_CONFIG] = tf_config(workers, args.worker_index)
    return cluster_of(os.environ[TF_CONFIG])


def main(argv=None) -> int:
    """Runs `lstm-train`; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.schema:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if args.config is None:
        parser.error("the following arguments are required: --config")
    try:
        cfg = load_config(args.config, args.overrides)
        job = job_for(cfg)
        data = job.prepare(cfg)  # read and checked now, before TensorFlow loads
        problem = missing_extras(cfg.export.formats)
        if problem:
            raise UserInputError(f"{args.config}: export.formats: {problem}")
        problem = missing_mlflow(cfg)
        if problem:
            raise UserInputError(f"{args.config}: {problem}")
        cluster = _cluster(cfg, args)
        if args.check:
            print(job.check_summary(args.config, data))
            return 0
        if cluster is not None and args.run_dir is None:
            raise UserInputError(
                "--run-dir: needed under multi_worker: every worker names the same run directory"
            )
        mine = args.run_dir  # the run; a worker but the chief keeps only its resume points
        if cluster is not None and not cluster.chief:
            mine = worker_dir(args.run_dir, cluster.index)
        run_dir = RunDir.for_training(mine, cfg.name, args.resume, config_to_dict(cfg))
    except UserInputError as err:
        return report_error("lstm-train", err)
    quiet_tensorflow()
    from lstm_app.pipeline import train  # imports TensorFlow: once the inputs are known good
    from lstm_app.training.distribute import replica_devices, weights_digest

    if cluster is not None:  # the strategy starts once every worker has joined: no time limit
        print(
            f"lstm-train: {cluster.describe()}: waiting for every worker to join "
            f"({', '.join(cluster.workers)})",
            flush=True,
        )
    try:
        devices = replica_devices(cfg.training.distribute)
    except UserInputError as err:
        return report_error("lstm-train", err)
    for note in job.notes(cfg):
        print(note, flush=True)
    if devices:
        unfused = "; its LSTM layers train unfused" if cfg.training.fused else ""
        where = f" over {len(devices)} device(s)"  # mirrored over 2 device(s), /gpu:0, ...
        if cluster is not None:  # multi_worker, worker 0 of 2 (chief), over this worker's ...
            where = f", {cluster.describe()}, over this worker's {len(devices)} device(s)"
        print(
            f"training.distribute: {cfg.training.distribute.strategy}{where}, "
            f"{', '.join(devices)}, each batch of {cfg.training.batch_size} split across "
            f"{'every replica' if cluster else 'them'}{unfused}",
            flush=True,
        )

    import tensorflow as tf

    again = ["lstm-train", "--config", str(args.config), "--run-dir", str(args.run_dir or run_dir)]
    again += ["--resume", *(part for o in args.overrides for part in ("--set", o))]
    if args.workers is not None:
        again += ["--workers", args.workers, "--worker-index", str(args.worker_index)]
    polite_kill = signal.signal(signal.SIGTERM, _interrupt)  # a polite kill stops like Ctrl-C
    try:
        run = run_dir if cluster is None or cluster.chief else RunDir(args.run_dir)  # the run's
        result = train(cfg, run, data, 0 if args.quiet else "auto", resume=args.resume)
    except RunFailedError as err:
        print(f"lstm-train: {err} (run directory: {run_dir})", file=sys.stderr)
        return 1
    except UserInputError as err:  # found once TensorFlow is up: a resume state that does not fit
        return report_error("lstm-train", err)
    except tf.errors.OpError as err:
        if cluster is None:
            raise
        # a worker stopped (killed, its machine lost): the others' collectives are aborted
        saved = run_dir.has_resume_state()
        how = (
            f"restart every worker with: {shlex.join(again)}"
            if saved
            else ("no epoch had completed; start every worker again")
        )
        print(
            f"lstm-train: {cluster.describe()} lost the other workers "
            f"({lost_workers(err, cluster)}); {how}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        saved = run_dir.has_resume_state()
        how = f"resume with: {shlex.join(again)}" if saved else "no epoch had completed"
        print(f"lstm-train: interrupted; {how}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, polite_kill)
    if cluster is not None and not cluster.chief:
        print(
            f"lstm-train: {cluster.describe()} done: {len(result.history['loss'])} epochs; "
            f"weights sha256 {weights_digest(result.model)}; the chief writes the run in "
            f"{args.run_dir}"
        )
        return 0
    print(job.run_summary(result))
    return 0


def run() -> None:
    """Console-script entry point of `lstm-train`."""
    entry_point(main)
