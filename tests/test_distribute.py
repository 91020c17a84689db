"""Training under tf.distribute (issue 18): `training.distribute.strategy: mirrored` over 2
logical CPU devices gives the single-device losses (panels in memory and streamed from shards
too), resumes, and writes the same run directory; a device the machine lacks is one line.
Several workers: tests/test_multi_worker.py."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tiny_config_dict, write_yaml

from lstm_app.config.load import config_from_dict
from lstm_app.errors import UserInputError
from lstm_app.training.distribute import replica_devices, strategy_of

SCRIPT = Path(__file__).with_name("mirrored_run.py")  # a fresh process: 2 logical CPU devices


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    """The runs of `mirrored_run.py`: single device, mirrored, mirrored stopped and resumed."""
    out = tmp_path_factory.mktemp("mirrored")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), "5"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_mirrored_on_two_devices_gives_the_single_device_losses(mirrored):
    out, runs = mirrored
    assert runs["replicas"] == 2
    for key in ("loss", "val_loss"):
        assert len(runs["mirrored"]["history"][key]) == 5
        assert runs["mirrored"]["history"][key] == pytest.approx(
            runs["single"]["history"][key], rel=1e-4
        )
    assert runs["mirrored"]["test"]["mae"] == pytest.approx(runs["single"]["test"]["mae"], rel=1e-4)
    status = json.loads((out / "mirrored" / "run.json").read_text())
    assert status["distribute"] == {
        "strategy": "mirrored",
        "devices": ["/cpu:0", "/cpu:1"],
        "fused": False,
    }
    assert "distribute" not in json.loads((out / "single" / "run.json").read_text())
    written = {p.name for p in (out / "mirrored").iterdir()}
    assert written == {p.name for p in (out / "single").iterdir()}  # the same run directory


@pytest.mark.slow
def test_a_mirrored_run_resumes_where_it_stopped(mirrored):
    _, runs = mirrored
    for key in ("loss", "val_loss"):
        assert runs["resumed"]["history"][key] == pytest.approx(
            runs["mirrored"]["history"][key], rel=1e-6
        )
    for key in ("mae", "rmse", "mase"):
        assert runs["resumed"]["test"][key] == pytest.approx(
            runs["mirrored"]["test"][key], rel=1e-6
        )


def test_a_device_this_machine_lacks_is_one_line(tmp_path, capsys):
    from lstm_app.cli import lstm_train

    raw = tiny_config_dict(training={"distribute": {"strategy": "mirrored", "devices": ["/gpu:7"]}})
    cfg = config_from_dict(raw)
    with pytest.raises(UserInputError, match=r"devices\[0\]: '/gpu:7' is not a device"):
        replica_devices(cfg.training.distribute)
    config = write_yaml(tmp_path / "tiny.yaml", raw)
    assert lstm_train.main(["--config", str(config), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "training.distribute.devices[0]" in err
    assert not (tmp_path / "run" / "run.json").exists()  # nothing that looks like a run


def test_mirrored_without_devices_takes_the_gpus_or_the_cpu():
    import tensorflow as tf

    distribute = config_from_dict(
        tiny_config_dict(training={"distribute": {"strategy": "mirrored"}})
    ).training.distribute
    gpus = tf.config.list_logical_devices("GPU")
    expected = [d.name for d in gpus] or [tf.config.list_logical_devices("CPU")[0].name]
    assert replica_devices(distribute) == expected
    assert strategy_of(distribute).num_replicas_in_sync == len(expected)
    none = config_from_dict(tiny_config_dict()).training.distribute
    assert replica_devices(none) == [] and strategy_of(none) is None


@pytest.mark.slow
def test_a_panel_with_a_static_embedding_trains_mirrored(mirrored):
    _, runs = mirrored
    single, mirrored_run = runs["panels"]["single"], runs["panels"]["mirrored"]
    assert mirrored_run["history"]["loss"] == pytest.approx(single["history"]["loss"], rel=1e-4)
    assert mirrored_run["mase"] == pytest.approx(single["mase"], rel=1e-4)


@pytest.mark.slow
def test_a_streamed_panel_trains_mirrored(mirrored):
    """Read shard by shard, its first batch may split unevenly across the replicas (the
    Keras build fix, `lstm_app.training.multi_worker_fix`, takes it)."""
    _, runs = mirrored
    single, mirrored_run = runs["panels"]["streamed single"], runs["panels"]["streamed mirrored"]
    assert len(mirrored_run["history"]["loss"]) == len(single["history"]["loss"]) > 0
    for key in ("loss", "val_loss"):
        assert mirrored_run["history"][key] == pytest.approx(single["history"][key], rel=1e-4)
    assert mirrored_run["mase"] == pytest.approx(single["mase"], rel=1e-4)


def test_lstm_train_says_it_trains_unfused_under_a_strategy(tmp_path, capsys):
    from lstm_app.cli import lstm_train

    raw = tiny_config_dict(training={"epochs": 1, "distribute": {"strategy": "mirrored"}})
    config = write_yaml(tmp_path / "tiny.yaml", raw)
    assert lstm_train.main(["--config", str(config), "--run-dir", str(tmp_path / "run")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("training.distribute: mirrored over 1 device(s)")
    assert "train unfused" in first
    status = json.loads((tmp_path / "run" / "run.json").read_text())
    assert status["distribute"]["fused"] is False
