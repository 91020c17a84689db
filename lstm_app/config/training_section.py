"""The `training` section of a config: how the model is compiled and fitted
(`TrainingConfig`), its callbacks (`CallbacksConfig`) and its tf.distribute strategy
(`DistributeConfig`). The optimizers and losses it names are declared in
`lstm_app.config.choices`.
"""

from dataclasses import dataclass, field
from typing import Literal

from lstm_app.config.choices import LOSSES, OPTIMIZERS
from lstm_app.config.validate import bounded, choice, limit, unique
from lstm_app.errors import ConfigError

Monitor = Literal["val_loss", "loss"]


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    patience: int = bounded(20, ge=0, le=limit(1_000_000))  # as training.epochs
    min_delta: float = bounded(0.0, ge=0)
    restore_best_weights: bool = True


@dataclass(frozen=True)
class CheckpointConfig:
    """Keep the best model so far, by `monitor`, as `best.keras` in the run directory."""

    enabled: bool = False
    monitor: Monitor = "val_loss"


@dataclass(frozen=True)
class ReduceLROnPlateauConfig:
    """Multiply the learning rate by `factor` when `monitor` stalls for `patience` epochs."""

    enabled: bool = False
    monitor: Monitor = "val_loss"
    factor: float = bounded(0.5, gt=0, lt=1)
    patience: int = bounded(10, ge=0, le=limit(1_000_000))  # as training.epochs
    min_lr: float = bounded(0.0, ge=0)


@dataclass(frozen=True)
class CSVLogConfig:
    """Append each epoch's losses to `history.csv` as training goes (else written at the end)."""

    enabled: bool = True


@dataclass(frozen=True)
class TerminateOnNaNConfig:
    """Stop training as soon as the loss becomes NaN or infinite."""

    enabled: bool = True


@dataclass(frozen=True)
class TensorBoardConfig:
    """Write TensorBoard logs into RUN/tensorboard/: `tensorboard --logdir RUN/tensorboard`."""

    enabled: bool = False
    update_freq: Literal["epoch", "batch"] | int = "epoch"  # or every N batches
    histogram_freq: int = bounded(0, ge=0, le=limit(1_000_000))  # weights' histograms, epochs


@dataclass(frozen=True)
class CallbacksConfig:
    """Each callback takes `true`/`false` or a mapping of its settings."""

    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    reduce_lr_on_plateau: ReduceLROnPlateauConfig = field(default_factory=ReduceLROnPlateauConfig)
    csv_log: CSVLogConfig = field(default_factory=CSVLogConfig)
    terminate_on_nan: TerminateOnNaNConfig = field(default_factory=TerminateOnNaNConfig)
    tensorboard: TensorBoardConfig = field(default_factory=TensorBoardConfig)


@dataclass(frozen=True)
class DistributeConfig:
    """Train under a `tf.distribute` strategy: `none` (the default); `mirrored`, one replica
    on each of `devices` (default: every visible GPU; with none, the CPU alone); or
    `multi_worker`, one replica on each GPU (else the CPU) of several machines, each running
    `lstm-train --workers ... --worker-index I` (or with TF_CONFIG set). Each global batch of
    `training.batch_size` windows is split across the replicas. The learning rate is not
    rescaled."""

    strategy: Literal["none", "mirrored", "multi_worker"] = "none"
    devices: tuple[str, ...] = unique(())  # e.g. ["/gpu:0", "/gpu:1"]; TensorFlow's names

    def _finish(self):
        if self.devices and self.strategy != "mirrored":
            raise ConfigError(
                ("devices",),
                "lists devices for strategy: mirrored (multi_worker takes every GPU of each "
                "worker, else its CPU)",
            )
        return self


@dataclass(frozen=True)
class TrainingConfig:
    """How the model is compiled and fitted."""

    optimizer: str = choice("adam", OPTIMIZERS)
    learning_rate: float = bounded(0.001, gt=0)
    # default: mean_squared_error for a forecast, cross_entropy for a classification
    loss: str | None = choice(None, LOSSES)
    # task: classification: balanced weighs each train sequence by n / (classes * its class's
    # count), so that every class weighs the same in the loss
    class_weights: Literal["none", "balanced"] = "none"
    # a million epochs: weeks of training even on a tiny series; more is a typo
    epochs: int = bounded(200, ge=1, le=limit(1_000_000))
    # a million windows a batch: more than a step can hold in memory for any real window
    batch_size: int = bounded(64, ge=1, le=limit(1_000_000))
    shuffle: bool = True  # reshuffle the training windows every epoch
    # train on every stride-th window of each series (1: every window)
    stride: int = bounded(1, ge=1, le=limit(1_000_000))
    # each epoch, draw this many training windows of each series (with replacement), from the
    # seed and the epoch alone (as NeuralForecast's windows_batch_size); None: every window
    windows_per_series: int | None = bounded(None, ge=1, le=limit(1_000_000))
    # compile the training step with XLA; auto: where it pays (lstm_app.training.speed)
    jit_compile: bool | Literal["auto"] = "auto"
    # steps per call into the graph; auto: lstm_app.training.speed. 10,000 steps a call: the
    # gain stops after a few dozen (see README, Training speed)
    steps_per_execution: int | Literal["auto"] = bounded("auto", ge=1, le=limit(10_000))
    fused: bool = True  # on a CPU, train stacked LSTM layers in one graph (lstm_app.training.fused)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    distribute: DistributeConfig = field(default_factory=DistributeConfig)
