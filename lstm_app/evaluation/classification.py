"""Metrics of a classifier on a test split, and the baselines it must beat on the same split
(`task: classification`): labels as integer codes `0 .. n_classes - 1`
(`lstm_app.data.sequences.LabelEncoding`).

    report = classification_metrics(actual, probabilities, classes)
    majority = majority_class(train_codes, n_test, n_classes)              # (n_test, n_classes)
    nearest = nearest_neighbour(train_x, train_codes, test_x, n_classes)   # 1-NN, Euclidean
    words = bag_of_words(train_texts, train_codes, test_texts, n_classes)  # text: logistic
    metrics = classification_report(data, probabilities, max_tokens, seed) # metrics.json
    table = prediction_table(data, probabilities["test"])                 # predictions.csv

Metrics: accuracy; balanced accuracy (the mean recall over the classes present in the test
split); macro F1 (over every class, 0 for a class never predicted nor present); each class's
precision, recall and support; the confusion matrix (rows: actual, columns: predicted); and log
loss (mean -log p(actual class), probabilities clipped to [1e-15, 1]).
"""

import numpy as np
import pandas as pd

from lstm_app.data.sequence_reading import SPLITS
from lstm_app.data.sequences import resample

EPSILON = 1e-15  # log loss: the smallest probability counted (as scikit-learn's default)


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """`(n_classes, n_classes)` int64 counts: row = actual class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def log_loss(actual: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean -log p(actual class) over the rows of `probabilities` `(n, n_classes)`."""
    picked = probabilities[np.arange(len(actual)), actual]
    return float(-np.mean(np.log(np.clip(picked, EPSILON, 1.0))))


