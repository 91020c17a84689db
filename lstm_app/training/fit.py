"""Fit: compile and fit the model of a config on prepared data, and forecast with it.

These are the steps every training shares (a run, a backtest fold); `trainer.py` adds the run
directory around them. How a model is trained is decided here: its optimizer, loss and speed
options (`compile_model`), and whether its stacked LSTM layers train fused (`training_model`).
"""

import contextlib
import dataclasses
import math
import warnings
from pathlib import Path
from statistics import NormalDist

import keras
import numpy as np
import tensorflow as tf

from lstm_app.config.schema import LOSSES, OPTIMIZERS, CallbacksConfig, Config, TrainingConfig
from lstm_app.data.prepare import PreparedData, SplitData, every_stride, join_splits
from lstm_app.data.sequences import PreparedSequences
from lstm_app.data.shards import ShardedPanel, stream_dataset
from lstm_app.data.windows import all_windows, index_batches, make_dataset, prefetched
from lstm_app.errors import RunFailedError
from lstm_app.models.build import build_model
from lstm_app.models.classifier import CrossEntropy, build_classifier
from lstm_app.models.heads import GaussianHead, GaussianNLL, PinballLoss, QuantileHead
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
    """The loss `training.loss` names: Keras's, or a distribution head's (its levels read from
    the model's `QuantileHead`)."""
    if name == "quantile":
        return PinballLoss(model.layers[-1].levels)
    if name == "gaussian":
        return GaussianNLL()
    if name == "cross_entropy":
        return CrossEntropy()
    return LOSSES[name]


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
    """The compiled model of `cfg` for prepared `data` (a forecast's inputs, named by its
    `feature_names`; a classification's classes, scaler or vocabulary), its weights drawn from
    seed `cfg.seed`, built in the scope of the `training.distribute` strategy (if any)."""
    keras.utils.set_random_seed(cfg.seed)
    # "auto" options compile as Keras's defaults (`keras_options`); the trainee gets the chosen
    with model_scope(strategy_of(cfg.training.distribute)):
        if isinstance(data, PreparedSequences):
            return compile_model(build_classifier(cfg, data), cfg.training)
        return compile_model(build_model(cfg, data.feature_names), cfg.training)


