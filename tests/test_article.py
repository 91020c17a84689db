"""The main job, in full: the article's config trains its 200 epochs and writes the run, and
the gate-equation version of the same model gives the same metrics."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, RUN_FILES, lstm_train

pytestmark = pytest.mark.slow


def _run(config: str, run_dir):
    done = lstm_train(
        "--config", REPO / "configs" / config, "--run-dir", run_dir, "--quiet", timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done, json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture(scope="module")
def article_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "article"
    return (run_dir, *_run("article.yaml", run_dir))


def test_article_config_trains_200_epochs_and_writes_the_run(article_run):
    run_dir, done, metrics = article_run
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES | {"export"}
    assert len(pd.read_csv(run_dir / "history.csv")) == 200
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


def test_gate_lstm_article_config_matches_the_builtin_one(article_run, tmp_path):
    run_dir = tmp_path / "article_gate"
    _, metrics = _run("article_gate.yaml", run_dir)
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES | {"gates.png", "export"}
    # same seed, same initial weights, same equations: the same loss, epoch by epoch, until
    # float rounding (a few 1e-7) grows in the later epochs (bench/seed_spread.py shows where,
    # and that the test MAE then stays within the seed-to-seed spread)
    builtin = pd.read_csv(article_run[0] / "history.csv")["loss"].to_numpy()
    gate = pd.read_csv(run_dir / "history.csv")["loss"].to_numpy()
    assert len(gate) == len(builtin) == 200
    np.testing.assert_allclose(gate[:50], builtin[:50], rtol=1e-4)
    for name in ("persistence", "seasonal_naive"):
        assert metrics["test"]["mae"] < metrics["baselines"][name]["mae"]
        assert article_run[2]["test"]["mae"] < metrics["baselines"][name]["mae"]
