"""The data layer of sequence classification (issue 19): a long CSV read into labelled
sequences of different lengths, its bad inputs one line each, splits that keep the label
proportions, labels and scaling from the train split alone, padding and resampling."""

from pathlib import Path

import numpy as np
import pytest

from lstm_app.data.sequence_reading import read_sequences
from lstm_app.data.sequences import (
    LabelEncoding,
    carve_validation,
    fit_feature_scaler,
    pad,
    resample,
    split_indices,
)
from lstm_app.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
VOWELS = SHARED / "japanese_vowels.csv"
LPC = [f"lpc{i}" for i in range(1, 13)]


def _csv(tmp_path, text: str) -> Path:
    path = tmp_path / "seq.csv"
    path.write_text(text)
    return path


GOOD = """id,t,a,b,label,split
s1,0,1.0,10,x,train
s1,1,2.0,20,x,train
s2,0,3.0,30,y,test
s1,2,3.0,30,x,train
s2,5,4.0,40,y,test
"""


def test_rows_become_sequences_in_order_of_first_appearance(tmp_path):
    found = read_sequences(_csv(tmp_path, GOOD), "id", "t", ["a", "b"], "label", "split")
    assert list(found.ids) == ["s1", "s2"] and list(found.labels) == ["x", "y"]
    assert list(found.split) == ["train", "test"] and list(found.lengths) == [3, 2]
    np.testing.assert_array_equal(found.values[0], [[1, 10], [2, 20], [3, 30]])
    np.testing.assert_array_equal(found.values[1], [[3, 30], [4, 40]])


@pytest.mark.skipif(not VOWELS.is_file(), reason="../shared/datasets is not here")
def test_japanese_vowels_reads_as_published():
    found = read_sequences(VOWELS, "sample_id", "t", LPC, "speaker", "split")
    assert len(found) == 640 and found.lengths.min() == 7 and found.lengths.max() == 29
    assert (found.split == "train").sum() == 270 and (found.split == "test").sum() == 370
    assert LabelEncoding.fit(found.labels).classes == tuple(str(i) for i in range(1, 10))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("s1,2,3.0", "s1,1,3.0"),
            "line 5, column 't' (data.order): sequence 's1' "
            "has t 1 after 1; the rows of a sequence must come in increasing t",
        ),
        (
            GOOD.replace("s2,5,4.0,40,y", "s2,5,4.0,40,"),
            "line 6, column 'label' (data.label): the label is missing",
        ),
        (
            GOOD.replace("s1,1,2.0,20,x", "s1,1,2.0,20,z"),
            "line 3, column 'label' (data.label): "
            "sequence 's1' has 'z' here and 'x' on its first row",
        ),
        (
            GOOD.replace("s2,0,3.0,30,y,test", "s2,0,3.0,30,y,dev"),
            "line 4, column 'split' (data.split.column): expected train, val or test, got 'dev'",
        ),
        (GOOD.replace("s1,1,2.0,20", "s1,1,,20"), "line 3, column 'a' (data.features): empty"),
        (
            GOOD.replace("s1,1,2.0,20", "s1,1,two,20"),
            "line 3, column 'a' (data.features): expected a finite number, got 'two'",
        ),
        (
            GOOD.replace("s1,1,2.0", ",1,2.0"),
            "line 3, column 'id' (data.sequence_id): a sequence id is missing",
        ),
    ],
)
def test_bad_rows_are_one_line_naming_the_line_and_column(tmp_path, text, expected):
    with pytest.raises(DataError) as err:
        read_sequences(_csv(tmp_path, text), "id", "t", ["a", "b"], "label", "split")
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_missing_column_names_the_key_and_a_close_one(tmp_path):
    with pytest.raises(DataError, match=r"column 'Label' \(data.label\) not found.*'label'"):
        read_sequences(_csv(tmp_path, GOOD), "id", "t", ["a", "b"], "Label")


def _labelled(counts: dict) -> object:
    labels = np.array([k for k, n in counts.items() for _ in range(n)], dtype=object)
    return type("S", (), {"labels": labels, "split": None})()


def test_fractions_keep_each_label_proportion_and_follow_the_seed():
    sequences = _labelled({"a": 40, "b": 20})
    parts = split_indices(sequences, (0.5, 0.25, 0.25), seed=3)
    everything = np.concatenate(list(parts.values()))
    assert sorted(everything) == list(range(60))  # every sequence once
    for name, share in (("train", 0.5), ("val", 0.25), ("test", 0.25)):
        labels = sequences.labels[parts[name]]
        assert (labels == "a").sum() == 40 * share and (labels == "b").sum() == 20 * share
    again = split_indices(sequences, (0.5, 0.25, 0.25), seed=3)
    other = split_indices(sequences, (0.5, 0.25, 0.25), seed=4)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    assert not np.array_equal(parts["train"], other["train"])


def test_a_split_column_without_val_gets_val_carved_from_train(tmp_path):
    found = read_sequences(_csv(tmp_path, GOOD), "id", "t", ["a", "b"], "label", "split")
    parts = split_indices(found)
    assert list(parts["test"]) == [1]
    train, val = carve_validation(np.arange(10), np.array(["a"] * 6 + ["b"] * 4), 0.25, seed=0)
    assert len(val) == 3 and sorted([*train, *val]) == list(range(10))  # 2 of a, 1 of b
    assert (val < 6).sum() == 2 and (val >= 6).sum() == 1


def test_labels_come_from_the_train_split_and_an_unseen_one_is_named():
    encoding = LabelEncoding.fit(["10", "2", "2", "b", "a"])
    assert encoding.classes == ("2", "10", "a", "b")
    assert list(encoding.encode(["a", "10", "2"])) == [2, 1, 0]
    with pytest.raises(DataError, match=r"test split: label 'c' is not in the train split"):
        encoding.encode(["a", "c"], where="test split")


def test_features_are_scaled_by_the_train_steps_alone():
    values = [np.array([[0.0], [2.0]]), np.array([[4.0]]), np.array([[1000.0]])]
    scaler = fit_feature_scaler(values, np.array([0, 1]))
    assert scaler.offset[0] == pytest.approx(2.0)  # mean of 0, 2, 4
    assert scaler.scale[0] == pytest.approx(np.std([0.0, 2.0, 4.0]))


def test_pad_keeps_the_first_steps_and_counts_the_cut_ones():
    values = [np.ones((2, 1)), np.full((5, 1), 2.0)]
    x, lengths, truncated = pad(values, 3, pad_value=-9)
    assert x.shape == (2, 3, 1) and x.dtype == np.float32
    assert list(lengths) == [2, 3] and truncated == 1
    assert x[0, :, 0].tolist() == [1, 1, -9] and x[1, :, 0].tolist() == [2, 2, 2]


def test_resample_interpolates_linearly_to_a_fixed_length():
    out = resample([np.array([[0.0, 10.0], [2.0, 30.0]]), np.array([[5.0, 1.0]])], 3)
    np.testing.assert_allclose(out[0], [[0, 10], [1, 20], [2, 30]])
    np.testing.assert_allclose(out[1], [[5, 1], [5, 1], [5, 1]])  # one step: held
