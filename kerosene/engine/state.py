"""The loop's own position, shared with the callbacks that need to move it.

``fit`` keeps one :class:`LoopState` on the model (``model._loop_state``) while it runs.
BackupAndRestore reads it to write a backup and writes ``start_epoch``/``start_step``,
``seed`` and the epoch aggregator's contents to resume one; no other code changes it.
"""
from __future__ import annotations

__all__ = ["LoopState"]


class LoopState:
    """Where the training loop is: epoch, step, the data-order seed and the epoch's partial logs.

    Example::

        state = LoopState(seed=7, initial_epoch=0, epochs=3)
        state.start_epoch, state.start_step   # (0, 0)
    """

    def __init__(self, seed, initial_epoch, epochs, aggregator=None, adapter=None):
        self.seed = seed
        self.epochs = epochs
        self.epoch = initial_epoch
        self.step = 0                 # next step to run within ``epoch``
        self.start_epoch = initial_epoch
        self.start_step = 0
        self.aggregator = aggregator
        self.adapter = adapter
        self.last_epoch_logs = None
        self.in_validation = False
        self.callbacks = None         # the running CallbackList
        self.after_train_begin = []   # functions the loop calls once every on_train_begin has run
