"""The five-minute tour (``make demo`` / ``kerosene demo``): the Keras spec's model on real digits.

Trains ``Dense(10) + softmax`` with rmsprop and categorical crossentropy on
scikit-learn's bundled 8x8 digits (64 features, standardised), holding out 20% for validation, with
the Keras progress bar, the spec's ``LossHistory``, ``ModelCheckpoint(save_best_only=True)``
to HDF5, ``CSVLogger`` and ``EarlyStopping``. It then reloads the best checkpoint,
reports its test accuracy and draws the loss and accuracy curves to a PNG.

Example::

    from kerosene.demo import run_demo
    result = run_demo('demo-output', epochs=5, verbose=0)
    result.test_accuracy, result.checkpoint, result.curves
"""
from __future__ import annotations

import dataclasses
import numbers
import os

import numpy as np

from . import callbacks
from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
from .datasets import digits
from .layers import Activation, Dense
from .models import Sequential, load_model
from .utils.plotting import plot_history, read_history_csv, save_figure

__all__ = ["run_demo", "DemoResult", "LossHistory"]

DEFAULT_EPOCHS = 100


def _loss_history_class():

    class LossHistory(callbacks.Callback):
        """The spec's example callback: every batch's loss, in order."""

        def on_train_begin(self, logs={}):
            self.losses = []

        def on_batch_end(self, batch, logs={}):
            self.losses.append(logs.get('loss'))

    return LossHistory


LossHistory = _loss_history_class()


@dataclasses.dataclass
class DemoResult:
    """What the demo produced: file paths, the best checkpoint's test scores and the run's logs.

    Example::

        result = run_demo('out', epochs=3, verbose=0)
        print(f"{result.test_accuracy:.1%}")
    """
    output_dir: str
    checkpoint: str
    csv_log: str
    curves: str
    test_loss: float
    test_accuracy: float
    epochs_run: int
    batch_losses: list
    history: dict


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"run_demo: `{name}` must be an int >= 1, got {value!r}")


def load_digits_features(seed=0):
    """Digits as 64 standardised float features and one-hot labels: ``(x_train, y_train), (x_test, y_test)``.

    Each pixel is centred and scaled with the training set's mean and spread, which lets
    rmsprop converge in a few dozen epochs instead of a few hundred.
    """
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=seed)
    flat = x_train.reshape(len(x_train), -1).astype("float32")
    mean, spread = flat.mean(axis=0), flat.std(axis=0) + 1e-3   # border pixels are always 0

    def features(images):
        return (images.reshape(len(images), -1).astype("float32") - mean) / spread

    def one_hot(labels):
        return np.eye(digits.NUM_CLASSES, dtype="float32")[labels]

    return (features(x_train), one_hot(y_train)), (features(x_test), one_hot(y_test))


def spec_model(input_dim=64):
    """The model of the Keras callbacks page: one Dense layer and a softmax, rmsprop."""
    model = Sequential(name="spec_model")
    model.add(Dense(10, input_dim=input_dim, kernel_initializer="uniform"))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def run_demo(output_dir="kerosene-demo", epochs=DEFAULT_EPOCHS, batch_size=32, patience=3, seed=0,
             verbose=1, print_fn=print):
    """Train, checkpoint, reload and plot; returns a :class:`DemoResult`.

    Writes ``best.h5`` (the best model by ``val_loss``), ``training.csv`` (one row per
    epoch) and ``curves.png`` into ``output_dir``. ``verbose`` is passed to ``fit``
    (1: progress bar, 2: one line per epoch, 0: silent); ``print_fn`` receives the
    summary lines (``None`` to print nothing).

    Example::

        run_demo('demo-output', epochs=10)
    """
    import torch

    _check_positive_int(epochs, "epochs")
    _check_positive_int(batch_size, "batch_size")
    if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
        raise ValueError(f"run_demo: `patience` must be an int >= 0, got {patience!r}")
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"run_demo: `output_dir` must be a path, got {type(output_dir).__name__}: {output_dir!r}")
    say = print_fn or (lambda *args: None)
    output_dir = os.fspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    checkpoint = os.path.join(output_dir, "best.h5")
    csv_log = os.path.join(output_dir, "training.csv")
    curves = os.path.join(output_dir, "curves.png")

    # A 650-weight model gains nothing from intra-op threads, and on a busy machine the
    # threads fight for cores (measured: 5x slower on 2 shared cores), so use one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_and_report(output_dir, checkpoint, csv_log, curves, epochs, batch_size, patience, seed,
                                 verbose, say)
    finally:
        torch.set_num_threads(threads)


def _train_and_report(output_dir, checkpoint, csv_log, curves, epochs, batch_size, patience, seed, verbose, say):
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    (x_train, y_train), (x_test, y_test) = load_digits_features(seed)
    say(f"Digits: {len(x_train)} training images (20% of them held out for validation), "
        f"{len(x_test)} test images, {x_train.shape[1]} features each.")
    model = spec_model(x_train.shape[1])
    model.summary(print_fn=say)

    loss_history = LossHistory()
    callbacks = [
        loss_history,
        ModelCheckpoint(filepath=checkpoint, monitor="val_loss", verbose=1 if verbose else 0, save_best_only=True),
        CSVLogger(csv_log),
        # Stop once val_loss has gained less than 0.005 for `patience` epochs in a row.
        EarlyStopping(monitor="val_loss", min_delta=0.005, patience=patience, verbose=1 if verbose else 0),
    ]
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.2,
                        verbose=verbose, callbacks=callbacks)

    best = load_model(checkpoint)
    test_loss, test_accuracy = best.evaluate(x_test, y_test, batch_size=256, verbose=0)
    _draw_curves(csv_log, curves)

    epochs_run = len(history.epoch)
    say("")
    say(f"Trained {epochs_run} epoch(s), {len(loss_history.losses)} batches (LossHistory: first batch loss "
        f"{loss_history.losses[0]:.4f}, last {loss_history.losses[-1]:.4f}).")
    say(f"Best checkpoint {checkpoint}: test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
    say(f"Epoch log: {csv_log}")
    say(f"Curves:    {curves}")
    return DemoResult(output_dir=output_dir, checkpoint=checkpoint, csv_log=csv_log, curves=curves,
                      test_loss=float(test_loss), test_accuracy=float(test_accuracy), epochs_run=epochs_run,
                      batch_losses=list(loss_history.losses), history=dict(history.history))


def _draw_curves(csv_log, curves):
    """Loss and accuracy panels from the CSV log, with the epoch of the best checkpoint marked."""
    epochs, logs = read_history_csv(csv_log)
    best_epoch = epochs[int(np.nanargmin(logs["val_loss"]))] + 1
    fig = plot_history(csv_log, metrics=["loss", "accuracy"],
                       title="Spec model (Dense + softmax, rmsprop) on the digits")
    for ax in fig.axes:
        ax.axvline(best_epoch, color="gray", linestyle=":", label=f"best checkpoint (epoch {best_epoch})")
        ax.legend()
    save_figure(fig, curves)
    return fig
