"""The config schema: what it accepts, what it fills in, and how it words each mistake."""

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ARTICLE_CONFIG, REPO, tiny_config_dict, write_yaml

from lstm_app.config.kinds import RUN_KINDS, run_kind
from lstm_app.config.load import config_from_dict, config_to_dict, load_config, parse_override
from lstm_app.config.schema import Config
from lstm_app.config.validate import build, choice, unique
from lstm_app.errors import ConfigError, UserInputError


def test_article_config_mirrors_the_article():
    cfg = load_config(ARTICLE_CONFIG)
    layers = cfg.model.layers
    assert [(la.type, la.units) for la in layers] == [("lstm", 50), ("lstm", 50), ("dense", 1)]
    assert [la.return_sequences for la in layers[:2]] == [True, False]
    t = cfg.training
    assert (t.optimizer, t.loss, t.epochs, t.batch_size) == ("adam", "mean_squared_error", 200, 64)
    assert cfg.data.features == ("Passengers",) and cfg.data.window.horizon == 1
    assert cfg.data.path == REPO / "data" / "airline-passengers.csv"
    assert cfg.data.path.is_file()


def test_missing_keys_take_their_documented_defaults():
    cfg = config_from_dict(tiny_config_dict())
    assert cfg.data.target == "value" and cfg.data.features == ("value",)
    assert cfg.data.scaler == "standard"
    assert cfg.training.optimizer == "adam" and cfg.training.learning_rate == 0.001
    assert cfg.training.callbacks.terminate_on_nan.enabled
    assert not cfg.training.callbacks.early_stopping.enabled
    assert cfg.model.layers[0].activation == "tanh"


