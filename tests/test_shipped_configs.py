"""Every shipped config: valid, commented, pointing at shipped data, and trainable end to end."""

import json
import re

import pytest
from conftest import REPO, lstm_train

from lstm_app.config.load import load_config
from lstm_app.data.panel import prepare_panel
from lstm_app.data.prepare import prepare_data
from lstm_app.data.sequences import prepare_sequences

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


def test_there_is_a_config_for_each_shipped_dataset():
    datasets = {path.name for path in (REPO / "data").glob("*.csv")}
    used = {load_config(path).data.path.name for path in CONFIGS}
    assert datasets <= used


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_is_valid_and_every_key_has_a_comment(path):
    cfg = load_config(path)
    assert cfg.data.path.parent == REPO / "data" and cfg.data.path.is_file()
    if cfg.task == "classification":
        prepare_sequences(cfg.data, cfg.seed)  # the sequences fit the config
    elif cfg.data.series_id is None:
        prepare_data(cfg.data, cfg.seed)  # the data fits the config
    else:
        assert len(prepare_panel(cfg.data, cfg.seed).skipped) == 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if re.match(r"^\s*(- )?\w[\w.]*:", line):
            assert "#" in line, f"{path.name}:{number} has a key without a comment: {line!r}"


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_trains_end_to_end(path, tmp_path):
    run_dir = tmp_path / "run"
    done = lstm_train(
        "--config", path, "--run-dir", run_dir, "--quiet", "--set", "training.epochs=2", timeout=600
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    if metrics.get("task") == "classification":  # sequences: beside the classifiers' baselines
        assert metrics["test"]["sequences"] > 0 and "majority class" in done.stdout
        assert len(metrics["baselines"]) == 2
        return
    if "panel" in metrics:  # many series: scored one by one, summarised
        assert metrics["series"]["scored"] > 0 and "seasonal naive" in done.stdout
        return
    assert metrics["test"]["windows"] > 0
    assert set(metrics["baselines"]) == {"persistence", "seasonal_naive", "mean", "ets", "theta"}
    assert "persistence" in done.stdout and "seasonal naive" in done.stdout
    if path.stem == "pollution":
        assert metrics["data"]["filled"] == {"pm2.5": 2067}
        assert "Missing values (interpolate): filled 'pm2.5' 2067" in done.stdout
