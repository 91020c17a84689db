"""Sequence classification end to end (issue 19): configs, masked models, the run directory,
resume, exports that take raw sequences (or raw text) and give the same probabilities in
every format, lstm-predict, and bad input refused in one line."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, lstm_train, stop_after_epoch, write_yaml

from lstm_app.config.load import config_from_dict
from lstm_app.data.sequence_batches import class_weights
from lstm_app.data.sequences import prepare_sequences
from lstm_app.errors import ConfigError, DataError
from lstm_app.models.classifier import CrossEntropy, build_classifier

LSTM_PREDICT = Path(sys.executable).with_name("lstm-predict")
VOWELS = REPO / "data" / "japanese_vowels.csv"
SENTENCES = REPO / "data" / "sentiment_labelled_sentences.csv"
FEATURES = [f"lpc{i}" for i in range(1, 13)]


@pytest.fixture(scope="module")
def vowels(tmp_path_factory) -> Path:
    """A small JapaneseVowels: 8 train and 6 test utterances of each of 3 speakers."""
    frame = pd.read_csv(VOWELS)
    frame = frame[frame["speaker"].isin([1, 2, 3])]
    keep = []
    for (_, split), group in frame.groupby(["speaker", "split"]):
        keep += list(group["sample_id"].unique()[: 8 if split == "train" else 6])
    path = tmp_path_factory.mktemp("vowels") / "vowels.csv"
    frame[frame["sample_id"].isin(keep)].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def sentences(tmp_path_factory) -> Path:
    """120 review sentences, half positive."""
    frame = pd.read_csv(SENTENCES)
    frame = pd.concat([frame[frame["label"] == v].head(60) for v in (0, 1)])
    path = tmp_path_factory.mktemp("sentences") / "sentences.csv"
    frame.to_csv(path, index=False)
    return path


def _with_sections(raw: dict, sections: dict) -> dict:
    """`raw` with each of `sections` merged into its section of the same name."""
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}
    return raw


def vowel_config(path: Path, **sections) -> dict:
    raw = {
        "name": "vowels",
        "seed": 3,
        "task": "classification",
        "data": {
            "path": str(path),
            "sequence_id": "sample_id",
            "order": "t",
            "features": FEATURES,
            "label": "speaker",
            "split": {"column": "split"},
        },
        "model": {"layers": [{"type": "lstm", "units": 8}, {"type": "dense", "units": "auto"}]},
        "training": {"epochs": 3, "batch_size": 8},
    }
    return _with_sections(raw, sections)


def text_config(path: Path, **sections) -> dict:
    raw = {
        "name": "sentences",
        "seed": 3,
        "task": "classification",
        "data": {
            "path": str(path),
            "text": "sentence",
            "label": "label",
            "tokenizer": {"max_tokens": 500, "sequence_length": 12},
        },
        "model": {
            "layers": [
                {"type": "embedding", "output_dim": 8},
                {"type": "lstm", "units": 8},
                {"type": "dense", "units": "auto"},
            ]
        },
        "training": {"epochs": 2, "batch_size": 16},
    }
    return _with_sections(raw, sections)


# --------------------------------------------------------------------------------------------
# config


def test_loss_defaults_by_task(vowels):
    assert config_from_dict(vowel_config(vowels)).training.loss == "cross_entropy"
    forecast = vowel_config(vowels)
    del forecast["task"]
    with pytest.raises(ConfigError, match=r"data\.label: classifies sequences: set task"):
        config_from_dict(forecast)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"data": {"target": "lpc1"}}, "data.target: shapes a forecast"),
        ({"data": {"window": {"input_width": 5}}}, "data.window: shapes a forecast"),
        ({"data": {"scaler": "window"}}, "data.scaler: window scales a forecast's"),
        ({"data": {"order": None}}, "data.order: required with data.label"),
        ({"data": {"features": ["t"]}}, "data.features[0]: 't' is already data.order"),
        ({"training": {"loss": "huber"}}, "training.loss: a classification trains with"),
        (
            {
                "model": {
                    "layers": [
                        {"type": "lstm", "units": 8},
                        {"type": "dense", "units": 3, "activation": "sigmoid"},
                    ]
                }
            },
            "model.layers[1].activation: the output layer gives scores (linear)",
        ),
        (
            {
                "model": {
                    "layers": [
                        {"type": "embedding", "output_dim": 4},
                        {"type": "lstm", "units": 8},
                        {"type": "dense", "units": 3},
                    ]
                }
            },
            "model.layers[0].type: embedding reads the words of data.text",
        ),
        ({"evaluation": {"backtest": {"folds": 3}}}, "evaluation.backtest.folds: not (yet)"),
    ],
)
def test_bad_classification_configs_are_refused(vowels, change, message):
    raw = vowel_config(vowels)
    for section, values in change.items():
        raw[section] = {**raw.get(section, {}), **values}
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert message in str(err.value)


def test_text_model_exports_only_keras_and_saved_model(sentences):
    with pytest.raises(ConfigError, match=r"export.formats\[1\]: onnx cannot hold a text model"):
        config_from_dict(text_config(sentences, export={"formats": ["keras", "onnx"]}))
    raw = text_config(sentences)
    raw["model"]["layers"] = raw["model"]["layers"][1:]
    with pytest.raises(ConfigError, match="starts with an embedding layer"):
        config_from_dict(raw)


# --------------------------------------------------------------------------------------------
# data and model


def test_the_original_split_is_kept_and_validation_carved_from_train():
    cfg = config_from_dict(vowel_config(VOWELS))
    data = prepare_sequences(cfg.data, cfg.seed)
    sizes = {name: len(labels) for name, labels in data.labels.items()}
    assert sizes["train"] + sizes["val"] == 270 and sizes["test"] == 370
    assert data.classes == tuple(str(i) for i in range(1, 10))
    assert set(data.counts("val")) == {4}  # 15 % of each speaker's 30 train utterances
    assert data.max_length == 26 and data.truncated == {"train": 0, "val": 0, "test": 1}
    assert not set(data.ids["val"]) & set(data.ids["train"])


def test_a_generous_max_length_pads_each_split_to_its_longest_sequence(vowels):
    cfg = config_from_dict(vowel_config(vowels, data={"max_length": 1_000_000}))
    data = prepare_sequences(cfg.data, cfg.seed)
    assert data.max_length == 1_000_000 and set(data.truncated.values()) == {0}
    for name in ("train", "val", "test"):  # not a million steps of NaN each
        assert data.inputs[name].shape[1] == data.lengths[name].max()


def test_an_unseen_test_label_is_named(vowels, tmp_path):
    frame = pd.read_csv(vowels)
    frame.loc[
        frame["sample_id"] == frame[frame["split"] == "test"]["sample_id"].iloc[0], "speaker"
    ] = 7
    path = tmp_path / "unseen.csv"
    frame.to_csv(path, index=False)
    cfg = config_from_dict(vowel_config(path))
    with pytest.raises(DataError, match="the test split: label '7' is not in the train split"):
        prepare_sequences(cfg.data, cfg.seed)


def test_balanced_class_weights(vowels, tmp_path):
    frame = pd.read_csv(vowels)
    drop = frame[(frame["speaker"] == 1) & (frame["split"] == "train")]["sample_id"].unique()[:4]
    path = tmp_path / "unbalanced.csv"
    frame[~frame["sample_id"].isin(drop)].to_csv(path, index=False)
    cfg = config_from_dict(vowel_config(path))
    data = prepare_sequences(cfg.data, cfg.seed)
    counts = data.counts("train")
    weights = class_weights(data)
    np.testing.assert_allclose(weights, counts.sum() / (3 * counts))
    np.testing.assert_allclose((weights * counts).sum(), counts.sum())  # the same total weight


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_sequence_gives_the_same_probabilities_alone_and_padded(vowels, bidirectional):
    """The padding is masked: a sequence padded with NaN beside longer ones (and with its
    padding changed to more NaN steps) gives what it gives alone, unpadded; read backwards
    too (a bidirectional layer starts its backward pass at the sequence's own end)."""
    cfg = config_from_dict(
        vowel_config(
            vowels,
            model={
                "layers": [
                    {
                        "type": "lstm",
                        "units": 8,
                        "return_sequences": True,
                        "bidirectional": bidirectional,
                    },
                    {"type": "gate_lstm", "units": 8, "bidirectional": bidirectional},
                    {"type": "dense", "units": "auto"},
                ]
            },
        )
    )
    data = prepare_sequences(cfg.data, cfg.seed)
    model = build_classifier(cfg, data)
    x = data.inputs["test"]
    lengths = np.minimum(data.lengths["test"], data.max_length)
    batch = model.predict(x, verbose=0)
    for i in np.argsort(lengths)[:3]:  # the shortest: the most padding
        alone = model.predict(x[i : i + 1, : lengths[i]], verbose=0)
        np.testing.assert_allclose(batch[i], alone[0], atol=1e-5)
    longer = np.concatenate([x, np.full((len(x), 5, x.shape[2]), np.nan, "float32")], axis=1)
    np.testing.assert_allclose(model.predict(longer, verbose=0), batch, atol=1e-5)


def test_text_padding_is_masked_and_long_texts_are_cut(sentences):
    cfg = config_from_dict(text_config(sentences))
    data = prepare_sequences(cfg.data, cfg.seed)
    model = build_classifier(cfg, data)
    texts = np.array(["good phone", "good phone " + "very " * 20 + "bad"], dtype=object)
    together = model.predict(texts, verbose=0)
    alone = model.predict(texts[:1], verbose=0)
    np.testing.assert_allclose(together[0], alone[0], atol=1e-5)
    cut = np.array(["good phone " + "very " * 10 + "bad words after the twelfth"], dtype=object)
    same = np.array(["good phone " + "very " * 10 + "wonderful words after it all"], dtype=object)
    np.testing.assert_allclose(
        model.predict(cut, verbose=0), model.predict(same, verbose=0), atol=1e-6
    )


def test_binary_cross_entropy_of_two_classes():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.9, 0.1], [0.5, 0.5]], dtype="float32")
    expected = -np.mean(np.log([0.8, 0.7, 0.1, 0.5]))
    assert float(CrossEntropy()(y, p)) == pytest.approx(expected, rel=1e-5)
    three = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], dtype="float32")
    assert float(CrossEntropy()(np.array([0, 2]), three)) == pytest.approx(
        -np.mean(np.log([0.7, 0.3])), rel=1e-5
    )


