"""Hyper-parameter search with Optuna, chosen on the validation split alone (`lstm-tune`).

    space = read_space("configs/spaces/article.yaml", "configs/article.yaml")   # keys checked
    tune("configs/article.yaml", space, trials=20, study_dir=Path("runs/tune-article"))

The study lives in `STUDY/study.db` (SQLite; any Optuna storage URL with `storage=`), so a
killed search goes on with the same command: finished trials are kept, and a trial cut in the
middle is marked failed and run again. Each trial is a run directory `STUDY/trials/NNNN/`
(its `config.yaml`, `history.csv`, `metrics.json` with the validation metrics, `run.json`);
the objective is a validation metric in original units (`objective:` in the space file,
default `mae`), reported each epoch for the median pruner; the test split is never forecast
during the search. At the end, the best trial's config is written as `STUDY/best.yaml`,
trained once from scratch as a normal run (`STUDY/best/`, test metrics and all), and the
search is summarised in `STUDY/trials.csv` and two PNGs (optimization history, parameter
importances).

Several processes, or machines, share one study through its storage (`--workers K`, or
`storage="postgresql://..."`): each worker runs trials until the study has `trials` done, and
waits for the others' last trials before it writes the best. Trials beat a heartbeat into the
storage; one whose worker died is failed when a minute has passed without it, and run again.

With `tracking.mlflow` in the config, the study is an MLflow run and each trial, and the best
config's run, a child run of it (`lstm_app.runs.tracking`; store: beside the study folder).

The space file:

    objective: mae                 # a validation metric: mae, rmse, mase or smape
    parameters:                    # dotted config keys, as --set takes them
      training.learning_rate: {float: [0.0001, 0.01], log: true}
      data.window.input_width: {int: [6, 24]}
      data.transforms: {choice: [[], [log], [log, diff]]}

The modules: `space` (the space file), `trial` (one trial, its pruning and validation
metrics), `storage` (Optuna's storage, and its one private call), `study` (open, search, tune,
the study's tracking and plots). Import their names from `lstm_app.tuning`.
"""

from lstm_app.tuning.space import KINDS, OBJECTIVES, Parameter, Space, override, read_space
from lstm_app.tuning.storage import GRACE_SECONDS, HEARTBEAT_SECONDS, OPEN_ATTEMPTS
from lstm_app.tuning.study import STUDY_FILES, open_study, search, study_tracking, tune
from lstm_app.tuning.trial import run_trial, validation_metric, validation_metrics

__all__ = [
    "GRACE_SECONDS",
    "HEARTBEAT_SECONDS",
    "KINDS",
    "OBJECTIVES",
    "OPEN_ATTEMPTS",
    "STUDY_FILES",
    "Parameter",
    "Space",
    "open_study",
    "override",
    "read_space",
    "run_trial",
    "search",
    "study_tracking",
    "tune",
    "validation_metric",
    "validation_metrics",
]
