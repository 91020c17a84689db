"""Training: how a model is fitted (`fit`), fused stacked LSTM layers (`fused`), exact resume
(`resume`) and a fit inside a run directory (`trainer`)."""