def test_plain_form_round_trips():
    cfg = load_config(ARTICLE_CONFIG)
    assert config_from_dict(config_to_dict(cfg)) == cfg


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("training", {"epoch": 3}, "training.epoch: unknown key; did you mean 'epochs'?"),
        ("data", {"scalar": "minmax"}, "data.scalar: unknown key; did you mean 'scaler'?"),
        (
            "training",
            {"callbacks": {"early_stoping": True}},
            "training.callbacks.early_stoping: unknown key; did you mean 'early_stopping'?",
        ),
        ("training", {"zzz": 1}, "training.zzz: unknown key; expected one of: optimizer,"),
    ],
)
def test_unknown_key_is_refused_with_the_closest_valid_one(section, values, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(tiny_config_dict(**{section: values}))
    assert message in str(err.value)


def test_unknown_layer_key_is_refused():
    raw = tiny_config_dict(model={"layers": [{"type": "lstm", "unit": 8}]})
    with pytest.raises(ConfigError, match=r"model.layers\[0\].unit: unknown key; did you mean"):
        config_from_dict(raw)


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("training", {"epochs": "many"}, "training.epochs: expected an integer >= 1, got 'many'"),
        ("training", {"epochs": 0}, "training.epochs: expected an integer >= 1, got 0"),
        ("training", {"epochs": 2.5}, "training.epochs: expected an integer >= 1, got 2.5"),
        ("training", {"epochs": True}, "training.epochs: expected an integer >= 1, got true"),
        (
            "training",
            {"learning_rate": -0.1},
            "training.learning_rate: expected a number > 0, got -0.1",
        ),
        ("training", {"learning_rate": float("nan")}, "expected a number > 0, got nan"),
        (
            "training",
            {"optimizer": "adma"},
            "training.optimizer: expected one of: adam, adamw, nadam, rmsprop, sgd, adagrad; "
            "got 'adma'; did you mean 'adam'?",
        ),
        ("training", {"shuffle": "yes please"}, "training.shuffle: expected true or false"),
        (
            "training",
            {"callbacks": {"early_stopping": {"monitor": "val_mae"}}},
            "training.callbacks.early_stopping.monitor: expected one of: val_loss, loss",
        ),
        (
            "data",
            {"scaler": "robust"},
            "data.scaler: expected one of: standard, minmax, series, window, window_abs, "
            "window_last, none",
        ),
        ("data", {"window": {"input_width": 0}}, "data.window.input_width: expected an integer"),
        ("data", {"window": 12}, "data.window: expected a mapping of keys, got 12"),
        ("data", {"features": "value"}, "data.features: expected a list, got 'value'"),
        ("seed", -1, "seed: expected an integer >= 0 and <= 4294967295, got -1"),
        ("name", "../escape", "name: expected letters, digits"),
    ],
)
def test_wrong_type_or_out_of_range_value_is_refused(section, values, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(tiny_config_dict(**{section: values}))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            {"type": "lstn", "units": 8},
            "model.layers[0].type: expected one of: lstm, gate_lstm, gru, "
            "simple_rnn, dense, dropout, embedding; got 'lstn'; did you mean 'lstm'?",
        ),
        ({"units": 8}, "model.layers[0].type: missing required key"),
        ({"type": "lstm"}, "model.layers[0].units: missing required key"),
        (
            {"type": "lstm", "units": 8, "dropout": 1.0},
            "model.layers[0].dropout: expected a number >= 0 and < 1, got 1.0",
        ),
        (
            {"type": "simple_rnn", "units": 8, "recurrent_activation": "sigmoid"},
            "model.layers[0].recurrent_activation: unknown key",
        ),
        ({"type": "lstm", "units": 8, "activation": "tanhh"}, "did you mean 'tanh'?"),
    ],
)
def test_bad_layer_is_refused(layer, message):
    raw = tiny_config_dict(model={"layers": [layer, {"type": "dense", "units": 1}]})
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [
                {"type": "lstm", "units": 4},
                {"type": "lstm", "units": 4},
                {"type": "dense", "units": 1},
            ],
            "model.layers[1]: lstm needs a sequence input, but layers[0] has return_sequences:",
        ),
        (
            [{"type": "lstm", "units": 4, "return_sequences": True}, {"type": "dense", "units": 1}],
            "model.layers[0].return_sequences: the last recurrent layer must have",
        ),
        ([{"type": "dense", "units": 1}], "model.layers: expected at least one recurrent layer"),
        (
            [{"type": "lstm", "units": 4}, {"type": "dense", "units": 3}],
            "model.layers[1].units: the output layer must have one unit per forecast step: "
            "data.window.horizon is 1, got units 3",
        ),
    ],
)
def test_layers_that_cannot_stack_are_refused(layers, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(tiny_config_dict(model={"layers": layers}))
    assert message in str(err.value)


def test_split_fractions_must_sum_to_one():
    raw = tiny_config_dict(data={"split": {"train": 0.7, "val": 0.2, "test": 0.2}})
    with pytest.raises(
        ConfigError,
        match=r"data.split: train \+ val \+ test must sum to 1, got "
        r"0.7 \+ 0.2 \+ 0.2 = 1.1",
    ):
        config_from_dict(raw)


def test_csv_source_requires_path_and_target():
    with pytest.raises(ConfigError, match=r"data\.path: required when data\.source is csv"):
        config_from_dict(tiny_config_dict(data={"source": "csv"}))
    raw = tiny_config_dict(data={"source": "csv", "path": "x.csv"})
    with pytest.raises(ConfigError, match=r"data\.target: required"):
        config_from_dict(raw)


def test_sine_source_refuses_a_csv_path():
    with pytest.raises(ConfigError, match=r"data\.path: not used when data\.source is sine"):
        config_from_dict(tiny_config_dict(data={"path": "x.csv"}))


def test_callback_takes_a_bool_or_its_settings():
    raw = tiny_config_dict(
        training={
            "callbacks": {"early_stopping": {"patience": 3}, "checkpoint": True, "csv_log": False}
        }
    )
    callbacks = config_from_dict(raw).training.callbacks
    assert callbacks.early_stopping.patience == 3 and not callbacks.early_stopping.enabled
    assert callbacks.checkpoint.enabled and not callbacks.csv_log.enabled


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel:\n  layers: [{type: lstm\n  units: 3\n")
    with pytest.raises(UserInputError, match=r"broken.yaml: line 4, column \d+: invalid YAML"):
        load_config(path)


def test_yaml_tags_that_would_run_code_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    marker = tmp_path / "ran"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(UserInputError, match=r"evil.yaml: line 1, column 7: invalid YAML"):
        load_config(path)
    assert not marker.exists()


def test_duplicate_key_is_refused_with_its_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nseed: 1\nname: b\n")
    with pytest.raises(UserInputError, match=r"dup.yaml: line 3, column 1: .*duplicate key 'name'"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the config is empty"), ("- a\n- b\n", "expected a mapping of keys at the top level")],
)
def test_config_that_is_not_a_mapping_is_refused(tmp_path, text, message):
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(UserInputError, match=message):
        load_config(path)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(UserInputError, match=r"nope.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_scientific_notation_is_a_number(tmp_path):
    path = write_yaml(tmp_path / "c.yaml", tiny_config_dict())
    path.write_text(path.read_text().replace("epochs: 3", "epochs: 3\n  learning_rate: 1e-3"))
    assert load_config(path).training.learning_rate == 0.001


def test_overrides_parse_yaml_values_and_reach_into_lists(tiny_config_file):
    cfg = load_config(
        tiny_config_file,
        [
            "training.epochs=20",
            "data.window.input_width=24",
            "training.learning_rate=5e-4",
            "model.layers.0.units=64",
            "training.callbacks.early_stopping=true",
        ],
    )
    assert cfg.training.epochs == 20 and cfg.data.window.input_width == 24
    assert cfg.training.learning_rate == 5e-4 and cfg.model.layers[0].units == 64
    assert cfg.training.callbacks.early_stopping.enabled


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "training.epoch=20",
            r"tiny.yaml \(with --set training.epoch=20\): training.epoch: "
            r"unknown key; did you mean 'epochs'\?",
        ),
        (
            "training.epochs=-3",
            r"\(with --set training.epochs=-3\): training.epochs: expected an "
            r"integer >= 1, got -3",
        ),
        ("epochs", r"--set epochs: expected KEY=VALUE"),
        (
            "model.layers.5.units=2",
            r"--set model.layers.5.units=2: model.layers is a list of 2 "
            r"items; expected an index from 0 to 1, got 5",
        ),
        ("seed.value=3", r"--set seed.value=3: seed is a value, not a section"),
        ("training.epochs=[1", r"--set training.epochs=\[1: line 1, column 3: invalid YAML"),
    ],
)
def test_bad_override_is_refused_naming_it(tiny_config_file, override, message):
    with pytest.raises(UserInputError, match=message):
        load_config(tiny_config_file, [override])


def test_relative_data_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    raw = tiny_config_dict(data={"source": "csv", "path": "../data/x.csv", "target": "y"})
    write_yaml(tmp_path / "configs" / "c.yaml", raw)
    monkeypatch.chdir(tmp_path)  # from here, ../data/x.csv would be outside tmp_path
    assert load_config(Path("configs/c.yaml")).data.path == tmp_path / "data" / "x.csv"


def test_relative_data_path_from_the_command_line_resolves_against_cwd(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    raw = tiny_config_dict(data={"source": "csv", "path": "x.csv", "target": "y"})
    path = write_yaml(tmp_path / "c.yaml", raw)
    monkeypatch.chdir(tmp_path / "elsewhere")
    cfg = load_config(path, ["data.path=mine.csv"])
    assert cfg.data.path == tmp_path / "elsewhere" / "mine.csv"


def test_parse_override_splits_key_and_parses_value():
    override = parse_override("model.layers.0.units=64")
    assert override.key == ("model", "layers", 0, "units") and override.value == 64
    assert parse_override("data.features=[a, b]").value == ["a", "b"]
    assert parse_override("name=a=b").value == "a=b"


def test_config_is_immutable():
    cfg = config_from_dict(tiny_config_dict())
    assert isinstance(cfg, Config)
    with pytest.raises(AttributeError):
        cfg.seed = 3


# ---- sizes: every size key has a finite maximum, so an absurd value is refused at once


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "evaluation",
            {"backtest": {"folds": 10**23}},
            "evaluation.backtest.folds: expected an integer >= 1 and <= 1000, got 100000000000",
        ),
        (
            "data",
            {"sine": {"length": 10**10}},
            "data.sine.length: expected an integer >= 2 and <= 100000000, got 10000000000",
        ),
        ("data", {"window": {"input_width": 10**7}}, "data.window.input_width: expected an"),
        ("data", {"window": {"horizon": 10**6}}, "data.window.horizon: expected an integer"),
        ("data", {"season_length": 10**7}, "data.season_length: expected an integer"),
        ("training", {"epochs": 10**7}, "training.epochs: expected an integer >= 1 and <= "),
        ("training", {"batch_size": 10**7}, "training.batch_size: expected an integer"),
        ("training", {"steps_per_execution": 10**6}, "training.steps_per_execution: expected"),
        (
            "training",
            {"callbacks": {"early_stopping": {"patience": 10**7}}},
            "training.callbacks.early_stopping.patience: expected an integer",
        ),
        (
            "training",
            {"callbacks": {"reduce_lr_on_plateau": {"patience": 10**7}}},
            "training.callbacks.reduce_lr_on_plateau.patience: expected an integer",
        ),
    ],
)
def test_absurd_sizes_are_refused_naming_the_maximum(section, values, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(tiny_config_dict(**{section: values}))
    assert message in str(err.value) and "<=" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["1e23", "1.0e23", "1E23", "1e3", "3.0"])
