"""The kinds of run, defined once: what a config trains on decides how the run is read,
trained, evaluated and exported.

    run_kind(cfg)                          # a Config
    run_kind(yaml.safe_load(config_text))  # or the plain mapping of a written config.yaml

`classification`: `task: classification`, labelled sequences (`data.label`) in, one
probability per class out. Otherwise a forecast: `stream`, a panel read shard by shard
(`data.stream`); `panel`, many series in one file, one model (`data.series_id`); `series`, one
series.
"""

from collections.abc import Mapping

RUN_KINDS = ("series", "panel", "stream", "classification")
PANEL_KINDS = ("panel", "stream")  # many series, one model: scored and summarised as a panel


def run_kind(config) -> str:
    """The kind of run `config` (a `Config`, or the plain mapping of a `config.yaml`, with the
    keys `task`, `data.series_id` and `data.stream`) is: one of `RUN_KINDS`. A stream is a panel
    too (its `data.series_id` is set), read shard by shard."""
    if isinstance(config, Mapping):
        data = config.get("data") or {}
        task, series_id, stream = config.get("task"), data.get("series_id"), data.get("stream")
    else:
        task, series_id, stream = config.task, config.data.series_id, config.data.stream
    if task == "classification":
        return "classification"
    if stream:
        return "stream"
    if series_id is not None:
        return "panel"
    return "series"
