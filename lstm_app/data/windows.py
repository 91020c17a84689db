"""Windows: every (input, target) window of a series, as strided views or as `tf.data` batches.

    count_windows(n, width, horizon)  -> n - width - horizon + 1
    window_views(features, target)    -> inputs, targets  every window, as strided views (no copy)
    make_dataset(split, batch_size)   -> tf.data.Dataset  batches gathered from the split's series
    all_windows(split)                -> inputs, targets  every window gathered at once
    index_batches(n, batch_size)      -> tf.data.Dataset  index batches, shuffled per epoch

A split's series is held once: a window is gathered when its batch is (`all_windows` gathers
them all, for a small validation split held in memory). TensorFlow is imported inside the
functions that make datasets, never at import time.
"""

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lstm_app.data.prepare import SplitData


def count_windows(n_rows: int, input_width: int, horizon: int) -> int:
    """How many windows `n_rows` consecutive rows give: `n_rows - input_width - horizon + 1`."""
    return max(0, n_rows - input_width - horizon + 1)


def window_views(features: np.ndarray, target: np.ndarray, input_width: int, horizon: int):
    """Every (input, target) window of a series, as read-only strided views: nothing is copied.

    Window `i` has inputs `features[i : i + input_width]` and targets
    `target[i + input_width : i + input_width + horizon]`.

    Args:
        features: `(time, n_features)`.
        target: `(time,)`.

    Returns:
        inputs `(n, input_width, n_features)` and targets `(n, horizon)`, where
        `n = time - input_width - horizon + 1`.

    Example:
        >>> x, y = window_views(np.arange(6)[:, None], np.arange(6), input_width=3, horizon=2)
        >>> x[:, :, 0].tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3]], [[3, 4], [4, 5]])
    """
    n = count_windows(len(target), input_width, horizon)
    if n == 0:
        raise ValueError(
            f"a series of {len(target)} steps has no window of input_width {input_width} + "
            f"horizon {horizon}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(features, input_width, axis=0)
    inputs = windows[:n].transpose(0, 2, 1)  # (n, n_features, width) -> (n, width, n_features)
    targets = np.lib.stride_tricks.sliding_window_view(target[input_width:], horizon)[:n]
    return inputs, targets


def make_dataset(
    split: "SplitData",
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    epoch=0,
    windows_per_series: int | None = None,
):
    """A `tf.data.Dataset` of `(inputs, targets)` batches cut from one split: one epoch (or
    the epochs of a `range`, see `epoch`).

    The split's series is held once; each batch gathers its windows by index, so memory stays
    that of the series, not `input_width` times it.

    Args:
        split: the split to window.
        batch_size: windows per batch (the last batch may be smaller).
        shuffle: shuffle the windows.
        seed: with `shuffle`, the order of epoch e is drawn from `(seed, e)` alone (a stateless
            shuffle), so a run resumed at epoch k sees exactly the batches of one that never
            stopped.
        epoch: the epoch whose order to give: an int, or an int64 `tf.Variable` that is read
            each time the dataset is iterated (`training.fit.EpochNumber` sets it as each epoch
            begins, so `fit` gets epoch e's order at epoch e); or a `range` of epochs: the
            batches of each of them, one epoch after another (one iterator serves a whole
            `fit`, which then needs `steps_per_epoch`).
        windows_per_series: each epoch, draw this many windows of each series, with
            replacement, from `(seed, epoch)` alone, in a shuffled order (`sampled_starts`);
            None: every window.

    Returns:
        Batches of inputs `(batch, input_width, n_features)` float32 and targets
        `(batch, horizon)` float32; with `split.window_scaling`, each window scaled by its own
        statistics (`lstm_app.data.window_scaling`).
    """
    import tensorflow as tf  # here, so that config and data errors never wait for TensorFlow

    gather = _gatherer(split)
    n = split.n_windows
    if windows_per_series is not None:
        counts = split.series_windows if split.series_windows is not None else [n]
        n = len(counts) * windows_per_series

        def drawn(number):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(number, tf.int64)])
            starts = sampled_starts(counts, windows_per_series, key)
            return tf.data.Dataset.from_tensor_slices(starts).batch(batch_size)

        batches = _epochs(drawn, epoch, math.ceil(n / batch_size))
    else:
        batches = index_batches(n, batch_size, shuffle, seed, epoch)
    return prefetched(batches.map(gather), epoch)


def prefetched(batches, epoch):
    """`batches` prefetched: a buffer tf.data tunes, or for a `range` of epochs (an iterator
    that runs without autotuning, see `_epochs`) a buffer of 4 batches."""
    import tensorflow as tf

    return batches.prefetch(4 if isinstance(epoch, range) else tf.data.AUTOTUNE)


def all_windows(split: "SplitData"):
    """Every window of `split`, in order, gathered at once as `make_dataset`'s batches gather
    them: inputs `(n, input_width, n_features)` and targets `(n, horizon)`, float32 tensors
    (`input_width` times the series' memory)."""
    import tensorflow as tf

    return _gatherer(split)(tf.range(split.n_windows, dtype=tf.int64))


