"""The rules across the sections of a config: what `Config._finish` checks once every section
is built and checked on its own, by the kind of run (`lstm_app.config.kinds.run_kind`):

    finish(cfg)                 the name, the default loss, then the rules of the kind of run
    finish_classification(cfg)  a classification: labelled sequences, a classifier's layers
    check_panel_run(cfg)        a panel or a stream: what it does not do yet
    check_distribution(cfg)     a distribution head (quantile, gaussian) and the intervals

Each raises `ConfigError` at the key (from the root) that is wrong, or returns the completed
config (`finish`: the default loss, the output layer's units).
"""

import dataclasses
import re
from typing import TYPE_CHECKING

from lstm_app.config.choices import (
    BASELINE_NAMES,
    COMBINABLE,
    DEFAULT_LOSS,
    DISTRIBUTION_LOSSES,
    TEXT_FORMATS,
)
from lstm_app.config.kinds import PANEL_KINDS, run_kind
from lstm_app.config.output_sections import interval_quantiles
from lstm_app.errors import ConfigError

if TYPE_CHECKING:  # for annotations only (the schema imports this module)
    from lstm_app.config.schema import Config

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


AUTO_HORIZONS = 1.5  # data.window.input_width: auto looks back this many horizons (or seasons)


def auto_input_width(horizon: int, season_length: int) -> int:
    """`data.window.input_width: auto`: `AUTO_HORIZONS` horizons or as many seasons, the
    longer, rounded (chosen on the development panels' validation blocks, bench/panels.py:
    1.5 horizons did as well as 2 on the quarterly panels and better on M1 monthly, and
    leaves more short series a whole window)."""
    return round(AUTO_HORIZONS * max(horizon, season_length))


def run_baselines(cfg) -> tuple[str, ...]:
    """The baselines a run computes: `evaluation.baselines`, or with `auto` all of them
    (`BASELINE_NAMES`) but the statistical ones (`COMBINABLE`) for a panel read shard by shard,
    whose series may be counted in millions."""
    chosen = cfg.evaluation.baselines
    if chosen != "auto":
        return tuple(chosen)
    if run_kind(cfg) == "stream":
        return tuple(name for name in BASELINE_NAMES if name not in COMBINABLE)
    return BASELINE_NAMES


def finish(cfg) -> "Config":
    """`cfg` checked across its sections (`Config._finish`), completed: the default loss of its
    task, and the output layer's units (`auto`, or 1 given a horizon) one per forecast step."""
    if not NAME_PATTERN.fullmatch(cfg.name):
        raise ConfigError(
            ("name",),
            f"expected letters, digits, '.', '_' or '-' (starting with a letter or digit), "
            f"got {cfg.name!r}",
        )
    window = cfg.data.window
    if window.input_width == "auto":
        if cfg.task == "classification":
            raise ConfigError(
                ("data", "window", "input_width"), "auto is for forecasts; give a number"
            )
        width = auto_input_width(window.horizon, cfg.data.season_length)
        window = dataclasses.replace(window, input_width=width)
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, window=window))
    loss = cfg.training.loss or DEFAULT_LOSS[cfg.task]
    if loss != cfg.training.loss:
        cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, loss=loss))
    if run_kind(cfg) == "classification":
        if cfg.model.ensemble.members > 1:
            raise ConfigError(
                ("model", "ensemble", "members"), "ensembles forecasters; a classifier takes 1"
            )
        return finish_classification(cfg)
    if cfg.model.ensemble.members > 1 and loss in DISTRIBUTION_LOSSES:
        raise ConfigError(
            ("model", "ensemble", "members"),
            f"the median of point forecasts; training.loss {loss} forecasts a distribution "
            "(not ensembled yet): set members: 1 or a point loss",
        )
    if cfg.data.label is not None:
        raise ConfigError(("data", "label"), "classifies sequences: set task: classification")
    if loss == "cross_entropy":
        raise ConfigError(
            ("training", "loss"),
            "cross_entropy is for task: classification; a forecast "
            "takes mean_squared_error, mean_absolute_error, huber, quantile or gaussian",
        )
    if cfg.training.class_weights != "none":
        raise ConfigError(
            ("training", "class_weights"), "weighs the classes of task: classification"
        )
    for i, layer in enumerate(cfg.model.layers):
        if layer.type == "embedding":
            raise ConfigError(
                ("model", "layers", i, "type"),
                "embedding reads the words of data.text (task: classification)",
            )
    check_panel_run(cfg)
    check_distribution(cfg)
    if cfg.training.distribute.strategy == "multi_worker" and cfg.data.transforms == "auto":
        raise ConfigError(
            ("data", "transforms"),
            "auto trains a model per candidate on one machine; under strategy: multi_worker "
            "give the transforms (choose them first with a single-machine run)",
        )
    if cfg.model.static_embedding is not None and not cfg.data.static:
        raise ConfigError(
            ("model", "static_embedding"),
            "embeds the static label columns, and data.static lists none; list them there, "
            "or remove this key",
        )
    out = cfg.model.output_layer_index()
    for i, layer in enumerate(cfg.model.layers):
        if getattr(layer, "units", None) == "auto" and i != out:
            raise ConfigError(
                ("model", "layers", i, "units"),
                "auto is for the output layer only (one unit per forecast step); give a number",
            )
    units, horizon = cfg.model.layers[out].units, cfg.data.window.horizon
    if units in ("auto", 1) and units != horizon:  # 1: a one-step layout, given a horizon
        layers = list(cfg.model.layers)
        layers[out] = dataclasses.replace(layers[out], units=horizon)
        model = dataclasses.replace(cfg.model, layers=tuple(layers))
        return dataclasses.replace(cfg, model=model)
    if units != horizon:
        raise ConfigError(
            ("model", "layers", out, "units"),
            f"the output layer must have one unit per forecast step: data.window.horizon is "
            f"{horizon}, got units {units}",
        )
    return cfg


