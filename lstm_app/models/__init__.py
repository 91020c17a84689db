"""Models: the Keras model built from a config (`build`; the layer types it can name are
registered in `lstm_app.config.schema.LAYER_TYPES`), the gate-equation LSTM (`layers`) and its
variants (`variants`), and its gate traces (`gates`)."""
