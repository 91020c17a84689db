"""What a run checks before it trains: a resume on the data the run started with, data prepared
from the config it trains, and a resume command that pastes into a shell."""

import datetime as dt
import hashlib
import json
import shlex
from pathlib import Path

import pytest
from conftest import stop_after_epoch, tiny_config_dict, write_yaml

import lstm_app.pipeline
from lstm_app.cli import lstm_train as cli
from lstm_app.runs.rundir import RESUME_DIR, RESUME_STATE


def _series_csv(path: Path, rows=60, scale=1.0) -> Path:
    """`rows` daily rows `t,y` of a wavy series with a trend; `scale` sizes the waves."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(rows)]
    path.write_text("t,y\n" + "".join(f"{d},{(i % 7) * scale + i}\n" for i, d in enumerate(days)))
    return path


def _csv_config(tmp: Path, csv: Path) -> Path:
    data = {"source": "csv", "path": str(csv), "target": "y", "time_column": "t"}
    return write_yaml(tmp / "csv.yaml", tiny_config_dict(data=data, training={"epochs": 3}))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# ---- 2. a resume on the data file the run started with


@pytest.fixture
def interrupted_csv_run(tmp_path, monkeypatch, capsys):
    """A CSV config and its run directory, stopped after epoch 1 of 3."""
    csv = _series_csv(tmp_path / "series.csv")
    config = _csv_config(tmp_path, csv)
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 1)
        assert cli.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 130
    capsys.readouterr()
    return config, csv, run


def test_run_records_its_data_files_hash_and_size(interrupted_csv_run):
    _, csv, run = interrupted_csv_run
    recorded = json.loads((run / "run.json").read_text())["data_file"]
    assert recorded == {
        "path": str(csv),
        "bytes": csv.stat().st_size,
        "sha256": hashlib.sha256(csv.read_bytes()).hexdigest(),
    }


def test_resume_after_the_data_file_changed_is_refused_before_training(
    interrupted_csv_run, monkeypatch, capsys
):
    config, csv, run = interrupted_csv_run
    _series_csv(csv, scale=2.0)  # same rows and size class, other values
    monkeypatch.setattr(lstm_app.pipeline, "train", lambda *a, **k: pytest.fail("trained"))
    assert cli.main(["--config", str(config), "--run-dir", str(run), "--resume"]) == 2
    line = _one_line_error(capsys)
    assert f"--run-dir {run}: the data file {csv} changed since the run started" in line
    assert "SHA-256" in line
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


def test_resume_after_the_data_file_vanished_is_refused(interrupted_csv_run, capsys):
    config, csv, run = interrupted_csv_run
    csv.unlink()
    assert cli.main(["--config", str(config), "--run-dir", str(run), "--resume"]) == 2
    assert str(csv) in _one_line_error(capsys)


def test_resume_on_the_same_data_file_finishes(interrupted_csv_run, capsys):
    config, _, run = interrupted_csv_run
    assert cli.main(["--config", str(config), "--run-dir", str(run), "--resume", "--quiet"]) == 0
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "done" and status["epochs"] == 3
    assert not (run / RESUME_DIR / RESUME_STATE).exists()


def test_generated_data_records_no_file(tmp_path):
    from lstm_app.config.load import config_from_dict

    cfg = config_from_dict(tiny_config_dict(training={"epochs": 1}))
    result = lstm_app.pipeline.train(cfg, tmp_path / "run", verbose=0)
    assert "data_file" not in json.loads((result.run_dir / "run.json").read_text())


# ---- 3. data prepared from the config it trains


def test_prepared_data_records_what_it_was_prepared_from():
    from lstm_app.config.load import config_from_dict
    from lstm_app.data.prepare import prepare_data

    cfg = config_from_dict(tiny_config_dict())
    data = prepare_data(cfg.data, cfg.seed)
    assert data.prepared_from == {"data": cfg.data, "seed": cfg.seed}


@pytest.mark.parametrize(
    ("other", "key"),
    [
        ({"data": {"window": {"input_width": 6, "horizon": 1}}}, "data.window.input_width: 6"),
        ({"data": {"scaler": "minmax"}}, "data.scaler: 'minmax'"),
        ({"seed": 8}, "seed: 8"),  # a generated series: the seed draws its noise
    ],
)
def test_training_on_data_prepared_from_another_config_is_refused(tmp_path, other, key):
    from lstm_app.config.load import config_from_dict
    from lstm_app.data.prepare import prepare_data
    from lstm_app.errors import UserInputError

    cfg = config_from_dict(tiny_config_dict())
    raw = tiny_config_dict()
    for section, values in other.items():
        raw[section] = {**raw[section], **values} if isinstance(values, dict) else values
    elsewhere = config_from_dict(raw)
    data = prepare_data(elsewhere.data, elsewhere.seed)
    with pytest.raises(UserInputError) as err:
        lstm_app.pipeline.train(cfg, tmp_path / "run", data=data, verbose=0)
    message = str(err.value)
    assert "data: prepared from another config" in message and key in message, message
    assert "\n" not in message
    assert not (tmp_path / "run").exists()  # nothing written


def test_the_seed_of_csv_data_does_not_matter(tmp_path):
    from lstm_app.config.load import load_config
    from lstm_app.data.prepare import prepare_data

    cfg = load_config(_csv_config(tmp_path, _series_csv(tmp_path / "series.csv")))
    lstm_app.pipeline.check_prepared_from(cfg, prepare_data(cfg.data, seed=cfg.seed + 1))
    lstm_app.pipeline.check_prepared_from(cfg, prepare_data(cfg.data, cfg.seed))


# ---- 4. the resume command, pasted into a shell, gives back the same arguments


def test_resume_command_survives_a_shell(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "it's a dir $HOME"
    folder.mkdir()
    config = write_yaml(folder / "my config.yaml", tiny_config_dict())
    run = folder / "run (1)"
    overrides = ["export.formats=[keras, saved_model]", "data.sine.noise=0.5"]

    def interrupted(cfg, run_dir, *args, **kwargs):  # stops after a saved epoch, as Ctrl-C
        (run_dir.resume_dir).mkdir()
        (run_dir.resume_dir / RESUME_STATE).write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(lstm_app.pipeline, "train", interrupted)
    argv = ["--config", str(config), "--run-dir", str(run), "--quiet"]
    for override in overrides:
        argv += ["--set", override]
    assert cli.main(argv) == 130
    line = _one_line_error(capsys)
    prefix = "lstm-train: interrupted; resume with: "
    assert line.startswith(prefix), line
    expected = ["lstm-train", "--config", str(config), "--run-dir", str(run), "--resume"]
    for override in overrides:
        expected += ["--set", override]
    assert shlex.split(line[len(prefix) :]) == expected


# ---- 7. Ctrl-C during the export at the end: the resume finishes the export


def test_resume_after_ctrl_c_during_the_export_finishes_it(tmp_path, monkeypatch):
    import lstm_app.serving.exporter
    from lstm_app.config.load import config_from_dict

    cfg = config_from_dict(tiny_config_dict(export={"formats": ["keras"]}))
    run = tmp_path / "run"
    with monkeypatch.context() as patch:  # Ctrl-C once model.keras is exported, before the card

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        patch.setattr(lstm_app.serving.exporter, "metadata", interrupted)
        with pytest.raises(KeyboardInterrupt):
            lstm_app.pipeline.train(cfg, run, verbose=0)
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert not (run / "export").exists()  # nothing half-written that looks complete
    metrics = (run / "metrics.json").read_bytes()

    result = lstm_app.pipeline.train(cfg, run, verbose=0, resume=True)
    status = json.loads((run / "run.json").read_text())
    assert status["status"] == "done" and status["epochs"] == 3
    assert sorted(p.name for p in (run / "export").iterdir()) == ["metadata.json", "model.keras"]
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []
    assert (run / "metrics.json").read_bytes() == metrics and len(result.history["loss"]) == 3