def with_speed_options(cfg: Config, data) -> Config:
    """`cfg` with `training.jit_compile` and `training.steps_per_execution` as values, "auto"
    chosen from `data` by `lstm_app.training.speed.speed_options`. Under a tf.distribute
    strategy, or for a panel read shard by shard, auto keeps Keras's defaults (no XLA, one
    step an execution): not measured there."""
    training = cfg.training
    if "auto" not in (training.jit_compile, training.steps_per_execution):
        return cfg
    if isinstance(data, ShardedPanel) or training.distribute.strategy != "none":
        jit, steps = keras_options(training)
    else:
        sequences = isinstance(data, PreparedSequences)  # masked: never fused
        jit, steps = speed_options(
            training.jit_compile,
            training.steps_per_execution,
            window=None if sequences else data.splits["train"].input_width,
            batches=_train_batches(cfg, data),
            epochs=training.epochs,
            fused=training.fused and not sequences,
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


# Forecasts go through the model this many windows at a time at least: each window's forecast
# is its own (the same numbers at any batch size, to float32 rounding: bitwise here), and a
# bigger batch makes fewer calls (a 14,000-window split: 0.64 s against 1.0 s at 64, 2 cores)
PREDICT_BATCH = 1024


def predict_batch(batch_size: int) -> int:
    """The batch size to forecast with: `training.batch_size`, or `PREDICT_BATCH` if larger."""
    return max(batch_size, PREDICT_BATCH)


def forecast(model: keras.Model, data: PreparedData, split: SplitData, batch_size: int):
    """The model's forecasts for every window of `split`, `(windows, horizon)`, original units
    (a distribution head's median, or its normal's mean)."""
    outputs = model.predict(make_dataset(split, predict_batch(batch_size)), verbose=0)
    return data.to_original_units(split, point_forecast(model, outputs))


def point_forecast(model: keras.Model, outputs: np.ndarray) -> np.ndarray:
    """`(windows, horizon)` of the model's outputs: as they are, or a distribution head's
    median (`QuantileHead`) or mean (`GaussianHead`)."""
    if outputs.ndim == 2:
        return outputs
    head = model.layers[-1]
    if isinstance(head, QuantileHead):
        return outputs[..., head.levels.index(0.5)]
    return outputs[..., 0]


def forecast_quantiles(model: keras.Model, data: PreparedData, split: SplitData, levels, batch):
    """`(windows, horizon, len(levels))` the model's quantiles at `levels` for every window of
    `split`, in original units; None for a point model. Each quantile is turned back through the
    scaler and the inverse transforms on its own, which keeps it a quantile for monotone
    transforms taken step by step (scaling, log); differencing sums steps, for which it is the
    quantile of paths moving together."""
    head = model.layers[-1]
    if not isinstance(head, QuantileHead | GaussianHead):
        return None
    outputs = model.predict(make_dataset(split, predict_batch(batch)), verbose=0)
    scaled = _quantile_columns(model, outputs, levels)
    return np.stack(
        [data.to_original_units(split, scaled[..., j]) for j in range(len(levels))], axis=-1
    )


def forecast_each(model: keras.Model, parts, split_name: str, batch_size: int, levels=None) -> list:
    """The model's forecasts for the split `split_name` of each of `parts` (PreparedData of the
    series of a panel), `[(windows, horizon)]` in original units: one `predict` over the windows
    of all of them (`join_splits`), then each part's back into its own units (a distribution
    head's median or mean; with `levels`, its quantiles at them, `[(windows, horizon, Q)]`, as
    `forecast_quantiles` gives them)."""
    splits = [part.splits[split_name] for part in parts]
    joined = make_dataset(join_splits(splits), predict_batch(batch_size))
    outputs = model.predict(joined, verbose=0)
    ends = np.cumsum([split.n_windows for split in splits])[:-1]
    if levels is not None:
        scaled = _quantile_columns(model, outputs, levels)
        return [
            np.stack([part.to_original_units(split, q[..., j]) for j in range(len(levels))], -1)
            for part, split, q in zip(parts, splits, np.split(scaled, ends), strict=True)
        ]
    point = point_forecast(model, outputs)
    return [
        part.to_original_units(split, values)
        for part, split, values in zip(parts, splits, np.split(point, ends), strict=True)
    ]


def _quantile_columns(model: keras.Model, outputs: np.ndarray, levels) -> np.ndarray:
    """A distribution head's outputs `(windows, horizon, ..)` -> its quantiles at `levels`,
    `(windows, horizon, len(levels))`, in the model's (scaled) units."""
    head = model.layers[-1]
    if isinstance(head, QuantileHead):
        return outputs[..., [head.levels.index(q) for q in levels]]
    z = np.array([NormalDist().inv_cdf(q) for q in levels])
    return outputs[..., :1] + outputs[..., 1:] * z


def class_weights(data: PreparedSequences) -> np.ndarray:
    """`(classes,)` `training.class_weights: balanced`: n / (classes * count) of each class in
    the train split, so that every class weighs as much in the loss (a class absent: 0)."""
    counts = data.counts("train").astype(np.float64)
    n, k = counts.sum(), len(counts)
    return np.divide(n, k * counts, out=np.zeros_like(counts), where=counts > 0)


def sequence_dataset(
    data: PreparedSequences,
    split: str,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    epoch=0,
    weights: np.ndarray | None = None,
):
    """A `tf.data.Dataset` of `(inputs, classes)` batches of `split` (with `weights`
    `(classes,)`, `(inputs, classes, weight)`): one epoch, or the epochs of a `range` `epoch`;
    with `shuffle`, the order of epoch e is drawn from `(seed, e)` alone (as `make_dataset`: a
    resumed run sees the same batches).
    Inputs: raw sequences `(batch, max_length, features)` NaN-padded, or texts `(batch,)`."""
    inputs, labels = data.inputs[split], data.labels[split]
    n = len(labels)
    x = tf.constant(inputs.astype(str) if data.is_text else inputs)
    y = tf.constant(labels)
    w = None if weights is None else tf.constant(weights[labels], tf.float32)

    def gather(rows):
        if w is None:
            return tf.gather(x, rows), tf.gather(y, rows)
        return tf.gather(x, rows), tf.gather(y, rows), tf.gather(w, rows)

    return prefetched(index_batches(n, batch_size, shuffle, seed, epoch).map(gather), epoch)


def class_probabilities(model: keras.Model, data: PreparedSequences, split: str, batch_size):
    """`(k, classes)` the model's probabilities for every sequence of `split`, in order."""
    return model.predict(sequence_dataset(data, split, predict_batch(batch_size)), verbose=0)


def training_datasets(cfg: Config, data, epoch, repeat_val: bool = False):
    """`(train, val)` datasets: of `data`'s splits (a PreparedData or PreparedSequences), or read
    shard by shard (a ShardedPanel, `data.stream`); the train order of epoch e is drawn from
    `(cfg.seed, e)`. `epoch`: an int or an int64 `tf.Variable` (one epoch of train batches), or
    a `range` of epochs (their batches one after another). With `repeat_val`, the val batches
    repeat without end (a `fit` given `validation_steps`)."""
    training = cfg.training
    if isinstance(data, PreparedSequences):
        weights = class_weights(data) if training.class_weights == "balanced" else None
        train = sequence_dataset(
            data, "train", training.batch_size, training.shuffle, cfg.seed, epoch, weights
        )
        val = sequence_dataset(data, "val", training.batch_size)
    elif isinstance(data, ShardedPanel):
        train = stream_dataset(
            data,
            training.batch_size,
            cfg.seed,
            epoch,
            training.windows_per_series,
            training.stride,
        )
        val = stream_dataset(data, training.batch_size, cfg.seed, split="val")
    else:
        train = make_dataset(
            every_stride(data.splits["train"], training.stride),
            training.batch_size,
            training.shuffle,
            cfg.seed,
            epoch,
            training.windows_per_series,
        )
        val = make_dataset(data.splits["val"], training.batch_size)
    return train, val.repeat() if repeat_val else val


# Validation data up to this many bytes is held in memory, for `held_validation`
HELD_VALIDATION_BYTES = 64 * 2**20


def held_validation_data(data):
    """`(inputs, targets)` tensors of every val window (or sequence) of `data`, in order, for
    `lstm_app.training.validation.held_validation`; None when they would take more than
    `HELD_VALIDATION_BYTES` (or `data` is read shard by shard)."""
    if isinstance(data, PreparedSequences):
        inputs, labels = data.inputs["val"], data.labels["val"]
        if inputs.nbytes > HELD_VALIDATION_BYTES:
            return None
        return tf.constant(inputs.astype(str) if data.is_text else inputs), tf.constant(labels)
    if isinstance(data, ShardedPanel):
        return None
    split = data.splits["val"]
    size = 4 * split.n_windows * (split.input_width * split.features.shape[-1] + split.horizon)
    return all_windows(split) if size <= HELD_VALIDATION_BYTES else None


def _val_windows(data) -> int:
    """The number of windows (or sequences) in `data`'s val split."""
    if isinstance(data, PreparedSequences):
        return len(data.labels["val"])
    return data.splits["val"].n_windows


def one_iterator(cfg: Config, data, initial_epoch: int, several: bool) -> bool:
    """Whether `fit` reads the whole fit's train batches from one iterator and each validation
    pass from a repeated dataset (`steps_per_epoch`, `validation_steps`): Keras makes a
    dataset's iterator twice an epoch otherwise, about 15 ms each here, as long as an epoch of
    the article's data takes to train. For data in memory, a fit of at least one epoch, one
    process, and steps per execution that divide an epoch's batches (an execution must not
    run into the next epoch)."""
    training = with_speed_options(cfg, data).training
    if isinstance(data, ShardedPanel) or several or training.epochs <= initial_epoch:
        return False
    if _val_windows(data) == 0:
        return False
    return _train_batches(cfg, data) % training.steps_per_execution == 0


def _train_batches(cfg: Config, data) -> int:
    """The number of train batches an epoch of `data` has (a PreparedData or
    PreparedSequences)."""
    training = cfg.training
    if isinstance(data, PreparedSequences):
        n = len(data.labels["train"])
    elif training.windows_per_series is not None:  # drawn from each series (make_dataset)
        series = data.splits["train"].series_windows
        n = (1 if series is None else len(series)) * training.windows_per_series
    else:
        n = every_stride(data.splits["train"], training.stride).n_windows
    return math.ceil(n / training.batch_size)


def fit_model(
    cfg: Config, data: PreparedData, callbacks, verbose, model=None, initial_epoch: int = 0
) -> tuple[keras.Model, dict]:
    """Fits the model of `cfg` on `data`'s train split, validating on its val split.

    Args:
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
    masked = isinstance(data, PreparedSequences)
    trainee = training_model(
        model, dataclasses.replace(training, fused=False) if masked else training
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
        train, val = training_datasets(cfg, data, range(initial_epoch, training.epochs), True)
        steps = {
            "steps_per_epoch": _train_batches(cfg, data),
            "validation_steps": math.ceil(_val_windows(data) / training.batch_size),
        }
        held = held_validation_data(data)
    else:
        train, val = training_datasets(cfg, data, number.epoch)
    if several:  # each worker reads its share of every global batch
        train, val = sharded_by_data(train), sharded_by_data(val)
    # Keras builds a distributed model from its first batch averaged across replicas: under
    # several workers that fails (keras-team/keras#20585), and on one machine too when the
    # first batch splits unevenly (a shard's last, smaller batch): the fix builds it from
    # the first local replica's batch
    fix = several or (
        isinstance(data, ShardedPanel) and model.distribute_strategy.num_replicas_in_sync > 1
    )
    validation = contextlib.nullcontext()
    if held is not None:  # each epoch's validation pass in one call (same numbers)
        validation = held_validation(trainee, *held, training.batch_size)
    fixed = multi_worker_fix() if fix else contextlib.nullcontext()
    with warnings.catch_warnings(), fixed, validation:
        if isinstance(data, ShardedPanel):
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
