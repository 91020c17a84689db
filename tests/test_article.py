"""The main job, in full: the article's config trains its 200 epochs and writes the run."""

import json
import math

import pandas as pd
import pytest
from conftest import ARTICLE_CONFIG, REPO, RUN_FILES, lstm_train


@pytest.mark.slow
def test_article_config_trains_200_epochs_and_writes_the_run(tmp_path):
    run_dir = tmp_path / "article"
    done = lstm_train("--config", ARTICLE_CONFIG, "--run-dir", run_dir, "--quiet", timeout=600)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert len(pd.read_csv(run_dir / "history.csv")) == 200
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert all(
        math.isfinite(metrics[split][m])
        for split in ("train", "val", "test")
        for m in ("mae", "rmse")
    )

    # persistence on the last 17 months, straight from the shipped file
    passengers = pd.read_csv(REPO / "data" / "airline-passengers.csv")["Passengers"].to_numpy()
    actual, last_seen = passengers[-17:], passengers[-18:-1]
    naive = metrics["baselines"]["persistence"]
    assert naive["windows"] == metrics["test"]["windows"] == 17
    assert naive["mae"] == pytest.approx(abs(actual - last_seen).mean())
    assert f"{metrics['test']['mae']:.4g}" in done.stdout
