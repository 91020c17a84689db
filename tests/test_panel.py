"""Many series in one long-format file (issue 15): each series read and checked as one series
is, messages naming the series; ids from one column or several; static columns."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from lstm_app.config.schema import DataConfig
from lstm_app.config.validate import build
from lstm_app.data.panel import read_panel
from lstm_app.errors import ConfigError, DataError

TOURISM = REPO / "data" / "tourism_au_quarterly.csv"


def _data(path, **keys) -> DataConfig:
    raw = {"path": str(path), "target": "y", "time_column": "t", "series_id": "id"}
    raw = {**raw, "scaler": "series", **keys}
    return build(DataConfig, raw, ("data",))


def _long(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "panel.csv"
    frame.to_csv(path, index=False)
    return path


def _frame(ids=("a", "b"), steps=6):
    rows = [
        {"id": i, "t": f"2000-{m + 1:02d}-01", "y": float(10 * k + m), "kind": i.upper()}
        for k, i in enumerate(ids)
        for m in range(steps)
    ]
    return pd.DataFrame(rows)


def test_the_tourism_panel_reads_as_304_quarterly_series():
    data = build(
        DataConfig,
        {
            "path": str(TOURISM),
            "target": "trips",
            "time_column": "date",
            "series_id": ["state", "region", "purpose"],
            "static": ["state", "purpose"],
            "scaler": "series",
        },
        ("data",),
    )
    panel = read_panel(data)
    frame = pd.read_csv(TOURISM)
    assert len(panel) == 304 and panel.ids == tuple(frame["series_id"].unique())
    assert {len(s) for s in panel.series} == {80}
    assert {s.cleaning["step"] for s in panel.series} == {"QS-JAN"}
    first = frame[frame["series_id"] == panel.ids[7]]
    np.testing.assert_array_equal(panel.series[7].target, first["trips"].to_numpy())
    assert panel.static["state"][7] == first["state"].iloc[0]
    assert panel.static["purpose"][7] == first["purpose"].iloc[0]


def test_rows_of_a_series_need_not_be_together(tmp_path):
    frame = _frame(("a", "b", "c"))
    shuffled = frame.iloc[np.argsort(np.arange(len(frame)) % 6, kind="stable")]  # interleaved
    panel = read_panel(_data(_long(tmp_path, shuffled)))
    assert panel.ids == ("a", "b", "c")
    np.testing.assert_array_equal(panel.series[1].target, frame["y"][6:12].to_numpy())
    assert list(panel.series[1].lines) == [3, 6, 9, 12, 15, 18]  # their lines in the file


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("repeat", r"panel.csv: series 'b': line 10: time 2000-02-01 does not come after the row"),
        ("gap", r"panel.csv: series 'b': 1 missing time step\(s\), rows being 'MS' \(a month\)"),
        ("no id", r"panel.csv: line 9, column 'id' \(data.series_id\): a series id is missing"),
        ("static", r"panel.csv: series 'b', column 'kind' \(data.static\[0\]\): 'B' at line 8 "),
    ],
)
def test_a_problem_in_one_series_is_one_line_naming_it(tmp_path, change, message):
    frame = _frame()
    if change == "repeat":
        frame.loc[8, "t"] = "2000-02-01"  # series b's third row repeats its second's time
    elif change == "gap":
        frame = frame.drop(index=8)
    elif change == "no id":
        frame.loc[7, "id"] = ""
    else:
        frame.loc[9, "kind"] = "other"
    with pytest.raises(DataError, match=message):
        read_panel(_data(_long(tmp_path, frame), static=["kind"]))


def test_several_id_columns_name_a_series_per_combination(tmp_path):
    frame = _frame(("a", "b"))
    frame["region"] = frame["id"]
    frame["purpose"] = np.where(np.arange(12) % 2 == 0, "x", "y")  # splits each id in two
    frame = frame.sort_values(["region", "purpose"], kind="stable")
    panel = read_panel(_data(_long(tmp_path, frame), series_id=["region", "purpose"]))
    assert panel.ids == ("a|x", "a|y", "b|x", "b|y")
    assert {len(s) for s in panel.series} == {3}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"series_id": "y"}, r"data.series_id: 'y' is already data.target"),
        ({"series_id": ["id", "id"]}, r"data.series_id\[1\]: column 'id' is listed twice"),
        ({"series_id": 3}, r"data.series_id: expected a string, or a list of them, got 3"),
        ({"series_id": None, "static": ["kind"]}, r"data.static: per-series columns need"),
        ({"static": ["t"]}, r"data.static\[0\]: 't' is already data.time_column"),
    ],
)
def test_panel_keys_are_checked(tmp_path, keys, message):
    with pytest.raises(ConfigError, match=message):
        _data(tmp_path / "panel.csv", **keys)


# ---- splits by steps: the last test_last steps of each series are its test block


def test_split_by_last_steps():
    from lstm_app.config.schema import SplitConfig
    from lstm_app.data.prepare import split_bounds

    split = build(SplitConfig, {"test_last": 8, "val_last": 8}, ("data", "split"))
    assert split_bounds(80, split) == {"train": (0, 64), "val": (64, 72), "test": (72, 80)}
    assert split.train is None  # no fractions in this form
    fractions = build(SplitConfig, {}, ("data", "split"))
    assert (fractions.train, fractions.val, fractions.test) == (0.7, 0.15, 0.15)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"test_last": 8}, r"data.split.val_last: required with the other \*_last key"),
        ({"test_last": 8, "val_last": 8, "test": 0.2}, r"data.split.test: give fractions or"),
        ({"test_last": 0, "val_last": 8}, r"data.split.test_last: expected an integer >= 1"),
        ({"train": 0.5}, r"data.split: train \+ val \+ test must sum to 1, got 0.5 \+ 0.15"),
    ],
)
def test_split_keys_are_checked(raw, message):
    from lstm_app.config.schema import SplitConfig

    with pytest.raises(ConfigError, match=message):
        build(SplitConfig, raw, ("data", "split"))


# ---- each series prepared on its own, for one model


def _tourism(**keys) -> DataConfig:
    raw = {
        "path": str(TOURISM),
        "target": "trips",
        "time_column": "date",
        "series_id": "series_id",
        "static": ["state", "purpose"],
        "season_length": 4,
        "window": {"input_width": 12, "horizon": 8},
        "split": {"test_last": 8, "val_last": 8},
        "scaler": "series",
        **keys,
    }
    return build(DataConfig, raw, ("data",))


def test_the_test_block_is_forecast_from_the_rows_before_it():
    from lstm_app.data.panel import prepare_panel

    prepared = prepare_panel(_tourism())
    assert len(prepared) == 304 and prepared.skipped == {}
    for part in prepared.parts[:5]:
        test = part.splits["test"]
        assert test.n_windows == 1  # 2016 Q1 .. 2017 Q4, from the 12 quarters before
        times = [str(t)[:10] for t in test.target_times()[0]]
        assert times[0] == "2016-01-01" and times[-1] == "2017-10-01"
        assert str(part.series.times[test.origins()[0]])[:10] == "2015-10-01"
        assert part.splits["train"].first_row + len(part.splits["train"].target) == 64


def test_each_series_is_scaled_by_its_own_train_part(tmp_path):
    from lstm_app.data.panel import prepare_panel

    frame = pd.read_csv(TOURISM)
    one = frame["series_id"] == frame["series_id"].iloc[0]
    changed = frame.copy()
    changed.loc[one & (changed["date"] >= "2016-01-01"), "trips"] *= 100  # its test block
    path = tmp_path / "changed.csv"
    changed.to_csv(path, index=False)
    before, after = prepare_panel(_tourism()), prepare_panel(_tourism(path=str(path)))
    for b, a in zip(before.parts[:3], after.parts[:3], strict=True):
        assert b.target_scaler == a.target_scaler  # the test block takes no part
    mean = frame[one & (frame["date"] < "2014-01-01")]["trips"].mean()  # the 64 train rows
    assert before.parts[0].target_scaler.offset[0] == pytest.approx(mean)
    assert before.parts[1].target_scaler != before.parts[0].target_scaler


def test_static_labels_are_constant_one_hot_inputs():
    from lstm_app.data.panel import prepare_panel

    prepared = prepare_panel(_tourism())
    names = prepared.feature_names
    assert names[0] == "trips" and "state=ACT" in names and "purpose=Visiting" in names
    for j in (0, 150, 303):
        features = prepared.parts[j].splits["train"].features
        state = names.index(f"state={prepared.static['state'][j]}")
        np.testing.assert_array_equal(features[:, state], 1.0)
        assert features[:, 1:].sum(axis=1).tolist() == [2.0] * len(features)  # a state, a purpose


def _first_series_since(tmp_path, date: str):
    """`(prepared tourism panel, first series' id)`, the first series cut to its quarters from
    `date` on."""
    from lstm_app.data.panel import prepare_panel

    frame = pd.read_csv(TOURISM)
    first = frame["series_id"].iloc[0]
    short = frame[(frame["series_id"] != first) | (frame["date"] >= date)]
    path = tmp_path / "short.csv"
    short.to_csv(path, index=False)
    return prepare_panel(_tourism(path=str(path))), first


def test_a_series_too_short_to_train_on_is_still_forecast(tmp_path):
    prepared, first = _first_series_since(tmp_path, "2012-01-01")  # 24 quarters
    assert len(prepared) == 304 and prepared.skipped == {}
    part = prepared.parts[prepared.ids.index(first)]
    assert part.splits["train"].n_windows == 0  # 8 rows: no window to train on
    assert part.splits["test"].n_windows == 1  # but its test block is forecast


def test_a_series_too_short_for_a_test_window_is_left_out_with_its_reason(tmp_path):
    prepared, first = _first_series_since(tmp_path, "2016-01-01")  # 8 quarters
    assert len(prepared) == 303 and first not in prepared.ids  # nothing before its test block
    assert prepared.skipped[first].startswith("the test split has 8 of the 8 rows")


def test_joined_splits_give_every_window_of_each_series_and_none_across():
    from lstm_app.data.panel import prepare_panel
    from lstm_app.data.prepare import join_splits

    prepared = prepare_panel(_tourism(path=str(TOURISM)))
    parts = [part.splits["train"] for part in prepared.parts[:3]]
    joined = join_splits(parts)
    assert joined.n_windows == sum(part.n_windows for part in parts) == 3 * 45
    bounds = np.cumsum([0] + [len(part.target) for part in parts])
    series = np.searchsorted(bounds, joined.starts, side="right") - 1
    last_row = joined.starts + joined.input_width + joined.horizon - 1
    assert np.all(last_row < bounds[series + 1])  # each window ends inside its own series
    x, _ = parts[1].windows()
    np.testing.assert_array_equal(
        joined.features[joined.starts[45] : joined.starts[45] + 12], x[0]
    )  # series 2's first window, as it is on its own


def test_the_training_batches_of_joined_series_are_their_windows():
    from lstm_app.data.panel import prepare_panel
    from lstm_app.data.prepare import join_splits
    from lstm_app.data.windows import make_dataset

    prepared = prepare_panel(_tourism())
    parts = [part.splits["train"] for part in prepared.parts[:3]]
    joined = join_splits(parts)
    inputs, targets = next(iter(make_dataset(joined, batch_size=1000)))
    expected = [part.windows() for part in parts]
    np.testing.assert_array_equal(inputs.numpy(), np.concatenate([x for x, _ in expected]))
    np.testing.assert_array_equal(targets.numpy(), np.concatenate([y for _, y in expected]))
    shuffled = next(b for _, b in make_dataset(joined, 1000, shuffle=True, seed=3, epoch=2))
    again = next(b for _, b in make_dataset(joined, 1000, shuffle=True, seed=3, epoch=2))
    np.testing.assert_array_equal(shuffled.numpy(), again.numpy())  # (seed, epoch) decide


# ---- the panel's scores


def _report(model_mase, naive_mase, windows=1):
    def metrics(mase):
        if mase is None:  # a baseline left out of this series
            return {"mae": None, "rmse": None, "smape": None, "mase": None}
        return {"mae": 2 * mase, "rmse": 3 * mase, "smape": 10 * mase, "mase": mase}

    baselines = {"persistence": metrics(1.0), "seasonal_naive": metrics(naive_mase)}
    baselines["mean"] = metrics(2.0)
    return {"test": {**metrics(model_mase), "windows": windows}, "baselines": baselines}


def test_the_summary_weighs_every_series_alike_and_counts_wins():
    from lstm_app.evaluation.panel import panel_summary, series_table

    reports = [_report(0.5, 1.0), _report(1.5, 1.0), _report(0.9, None), _report(0.7, 0.6)]
    table = series_table(["a", "b", "c", "d"], reports)
    assert list(table["series"]) == ["a", "b", "c", "d"] and np.isnan(
        table["seasonal_naive_mase"][2]
    )
    summary = panel_summary(table)
    assert summary["model"]["mase"] == {"mean": pytest.approx(0.9), "median": 0.8, "series": 4}
    assert summary["seasonal_naive"]["mase"]["series"] == 3  # left out where it had no score
    assert summary["wins"]["seasonal_naive"] == pytest.approx(1 / 3)  # a only, of a, b, d
    assert summary["wins"]["persistence"] == 0.75


def test_mase_with_test_last_is_scaled_by_every_row_before_the_test_block():
    from lstm_app.data.panel import prepare_panel
    from lstm_app.evaluation.metrics import in_sample

    part = prepare_panel(_tourism()).parts[0]
    assert len(in_sample(part)) == 72  # 1998 Q1 .. 2015 Q4: train and validation


def test_seasonal_naive_on_the_textbook_protocol_gives_the_textbook_figures():
    # Hyndman & Athanasopoulos, FPP3 11.4: tourism, train to 2015 Q4, test 2016 Q1 - 2017 Q4:
    # seasonal naive's mean MASE over the 304 series is 1.167 and its mean RMSE 21.49
    from lstm_app.data.panel import prepare_panel
    from lstm_app.evaluation.metrics import metrics_report
    from lstm_app.evaluation.panel import panel_summary, series_table

    prepared = prepare_panel(_tourism())
    reports = [
        metrics_report(part, {"test": np.zeros_like(part.splits["test"].raw_target_windows())})
        for part in prepared.parts
    ]
    table = series_table(prepared.ids, reports)
    summary = panel_summary(table)
    assert summary["seasonal_naive"]["mase"]["mean"] == pytest.approx(1.167, abs=5e-4)
    assert table["seasonal_naive_rmse"].mean() == pytest.approx(21.49, abs=5e-3)


# ---- lstm-train on a panel


def _panel_config(tmp_path, epochs=3):
    from conftest import tiny_config_dict, write_yaml

    rng = np.random.default_rng(0)
    rows = []
    for k, name in enumerate(["north", "south", "east", "west"]):
        length = 40 if name != "west" else 3  # west: its test block, nothing before it
        for m in range(length):
            y = 50 + 10 * k + 5 * np.sin(2 * np.pi * m / 12) + rng.normal()
            rows.append({"id": name, "t": f"{2000 + m // 12}-{m % 12 + 1:02d}", "y": round(y, 3)})
    path = _long(tmp_path, pd.DataFrame(rows))
    data = {"source": "csv", "path": str(path), "target": "y", "time_column": "t"}
    data |= {"series_id": "id", "season_length": 12, "window": {"input_width": 6, "horizon": 3}}
    data |= {"split": {"test_last": 3, "val_last": 3}, "scaler": "series"}
    raw = tiny_config_dict(name="panel", data=data, training={"epochs": epochs})
    raw["data"].pop("sine")
    return write_yaml(tmp_path / "panel.yaml", raw)


def test_lstm_train_checks_a_panel(tmp_path, capsys):
    from lstm_app.cli import lstm_train

    assert lstm_train.main(["--config", str(_panel_config(tmp_path)), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1 series left out: 'west' (the test split has ")
    assert "3 series of" in out[1] and "test 3;" in out[1] and out[1].endswith("nothing written")


def test_lstm_train_trains_one_model_on_a_panel_and_scores_each_series(tmp_path, capsys):
    import json

    from lstm_app.cli import lstm_train

    run = tmp_path / "run"
    config = _panel_config(tmp_path)
    assert lstm_train.main(["--config", str(config), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Test blocks of 3 series; MASE over the series:\n")
    assert "mean    median" in out and "seasonal naive" in out
    table = pd.read_csv(run / "series_metrics.csv")
    assert list(table["series"]) == ["north", "south", "east"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["panel"]["model"]["mase"]["mean"] == pytest.approx(table["model_mase"].mean())
    assert list(metrics["series"]["left_out"]) == ["west"]


def test_a_panel_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    import json

    from conftest import whole_and_resumed

    config = _panel_config(tmp_path, epochs=4)
    args = ["--config", str(config), "--quiet"]
    whole, resumed = whole_and_resumed(tmp_path, monkeypatch, args)
    capsys.readouterr()
    for name in ("history.csv", "series_metrics.csv"):
        assert (whole / name).read_bytes() == (resumed / name).read_bytes()
    assert (
        json.loads((whole / "metrics.json").read_text())["panel"]
        == json.loads((resumed / "metrics.json").read_text())["panel"]
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"evaluation": {"backtest": {"folds": 2}}}, r"folds: not yet with data.series_id"),
    ],
)
def test_what_a_panel_run_does_not_do_yet_is_refused(tmp_path, override, message):
    import yaml

    from lstm_app.config.load import load_config

    path = _panel_config(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw.update(override)
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_lstm_compare_shows_a_panel_run_beside_a_single_series_run(tmp_path, capsys):
    import json

    from conftest import tiny_config_dict, write_yaml

    from lstm_app.cli import lstm_compare, lstm_train

    panel, single = tmp_path / "panel_run", tmp_path / "single_run"
    args = ["--config", str(_panel_config(tmp_path)), "--run-dir", str(panel), "--quiet"]
    assert lstm_train.main(args) == 0
    tiny = write_yaml(tmp_path / "tiny.yaml", tiny_config_dict())
    assert lstm_train.main(["--config", str(tiny), "--run-dir", str(single), "--quiet"]) == 0
    out = tmp_path / "comparison"
    assert lstm_compare.main([str(single), str(panel), "--out", str(out)]) == 0
    capsys.readouterr()
    table = (out / "comparison.md").read_text()
    summary = json.loads((panel / "metrics.json").read_text())["panel"]
    row = next(line for line in table.splitlines() if line.startswith("| panel_run |"))
    assert row.startswith("| panel_run | y | 3 | 3 | ")
    assert f"{summary['model']['mase']['mean']:.4g}" in row
    assert f"{summary['wins']['seasonal_naive']:.0%} of the series" in row
    assert "| single_run | value | 1 |" in table
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"


# ---- Parquet


def test_a_parquet_file_or_folder_reads_as_its_csv_does(tmp_path):
    frame = _frame(("a", "b", "c"), steps=8)
    frame.loc[3, "y"] = np.nan  # an empty cell, read as the CSV's would be
    csv = read_panel(_data(_long(tmp_path, frame), missing="interpolate"))
    frame["t"] = pd.to_datetime(frame["t"])  # a real timestamp column in Parquet
    frame.to_parquet(tmp_path / "panel.parquet", index=False)
    folder = tmp_path / "shards"
    folder.mkdir()
    for i, ids in enumerate((["a", "b"], ["c"])):
        frame[frame["id"].isin(ids)].to_parquet(folder / f"part-{i}.parquet", index=False)
    for path in (tmp_path / "panel.parquet", folder):
        panel = read_panel(_data(path, missing="interpolate"))
        assert panel.ids == csv.ids
        for got, expected in zip(panel.series, csv.series, strict=True):
            np.testing.assert_array_equal(got.target, expected.target)
            np.testing.assert_array_equal(got.times, expected.times)


def test_a_folder_without_parquet_files_is_one_line(tmp_path):
    with pytest.raises(DataError, match=r"a folder without .parquet files; expected a CSV or"):
        read_panel(_data(tmp_path))


def test_the_summary_says_plainly_whether_the_model_beats_each_statistical_baseline():
    from lstm_app.evaluation.panel import versus
    from lstm_app.jobs.panel import versus_lines

    table = pd.DataFrame(
        {
            "model_mase": [1.0, 2.0, 0.5, np.nan],
            "model_smape": [10.0, 20.0, 5.0, 1.0],
            "ets_mase": [2.0, 1.0, 1.0, 1.0],
            "ets_smape": [20.0, 10.0, 10.0, 1.0],
            "theta_mase": [0.5, 0.5, 0.5, 0.5],
            "theta_smape": [5.0, 5.0, 5.0, 5.0],
        }
    )
    found = versus(table, ("ets", "theta"))
    assert found["ets"]["series"] == 3 and found["ets"]["wins"] == 2  # the NaN row is not scored
    assert found["ets"]["model_mase"] == pytest.approx(3.5 / 3)
    assert found["ets"]["mase"] == pytest.approx(4 / 3)
    lines = versus_lines({"test": found})
    assert lines[0].startswith("Test: the model beats ETS: mean MASE 1.167 vs 1.333 (-12.5%)")
    assert lines[0].endswith("better on 2 of 3 series.")
    assert lines[1].startswith("Test: the model loses to Theta: mean MASE 1.167 vs 0.500")


def test_a_combination_keeps_the_network_where_a_statistical_model_cannot_forecast(monkeypatch):
    from lstm_app.data.panel import prepare_panel
    from lstm_app.evaluation import combine as combine_module
    from lstm_app.evaluation.combine import combine_each
    from lstm_app.models.statistical import combine

    np.testing.assert_array_equal(
        combine(np.array([[1.0, 5.0]]), [np.array([[2.0, 0.0]]), np.array([[3.0, 1.0]])]),
        [[2.0, 1.0]],
    )
    parts = prepare_panel(_tourism()).parts[:2]
    network = [np.zeros((1, 8)), np.zeros((1, 8))]
    combined, alone = combine_each(parts, network, "test", ("ets", "theta"))
    assert alone == 0 and not np.allclose(combined[0], 0)  # the median of 0, ETS and Theta
    real = combine_module.forecasts_of
    monkeypatch.setattr(  # the second series: too short for Theta to fit
        combine_module,
        "forecasts_of",
        lambda part, split, names: (
            {"ets": real(part, split, ("ets",))["ets"]}
            if part is parts[1]
            else real(part, split, names)
        ),
    )
    combined, alone = combine_each(parts, network, "test", ("ets", "theta"))
    assert alone == 1 and np.array_equal(combined[1], network[1])
    assert not np.allclose(combined[0], 0)
