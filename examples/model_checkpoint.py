"""The Keras callbacks page's second example, "model checkpoints", run with kerosene.

The spec's code with `keras` replaced by `kerosene`; the checkpoint goes to
`$KEROSENE_EXAMPLE_DIR/weights.hdf5` (default: the system's temp folder, as the spec's
`/tmp/weights.hdf5`). Afterwards the best checkpoint is reloaded and scored.

    python examples/model_checkpoint.py
"""
import os
import tempfile

import numpy as np

from kerosene.callbacks import ModelCheckpoint
from kerosene.datasets import digits
from kerosene.layers import Activation, Dense
from kerosene.models import Sequential, load_model

EPOCHS = int(os.environ.get("KEROSENE_EXAMPLE_EPOCHS", 20))
OUT = os.environ.get("KEROSENE_EXAMPLE_DIR", tempfile.gettempdir())

# Digits drawn at MNIST's size (28 x 28 = 784 pixels), so the spec's input_dim=784 fits.
(x_train, y_train), (x_test, y_test) = digits.load_data()
frame = lambda images: np.pad(images.repeat(3, 1).repeat(3, 2), ((0, 0), (2, 2), (2, 2))).reshape(-1, 784) / 16.0
x_train, X_test = frame(x_train).astype("float32"), frame(x_test).astype("float32")
y_train, Y_test = np.eye(10, dtype="float32")[y_train], np.eye(10, dtype="float32")[y_test]

model = Sequential()
model.add(Dense(10, input_dim=784, kernel_initializer='uniform'))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])

'''
saves the model weights after each epoch if the validation loss decreased
'''
checkpointer = ModelCheckpoint(filepath=os.path.join(OUT, 'weights.hdf5'), verbose=1, save_best_only=True)
model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=0, validation_data=(X_test, Y_test), callbacks=[checkpointer])

best = load_model(os.path.join(OUT, 'weights.hdf5'))
loss, accuracy = best.evaluate(X_test, Y_test, verbose=0)
print(f"best checkpoint: val_loss {loss:.4f}, accuracy {accuracy:.2%}")
