"""The data module: windows by exact values, splits in time order, train-only scaling, and
one-line errors for bad CSV files."""

import numpy as np
import pytest
from conftest import ARTICLE_CONFIG, tiny_config_dict

from lstm_app.config.load import config_from_dict, load_config
from lstm_app.config.schema import SplitConfig
from lstm_app.data.prepare import Scaler, prepare_data, split_bounds
from lstm_app.data.series import load_series
from lstm_app.data.windows import count_windows, make_dataset, window_views
from lstm_app.errors import DataError


def test_windows_have_exact_values_on_arange():
    features = np.arange(20).reshape(10, 2)  # (time 10, features 2): row t is [2t, 2t + 1]
    target = np.arange(100, 110)
    inputs, targets = window_views(features, target, input_width=3, horizon=2)
    assert inputs.shape == (6, 3, 2) and targets.shape == (6, 2)
    np.testing.assert_array_equal(inputs[0], [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(inputs[5], [[10, 11], [12, 13], [14, 15]])
    np.testing.assert_array_equal(targets[:, 0], [103, 104, 105, 106, 107, 108])
    np.testing.assert_array_equal(targets[5], [108, 109])


def test_windows_are_views_not_copies():
    features, target = np.arange(1000.0)[:, None], np.arange(1000.0)
    inputs, targets = window_views(features, target, input_width=50, horizon=3)
    assert np.shares_memory(inputs, features) and np.shares_memory(targets, target)
    assert not inputs.flags.writeable


def test_window_count_and_too_short_series():
    assert count_windows(10, 3, 2) == 6
    assert count_windows(4, 3, 2) == 0
    with pytest.raises(ValueError, match="no window"):
        window_views(np.zeros((4, 1)), np.zeros(4), input_width=3, horizon=2)


def test_split_bounds_are_chronological_and_cover_every_row():
    bounds = split_bounds(144, SplitConfig(train=0.6, val=0.2, test=0.2))
    assert bounds == {"train": (0, 86), "val": (86, 115), "test": (115, 144)}
    bounds = split_bounds(10, SplitConfig(train=0.7, val=0.15, test=0.15))
    assert bounds["train"][0] == 0 and bounds["test"][1] == 10
    assert bounds["train"][1] == bounds["val"][0] and bounds["val"][1] == bounds["test"][0]


def _ramp_config(length=100, **data):
    """A sine source with no wave and no noise: value t = t, so values tell row numbers."""
    sine = {"length": length, "amplitude": 0.0, "trend": 1.0, "noise": 0.0}
    raw = tiny_config_dict(data={"sine": sine, "scaler": "none", **data})
    return config_from_dict(raw)


def test_windows_never_cross_a_split_boundary():
    cfg = _ramp_config()
    data = prepare_data(cfg.data)
    bounds = split_bounds(100, cfg.data.split)
    for name, split in data.splits.items():
        start, stop = bounds[name]
        inputs, targets = split.windows()
        assert inputs.min() >= start and targets.max() < stop  # values are row numbers
        assert split.n_windows == (stop - start) - 8 - 1 + 1


def test_scaler_uses_the_train_split_only():
    cfg = _ramp_config(scaler="standard")
    data = prepare_data(cfg.data)
    train_rows = np.arange(60.0)  # the first 60 of 100 rows; later rows are larger
    assert data.target_scaler.offset[0] == pytest.approx(train_rows.mean())
    assert data.target_scaler.scale[0] == pytest.approx(train_rows.std())
    np.testing.assert_allclose(data.feature_scaler.offset, [train_rows.mean()])
    test = data.splits["test"]
    expected = (np.arange(80.0, 100.0) - train_rows.mean()) / train_rows.std()
    np.testing.assert_allclose(test.target, expected, rtol=1e-6)
    np.testing.assert_array_equal(test.raw_target, np.arange(80.0, 100.0))


@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
def test_scaler_inverts_exactly(kind):
    values = np.random.default_rng(0).normal(5, 3, size=(50, 3))
    scaler = Scaler.fit(kind, values)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values)


def test_minmax_maps_the_train_range_to_unit_interval_and_constant_columns_stay_finite():
    values = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    scaled = Scaler.fit("minmax", values).transform(values)
    np.testing.assert_allclose(scaled[:, 0], [0, 0.5, 1])
    np.testing.assert_allclose(scaled[:, 1], [0, 0, 0])


def test_dataset_gives_the_same_windows_as_the_views():
    data = prepare_data(_ramp_config().data)
    split = data.splits["train"]
    batches = list(make_dataset(split, batch_size=16))
    inputs = np.concatenate([x.numpy() for x, _ in batches])
    targets = np.concatenate([y.numpy() for _, y in batches])
    view_inputs, view_targets = split.windows()
    np.testing.assert_array_equal(inputs, view_inputs)
    np.testing.assert_array_equal(targets, view_targets)
    assert batches[0][0].shape == (16, 8, 1) and batches[0][0].dtype.name == "float32"


def test_shuffled_dataset_orders_each_epoch_by_seed_and_epoch_alone():
    import tensorflow as tf

    split = prepare_data(_ramp_config().data).splits["train"]

    def order(ds):  # the first value of each window, in the order given
        return np.concatenate([x.numpy()[:, 0, 0] for x, _ in ds])

    epochs = [order(make_dataset(split, 16, shuffle=True, seed=3, epoch=e)) for e in range(3)]
    assert not np.array_equal(epochs[0], epochs[1])  # another order every epoch
    ordered = split.windows()[0][:, 0, 0]
    for each in epochs:
        np.testing.assert_array_equal(np.sort(each), np.sort(ordered))  # the same windows
    np.testing.assert_array_equal(order(make_dataset(split, 16, True, 3, epoch=2)), epochs[2])
    assert not np.array_equal(order(make_dataset(split, 16, True, 4, epoch=0)), epochs[0])
    np.testing.assert_array_equal(order(make_dataset(split, 16, shuffle=False)), ordered)
    # a variable epoch is read each time the dataset is iterated, as fit does every epoch
    number = tf.Variable(0, dtype=tf.int64)
    ds = make_dataset(split, 16, shuffle=True, seed=3, epoch=number)
    assert ds.cardinality() == -(-split.n_windows // 16)
    for e in (0, 2, 1):
        number.assign(e)
        np.testing.assert_array_equal(order(ds), epochs[e])


def test_shipped_csv_reads_with_its_quirks():
    cfg = load_config(ARTICLE_CONFIG)
    series = load_series(cfg.data)
    assert len(series) == 144 and list(series.columns) == ["Passengers"]
    assert series.target[0] == 112 and series.target[-1] == 432
    assert str(series.times[0])[:10] == "1949-01-01" and str(series.times[-1])[:10] == "1960-12-01"


def test_sine_source_is_seeded():
    cfg = config_from_dict(tiny_config_dict())
    a, b, c = (load_series(cfg.data, seed) for seed in (1, 1, 2))
    np.testing.assert_array_equal(a.target, b.target)
    assert not np.array_equal(a.target, c.target)
    assert len(a) == 160


def _csv_config(tmp_path, text: str | bytes, **data):
    path = tmp_path / "series.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    raw = {
        "source": "csv",
        "path": str(path),
        "target": "y",
        "time_column": "t",
        "window": {"input_width": 2, "horizon": 1},
        **data,
    }
    return config_from_dict(tiny_config_dict(data=raw))


def _rows(n: int, bad_row: int | None = None, bad: str = "") -> str:
    lines = ["t,y,x"]
    for i in range(n):
        y = bad if i == bad_row else str(i * 1.5)
        lines.append(f"2020-01-{i + 1:02d},{y},{i}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        (
            _rows(20, 4, "abc"),
            {},
            r"series.csv: line 6, column 'y' \(data.target\): expected a finite number, got 'abc'",
        ),
        (_rows(20, 4, "inf"), {}, r"line 6, column 'y' \(data.target\): expected a finite number"),
        (
            _rows(20, 9, ""),
            {},
            r"series.csv: missing values in 'y': 1 \(first at line 11\); set data.missing to "
            r"drop, ffill or interpolate",
        ),
        (_rows(20, 9, "NA"), {}, r"missing values in 'y': 1 \(first at line 11\)"),
        (
            _rows(20),
            {"target": "why"},
            r"series.csv: column 'why' \(data.target\) not found; the file has columns: t, y, x",
        ),
        (_rows(20), {"features": ["y", "z"]}, r"column 'z' \(data.features\[1\]\) not found"),
        (
            _rows(20),
            {"time_column": "T"},
            r"column 'T' \(data.time_column\) not found; .* did "
            r"you mean 't'\?",
        ),
        (
            _rows(20).replace("2020-01-05", "someday"),
            {},
            r"line 6, column 't' \(data.time_column\): expected a date or time, got 'someday'",
        ),
        (
            _rows(20).replace("2020-01-05", "2020-01-03"),
            {},
            r"series.csv: line 6: time 2020-01-03 does not come after the row before "
            r"\(2020-01-04\); rows must be in increasing time order, without repeats",
        ),
        (
            _rows(6),
            {},
            r"series.csv: the val split has 1 of the 6 rows, fewer than the 3 one "
            r"window needs \(data.window.input_width 2 \+ horizon 1\)",
        ),
        (
            _rows(20, 4, "-2e30"),
            {},
            r"series.csv: line 6, column 'y': -2e\+30 is too large; values must be within "
            r"\+-1e\+30 \(the model computes in float32\)",
        ),
        (
            "t,y,x\n" + "".join(f"2020-01-{i + 1:02d},{1e-40 * (i % 3)},{i}\n" for i in range(20)),
            {},
            r"series.csv: column 'y' \(input, train split\) varies by only 2e-40; the model "
            r"computes in float32: rescale the column",
        ),
        ("", {}, r"series.csv: the file is empty"),
        ("t,y,x\n", {}, r"series.csv: no data rows under the header"),
        (b"t,y\n\xff\xfe,1\n", {}, r"series.csv: not UTF-8 text \(byte \d+\)"),
        ('t,y\n"2020-01-01,1\n', {}, r"series.csv: cannot be read as CSV"),
    ],
)
def test_bad_csv_gives_one_line_naming_file_row_and_column(tmp_path, text, data, message):
    cfg = _csv_config(tmp_path, text, **data)
    with pytest.raises(DataError, match=message) as err:
        prepare_data(cfg.data)
    assert "\n" not in str(err.value)


