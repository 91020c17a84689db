"""`data.transforms: auto` (issue 14): the transforms are chosen on the validation split alone,
the choice is said, and the run's config records what was trained."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import stop_after_epoch, tiny_config_dict, write_yaml

from lstm_app.cli import lstm_train
from lstm_app.config.load import config_from_dict
from lstm_app.data.choose import candidates
from lstm_app.data.prepare import prepare_candidates, prepare_data
from lstm_app.errors import ConfigError, RunFailedError, UserInputError
from lstm_app.pipeline import train
from lstm_app.training import choose


def _csv(tmp_path, y, name="series.csv"):
    path = tmp_path / name
    months = pd.date_range("1990-01-01", periods=len(y), freq="MS").strftime("%Y-%m")
    pd.DataFrame({"month": months, "y": np.round(y, 4)}).to_csv(path, index=False)
    return path


def _config(path, **data):
    raw = tiny_config_dict(
        data={
            "source": "csv",
            "path": str(path),
            "time_column": "month",
            "target": "y",
            "transforms": "auto",
            "season_length": 12,
            "window": {"input_width": 2, "horizon": 1},
            **data,
        }
    )
    raw["data"].pop("sine")
    return raw


def _seasonal(n=120, seed=0):
    """A level of 100 with a fixed, jagged yearly pattern and a little noise: two past values
    (the window) cannot tell where in the year a month is; last year's value can."""
    rng = np.random.default_rng(seed)
    pattern = rng.uniform(-20, 20, 12)
    return 100 + np.tile(pattern, n // 12 + 1)[:n] + rng.normal(0, 1, n)


def test_auto_is_a_value_and_other_words_are_refused(tmp_path):
    path = _csv(tmp_path, _seasonal())
    assert config_from_dict(_config(path)).data.transforms == "auto"
    with pytest.raises(ConfigError, match=r"data.transforms: expected a list, or 'auto', got"):
        config_from_dict(_config(path, transforms="automatic"))
    with pytest.raises(ConfigError, match=r"data.transforms\[0\]: .*auto"):
        config_from_dict(_config(path, transforms=["auto"]))


def test_candidates_depend_on_sign_and_season():
    positive, negative = np.array([1.0, 2.0, 3.0]), np.array([1.0, -2.0, 3.0])
    assert ("log", "diff") in candidates(positive, 12)
    assert not any("log" in chain for chain in candidates(negative, 12))
    assert not any("seasonal_diff" in chain for chain in candidates(positive, 1))
    assert candidates(positive, 12)[0] == ()  # simplest first: it wins a tie


def test_each_candidate_is_prepared_and_those_that_cannot_be_are_named(tmp_path):
    path = _csv(tmp_path, _seasonal())
    prepared, skipped = prepare_candidates(config_from_dict(_config(path)).data)
    assert len(prepared) == 8 and skipped == {}
    for names, data in prepared.items():
        assert data.pipeline.names == names and data.prepared_from["data"].transforms == names
    # a season of 70 rows takes all but 2 of the 72 train rows: no window is left
    prepared, skipped = prepare_candidates(config_from_dict(_config(path, season_length=70)).data)
    assert ("seasonal_diff",) not in prepared and ("diff",) in prepared
    assert skipped["seasonal_diff"].startswith("the train split has 2 of the 120 rows")
    assert set(skipped) == {"seasonal_diff", "diff+seasonal_diff", "log+seasonal_diff",
                            "log+diff+seasonal_diff"}  # fmt: skip


def test_prepare_data_refuses_auto_in_one_line(tmp_path):
    cfg = config_from_dict(_config(_csv(tmp_path, _seasonal())))
    with pytest.raises(UserInputError, match=r"^data.transforms: auto is chosen by training"):
        prepare_data(cfg.data, cfg.seed)


def test_the_lowest_validation_mae_wins_and_the_simpler_of_equals(tmp_path, monkeypatch):
    cfg = config_from_dict(_config(_csv(tmp_path, _seasonal())))
    prepared, _ = prepare_candidates(cfg.data, cfg.seed)
    scores = {(): 3.0, ("diff",): 2.0, ("seasonal_diff",): 2.0, ("log",): float("nan")}

    def fake(trial, data):
        names = trial.data.transforms
        if names == ("log", "diff"):
            raise RunFailedError("diverged")
        return scores.get(names, 9.0)

    monkeypatch.setattr(choose, "validation_mae", fake)
    said = []
    choice = choose.choose_transforms(cfg, prepared, {"x": "why"}, said.append)
    assert choice.chosen == ("diff",)  # diff and seasonal_diff tie: the simpler, listed first
    assert choice.skipped == {
        "x": "why",
        "log": "its forecasts are not finite",
        "log+diff": "the loss diverged",
    }
    assert choice.scores["none"] == 3.0 and len(choice.scores) == 6
    assert len(said) == len(prepared) and said[1].startswith(
        "data.transforms: auto: candidate 2 of 8, diff: validation MAE 2 ("
    )


def test_a_candidate_is_scored_as_the_run_would_score_it(tmp_path):
    raw = _config(_csv(tmp_path, _seasonal(n=120)), transforms=["diff"])
    raw["training"]["callbacks"] = {"early_stopping": {"patience": 1}}
    cfg = config_from_dict(raw)
    result = train(cfg, tmp_path / "run", verbose=0)
    score = choose.validation_mae(cfg, prepare_data(cfg.data, cfg.seed))
    assert score == pytest.approx(result.metrics["val"]["mae"], rel=1e-3)


def test_check_lists_the_candidates_the_run_will_train(tmp_path, capsys):
    config = write_yaml(tmp_path / "c.yaml", _config(_csv(tmp_path, _seasonal())))
    assert lstm_train.main(["--config", str(config), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "data.transforms: auto: the run trains the model on each of 8 candidates (none, diff, "
        "seasonal_diff, diff+seasonal_diff, log, log+diff, log+seasonal_diff, "
        "log+diff+seasonal_diff) and keeps the one with the lowest validation MAE"
    )
    assert out[-2].endswith("nothing written") and not (tmp_path / "runs").exists()


def _scores_of(run):
    metrics = json.loads((run / "metrics.json").read_text())["data"]
    return metrics["transforms"], metrics["transforms_auto"]["validation_mae"]


def test_a_run_says_and_records_what_auto_chose(tmp_path, capsys):
    config = write_yaml(tmp_path / "c.yaml", _config(_csv(tmp_path, _seasonal())))
    run = tmp_path / "run"
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "data.transforms: auto: candidate 8 of 8, log+diff+seasonal_diff: validation MAE" in out
    written = yaml.safe_load((run / "config.yaml").read_text())["data"]["transforms"]
    transforms, scores = _scores_of(run)
    assert written == transforms and len(scores) == 8
    assert min(scores, key=scores.get) == ("+".join(written) or "none")
    assert f"data.transforms: auto chose [{', '.join(written)}], the lowest validation" in out
    status = json.loads((run / "run.json").read_text())["transforms_auto"]
    assert status["chosen"] == written and status["scores"] == scores
    # the run's own config trains the same transforms again, with no auto left in it
    assert lstm_train.main(["--config", str(run / "config.yaml"), "--check"]) == 0
    assert "auto" not in capsys.readouterr().out


def test_a_run_with_auto_resumes_with_its_choice_without_trying_again(
    tmp_path, capsys, monkeypatch
):
    config = write_yaml(tmp_path / "c.yaml", _config(_csv(tmp_path, _seasonal())))
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 1)  # the run's own training, after the candidates'
        assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 130
    chosen, _ = yaml.safe_load((run / "config.yaml").read_text())["data"]["transforms"], None

    def no_second_try(*args, **kwargs):
        raise AssertionError("the candidates were trained again")

    monkeypatch.setattr(choose, "choose_transforms", no_second_try)  # the series job's
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    assert json.loads((run / "run.json").read_text())["status"] == "done"
    transforms, scores = _scores_of(run)
    assert transforms == chosen and len(scores) == 8
    assert "data.transforms: auto chose [" in capsys.readouterr().out