def test_a_float_for_an_integer_key_is_refused_in_one_line(tiny_config_file, text):
    for key in ("evaluation.backtest.folds", "data.sine.length", "training.epochs"):
        with pytest.raises(ConfigError) as err:
            load_config(tiny_config_file, [f"{key}={text}"])
        assert f"{key}: expected an integer >= " in str(err.value)
        assert "\n" not in str(err.value)


def test_a_float_for_an_integer_key_in_the_file_is_refused(tmp_path):
    path = write_yaml(tmp_path / "c.yaml", tiny_config_dict())
    path.write_text(path.read_text() + "evaluation:\n  backtest:\n    folds: 1e23\n")
    with pytest.raises(ConfigError, match=r"c.yaml: evaluation.backtest.folds: expected an int"):
        load_config(path)


def test_sizes_at_their_maximum_are_accepted():
    cfg = config_from_dict(
        tiny_config_dict(
            evaluation={"backtest": {"folds": 1000}},
            training={"epochs": 1_000_000, "batch_size": 1_000_000, "steps_per_execution": 10_000},
        )
    )
    assert cfg.evaluation.backtest.folds == 1000 and cfg.training.epochs == 1_000_000
    assert config_from_dict(tiny_config_dict(data={"sine": {"length": 10**8}})).data.sine.length


