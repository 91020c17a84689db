"""The job of `task: classification`: labelled sequences (numeric, or texts), a classifier
trained on the train sequences (early stopping and checkpoints on the val ones), scored on
each split beside the baselines on the same test split.

Writes `predictions.csv` (each test sequence's classes and probabilities), `confusion.png`,
`gates.png` (GateLSTM layers), `scaler.json` (the features' statistics and the classes), and
`metrics.json` with the classifier's metrics and its baselines'.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np

from lstm_app.config.schema import Config
from lstm_app.data.prepare import SPLITS
from lstm_app.data.sequences import PreparedSequences, output_units, prepare_sequences
from lstm_app.evaluation.classification import (
    classification_report,
    plot_confusion,
    prediction_table,
)
from lstm_app.evaluation.compare import Run
from lstm_app.evaluation.plots import plot_loss
from lstm_app.evaluation.report import BASELINE_LABELS, number_text, table_head, where_lines
from lstm_app.jobs.base import Job
from lstm_app.runs.rundir import RunDir


class ClassificationJob(Job):
    """Labelled sequences, one classifier (`task: classification`)."""

    kind = "classification"

    def load(self, cfg: Config) -> PreparedSequences:
        return prepare_sequences(cfg.data, cfg.seed)

    def prepare(self, cfg: Config) -> PreparedSequences:
        """The sequences, and the output layer's units checked against their classes."""
        data = self.load(cfg)
        output_units(cfg.model, data.classes)  # units that fit the classes, or one line
        return data

    def check_summary(self, config_path: Path, data: PreparedSequences) -> str:
        return sequence_check_summary(config_path, data)

    def notes(self, cfg: Config) -> list[str]:
        if not cfg.training.fused:
            return []
        return [
            "training.fused: the sequences are masked (their padding is not read), which the "
            "fused graph does not do: the LSTM layers train unfused"
        ]

    def evaluate_and_write(self, cfg: Config, run: RunDir, model, history, data):
        from lstm_app.models.gates import plot_gates
        from lstm_app.models.inference import class_probabilities

        batch_size = cfg.training.batch_size
        probabilities = {
            name: class_probabilities(model, data, name, batch_size) for name in SPLITS
        }
        metrics = classification_report(
            data, probabilities, cfg.data.tokenizer.max_tokens, cfg.seed
        )
        run.write_scalers(sequence_scalers(data))
        run.write_file(
            RunDir.PREDICTIONS,
            lambda path: prediction_table(data, probabilities["test"]).to_csv(path, index=False),
        )
        run.write_file(RunDir.LOSS_PLOT, lambda path: plot_loss(history, path))
        matrices = {"model": metrics["test"]["confusion"]}
        matrices |= {name: m["confusion"] for name, m in metrics["baselines"].items()}
        run.write_file(
            RunDir.CONFUSION_PLOT, lambda path: plot_confusion(matrices, data.classes, path)
        )
        traces, title = sequence_gates(model, data)
        if traces:
            run.write_file(RunDir.GATES_PLOT, lambda path: plot_gates(traces, path, title=title))
        return metrics, probabilities

    def run_summary(self, result) -> str:
        return classification_run_summary(result.metrics, result.data, result.run)

    @staticmethod
    def compare_table(runs: list) -> str:
        return classification_table(runs)


def sequence_scalers(data: PreparedSequences) -> dict:
    """`scaler.json` of a classification: the features' statistics (numeric) and the classes."""
    out = {"classes": list(data.classes), "max_length": data.max_length}
    if data.scaler is not None:
        out["features"] = data.scaler.to_dict(data.feature_names)
    return out


TRACED = ("input_gate", "forget_gate", "output_gate", "candidate", "cell", "hidden")


def sequence_gates(model, data: PreparedSequences, shown: int = 8):
    """`(traces, title)` of the GateLSTM layers on up to `shown` test sequences of the most
    common length among them (each read to its end, no padding); `([], "")` without one."""
    from lstm_app.models.gates import gate_layers, trace_gates

    if not gate_layers(model):
        return [], ""
    lengths = np.minimum(data.lengths["test"], data.max_length)
    values, counts = np.unique(lengths, return_counts=True)
    length = int(values[np.argmax(counts)])
    rows = np.flatnonzero(lengths == length)[:shown]
    traces = [
        replace(trace, **{name: getattr(trace, name)[:, :length] for name in TRACED})
        for trace in trace_gates(model, data.inputs["test"][rows])
    ]
    ids = ", ".join(str(i) for i in data.ids["test"][rows])
    classes = np.asarray(data.classes, dtype=object)[data.labels["test"][rows]]
    unit = "words" if data.is_text else "steps"
    title = (
        f"Gates on {len(rows)} test sequences of {length} {unit} ({ids}); heatmaps: the last "
        f"(class {classes[-1]}), units (rows) by time steps (columns)"
    )
    return traces, title


