"""Gate inspection: the trace replays exactly what the layer computes, in input time order."""

import keras
import numpy as np
import pytest

from lstm_app.models.gates import gate_layers, plot_gates, trace_gates, trace_layer
from lstm_app.models.layers import VARIANTS, GateLSTM

WINDOWS, STEPS, FEATURES, UNITS = 3, 6, 2, 4


def _windows(seed=0):
    return np.random.default_rng(seed).normal(size=(WINDOWS, STEPS, FEATURES)).astype("float32")


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_trace_replays_the_layer_output_at_every_step(variant, go_backwards):
    layer = GateLSTM(UNITS, variant=variant, return_sequences=True, go_backwards=go_backwards)
    x = _windows()
    outputs = np.asarray(layer(x))  # (windows, time, units), in processing order
    trace = trace_layer(layer, x)
    shown = trace.output_gate if variant == "article" else trace.hidden
    if go_backwards:
        shown = shown[:, ::-1]  # the layer returns its sequence in processing order
    np.testing.assert_allclose(shown, outputs, atol=1e-5)
    for field in ("input_gate", "forget_gate", "output_gate", "candidate", "cell", "hidden"):
        assert getattr(trace, field).shape == (WINDOWS, STEPS, UNITS)


def test_cell_state_follows_the_gates():
    trace = trace_layer(GateLSTM(UNITS, return_sequences=True), _windows())
    previous = np.concatenate([np.zeros((WINDOWS, 1, UNITS)), trace.cell[:, :-1]], axis=1)
    expected = trace.forget_gate * previous + trace.input_gate * trace.candidate
    np.testing.assert_allclose(trace.cell, expected, atol=1e-6)
    np.testing.assert_allclose(trace.hidden, trace.output_gate * np.tanh(trace.cell), atol=1e-6)
    assert trace.forget_gate.min() > 0 and trace.forget_gate.max() < 1


def test_removed_gates_show_as_ones_and_cifg_couples_forget_to_input():
    x = _windows()
    assert np.all(trace_layer(GateLSTM(UNITS, variant="no_forget_gate"), x).forget_gate == 1)
    assert np.all(trace_layer(GateLSTM(UNITS, variant="no_output_gate"), x).output_gate == 1)
    cifg = trace_layer(GateLSTM(UNITS, variant="cifg"), x)
    np.testing.assert_allclose(cifg.forget_gate, 1 - cifg.input_gate, atol=1e-7)


def test_trace_gates_feeds_each_layer_what_it_gets_in_the_model(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, FEATURES)),
            keras.layers.Dense(3),
            GateLSTM(UNITS, return_sequences=True),
            GateLSTM(UNITS, variant="peephole"),
            keras.layers.Dense(1),
        ]
    )
    x = _windows()
    traces = trace_gates(model, x)
    assert [t.layer for t in traces] == [layer.name for layer in gate_layers(model)]
    assert [t.variant for t in traces] == ["vanilla", "peephole"]
    first_outputs = keras.Model(model.inputs, model.layers[1].output).predict(x, verbose=0)
    np.testing.assert_allclose(traces[0].hidden, first_outputs, atol=1e-5)
    last_outputs = keras.Model(model.inputs, model.layers[2].output).predict(x, verbose=0)
    np.testing.assert_allclose(traces[1].hidden[:, -1], last_outputs, atol=1e-5)

    plot_gates(traces, tmp_path / "gates.png", title="test")
    assert (tmp_path / "gates.png").read_bytes()[:4] == b"\x89PNG"


def test_model_without_gate_layers_has_no_trace():
    model = keras.Sequential([keras.Input((None, 1)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    assert trace_gates(model, np.zeros((2, 5, 1), "float32")) == []


def test_a_bidirectional_gate_layer_is_traced_both_ways():
    wrapper = keras.layers.Bidirectional(GateLSTM(UNITS, return_sequences=True))
    model = keras.Sequential([keras.Input((None, FEATURES)), wrapper, keras.layers.Dense(1)])
    x = _windows()
    forward, backward = trace_gates(model, x)
    assert (forward.layer, backward.layer) == (
        wrapper.forward_layer.name,
        wrapper.backward_layer.name,
    )
    outputs = keras.Model(model.inputs, wrapper.output).predict(x, verbose=0)  # (.., 2 units)
    np.testing.assert_allclose(forward.hidden, outputs[..., :UNITS], atol=1e-5)
    # the backward layer's outputs, back in input time order, as the trace gives them
    np.testing.assert_allclose(backward.hidden, outputs[..., UNITS:], atol=1e-5)
