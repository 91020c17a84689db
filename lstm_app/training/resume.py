"""Resume: training that survives a crash, a kill or Ctrl-C, and continues exactly.

After every completed epoch, `ResumePoint` saves into `RUN/.resume/`:

    epoch-N.bin   every variable of the model (weights, and the random generators' states that
                  drive dropout) and of its optimizer (step count, learning rate, moments), their
                  raw bytes one after another, in `training_variables` order
    best-N.bin    EarlyStopping's best weights, when it keeps them, likewise
    state.json    epochs completed (N), the names of those two files, the history so far and
                  the callbacks' counters

each written under a temporary name and renamed, `state.json` last, and the files of older
epochs removed after it: a kill at any moment leaves `state.json` naming complete files of one
and the same epoch. A worker of a multi-worker run keeps the epoch before too (`keep=2`, with
its `state-N.json`): a worker killed while saving epoch N leaves the others at N and itself at
N - 1, the epoch they all resume from (`lstm_app.training.distribute.agreed_epoch`).
Raw bytes cost about a millisecond an epoch, where a `.keras` file costs
tens (a run of 200 short epochs would pay seconds).

`lstm-train ... --resume` builds the config's model, puts the saved variables back
(`restore_state`) and fits the remaining epochs; because each epoch's batch order depends on
(seed, epoch) alone (`data.windows.make_dataset`), the resumed run ends with the weights and
metrics of a run that never stopped. An epoch whose loss is not finite is not saved: a diverged run
resumes from its last good epoch.
"""

import json
from functools import partial
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lstm_app.errors import UserInputError
from lstm_app.keras_compat import (
    callback_best_weights,
    callback_state,
    restore_callback_best_weights,
    restore_callback_state,
)
from lstm_app.runs.rundir import RESUME_STATE, RunDir, write_atomic, write_text


def _plain(value):
    """A counter as JSON: numpy and tensor scalars become floats; infinities stay readable."""
    if value is None or isinstance(value, (int, str)):
        return value
    value = float(np.asarray(value))
    return value if np.isfinite(value) else str(value)


def _number(value):
    return float(value) if isinstance(value, str) else value


def training_variables(model: keras.Model) -> list:
    """Every variable that training changes: the model's (weights, random generator states)
    then its optimizer's (step count, learning rate, moments), in a fixed order."""
    return [*model.variables, *model.optimizer.variables]


def _write_bytes(arrays, path):
    """Writes the raw bytes of `arrays`, one after another, to `path`."""
    with open(path, "wb") as file:
        for array in arrays:
            file.write(np.ascontiguousarray(array).tobytes())


