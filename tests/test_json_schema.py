"""`lstm-train --schema`: the config's JSON Schema, for editors, agrees with the validator."""

import copy
import json

import jsonschema
import pytest
import yaml
from conftest import REPO

from lstm_app.cli import lstm_train
from lstm_app.config.json_schema import json_schema
from lstm_app.config.load import config_from_dict
from lstm_app.config.schema import LAYER_TYPES, OPTIMIZERS
from lstm_app.data.transforms import TRANSFORMS
from lstm_app.errors import ConfigError

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
ARTICLE = yaml.safe_load((REPO / "configs" / "article.yaml").read_text())


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_is_valid_under_the_schema(validator, path):
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert not errors


def _changed(path: tuple, value):
    raw = copy.deepcopy(ARTICLE)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("training", "epoch"), 3),  # unknown key
        (("training", "epochs"), 0),  # below its bound
        (("training", "batch_size"), 2.5),  # not an integer
        (("training", "optimizer"), "adm"),  # not a registered optimizer
        (("data", "transforms"), ["lg"]),  # not a registered transform
        (("export", "formats"), ["onx"]),  # not a registered format
        (("model", "layers"), [{"type": "lstn", "units": 3}]),  # not a registered layer type
        (("model", "layers"), [{"type": "dense", "units": 1, "rate": 0.1}]),  # a dropout key
        (("training", "callbacks", "early_stopping"), {"patience": -1}),
    ],
)
def test_what_the_validator_refuses_the_schema_refuses(validator, path, value):
    raw = _changed(path, value)
    with pytest.raises(ConfigError):
        config_from_dict(raw)
    assert list(validator.iter_errors(raw)), f"the schema accepts {path} = {value!r}"


def test_the_schema_lists_the_registered_choices():
    schema = json_schema()
    training = schema["properties"]["training"]["properties"]
    assert training["optimizer"]["enum"] == list(OPTIMIZERS.names())
    transforms = schema["properties"]["data"]["properties"]["transforms"]
    listed, auto = transforms["anyOf"]  # a list of registered names, or the word auto
    assert listed["items"]["enum"] == list(TRANSFORMS.names()) and auto == {"enum": ["auto"]}
    layers = schema["properties"]["model"]["properties"]["layers"]["items"]["oneOf"]
    assert [layer["properties"]["type"]["const"] for layer in layers] == list(LAYER_TYPES.names())


def test_lstm_train_prints_the_schema_without_a_config(capsys):
    assert lstm_train.main(["--schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(json_schema()))
    with pytest.raises(SystemExit) as caught:  # without --schema, --config is still required
        lstm_train.main([])
    assert caught.value.code == 2
    assert "the following arguments are required: --config" in capsys.readouterr().err
