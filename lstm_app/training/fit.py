"""Fit: compile and fit the model of a config on prepared data.

These are the steps every training shares (a run, a backtest fold, a trial); `trainer.py` adds
the run directory around them. How a model is trained is decided here: its optimizer, loss and
speed options (`compile_model`), and whether its stacked LSTM layers train fused
(`training_model`). What it is trained on is the data's own business: every kind of prepared
data gives its datasets, batches and validation (`lstm_app.data.feed.TrainingInput`), so no
line here asks which kind it is. Forecasting with the trained model is
`lstm_app.models.inference`.
"""

import contextlib
import dataclasses
import math
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from lstm_app.config.schema import LOSSES, OPTIMIZERS, CallbacksConfig, Config, TrainingConfig
from lstm_app.errors import RunFailedError
from lstm_app.models.assemble import model_for
from lstm_app.models.ensemble import EachMember, is_ensemble
from lstm_app.registry import load_object
from lstm_app.runs.rundir import RunDir, write_atomic
from lstm_app.training.distribute import (
    is_multi_worker,
    model_scope,
    sharded_by_data,
    strategy_of,
    trains_fused,
)
from lstm_app.training.fused import fuse
from lstm_app.training.multi_worker_fix import multi_worker_fix
from lstm_app.training.speed import speed_options
from lstm_app.training.validation import held_validation


def compile_model(model: keras.Model, training: TrainingConfig) -> keras.Model:
    """Compiles `model` with the optimizer, learning rate and loss of `training`, and its
    speed options (`jit_compile`, `steps_per_execution`: same arithmetic, fewer trips between
    Python and the graph)."""
    optimizer = load_object(OPTIMIZERS[training.optimizer])(learning_rate=training.learning_rate)
    return _compile(model, optimizer, training)


