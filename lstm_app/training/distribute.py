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

`multi_worker` is `tf.distribute.MultiWorkerMirroredStrategy`: the same on every device of
several processes (workers, one per machine), which find each other through `TF_CONFIG`
(`Cluster`, `tf_config`); each worker reads every `len(workers)`-th piece of each global batch
(`sharded_by_data`). It must be created before TensorFlow runs anything in the process
(`strategy_of` says so in one line otherwise), and Keras's `fit` needs `multi_worker_fix`.

On a CPU the stacked LSTM layers otherwise train fused (`lstm_app.training.fused`), a graph
that is not replicated: under a strategy they train unfused (`trains_fused`).
"""

import contextlib
import functools
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from lstm_app.config.schema import DistributeConfig
from lstm_app.errors import UserInputError

TF_CONFIG = "TF_CONFIG"  # the environment variable that tells TensorFlow the cluster


@dataclass(frozen=True)
class Cluster:
    """The workers of a multi-worker run and this process's place among them.

    Attributes:
        workers: every worker's `host:port`, in order (a `chief` task first, if TF_CONFIG has
            one).
        index: this process's position in `workers`.
        chiefs: 1 if TF_CONFIG names a `chief` task (first in `workers`), else 0.
    """

    workers: tuple[str, ...]
    index: int
    chiefs: int = 0

    def task_index(self, job: str, task: int) -> int | None:
        """The position in `workers` of TensorFlow's task `/job:JOB/task:TASK`; None if none."""
        index = task + (self.chiefs if job == "worker" else 0)
        return index if job in ("chief", "worker") and index < len(self.workers) else None

    @property
    def chief(self) -> bool:
        """Whether this process is the chief (the first worker): the one that writes the run."""
        return self.index == 0

    def describe(self) -> str:
        """`worker 1 of 2 (chief)`."""
        return f"worker {self.index} of {len(self.workers)}{' (chief)' if self.chief else ''}"


def tf_config(workers: list[str], index: int) -> str:
    """The `TF_CONFIG` of worker `index` among `workers` (`host:port` each)."""
    return json.dumps(
        {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}}
    )


def parse_workers(text: str, option: str = "--workers") -> list[str]:
    """`["host:port", ...]` of `host:port,host:port`; UserInputError naming the bad entry."""
    workers = [part.strip() for part in text.split(",")]
    for i, worker in enumerate(workers):
        host, _, port = worker.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserInputError(
                f"{option}: entry {i + 1} is {worker!r}; expected host:port (a port from 1 to "
                "65535), e.g. 10.0.0.1:12345"
            )
        if worker in workers[:i]:
            raise UserInputError(f"{option}: {worker!r} is listed twice")
    if len(workers) < 2:
        raise UserInputError(f"{option}: lists one worker; a multi-worker run needs two or more")
    return workers


def cluster_of(text: str | None) -> Cluster:
    """The Cluster that a `TF_CONFIG` value describes: `{"cluster": {"chief": [..], "worker":
    [..]}, "task": {"type": "worker", "index": I}}` (a `chief` list is optional). UserInputError
    naming what is missing or wrong."""
    if not text:
        raise UserInputError(
            "training.distribute.strategy: multi_worker needs the cluster: give --workers "
            "host:port,host:port --worker-index I, or set TF_CONFIG"
        )
    try:
        spec = json.loads(text)
    except ValueError:
        raise UserInputError(f"{TF_CONFIG}: not JSON: {text[:60]!r}") from None
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    task = spec.get("task") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UserInputError(f'{TF_CONFIG}: expected {{"cluster": {{...}}, "task": {{...}}}}')
    other = sorted(set(cluster) - {"chief", "worker"})
    if other:
        raise UserInputError(
            f"{TF_CONFIG}: cluster.{other[0]}: only chief and worker tasks train here "
            "(MultiWorkerMirroredStrategy)"
        )
    chiefs, workers = cluster.get("chief", []), cluster.get("worker", [])
    if not isinstance(chiefs, list) or not isinstance(workers, list) or len(chiefs) > 1:
        raise UserInputError(
            f"{TF_CONFIG}: cluster: expected lists of host:port, one chief at most"
        )
    kind, index = task.get("type"), task.get("index", 0)
    tasks = {"chief": chiefs, "worker": workers}
    if kind not in tasks or not isinstance(index, int) or not 0 <= index < len(tasks[kind]):
        raise UserInputError(
            f"{TF_CONFIG}: task {{type: {kind!r}, index: {index!r}}} is not in the cluster "
            f"({len(chiefs)} chief, {len(workers)} worker)"
        )
    everyone = tuple(str(w) for w in [*chiefs, *workers])
    if len(everyone) < 2:
        raise UserInputError(f"{TF_CONFIG}: one task; a multi-worker run needs two or more")
    return Cluster(everyone, index + (len(chiefs) if kind == "worker" else 0), len(chiefs))


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

    if distribute.strategy == "multi_worker":  # this worker's devices (its GPUs, or its CPU)
        return list(strategy_of(distribute).extended.worker_devices)
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
    """The `tf.distribute` strategy of `training.distribute`, or None for `none`.
    `multi_worker` reads the cluster from `TF_CONFIG`; UserInputError if TensorFlow already ran
    something in this process (a strategy over several workers must come first)."""
    if distribute.strategy == "multi_worker":
        return _multi_worker_strategy()
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


@functools.cache
def _multi_worker_strategy():
    """`tf.distribute.MultiWorkerMirroredStrategy` of `TF_CONFIG`, made once per process:
    TensorFlow sets up its collectives once, before anything else runs (a second strategy
    reuses them, with a warning), so every model of the process shares this one."""
    import tensorflow as tf

    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as err:  # "Collective ops must be configured at program startup"
        raise UserInputError(
            "training.distribute.strategy: multi_worker must start before TensorFlow runs "
            f"anything in this process ({err}); run lstm-train, or call train() first thing in "
            "a fresh Python process"
        ) from None


def is_multi_worker(strategy) -> bool:
    """Whether `strategy` spans several workers (processes): it has more replicas than this
    worker has devices."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)


def sharded_by_data(dataset):
    """`dataset` with `AutoShardPolicy.DATA`: under several workers, worker w of W reads the
    w-th of each W pieces a global batch is split into (the union of their batches is the
    single-process epoch, in its order), not whole files."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def agreed_epoch(strategy, saved: list[int]) -> int:
    """The last epoch that every worker saved: the smallest of the workers' latest (`saved`:
    the epochs this worker holds resume points of; a collective, every worker must call it)."""
    import tensorflow as tf

    mine = max(saved, default=0)
    values = strategy.run(lambda: tf.constant([mine], tf.int64))
    return int(np.min(strategy.gather(values, axis=0).numpy()))


def weights_digest(model) -> str:
    """The SHA-256 of the model's weights, their raw bytes in order: equal on every worker of
    a multi-worker run."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def local_copy(model):
    """`model` as a `.keras` file loads it outside any strategy: the same layers, weights,
    compile settings and optimizer state. What the chief of a multi-worker run evaluates,
    predicts with and saves alone (a distributed model's `predict` waits for every worker)."""
    import tempfile
    from pathlib import Path

    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return keras.models.load_model(path)


def model_scope(strategy):
    """The scope to build and compile a model in: `strategy.scope()`, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def trains_fused(fused: bool, distribute: DistributeConfig) -> bool:
    """Whether `training.fused` can hold: not under a strategy (the fused graph is not
    replicated)."""
    return fused and distribute.strategy == "none"
