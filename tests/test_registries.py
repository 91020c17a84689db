"""The registries: every choice a config can name is declared once, and the schema, the errors,
the builders and the docs all follow it."""

import re
import typing

import pytest
from conftest import REPO, tiny_config_dict

from lstm_app.config.load import config_from_dict
from lstm_app.config.schema import LAYER_TYPES, LOSSES, OPTIMIZERS, GateVariant
from lstm_app.data.transforms import TRANSFORMS
from lstm_app.errors import ConfigError
from lstm_app.evaluation.baselines import BASELINES
from lstm_app.models.variants import VARIANTS
from lstm_app.registry import Registry, load_object
from lstm_app.serving.formats import FORMATS

README = (REPO / "README.md").read_text(encoding="utf-8")
CONFIG_CHOICES = {  # registry -> (config section, key), where a config names its entries
    "optimizer": (OPTIMIZERS, "training", "optimizer"),
    "loss": (LOSSES, "training", "loss"),
    "transform": (TRANSFORMS, "data", "transforms"),
    "export format": (FORMATS, "export", "formats"),
}


def test_a_registry_refuses_a_name_twice_and_lists_its_choices():
    registry = Registry("thing")
    registry.add("one", 1)
    with pytest.raises(ValueError, match="'one' is registered twice"):
        registry.add("one", 2)
    with pytest.raises(KeyError, match="unknown thing 'two'; expected one of: one"):
        registry["two"]
    assert registry.names() == ("one",) and "one" in registry and 1 not in registry


@pytest.mark.parametrize("kind", CONFIG_CHOICES)
def test_the_schema_accepts_every_registered_name_and_suggests_the_closest(kind):
    registry, section, key = CONFIG_CHOICES[kind]
    listed = kind in ("transform", "export format")
    for name in registry.names():
        if name == "seasonal_diff":
            continue  # needs data.season_length: tested with the transforms
        if name == "cross_entropy":
            continue  # task: classification's loss: tested in test_classification
        value = [name] if listed else name
        sections = {section: {key: value}}
        if name == "quantile":  # its levels: tested with the heads
            sections["data"] = {"quantiles": [0.1, 0.5, 0.9]}
        cfg = config_from_dict(tiny_config_dict(**sections))
        assert getattr(getattr(cfg, section), key) == (tuple(value) if listed else value)
    first = registry.names()[0]
    typo = first[:-1] + "x"
    with pytest.raises(ConfigError) as caught:
        config_from_dict(tiny_config_dict(**{section: {key: [typo] if listed else typo}}))
    message = str(caught.value)
    assert f"expected one of: {', '.join(registry.names())}" in message
    assert f"did you mean '{first}'?" in message


def test_every_layer_type_builds_its_registered_keras_class():
    for name, layer_type in LAYER_TYPES.items():
        assert isinstance(load_object(layer_type.keras), type), name
    with pytest.raises(ConfigError, match=r"model.layers\[0\].type: expected one of: lstm, "):
        config_from_dict(tiny_config_dict(model={"layers": [{"type": "lstn", "units": 1}]}))


def test_every_optimizer_names_a_keras_optimizer():
    import keras

    for name in OPTIMIZERS:
        assert issubclass(load_object(OPTIMIZERS[name]), keras.optimizers.Optimizer), name


def test_gate_variants_are_the_catalogue_of_the_layer():
    from lstm_app.models.layers import GateLSTM

    assert typing.get_args(GateVariant) == tuple(VARIANTS)
    for variant in VARIANTS:
        assert GateLSTM(2, variant=variant).cell.variant == variant


@pytest.mark.parametrize(
    "registry",
    [LAYER_TYPES, OPTIMIZERS, LOSSES, TRANSFORMS, FORMATS],
    ids=lambda r: r.kind,
)
def test_the_readme_names_every_choice(registry):
    missing = [n for n in registry.names() if not re.search(rf"\b{re.escape(n)}\b", README)]
    assert not missing, f"README.md does not mention the {registry.kind}(s): {missing}"


def test_every_baseline_is_reported():
    """metrics.json, the summary and the plots list the baselines from their registry."""
    assert BASELINES.names() == ("persistence", "seasonal_naive", "mean")
    assert all(b.label and b.style and callable(b.forecast) for _, b in BASELINES.items())
