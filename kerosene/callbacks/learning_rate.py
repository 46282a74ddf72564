"""Callbacks that set the learning rate: ReduceLROnPlateau and LearningRateScheduler.

Both log the learning rate used during each epoch under ``lr`` (Keras 2) and
``learning_rate`` (Keras 3). When two of them are in one ``fit``, the second to start
warns once, at ``on_train_begin``, saying which one's value wins.
"""
from __future__ import annotations

import inspect
import math
import numbers

import numpy as np
import torch

from .._user_warning import warn_user
from .. import distributed
from .base import Callback
from .monitor import (Improvement, check_monitor_name, check_non_negative_int, check_number,
                      misspelt_monitor_error, monitor_presence, read_monitor, resolve_mode,
                      warn_monitor_missing)

__all__ = ["ReduceLROnPlateau", "LearningRateScheduler", "get_learning_rate", "set_learning_rate"]

# Relative tolerance under which a learning rate counts as already at ``min_lr``:
# 0.1 * 0.1 is 0.010000000000000002, which must not "reduce" again to 0.01.
_FLOOR_RTOL = 1e-6


def _optimizer_of(model, owner):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not any(hasattr(optimizer, a) for a in ("learning_rate", "param_groups", "lr")):
        raise ValueError(f"{owner} needs a compiled model whose optimizer has a learning rate "
                         f"(`learning_rate`, `lr` or torch param groups), got optimizer {optimizer!r}")
    return optimizer


def _rate_attribute(optimizer):
    """Where the rate lives: ``learning_rate``, Keras 2's ``lr``, or None (torch param groups)."""
    for name in ("learning_rate", "lr"):
        if hasattr(optimizer, name):
            return name
    return None


def get_learning_rate(optimizer):
    """The optimizer's learning rate (its first param group's) as a Python float."""
    name = _rate_attribute(optimizer)
    if name is not None:
        value = getattr(optimizer, name)
        return float(value.item() if hasattr(value, "item") else value)
    return float(optimizer.param_groups[0]["lr"])


def set_learning_rate(optimizer, value):
    """Set the learning rate of every param group of ``optimizer`` to ``value``.

    A rate held in a tensor (Keras 2's ``lr = K.variable(...)``) is written in place.
    """
    name = _rate_attribute(optimizer)
    if name is not None:
        current = getattr(optimizer, name)
        if isinstance(current, torch.Tensor):
            with torch.no_grad():
                current.fill_(float(value))
        else:
            setattr(optimizer, name, float(value))
        return
    for group in optimizer.param_groups:
        group["lr"] = float(value)


def _group_rates(optimizer):
    return [float(g["lr"]) for g in getattr(optimizer, "param_groups", [])]


# --- the two-setters warning ----------------------------------------------------------------
# When each kind of setter acts, in the order it acts within an epoch: the later wins.
_WHEN_ORDER = {"epoch_end": 0, "epoch_begin": 1, "batch": 2}
_WHEN_WORDS = {"epoch_end": "at the end of each epoch", "epoch_begin": "at the start of each epoch",
               "batch": "after every batch"}


def warn_on_rival_lr_setters(callback):
    """Warn once per fit when more than one callback of the run sets the learning rate.

    The first setter in the run's callback list warns, from its ``on_train_begin``; a
    callback used outside ``fit`` (no ``run``) has no rivals to look at.
    """
    run = getattr(callback, "run", None)
    if run is None or run.callbacks is None:
        return
    setters = [(cb, cb.lr_setting_time()) for cb in run.callbacks
               if isinstance(cb, (ReduceLROnPlateau, LearningRateScheduler))]
    if len(setters) < 2 or setters[0][0] is not callback:
        return
    # Ties go to the later callback in the list: it acts after the earlier one.
    order = sorted(enumerate(setters), key=lambda item: (_WHEN_ORDER[item[1][1]], item[0]))
    winner, winner_when = order[-1][1]
    names = [type(cb).__name__ for cb, _ in setters]
    others = [f"{type(cb).__name__} ({_WHEN_WORDS[w]})" for cb, w in setters if cb is not winner]
    warn_user(
        f"{' and '.join(names)} both set the learning rate in this fit. {type(winner).__name__} sets it "
        f"last ({_WHEN_WORDS[winner_when]}), so its value wins and overwrites what "
        f"{', '.join(others)} set" + (
            "; a schedule written as schedule(epoch, lr) builds on the current rate instead"
            if isinstance(winner, LearningRateScheduler) and not winner._is_torch else "") + ".",
        UserWarning)


