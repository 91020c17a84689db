"""The registries: every choice a config can name is declared once, and the schema, the errors,
the builders and the docs all follow it."""

import re
import subprocess
import sys
import typing

import pytest
from conftest import REPO, tiny_config_dict

from lstm_app.config.choices import (
    FORMAT_NAMES,
    TEXT_FORMATS,
    TRANSFORM_NAMES,
    VARIANT_NAMES,
    check_catalogue,
)
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
    assert BASELINES.names() == ("persistence", "seasonal_naive", "mean", "ets", "theta")
    assert all(b.label and b.style and callable(b.forecast) for _, b in BASELINES.items())


# the catalogues above the config, each implementing the names of lstm_app.config.choices:
# (its module, the names it implements)
CATALOGUES = {
    "TRANSFORM_NAMES": ("lstm_app.data.transforms", TRANSFORMS.names()),
    "FORMAT_NAMES": ("lstm_app.serving.formats", FORMATS.names()),
    "VARIANT_NAMES": ("lstm_app.models.variants", tuple(VARIANTS)),
    "BASELINE_NAMES": ("lstm_app.evaluation.baselines", BASELINES.names()),
}


def test_each_catalogue_implements_exactly_the_names_the_config_offers():
    assert tuple(TRANSFORMS.names()) == TRANSFORM_NAMES
    assert tuple(FORMATS.names()) == FORMAT_NAMES
    assert tuple(VARIANTS) == VARIANT_NAMES
    assert set(TEXT_FORMATS) <= set(FORMAT_NAMES)


@pytest.mark.parametrize("names", CATALOGUES)
@pytest.mark.parametrize("side", ["config", "catalogue"])
def test_a_name_gained_on_one_side_only_fails_the_catalogue_on_import(names, side):
    """In a fresh interpreter, the config's names gain a name (`config`) or lose one, which the
    catalogue then has beyond them (`catalogue`): the catalogue's module refuses to import."""
    module, implemented = CATALOGUES[names]
    if side == "config":
        changed, expected = f"(*c.{names}, 'gained')", "lacks ['gained'], which"
    else:
        changed, expected = f"c.{names}[:-1]", f"implements [{implemented[-1]!r}], which"
    code = f"import lstm_app.config.choices as c\nc.{names} = {changed}\nimport {module}\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert f"RuntimeError: {module}." in done.stderr and expected in done.stderr


def test_the_catalogue_check_names_what_differs():
    check_catalogue("T", ("a", "b"), ["a", "b"])
    with pytest.raises(RuntimeError, match=r"^T implements \['c'\], which .* \(\['a', 'b'\]\)"):
        check_catalogue("T", ("a", "b"), ("a", "b", "c"))
    with pytest.raises(
        RuntimeError, match=r"^T lacks \['b'\], which lstm_app.config.choices names"
    ):
        check_catalogue("T", ("a", "b"), ("a",))
    with pytest.raises(RuntimeError, match=r"^T lists \['b', 'a'\], in another order"):
        check_catalogue("T", ("a", "b"), ("b", "a"))
