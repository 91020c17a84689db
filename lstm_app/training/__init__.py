"""Training: how a model is fitted (`fit`), fused stacked LSTM layers (`fused`), the speed
options `auto` chooses (`speed`), validation passes in one call (`validation`), exact resume
(`resume`) and a fit inside a run directory (`trainer`)."""
