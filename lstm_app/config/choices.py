"""The names of the choices a config can make, and the small tables the config needs about
them: what the schema (`choice(...)`, `Literal[...]`) checks a name against before anything
heavy loads. Imports nothing of `lstm_app` but level 0.

Choices implemented above the config are named here and implemented there; each catalogue
checks, when it is imported, that it implements exactly these names, in this order:

    TRANSFORM_NAMES   lstm_app.data.transforms.TRANSFORMS   (data.transforms)
    BASELINE_NAMES    lstm_app.evaluation.baselines.BASELINES (evaluation.baselines)
    FORMAT_NAMES      lstm_app.serving.formats.FORMATS      (export.formats)
    VARIANT_NAMES     lstm_app.models.variants.VARIANTS     (a gate_lstm layer's variant)

Optimizers and losses are declared here whole (`OPTIMIZERS`, `LOSSES`): each names its Keras
class by import path, resolved when the model is compiled (`lstm_app.registry.load_object`).
Layer types hold their config dataclasses, so they live with them (`model_section.LAYER_TYPES`).
"""

from lstm_app.registry import Registry

# target transforms (lstm_app.data.transforms), in the order messages list them
TRANSFORM_NAMES = ("log", "diff", "seasonal_diff")

# forecast baselines (lstm_app.evaluation.baselines.BASELINES), in report order
BASELINE_NAMES = ("persistence", "seasonal_naive", "mean", "ets", "theta")
# the statistical ones, which a forecaster may combine with its own (model.combine)
COMBINABLE = ("ets", "theta")

# export formats (lstm_app.serving.formats), in the order the CLI lists them
FORMAT_NAMES = ("keras", "saved_model", "onnx", "tflite")
# the formats that can hold a text model's tokenizer: its string ops convert to no other
TEXT_FORMATS = ("keras", "saved_model")

# the variants of lstm_app.models.layers.GateLSTM (lstm_app.models.variants, docs/equations.md)
VARIANT_NAMES = (
    "vanilla",
    "peephole",
    "cifg",
    "no_input_gate",
    "no_forget_gate",
    "no_output_gate",
    "no_input_activation",
    "no_output_activation",
    "article",
)

OPTIMIZERS = Registry("optimizer")  # name -> the Keras optimizer class, by import path
OPTIMIZERS.add("adam", "keras.optimizers.Adam")
OPTIMIZERS.add("adamw", "keras.optimizers.AdamW")
OPTIMIZERS.add("nadam", "keras.optimizers.Nadam")
OPTIMIZERS.add("rmsprop", "keras.optimizers.RMSprop")
OPTIMIZERS.add("sgd", "keras.optimizers.SGD")
OPTIMIZERS.add("adagrad", "keras.optimizers.Adagrad")

LOSSES = Registry("loss")  # name -> the loss `model.compile(loss=...)` is given (Keras's name)
LOSSES.add("mean_squared_error", "mean_squared_error")
LOSSES.add("mean_absolute_error", "mean_absolute_error")
LOSSES.add("huber", "huber")
# distribution heads (lstm_app.models.heads): quantiles of data.quantiles, or a normal's mean
# and scale; the model forecasts (batch, horizon, Q or 2)
LOSSES.add("quantile", "lstm_app.models.heads.PinballLoss")
LOSSES.add("gaussian", "lstm_app.models.heads.GaussianNLL")
DISTRIBUTION_LOSSES = ("quantile", "gaussian")
# task: classification: sparse categorical cross-entropy of the class probabilities (binary
# cross-entropy of the second class's for two classes; lstm_app.models.classifier)
LOSSES.add("cross_entropy", "lstm_app.models.classifier.CrossEntropy")
DEFAULT_LOSS = {"forecast": "mean_squared_error", "classification": "cross_entropy"}


def check_catalogue(catalogue: str, names: tuple[str, ...], implemented) -> None:
    """RuntimeError unless `implemented` (the names a catalogue above the config implements,
    in order) are exactly `names`, the config's: run when the catalogue is imported, so that a
    name gained on one side only fails at once instead of in a run."""
    implemented = tuple(implemented)
    if implemented == names:
        return
    unnamed = [name for name in implemented if name not in names]
    missing = [name for name in names if name not in implemented]
    problem = (
        f"implements {unnamed}, which lstm_app.config.choices does not name"
        if unnamed
        else f"lacks {missing}, which lstm_app.config.choices names"
        if missing
        else f"lists {list(implemented)}, in another order than lstm_app.config.choices"
    )
    raise RuntimeError(f"{catalogue} {problem} ({list(names)}); make the two agree")
