"""The variants of the gate-equation LSTM (`GateLSTM(variant=...)`), each with its equations in
one line. The config names them (`lstm_app.config.choices.VARIANT_NAMES`, `gate_lstm`'s
`variant` key), which this module checks on import; `lstm_app.models.layers` implements them;
`docs/equations.md` explains them.
"""

from lstm_app.config.choices import VARIANT_NAMES, check_catalogue

VARIANTS = {
    "vanilla": "the standard LSTM, as keras.layers.LSTM: the equations above",
    "peephole": "i_t = σ(.. + p_i ⊙ c_{t-1}), f_t = σ(.. + p_f ⊙ c_{t-1}), "
    "o_t = σ(.. + p_o ⊙ c_t) (Gers & Schmidhuber 2000)",
    "cifg": "coupled input and forget gate: f_t = 1 - i_t (Greff et al. 2017, CIFG)",
    "no_input_gate": "i_t = 1 (Greff et al. 2017, NIG)",
    "no_forget_gate": "f_t = 1: the cell never forgets, as in the 1997 LSTM (Greff et al., NFG)",
    "no_output_gate": "o_t = 1 (Greff et al. 2017, NOG)",
    "no_input_activation": "g_t = W_c x_t + U_c h_{t-1} + b_c, no tanh (Greff et al., NIAF)",
    "no_output_activation": "h_t = o_t ⊙ c_t, no tanh (Greff et al. 2017, NOAF)",
    "article": "section 4 of the reference article as written: h_t = tanh(W_hx x_t + W_hh "
    "h_{t-1} + b_h); f = σ(W_cx x_t + W_cc C_{t-1} + b_c); i = σ(W_ix x_t + W_ic C_{t-1} + b_i); "
    "C_t = f ⊙ C_{t-1} + i ⊙ h_t; o_t = σ(W_co C_t + W_ch h_t + b_o), the output. h_t is a plain "
    "RNN update that no gate touches, the gates read the cell state instead of h_{t-1}, the "
    "candidate reuses h_t's weights, and o_t gates nothing",
}

check_catalogue("lstm_app.models.variants.VARIANTS", VARIANT_NAMES, VARIANTS)
