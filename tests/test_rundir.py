"""RunDir: the one policy for choosing a run directory, and every file name of a run."""

import os

import pytest
from conftest import RUN_FILES

from lstm_app.errors import UserInputError
from lstm_app.runs.rundir import RUNS_ROOT, RunDir


def test_the_names_are_the_files_a_finished_run_holds():
    names = {
        RunDir.CONFIG,
        RunDir.STATUS,
        RunDir.HISTORY,
        RunDir.MODEL,
        RunDir.METRICS,
        RunDir.SCALERS,
        RunDir.FORECASTS,
        RunDir.LOSS_PLOT,
        RunDir.FORECAST_PLOT,
    }
    assert names == RUN_FILES


def test_a_new_run_goes_under_runs_with_its_name_and_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = RunDir.for_training(None, "tiny")
    second = RunDir.for_training(None, "tiny")
    assert first.path.parent == second.path.parent == RUNS_ROOT
    assert first.name.startswith("tiny-") and first.path != second.path
    assert first.path.is_dir() and not any(first.path.iterdir())


def test_a_named_directory_must_be_new_or_empty(tmp_path):
    assert RunDir.for_training(tmp_path / "new", "tiny").path.is_dir()
    assert RunDir.for_training(tmp_path / "new", "tiny").path == tmp_path / "new"  # still empty
    (tmp_path / "new" / "mine.txt").write_text("keep me")
    with pytest.raises(UserInputError, match="is not empty; give a new or empty directory"):
        RunDir.for_training(tmp_path / "new", "tiny")
    assert (tmp_path / "new" / "mine.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("")
    with pytest.raises(UserInputError, match="is a file, expected a directory"):
        RunDir.for_training(tmp_path / "file", "tiny")


def test_resuming_needs_an_unfinished_run_of_the_same_config(tmp_path):
    with pytest.raises(UserInputError, match="--resume needs --run-dir"):
        RunDir.for_training(None, "tiny", resume=True, config={})
    run = RunDir(tmp_path)
    run.write_config({"name": "tiny", "seed": 1})
    run.write_status({"status": "interrupted"})
    with pytest.raises(UserInputError, match="no completed epoch was saved"):
        RunDir.for_training(tmp_path, "tiny", resume=True, config={"name": "tiny", "seed": 1})
    run.resume_dir.mkdir()
    (run.resume_dir / "state.json").write_text("{}")
    with pytest.raises(UserInputError, match=r"another config \(seed: 1 there, 2 now\)"):
        RunDir.for_training(tmp_path, "tiny", resume=True, config={"name": "tiny", "seed": 2})
    resumed = RunDir.for_training(tmp_path, "tiny", resume=True, config={"name": "tiny", "seed": 1})
    assert resumed.path == tmp_path and os.fspath(resumed) == str(tmp_path)


def test_readers_name_the_file_that_is_missing_or_broken(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(UserInputError, match=r"no readable run\.json"):
        RunDir.finished(tmp_path)
    run.write_status({"status": "running"})
    with pytest.raises(UserInputError, match=r"not finished \(run.json status: running\)"):
        RunDir.finished(tmp_path)
    run.write_status({"status": "done"})
    with pytest.raises(UserInputError, match=r"metrics\.json: missing; metrics\.json is written"):
        RunDir.finished(tmp_path).read_metrics()
    (tmp_path / RunDir.METRICS).write_text("{not json")
    with pytest.raises(UserInputError, match=r"metrics.json: cannot be read \(JSONDecodeError\)"):
        run.read_metrics()
    run.write_metrics({"test": {"mae": 1.5}})
    assert run.read_metrics() == {"test": {"mae": 1.5}}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]  # nothing left over
