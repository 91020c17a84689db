"""`lstm-train` on a panel read shard by shard (`data.stream`, issue 15): trained from every
shard in turn, each shard read again to forecast and score its series; the run directory is a
panel run's, `--resume` is exact, and the run can be exported and forecast from."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_config_dict, whole_and_resumed, write_yaml

from lstm_app.cli import lstm_predict, lstm_train
from lstm_app.config.load import config_from_dict
from lstm_app.errors import ConfigError
from lstm_app.runs.rundir import file_fingerprint

NAMES = ["north", "south", "east", "west", "up", "down", "left"]


def _frame(months=40):
    noise = np.random.default_rng(5).normal(size=(len(NAMES), months))
    rows = []
    for k, name in enumerate(NAMES):
        level = 10.0 * 3**k  # 10 to 7,290
        for m in range(months if name != "left" else 3):  # left: its test block alone
            y = level * (1 + 0.2 * np.sin(2 * np.pi * m / 12) + 0.02 * noise[k, m])
            stamp = pd.Timestamp(2000 + m // 12, m % 12 + 1, 1)
            rows.append({"id": name, "t": stamp, "kind": "ab"[k % 2], "y": y})
    return pd.DataFrame(rows)


def _shards(tmp_path, frame):
    folder = tmp_path / "shards"
    folder.mkdir()
    for i, names in enumerate((NAMES[:3], NAMES[3:5], NAMES[5:])):
        frame[frame["id"].isin(names)].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def _config(tmp_path, path, stream=True, epochs=3, formats=()):
    data = {"source": "csv", "path": str(path), "target": "y", "time_column": "t"}
    data |= {"series_id": "id", "static": ["kind"], "scaler": "window", "stream": stream}
    data |= {"season_length": 12, "window": {"input_width": 6, "horizon": 3}}
    data |= {"split": {"test_last": 3, "val_last": 3}}
    raw = tiny_config_dict(
        name="streamed",
        data=data,
        model={"layers": [{"type": "lstm", "units": 6}, {"type": "dense", "units": 3}]},
        training={"epochs": epochs, "windows_per_series": 6},
        export={"formats": list(formats)},
    )
    raw["data"].pop("sine")
    return write_yaml(tmp_path / f"streamed_{stream}.yaml", raw)


def _train(config, run, *extra):
    return lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet", *extra])


def test_a_streamed_run_scores_every_series_as_a_panel_in_memory_does(tmp_path, capsys):
    frame = _frame()
    folder = _shards(tmp_path, frame)
    streamed = tmp_path / "streamed"
    assert _train(_config(tmp_path, folder, formats=["keras"]), streamed) == 0
    out = capsys.readouterr().out
    assert "Test blocks of 6 series" in out and "Read in 3 shard(s), one at a time." in out
    table = pd.read_csv(streamed / "series_metrics.csv")
    assert list(table["series"]) == NAMES[:6]  # left: too short, left out and said
    metrics = json.loads((streamed / "metrics.json").read_text())
    assert list(metrics["series"]["left_out"]) == ["left"] and metrics["series"]["shards"] == 3
    # the same series read at once (the folder as one table): the same baselines, scored alike
    whole = tmp_path / "whole"
    assert _train(_config(tmp_path, folder, stream=False), whole) == 0
    expected = pd.read_csv(whole / "series_metrics.csv")
    for column in ("seasonal_naive_mase", "persistence_mae", "mean_rmse", "windows"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-9)
    assert table["model_mae"].notna().all()  # every series forecast, levels 10 to 2,430
    assert (streamed / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    # its export forecasts any shard's series from their raw windows
    shard = folder / "part-1.parquet"
    assert lstm_predict.main(["--model", str(streamed / "export"), "--input", str(shard)]) == 0
    assert "west" in capsys.readouterr().out


def test_a_streamed_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    folder = _shards(tmp_path, _frame())
    config = _config(tmp_path, folder, epochs=4)
    args = ["--config", str(config), "--quiet"]
    whole, resumed = whole_and_resumed(tmp_path, monkeypatch, args)
    capsys.readouterr()
    for name in ("history.csv", "series_metrics.csv"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes()


def test_check_reads_ids_only_and_bad_shards_are_one_line(tmp_path, capsys):
    frame = _frame()
    folder = _shards(tmp_path, frame)
    config = _config(tmp_path, folder)
    assert lstm_train.main(["--config", str(config), "--check"]) == 0
    assert "7 series in 3 shard(s)" in capsys.readouterr().out
    frame[frame["id"] == "north"].to_parquet(folder / "part-3.parquet", index=False)
    assert lstm_train.main(["--config", str(config), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "series 'north' is in two shards" in err


def test_stream_needs_a_panel():
    raw = tiny_config_dict(data={"stream": True})
    with pytest.raises(ConfigError, match=r"data.stream: streams the shards of a panel"):
        config_from_dict(raw)


def test_the_fingerprint_of_a_folder_changes_with_any_of_its_files(tmp_path):
    folder = _shards(tmp_path, _frame())
    before = file_fingerprint(folder)
    assert before["bytes"] == sum(p.stat().st_size for p in folder.iterdir())
    _frame().iloc[:5].to_parquet(folder / "part-1.parquet", index=False)
    assert file_fingerprint(folder)["sha256"] != before["sha256"]


def test_the_validation_stream_is_every_val_window_of_every_shard_in_order(tmp_path):
    from lstm_app.config.load import load_config
    from lstm_app.data.panel import joined_data, prepare_panel
    from lstm_app.data.shards import scan_shards, stream_dataset

    folder = _shards(tmp_path, _frame())
    cfg = load_config(_config(tmp_path, folder))
    batches = list(stream_dataset(scan_shards(cfg.data), 4, seed=1, epoch=3, split="val"))
    inputs = np.concatenate([x for x, _ in batches])
    targets = np.concatenate([y for _, y in batches])
    whole = load_config(_config(tmp_path, folder, stream=False))
    expected = joined_data(prepare_panel(whole.data), ("val",)).splits["val"].windows()
    # float32 windows of levels up to 2,430, scaled in the graph or in float64: 1e-3 apart
    np.testing.assert_allclose(inputs, expected[0], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(targets, expected[1], rtol=1e-3, atol=1e-3)