# ---- overrides given to load_config must be a list of KEY=VALUE strings


@pytest.mark.parametrize(
    ("overrides", "found"),
    [
        ("training.epochs=3", "got the string 'training.epochs=3'"),
        (b"training.epochs=3", "got bytes"),
        ({"training.epochs": 3}, "got a dict"),
        (["training.epochs=3", 5], "item 1 is an int: 5"),
    ],
)
def test_overrides_that_are_not_a_list_of_strings_are_refused(tiny_config_file, overrides, found):
    with pytest.raises(TypeError) as err:
        load_config(tiny_config_file, overrides)
    message = str(err.value)
    assert "overrides: expected a list of KEY=VALUE strings" in message and found in message
    assert "\n" not in message


def test_overrides_may_be_any_sequence_of_strings(tiny_config_file):
    assert load_config(tiny_config_file, ("training.epochs=5",)).training.epochs == 5
    assert load_config(tiny_config_file, iter(["training.epochs=6"])).training.epochs == 6


# ---- YAML merge keys (`<<: *anchor`) are read as YAML defines them; duplicates still refused

MERGED_LAYERS = """name: merged
data: {source: sine}
model:
  layers:
    - &recurrent {type: lstm, units: 8, return_sequences: true, dropout: 0.1}
    - <<: *recurrent
      return_sequences: false
    - {type: dense, units: 1}
"""