# --------------------------------------------------------------------------------------------
# runs


@pytest.fixture(scope="module")
def vowel_run(vowels, tmp_path_factory):
    """A bidirectional GateLSTM classifier trained by lstm-train, exported in every format."""
    folder = tmp_path_factory.mktemp("vowel_run")
    raw = vowel_config(
        vowels,
        model={
            "layers": [
                {"type": "gate_lstm", "units": 8, "bidirectional": True},
                {"type": "dense", "units": "auto"},
            ]
        },
        training={"callbacks": {"checkpoint": {"enabled": True}}},
        export={"formats": ["keras", "saved_model", "onnx", "tflite"]},
    )
    config = write_yaml(folder / "vowels.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", folder / "run", "--quiet", timeout=600)
    assert done.returncode == 0, done.stderr
    return folder / "run", done.stdout


@pytest.mark.slow
def test_a_classification_run_writes_its_metrics_beside_the_baselines(vowel_run):
    run, stdout = vowel_run
    for name in (
        "metrics.json",
        "predictions.csv",
        "confusion.png",
        "gates.png",
        "loss.png",
        "best.keras",
        "model.keras",
        "scaler.json",
        "history.csv",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["classes"] == ["1", "2", "3"]
    assert set(metrics["baselines"]) == {"majority", "nearest_neighbour"}
    assert metrics["test"]["sequences"] == 18 and len(metrics["test"]["confusion"]) == 3
    predictions = pd.read_csv(run / "predictions.csv")
    assert list(predictions.columns) == ["id", "actual", "predicted", "p_1", "p_2", "p_3"]
    np.testing.assert_allclose(predictions[["p_1", "p_2", "p_3"]].sum(axis=1), 1, atol=1e-5)
    accuracy = (predictions["actual"] == predictions["predicted"]).mean()
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy)
    assert "majority class" in stdout and "1-NN (Euclidean)" in stdout
    assert "train unfused" in stdout