def _gatherer(split: "SplitData"):
    """The function that gathers windows of `split`: `starts (batch,)` int64 -> `(inputs
    (batch, input_width, n_features), targets (batch, horizon))` float32, each window scaled by
    its own statistics with `split.window_scaling`."""
    import tensorflow as tf

    features = tf.constant(split.features)  # (time, n_features)
    target = tf.constant(split.target)  # (time,)
    input_steps = tf.range(split.input_width, dtype=tf.int64)  # (input_width,)
    target_steps = tf.range(split.horizon, dtype=tf.int64) + split.input_width  # (horizon,)
    table = None if split.starts is None else tf.constant(split.starts)  # joined series
    scaling = split.window_scaling
    ops = None
    if scaling is not None:
        from keras import ops

    def gather(starts):  # starts: (batch,) first row of each window (or its index in `table`)
        if table is not None:
            starts = tf.gather(table, starts)
        inputs = tf.gather(features, starts[:, None] + input_steps)  # (batch, width, n_features)
        targets = tf.gather(target, starts[:, None] + target_steps)  # (batch, horizon)
        if scaling is not None:  # each window by its own statistics
            history = tf.gather(target, starts[:, None] + input_steps)  # (batch, width)
            loc, scale = scaling.target_statistics(history, ops)
            inputs, targets = scaling.scale_inputs(inputs, ops), (targets - loc) / scale
        return inputs, targets

    return gather


def _epochs(one_epoch, epoch, batches: int):
    """The batches `one_epoch(number)` gives (a dataset of `batches` elements, `number` an int64
    scalar tensor) for `epoch`: an int, an int64 `tf.Variable` read at each iteration, or a
    `range` of epochs one after another. Its cardinality is known."""
    import tensorflow as tf

    if isinstance(epoch, range):
        numbers = tf.data.Dataset.range(epoch.start, epoch.stop, epoch.step)
        batched = numbers.flat_map(one_epoch).apply(
            tf.data.experimental.assert_cardinality(len(epoch) * batches)
        )
        # An iterator that lives a whole fit: with autotuning, whose thread sleeps longer as
        # the iterator ages, destroying it at the end waited up to 9 s (measured, 2 cores)
        options = tf.data.Options()
        options.autotune.enabled = False
        return batched.with_options(options)
    read = tf.data.Dataset.from_tensors(0).flat_map(  # the number read at each iteration
        lambda _: one_epoch(tf.cast(tf.convert_to_tensor(epoch), tf.int64))
    )
    return read.apply(tf.data.experimental.assert_cardinality(batches))


def index_batches(n: int, batch_size: int, shuffle: bool = False, seed: int = 0, epoch=0):
    """A `tf.data.Dataset` of int64 index batches `(batch,)` over `range(n)`, in order or, with
    `shuffle`, in the order of epoch e drawn from `(seed, e)` alone (a stateless shuffle: a run
    resumed at epoch k sees exactly the batches of one that never stopped). `epoch`: an int or
    an int64 `tf.Variable` read each time the dataset is iterated (one epoch), or a `range` of
    epochs, one after another. Its cardinality is known: `ceil(n / batch_size)` batches an
    epoch."""
    import tensorflow as tf

    batches = math.ceil(n / batch_size)
    if not shuffle and not isinstance(epoch, range):
        # the same batches without flat_map, whose function costs ~5 ms per iterator (2 cores)
        in_order = tf.data.Dataset.range(n).batch(batch_size)
        return in_order.apply(tf.data.experimental.assert_cardinality(batches))

    def one_epoch(number):  # the indices of epoch `number`, shuffled or not, in batches
        rows = tf.range(n, dtype=tf.int64)
        if shuffle:
            key = tf.stack([tf.constant(seed, tf.int64), number])
            rows = tf.random.experimental.stateless_shuffle(rows, seed=key)
        return tf.data.Dataset.from_tensor_slices(rows).batch(batch_size)

    return _epochs(one_epoch, epoch, batches)


def sampled_starts(counts, per_series: int, key):
    """`(len(counts) * per_series,)` int64 indices of windows: `per_series` drawn uniformly,
    with replacement, from each series' own (series `i` holds the `counts[i]` indices after
    those of the series before it), in an order shuffled from `key` `(2,)` int64 alone."""
    import tensorflow as tf

    counts = tf.constant(counts, tf.int64)  # (series,)
    firsts = tf.cumsum(counts, exclusive=True)
    uniform = tf.random.stateless_uniform([tf.size(counts), per_series], seed=key, dtype=tf.float64)
    drawn = firsts[:, None] + tf.cast(
        tf.floor(uniform * tf.cast(counts[:, None], tf.float64)), tf.int64
    )
    return tf.random.experimental.stateless_shuffle(tf.reshape(drawn, [-1]), seed=key + 1)


def every_stride(split: "SplitData", stride: int) -> "SplitData":
    """`split` with every `stride`-th window of each series only (`training.stride`), from
    each series' first window on."""
    if stride == 1:
        return split
    if split.starts is None:
        starts = np.arange(0, split.n_windows, stride, dtype=np.int64)
        return replace(split, starts=starts, series_windows=np.array([len(starts)]))
    kept, counts, first = [], [], 0
    for count in split.series_windows:
        kept.append(split.starts[first : first + count : stride])
        counts.append(len(kept[-1]))
        first += count
    return replace(split, starts=np.concatenate(kept), series_windows=np.array(counts))
