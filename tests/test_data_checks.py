"""Time columns read as what they mean: day-first dates, integer steps, UTC offsets; and the
shipped CSVs read exactly as before."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, tiny_config_dict, write_yaml

from lstm_app.config.load import config_from_dict, load_config
from lstm_app.data.series import load_series
from lstm_app.data.steps import infer_frequency
from lstm_app.data.times import time_text
from lstm_app.errors import ConfigError, DataError


def _config(tmp_path, cells, **data):
    """A CSV with the time column `t` holding `cells`, and `y` = 0, 1, 2, ..."""
    path = tmp_path / "series.csv"
    path.write_text("t,y\n" + "".join(f"{cell},{i}\n" for i, cell in enumerate(cells)))
    raw = {"source": "csv", "path": str(path), "target": "y", "time_column": "t", **data}
    return config_from_dict(tiny_config_dict(data=raw))


def _times(tmp_path, cells, **data) -> np.ndarray:
    return load_series(_config(tmp_path, cells, **data).data).times


def _stamps(*texts) -> np.ndarray:
    return pd.to_datetime(list(texts)).to_numpy()


# --------------------------------------------------------------------------------------------
# day / month order

MONTHS_DAY_FIRST = [f"01/{month:02d}/1949" for month in range(1, 13)]  # 1 Jan .. 1 Dec 1949


def test_ambiguous_day_month_order_is_refused_naming_file_column_cell_and_keys(tmp_path):
    cfg = _config(tmp_path, MONTHS_DAY_FIRST)
    with pytest.raises(DataError) as err:
        load_series(cfg.data)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'series.csv'}: column 't' (data.time_column):")
    assert "'01/02/1949'" in message
    assert "data.dayfirst" in message and "data.time_format" in message


@pytest.mark.parametrize(
    ("data", "second"),
    [
        ({"dayfirst": True}, "1949-02-01"),
        ({"dayfirst": False}, "1949-01-02"),
        ({"time_format": "%d/%m/%Y"}, "1949-02-01"),
        ({"time_format": "%m/%d/%Y"}, "1949-01-02"),
    ],
)
def test_day_month_order_follows_the_config(tmp_path, data, second):
    times = _times(tmp_path, MONTHS_DAY_FIRST, **data)
    assert time_text(times[0]) == "1949-01-01" and time_text(times[1]) == second


def test_the_only_valid_order_is_used(tmp_path):
    days = [f"{day:02d}/01/2000" for day in range(1, 21)]  # 13/01/2000 has no 13th month
    np.testing.assert_array_equal(
        _times(tmp_path, days), pd.date_range("2000-01-01", periods=20).to_numpy()
    )
    days = [f"01/{day:02d}/2000" for day in range(1, 21)]  # month first: 01/13/2000
    np.testing.assert_array_equal(
        _times(tmp_path, days), pd.date_range("2000-01-01", periods=20).to_numpy()
    )


def test_the_only_increasing_order_is_used(tmp_path):
    # day first: 1 Feb, 2 Feb, 3 Mar; month first: 2 Jan, 2 Feb, 3 Mar... with 1 Feb after 2 Jan
    # both are valid dates, but only day first gives increasing times here
    cells = ["02/01/2000", "01/02/2000", "03/03/2000"]  # uneven steps: data.missing: drop
    assert [time_text(t) for t in _times(tmp_path, cells, missing="drop")] == [
        "2000-01-02",
        "2000-02-01",
        "2000-03-03",
    ]


def test_a_cell_that_the_configured_order_cannot_read_is_named(tmp_path):
    cells = ["01/01/2000", "13/01/2000"]
    with pytest.raises(
        DataError,
        match=r"series.csv: line 3, column 't' \(data.time_column\): expected a date or time "
        r"in the order of data.dayfirst: false, got '13/01/2000'",
    ):
        _times(tmp_path, cells, dayfirst=False)
    with pytest.raises(
        DataError,
        match=r"line 2, column 't' \(data.time_column\): expected a date or time in "
        r"data.time_format '%Y-%m-%d', got '01/01/2000'",
    ):
        _times(tmp_path, cells, time_format="%Y-%m-%d")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_format": "%d/%m/%Y", "dayfirst": True}, r"data.dayfirst: give data.time_format"),
        ({"time_format": "day/month"}, r"data.time_format: expected a strptime format"),
        ({"time_column": None, "time_format": "%Y"}, r"data.time_format: .*data.time_column"),
        ({"dayfirst": "yes"}, r"data.dayfirst: expected true or false"),
    ],
)
def test_time_format_keys_are_checked(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, MONTHS_DAY_FIRST, **data)


def test_iso_and_shipped_dates_read_exactly_as_before():
    for name in ("article", "temperatures", "sunspots"):
        cfg = load_config(REPO / "configs" / f"{name}.yaml")
        frame = pd.read_csv(cfg.data.path, dtype=str)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            before = pd.to_datetime(frame[cfg.data.time_column]).to_numpy()
        series = load_series(cfg.data)
        assert series.times.dtype == before.dtype
        # temperatures has two missing days, inserted (data.missing: interpolate)
        read = series.times[series.observed]
        np.testing.assert_array_equal(read, before)
        assert len(series) == len(before) + series.cleaning["missing_steps"]


# --------------------------------------------------------------------------------------------
# integer steps


@pytest.mark.parametrize("start", [0, 1, 1000, -3])
def test_an_integer_time_column_is_read_as_steps(tmp_path, start):
    times = _times(tmp_path, [str(start + i) for i in range(20)])
    assert times.dtype == np.int64
    np.testing.assert_array_equal(times, np.arange(start, start + 20))
    assert infer_frequency(times) is None and time_text(times[3]) == str(start + 3)


def test_integer_steps_out_of_order_are_refused_at_their_line(tmp_path):
    with pytest.raises(DataError, match=r"series.csv: line 4: time 1 does not come after"):
        _times(tmp_path, ["0", "1", "1", "2"])


# --------------------------------------------------------------------------------------------
# UTC offsets


def test_times_with_offsets_crossing_summer_time_are_converted_to_utc(tmp_path):
    cells = [
        "2021-03-28T00:00:00+01:00",
        "2021-03-28T01:00:00+01:00",
        "2021-03-28T03:00:00+02:00",  # clocks went forward: one hour after the row before
        "2021-03-28T04:00:00+02:00",
    ]
    times = _times(tmp_path, cells)
    expected = _stamps(
        "2021-03-27 23:00", "2021-03-28 00:00", "2021-03-28 01:00", "2021-03-28 02:00"
    )
    assert np.issubdtype(times.dtype, np.datetime64)
    np.testing.assert_array_equal(times, expected)
    assert infer_frequency(times) == "h"


@pytest.mark.parametrize("suffix", ["Z", "+00:00", " UTC"])
def test_utc_suffixed_times_are_plain_utc_times(tmp_path, suffix):
    times = _times(tmp_path, [f"2021-01-0{day}T06:00:00{suffix}" for day in range(1, 6)])
    assert np.issubdtype(times.dtype, np.datetime64)
    np.testing.assert_array_equal(times, pd.date_range("2021-01-01 06:00", periods=5).to_numpy())
    assert infer_frequency(times) == "D"


def test_times_with_offsets_train_and_predict(tmp_path):
    """Training and lstm-predict's forecasting read the same UTC times, and the forecast's
    time continues them by the hour."""
    import lstm_app

    stamps = pd.date_range("2021-03-27 12:00", periods=48, freq="h", tz="Europe/Berlin")
    assert {stamp.strftime("%z") for stamp in stamps} == {"+0100", "+0200"}  # summer time
    cells = [stamp.isoformat() for stamp in stamps]
    path = tmp_path / "series.csv"
    path.write_text("t,y\n" + "".join(f"{cell},{i % 5}\n" for i, cell in enumerate(cells)))
    data = {"source": "csv", "path": str(path), "target": "y", "time_column": "t"}
    raw = tiny_config_dict(data={**data, "window": {"input_width": 4, "horizon": 1}})
    cfg = config_from_dict({**raw, "training": {**raw["training"], "epochs": 1}})
    result = lstm_app.train(cfg, run_dir=tmp_path / "run", verbose=0)
    assert result.metrics["data"]["frequency"] == "h"
    forecaster = lstm_app.load_forecaster(lstm_app.export(result.run_dir, ["keras"]))
    table = lstm_app.forecast_csv(forecaster, path)
    last = stamps[-1].tz_convert("UTC").tz_localize(None)
    assert table["origin"].tolist() == [str(last)]
    assert table["time"].tolist() == [str(last + pd.Timedelta(hours=1))]


# --------------------------------------------------------------------------------------------
# time steps: gaps, a far last row, rows off the step (issue 14, item 5)

MONTHS = [f"{1949 + m // 12}-{m % 12 + 1:02d}-01" for m in range(40)]


def _series(tmp_path, cells, **data):
    return load_series(_config(tmp_path, cells, **data).data)


def test_missing_time_steps_are_refused_by_default_naming_where(tmp_path):
    cells = MONTHS[:10] + MONTHS[13:]  # 1949-11, 12 and 1950-01 missing
    with pytest.raises(
        DataError,
        match=r"series.csv: 3 missing time step\(s\), rows being 'MS' \(a month\) apart: the "
        r"first after line 11 \(1949-10-01\), whose next row is 1950-02-01 \(line 12\); set "
        r"data.missing to interpolate or ffill",
    ):
        _series(tmp_path, cells)


def test_interpolate_inserts_the_missing_steps_unscored(tmp_path):
    cells = MONTHS[:10] + MONTHS[13:]
    series = _series(tmp_path, cells, missing="interpolate")
    np.testing.assert_array_equal(series.times, pd.to_datetime(MONTHS).to_numpy())
    assert list(np.flatnonzero(~series.observed)) == [10, 11, 12]
    # y is the row number in the file: 9 at 1949-10, 10 at 1950-02, so linear between them
    np.testing.assert_allclose(series.target[9:14], [9.0, 9.25, 9.5, 9.75, 10.0])
    assert series.cleaning["missing_steps"] == 3 and series.cleaning["step"] == "MS"
    assert series.cleaning["filled"] == {"y": 3}


def test_ffill_carries_the_last_value_into_missing_steps(tmp_path):
    series = _series(tmp_path, MONTHS[:10] + MONTHS[13:], missing="ffill")
    np.testing.assert_allclose(series.target[9:14], [9.0, 9.0, 9.0, 9.0, 10.0])


def test_drop_keeps_the_rows_and_reports_the_gaps(tmp_path):
    series = _series(tmp_path, MONTHS[:10] + MONTHS[13:], missing="drop")
    assert len(series) == 37 and series.observed.all()
    assert series.cleaning["missing_steps"] == 3
    assert infer_frequency(series.times) == "MS"


def test_a_last_row_far_after_the_others_is_named(tmp_path):
    cells = [*MONTHS, "2030-01-01"]
    with pytest.raises(DataError, match=r"missing time step\(s\).*after line 41 \(1952-04-01\)"):
        _series(tmp_path, cells)
    # filling it would invent whole windows: refused too, naming the window
    with pytest.raises(DataError, match=r"longer than a window \(data.window.input_width 5\)"):
        _series(tmp_path, cells, missing="interpolate", window={"input_width": 5, "horizon": 1})


def test_a_row_off_the_step_is_named(tmp_path):
    cells = list(MONTHS)
    cells[20] = "1950-09-15"
    for missing in ("error", "interpolate", "ffill"):
        with pytest.raises(
            DataError,
            match=r"line 22: time 1950-09-15 is off the step that most rows follow \('MS' "
            r"\(a month\) from 1949-01-01\); times must be evenly spaced",
        ):
            _series(tmp_path, cells, missing=missing)
    assert len(_series(tmp_path, cells, missing="drop")) == 40  # accepted, as asked


def test_uneven_times_name_the_first_odd_gap(tmp_path):
    at = [0, 10, 20, 27, 40, 50]  # minutes: most rows 10 apart, one 7
    cells = [f"2000-01-01 00:{m:02d}" for m in at]
    with pytest.raises(
        DataError,
        match=r"line 5: time 2000-01-01 00:27:00 is off the step that most rows follow "
        r"\('10min' from 2000-01-01\)",
    ):
        _series(tmp_path, cells)
    at = [0, 10, 17, 30, 38, 45]  # no step that most rows follow: the most common gap
    cells = [f"2000-01-01 00:{m:02d}" for m in at]
    with pytest.raises(
        DataError,
        match=r"line 3: time 2000-01-01 00:10:00 comes 00:10:00 after the row before, where "
        r"most rows are 00:07:00 apart; times must be evenly spaced",
    ):
        _series(tmp_path, cells)


@pytest.mark.parametrize(
    "cells, step",
    [
        (pd.date_range("2000-01-03", periods=30, freq="B").strftime("%Y-%m-%d"), "B"),
        (pd.date_range("2000-01-01", periods=30, freq="h").strftime("%Y-%m-%d %H:%M"), "h"),
        (pd.date_range("2000-03-31", periods=30, freq="QE").strftime("%Y-%m-%d"), "QE-DEC"),
        (pd.date_range("2000-01-02", periods=30, freq="W").strftime("%Y-%m-%d"), "W-SUN"),
    ],
)
def test_a_gap_is_found_at_the_series_own_step(tmp_path, cells, step):
    cells = list(cells)
    del cells[7]
    series = _series(tmp_path, cells, missing="interpolate", window={"input_width": 3})
    assert series.cleaning["step"] == step and series.cleaning["missing_steps"] == 1
    assert len(series) == 30 and not series.observed[7]


def test_integer_steps_with_a_gap_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"2 missing time step\(s\), rows being 1 apart"):
        _series(tmp_path, ["0", "1", "2", "3", "6", "7", "8"])


UNIX = [str(1_600_000_000 + 3600 * i) for i in range(30)]


def test_unix_times_are_steps_with_a_note_unless_told(tmp_path):
    series = _series(tmp_path, UNIX)
    assert series.times.dtype == np.int64 and series.cleaning["step"] == "3600"
    (note,) = series.notes
    assert "read as steps 3600 apart" in note and "data.time_format: epoch_s" in note
    series = _series(tmp_path, UNIX, time_format="epoch_s")
    assert time_text(series.times[0]) == "2020-09-13 12:26:40" and series.notes == ()
    assert infer_frequency(series.times) == "h"
    millis = [cell + "000" for cell in UNIX]
    assert time_text(_series(tmp_path, millis, time_format="epoch_ms").times[1]) == (
        "2020-09-13 13:26:40"
    )


def test_unix_time_format_names_a_cell_that_is_not_a_number(tmp_path):
    with pytest.raises(
        DataError, match=r"line 3, column 't' .*seconds since 1970 .*got '2020-01-01'"
    ):
        _series(tmp_path, ["1600000000", "2020-01-01", "1600007200"], time_format="epoch_s")


def test_check_says_what_was_done_to_the_steps(tmp_path, capsys):
    from lstm_app.cli import lstm_train

    _config(tmp_path, MONTHS[:10] + MONTHS[13:])  # writes series.csv
    data = {"source": "csv", "path": str(tmp_path / "series.csv"), "target": "y"}
    data |= {"time_column": "t", "missing": "interpolate", "window": {"input_width": 3}}
    raw = tiny_config_dict(data=data)
    raw["data"].pop("sine")
    config = write_yaml(tmp_path / "c.yaml", raw)
    assert lstm_train.main(["--config", str(config), "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Missing time steps of 'MS': 3, inserted and filled in (interpolate), not scored."
    )
    assert out[1] == (
        "Missing values (interpolate): filled 'y' 3 (inserted steps included); dropped 0 rows."
    )
    assert out[-1].endswith("nothing written")