def check_distribution(cfg) -> None:
    """What a distribution head (`training.loss: quantile | gaussian`) and the intervals
    need: the quantile levels, the median among them, each interval's bounds."""
    loss, quantiles = cfg.training.loss, cfg.data.quantiles
    if loss == "quantile":
        if not quantiles:
            raise ConfigError(
                ("data", "quantiles"),
                "training.loss: quantile forecasts these levels; list them, e.g. [0.1, 0.5, 0.9]",
            )
        if 0.5 not in quantiles:
            raise ConfigError(
                ("data", "quantiles"),
                f"must hold 0.5, the median, the point forecast; got {list(quantiles)}",
            )
        for i, level in enumerate(cfg.evaluation.intervals.levels):
            missing = [q for q in interval_quantiles(level) if q not in quantiles]
            if missing:
                raise ConfigError(
                    ("evaluation", "intervals", "levels", i),
                    f"the {level:g}% interval is bounded by the {missing[0]} quantile, not in "
                    f"data.quantiles {list(quantiles)}; add it",
                )
    if loss in DISTRIBUTION_LOSSES and run_kind(cfg) == "stream":
        raise ConfigError(
            ("training", "loss"), f"{loss} is not yet for a panel read shard by shard"
        )


def finish_classification(cfg) -> "Config":
    """`task: classification`: labelled sequences in, one probability per class out
    (`lstm_app.models.classifier`); what only a forecast does refused."""
    if cfg.data.label is None:
        raise ConfigError(
            ("data", "label"), "required with task: classification: the column of the class"
        )
    if cfg.training.loss != "cross_entropy":
        raise ConfigError(
            ("training", "loss"),
            f"a classification trains with cross_entropy, got {cfg.training.loss}",
        )
    refused = {
        ("evaluation", "backtest", "folds"): cfg.evaluation.backtest.folds > 1,
        ("evaluation", "intervals", "levels"): bool(cfg.evaluation.intervals.levels),
        ("training", "distribute", "strategy"): cfg.training.distribute.strategy != "none",
        ("training", "windows_per_series"): cfg.training.windows_per_series is not None,
        ("training", "stride"): cfg.training.stride != 1,
        ("model", "static_embedding"): cfg.model.static_embedding is not None,
        ("tracking", "mlflow", "enabled"): cfg.tracking.mlflow.enabled,
    }
    for key, given in refused.items():
        if given:
            raise ConfigError(key, "not (yet) for task: classification; remove it")
    if cfg.data.text is not None:
        for i, name in enumerate(cfg.export.formats):
            if name not in TEXT_FORMATS:
                raise ConfigError(
                    ("export", "formats", i),
                    f"{name} cannot hold a text model's tokenizer (string ops); export "
                    f"{' or '.join(TEXT_FORMATS)}",
                )
    layers = cfg.model.layers
    for i, layer in enumerate(layers):
        if layer.type == "embedding" and (i != 0 or cfg.data.text is None):
            raise ConfigError(
                ("model", "layers", i, "type"),
                "embedding reads the words of data.text: the first layer of a text classifier only",
            )
    if cfg.data.text is not None and layers[0].type != "embedding":
        raise ConfigError(
            ("model", "layers", 0, "type"),
            f"a text classifier starts with an embedding layer (words to vectors), got "
            f"{layers[0].type}",
        )
    last = layers[-1]
    if last.type != "dense":
        raise ConfigError(
            ("model", "layers", len(layers) - 1),
            "a classifier ends with a dense layer of units: auto (one per class)",
        )
    if last.activation != "linear":
        raise ConfigError(
            ("model", "layers", len(layers) - 1, "activation"),
            f"the output layer gives scores (linear), which the model turns into "
            f"probabilities itself (softmax); got {last.activation}",
        )
    for i, layer in enumerate(layers[:-1]):
        if getattr(layer, "units", None) == "auto":
            raise ConfigError(
                ("model", "layers", i, "units"),
                "auto is for the output layer only (one unit per class); give a number",
            )
    return cfg


def check_panel_run(cfg) -> None:
    """What a panel run (`data.series_id`, read whole or as a stream) does not do yet (issue
    15, in progress)."""
    if cfg.model.combine and run_kind(cfg) != "panel":
        raise ConfigError(
            ("model", "combine"),
            "combines a panel's forecasts (data.series_id, read whole) with statistical ones; "
            "not yet for this run: set it to []",
        )
    if cfg.model.combine and cfg.training.loss in DISTRIBUTION_LOSSES:
        raise ConfigError(
            ("model", "combine"),
            f"combines point forecasts; training.loss {cfg.training.loss} forecasts a "
            "distribution (not combined yet): set it to []",
        )
    if run_kind(cfg) not in PANEL_KINDS:
        return
    panel = "not yet with data.series_id (a panel run)"
    if cfg.export.formats and cfg.data.scaler == "series" and cfg.data.transforms:
        raise ConfigError(
            ("export", "formats"),
            "a panel scaled series by series (data.scaler: series) with data.transforms is "
            "not exported yet: set data.scaler: window (each window scaled inside the "
            "model), no transforms, or formats: []",
        )
    if cfg.evaluation.backtest.folds > 1:
        raise ConfigError(("evaluation", "backtest", "folds"), f"{panel}; set it to 1")
    if cfg.data.transforms == "auto":
        raise ConfigError(("data", "transforms"), f"auto is {panel}; give the transforms")