def test_yaml_merge_keys_are_accepted(tmp_path):
    path = tmp_path / "merged.yaml"
    path.write_text(MERGED_LAYERS)
    layers = load_config(path).model.layers
    assert [(la.type, la.units, la.dropout) for la in layers[:2]] == [("lstm", 8, 0.1)] * 2
    assert [la.return_sequences for la in layers[:2]] == [True, False]


def test_yaml_merge_of_several_mappings_is_accepted(tmp_path):
    path = tmp_path / "merged.yaml"
    path.write_text(MERGED_LAYERS.replace("<<: *recurrent", "<<: [*recurrent, {activation: relu}]"))
    layer = load_config(path).model.layers[1]
    assert (layer.units, layer.activation, layer.return_sequences) == (8, "relu", False)


def test_duplicate_key_beside_a_merge_key_is_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    text = MERGED_LAYERS.replace("false\n", "false\n      units: 4\n      units: 5\n")
    path.write_text(text)  # units twice in one mapping (beside the merged one): a real duplicate
    with pytest.raises(UserInputError, match=r"dup.yaml: line 9, column 7: .*duplicate key 'units"):
        load_config(path)


@pytest.mark.parametrize("units", [1, "auto"])
def test_the_output_units_follow_the_horizon_when_left_at_one_or_auto(units):
    raw = tiny_config_dict(
        data={"window": {"input_width": 8, "horizon": 6}},
        model={"layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": units}]},
    )
    cfg = config_from_dict(raw)
    assert cfg.model.layers[-1].units == 6
    assert config_to_dict(cfg)["model"]["layers"][-1]["units"] == 6  # config.yaml: the number


def test_units_auto_is_for_the_output_layer_and_a_contradiction_is_refused():
    hidden = [{"type": "lstm", "units": "auto"}, {"type": "dense", "units": 1}]
    with pytest.raises(ConfigError, match=r"model.layers\[0\].units: auto is for the output"):
        config_from_dict(tiny_config_dict(model={"layers": hidden}))
    raw = tiny_config_dict(
        data={"window": {"input_width": 8, "horizon": 6}},
        model={"layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 2}]},
    )
    with pytest.raises(ConfigError, match=r"data\.window\.horizon is 6, got units 2"):
        config_from_dict(raw)
    words = tiny_config_dict(model={"layers": [{"type": "lstm", "units": "many"}]})
    with pytest.raises(ConfigError, match=r"expected an integer >= 1 .*, or 'auto', got 'many'"):
        config_from_dict(words)


# --------------------------------------------------------------------------------------------
# the kinds of run

PANEL_DATA = {
    "source": "csv",
    "path": "x.csv",
    "target": "y",
    "series_id": "id",
    "scaler": "series",
}


def _config_of_kind(kind: str) -> Config:
    if kind == "classification":
        return load_config(REPO / "configs" / "japanese_vowels.yaml")
    data = {
        "series": {},
        "panel": PANEL_DATA,
        "stream": {**PANEL_DATA, "stream": True},
    }[kind]
    return config_from_dict(tiny_config_dict(data=data) if data else tiny_config_dict())


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_run_kind_reads_a_config_and_the_mapping_of_its_config_yaml_alike(kind):
    cfg = _config_of_kind(kind)
    written = yaml.safe_load(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    assert run_kind(cfg) == kind
    assert run_kind(written) == kind


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({}, "series"),
        ({"task": "forecast", "data": None}, "series"),
        ({"data": {"series_id": None, "stream": False}}, "series"),
        ({"data": {"series_id": ["a", "b"]}}, "panel"),
        ({"data": {"series_id": "id", "stream": True}}, "stream"),
        ({"task": "classification", "data": {"series_id": "id", "stream": True}}, "classification"),
    ],
)
def test_run_kind_of_a_plain_mapping_needs_only_its_three_keys(raw, kind):
    assert run_kind(raw) == kind


