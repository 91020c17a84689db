"""The config schema: every key a config may hold, its type, default and bounds.

A config has the parts `name`/`seed`/`task`, `data`, `model`, `training`, `evaluation`,
`export` and `tracking` (`configs/article.yaml` comments every key). Frozen dataclasses are the
schema: a field's type is what the YAML value must be, its default is used when the key is
absent (no default: the key is required), `bounded` bounds a number, `choice` names a choice,
`unique` refuses an item listed twice (`lstm_app.config.validate`, which builds them from
plain values; `lstm_app.config.load` reads YAML files and `--set` overrides).

This module holds the root, `Config`, and names every part of the schema, which lives in:

    choices           the names of the choices (transforms, export formats, gate variants),
                      and the optimizers and losses by their Keras names
    data_section      DataConfig: the series or sequences, windows, split, scaling
    model_section     ModelConfig, each layer type's dataclass, LAYER_TYPES
    training_section  TrainingConfig, its callbacks and tf.distribute strategy
    output_sections   EvaluationConfig (backtest, intervals), ExportConfig, TrackingConfig
    rules             the checks across sections, by the kind of run (`kinds.run_kind`)

Checks that involve several keys of one section live in its class's `_finish`; the ones across
sections in `rules`, which `Config._finish` runs. Keras classes are named by import path,
resolved when the model is built, so that a config is checked before TensorFlow loads; the
choices implemented above the config (`lstm_app.data.transforms.TRANSFORMS`,
`lstm_app.serving.formats.FORMATS`, `lstm_app.models.variants.VARIANTS`) check, when imported,
that they implement exactly the names of `choices`.
"""

from dataclasses import dataclass, field
from typing import Literal

from lstm_app.config import rules
from lstm_app.config.choices import DEFAULT_LOSS, DISTRIBUTION_LOSSES, LOSSES, OPTIMIZERS
from lstm_app.config.data_section import (
    EPOCH_FORMATS,
    SINE_COLUMN,
    TIME_PARTS,
    DataConfig,
    SineConfig,
    SplitConfig,
    TokenizerConfig,
    WindowConfig,
)
from lstm_app.config.model_section import (
    LAYER_TYPES,
    MAX_UNITS,
    RECURRENT_TYPES,
    Activation,
    DenseLayerConfig,
    DropoutLayerConfig,
    EmbeddingLayerConfig,
    GateLSTMLayerConfig,
    GateVariant,
    LayerType,
    ModelConfig,
    RecurrentLayerConfig,
    SimpleRNNLayerConfig,
)
from lstm_app.config.output_sections import (
    BacktestConfig,
    EvaluationConfig,
    ExportConfig,
    IntervalsConfig,
    MLflowConfig,
    TrackingConfig,
    interval_quantiles,
    quantile_levels,
)
from lstm_app.config.rules import NAME_PATTERN
from lstm_app.config.training_section import (
    CallbacksConfig,
    CheckpointConfig,
    CSVLogConfig,
    DistributeConfig,
    EarlyStoppingConfig,
    Monitor,
    ReduceLROnPlateauConfig,
    TensorBoardConfig,
    TerminateOnNaNConfig,
    TrainingConfig,
)
from lstm_app.config.validate import bounded

__all__ = [
    "DEFAULT_LOSS",
    "DISTRIBUTION_LOSSES",
    "EPOCH_FORMATS",
    "LAYER_TYPES",
    "LOSSES",
    "MAX_UNITS",
    "NAME_PATTERN",
    "OPTIMIZERS",
    "RECURRENT_TYPES",
    "SINE_COLUMN",
    "TIME_PARTS",
    "Activation",
    "BacktestConfig",
    "CSVLogConfig",
    "CallbacksConfig",
    "CheckpointConfig",
    "Config",
    "DataConfig",
    "DenseLayerConfig",
    "DistributeConfig",
    "DropoutLayerConfig",
    "EarlyStoppingConfig",
    "EmbeddingLayerConfig",
    "EvaluationConfig",
    "ExportConfig",
    "GateLSTMLayerConfig",
    "GateVariant",
    "IntervalsConfig",
    "LayerType",
    "MLflowConfig",
    "ModelConfig",
    "Monitor",
    "RecurrentLayerConfig",
    "ReduceLROnPlateauConfig",
    "SimpleRNNLayerConfig",
    "SineConfig",
    "SplitConfig",
    "TensorBoardConfig",
    "TerminateOnNaNConfig",
    "TokenizerConfig",
    "TrackingConfig",
    "TrainingConfig",
    "WindowConfig",
    "interval_quantiles",
    "quantile_levels",
]


@dataclass(frozen=True)
class Config:
    """A whole run: what to train on, what to train, and how."""

    model: ModelConfig
    name: str = "run"  # names the run directory: runs/<name>-<timestamp>
    # forecast a series (data.target), or classify labelled sequences (data.label)
    task: Literal["forecast", "classification"] = "forecast"
    seed: int = bounded(0, ge=0, le=2**32 - 1)  # seeds weights, shuffling and generated data
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def _finish(self):
        """The checks across sections, by the kind of run (`lstm_app.config.rules.finish`)."""
        return rules.finish(self)