def test_missing_data_file_is_named(tmp_path):
    cfg = _csv_config(tmp_path, _rows(20), path=str(tmp_path / "absent.csv"))
    with pytest.raises(DataError, match=r"absent.csv: data file not found \(data.path\)"):
        prepare_data(cfg.data)


def test_csv_with_spaces_crlf_and_quotes_is_read(tmp_path):
    text = '"t", "y"\r\n' + "".join(f'"2020-01-{i + 1:02d}", {i}\r\n' for i in range(20))
    cfg = _csv_config(tmp_path, text.rstrip("\r\n"))
    series = load_series(cfg.data)
    np.testing.assert_array_equal(series.target, np.arange(20.0))


# --------------------------------------------------------------------------------------------
# missing values, labels, dates split across columns


def _gappy_config(tmp_path, missing):
    """y: 0..29 with gaps at rows 0-1 and 10-11."""
    lines = ["t,y"]
    for i in range(30):
        y = "" if i in (0, 1, 10, 11) else str(float(i))
        lines.append(f"2020-01-{i + 1:02d},{y}")
    return _csv_config(tmp_path, "\n".join(lines) + "\n", missing=missing)


def test_missing_error_counts_per_column_and_names_the_first_line(tmp_path):
    with pytest.raises(
        DataError,
        match=r"series.csv: missing values in 'y': 4 \(first at line "
        r"2\); set data.missing to drop, ffill or interpolate",
    ):
        load_series(_gappy_config(tmp_path, "error").data)


