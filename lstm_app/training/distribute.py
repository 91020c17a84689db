"""Training under a `tf.distribute` strategy (`training.distribute`).

    strategy = strategy_of(cfg.training.distribute)   # None for `strategy: none`
    with model_scope(strategy):
        model = compile_model(build_model(cfg, feature_names), cfg.training)
    model.fit(...)                                    # each global batch split across replicas

`mirrored` is `tf.distribute.MirroredStrategy`: one replica of the model on each device (the
listed ones, else every visible GPU, else the CPU alone), each global batch of
`training.batch_size` windows split between them, the gradients summed across them before
each step, so the variables stay identical everywhere. The loss each step is the mean over
the global batch, as on one device: the learning rate is left as it is. The model must be
built and compiled inside `model_scope`; Keras's `fit`, `evaluate` and `predict` then
distribute the datasets themselves.

On a CPU the stacked LSTM layers otherwise train fused (`lstm_app.training.fused`), a graph
that is not replicated: under a strategy they train unfused (`trains_fused`).
"""

import contextlib

from lstm_app.config.schema import DistributeConfig
from lstm_app.errors import UserInputError


def _device_key(name: str) -> tuple[str, int]:
    """`("GPU", 0)` for `/gpu:0`, `/device:GPU:0` or `/job:localhost/.../device:GPU:0`."""
    import tensorflow as tf

    spec = tf.DeviceSpec.from_string(name)
    return (spec.device_type or "").upper(), spec.device_index or 0


def replica_devices(distribute: DistributeConfig) -> list[str]:
    """The devices the replicas run on: the listed ones, else every visible GPU, else the CPU
    (`/device:CPU:0`); empty for `strategy: none`. UserInputError naming a listed device this
    machine does not have."""
    if distribute.strategy == "none":
        return []
    import tensorflow as tf

    here = [device.name for device in tf.config.list_logical_devices()]
    known = {_device_key(name) for name in here}
    for i, name in enumerate(distribute.devices):
        try:
            key = _device_key(name)
        except ValueError:
            key = None
        if key not in known:
            raise UserInputError(
                f"training.distribute.devices[{i}]: {name!r} is not a device of this machine; "
                f"it has {', '.join(here)}"
            )
    if distribute.devices:
        return list(distribute.devices)
    gpus = [name for name in here if _device_key(name)[0] == "GPU"]
    return gpus or [name for name in here if _device_key(name)[0] == "CPU"][:1]


def strategy_of(distribute: DistributeConfig):
    """The `tf.distribute` strategy of `training.distribute`, or None for `none`."""
    devices = replica_devices(distribute)
    if not devices:
        return None
    import tensorflow as tf

    if all(_device_key(name)[0] == "CPU" for name in devices):
        # CPU collectives fail on an embedding's sparse gradients (IndexedSlices of another
        # length on each replica: "Shape mismatch in the collective instance"); summing on
        # one device takes them
        return tf.distribute.MirroredStrategy(devices, tf.distribute.ReductionToOneDevice())
    return tf.distribute.MirroredStrategy(devices)  # GPUs: NCCL's all-reduce


def model_scope(strategy):
    """The scope to build and compile a model in: `strategy.scope()`, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def trains_fused(fused: bool, distribute: DistributeConfig) -> bool:
    """Whether `training.fused` can hold: not under a strategy (the fused graph is not
    replicated)."""
    return fused and distribute.strategy == "none"
