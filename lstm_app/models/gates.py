"""See the gates: run a model's `GateLSTM` layers on input windows step by step, and plot them.

    traces = trace_gates(model, windows)   # one GateTrace per GateLSTM layer
    traces[0].forget_gate                  # (windows, time, units), in [0, 1]
    plot_gates(traces, "gates.png")        # heatmaps over time and units, mean forget gate

The trace replays each layer's own `GateLSTMCell.step` (the code the layer trains with), one
time step at a time from zero states, so what it shows is what the layer computes.
"""

from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lstm_app.models.layers import GateLSTM


@dataclass(frozen=True)
class GateTrace:
    """What one GateLSTM layer computed on a batch of windows, at every time step.

    Every array is `(windows, time, units)`, in the inputs' time order (also for a layer that
    reads backwards). A gate that the layer's variant removes is all ones.

    Attributes:
        layer: the layer's name.
        variant: the layer's variant (see `lstm_app.models.variants.VARIANTS`).
        input_gate: i_t, how much of the candidate enters the cell.
        forget_gate: f_t, how much of the previous cell state is kept.
        output_gate: o_t, how much of tanh(c_t) is shown as h_t (the article variant's output).
        candidate: g_t, the new content offered to the cell.
        cell: c_t, the cell state.
        hidden: h_t, the hidden state (the layer's output but for the article variant).
    """

    layer: str
    variant: str
    input_gate: np.ndarray
    forget_gate: np.ndarray
    output_gate: np.ndarray
    candidate: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray


def gate_layers(model: keras.Model) -> list[GateLSTM]:
    """The model's GateLSTM layers, in order (a bidirectional one's forward, then backward)."""
    return [layer for _, layer in _fed_gate_layers(model)]


def _fed_gate_layers(model: keras.Model) -> list[tuple[keras.layers.Layer, GateLSTM]]:
    """`(fed, layer)` of each GateLSTM layer: `fed` is the model's layer whose input it reads,
    itself or the `keras.layers.Bidirectional` that wraps it."""
    found = []
    for layer in model.layers:
        if isinstance(layer, GateLSTM):
            found.append((layer, layer))
        elif isinstance(layer, keras.layers.Bidirectional):
            for inner in (layer.forward_layer, layer.backward_layer):
                if isinstance(inner, GateLSTM):
                    found.append((layer, inner))
    return found


def trace_layer(layer: GateLSTM, sequences: np.ndarray) -> GateTrace:
    """Runs `layer`'s cell over `sequences` `(windows, time, input_dim)`, keeping every gate.

    Starts from zero states and ignores masks; a `go_backwards` layer reads the sequence from
    its end, and its trace is turned back into input time order.
    """
    sequences = np.asarray(sequences, dtype="float32")
    if not layer.built:
        layer.build((None, *sequences.shape[1:]))
    if layer.go_backwards:
        sequences = sequences[:, ::-1]
    windows, steps, _ = sequences.shape
    states = layer.cell.get_initial_state(batch_size=windows)
    kept = {name: [] for name in "ifgoch"}
    for t in range(steps):
        step = layer.cell.step(sequences[:, t], states, training=False)
        states = [step["h"], step["c"]]
        shape = (windows, layer.units)
        for name in kept:  # a removed gate is the number 1.0: make it an array of ones
            kept[name].append(np.broadcast_to(keras.ops.convert_to_numpy(step[name]), shape))
    arrays = {name: np.stack(values, axis=1) for name, values in kept.items()}
    if layer.go_backwards:
        arrays = {name: values[:, ::-1] for name, values in arrays.items()}
    return GateTrace(
        layer=layer.name,
        variant=layer.variant,
        input_gate=arrays["i"],
        forget_gate=arrays["f"],
        output_gate=arrays["o"],
        candidate=arrays["g"],
        cell=arrays["c"],
        hidden=arrays["h"],
    )


def trace_gates(model: keras.Model, windows: np.ndarray) -> list[GateTrace]:
    """The gates of every GateLSTM layer of `model` on model inputs `(windows, time, features)`.

    Each layer is fed what it receives inside the model (the previous layers' outputs).
    """
    traces = []
    for wrapper, layer in _fed_gate_layers(model):
        fed = wrapper.input
        if isinstance(fed, list | tuple):  # a masked input is [sequences, mask]
            fed = fed[0]
        feed = keras.Model(model.inputs, fed)
        sequences = keras.ops.convert_to_numpy(feed([np.asarray(windows)], training=False))
        traces.append(trace_layer(layer, sequences))
    return traces


def plot_gates(traces: list[GateTrace], path, window: int = -1, title: str | None = None) -> None:
    """Heatmaps of i, f, o, c and h over time and units for one window, per layer, and the mean
    forget gate over time across all windows; written as a PNG to `path`.

    Args:
        traces: from `trace_gates`.
        window: which window's heatmaps to draw (default: the last).
        title: the figure's title; default: which window.
    """
    panels = [
        ("input_gate", "input gate i", "viridis", (0, 1)),
        ("forget_gate", "forget gate f", "viridis", (0, 1)),
        ("output_gate", "output gate o", "viridis", (0, 1)),
        ("cell", "cell state c", "RdBu_r", None),
        ("hidden", "hidden state h", "RdBu_r", None),
    ]
    rows = len(traces)
    fig = Figure(figsize=(3.2 * (len(panels) + 1), 0.6 + 3.0 * rows))
    axes = fig.subplots(rows, len(panels) + 1, squeeze=False)
    # placed by hand: matplotlib's automatic layouts take seconds with this many colorbars
    fig.subplots_adjust(
        left=0.035,
        right=0.99,
        bottom=0.4 / (0.6 + 3 * rows),
        top=1 - 0.5 / (0.6 + 3 * rows),
        wspace=0.35,
        hspace=0.45,
    )
    for row, trace in zip(axes, traces, strict=True):
        steps, units = trace.forget_gate.shape[1:]
        extent = (0.5, steps + 0.5, units - 0.5, -0.5)  # columns are time steps 1..steps
        for ax, (field, label, cmap, limits) in zip(row, panels, strict=False):
            values = getattr(trace, field)[window].T  # (units, time)
            if limits is None:
                bound = float(np.max(np.abs(values))) or 1.0
                limits = (-bound, bound)
            image = ax.imshow(
                values,
                aspect="auto",
                cmap=cmap,
                vmin=limits[0],
                vmax=limits[1],
                interpolation="nearest",
                extent=extent,
            )
            ax.set_title(f"{trace.layer}: {label}", fontsize=9)
            ax.set_xlabel("time step (oldest -> newest)", fontsize=8)
            ax.set_ylabel("unit", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            fig.colorbar(image, ax=ax, fraction=0.08, pad=0.03)
        forget = trace.forget_gate.mean(axis=2)  # (windows, time): mean over units
        ax = row[-1]
        steps = np.arange(1, steps + 1)
        ax.plot(steps, forget.mean(axis=0), color="C0", label="mean over windows")
        ax.fill_between(
            steps,
            forget.min(axis=0),
            forget.max(axis=0),
            color="C0",
            alpha=0.2,
            label="min-max over windows",
        )
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{trace.layer}: mean forget gate\n(variant: {trace.variant})", fontsize=9)
        ax.set_xlabel("time step", fontsize=8)
        ax.legend(fontsize=7)
    number = window % traces[0].forget_gate.shape[0] if traces else window
    fig.suptitle(title or f"Gates on window {number}", fontsize=10)
    fig.savefig(path, format="png", dpi=90)