def classification_metrics(actual: np.ndarray, probabilities: np.ndarray, classes) -> dict:
    """The test metrics of class `probabilities` `(n, len(classes))` (rows summing to 1;
    one-hot for a baseline that only names a class) against `actual` `(n,)` codes; the
    prediction is each row's most probable class (the first on a tie)."""
    n_classes = len(classes)
    predicted = np.argmax(probabilities, axis=1)
    matrix = confusion_matrix(actual, predicted, n_classes)
    hits = np.diag(matrix).astype(np.float64)
    support, claimed = matrix.sum(axis=1), matrix.sum(axis=0)
    precision, recall = _ratio(hits, claimed), _ratio(hits, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = support > 0
    return {
        "accuracy": float(hits.sum() / len(actual)),
        "balanced_accuracy": float(recall[present].mean()),
        "macro_f1": float(f1.mean()),
        "log_loss": log_loss(actual, probabilities),
        "per_class": {
            str(name): {
                "precision": float(precision[k]),
                "recall": float(recall[k]),
                "support": int(support[k]),
            }
            for k, name in enumerate(classes)
        },
        "confusion": matrix.tolist(),
    }


def majority_class(train: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    """`(n, n_classes)`: the train split's class frequencies for every test sequence (its
    most frequent class predicted; log loss of the frequencies)."""
    counts = np.bincount(train, minlength=n_classes).astype(np.float64)
    return np.tile(counts / counts.sum(), (n, 1))


def nearest_neighbour(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, n_classes: int
) -> np.ndarray:
    """`(n_test, n_classes)` one-hot: each test sequence gets the class of the train sequence
    nearest to it by Euclidean distance over every step and feature (the standard
    time-series-classification baseline, 1-NN ED; sequences of one fixed length,
    `lstm_app.data.sequences.resample`, shaped `(n, length, features)`); the first train
    sequence on a tie."""
    train = train_x.reshape(len(train_x), -1)
    test = test_x.reshape(len(test_x), -1)
    # |a - b|^2 = |a|^2 - 2 a.b + |b|^2, one matrix product for every pair
    distances = (
        np.sum(test**2, axis=1)[:, None] - 2 * test @ train.T + np.sum(train**2, axis=1)[None, :]
    )
    nearest = train_y[np.argmin(distances, axis=1)]
    return np.eye(n_classes)[nearest]


def bag_of_words(
    train_texts,
    train_y: np.ndarray,
    test_texts,
    n_classes: int,
    max_tokens: int = 10_000,
    steps: int = 300,
    seed: int = 0,
) -> np.ndarray:
    """`(n_test, n_classes)` probabilities of a bag-of-words logistic regression, the text
    baseline: Keras's `TextVectorization` (lower case, punctuation stripped, the `max_tokens`
    most frequent words of the train texts alone) counting each word, then one softmax
    `Dense` layer from zero weights (as logistic regression starts), fitted with Adam on the
    train texts (cross-entropy, batches of 256, about `steps` steps in whole epochs, the
    batches shuffled from `seed`)."""
    import keras

    keras.utils.set_random_seed(seed)
    counts = keras.layers.TextVectorization(max_tokens=max_tokens, output_mode="count")
    counts.adapt(np.asarray(train_texts, dtype=object).astype(str))
    train_x = counts(np.asarray(train_texts, dtype=object).astype(str))
    test_x = counts(np.asarray(test_texts, dtype=object).astype(str))
    model = keras.Sequential(
        [
            keras.Input((train_x.shape[1],)),
            keras.layers.Dense(n_classes, activation="softmax", kernel_initializer="zeros"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    epochs = -(-steps // -(-len(train_y) // 256))  # ceil(steps / batches an epoch)
    model.fit(train_x, np.asarray(train_y), epochs=epochs, batch_size=256, verbose=0)
    return model.predict(test_x, verbose=0)


def plot_confusion(matrices: dict, classes, path) -> None:
    """The confusion matrices `{name: (K, K)}` (rows: actual, columns: predicted) side by side,
    each row as shares of its class (the counts written in), as a PNG at `path`."""
    from matplotlib.figure import Figure

    k = len(classes)
    size = min(6.0, 1.2 + 0.45 * k)
    fig = Figure(figsize=(size * len(matrices) + 0.8, size + 0.6), layout="constrained")
    axes = fig.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (name, matrix) in zip(axes, matrices.items(), strict=True):
        matrix = np.asarray(matrix)
        shares = _ratio(matrix.astype(np.float64), matrix.sum(axis=1, keepdims=True))
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (row, column), count in np.ndenumerate(matrix):
            if count:
                dark = shares[row, column] > 0.6
                ax.text(
                    column,
                    row,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
        accuracy = np.trace(matrix) / max(1, matrix.sum())
        ax.set_title(f"{name}: accuracy {accuracy:.1%}", fontsize=10)
        ax.set_xticks(range(k), [str(c) for c in classes], rotation=90 if k > 6 else 0)
        ax.set_yticks(range(k), [str(c) for c in classes])
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
    fig.colorbar(image, ax=list(axes), fraction=0.04, label="share of the actual class")
    fig.savefig(path, format="png", dpi=90)


def classification_report(data, probabilities: dict, max_tokens: int, seed: int) -> dict:
    """`metrics.json` of a classification: the model's metrics on each split (`test` in full,
    with the confusion matrix), the baselines' on the same test split, and what the data was.

    Args:
        data: the PreparedSequences the model was trained and evaluated on.
        probabilities: `{split: (k, classes)}` the model's class probabilities.
        max_tokens, seed: the bag-of-words baseline's vocabulary size and seed (text only).
    """

    classes, labels = data.classes, data.labels
    k, test = len(classes), labels["test"]
    scores = {
        name: classification_metrics(labels[name], p, classes) for name, p in probabilities.items()
    }
    baselines = {"majority": majority_class(labels["train"], len(test), k)}
    if data.is_text:
        baselines["bag_of_words"] = bag_of_words(
            data.inputs["train"],
            labels["train"],
            data.inputs["test"],
            k,
            max_tokens=max_tokens,
            seed=seed,
        )
    else:  # scaled as the model scales them, each resampled to the train inputs' steps
        scaler, raw = data.scaler, data.raw
        steps = data.inputs["train"].shape[1]  # max_length, or the longest train sequence
        fixed = {
            name: resample(
                [scaler.transform(raw.values[i][: data.max_length]) for i in data.parts[name]],
                steps,
            )
            for name in ("train", "test")
        }
        baselines["nearest_neighbour"] = nearest_neighbour(
            fixed["train"], labels["train"], fixed["test"], k
        )
    short = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss")
    return {
        "task": "classification",
        "classes": list(classes),
        "loss": "binary cross-entropy" if k == 2 else "sparse categorical cross-entropy",
        "test": {**scores["test"], "sequences": len(test)},
        **{name: {m: scores[name][m] for m in short} for name in ("train", "val")},
        "baselines": {
            name: classification_metrics(test, p, classes) for name, p in baselines.items()
        },
        "data": {
            "sequences": {name: len(labels[name]) for name in SPLITS},
            "class_counts": {
                name: dict(zip(classes, map(int, data.counts(name)), strict=True))
                for name in SPLITS
            },
            "inputs": list(data.feature_names),
            "max_length": data.max_length,
            "lengths": {
                name: [int(data.lengths[name].min()), int(data.lengths[name].max())]
                for name in SPLITS
            },
            "truncated": data.truncated,
            **({"vocabulary": len(data.vocabulary) + 2} if data.is_text else {}),
        },
    }


def prediction_table(data, probabilities: np.ndarray) -> pd.DataFrame:
    """`predictions.csv`: each test sequence's id, actual and predicted class, and the
    probability of every class (`p_<class>`)."""
    classes = np.asarray(data.classes, dtype=object)
    table = pd.DataFrame(
        {
            "id": data.ids["test"],
            "actual": classes[data.labels["test"]],
            "predicted": classes[np.argmax(probabilities, axis=1)],
        }
    )
    for k, name in enumerate(data.classes):
        table[f"p_{name}"] = probabilities[:, k]
    return table
