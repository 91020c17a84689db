"""Run by tests/test_distribute.py in a fresh process (logical devices must be set before
TensorFlow starts): splits the CPU into 2 logical devices, then trains the tiny config of
`conftest` into OUT/<name>/ for each case, and prints each run's history and test metrics as
one JSON line.

    python tests/mirrored_run.py OUT EPOCHS
"""

import json
import sys
from pathlib import Path

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import tiny_config_dict  # noqa: E402

from lstm_app.config.load import config_from_dict  # noqa: E402
from lstm_app.pipeline import train  # noqa: E402
from lstm_app.training.resume import ResumePoint  # noqa: E402


def config(epochs: int, strategy: str):
    distribute = {"strategy": strategy}
    if strategy != "none":
        distribute["devices"] = ["/cpu:0", "/cpu:1"]
    raw = tiny_config_dict(training={"epochs": epochs, "distribute": distribute})
    return config_from_dict(raw)


def stopped_at(epoch: int):
    """ResumePoint.on_epoch_end that fails the run right after epoch `epoch` is saved."""
    save = ResumePoint.on_epoch_end

    def on_epoch_end(self, e, logs=None):
        save(self, e, logs)
        if e + 1 == epoch:
            raise RuntimeError("stopped")

    return on_epoch_end


def panels(out: Path) -> dict:
    """The panel of tests/test_stream_run.py (with a static label: an embedding, whose sparse
    gradients CPU collectives fail on), on one device and mirrored, read in memory and
    streamed from its Parquet shards: `{name: (history, mean MASE)}`."""
    from test_stream_run import _config, _frame, _shards

    from lstm_app.config.load import load_config

    frame = _frame()
    mirrored = [
        "training.distribute.strategy=mirrored",
        "training.distribute.devices=[/cpu:0, /cpu:1]",
    ]
    results = {}
    path = out / "panel.csv"
    frame.to_csv(path, index=False)
    in_memory = _config(out, path, stream=False)
    streamed = _config(out, _shards(out, frame), stream=True)
    for name, config, overrides in (
        ("single", in_memory, []),
        ("mirrored", in_memory, mirrored),
        ("streamed single", streamed, []),
        ("streamed mirrored", streamed, mirrored),
    ):
        folder = out / f"panel-{name.replace(' ', '-')}"
        result = train(load_config(config, overrides), folder, verbose=0)
        results[name] = {
            "history": result.history,
            "mase": result.metrics["panel"]["model"]["mase"]["mean"],
        }
    return results


def main(out: Path, epochs: int) -> None:
    results = {}
    for name, strategy in (("single", "none"), ("mirrored", "mirrored")):
        result = train(config(epochs, strategy), out / name, verbose=0)
        results[name] = {"history": result.history, "test": result.metrics["test"]}
    cfg = config(epochs, "mirrored")
    save = ResumePoint.on_epoch_end
    ResumePoint.on_epoch_end = stopped_at(2)
    try:
        train(cfg, out / "resumed", verbose=0)
        raise AssertionError("the run was not stopped after epoch 2")
    except RuntimeError:
        pass  # stopped, its resume point saved
    finally:
        ResumePoint.on_epoch_end = save
    result = train(cfg, out / "resumed", verbose=0, resume=True)
    results["resumed"] = {"history": result.history, "test": result.metrics["test"]}
    results["replicas"] = result.model.distribute_strategy.num_replicas_in_sync
    results["panels"] = panels(out)
    print(json.dumps(results))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
