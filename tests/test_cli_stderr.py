"""A command's stderr holds what the command says, nothing of TensorFlow's start-up chatter:
an error found after TensorFlow loads is still the one line the README promises."""

import subprocess
import sys
from pathlib import Path

from conftest import lstm_train, tiny_config_dict, write_yaml

from lstm_app.cli.common import TENSORFLOW_NOISE

LSTM_PREDICT = Path(sys.executable).with_name("lstm-predict")

NOISE = [  # as TensorFlow 2.21 prints them on import, TF_CPP_MIN_LOG_LEVEL=3 or not
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795772632.009813    3634 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1795772632.010144    3634 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1795769961.337016   17683 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
]


def test_the_noise_filter_drops_tensorflow_start_up_lines_only():
    assert all(TENSORFLOW_NOISE.match(line) for line in NOISE)
    for line in (
        "lstm-train: error: --run-dir x: is not empty",
        "Traceback (most recent call last):",
        "E0000 00:00:1795772632.010144    3634 some_kernel.cc:31] an error TensorFlow reports",
        "W0000 00:00:1795772632.010144    3634 graph.cc:31] a warning of another source",
    ):
        assert not TENSORFLOW_NOISE.match(line), line


def test_training_and_an_error_after_tensorflow_loads_write_only_their_own_lines(tmp_path):
    data = tmp_path / "series.csv"
    data.write_text("y\n" + "".join(f"{(i % 12) * 3 + i / 10}\n" for i in range(120)))
    raw = tiny_config_dict(training={"epochs": 1}, export={"formats": ["keras"]})
    raw["data"] = {**raw["data"], "source": "csv", "path": str(data), "target": "y"}
    raw["data"].pop("sine")
    config = write_yaml(tmp_path / "tiny.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", tmp_path / "run", "--quiet")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    csv = tmp_path / "recent.csv"
    csv.write_text("other\n1\n2\n", encoding="utf-8")  # the model's column is missing
    done = subprocess.run(
        [str(LSTM_PREDICT), "--model", str(tmp_path / "run" / "export"), "--input", str(csv)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lstm-predict: error: "), done.stderr
