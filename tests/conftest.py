"""Shared fixtures: small configs written to `tmp_path`, and the repository's paths."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ARTICLE_CONFIG = REPO / "configs" / "article.yaml"
LSTM_TRAIN = Path(sys.executable).with_name("lstm-train")  # the installed console script

# what a finished run directory holds (best.keras only with the checkpoint callback)
RUN_FILES = {
    "config.yaml",
    "run.json",
    "history.csv",
    "model.keras",
    "metrics.json",
    "scaler.json",
    "forecasts.csv",
    "loss.png",
    "forecast.png",
}


def lstm_train(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """Runs the `lstm-train` console script as a user would; captures its output."""
    return subprocess.run(
        [str(LSTM_TRAIN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def tiny_config_dict(**sections) -> dict:
    """A config that trains in about a second: a short sine, one small LSTM, three epochs."""
    raw = {
        "name": "tiny",
        "seed": 7,
        "data": {
            "source": "sine",
            "sine": {"length": 160, "period": 16, "amplitude": 50.0, "trend": 0.5, "noise": 1.0},
            "window": {"input_width": 8, "horizon": 1},
            "split": {"train": 0.6, "val": 0.2, "test": 0.2},
        },
        "model": {"layers": [{"type": "lstm", "units": 8}, {"type": "dense", "units": 1}]},
        "training": {"epochs": 3, "batch_size": 16},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values} if isinstance(values, dict) else values
    return raw


def write_yaml(path: Path, raw) -> Path:
    """Writes `raw` as YAML to `path`; returns the path."""
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny_config_file(tmp_path) -> Path:
    return write_yaml(tmp_path / "tiny.yaml", tiny_config_dict())


def stop_after_epoch(monkeypatch, stop_at: int, error=KeyboardInterrupt) -> None:
    """Makes training stop (as Ctrl-C would, or with `error`) right after epoch `stop_at`
    (from 1) is saved as a resume point."""
    from lstm_app.training.resume import ResumePoint  # TensorFlow: only for the tests using it

    save = ResumePoint.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch + 1 == stop_at:
            raise error

    monkeypatch.setattr(ResumePoint, "on_epoch_end", on_epoch_end)


def whole_and_resumed(tmp_path, monkeypatch, args, stop_at: int = 2) -> tuple[Path, Path]:
    """Runs `lstm-train ARGS` twice: into `tmp_path/whole` uninterrupted, and into
    `tmp_path/resumed` stopped as Ctrl-C would after epoch `stop_at` (exit 130), then resumed
    with `--resume`; asserts the exit statuses and returns the two run directories."""
    from lstm_app.cli import lstm_train

    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert lstm_train.main([*args, "--run-dir", str(whole)]) == 0
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, stop_at)
        assert lstm_train.main([*args, "--run-dir", str(resumed)]) == 130
    assert lstm_train.main([*args, "--run-dir", str(resumed), "--resume"]) == 0
    return whole, resumed
