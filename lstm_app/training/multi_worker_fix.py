"""The fix that lets Keras's `model.fit` train under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585, open as of Keras 3.15.1), applied only while a multi-worker run (or
a streamed panel under `mirrored`, below) fits:

    with multi_worker_fix():
        model.fit(...)

Stock Keras 3.15.1 fails as soon as `fit` starts with more than one worker:
`ValueError: Attempt to convert a value (PerReplica:{...}) with an unsupported type`, raised in
`keras/src/backend/tensorflow/trainer.py`. Two places are at fault, and each gets its
replacement here:

1. `TensorFlowTrainer._maybe_symbolic_build` builds the model from the first batch, which it
   takes as `strategy.reduce("MEAN", batch, axis=None)`: across workers this reduces the
   `(x, y)` tuple itself, which the collective cannot convert. A model is built from the shapes
   of one replica's batch, so the fix takes the first local replica's batch
   (`strategy.experimental_local_results(value)[0]`), as a single-worker strategy does.
2. `reduce_per_replica(..., reduction="auto" | "mean")` reduces each log across workers with
   `strategy.reduce("MEAN", v, axis=0)`: the logs are scalars (a loss, a metric), which have no
   axis 0. The fix reduces a scalar with `axis=None` (the mean over the replicas; the values are
   the same on every replica, as the metrics' variables are summed across them) and anything
   else as Keras does.

With both, two workers train to the same weights as each other and to the losses of one
process (`tests/test_multi_worker.py`).

The first failure has a one-machine form too: under `mirrored`, a panel read shard by shard
can start with a batch that splits unevenly across the replicas (a shard's last, smaller
batch: 2 windows on one replica, 1 on the other), whose mean across them fails (`Inputs to
operation AddN ... must have the same size and shape`). `lstm_app.training.fit` applies the
fix there as well (`tests/mirrored_run.py`). `tests/test_multi_worker.py` also runs the stock `fit`
under two workers and fails, naming the Keras issue, once it no longer fails: then this module
is unnecessary (or must be checked against the new code) and should go.
"""

import contextlib

# the Keras versions where stock `fit` fails under two workers and this fix was checked
KERAS_CHECKED = ("3.15.1",)
KERAS_ISSUE = "keras-team/keras#20585"


def _first_local_batch(self, iterator=None, data_batch=None):
    """`TensorFlowTrainer._maybe_symbolic_build`, building from the first local replica's
    batch instead of a cross-worker mean of it."""
    import tensorflow as tf
    from keras import tree

    strategy = self._distribute_strategy
    if strategy is None:
        return
    if iterator is not None:
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tree.map_structure(
                lambda x: (
                    strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues)
                    else x
                ),
                batch,
            )
            break
    with strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def _scalar_safe_reduce(original):
    """`reduce_per_replica` reducing a scalar log across workers with `axis=None`."""
    from keras import tree
    from keras.src.backend.tensorflow import trainer

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):

            def mean(v):
                return strategy.reduce("MEAN", v, axis=None if len(v.shape) == 0 else 0)

            return tree.map_structure(mean, values)
        return original(values, strategy, reduction)

    return reduce_per_replica


@contextlib.contextmanager
def multi_worker_fix():
    """Applies both replacements to Keras's TensorFlow trainer while the block runs, and puts
    the originals back after it."""
    from keras.src.backend.tensorflow import trainer

    build = trainer.TensorFlowTrainer._maybe_symbolic_build
    reduce = trainer.reduce_per_replica
    trainer.TensorFlowTrainer._maybe_symbolic_build = _first_local_batch
    trainer.reduce_per_replica = _scalar_safe_reduce(reduce)
    try:
        yield
    finally:
        trainer.TensorFlowTrainer._maybe_symbolic_build = build
        trainer.reduce_per_replica = reduce