# --------------------------------------------------------------------------------------------
# the validator's `unique` option


@dataclass(frozen=True)
class _Listed:
    names: tuple[str, ...] = unique(())
    columns: str | tuple[str, ...] | None = unique(None, item="column '{}'")
    levels: tuple[float, ...] = unique((), item="{}")
    formats: tuple[str, ...] = choice((), ("a", "b"), unique=True)
    anything: tuple[str, ...] = ()  # no option: repeats allowed


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        ({"names": ["a", "b", "a"]}, ("x", "names", 2), "'a' is listed twice"),
        ({"columns": ["c", "c"]}, ("x", "columns", 1), "column 'c' is listed twice"),
        ({"levels": [80, 95, 80.0]}, ("x", "levels", 2), "80.0 is listed twice"),
        ({"formats": ["b", "b"]}, ("x", "formats", 1), "'b' is listed twice"),
        ({"formats": ["b", "c", "c"]}, ("x", "formats", 1), "expected one of: a, b; got 'c'"),
    ],
)
def test_unique_refuses_the_second_of_two_equal_items(raw, key, message):
    with pytest.raises(ConfigError) as caught:
        build(_Listed, raw, ("x",))
    assert (caught.value.key, caught.value.message) == (key, message)


def test_unique_accepts_items_that_differ_and_a_single_value():
    built = build(
        _Listed,
        {"names": ["a", "b"], "columns": "c", "levels": [80, 95], "anything": ["z", "z"]},
        (),
    )
    assert (built.names, built.columns, built.levels) == (("a", "b"), "c", (80.0, 95.0))
    assert built.anything == ("z", "z")


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("data", {"features": ["value", "value"]}, "data.features[1]: column 'value' is listed "),
        (
            "data",
            {**PANEL_DATA, "series_id": ["id", "id"]},
            "data.series_id[1]: column 'id' is listed twice",
        ),
        ("data", {**PANEL_DATA, "static": ["s", "s"]}, "data.static[1]: column 's' is listed "),
        (
            "training",
            {"distribute": {"strategy": "mirrored", "devices": ["/cpu:0", "/cpu:0"]}},
            "training.distribute.devices[1]: '/cpu:0' is listed twice",
        ),
        (
            "evaluation",
            {"intervals": {"levels": [80, 80]}},
            "evaluation.intervals.levels[1]: 80.0 is listed twice",
        ),
        ("export", {"formats": ["keras", "keras"]}, "export.formats[1]: 'keras' is listed twice"),
    ],
)
def test_a_list_that_names_an_item_twice_is_refused(section, values, message):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(tiny_config_dict(**{section: values}))
    assert str(caught.value).startswith(message)


def test_a_classification_feature_listed_twice_is_refused():
    cfg = config_to_dict(load_config(REPO / "configs" / "japanese_vowels.yaml"))
    cfg["data"]["features"] = ["lpc1", "lpc2", "lpc1"]
    with pytest.raises(ConfigError, match=r"data.features\[2\]: column 'lpc1' is listed twice"):
        config_from_dict(cfg)


def test_an_auto_input_width_is_derived_from_the_horizon_and_the_season(tiny_config_file):
    from lstm_app.config.load import load_config
    from lstm_app.config.rules import AUTO_HORIZONS

    cfg = load_config(
        tiny_config_file,
        ["data.window.input_width=auto", "data.window.horizon=5", "data.season_length=4"],
    )
    assert cfg.data.window.input_width == round(AUTO_HORIZONS * 5)  # the horizon is longer
    cfg = load_config(
        tiny_config_file,
        ["data.window.input_width=auto", "data.window.horizon=2", "data.season_length=12"],
    )
    assert cfg.data.window.input_width == round(AUTO_HORIZONS * 12)  # the season is
