"""The spec's first example, verbatim but for the import."""
import kerosene as keras
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs={}):
        self.losses = []

    def on_batch_end(self, batch, logs={}):
        self.losses.append(logs.get('loss'))


def test_loss_history_example(seeded):
    import numpy as np
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=640)
    centers = rng.random((10, 784)).astype("float32")
    x_train = (centers[labels] + 0.5 * rng.random((640, 784))).astype("float32")
    y_train = np.eye(10, dtype="float32")[labels]

    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

    history = LossHistory()
    model.fit(x_train, y_train, batch_size=128, epochs=20, verbose=0, callbacks=[history])

    assert len(history.losses) == 20 * 5
    # numpy float64, a Python float subclass, as Keras 2's batch logs held numpy scalars
    assert all(isinstance(v, float) and type(v) is np.float64 for v in history.losses)
    first, last = np.mean(history.losses[:5]), np.mean(history.losses[-5:])
    assert last < first * 0.5