# --- ReduceLROnPlateau -------------------------------------------------------------------------
class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    After ``patience`` epochs in a row without an improvement larger than ``min_delta``
    the learning rate of every param group becomes ``max(lr * factor, min_lr)``; then
    ``cooldown`` epochs pass before counting starts again. A rate already at
    ``min_lr`` is left alone (and no message is printed). The rate used during each
    epoch is written to the epoch logs as ``lr`` and ``learning_rate``.

    ``state_dict()`` holds ``wait``, ``cooldown_counter`` and ``best``.

    A ``monitor`` the logs lack: ``val_acc`` and ``val_accuracy`` (and Keras 2's other
    short names) find the same entry. A name no compiled metric logs is said at train begin,
    since another callback may still write it. If it is still absent at the end of the
    first epoch and looks like a misspelt logged key (``'vall_loss'``, ``'los'``), that is a
    ``ValueError``; any other absent name (``val_loss`` without validation, say) is skipped
    with Keras 2's warning each epoch, and a ``val_*`` name logged only on validation
    epochs (``validation_freq`` > 1) skips the others quietly.

    Example::

        reduce_lr = ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=5, min_lr=0.001)
        model.fit(x, y, validation_split=0.2, callbacks=[reduce_lr])
    """

    epoch_log_keys = ("lr", "learning_rate")

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        owner = "ReduceLROnPlateau"
        if "epsilon" in kwargs:
            warn_user("ReduceLROnPlateau: `epsilon` argument is deprecated and will be removed, use "
                      "`min_delta` instead.", UserWarning)
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau() got an unexpected keyword argument {sorted(kwargs)[0]!r}")
        self.monitor = check_monitor_name(monitor, owner)
        factor = check_number("factor", factor, owner)
        # factor=0 would set every rate to min_lr (0 by default) at the first plateau: training silently stops.
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0 (or <= 0): `factor` must be "
                             f"in (0, 1), got {factor!r}")
        self.factor = factor
        self.patience = check_non_negative_int("patience", patience, owner)
        self.verbose = check_non_negative_int("verbose", int(verbose) if isinstance(verbose, bool) else verbose, owner)
        self.mode = resolve_mode(mode, monitor, owner)
        self.min_delta = abs(check_number("min_delta", min_delta, owner))
        self.cooldown = check_non_negative_int("cooldown", cooldown, owner)
        self.min_lr = check_number("min_lr", min_lr, owner, low=0.0)
        self._improves = Improvement(self.mode, self.min_delta)
        self._presence = "unknown"
        self._monitor_read = False
        self._reset()

    def _reset(self):
        self.best = self._improves.worst
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        _optimizer_of(self.model, "ReduceLROnPlateau")
        self._reset()
        self._presence = monitor_presence(self.monitor, self.params, "ReduceLROnPlateau", callback=self)
        self._monitor_read = False
        warn_on_rival_lr_setters(self)

    def lr_setting_time(self):
        """When this callback sets the learning rate: 'epoch_end'."""
        return "epoch_end"

    def on_epoch_end(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "ReduceLROnPlateau")
        if logs is not None:
            rate = get_learning_rate(optimizer)
            logs["lr"] = rate
            logs["learning_rate"] = rate
        current = read_monitor(logs, self.monitor)
        first, self._monitor_read = not self._monitor_read, True
        if current is None:
            error = misspelt_monitor_error(self.monitor, logs, self.params, "ReduceLROnPlateau") \
                if first and self._presence == "never" else None
            if error is not None:
                raise error
            warn_monitor_missing("Learning rate reduction is", self.monitor, logs, self._presence)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, optimizer, epoch):
        """Scale every param group's rate towards ``min_lr``; False when all are at the floor."""
        rates = _group_rates(optimizer) or [get_learning_rate(optimizer)]
        floor = self.min_lr * (1.0 + _FLOOR_RTOL)
        if all(rate <= floor for rate in rates):
            return False
        new_rates = [max(rate * self.factor, self.min_lr) if rate > floor else rate for rate in rates]
        if len(set(new_rates)) == 1:
            set_learning_rate(optimizer, new_rates[0])
        else:
            for group, rate in zip(optimizer.param_groups, new_rates):
                group["lr"] = rate
        if self.verbose > 0 and distributed.is_main_process():
            print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate to {new_rates[0]}.")
        return True

    def state_dict(self):
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter, "best": self.best}

    def load_state_dict(self, state):
        """Restore the counters; call it after ``on_train_begin`` (as BackupAndRestore does), which resets them."""
        self.wait = int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.best = float(state["best"])


# --- LearningRateScheduler ---------------------------------------------------------------------
_INTERVALS = ("epoch", "batch")


