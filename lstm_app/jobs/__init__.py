"""The kinds of run, one job each (`lstm_app.jobs.base.Job`): a single series, a panel, a
panel read shard by shard, a classification. `job_for(cfg)` chooses one, once, from the
config (`lstm_app.config.kinds.run_kind`); a finished run's job is `job_named(run.read_kind())`.

A new kind of run is one module here (its `Job` subclass) and its name in `JOBS` and in
`lstm_app.config.kinds.RUN_KINDS` (see docs/architecture.md).
"""

from lstm_app.config.kinds import RUN_KINDS, run_kind
from lstm_app.jobs.base import Job
from lstm_app.jobs.classification import ClassificationJob
from lstm_app.jobs.panel import PanelJob
from lstm_app.jobs.series import SeriesJob
from lstm_app.jobs.stream import StreamJob

JOBS: dict[str, Job] = {
    job.kind: job for job in (SeriesJob(), PanelJob(), StreamJob(), ClassificationJob())
}
if tuple(JOBS) != tuple(RUN_KINDS):  # one job per kind the config names, in its order
    raise RuntimeError(f"lstm_app.jobs: jobs {tuple(JOBS)} != run kinds {tuple(RUN_KINDS)}")


def job_for(cfg) -> Job:
    """The job of config `cfg` (a Config, or a written config.yaml's plain values)."""
    return JOBS[run_kind(cfg)]


def job_named(kind: str) -> Job:
    """The job of the kind a run directory records (`RunDir.read_kind`)."""
    return JOBS[kind]
