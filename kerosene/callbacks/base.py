"""The callback base class and the list that dispatches hooks to callbacks.

A callback is a set of hooks the training loop calls at given stages of ``fit``,
``evaluate`` and ``predict``. Only the engine calls hooks, and only through
:class:`CallbackList`, which calls a hook on the callbacks that override it and on no
one else, so a callback that overrides no batch hook costs nothing per step. A hook
assigned on an instance (``cb.on_batch_end = f``, as mocks and Keras 2 code do) counts
as an override; the list decides who listens when it is made, once per ``fit``.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

__all__ = ["Callback", "CallbackList", "HOOK_NAMES", "RunRestorer"]

# Hook name -> the legacy (Keras 2.2) alias the new hook forwards to by default.
_BATCH_ALIASES = {
    "on_train_batch_begin": "on_batch_begin",
    "on_train_batch_end": "on_batch_end",
}

HOOK_NAMES = (
    "on_train_begin", "on_train_end",
    "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end",
    "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end",
    "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)

_SIMPLE_TYPES = (bool, int, float, str, type(None), numbers.Number)


def _is_plain_data(value, depth=0):
    """True for values a state dict can hold: numbers, strings, arrays and containers of them."""
    if depth > 6:
        return False
    if isinstance(value, _SIMPLE_TYPES) or isinstance(value, np.ndarray):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_plain_data(v, depth + 1) for k, v in value.items())
    return False


class Callback:
    """Base class for callbacks: override the hooks you need.

    ``self.model`` is the model being trained and ``self.params`` the run's parameters
    (``epochs``, ``steps``, ``samples``, ``batch_size``, ``verbose``, ``do_validation``,
    ``metrics``). Hooks receive ``logs`` positionally; batch logs turn their values into
    Python floats only when read, so reading them is what costs a device sync.

    Example::

        class LossHistory(kerosene.callbacks.Callback):
            def on_train_begin(self, logs={}):
                self.losses = []

            def on_batch_end(self, batch, logs={}):
                self.losses.append(logs.get('loss'))
    """

    run = None   # the running fit's RunState (kerosene.engine.run), handed over by fit
    # A class that sets this True never sets stop_training from a batch hook (the progress
    # bar), so under torch.distributed the ranks need not agree on stopping after every
    # step for it; subclasses do not inherit the promise.
    never_stops_training = False
    # The keys this class's on_epoch_end writes into the epoch logs (``()`` for none). None,
    # the default and what a class that does not declare it itself gets, means any key: the
    # callbacks after it cannot tell at on_train_begin which keys the epoch logs will hold.
    epoch_log_keys = None

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    @property
    def epoch_resumed(self):
        """True in the hooks of an epoch that a mid-epoch resume (BackupAndRestore) landed in.

        That epoch's ``on_epoch_begin`` already ran in the interrupted process, and what it
        did to the model (a learning rate set) came back with the backup: a callback with
        per-epoch side effects skips them when this is true.
        """
        return bool(self.run is not None and getattr(self.run, "epoch_resumed", False))

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    # Training hooks.
    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called once when ``fit`` ends, on every exit path, with the last epoch's logs."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch (0-based, absolute)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with the epoch's logs (``val_*`` included)."""

    def on_batch_begin(self, batch, logs=None):
        """Keras 2 name of :meth:`on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2 name of :meth:`on_train_batch_end`."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    # Evaluation and prediction hooks.
    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    # State, so a callback resumes inside checkpoints and backups.
    _state_exclude = ("model", "params", "validation_data", "_validation_data_from_fit", "run")

    def state_dict(self):
        """The callback's resumable state: its attributes that are plain data.

        Numbers, strings, numpy arrays and lists/dicts of them are included; the model,
        params, open files and other objects are not. Override to add more.
        """
        return {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if key not in self._state_exclude and not key.startswith("__") and _is_plain_data(value)
        }

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned."""
        for key, value in state.items():
            setattr(self, key, copy.deepcopy(value))

    def written_epoch_keys(self):
        """The keys this callback's ``on_epoch_end`` may add to the epoch logs: a tuple, or None
        for any key (a callback whose own class does not say)."""
        if "epoch_log_keys" in self.__dict__:
            return self.__dict__["epoch_log_keys"]
        return vars(type(self)).get("epoch_log_keys")

    def overrides(self, hook):
        """True when this callback overrides ``hook`` (or its Keras 2 alias): in its class,
        or by a function assigned on the instance (``cb.on_batch_end = f``)."""
        own = self.__dict__
        if hook in own or getattr(type(self), hook) is not getattr(Callback, hook):
            return True
        alias = _BATCH_ALIASES.get(hook)
        return alias is not None and (alias in own or getattr(type(self), alias) is not getattr(Callback, alias))