def test_missing_drop_removes_the_rows(tmp_path):
    series = load_series(_gappy_config(tmp_path, "drop").data)
    assert len(series) == 26 and series.cleaning == {
        "missing": "drop",
        "filled": {},
        "dropped_rows": 4,
        "step": "D",
        "missing_steps": 0,
    }
    assert 10.0 not in series.target and series.observed.all()
    assert list(series.lines[:3]) == [4, 5, 6]  # file lines survive, for messages


def test_missing_ffill_carries_forward_and_drops_what_it_cannot_fill(tmp_path):
    series = load_series(_gappy_config(tmp_path, "ffill").data)
    assert series.cleaning == {
        "missing": "ffill",
        "filled": {"y": 2},
        "dropped_rows": 2,
        "step": "D",
        "missing_steps": 0,
    }
    np.testing.assert_array_equal(series.target[7:11], [9.0, 9.0, 9.0, 12.0])  # rows 9..12
    assert list(np.flatnonzero(~series.observed)) == [8, 9]


def test_missing_interpolate_is_linear_and_flat_at_the_start(tmp_path):
    series = load_series(_gappy_config(tmp_path, "interpolate").data)
    assert series.cleaning == {
        "missing": "interpolate",
        "filled": {"y": 4},
        "dropped_rows": 0,
        "step": "D",
        "missing_steps": 0,
    }
    np.testing.assert_allclose(series.target[:3], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(series.target[9:13], [9.0, 10.0, 11.0, 12.0])


def test_filled_targets_are_not_scored(tmp_path):
    data = prepare_data(_gappy_config(tmp_path, "interpolate").data)
    train = data.splits["train"]
    scored = train.scored()
    targets_filled = ~train.observed[train.input_width :]
    np.testing.assert_array_equal(scored, ~targets_filled)
    assert not scored.all()


def test_labels_are_one_hot_with_the_train_split_categories(tmp_path):
    lines = ["t,y,w"] + [
        f"2020-01-{i + 1:02d},{i},{'new' if i >= 25 else ('a' if i % 2 else 'b')}"
        for i in range(30)
    ]
    text = "\n".join(lines) + "\n"
    cfg = _csv_config(tmp_path, text, features=["y", "w"], categorical=["w"])
    data = prepare_data(cfg.data)
    assert data.feature_names == ("y", "w=a", "w=b")  # 'new' appears after the train split
    assert data.n_features == 3
    train = data.splits["train"].features
    np.testing.assert_array_equal(train[:4, 1:], [[0, 1], [1, 0], [0, 1], [1, 0]])  # unscaled
    np.testing.assert_array_equal(data.splits["test"].features[-3:, 1:], 0)  # 'new': all 0
    assert data.feature_scaler.scale[1:].tolist() == [1.0, 1.0]


def test_dates_split_across_columns_are_assembled(tmp_path):
    lines = ["year,month,day,hour,y"] + [f"2010,1,{1 + i // 24},{i % 24},{i}" for i in range(40)]
    path = tmp_path / "hourly.csv"
    path.write_text("\n".join(lines) + "\n")
    raw = {
        "source": "csv",
        "path": str(path),
        "target": "y",
        "time_columns": ["year", "month", "day", "hour"],
    }
    series = load_series(config_from_dict(tiny_config_dict(data=raw)).data)
    assert series.times[0] == np.datetime64("2010-01-01T00:00")  # whatever pandas' unit
    assert series.times[25] == np.datetime64("2010-01-02T01:00")
    path.write_text(path.read_text().replace("2010,1,1,5,", "2010,2,30,5,"))
    with pytest.raises(
        DataError,
        match=r"hourly.csv: line 7: year 2010, month 2, day 30, hour 5 "
        r"is not a date \(data.time_columns\)",
    ):
        load_series(config_from_dict(tiny_config_dict(data=raw)).data)


def test_generated_series_too_large_is_refused_at_its_step():
    cfg = config_from_dict(tiny_config_dict(data={"sine": {"amplitude": 1e31, "noise": 0}}))
    with pytest.raises(DataError, match=r"^sine: step \d+, column 'value': .* is too large"):
        prepare_data(cfg.data)
