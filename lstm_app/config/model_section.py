"""The `model` section of a config: the stacked layers (`ModelConfig`), each layer type's
dataclass, and `LAYER_TYPES`, the registry of layer types: each its config dataclass and its
Keras class by import path (`keras.layers.LSTM`), resolved when the model is built
(`lstm_app.models.build`), so that a config is checked before TensorFlow loads.
"""

from dataclasses import dataclass, field
from typing import Literal

from lstm_app.config.choices import COMBINABLE, VARIANT_NAMES
from lstm_app.config.validate import bounded, choice, limit
from lstm_app.errors import ConfigError
from lstm_app.registry import Registry

Activation = Literal[
    "tanh",
    "sigmoid",
    "hard_sigmoid",
    "relu",
    "relu6",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "exponential",
    "leaky_relu",
    "mish",
    "linear",
]

MAX_UNITS = 65536  # per layer: more is a typo, not a model (it would not fit in memory)


@dataclass(frozen=True)
class RecurrentLayerConfig:
    """`lstm` or `gru`: keras.layers.LSTM / GRU with these arguments."""

    type: str
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    return_sequences: bool = False  # true to feed another recurrent layer
    activation: Activation = "tanh"
    recurrent_activation: Activation = "sigmoid"
    dropout: float = bounded(0.0, ge=0, lt=1)  # on the inputs
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)  # on the recurrent state
    # read the sequence forwards and backwards (keras.layers.Bidirectional), the two outputs
    # concatenated: 2 x units out; trains unfused
    bidirectional: bool = False


GateVariant = Literal[VARIANT_NAMES]  # the variants of lstm_app.models.layers.GateLSTM


@dataclass(frozen=True)
class GateLSTMLayerConfig(RecurrentLayerConfig):
    """`gate_lstm`: lstm_app.models.layers.GateLSTM, the LSTM written gate by gate
    (docs/equations.md)."""

    variant: GateVariant = "vanilla"  # the standard equations, or a variant of them


@dataclass(frozen=True)
class SimpleRNNLayerConfig:
    """`simple_rnn`: keras.layers.SimpleRNN with these arguments."""

    type: str
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    return_sequences: bool = False
    activation: Activation = "tanh"
    dropout: float = bounded(0.0, ge=0, lt=1)
    recurrent_dropout: float = bounded(0.0, ge=0, lt=1)


@dataclass(frozen=True)
class DenseLayerConfig:
    """`dense`: keras.layers.Dense, applied to the last axis."""

    type: str
    units: int | Literal["auto"] = bounded(ge=1, le=MAX_UNITS)  # auto: see Config
    activation: Activation = "linear"


@dataclass(frozen=True)
class DropoutLayerConfig:
    """`dropout`: keras.layers.Dropout."""

    type: str
    rate: float = bounded(ge=0, lt=1)


@dataclass(frozen=True)
class EmbeddingLayerConfig:
    """`embedding`: keras.layers.Embedding of the word ids of `data.text` (a text classifier's
    first layer): one learnt vector of `output_dim` numbers per word of the vocabulary
    (`data.tokenizer.max_tokens`), the padding masked."""

    type: str
    output_dim: int = bounded(ge=1, le=MAX_UNITS)


@dataclass(frozen=True)
class LayerType:
    """What a layer `type` of `model.layers` is: the dataclass its keys are checked against,
    the Keras layer class built with them (an import path, `module.Class`, resolved by
    `lstm_app.models.build`), and whether it is recurrent (reads a sequence)."""

    config: type
    keras: str
    recurrent: bool


LAYER_TYPES = Registry("layer type")
LAYER_TYPES.add("lstm", LayerType(RecurrentLayerConfig, "keras.layers.LSTM", recurrent=True))
LAYER_TYPES.add(
    "gate_lstm", LayerType(GateLSTMLayerConfig, "lstm_app.models.layers.GateLSTM", recurrent=True)
)
LAYER_TYPES.add("gru", LayerType(RecurrentLayerConfig, "keras.layers.GRU", recurrent=True))
LAYER_TYPES.add(
    "simple_rnn", LayerType(SimpleRNNLayerConfig, "keras.layers.SimpleRNN", recurrent=True)
)
LAYER_TYPES.add("dense", LayerType(DenseLayerConfig, "keras.layers.Dense", recurrent=False))
LAYER_TYPES.add("dropout", LayerType(DropoutLayerConfig, "keras.layers.Dropout", recurrent=False))
LAYER_TYPES.add(
    "embedding", LayerType(EmbeddingLayerConfig, "keras.layers.Embedding", recurrent=False)
)
RECURRENT_TYPES = tuple(name for name, kind in LAYER_TYPES.items() if kind.recurrent)


@dataclass(frozen=True)
class EnsembleConfig:
    """`members` copies of the stacked layers, each with its own initial weights, trained side
    by side on the same batches (each on its own loss) and forecasting as one model: the
    median of their forecasts (`lstm_app.models.ensemble`). Member i sees the last
    `lookbacks[i % len(lookbacks)]` share of the input window (N-BEATS's lookback ensemble)."""

    members: int = bounded(1, ge=1, le=limit(100))  # 1: one model, no ensemble
    lookbacks: tuple[float, ...] = (1.0,)  # shares of data.window.input_width, each in (0, 1]

    def _finish(self):
        if not self.lookbacks:
            raise ConfigError(("lookbacks",), "expected at least one share, e.g. [1.0]")
        for i, share in enumerate(self.lookbacks):
            if not 0 < share <= 1:
                raise ConfigError(("lookbacks", i), f"expected a share in (0, 1], got {share}")
        return self


@dataclass(frozen=True)
class ModelConfig:
    """The stacked layers, in order, after an input of shape `(None, n_features)`."""

    layers: tuple[object, ...] = field(metadata={"by_type": LAYER_TYPES})  # see LAYER_TYPES
    # each static label column (data.static) as a learnt vector of this size; None: one-hot
    static_embedding: int | None = bounded(None, ge=1, le=limit(10_000))
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    # statistical forecasts combined with the network's: each forecast is the median of the
    # network's and theirs (the M4 lesson); [] the network's alone (lstm_app.evaluation.combine)
    combine: tuple[str, ...] = choice((), COMBINABLE, unique=True)

    def _finish(self):
        if not any(layer.type in RECURRENT_TYPES for layer in self.layers):
            raise ConfigError(
                ("layers",), f"expected at least one recurrent layer ({', '.join(RECURRENT_TYPES)})"
            )
        sequence_in, previous = True, None
        for i, layer in enumerate(self.layers):
            if layer.type in RECURRENT_TYPES:
                if not sequence_in:
                    raise ConfigError(
                        ("layers", i),
                        f"{layer.type} needs a sequence input, but layers[{previous}] has "
                        "return_sequences: false",
                    )
                sequence_in, previous = layer.return_sequences, i
        if sequence_in:
            raise ConfigError(
                ("layers", previous, "return_sequences"),
                "the last recurrent layer must have return_sequences: false, so that the model "
                "gives one forecast per window",
            )
        return self

    def output_layer_index(self) -> int:
        """Index of the last layer with `units`: its units are the model's outputs."""
        return max(i for i, layer in enumerate(self.layers) if hasattr(layer, "units"))