def _read_bytes(path, like) -> list[np.ndarray]:
    """The arrays of `_write_bytes`, given arrays or variables `like` them (shapes, dtypes);
    UserInputError if the file's size does not fit."""
    specs = [(tuple(v.shape), np.dtype(str(v.dtype))) for v in like]
    sizes = [int(np.prod(shape)) * dtype.itemsize for shape, dtype in specs]
    data = Path(path).read_bytes()
    if len(data) != sum(sizes):
        raise UserInputError(
            f"{path}: {len(data)} bytes, where the config's model needs {sum(sizes)}; the run "
            "was saved by another model"
        )
    arrays, start = [], 0
    for (shape, dtype), size in zip(specs, sizes, strict=True):
        arrays.append(np.frombuffer(data, dtype, size // dtype.itemsize, start).reshape(shape))
        start += size
    return arrays


class ResumePoint(keras.callbacks.Callback):
    """Saves a resumable state after every epoch; on a resumed run, puts the other callbacks'
    counters back (after their `on_train_begin` has reset them: keep it last in the list).

    Args:
        run_dir: the run directory.
        callbacks: the run's other callbacks, whose counters are saved and restored.
        state: a resumed run's saved state (`restore_state`): the history of the epochs before
            this fit and the counters to restore; None for a new run.
        keep: the number of latest epochs whose files are kept (2: a multi-worker run).
    """

    def __init__(self, run_dir: Path, callbacks, state: dict | None = None, keep: int = 1):
        super().__init__()
        state = state or {}
        self.keep = keep
        self.folder = RunDir(run_dir).resume_dir
        self.callbacks = callbacks
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.counters = state.get("counters", {})
        self.best_weights = state.get("best_weights")
        self._read = None  # reads every training variable in one call (built at first use)

    def on_train_begin(self, logs=None):
        def best_weights():  # read only for a callback that keeps them
            return _read_bytes(self.folder / self.best_weights, self.model.get_weights())

        for callback in self.callbacks:
            saved = self.counters.get(type(callback).__name__, {})
            restore_callback_state(callback, {n: _number(v) for n, v in saved.items()})
            if self.best_weights:
                restore_callback_best_weights(callback, best_weights)

    def _values(self) -> list[np.ndarray]:
        """The training variables' values; one graph call instead of one read per variable."""
        if self._read is None:
            variables = training_variables(self.model)
            read = tf.function(lambda: [tf.identity(v.value) for v in variables])
            self._read = read.get_concrete_function()  # called directly: no retrace checks
        return [value.numpy() for value in self._read()]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        if not np.isfinite(float(logs.get("loss", np.nan))):
            return  # never save a diverged state
        self.folder.mkdir(exist_ok=True)
        done = epoch + 1
        state = {"epochs": done, "variables": f"epoch-{done}.bin", "best_weights": None}
        write_atomic(self.folder / state["variables"], partial(_write_bytes, self._values()))
        counters = {}
        for callback in self.callbacks:
            saved = callback_state(callback)
            if saved:
                counters[type(callback).__name__] = {n: _plain(v) for n, v in saved.items()}
            weights = callback_best_weights(callback)
            if weights is not None:
                state["best_weights"] = f"best-{done}.bin"
                write_atomic(self.folder / state["best_weights"], partial(_write_bytes, weights))
        history = {key: [_plain(v) for v in values] for key, values in self.history.items()}
        state = {**state, "history": history, "counters": counters}
        text = json.dumps(state, allow_nan=False)
        if self.keep > 1:
            write_text(self.folder / _epoch_state(done), text)
        write_text(self.folder / RESUME_STATE, text)
        kept = {RESUME_STATE}
        for epoch in range(done - self.keep + 1, done + 1):
            kept |= {f"epoch-{epoch}.bin", f"best-{epoch}.bin", _epoch_state(epoch)}
        for old in self.folder.iterdir():  # the files of earlier epochs
            if old.name not in kept:
                old.unlink(missing_ok=True)


def _epoch_state(epoch: int) -> str:
    """The name of epoch `epoch`'s own copy of `state.json` (kept with `keep=2`)."""
    return f"state-{epoch}.json"


def saved_epochs(run_dir: Path) -> list[int]:
    """The epochs a run can resume from, in order: the last one saved, and the one before
    when it was kept (`ResumePoint(keep=2)`)."""
    folder = RunDir(run_dir).resume_dir
    try:
        latest = json.loads((folder / RESUME_STATE).read_text(encoding="utf-8"))["epochs"]
    except (OSError, ValueError, KeyError):
        return []
    before = latest - 1 if (folder / _epoch_state(latest - 1)).is_file() else None
    return [e for e in (before, latest) if e]


def restore_state(run_dir: Path, model: keras.Model, epoch: int | None = None) -> dict:
    """Puts a run's last saved epoch (or `epoch`, one of `saved_epochs`) back into `model`
    (built and compiled from the run's config) and its optimizer; returns the state
    (`epochs`, `history`, `counters`, ...). UserInputError if the saved variables do not fit
    the model, or `epoch` was not kept."""
    folder = RunDir(run_dir).resume_dir
    state = json.loads((folder / RESUME_STATE).read_text(encoding="utf-8"))
    if epoch is not None and epoch != state["epochs"]:
        try:
            state = json.loads((folder / _epoch_state(epoch)).read_text(encoding="utf-8"))
        except OSError:
            raise UserInputError(
                f"{folder}: holds epoch {state['epochs']}, not epoch {epoch}, the last one "
                "every worker saved; start the run again in a new run directory"
            ) from None
    state["history"] = {k: [_number(v) for v in values] for k, values in state["history"].items()}
    model.optimizer.build(model.trainable_variables)
    variables = training_variables(model)
    saved = _read_bytes(folder / state["variables"], variables)
    for variable, value in zip(variables, saved, strict=True):
        variable.assign(value)
    return state
