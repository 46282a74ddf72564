"""The Keras callbacks page's first example, "recording loss history", run with kerosene.

The model code is the spec's, word for word, with `keras` replaced by `kerosene`. The
data is scikit-learn's handwritten digits drawn at MNIST's size (28 x 28 = 784 pixels),
so the script needs no download.

    python examples/loss_history.py
"""
import os

import numpy as np

import kerosene as keras
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential

EPOCHS = int(os.environ.get("KEROSENE_EXAMPLE_EPOCHS", 20))


def digits_as_mnist():
    """Digits scaled to 24 x 24 and framed in 28 x 28 like MNIST; flat pixels in [0, 1], one-hot labels."""
    from kerosene.datasets import digits
    (x_train, y_train), (x_test, y_test) = digits.load_data()

    def prepare(images):
        big = images.repeat(3, axis=1).repeat(3, axis=2)                  # 8x8 -> 24x24
        framed = np.pad(big, ((0, 0), (2, 2), (2, 2)))                    # -> 28x28
        return framed.reshape(len(images), 784).astype("float32") / digits.MAX_PIXEL

    return (prepare(x_train), np.eye(10, dtype="float32")[y_train]), (prepare(x_test), np.eye(10, dtype="float32")[y_test])


(x_train, y_train), (x_test, y_test) = digits_as_mnist()


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs={}):
        self.losses = []

    def on_batch_end(self, batch, logs={}):
        self.losses.append(logs.get('loss'))

model = Sequential()
model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

history = LossHistory()
model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=0, callbacks=[history])

print(history.losses)
# outputs
'''
[2.37..., 2.21..., ..., 0.2..., 0.2...]   (one loss per batch: 12 batches x 20 epochs)
'''
print(f"{len(history.losses)} batch losses, from {history.losses[0]:.4f} down to {history.losses[-1]:.4f}")
