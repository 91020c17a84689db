"""What every kind of run shares: the `Job` protocol, the `TrainResult` it returns, and the
writes that end every job (the model, `metrics.json`, the export).

A job is one kind of run (`lstm_app.config.kinds.RUN_KINDS`): a single series, a panel, a
panel read shard by shard, a classification. `lstm_app.jobs.job_for(cfg)` chooses it once,
from the config; `lstm_app.pipeline.train` runs its life (status, resume, tracking, the
worker's role) around it, and `lstm-train` asks it for the check and the summary:

    job = job_for(cfg)
    data = job.prepare(cfg)                         # read and checked, before TensorFlow loads
    print(job.check_summary(config_path, data))     # lstm-train --check
    result = job.fit_evaluate_write(cfg, run, data, verbose, resume)
    print(job.run_summary(result))

The kind is written into `run.json` and the model card, and read back from there
(`RunDir.read_kind`), never guessed from the files a run wrote. A job module imports no
TensorFlow when imported (its training and inference import it when they run), so that
`prepare` and `check_summary` answer before TensorFlow loads.
"""

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lstm_app.config.rules import run_baselines
from lstm_app.config.schema import DISTRIBUTION_LOSSES, Config, quantile_levels
from lstm_app.evaluation.metrics import finite_or_none
from lstm_app.runs.rundir import RunDir, temporary_path

if TYPE_CHECKING:  # for annotations only: importing a job loads no TensorFlow
    import keras


@dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: the run directory.
        model: the trained model.
        history: loss per epoch, `{"loss": [...], "val_loss": [...], ...}`.
        metrics: the content of `metrics.json`.
        forecasts: the model's forecasts per split, `(windows, horizon)`, original units (a
            panel: `{"test": [one array per series]}`; a classification: its probabilities
            per split, `(sequences, classes)`).
        data: the prepared data the model was trained and evaluated on.
    """

    run_dir: Path
    model: "keras.Model"
    history: dict[str, list[float]]
    metrics: dict
    forecasts: dict[str, np.ndarray]
    data: object

    @property
    def run(self) -> RunDir:
        return RunDir(self.run_dir)


class Job:
    """One kind of run. A subclass sets `kind` and `compare_table`, and writes `load`,
    `check_summary`, `evaluate_and_write` and `run_summary`; the rest has defaults."""

    kind: str = ""

    def load(self, cfg: Config):
        """The prepared data of `cfg` (files read, split, scaled), as training needs it."""
        raise NotImplementedError

    def prepare(self, cfg: Config):
        """What `lstm-train` reads and checks before TensorFlow loads (UserInputError on bad
        input), handed to `check_summary` and then to `fit_evaluate_write`; default `load`."""
        return self.load(cfg)

    def check_summary(self, config_path: Path, data) -> str:
        """`lstm-train --check`'s report of the prepared `data`."""
        raise NotImplementedError

    def notes(self, cfg: Config) -> list[str]:
        """Lines `lstm-train` prints before training (what the config asks that this kind of
        run does otherwise); default none."""
        return []

    def settle(self, cfg: Config, run_dir, data, verbose, resume: bool):
        """`(cfg, data, status)` before the run directory is written: the config and data to
        run (e.g. with choices made now), and what run.json records of them; default as
        given."""
        return cfg, data, {}

    def training_data(self, cfg: Config, data):
        """What the model is fitted on (`lstm_app.training.fit`: a training input), for
        `data` as `prepare` or `load` gave it (or None: loaded now)."""
        return self.load(cfg) if data is None else data

    def fit_evaluate_write(self, cfg: Config, run: RunDir, data, verbose, resume: bool):
        """Trains the model of `cfg` on `data` (None: loaded now) in `run`, evaluates it and
        writes the run; returns the TrainResult."""
        from lstm_app.training.trainer import fit_in_run  # TensorFlow: once checked

        data = self.load(cfg) if data is None else data
        model, history = fit_in_run(cfg, run, self.training_data(cfg, data), verbose, resume)
        metrics, forecasts = self.evaluate_and_write(cfg, run, model, history, data)
        write_model_metrics_export(cfg, run, model, metrics)
        return TrainResult(run.path, model, history, metrics, forecasts, data)

    def evaluate_and_write(self, cfg: Config, run: RunDir, model, history, data):
        """Scores the trained `model` on `data` and writes the run's files but the model,
        metrics.json and the export; returns `(metrics, forecasts)` (see `TrainResult`)."""
        raise NotImplementedError

    def run_summary(self, result: TrainResult) -> str:
        """What `lstm-train` prints once the run is written."""
        raise NotImplementedError

    @staticmethod
    def compare_table(runs: list) -> str:
        """`lstm-compare`'s markdown table of finished runs of this kind
        (`lstm_app.evaluation.compare.Run`)."""
        raise NotImplementedError


def with_baselines(cfg: Config, data):
    """`data` (a PreparedData, or a panel of them in `parts`) to be compared with the baselines
    `cfg.evaluation.baselines` names (`run_baselines`, on `PreparedData.baselines`)."""
    names = run_baselines(cfg)
    if hasattr(data, "parts"):
        return replace(data, parts=tuple(replace(part, baselines=names) for part in data.parts))
    return replace(data, baselines=names)


def run_quantile_levels(cfg: Config) -> list[float] | None:
    """The quantile levels a run forecasts and scores (`quantile_levels`), or None when it
    scores no interval (no quantiles, no interval levels, a point loss)."""
    intervals = cfg.evaluation.intervals
    if cfg.data.quantiles or intervals.levels or cfg.training.loss in DISTRIBUTION_LOSSES:
        return quantile_levels(cfg.data.quantiles, intervals.levels)
    return None


def export_whole(model, run: RunDir, formats) -> None:
    """Exports `model` into a temporary folder beside `RUN/export/`, renamed to it once whole:
    an export stopped midway (Ctrl-C) leaves no `RUN/export/`, and the resume of the run,
    which ends with the same model, removes the stopped try and exports again."""
    from lstm_app.serving.exporter import export_model  # TensorFlow's export machinery

    final = run.export_dir
    tmp = temporary_path(final)
    shutil.rmtree(tmp, ignore_errors=True)  # a stopped try's
    export_model(model, run, formats, out=tmp, where=str(final))
    # an export/ already here is this run's own, whole, from a try stopped just after the
    # rename (a new run's directory starts empty; a finished run is never resumed)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def write_model_metrics_export(cfg: Config, run: RunDir, model, metrics: dict):
    """Every job's last writes: `model.keras`, `metrics.json` (NaN and infinities as null),
    then the export of `export.formats`, if any."""
    run.write_file(RunDir.MODEL, model.save)
    run.write_metrics(finite_or_none(metrics))
    if cfg.export.formats:
        export_whole(model, run, cfg.export.formats)
