"""Models: the layer types a config can name (`registry`), the Keras model built from a
config (`build`), the gate-equation LSTM (`layers`) and its gate traces (`gates`)."""