class LearningRateScheduler(Callback):
    """Set the learning rate from a schedule: a function of the epoch, or a torch scheduler.

    ``schedule(epoch)`` or ``schedule(epoch, lr)`` (``epoch`` 0-based and absolute,
    ``lr`` the current rate) is called at the start of each epoch and must return a
    number >= 0; the rate of every param group is set to it. A
    ``torch.optim.lr_scheduler`` scheduler built on ``model.optimizer`` is accepted too
    and stepped after every epoch (``interval='epoch'``) or every batch
    (``interval='batch'``). The rate used during each epoch is logged as ``lr`` and
    ``learning_rate``.

    Example::

        def schedule(epoch, lr):
            return lr if epoch < 10 else lr * 0.9

        model.fit(x, y, epochs=20, callbacks=[LearningRateScheduler(schedule, verbose=1)])

        # or a torch scheduler stepped per batch
        model.compile(optimizer='sgd', loss='mse')
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(model.optimizer, T_max=1000)
        model.fit(x, y, callbacks=[LearningRateScheduler(cosine, interval='batch')])
    """

    epoch_log_keys = ("lr", "learning_rate")

    def __init__(self, schedule, verbose=0, interval="epoch"):
        super().__init__()
        owner = "LearningRateScheduler"
        self._is_torch = isinstance(schedule, torch.optim.lr_scheduler.LRScheduler)
        if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
            raise TypeError("LearningRateScheduler `schedule` cannot be torch's ReduceLROnPlateau, which needs "
                            "the monitored value; use kerosene.callbacks.ReduceLROnPlateau instead")
        if not self._is_torch and not callable(schedule):
            raise TypeError(f"LearningRateScheduler `schedule` must be a function schedule(epoch[, lr]) or a "
                            f"torch.optim.lr_scheduler scheduler, got {type(schedule).__name__} {schedule!r}")
        if interval not in _INTERVALS:
            raise ValueError(f"LearningRateScheduler `interval` must be one of {_INTERVALS}, got {interval!r}")
        if interval == "batch" and not self._is_torch:
            raise ValueError("LearningRateScheduler `interval='batch'` needs a torch.optim.lr_scheduler "
                             "scheduler; a schedule function is called once per epoch")
        self.schedule = schedule
        self.verbose = check_non_negative_int("verbose", int(verbose) if isinstance(verbose, bool) else verbose, owner)
        self.interval = interval
        self._takes_lr = None if self._is_torch else _takes_lr(schedule)
        self._epoch_rate = None

    # The batch hook exists only for torch schedulers stepped per batch.
    def overrides(self, hook):
        if hook in ("on_train_batch_end", "on_batch_end"):
            return self._is_torch and self.interval == "batch"
        return super().overrides(hook)

    def on_train_begin(self, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        if self._is_torch and self.schedule.optimizer is not optimizer:
            raise ValueError("LearningRateScheduler: the torch scheduler was built on another optimizer than "
                             "model.optimizer; create it after compile() with "
                             "torch.optim.lr_scheduler.X(model.optimizer, ...)")
        warn_on_rival_lr_setters(self)

    def lr_setting_time(self):
        """When this callback sets the learning rate: 'batch', 'epoch_end' (a torch scheduler) or 'epoch_begin'."""
        return "batch" if self.interval == "batch" else ("epoch_end" if self._is_torch else "epoch_begin")

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        # A mid-epoch resume brought back the optimizer's rate already scheduled for this epoch.
        if not self._is_torch and not self.epoch_resumed:
            rate = self._call_schedule(epoch, get_learning_rate(optimizer))
            set_learning_rate(optimizer, rate)
        self._epoch_rate = get_learning_rate(optimizer)
        if self.verbose > 0 and distributed.is_main_process():
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {self._epoch_rate}.")

    def _call_schedule(self, epoch, rate):
        if self._takes_lr is None:
            try:
                value = self.schedule(epoch, rate)
            except TypeError:
                value = self.schedule(epoch)
        elif self._takes_lr:
            value = self.schedule(epoch, rate)
        else:
            value = self.schedule(epoch)
        return _check_rate(value, epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.schedule.step()

    def on_epoch_end(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        rate = self._epoch_rate if self._epoch_rate is not None else get_learning_rate(optimizer)
        if self._is_torch and self.interval == "batch":
            rate = get_learning_rate(optimizer)
        if logs is not None:
            logs["lr"] = rate
            logs["learning_rate"] = rate
        if self._is_torch and self.interval == "epoch":
            self.schedule.step()

    def state_dict(self):
        state = {"interval": self.interval}
        if self._is_torch:
            state["scheduler"] = self.schedule.state_dict()
        return state

    def load_state_dict(self, state):
        if self._is_torch and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


def _takes_lr(schedule):
    """True when ``schedule`` accepts (epoch, lr), False when only (epoch), None if unknown."""
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.1)
        return True
    except TypeError:
        pass
    try:
        signature.bind(0)
        return False
    except TypeError:
        raise TypeError(f"LearningRateScheduler `schedule` must accept (epoch) or (epoch, lr), "
                        f"got a callable with signature {signature}") from None


def _check_rate(value, epoch):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif isinstance(value, np.ndarray) and value.size == 1 and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"LearningRateScheduler: the schedule must return a number (float), got "
                         f"{type(value).__name__} {value!r} for epoch {epoch}")
    value = float(value)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"LearningRateScheduler: the schedule must return a finite number >= 0, got "
                         f"{value!r} for epoch {epoch}")
    return value