def _compile(model: keras.Model, optimizer, training: TrainingConfig) -> keras.Model:
    """`model.compile` with `optimizer` and the loss and speed options of `training`."""
    jit_compile, steps_per_execution = keras_options(training)
    model.compile(
        optimizer=optimizer,
        loss=_loss(model, training.loss),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def keras_options(training: TrainingConfig) -> tuple[bool, int]:
    """`(jit_compile, steps_per_execution)` to compile with: the config's, "auto" as Keras's
    defaults (no XLA, one step an execution; `with_speed_options` chooses for a fit)."""
    jit = False if training.jit_compile == "auto" else training.jit_compile
    steps = 1 if training.steps_per_execution == "auto" else training.steps_per_execution
    return jit, steps


def _loss(model: keras.Model, name: str):
    """The loss `training.loss` names (`LOSSES`): Keras's own by its name, or a class of ours
    by import path, made for `model` (`for_model`: a distribution head's levels)."""
    entry = LOSSES[name]
    if "." not in entry:  # Keras's name: "mean_squared_error"
        return EachMember(entry) if is_ensemble(model) else entry
    return load_object(entry).for_model(model)


def training_model(model: keras.Model, training: TrainingConfig) -> keras.Model:
    """The model to fit: with `training.fused` on a CPU, `model`'s fused twin (see
    `lstm_app.training.fused`: the same variables, its stacked LSTM layers trained in one
    graph); else, when the speed options are not the ones `model` was compiled with, a twin
    that is the same graph of the same layers; else `model` itself. A twin is compiled with
    `model`'s optimizer (one optimizer state for both) and the speed options: `model` keeps
    its own (`new_model`: Keras's defaults where the config says auto), so that its forecasts
    and the saved `model.keras` do not depend on how it was trained.

    On a GPU, not fused: the built-in layer's cuDNN kernel beats any graph of steps; nor
    under `training.distribute` (`lstm_app.training.distribute`).
    `model` must be compiled (`compile_model`); fitting the twin trains `model`.
    """
    fused = trains_fused(training.fused, training.distribute)  # off, or under a strategy
    if fused and not tf.config.list_physical_devices("GPU"):
        twin = fuse(model)
        if twin is not None:
            return _compile(twin, model.optimizer, training)
    if (model.jit_compile, model.steps_per_execution) == keras_options(training):
        return model
    twin = keras.Model(model.inputs, model.outputs, name=f"{model.name}_trainee")
    return _compile(twin, model.optimizer, training)


def new_model(cfg: Config, data) -> keras.Model:
    """The compiled model of `cfg` for prepared `data` (`lstm_app.models.assemble.model_for`:
    a forecast's inputs, named by its `feature_names`; a classification's classes, scaler or
    vocabulary), its weights drawn from seed `cfg.seed`, built in the scope of the
    `training.distribute` strategy (if any)."""
    keras.utils.set_random_seed(cfg.seed)
    # "auto" options compile as Keras's defaults (`keras_options`); the trainee gets the chosen
    with model_scope(strategy_of(cfg.training.distribute)):
        return compile_model(model_for(cfg, data), cfg.training)


def with_speed_options(cfg: Config, data) -> Config:
    """`cfg` with `training.jit_compile` and `training.steps_per_execution` as values, "auto"
    chosen from `data` (a training input, see `fit_model`) by
    `lstm_app.training.speed.speed_options`. Under a tf.distribute strategy, or for data read
    shard by shard, auto keeps Keras's defaults (no XLA, one step an execution): not measured
    there."""
    training = cfg.training
    if "auto" not in (training.jit_compile, training.steps_per_execution):
        return cfg
    if data.streamed or training.distribute.strategy != "none":
        jit, steps = keras_options(training)
    else:
        jit, steps = speed_options(
            training.jit_compile,
            training.steps_per_execution,
            window=data.input_width(),
            batches=data.train_batches(training),
            epochs=training.epochs,
            fused=training.fused and not data.masked,  # masked: never fused
            gpu=bool(tf.config.list_physical_devices("GPU")),
        )
    resolved = dataclasses.replace(training, jit_compile=jit, steps_per_execution=steps)
    return dataclasses.replace(cfg, training=resolved)


def _settings(callback_config) -> dict:
    """A callback's config as keyword arguments: its keys are the Keras callback's own."""
    return {k: v for k, v in dataclasses.asdict(callback_config).items() if k != "enabled"}


class EpochNumber(keras.callbacks.Callback):
    """Holds the number of the epoch about to run in `epoch`, an int64 variable that the
    training dataset reads each time it is iterated (`data.windows.make_dataset`): epoch e gets the
    window order of epoch e, whether the run started at 0 or resumed at e."""

    def __init__(self, first: int = 0):
        super().__init__()
        self.epoch = tf.Variable(first, dtype=tf.int64, trainable=False)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the best model so far, by `monitor` (a loss: lower is better), as a `.keras` file
    written under a temporary name and renamed, so it is never seen half-written.

    Args:
        path: the `.keras` file.
        monitor: the log to watch.
        saves: the model to write when it is not the one being fitted (a fused twin, see
            `lstm_app.training.fused`, trains the variables of the plain model that is
            saved); default: the fitted model.
    """

    def __init__(self, path: Path, monitor: str = "val_loss", saves: keras.Model | None = None):
        super().__init__()
        self.path = Path(path)
        self.monitor = monitor
        self.best = math.inf
        self.saves = saves

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and math.isfinite(value) and value < self.best:
            self.best = float(value)
            model = self.model if self.saves is None else self.saves
            write_atomic(self.path, model.save)


def make_callbacks(
    callbacks: CallbacksConfig,
    run_dir: Path,
    append_log: bool = False,
    saves=None,
    writes: bool = True,
) -> list[keras.callbacks.Callback]:
    """The Keras callbacks that `training.callbacks` turns on, writing into `run_dir`
    (`append_log`: a resumed run continues `history.csv`; `saves`: the model that the
    checkpoint writes, see `BestCheckpoint`). Without `writes` (a multi-worker run's workers
    but the chief), only those that steer the training: early stopping, the learning rate,
    NaN."""
    made = []
    if callbacks.terminate_on_nan.enabled:
        made.append(keras.callbacks.TerminateOnNaN())
    if callbacks.early_stopping.enabled:
        made.append(keras.callbacks.EarlyStopping(**_settings(callbacks.early_stopping)))
    if callbacks.reduce_lr_on_plateau.enabled:
        settings = _settings(callbacks.reduce_lr_on_plateau)
        made.append(keras.callbacks.ReduceLROnPlateau(**settings))
    if not writes:
        return made
    if callbacks.checkpoint.enabled:
        settings = _settings(callbacks.checkpoint)
        made.append(BestCheckpoint(run_dir / RunDir.BEST, saves=saves, **settings))
    if callbacks.csv_log.enabled:
        log = str(run_dir / RunDir.HISTORY)
        made.append(keras.callbacks.CSVLogger(log, append=append_log))
    if callbacks.tensorboard.enabled:
        settings = _settings(callbacks.tensorboard)
        made.append(keras.callbacks.TensorBoard(str(run_dir / RunDir.TENSORBOARD), **settings))
    return made


# Validation data up to this many bytes is held in memory, for `held_validation`
HELD_VALIDATION_BYTES = 64 * 2**20


def one_iterator(cfg: Config, data, initial_epoch: int, several: bool) -> bool:
    """Whether `fit` reads the whole fit's train batches from one iterator and each validation
    pass from a repeated dataset (`steps_per_epoch`, `validation_steps`): Keras makes a
    dataset's iterator twice an epoch otherwise, about 15 ms each here, as long as an epoch of
    the article's data takes to train. For data in memory, a fit of at least one epoch, one
    process, and steps per execution that divide an epoch's batches (an execution must not
    run into the next epoch)."""
    training = with_speed_options(cfg, data).training
    if data.streamed or several or training.epochs <= initial_epoch:
        return False
    if data.val_count() == 0:
        return False
    return data.train_batches(training) % training.steps_per_execution == 0


def fit_model(
    cfg: Config, data, callbacks, verbose, model=None, initial_epoch: int = 0
) -> tuple[keras.Model, dict]:
    """Fits the model of `cfg` on `data`'s train split, validating on its val split.

    Args:
        data: a training input (`lstm_app.data.feed.TrainingInput`): one series' or a joined
            panel's PreparedData, PreparedSequences, or a ShardedPanel; each gives its own
            datasets, batches per epoch and validation, so the fit is the same for all.
        model: a compiled model to go on training (a resumed run); default: a new one, built
            from seed `cfg.seed`.
        initial_epoch: the epochs already done; training runs the rest, with the batches an
            uninterrupted run would have had.

    Returns:
        The model and the history of this fit `{"loss": [...], "val_loss": [...], ...}`.
    """
    keras.utils.set_random_seed(cfg.seed)
    cfg = with_speed_options(cfg, data)
    training = cfg.training
    if model is None:
        model = new_model(cfg, data)
    # model, or a twin (same variables); masked sequences: never fused (the fused twin has no
    # mask)
    trainee = training_model(
        model, dataclasses.replace(training, fused=False) if data.masked else training
    )
    for callback in callbacks:
        twin = trainee is not model
        if isinstance(callback, BestCheckpoint) and twin and callback.saves is not model:
            raise ValueError(
                "Received a BestCheckpoint without `saves=model` for a model that trains "
                "through a twin (fused, or with its own speed options): it would write the "
                "twin; build it with saves=model."
            )
    number = EpochNumber(initial_epoch)
    several = is_multi_worker(model.distribute_strategy)
    steps, held = {}, None
    if one_iterator(cfg, data, initial_epoch, several):
        epochs = range(initial_epoch, training.epochs)
        train = data.train_dataset(training, cfg.seed, epochs)
        val = data.val_dataset(training.batch_size).repeat()
        steps = {
            "steps_per_epoch": data.train_batches(training),
            "validation_steps": math.ceil(data.val_count() / training.batch_size),
        }
        held = data.held_validation(HELD_VALIDATION_BYTES)
    else:
        train = data.train_dataset(training, cfg.seed, number.epoch)
        val = data.val_dataset(training.batch_size)
    if several:  # each worker reads its share of every global batch
        train, val = sharded_by_data(train), sharded_by_data(val)
    # Keras builds a distributed model from its first batch averaged across replicas: under
    # several workers that fails (keras-team/keras#20585), and on one machine too when the
    # first batch splits unevenly (a shard's last, smaller batch): the fix builds it from
    # the first local replica's batch
    fix = several or (data.streamed and model.distribute_strategy.num_replicas_in_sync > 1)
    validation = contextlib.nullcontext()
    if held is not None:  # each epoch's validation pass in one call (same numbers)
        validation = held_validation(trainee, *held, training.batch_size)
    fixed = multi_worker_fix() if fix else contextlib.nullcontext()
    with warnings.catch_warnings(), fixed, validation:
        if data.streamed:
            # shards read in turn: Keras learns an epoch's batches as the first one ends, and
            # says so as if the data ran short; every epoch has the same batches
            warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
        fit = trainee.fit(
            train,
            validation_data=val,
            epochs=training.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the dataset orders each epoch itself (training.shuffle)
            callbacks=[number, *callbacks],
            verbose=verbose,
            **steps,
        )
    return model, {key: [float(v) for v in values] for key, values in fit.history.items()}


def check_converged(history: dict, best: Path | None = None) -> None:
    """Raises RunFailedError if the training loss became NaN or infinite, naming the first
    epoch (counted from 1) where it did, and `best`, the checkpoint kept from before, if any."""
    bad = [i for i, v in enumerate(history["loss"]) if not math.isfinite(v)]
    if bad:
        kept = f"; the best model before it is kept in {best}" if best and best.is_file() else ""
        raise RunFailedError(
            f"training diverged: the loss became {history['loss'][bad[0]]} at epoch "
            f"{bad[0] + 1}; try a lower training.learning_rate{kept}"
        )
