"""Serving: the model card (`spec`), the export formats (`formats`, one class each), the
raw-units graph around the model (`graph`), export (`exporter`) and forecasting with an
exported model (`predict`)."""
