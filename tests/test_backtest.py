"""Backtesting: folds in time order that never train on what they test."""

import itertools

import numpy as np
import pytest
from conftest import tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.config.schema import SplitConfig
from lstm_app.data.prepare import prepare_data, split_bounds
from lstm_app.errors import DataError
from lstm_app.evaluation.backtest import check_folds, fold_bounds, run_backtest
from lstm_app.evaluation.metrics import metrics_report


@pytest.mark.parametrize(("rows", "folds"), [(100, 3), (144, 4), (37, 2)])
def test_folds_never_overlap_their_training_data(rows, folds):
    split = SplitConfig(train=0.6, val=0.2, test=0.2)
    bounds = fold_bounds(rows, split, folds)
    assert len(bounds) == folds and bounds[-1] == split_bounds(rows, split)
    for fold in bounds:
        assert fold["train"][0] == 0
        assert fold["train"][1] <= fold["val"][0] < fold["val"][1] <= fold["test"][0]
        assert fold["test"][1] <= rows
    tests = [fold["test"] for fold in bounds]
    for earlier, later in itertools.pairwise(tests):
        assert earlier[1] == later[0]  # consecutive, disjoint test blocks


def _config(folds, length=160):
    raw = tiny_config_dict(evaluation={"backtest": {"folds": folds}})
    raw["data"]["sine"]["length"] = length
    return config_from_dict(raw)


def test_too_many_folds_are_refused_before_training():
    cfg = _config(folds=5)
    with pytest.raises(
        DataError,
        match=r"sine: with evaluation.backtest.folds 5, the oldest "
        r"fold trains on 0 rows, fewer than the 9 one window needs",
    ):
        check_folds(cfg, prepare_data(cfg.data, cfg.seed))


def test_backtest_scores_every_fold_and_summarises_them():
    cfg = _config(folds=3)
    data = prepare_data(cfg.data, cfg.seed)
    seen = []

    def forecast_fold(fold):  # stands in for training: forecasts the truth plus one
        seen.append(fold)
        return fold.splits["test"].raw_target_windows() + 1.0

    last = metrics_report(data, {"test": data.splits["test"].raw_target_windows() + 3.0})
    result = run_backtest(cfg, data, last, forecast_fold)
    assert [f["fold"] for f in result["folds"]] == [1, 2, 3] and len(seen) == 2
    for fold in seen:  # each fold's training rows end before its test rows begin
        assert fold.splits["train"].first_row + len(fold.splits["train"].target) <= (
            fold.splits["test"].first_row
        )
    maes = [f["model"]["mae"] for f in result["folds"]]
    assert maes == pytest.approx([1.0, 1.0, 3.0])
    summary = result["summary"]["model"]["mae"]
    assert summary["mean"] == pytest.approx(np.mean(maes))
    assert summary["std"] == pytest.approx(np.std(maes))
    assert result["folds"][0]["test"][1] < result["folds"][1]["test"][0]
    assert set(result["summary"]) == {
        "model",
        "persistence",
        "seasonal_naive",
        "mean",
        "ets",
        "theta",
    }
