"""Where a study lives: Optuna's RDB storage (SQLite by default, or any database URL shared by
several workers), with heartbeats, so that a trial whose worker died is failed and run again;
and the one call into Optuna's private API that `lstm-tune` makes (`fail_trial`)."""

import time
import warnings

from lstm_app.errors import UserInputError

HEARTBEAT_SECONDS = 10  # a running trial writes its heartbeat this often ...
GRACE_SECONDS = 60  # ... and is failed (and run again) when none came for this long
OPEN_ATTEMPTS = 4  # tries to open a shared storage whose tables other workers are creating


def open_storage(url: str):
    """Optuna's RDB storage at `url`, with heartbeats (a trial whose worker died is failed and
    queued again); UserInputError in one line, the password hidden, when it cannot open."""
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        raise UserInputError(
            f"--storage {url}: not a database URL; expected e.g. "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///FILE"
        ) from None
    try:
        for _ in range(OPEN_ATTEMPTS - 1):
            try:
                return _rdb_storage(url)
            except IntegrityError:  # workers creating a new database's tables at the same
                time.sleep(0.5)  # instant collide (optuna/optuna#1092): the next try finds them
        return _rdb_storage(url)
    except ImportError as err:  # the database's driver
        extra = "; pip install 'lstm-app[postgres]'" if url.startswith("postgres") else ""
        raise UserInputError(f"--storage {shown}: its driver is missing ({err}){extra}") from None
    except (SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        detail = next((line for line in str(err).splitlines() if line.strip()), repr(err))
        raise UserInputError(f"--storage {shown}: cannot open it: {detail.strip()}") from None


def _rdb_storage(url: str):
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    with warnings.catch_warnings():  # Optuna marks heartbeats experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            url,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
        )


def fail_stale(study) -> None:
    """Fails the trials whose worker stopped beating its heartbeat; the storage's callback
    queues each again (Optuna's `fail_stale_trials`, marked experimental)."""
    import optuna
    from optuna.storages import fail_stale_trials

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        fail_stale_trials(study)


def fail_trial(study, trial) -> None:
    """Marks `trial` (a FrozenTrial of `study`, left running by a killed search) failed.

    Optuna's private API: `study._storage.set_trial_state_values(trial._trial_id, FAIL)`, the
    call its own `fail_stale_trials` makes for a trial whose heartbeat stopped (Optuna 5.0).
    The public `study.tell(number, state=FAIL)` would also run this process's sampler's
    `after_trial` on a trial it never sampled; the storage's own setter only changes the state.
    Should `Study._storage` or `FrozenTrial._trial_id` go, this function is the place to change.
    """
    from optuna.trial import TrialState

    study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
