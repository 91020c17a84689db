"""Data that feeds its own training: what `lstm_app.training.fit` asks of prepared data,
whatever its kind, so that the fit holds no branch per kind of data.

    data.train_dataset(training, seed, epoch)   # batches of the train split, epoch e's order
    data.val_dataset(batch_size)                # batches of the val split, in order
    data.train_batches(training)                # batches an epoch has (in memory only)
    data.val_count()                            # val windows (or sequences)
    data.held_validation(max_bytes)             # every val window at once, or None
    data.input_width()                          # steps a window reads (None: sequences)
    data.streamed, data.masked                  # read shard by shard; padded and masked

`PreparedData` (one series, or a panel's series joined) has these from `WindowFeed` below;
`PreparedSequences` (`lstm_app.data.sequences`) and `ShardedPanel`
(`lstm_app.data.shards`) have their own. A new kind of prepared data writes them too.
"""

import math
from typing import Protocol

from lstm_app.config.schema import TrainingConfig
from lstm_app.data.windows import all_windows, every_stride, make_dataset


class TrainingInput(Protocol):
    """The training input `lstm_app.training.fit.fit_model` takes."""

    streamed: bool  # read shard by shard: batches per epoch and validation not held
    masked: bool  # padded, masked sequences: the fused kernel does not apply

    def train_dataset(self, training: TrainingConfig, seed: int, epoch):
        """`tf.data.Dataset` of the train batches: epoch e's order drawn from `(seed, e)`;
        `epoch` an int, an int64 `tf.Variable` (read as each epoch begins), or a `range` of
        epochs, their batches one after another."""

    def val_dataset(self, batch_size: int):
        """`tf.data.Dataset` of the val batches, in order (one pass)."""

    def train_batches(self, training: TrainingConfig) -> int:
        """The train batches one epoch has (not asked of streamed data)."""

    def val_count(self) -> int:
        """The val windows (or sequences)."""

    def held_validation(self, max_bytes: int):
        """`(inputs, targets)` tensors of every val window, in order, or None when they
        would take more than `max_bytes` (or the data is streamed)."""

    def input_width(self) -> int | None:
        """The steps one input reads (None when sequences have their own lengths)."""


class WindowFeed:
    """`TrainingInput` of data cut into windows held in memory (`PreparedData`: its
    `splits`), batched by `lstm_app.data.windows.make_dataset`."""

    streamed = False
    masked = False

    def train_dataset(self, training: TrainingConfig, seed: int, epoch):
        return make_dataset(
            every_stride(self.splits["train"], training.stride),
            training.batch_size,
            training.shuffle,
            seed,
            epoch,
            training.windows_per_series,
        )

    def val_dataset(self, batch_size: int):
        return make_dataset(self.splits["val"], batch_size)

    def train_batches(self, training: TrainingConfig) -> int:
        """`ceil(windows / batch_size)`: every `training.stride`-th window, or
        `training.windows_per_series` drawn from each series."""
        if training.windows_per_series is not None:  # drawn from each series (make_dataset)
            series = self.splits["train"].series_windows
            n = (1 if series is None else len(series)) * training.windows_per_series
        else:
            n = every_stride(self.splits["train"], training.stride).n_windows
        return math.ceil(n / training.batch_size)

    def val_count(self) -> int:
        return self.splits["val"].n_windows

    def held_validation(self, max_bytes: int):
        split = self.splits["val"]
        size = 4 * split.n_windows * (split.input_width * split.features.shape[-1] + split.horizon)
        return all_windows(split) if size <= max_bytes else None

    def input_width(self) -> int:
        return self.splits["train"].input_width