class CallbackList:
    """Calls each hook on the callbacks that override it, in list order.

    Which callbacks override which hook is worked out once, when the list is made, so
    dispatch costs one loop over an often-empty tuple.

    Example::

        callbacks = CallbackList([History()], model=model, params={'epochs': 1})
        callbacks.on_train_begin({})
    """

    def __init__(self, callbacks=None, model=None, params=None):
        self.callbacks = list(callbacks or [])
        self.model = model
        self.params = params or {}
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(self.params)
        self._refresh()

    def set_run(self, run):
        """Hand every callback the state of the run (``callback.run``; None once it ends)."""
        for cb in self.callbacks:
            cb.run = run

    def set_validation_data(self, arrays):
        """Hand every callback fit's validation arrays (Keras 2's ``callback.validation_data``).

        Without validation arrays (None), a callback keeps a ``validation_data`` it set
        itself (LR finders evaluate on a held-out set of their own) and loses one an
        earlier fit handed it.
        """
        for cb in self.callbacks:
            if arrays is not None:
                cb.validation_data = cb._validation_data_from_fit = arrays
            elif getattr(cb, "validation_data", None) is getattr(cb, "_validation_data_from_fit", None):
                cb.validation_data = cb._validation_data_from_fit = None

    def move_to_end(self, callback):
        """Make ``callback`` the last one called from now on (BackupAndRestore after restoring)."""
        if self.callbacks and self.callbacks[-1] is callback:
            return
        self.callbacks.remove(callback)
        self.callbacks.append(callback)
        self._refresh()

    def _refresh(self):
        self._by_hook = {
            hook: tuple(cb for cb in self.callbacks if cb.overrides(hook)) for hook in HOOK_NAMES
        }
        for hook, listeners in self._by_hook.items():
            setattr(self, "_" + hook, listeners)

    def append(self, callback):
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        callback.set_params(self.params)
        self._refresh()

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def has(self, hook):
        """True when at least one callback overrides ``hook``."""
        return bool(self._by_hook[hook])

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _make_dispatcher(hook, takes_index):
    listeners = "_" + hook
    if takes_index:
        def dispatch(self, index, logs=None):
            for cb in getattr(self, listeners):
                getattr(cb, hook)(index, logs)
    else:
        def dispatch(self, logs=None):
            for cb in getattr(self, listeners):
                getattr(cb, hook)(logs)
    dispatch.__name__ = hook
    dispatch.__doc__ = f"Call ``{hook}`` on every callback that overrides it."
    return dispatch


for _hook in HOOK_NAMES:
    setattr(CallbackList, _hook, _make_dispatcher(_hook, "epoch" in _hook or "batch" in _hook))
CallbackList.on_batch_begin = CallbackList.on_train_batch_begin
CallbackList.on_batch_end = CallbackList.on_train_batch_end


class RunRestorer:
    """What a callback that moves a ``fit`` run to a saved state provides; the loop calls it at fixed points.

    ``restore_state(run)`` runs before any callback's ``on_train_begin`` (weights,
    optimizer, every callback's saved state, so a callback can keep it through its
    ``on_train_begin``); ``restore_position(run)`` runs once every ``on_train_begin`` has
    run (callbacks that reset themselves there get their state again; the run's position,
    partial epoch sums and RNG states). With several restorers, each phase runs them in
    the order of the callback list.

    Example::

        class FromStep(Callback, RunRestorer):
            def restore_state(self, run):
                pass
            def restore_position(self, run):
                run.load_state_dict({"epoch": 2, "step": 0, "seed": run.seed})
    """

    def restore_state(self, run):
        """Before any ``on_train_begin``: bring back the model's and the callbacks' state."""

    def restore_position(self, run):
        """After every ``on_train_begin``: bring back the run's position."""
