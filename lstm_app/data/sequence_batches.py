"""Batches of labelled sequences for training and inference: `tf.data` datasets of a split of
`PreparedSequences`, each epoch in its own `(seed, epoch)` order, and the class weights of
`training.class_weights: balanced`."""

from typing import TYPE_CHECKING

import numpy as np

from lstm_app.data.windows import index_batches, prefetched

if TYPE_CHECKING:  # for annotations only
    from lstm_app.data.sequences import PreparedSequences


def class_weights(data: "PreparedSequences") -> np.ndarray:
    """`(classes,)` `training.class_weights: balanced`: n / (classes * count) of each class in
    the train split, so that every class weighs as much in the loss (a class absent: 0)."""
    counts = data.counts("train").astype(np.float64)
    n, k = counts.sum(), len(counts)
    return np.divide(n, k * counts, out=np.zeros_like(counts), where=counts > 0)


def sequence_dataset(
    data: "PreparedSequences",
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
    import tensorflow as tf

    labels = data.labels[split]
    n = len(labels)
    x = _inputs_tensor(data, split)
    y = tf.constant(labels)
    w = None if weights is None else tf.constant(weights[labels], tf.float32)

    def gather(rows):
        if w is None:
            return tf.gather(x, rows), tf.gather(y, rows)
        return tf.gather(x, rows), tf.gather(y, rows), tf.gather(w, rows)

    return prefetched(index_batches(n, batch_size, shuffle, seed, epoch).map(gather), epoch)


def held_sequences(data: "PreparedSequences", split: str, max_bytes: int):
    """`(inputs, labels)` tensors of every sequence of `split`, in order, or None when its
    inputs take more than `max_bytes`."""
    import tensorflow as tf

    if data.inputs[split].nbytes > max_bytes:
        return None
    return _inputs_tensor(data, split), tf.constant(data.labels[split])


def _inputs_tensor(data: "PreparedSequences", split: str):
    """The inputs of `split` as one tensor: sequences `(k, steps, features)` float32, or the
    texts `(k,)` as strings."""
    import tensorflow as tf

    inputs = data.inputs[split]
    return tf.constant(inputs.astype(str) if data.is_text else inputs)
