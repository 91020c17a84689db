"""Sequence classification (issue 19), its metrics and baselines against hand-computed cases,
and masking: an LSTM (built-in and GateLSTM) does not read the padding of a short sequence."""

import keras
import numpy as np
import pytest

from lstm_app.evaluation.classification import (
    bag_of_words,
    classification_metrics,
    confusion_matrix,
    log_loss,
    majority_class,
    nearest_neighbour,
)
from lstm_app.models.layers import GateLSTM

ACTUAL = np.array([0, 0, 1, 2, 2, 2])
PREDICTED = np.array([0, 1, 1, 2, 2, 0])


def test_the_confusion_matrix_counts_actual_rows_and_predicted_columns():
    assert confusion_matrix(ACTUAL, PREDICTED, 3).tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_metrics_of_a_hand_computed_case():
    report = classification_metrics(ACTUAL, np.eye(3)[PREDICTED], ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(4 / 6)
    # recall: a 1/2, b 1/1, c 2/3; precision: a 1/2, b 1/2, c 2/2
    assert report["balanced_accuracy"] == pytest.approx((1 / 2 + 1 + 2 / 3) / 3)
    f1 = [0.5, 2 * 0.5 * 1 / 1.5, 2 * 1 * (2 / 3) / (1 + 2 / 3)]
    assert report["macro_f1"] == pytest.approx(np.mean(f1))
    assert report["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "support": 1}
    assert report["confusion"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert report["log_loss"] == pytest.approx(2 * -np.log(1e-15) / 6)  # two sure and wrong


def test_log_loss_of_soft_probabilities():
    probabilities = np.array([[0.8, 0.2], [0.4, 0.6]])
    assert log_loss(np.array([0, 1]), probabilities) == pytest.approx(
        -(np.log(0.8) + np.log(0.6)) / 2
    )


def test_balanced_accuracy_counts_only_the_classes_in_the_test_split():
    report = classification_metrics(np.array([0, 0, 1]), np.eye(3)[[0, 1, 1]], ["a", "b", "c"])
    assert report["balanced_accuracy"] == pytest.approx((1 / 2 + 1) / 2)
    assert report["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "support": 0}


def test_the_majority_baseline_predicts_the_most_frequent_train_class():
    probabilities = majority_class(np.array([1, 1, 0, 2, 1]), 4, 3)
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities[0], [0.2, 0.6, 0.2])
    assert classification_metrics(np.array([1, 0, 1, 2]), probabilities, "abc")["accuracy"] == 0.5


def test_the_nearest_neighbour_baseline_takes_the_closest_train_sequence():
    train = np.array([[[0.0], [0.0]], [[10.0], [10.0]], [[0.0], [12.0]]])  # (3, 2 steps, 1)
    test = np.array([[[1.0], [1.0]], [[9.0], [8.0]], [[1.0], [11.0]]])
    # distances^2 of test 2: 1 + 121 = 122, 81 + 1 = 82, 1 + 1 = 2 -> train 2
    predicted = nearest_neighbour(train, np.array([0, 1, 2]), test, 3)
    assert predicted.argmax(axis=1).tolist() == [0, 1, 2]


@pytest.mark.parametrize("layer", [keras.layers.LSTM, GateLSTM], ids=["LSTM", "GateLSTM"])
def test_an_lstm_does_not_read_the_padding(layer):
    keras.utils.set_random_seed(0)
    lstm = layer(5)
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    lengths = np.array([4, 6])
    mask = np.arange(6)[None, :] < lengths[:, None]
    out = keras.ops.convert_to_numpy(lstm(x, mask=mask))
    changed = x.copy()
    changed[0, 4:] = 99.0  # only the padding of the short sequence
    np.testing.assert_allclose(keras.ops.convert_to_numpy(lstm(changed, mask=mask)), out)
    alone = keras.ops.convert_to_numpy(lstm(x[:1, :4]))  # the 4 real steps, no padding
    np.testing.assert_allclose(out[:1], alone, rtol=1e-5, atol=1e-6)
    unmasked = keras.ops.convert_to_numpy(lstm(changed))
    assert not np.allclose(unmasked[0], out[0])  # without the mask it does read the padding


def _padding_model(layer):
    from lstm_app.models.padding import PaddingMask

    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, 3))
    x = PaddingMask()(inputs)
    x = layer(6, return_sequences=True)(x)
    x = layer(4)(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


@pytest.mark.parametrize("layer", [keras.layers.LSTM, GateLSTM], ids=["LSTM", "GateLSTM"])
def test_nan_padding_is_masked_through_stacked_layers(layer, tmp_path):
    from lstm_app.data.sequences import pad

    model = _padding_model(layer)
    rng = np.random.default_rng(2)
    sequences = [rng.normal(size=(n, 3)) for n in (3, 7, 5)]
    x, _, _ = pad(sequences, 7, pad_value=np.nan)
    batch = model.predict(x, verbose=0)
    for i, sequence in enumerate(sequences):  # each alone, unpadded: the same probabilities
        alone = model.predict(sequence[None].astype("float32"), verbose=0)
        np.testing.assert_allclose(batch[i], alone[0], rtol=1e-5, atol=1e-6)
    assert np.isfinite(batch).all()
    path = tmp_path / "padded.keras"
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0), batch)


def test_a_real_step_of_zeros_is_not_padding():
    model = _padding_model(keras.layers.LSTM)
    sequence = np.ones((4, 3), dtype="float32")
    zeroed = sequence.copy()
    zeroed[2] = 0.0  # a real step whose features are all 0 (Masking(0.0) would drop it)
    left_out = np.delete(sequence, 2, axis=0)
    with_zeros = model.predict(zeroed[None], verbose=0)
    assert not np.allclose(with_zeros, model.predict(left_out[None], verbose=0))


def test_the_bag_of_words_baseline_learns_words_of_the_train_texts_only():
    train = ["good great fine", "great good", "bad awful", "awful bad poor", "fine good"]
    labels = np.array([1, 1, 0, 0, 1])
    test = ["a great day", "so awful", "poor", ""]
    probabilities = bag_of_words(train, labels, test, 2, seed=0)
    assert probabilities.shape == (4, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert probabilities[:3].argmax(axis=1).tolist() == [1, 0, 0]
    # no word at all: the bias alone, which leans to the more frequent class (3 of 5)
    assert 0.5 < probabilities[3, 1] < 1
