"""Serving: the model card (`spec`), the raw-units graph around the model (`graph`), export
to each format (`exporter`) and forecasting with an exported model (`predict`)."""