@pytest.mark.slow
def test_every_export_format_gives_the_model_s_probabilities(vowel_run, vowels, tmp_path):
    run, _ = vowel_run
    card = json.loads((run / "export" / "metadata.json").read_text())
    assert card["task"] == card["kind"] == "classification"
    assert card["output"]["classes"] == ["1", "2", "3"]
    assert card["inputs"]["padding"] == "NaN" and card["inputs"]["max_steps"] == 26
    frame = pd.read_csv(vowels)
    frame = frame[frame["split"] == "test"].drop(columns=["split", "speaker"])
    new = tmp_path / "new.csv"
    frame.to_csv(new, index=False)
    expected = pd.read_csv(run / "predictions.csv").set_index("id")
    columns = ["p_1", "p_2", "p_3"]
    for artefact in ("model.keras", "saved_model", "model.onnx", "model.tflite"):
        out = tmp_path / f"{artefact}.csv"
        done = subprocess.run(
            [LSTM_PREDICT, "--model", run / "export" / artefact, "--input", new, "--output", out],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        table = pd.read_csv(out).set_index("id")
        assert "actual" not in table  # the CSV had no label column
        np.testing.assert_allclose(
            table.loc[expected.index, columns], expected[columns], atol=1e-4, err_msg=artefact
        )
        assert (table.loc[expected.index, "predicted"] == expected["predicted"]).all()


@pytest.mark.slow
def test_text_classifier_end_to_end(sentences, tmp_path):
    raw = text_config(sentences, export={"formats": ["keras", "saved_model"]})
    config = write_yaml(tmp_path / "text.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", tmp_path / "run", "--quiet", timeout=600)
    assert done.returncode == 0, done.stderr
    assert "bag of words" in done.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["baselines"]) == {"majority", "bag_of_words"}
    assert metrics["loss"] == "binary cross-entropy"
    frame = pd.read_csv(sentences)
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    texts = frame.iloc[predictions["id"] - 2][["sentence", "label"]]
    new = tmp_path / "new.csv"
    texts.to_csv(new, index=False)
    for artefact in ("model.keras", "saved_model"):
        out = tmp_path / f"{artefact}.csv"
        done = subprocess.run(
            [
                LSTM_PREDICT,
                "--model",
                tmp_path / "run" / "export" / artefact,
                "--input",
                new,
                "--output",
                out,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        table = pd.read_csv(out)
        np.testing.assert_allclose(table[["p_0", "p_1"]], predictions[["p_0", "p_1"]], atol=1e-5)
        assert (table["actual"] == texts["label"].to_numpy()).all()
        assert "Accuracy on these" in done.stdout


@pytest.mark.slow
def test_an_interrupted_classification_resumes_to_the_same_weights(vowels, tmp_path, monkeypatch):
    from lstm_app.pipeline import train

    cfg = config_from_dict(
        vowel_config(
            vowels,
            training={
                "epochs": 5,
                "class_weights": "balanced",
                "callbacks": {"early_stopping": {"enabled": True, "patience": 2}},
            },
        )
    )
    whole = train(cfg, tmp_path / "whole", verbose=0)
    with monkeypatch.context() as patch:
        stop_after_epoch(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, tmp_path / "cut", verbose=0)
    resumed = train(cfg, tmp_path / "cut", verbose=0, resume=True)
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in ("metrics.json", "predictions.csv"):
        assert (tmp_path / "cut" / name).read_bytes() == (whole.run_dir / name).read_bytes()


# --------------------------------------------------------------------------------------------
# bad input: one line, exit status 2, nothing trained


def _refused(tmp_path, raw, expected: str):
    config = write_yaml(tmp_path / "bad.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", tmp_path / "run", "--check")
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()


def test_rows_out_of_order_are_refused(vowels, tmp_path):
    frame = pd.read_csv(vowels)
    frame.iloc[[3, 4]] = frame.iloc[[4, 3]].to_numpy()
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    _refused(
        tmp_path,
        vowel_config(path),
        "line 6, column 't' (data.order): sequence 'train_0000' has t 3 after 4",
    )


def test_output_units_that_do_not_fit_the_classes_are_refused_before_anything_is_written(
    vowels, tmp_path
):
    raw = vowel_config(vowels)
    raw["model"]["layers"][-1]["units"] = 5
    _refused(tmp_path, raw, "model.layers[1].units: the train split has 3 classes (1, 2, 3)")
    config = write_yaml(tmp_path / "bad.yaml", raw)
    done = lstm_train("--config", config, "--run-dir", tmp_path / "run", "--quiet")
    assert done.returncode == 2 and "got 5" in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_missing_label_is_refused(vowels, tmp_path):
    frame = pd.read_csv(vowels).astype({"speaker": object})
    frame.loc[10, "speaker"] = ""
    path = tmp_path / "unlabelled.csv"
    frame.to_csv(path, index=False)
    _refused(
        tmp_path, vowel_config(path), "line 12, column 'speaker' (data.label): the label is missing"
    )


def test_an_empty_text_is_refused(sentences, tmp_path):
    frame = pd.read_csv(sentences)
    frame.loc[5, "sentence"] = "?!"
    path = tmp_path / "empty.csv"
    frame.to_csv(path, index=False)
    _refused(tmp_path, text_config(path), "line 7, column 'sentence' (data.text): empty")


def test_a_long_text_is_cut_and_counted(sentences, tmp_path):
    frame = pd.read_csv(sentences)
    frame.loc[0, "sentence"] = "word " * 40
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    raw = text_config(path)
    raw["data"]["tokenizer"]["sequence_length"] = 39  # every other sentence is shorter
    config = write_yaml(tmp_path / "long.yaml", raw)
    done = lstm_train("--config", config, "--check")
    assert done.returncode == 0, done.stderr
    assert "Truncated: 1 sequences longer than 39 words read to their first 39" in done.stdout


def test_predict_refuses_a_csv_without_the_model_s_columns(vowel_run, tmp_path):
    run, _ = vowel_run
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_id,t,lpc1\na,0,1.0\n")
    done = subprocess.run(
        [LSTM_PREDICT, "--model", run / "export", "--input", bad],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "column 'lpc2' (data.features) not found" in done.stderr, done.stderr
    empty = tmp_path / "empty.csv"  # no sequence at all
    empty.write_text("sample_id,t," + ",".join(FEATURES) + "\n")
    done = subprocess.run(
        [LSTM_PREDICT, "--model", run / "export", "--input", empty],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "no rows under the header" in done.stderr, done.stderr
    keras.backend.clear_session()
