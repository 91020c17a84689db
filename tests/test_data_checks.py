"""Time columns read as what they mean: day-first dates, integer steps, UTC offsets; and the
shipped CSVs read exactly as before."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, tiny_config_dict

from lstm_app.config.load import config_from_dict, load_config
from lstm_app.data.io import infer_frequency, load_series, time_text
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
    cells = ["02/01/2000", "01/02/2000", "03/03/2000"]
    assert [time_text(t) for t in _times(tmp_path, cells)] == [
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
        times = load_series(cfg.data).times
        assert times.dtype == before.dtype
        np.testing.assert_array_equal(times, before)


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
