"""Training on several machines (issue 18): `training.distribute.strategy: multi_worker`, two
real `lstm-train` processes on loopback ports (ports the OS says are free), against one
process; a worker killed with SIGKILL and every worker restarted with `--resume`; the cluster
from `--workers`/TF_CONFIG and its one-line errors; the Keras fix and its canary."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import LSTM_TRAIN, lstm_train, tiny_config_dict, write_yaml

from lstm_app.cli import lstm_train as cli
from lstm_app.config.load import config_from_dict
from lstm_app.errors import ConfigError, UserInputError
from lstm_app.runs.rundir import RESUME_DIR, RunDir
from lstm_app.training.distribute import TF_CONFIG, Cluster, cluster_of, parse_workers, tf_config
from lstm_app.training.multi_worker_fix import KERAS_ISSUE
from lstm_app.training.resume import ResumePoint, restore_state, saved_epochs

CANARY = Path(__file__).with_name("keras_20585_canary.py")
EPOCHS = 12


def _free_ports(n: int) -> list[str]:
    """`n` loopback addresses `localhost:PORT` on ports the OS says are free now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [f"localhost:{sock.getsockname()[1]}" for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _start_workers(config: Path, run: Path, *extra) -> list[subprocess.Popen]:
    """Both workers of a two-worker `lstm-train` run of `config` into `run`."""
    workers = ",".join(_free_ports(2))
    return [
        subprocess.Popen(
            [
                *(str(LSTM_TRAIN), "--config", str(config), "--run-dir", str(run), "--quiet"),
                *("--workers", workers, "--worker-index", str(i), *extra),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]


def _finish(processes) -> list[tuple[int, str, str]]:
    """`(exit status, stdout, stderr)` of each process, once it ends."""
    done = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        done.append((process.returncode, out, err))
    return done


def _epochs_saved(folder: Path) -> int:
    try:
        return json.loads((folder / RESUME_DIR / "state.json").read_text())["epochs"]
    except (OSError, ValueError):
        return 0


def _roll_back_one_epoch(worker: Path) -> int:
    """Makes worker `worker` (a `.worker-I` folder) look killed while saving its last epoch:
    its `state.json` names the epoch before, whose files it kept. Returns that epoch."""
    folder = worker / RESUME_DIR
    latest = json.loads((folder / "state.json").read_text())["epochs"]
    (folder / "state.json").write_text((folder / f"state-{latest - 1}.json").read_text())
    for name in (f"epoch-{latest}.bin", f"state-{latest}.json"):
        (folder / name).unlink()
    return latest - 1


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process, two workers uninterrupted, and two workers with worker 1 killed with
    SIGKILL (then one epoch behind the chief) and both restarted with `--resume`."""
    folder = tmp_path_factory.mktemp("multi_worker")
    raw = tiny_config_dict(training={"epochs": EPOCHS})
    single = write_yaml(folder / "single.yaml", raw)
    raw["training"]["distribute"] = {"strategy": "multi_worker"}
    config = write_yaml(folder / "multi.yaml", raw)
    found = {"single": lstm_train("--config", single, "--run-dir", folder / "single", "--quiet")}
    found["whole"] = _finish(_start_workers(config, folder / "whole"))

    run = folder / "killed"
    chief, worker = _start_workers(config, run)
    deadline = time.monotonic() + 180
    while _epochs_saved(run / ".worker-1") < 3 and time.monotonic() < deadline:
        assert worker.poll() is None, "the run ended before worker 1 could be killed"
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    found["killed"] = _finish([chief, worker])
    found["listing"] = {p.name for p in run.iterdir()}
    found["chief_saved"] = _epochs_saved(run)
    found["agreed"] = _epochs_saved(run / ".worker-1")
    if found["agreed"] == found["chief_saved"]:  # as if killed while saving its last epoch
        found["agreed"] = _roll_back_one_epoch(run / ".worker-1")
    found["resumed"] = _finish(_start_workers(config, run, "--resume"))

    from test_stream_run import _config, _frame, _shards

    streamed = _config(folder, _shards(folder, _frame()), stream=True)
    found["streamed single"] = lstm_train(
        "--config", streamed, "--run-dir", folder / "streamed-single", "--quiet"
    )
    multi = ["--set", "training.distribute.strategy=multi_worker"]
    found["streamed"] = _finish(_start_workers(streamed, folder / "streamed", *multi))
    return folder, found


def _history(run: Path) -> dict:
    lines = (run / "history.csv").read_text().split()
    columns = list(zip(*(line.split(",") for line in lines[1:]), strict=True))
    values = [[float(v) for v in column] for column in columns[1:]]
    return dict(zip(lines[0].split(",")[1:], values, strict=True))


@pytest.mark.slow
def test_two_workers_train_as_one_process(runs):
    folder, found = runs
    assert found["single"].returncode == 0, found["single"].stderr
    (chief_status, chief_out, chief_err), (status, out, err) = found["whole"]
    assert chief_status == 0 and status == 0, chief_err + err
    waiting, first = chief_out.splitlines()[:2]
    assert waiting.startswith("lstm-train: worker 0 of 2 (chief): waiting for every worker")
    assert first.startswith("training.distribute: multi_worker, worker 0 of 2 (chief)")
    assert out.splitlines()[1].startswith("training.distribute: multi_worker, worker 1 of 2,")
    single, whole = _history(folder / "single"), _history(folder / "whole")
    for key in ("loss", "val_loss"):
        assert len(whole[key]) == EPOCHS
        assert whole[key] == pytest.approx(single[key], rel=1e-4)
    mae = [
        json.loads((folder / name / "metrics.json").read_text())["test"]["mae"]
        for name in ("single", "whole")
    ]
    assert mae[1] == pytest.approx(mae[0], rel=1e-4)
    # the same final weights on both workers: the worker prints its digest, the chief keeps it
    digest = json.loads((folder / "whole" / "run.json").read_text())["distribute"]
    assert out.strip().splitlines()[-1].startswith(f"lstm-train: worker 1 of 2 done: {EPOCHS}")
    assert f"weights sha256 {digest['weights_sha256']}" in out
    assert len(digest["workers"]) == 2 and digest["fused"] is False


@pytest.mark.slow
def test_the_chief_alone_writes_the_run(runs):
    folder, _ = runs
    written = {p.name for p in (folder / "whole").iterdir()}
    assert written == {p.name for p in (folder / "single").iterdir()}  # no .worker-1, no .resume


@pytest.mark.slow
def test_a_killed_worker_stops_the_job_and_every_worker_resumes_to_the_same_run(runs):
    folder, found = runs
    (chief_status, _, chief_err), (status, _, _) = found["killed"]
    assert status == -signal.SIGKILL
    assert chief_status == 1
    line = chief_err.strip().splitlines()[-1]
    assert line.startswith("lstm-train: worker 0 of 2 (chief) lost the other workers (worker 1")
    assert "restart every worker with: lstm-train" in line and "--resume --workers" in line
    # stopped mid-run: the chief's own resume points, worker 1's beside them, no results
    assert found["listing"] >= {".resume", ".worker-1", "run.json", "config.yaml"}
    assert "metrics.json" not in found["listing"]
    # worker 1 one epoch behind the chief: they agree on worker 1's epoch, which both kept
    assert found["agreed"] == found["chief_saved"] - 1 >= 2, found
    for code, _, err in found["resumed"]:
        assert code == 0, err
    for name in ("metrics.json", "forecasts.csv", "history.csv", "scaler.json"):
        assert (folder / "killed" / name).read_bytes() == (folder / "whole" / name).read_bytes()
    written = {p.name for p in (folder / "killed").iterdir()}
    assert written == {p.name for p in (folder / "whole").iterdir()}
    status = json.loads((folder / "killed" / "run.json").read_text())
    whole = json.loads((folder / "whole" / "run.json").read_text())
    assert status["distribute"]["weights_sha256"] == whole["distribute"]["weights_sha256"]


@pytest.mark.slow
def test_a_panel_streamed_from_shards_trains_on_two_workers(runs):
    folder, found = runs
    assert found["streamed single"].returncode == 0, found["streamed single"].stderr
    for code, _, err in found["streamed"]:
        assert code == 0, err
    single, both = _history(folder / "streamed-single"), _history(folder / "streamed")
    for key in ("loss", "val_loss"):
        assert len(both[key]) == len(single[key]) > 0
        assert both[key] == pytest.approx(single[key], rel=1e-4)
    metrics = [
        json.loads((folder / name / "metrics.json").read_text())["panel"]["model"]["mase"]["mean"]
        for name in ("streamed-single", "streamed")
    ]
    assert metrics[1] == pytest.approx(metrics[0], rel=1e-4)
    written = {p.name for p in (folder / "streamed").iterdir()}
    assert written == {p.name for p in (folder / "streamed-single").iterdir()}


@pytest.mark.slow
def test_stock_keras_still_fails_under_two_workers():
    """The canary of `lstm_app.training.multi_worker_fix`: when a Keras release trains under
    two workers without it, this fails, naming the issue."""
    workers = ",".join(_free_ports(2))
    processes = [
        subprocess.Popen(
            [sys.executable, str(CANARY), workers, str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [json.loads(out.strip().splitlines()[-1]) for _, out, _ in _finish(processes)]
    for result in results:
        assert result["stock"] == "failed", (
            f"Keras {keras.__version__} trains under MultiWorkerMirroredStrategy without "
            f"lstm_app.training.multi_worker_fix: {KERAS_ISSUE} looks fixed; check the fix "
            "against the new trainer and remove it if it is no longer needed"
        )
        assert "PerReplica" in result["error"], (
            f"stock Keras fails under two workers, but not as {KERAS_ISSUE} did: "
            f"{result['error']}; check lstm_app.training.multi_worker_fix"
        )


def test_the_fix_replaces_what_keras_still_has():
    from keras.src.backend.tensorflow import trainer

    from lstm_app.training.multi_worker_fix import multi_worker_fix

    names = ("_maybe_symbolic_build", "_symbolic_build")
    missing = [n for n in names if not hasattr(trainer.TensorFlowTrainer, n)]
    missing += [
        n
        for n in ("reduce_per_replica", "_collective_all_reduce_multi_worker")
        if not hasattr(trainer, n)
    ]
    assert not missing, f"Keras {keras.__version__} lacks {missing}: see {KERAS_ISSUE}"
    build, reduce = trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica
    with multi_worker_fix():
        assert trainer.TensorFlowTrainer._maybe_symbolic_build is not build
        assert trainer.reduce_per_replica is not reduce
    assert trainer.TensorFlowTrainer._maybe_symbolic_build is build
    assert trainer.reduce_per_replica is reduce


# ---- the cluster: --workers, TF_CONFIG


def test_tf_config_of_workers_reads_back():
    text = tf_config(["a:1", "b:2", "c:3"], 2)
    assert json.loads(text)["task"] == {"type": "worker", "index": 2}
    cluster = cluster_of(text)
    assert cluster == Cluster(("a:1", "b:2", "c:3"), 2)
    assert not cluster.chief and cluster.describe() == "worker 2 of 3"
    assert cluster_of(tf_config(["a:1", "b:2"], 0)).describe() == "worker 0 of 2 (chief)"


def test_a_chief_task_comes_first():
    spec = {"cluster": {"chief": ["c:1"], "worker": ["w:1", "w:2"]}}
    chief = cluster_of(json.dumps({**spec, "task": {"type": "chief", "index": 0}}))
    worker = cluster_of(json.dumps({**spec, "task": {"type": "worker", "index": 1}}))
    assert chief.workers == worker.workers == ("c:1", "w:1", "w:2")
    assert chief.chief and (worker.index, worker.chief) == (2, False)
    assert worker.task_index("worker", 0) == 1 and worker.task_index("chief", 0) == 0
    assert worker.task_index("ps", 0) is None and worker.task_index("worker", 5) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "needs the cluster: give --workers"),
        ("{nope", "TF_CONFIG: not JSON"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}}', 'expected {"cluster"'),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "cluster.ps: only"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 2}}', "is not in the cluster"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker"}}', "one task; a multi"),
    ],
)
def test_a_bad_tf_config_is_one_line(text, expected):
    with pytest.raises(UserInputError, match=re.escape(expected)):
        cluster_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:1", "lists one worker"),
        ("a:1,b", "entry 2 is 'b'; expected host:port"),
        ("a:1,b:99999", "entry 2 is 'b:99999'"),
        ("a:1,a:1", "'a:1' is listed twice"),
    ],
)
def test_bad_workers_are_one_line(text, expected):
    with pytest.raises(UserInputError, match=expected):
        parse_workers(text)


def test_lost_workers_names_the_stopped_one():
    error = RuntimeError(
        "{{function_node x}} Collective ops is aborted by: Error reported from "
        "/job:worker/task:1: The following tasks are unhealthy (stopped sending heartbeats):\n"
        "/job:worker/replica:0/task:1\nThe tasks have crashed."
    )
    cluster = cluster_of(tf_config(["a:1", "b:2"], 0))
    assert cli.lost_workers(error, cluster) == "worker 1 (b:2) stopped"
    reset = RuntimeError(
        "Graph execution error:\nDetected at node CollectiveReduceV2 ...\nCollective ops is "
        "aborted by: recvmsg:Connection reset by peer\nAdditional GRPC error information from "
        "remote target /job:worker/replica:0/task:1 while calling "
        "/tensorflow.WorkerService/RecvBuf:\n:UNKNOWN:Error received from peer"
    )  # the other form, when the kill lands while the two exchange a tensor
    assert cli.lost_workers(reset, cluster) == "worker 1 (b:2) stopped or cannot be reached"
    assert cli.lost_workers(RuntimeError("other\nlines"), cluster) == "RuntimeError: other"


@pytest.fixture
def multi_config(tmp_path, monkeypatch):
    monkeypatch.setenv(TF_CONFIG, "")  # none, whatever the machine has; put back after
    raw = tiny_config_dict(training={"distribute": {"strategy": "multi_worker"}})
    return write_yaml(tmp_path / "multi.yaml", raw)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "needs the cluster: give --workers host:port,host:port --worker-index I"),
        (["--workers", "a:1,b:2"], "--workers and --worker-index go together"),
        (["--workers", "a:1,b:2", "--worker-index", "2"], "--worker-index: 2; expected 0 to 1"),
        (["--workers", "a:1,b", "--worker-index", "0"], "--workers: entry 2 is 'b'"),
    ],
)
def test_lstm_train_refuses_a_bad_cluster_in_one_line(
    multi_config, tmp_path, capsys, args, expected
):
    run = tmp_path / "run"
    assert cli.main(["--config", str(multi_config), "--run-dir", str(run), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err
    assert not run.exists()  # nothing written


def test_lstm_train_needs_the_run_dir_under_multi_worker(multi_config, capsys):
    args = ["--config", str(multi_config), "--workers", "a:1,b:2", "--worker-index", "0"]
    assert cli.main(args) == 2
    assert "--run-dir: needed under multi_worker" in capsys.readouterr().err


def test_workers_without_the_multi_worker_strategy_is_one_line(tiny_config_file, capsys):
    args = ["--config", str(tiny_config_file), "--workers", "a:1,b:2", "--worker-index", "0"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "--workers:" in err and "set it to multi_worker" in err


def test_multi_worker_refuses_devices_and_auto_transforms():
    devices = {"strategy": "multi_worker", "devices": ["/cpu:0"]}
    with pytest.raises(ConfigError, match=r"devices: lists devices for strategy: mirrored"):
        config_from_dict(tiny_config_dict(training={"distribute": devices}))
    raw = tiny_config_dict(training={"distribute": {"strategy": "multi_worker"}})
    raw["data"]["transforms"] = "auto"
    with pytest.raises(ConfigError, match=r"data.transforms: auto trains a model per candidate"):
        config_from_dict(raw)


def test_lstm_tune_refuses_a_multi_worker_config(multi_config, tmp_path, capsys):
    from lstm_app.cli import lstm_tune

    space = write_yaml(
        tmp_path / "space.yaml", {"parameters": {"training.epochs": {"int": [1, 2]}}}
    )
    args = ["--config", str(multi_config), "--space", str(space), "--trials", "1"]
    assert lstm_tune.main([*args, "--study-dir", str(tmp_path / "study")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lstm-tune trains each trial on one" in err
    assert not (tmp_path / "study").exists()


def test_the_chief_claims_a_run_dir_holding_only_workers_folders(tmp_path):
    run = tmp_path / "run"
    (run / ".worker-1" / RESUME_DIR).mkdir(parents=True)
    assert RunDir.for_training(run, "tiny").path == run
    (run / "mine.txt").write_text("a user's file")
    with pytest.raises(UserInputError, match="is not empty"):
        RunDir.for_training(run, "tiny")


# ---- resume points of a worker: the epoch before kept too


def test_resume_points_keep_the_epoch_before_for_workers(tmp_path):
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")

    def model():
        made = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        made.compile("adam", "mse")
        return made

    seen = {}

    class Weights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch + 1] = self.model.get_weights()

    trained = model()
    saving = ResumePoint(tmp_path, [], keep=2)
    trained.fit(x, x[:, :1], epochs=4, verbose=0, callbacks=[saving, Weights()])
    assert saved_epochs(tmp_path) == [3, 4]
    names = {p.name for p in (tmp_path / RESUME_DIR).iterdir()}
    assert names == {"state.json", "state-3.json", "state-4.json", "epoch-3.bin", "epoch-4.bin"}
    for epoch in (3, 4):
        restored = model()
        state = restore_state(tmp_path, restored, epoch)
        assert state["epochs"] == epoch and len(state["history"]["loss"]) == epoch
        for got, expected in zip(restored.get_weights(), seen[epoch], strict=True):
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(UserInputError, match="not epoch 2, the last one every worker saved"):
        restore_state(tmp_path, model(), 2)
