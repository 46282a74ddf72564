"""A small convolutional network on the 8x8 digits, with the callbacks a real run uses.

Conv2D -> BatchNormalization -> MaxPooling2D -> Flatten -> Dropout -> Dense, images in
Keras's channels_last layout `(batch, 8, 8, 1)`. Callbacks: ModelCheckpoint (best
model, HDF5), EarlyStopping with restore_best_weights, ReduceLROnPlateau, CSVLogger.
Writes `best_cnn.h5`, `cnn_training.csv` and `cnn_curves.png` to $KEROSENE_EXAMPLE_DIR
(default: ./cnn-digits-output).

    python examples/cnn_digits.py
"""
import os


from kerosene.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from kerosene.datasets import digits
from kerosene.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kerosene.models import Sequential, load_model
from kerosene.utils import plot_history

EPOCHS = int(os.environ.get("KEROSENE_EXAMPLE_EPOCHS", 30))
OUT = os.environ.get("KEROSENE_EXAMPLE_DIR", "cnn-digits-output")
os.makedirs(OUT, exist_ok=True)

(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train[..., None].astype("float32") / digits.MAX_PIXEL     # (n, 8, 8, 1): channels last
x_test = x_test[..., None].astype("float32") / digits.MAX_PIXEL

model = Sequential([
    Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
    BatchNormalization(),
    MaxPooling2D(2),
    Conv2D(32, 3, padding="same", activation="relu"),
    Flatten(),
    Dropout(0.25),
    Dense(10, activation="softmax"),
])
# Integer labels: sparse_categorical_crossentropy, as in Keras.
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

callbacks = [
    ModelCheckpoint(os.path.join(OUT, "best_cnn.h5"), monitor="val_accuracy", save_best_only=True, verbose=1),
    EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True, verbose=1),
    ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, verbose=1),
    CSVLogger(os.path.join(OUT, "cnn_training.csv")),
]
history = model.fit(x_train, y_train, batch_size=64, epochs=EPOCHS, validation_split=0.2, verbose=2,
                    callbacks=callbacks)

best = load_model(os.path.join(OUT, "best_cnn.h5"))
_, accuracy = best.evaluate(x_test, y_test, verbose=0)
print(f"best checkpoint (by val_accuracy): test accuracy {accuracy:.2%}")
plot_history(history, metrics=["loss", "accuracy", "lr"], filepath=os.path.join(OUT, "cnn_curves.png"),
             title="CNN on the digits")
print(f"curves: {os.path.join(OUT, 'cnn_curves.png')}")
