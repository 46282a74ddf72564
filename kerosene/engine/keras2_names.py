"""Keras 2's names for training on generators and Sequential's predict helpers, mixed into the Trainer.

Each one calls the modern method (``fit``, ``evaluate``, ``predict``) with the same meaning.

Example::

    model.fit_generator(batches(), steps_per_epoch=10, epochs=2)   # == model.fit(batches(), ...)
    model.predict_classes(x)                                      # argmax of model.predict(x)
    K.gradients(model.total_loss, model.trainable_weights)        # the symbolic loss (engine.symbolic_loss)
"""
from __future__ import annotations

from .._user_warning import warn_user
from ..legacy.interfaces import legacy_support
from .symbolic_loss import symbolic_loss

__all__ = ["Keras2TrainingNames"]


def _require_steps(data, steps, steps_arg, data_arg):
    """Keras 2 refuses a generator without a step count: it would be read forever."""
    if steps is None and hasattr(data, "__next__") and not hasattr(data, "__len__"):
        raise ValueError(f"`{steps_arg}=None` with `{data_arg}` a generator ({type(data).__name__}): a generator "
                         f"has no length, so kerosene cannot know when its epoch ends; give `{steps_arg}` (the "
                         "number of batches to read) or pass a keras.utils.Sequence")


class Keras2TrainingNames:
    """``fit_generator``, ``evaluate_generator``, ``predict_generator``, ``predict_proba``, ``predict_classes``;
    the symbolic ``total_loss``, ``targets`` and ``sample_weights`` of a compiled model.

    Example::

        history = model.fit_generator(generator, steps_per_epoch=5, epochs=1, verbose=0)
    """

    @legacy_support("fit_generator")  # Keras 1 names: samples_per_epoch, nb_epoch, nb_worker...
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's generator training: the same as ``fit(generator, ...)``.

        The generator is read in this process, one batch at a time: ``workers`` and
        ``use_multiprocessing`` are accepted and change nothing.
        """
        _require_steps(generator, steps_per_epoch, "steps_per_epoch", "generator")
        _require_steps(validation_data, validation_steps, "validation_steps", "validation_data")
        if use_multiprocessing and workers > 1 and not any(c.__name__ == "Sequence" for c in type(generator).__mro__):
            warn_user("fit_generator(use_multiprocessing=True, workers>1): kerosene reads a generator in "
                      "this process, one batch at a time, so no worker runs (unlike a Keras Sequence, a "
                      "generator cannot be shared safely); to load in parallel, use a torch DataLoader "
                      "with num_workers", UserWarning)
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    @legacy_support("evaluate_generator")  # Keras 1 names: samples_per_epoch, nb_epoch, nb_worker...
    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        _require_steps(generator, steps, "steps", "generator")
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    @legacy_support("predict_generator")  # Keras 1 names: samples_per_epoch, nb_epoch, nb_worker...
    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        _require_steps(generator, steps, "steps", "generator")
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_proba(self, x, batch_size=32, verbose=0):
        """Keras 2 Sequential: the predicted probabilities (the same as ``predict``)."""
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Keras 2 Sequential: class indices (argmax, or a 0.5 threshold for one output unit)."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # Keras 2's symbolic loss and the placeholders it is fed through (gradient-logging callbacks).
    @property
    def total_loss(self):
        return symbolic_loss(self).total_loss

    @property
    def targets(self):
        return list(symbolic_loss(self).targets)

    @property
    def sample_weights(self):
        return list(symbolic_loss(self).sample_weights)

    @property
    def _feed_inputs(self):
        return list(self.inputs)

    @property
    def _feed_targets(self):
        return self.targets

    @property
    def _feed_sample_weights(self):
        return self.sample_weights
