"""`lstm-train` as a user runs it: a real process, its output, its exit status, its files."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ARTICLE_CONFIG, LSTM_TRAIN, lstm_train, tiny_config_dict, write_yaml

LSTM_COMPARE = LSTM_TRAIN.with_name("lstm-compare")


def test_trains_end_to_end_and_summarises(tmp_path, tiny_config_file):
    run_dir = tmp_path / "run"
    done = lstm_train(
        "--config",
        tiny_config_file,
        "--run-dir",
        run_dir,
        "--quiet",
        "--set",
        "training.epochs=2",
        "--set",
        "data.window.input_width=6",
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    test, naive = metrics["test"], metrics["baselines"]["persistence"]
    assert f"{test['mae']:.4g}" in done.stdout and f"{naive['mae']:.4g}" in done.stdout
    assert "persistence" in done.stdout and f"Results: {run_dir}/" in done.stdout
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["training"]["epochs"] == 2 and saved["data"]["window"]["input_width"] == 6
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"


def test_default_run_directory_is_named_after_the_config(tmp_path, tiny_config_file):
    done = lstm_train(
        "--config", tiny_config_file, "--quiet", "--set", "training.epochs=1", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("tiny-") and (run_dir / "metrics.json").is_file()


def test_progress_bar_is_shown_unless_quiet(tmp_path, tiny_config_file):
    done = lstm_train(
        "--config", tiny_config_file, "--run-dir", tmp_path / "run", "--set", "training.epochs=2"
    )
    assert done.returncode == 0, done.stderr
    assert "Epoch 2/2" in done.stdout and "val_loss" in done.stdout


def test_non_empty_run_directory_is_refused_and_left_alone(tmp_path, tiny_config_file):
    run_dir = tmp_path / "mine"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    done = lstm_train("--config", tiny_config_file, "--run-dir", run_dir)
    assert done.returncode == 2
    assert done.stderr == (
        f"lstm-train: error: --run-dir {run_dir}: is not empty; give a new or empty directory "
        "(nothing in it is overwritten)\n"
    )
    assert [p.name for p in run_dir.iterdir()] == ["notes.txt"]


def _series_csv(tmp: Path, name="series.csv", replace=("", "")) -> Path:
    """28 daily rows `t,y`; `replace` edits the text (to plant a bad cell)."""
    text = "t,y\n" + "".join(f"2020-01-{i:02d},{i}\n" for i in range(1, 29))
    path = tmp / name
    path.write_text(text.replace(*replace))
    return path


def _csv_config(tmp: Path, csv: Path, **data) -> Path:
    data = {"source": "csv", "path": str(csv), "target": "y", "time_column": "t", **data}
    return write_yaml(tmp / f"{csv.stem}.yaml", tiny_config_dict(data=data))


def _tiny(tmp: Path) -> Path:
    return write_yaml(tmp / "tiny.yaml", tiny_config_dict())


def _syntax_error(tmp: Path) -> Path:
    path = tmp / "syntax.yaml"
    path.write_text("name: x\nmodel:\n  layers: [{type: lstm\n  units: 3\n")
    return path


# name: (arguments, made in a temporary directory; what the one-line error must contain)
BAD_INPUTS = {
    "unknown key": (
        lambda tmp: ["--config", _tiny(tmp), "--set", "training.epoch=3"],
        "tiny.yaml (with --set training.epoch=3): training.epoch: unknown key; did you mean "
        "'epochs'?",
    ),
    "wrong type": (
        lambda tmp: ["--config", _tiny(tmp), "--set", "training.batch_size=zero"],
        "training.batch_size: expected an integer >= 1, got 'zero'",
    ),
    "fractions": (
        lambda tmp: ["--config", _tiny(tmp), "--set", "data.split.test=0.5"],
        "data.split: train + val + test must sum to 1, got 0.6 + 0.2 + 0.5 = 1.3",
    ),
    "yaml syntax": (
        lambda tmp: ["--config", _syntax_error(tmp)],
        "syntax.yaml: line 4, column 8: invalid YAML",
    ),
    "missing config": (
        lambda tmp: ["--config", tmp / "absent.yaml"],
        "absent.yaml: config file not found",
    ),
    "missing data file": (
        lambda tmp: ["--config", _csv_config(tmp, tmp / "none.csv")],
        "none.csv: data file not found (data.path)",
    ),
    "missing column": (
        lambda tmp: ["--config", _csv_config(tmp, _series_csv(tmp), target="Y")],
        "series.csv: column 'Y' (data.target) not found; the file has columns: t, y; "
        "did you mean 'y'?",
    ),
    "non-numeric value": (
        lambda tmp: ["--config", _csv_config(tmp, _series_csv(tmp, replace=(",5\n", ",five\n")))],
        "series.csv: line 6, column 'y' (data.target): expected a finite number, got 'five'",
    ),
    "empty value": (
        lambda tmp: ["--config", _csv_config(tmp, _series_csv(tmp, replace=(",5\n", ",\n")))],
        "series.csv: missing values in 'y': 1 (first at line 6); set data.missing to drop, "
        "ffill or interpolate",
    ),
    "too short for a split": (
        lambda tmp: ["--config", _csv_config(tmp, _series_csv(tmp), window={"input_width": 8})],
        "series.csv: the val split has 6 of the 28 rows, fewer than the 9 one window needs",
    ),
    "unknown argument": (
        lambda tmp: ["--config", _tiny(tmp), "--epochs", "3"],
        "unrecognized arguments: --epochs 3",
    ),
    "malformed --set": (
        lambda tmp: ["--config", _tiny(tmp), "--set", "epochs"],
        "--set epochs: expected KEY=VALUE",
    ),
    "no config": (lambda tmp: [], "the following arguments are required: --config"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_one_line_exit_2_and_no_run_directory(tmp_path, case):
    make_args, message = BAD_INPUTS[case]
    done = lstm_train(*make_args(tmp_path), "--run-dir", tmp_path / "run", cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("lstm-train: error: ") and done.stderr.count("\n") == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_article_config_finds_its_data_from_any_directory(tmp_path):
    done = lstm_train(
        "--config",
        ARTICLE_CONFIG,
        "--set",
        "training.epochs=1",
        "--quiet",
        "--run-dir",
        tmp_path / "run",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Test split: 17 windows forecasting 1959-08-01 .. 1960-12-01" in done.stdout


def test_help_lists_the_options():
    done = lstm_train("--help")
    assert done.returncode == 0
    for option in ("--config FILE", "--set KEY=VALUE", "--run-dir DIR"):
        assert option in done.stdout


def test_compare_puts_finished_runs_side_by_side(tmp_path, tiny_config_file):
    runs = []
    for name, epochs in (("short", 1), ("longer", 3)):
        runs.append(tmp_path / name)
        done = lstm_train(
            "--config",
            tiny_config_file,
            "--run-dir",
            runs[-1],
            "--quiet",
            "--set",
            f"training.epochs={epochs}",
        )
        assert done.returncode == 0, done.stderr
    out = tmp_path / "comparison"
    done = subprocess.run(
        [str(LSTM_COMPARE), *map(str, runs), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    table = (out / "comparison.md").read_text()
    for run in runs:
        mae = json.loads((run / "metrics.json").read_text())["test"]["mae"]
        assert f"| {run.name} | value | 1 |" in table and f"{mae:.4g}" in table
        assert f"| {run.name} |" in done.stdout
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_refuses_an_unfinished_run(tmp_path):
    run = tmp_path / "half"
    run.mkdir()
    (run / "run.json").write_text('{"status": "running"}')
    done = subprocess.run(
        [str(LSTM_COMPARE), str(run), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"lstm-compare: error: {run}: the run is not finished (run.json status: running)\n"
    )
    assert not (tmp_path / "out").exists()
