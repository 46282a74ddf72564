"""The state of one ``fit`` run: where it is, its data-order seed, its data and callbacks.

``fit`` makes one :class:`RunState` and hands it to every callback (``callback.run``).
A callback that resumes a run (BackupAndRestore) is a
:class:`~kerosene.callbacks.base.RunRestorer`: the loop
calls it at two fixed points around ``on_train_begin``; it reads the run with
:meth:`RunState.state_dict` and moves it with :meth:`RunState.load_state_dict`, and the
loop reads the position back at fixed points (the start of the first epoch, and each
epoch's first step).
"""
from __future__ import annotations

__all__ = ["RunState"]


class RunState:
    """Where the training loop is: epoch, step, the data-order seed and the epoch's partial logs.

    Example::

        run = RunState(seed=7, initial_epoch=0, epochs=3)
        run.state_dict()   # {'epoch': 0, 'step': 0, 'seed': 7}
    """

    def __init__(self, seed, initial_epoch, epochs, aggregator=None, adapter=None, callbacks=None,
                 device=None, loss_scaler=None):
        self.seed = seed
        self.epochs = epochs
        self.epoch = initial_epoch
        self.step = 0                 # next step to run within ``epoch``
        self.start_epoch = initial_epoch
        self.start_step = 0
        self.aggregator = aggregator  # the epoch's size-weighted sums (engine/logs.EpochAggregator)
        self.adapter = adapter        # the training data adapter
        self.callbacks = callbacks    # the running CallbackList
        self.device = device
        self.loss_scaler = loss_scaler
        self.last_epoch_logs = None
        self.in_validation = False
        # True from the on_epoch_begin of an epoch a mid-epoch resume lands in to that epoch's end:
        # the interrupted process already ran its on_epoch_begin, so per-epoch side effects
        # (a learning-rate schedule) must not happen twice.
        self.epoch_resumed = False
        self.at_resume_position = []  # functions called once the resumed epoch's data stands at its step

    def state_dict(self):
        """The position and seed as plain data."""
        return {"epoch": int(self.epoch), "step": int(self.step), "seed": int(self.seed)}

    def load_state_dict(self, state):
        """Resume at ``state``'s epoch and step with its seed (the adapter's seed follows)."""
        self.seed = int(state["seed"])
        if hasattr(self.adapter, "seed"):
            self.adapter.seed = self.seed
        self.epoch = self.start_epoch = int(state["epoch"])
        self.step = self.start_step = int(state["step"])

    def positioned(self):
        """Run (once) what waits for the resumed epoch's data to stand at the resumed step."""
        waiting, self.at_resume_position = self.at_resume_position, []
        for function in waiting:
            function()

    def finish(self):
        """Make the loop end before its next epoch (a resumed run that had already stopped)."""
        self.start_epoch = self.epochs

