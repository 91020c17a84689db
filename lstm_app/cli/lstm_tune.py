"""`lstm-tune --config FILE --space FILE --trials N [--study-dir DIR] [--storage URL]
[--workers K]`: a hyper-parameter search chosen on the validation split (`lstm_app.tuning`)."""

import multiprocessing
from functools import partial
from pathlib import Path

from lstm_app.cli.common import ArgumentParser, entry_point, quiet_tensorflow, report_error
from lstm_app.config.kinds import run_kind
from lstm_app.config.load import load_config
from lstm_app.errors import UserInputError
from lstm_app.evaluation.report import number_text
from lstm_app.runs.rundir import RUNS_ROOT


def build_parser() -> ArgumentParser:
    """The `lstm-tune` argument parser."""
    parser = ArgumentParser(
        prog="lstm-tune",
        description="Search a config's settings on its validation split (Optuna), then train "
        "the best once and score it on test.",
    )
    parser.add_argument("--config", required=True, type=Path, metavar="FILE", help="a config")
    parser.add_argument(
        "--space", required=True, type=Path, metavar="FILE", help="the keys to search (YAML)"
    )
    parser.add_argument("--trials", required=True, type=int, metavar="N", help="trials in all")
    parser.add_argument(
        "--study-dir",
        type=Path,
        metavar="DIR",
        help=f"the study's folder (default: {RUNS_ROOT}/tune-<config name>); run the same "
        "command again to go on with a killed search",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="an Optuna storage shared by workers on several machines (postgresql://...: "
        "needs lstm-app[postgres]); default: SQLite in the study folder",
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="K", help="trial processes on this machine"
    )
    return parser


def _check(args) -> None:
    """UserInputError for arguments that cannot work, before anything loads."""
    if args.trials < 1:
        raise UserInputError(f"--trials: expected 1 or more, got {args.trials}")
    if args.workers < 1:
        raise UserInputError(f"--workers: expected 1 or more, got {args.workers}")
    if not args.config.is_file():
        raise UserInputError(f"--config {args.config}: not found")
    cfg = load_config(args.config)
    if run_kind(cfg) == "classification":
        raise UserInputError(
            f"--config {args.config}: task: classification is not searched yet (lstm-tune "
            "scores trials by validation MAE); bench/tune_classification.py compares settings "
            "on the validation split"
        )
    if cfg.training.distribute.strategy == "multi_worker":
        raise UserInputError(
            f"--config {args.config}: training.distribute.strategy: multi_worker trains one "
            "model on several machines; lstm-tune trains each trial on one (spread trials "
            "with --storage instead): use none or mirrored"
        )


def _worker(config, space_path, trials, study_dir, storage, index) -> None:
    """One more process running trials on the shared study (no recovery, no final run); its
    `index` (1, 2, ...) seeds its sampler apart from the others'."""
    quiet_tensorflow()
    from lstm_app.tuning import read_space, search

    space = read_space(space_path, config)
    search(config, space, trials, study_dir, storage, recover=False, worker=index)


def main(argv=None) -> int:
    """Runs `lstm-tune`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        _check(args)
    except UserInputError as err:
        return report_error("lstm-tune", err)
    quiet_tensorflow()
    from lstm_app.tuning import open_study, read_space, study_tracking, tune

    study_dir = args.study_dir or RUNS_ROOT / f"tune-{args.config.stem}"
    try:
        space = read_space(args.space, args.config)
        study_dir.mkdir(parents=True, exist_ok=True)
        # a study of this machine alone: its cut trials are rerun now; on a shared storage,
        # other machines' trials are running, and the heartbeats tell the dead ones
        open_study(args.config, space, study_dir, args.storage, recover=args.storage is None)
        study_tracking(args.config, study_dir)  # MLflow's parent run, before the workers
        context = multiprocessing.get_context("spawn")
        work = partial(_worker, args.config, args.space, args.trials, study_dir, args.storage)
        others = [context.Process(target=work, args=(i,)) for i in range(1, args.workers)]
        for process in others:
            process.start()
        say = partial(print, flush=True)
        study, result = tune(
            args.config, space, args.trials, study_dir, args.storage, say, recover=False
        )
        for process in others:
            process.join()
    except UserInputError as err:
        return report_error("lstm-tune", err)
    best = study.best_trial
    test = result.metrics["test"]
    print(
        f"Best of {len(study.trials)} trials: trial {best.number}, val {space.objective} "
        f"{best.value:.4g}; retrained from scratch: test MAE {number_text(test['mae'])}, "
        f"MASE {number_text(test['mase'])}"
    )
    print(
        f"Written: {study_dir}/best.yaml, best/, trials.csv, optimization_history.png, "
        "importances.png"
    )
    return 0


def run() -> None:
    """Console-script entry point of `lstm-tune`."""
    entry_point(main)
