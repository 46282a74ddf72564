"""A small compiled model and a hook recorder, shared by tests/engine/test_engine_fit_*.py."""
from kerosene.callbacks import Callback
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential


def small_model(input_dim=20, units=3, optimizer="sgd", loss="categorical_crossentropy", metrics=None):
    model = Sequential([Dense(units, input_dim=input_dim), Activation("softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [])
    return model


class Recorder(Callback):
    """Records every hook call with a copy of its logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _rec(self, name, *args):
        logs = args[-1]
        self.calls.append((name,) + tuple(args[:-1]) + (dict(logs) if logs is not None else None,))

    def on_train_begin(self, logs=None): self._rec("train_begin", logs)
    def on_train_end(self, logs=None): self._rec("train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._rec("epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._rec("epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs=None): self._rec("batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs=None): self._rec("batch_end", batch, logs)
    def on_test_begin(self, logs=None): self._rec("test_begin", logs)
    def on_test_end(self, logs=None): self._rec("test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._rec("test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._rec("test_batch_end", batch, logs)
    def on_predict_begin(self, logs=None): self._rec("predict_begin", logs)
    def on_predict_end(self, logs=None): self._rec("predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._rec("predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._rec("predict_batch_end", batch, logs)

    def names(self):
        return [c[0] for c in self.calls]
