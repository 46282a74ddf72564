"""A custom callback that redraws the training curves to a PNG after every epoch.

Open the PNG in an image viewer that reloads on change and watch a long run live.
The callback also keeps every batch's loss (batch logs hold each batch's own value) and
draws it faintly under the epoch curve. Writes `live.png` to $KEROSENE_EXAMPLE_DIR
(default: the current folder).

    python examples/live_plot_callback.py
"""
import os

import numpy as np

import kerosene
from kerosene.datasets import digits
from kerosene.layers import Dense
from kerosene.saving import atomic_write

EPOCHS = int(os.environ.get("KEROSENE_EXAMPLE_EPOCHS", 15))
OUT = os.environ.get("KEROSENE_EXAMPLE_DIR", ".")


class LivePlot(kerosene.callbacks.Callback):
    """Redraw loss and accuracy (train and validation) to `path` at each epoch end.

    Example::

        model.fit(x, y, validation_split=0.2, callbacks=[LivePlot('live.png')])
    """

    def __init__(self, path, metric="accuracy"):
        super().__init__()
        self.path = path
        self.metric = metric

    def on_train_begin(self, logs=None):
        self.epochs = {}
        self.batch_losses = []        # (fractional epoch, loss) for every batch
        self.steps = self.params.get("steps") or 1
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append((self.epoch + (batch + 1) / self.steps, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in logs.items():
            self.epochs.setdefault(key, []).append(value)
        self.draw()

    def draw(self):
        from matplotlib.figure import Figure      # no pyplot: no display needed, no global state
        fig = Figure(figsize=(10, 4), layout="constrained")
        loss_ax, metric_ax = fig.subplots(1, 2)
        xs = np.arange(1, len(self.epochs["loss"]) + 1)
        steps, losses = zip(*self.batch_losses)
        loss_ax.plot(steps, losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="train (each batch)")
        for ax, name in ((loss_ax, "loss"), (metric_ax, self.metric)):
            ax.plot(xs, self.epochs[name], "o-", color="tab:blue", label="train (epoch mean)")
            if "val_" + name in self.epochs:
                ax.plot(xs, self.epochs["val_" + name], "s--", color="tab:orange", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.legend()
        fig.suptitle(f"epoch {len(xs)} of {self.params['epochs']}")
        with atomic_write(self.path) as handle:    # a viewer never sees half an image
            fig.savefig(handle, format="png")


if __name__ == "__main__":
    (x_train, y_train), _ = digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / digits.MAX_PIXEL
    y_train = np.eye(10, dtype="float32")[y_train]

    model = kerosene.Sequential([Dense(32, activation="relu", input_dim=64), Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    path = os.path.join(OUT, "live.png")
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.2, verbose=1,
              callbacks=[LivePlot(path)])
    print(f"live plot: {path}")
