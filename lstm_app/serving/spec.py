"""What an exported model expects, readable without TensorFlow: the serving spec (input
columns, scaling, transforms, window), the export formats, their files and their packages.
"""

import dataclasses
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from lstm_app.errors import UserInputError

FORMATS = ("keras", "saved_model", "onnx", "tflite")
ARTEFACTS = {
    "keras": "model.keras",
    "saved_model": "saved_model",
    "onnx": "model.onnx",
    "tflite": "model.tflite",
}
EXTRAS = {"onnx": ("tf2onnx", "onnxruntime"), "tflite": ("ai_edge_litert",)}


def check_export(formats, out: Path) -> None:
    """UserInputError if a format is unknown, lacks its packages, or would replace a file."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UserInputError(
            f"unknown export format '{unknown[0]}'; expected one of: {', '.join(FORMATS)}"
        )
    problem = missing_extras(formats)
    if problem:
        raise UserInputError(problem)
    for name in formats:
        if (out / ARTEFACTS[name]).exists():
            raise UserInputError(
                f"{out / ARTEFACTS[name]}: exists; remove it to export {name} again"
            )


def missing_extras(formats) -> str | None:
    """A one-line message naming the optional packages `formats` need and lack, or None."""
    for name in formats:
        absent = [module for module in EXTRAS.get(name, ()) if not importlib.util.find_spec(module)]
        if absent:
            return (
                f"the {name} format needs {', '.join(absent)}, which is not installed: "
                "pip install 'lstm-app[export]'"
            )
    return None


@dataclass(frozen=True)
class ServingSpec:
    """What the serving model needs to know about the data.

    Attributes:
        inputs: the raw input columns, in order.
        target: the target column; `target_index` is its position in `inputs`.
        n_features: the model's inputs are the first `n_features` columns.
        target_is_feature: whether the model sees the (transformed) target as a feature.
        transforms: the target's transforms, in order; `season_length` for seasonal_diff.
        feature_offset, feature_scale: `(n_features,)` the feature scaler's statistics.
        target_offset, target_scale: the target scaler's statistics.
        input_width, horizon: the window the model was trained on.
        categorical: `{column: [labels]}` for one-hot columns.
    """

    inputs: tuple[str, ...]
    target: str
    target_index: int
    n_features: int
    target_is_feature: bool
    transforms: tuple[str, ...]
    season_length: int
    feature_offset: tuple[float, ...]
    feature_scale: tuple[float, ...]
    target_offset: float
    target_scale: float
    input_width: int
    horizon: int
    categorical: dict

    @property
    def lag(self) -> int:
        """Leading rows the transforms leave undefined."""
        return sum(
            {"log": 0, "diff": 1, "seasonal_diff": self.season_length}[t] for t in self.transforms
        )

    @property
    def rows(self) -> int:
        """Raw rows a forecast needs: the window plus what the transforms use up."""
        return self.input_width + self.lag

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ServingSpec":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**{k: v for k, v in values.items() if k in fields})

    @classmethod
    def from_run(cls, run_dir) -> "ServingSpec":
        """The spec of a run directory, from its `config.yaml` and `scaler.json`."""
        run_dir = Path(run_dir)
        config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        scalers = json.loads((run_dir / "scaler.json").read_text(encoding="utf-8"))
        data = config["data"]
        features = scalers["features"]["columns"]
        names = list(features)
        target = data["target"]
        inputs = names if target in names else [*names, target]
        (target_stats,) = scalers["target"]["columns"].values()
        categorical = {
            column: [name.split("=", 1)[1] for name in names if name.startswith(f"{column}=")]
            for column in data.get("categorical") or ()
        }
        return cls(
            inputs=tuple(inputs),
            target=target,
            target_index=inputs.index(target),
            n_features=len(names),
            target_is_feature=target in names,
            transforms=tuple(scalers.get("target_transforms", ())),
            season_length=int(data.get("season_length", 1)),
            feature_offset=tuple(features[n]["offset"] for n in names),
            feature_scale=tuple(features[n]["scale"] for n in names),
            target_offset=target_stats["offset"],
            target_scale=target_stats["scale"],
            input_width=int(data["window"]["input_width"]),
            horizon=int(data["window"]["horizon"]),
            categorical=categorical,
        )