# ---- what lstm-train and lstm-compare print of a classification


def _sequence_notes(data) -> list[str]:
    """What preparing a classification's sequences did that a user should know: the sequences
    cut to `max_length` steps (words), per split."""
    cut = {name: n for name, n in data.truncated.items() if n}
    if not cut:
        return []
    unit = "words" if data.is_text else "steps"
    where = ", ".join(f"{n} in {name}" for name, n in cut.items())
    return [
        f"Truncated: {sum(cut.values())} sequences longer than {data.max_length} {unit} "
        f"read to their first {data.max_length} ({where})."
    ]


def sequence_check_summary(config_path: Path, data) -> str:
    """What `lstm-train --check` prints for a classification: sequences per split, classes."""
    sizes = ", ".join(f"{name} {len(data.labels[name])}" for name in ("train", "val", "test"))
    unit = "words" if data.is_text else "steps"
    what = "texts" if data.is_text else f"sequences of {len(data.feature_names)} feature(s)"
    return "\n".join(
        [
            *_sequence_notes(data),
            f"{config_path}: OK; {what}, up to {data.max_length} {unit}: {sizes}; "
            f"{len(data.classes)} classes ({', '.join(data.classes)}); nothing written",
        ]
    )


def classification_run_summary(metrics: dict, data, run: RunDir) -> str:
    """The end-of-run summary of a classification: the test metrics beside the baselines'."""
    lines = _sequence_notes(data)
    test = metrics["test"]
    lines.append(f"Test split: {test['sequences']} sequences, {len(metrics['classes'])} classes:")
    lines.append(f"  {'':<20} {'accuracy':>9} {'balanced':>9} {'macro F1':>9} {'log loss':>9}")
    rows = {"model": test}
    rows |= {BASELINE_LABELS[name]: m for name, m in metrics["baselines"].items()}
    for label, m in rows.items():
        lines.append(
            f"  {label:<20} {m['accuracy']:>9.1%} {m['balanced_accuracy']:>9.1%} "
            f"{m['macro_f1']:>9.3f} {number_text(m['log_loss']):>9}"
        )
    best = max(metrics["baselines"].items(), key=lambda item: item[1]["accuracy"])
    gap = test["accuracy"] - best[1]["accuracy"]
    verdict = "above" if gap > 0 else "not above"
    lines.append(
        f"The model is {verdict} the best baseline ({BASELINE_LABELS[best[0]]}) by "
        f"{gap * 100:+.1f} accuracy points on the same test split."
    )
    files = (RunDir.PREDICTIONS, RunDir.CONFUSION_PLOT, RunDir.LOSS_PLOT)
    lines += where_lines(run, files, "classify")
    return "\n".join(lines)


def classification_table(runs: list[Run]) -> str:
    """Per classification run: its label, classes, test sequences, the model's test accuracy,
    balanced accuracy, macro F1 and log loss, and each baseline's accuracy on the same split."""
    header = (
        "| run (classification) | label | classes | test sequences | accuracy | balanced "
        "accuracy | macro F1 | log loss | majority accuracy | 1-NN / bag-of-words accuracy |"
    )
    lines = table_head(header)
    for run in runs:
        m, baselines = run.metrics["test"], run.metrics["baselines"]
        other = baselines.get("nearest_neighbour") or baselines.get("bag_of_words")
        lines.append(
            f"| {run.name} | {run.config['data']['label']} | {len(run.metrics['classes'])} | "
            f"{m['sequences']} | {m['accuracy']:.1%} | {m['balanced_accuracy']:.1%} | "
            f"{m['macro_f1']:.3f} | {number_text(m['log_loss'])} | "
            f"{baselines['majority']['accuracy']:.1%} | "
            f"{'-' if other is None else format(other['accuracy'], '.1%')} |"
        )
    return "\n".join(lines)
