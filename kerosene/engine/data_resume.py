"""What a resumed run can restore of data whose position it does not own.

A DataLoader is moved to a step by drawing its sampler's indices without loading them
(:func:`fast_forward`). A ``Sequence`` travels in the backup through its own
``state_dict()``/``load_state_dict()`` when it has them; one that only shuffles in
``on_epoch_end`` has that hook replayed as many times as the interrupted run called
it. A Python generator's position cannot be saved at all: a resumed run reads and
drops the batches the interrupted run had used, and says so.

Example::

    state = sequence_state(my_sequence, epochs_ended=3)      # {'epochs_ended': 3, ...}
    epochs_ended = restore_sequence(my_sequence, state, epochs_ended=0)
"""
from __future__ import annotations

import torch

from .._user_warning import warn_user

__all__ = ["fast_forward", "sequence_state", "restore_sequence", "warn_generator_resume"]


def fast_forward(loader, iterator, steps):
    """Skip ``steps`` batches of ``loader``'s fresh ``iterator`` by drawing their indices only.

    Possible for a map-style dataset read in the main process: the sampler advances
    exactly as it would have, and the dataset (and any augmentation drawing from the
    global RNG) is not touched for batches already trained on. Returns the number of
    batches skipped (0 when the loader must read them instead).
    """
    if getattr(loader, "num_workers", 0) or isinstance(
            getattr(loader, "dataset", None), torch.utils.data.IterableDataset):
        return 0
    next_index = getattr(iterator, "_next_index", None)  # torch's single-process iterator
    if next_index is None:
        return 0
    skipped = 0
    for _ in range(steps):
        try:
            next_index()
        except StopIteration:
            break
        skipped += 1
    if hasattr(iterator, "_num_yielded"):
        iterator._num_yielded += skipped
    return skipped


def _has_state(sequence):
    return callable(getattr(sequence, "state_dict", None)) and callable(getattr(sequence, "load_state_dict", None))


def _shuffles(sequence):
    """True when the Sequence's class defines an ``on_epoch_end`` that may change what it yields."""
    hook = getattr(type(sequence), "on_epoch_end", None)
    if hook is None:
        return False
    for cls in type(sequence).__mro__:
        if "on_epoch_end" in vars(cls):
            # kerosene's and Keras's base classes define an empty one.
            return not (cls.__name__ == "Sequence" and cls.__module__.split(".")[0] in ("kerosene", "keras"))
    return False


def sequence_state(sequence, epochs_ended):
    """What a backup keeps of a Sequence: how many epochs it ended, and its own state if it has one."""
    state = {"epochs_ended": int(epochs_ended)}
    if _has_state(sequence):
        state["sequence"] = sequence.state_dict()
    return state


def restore_sequence(sequence, state, epochs_ended):
    """Bring ``sequence`` to where the backup's was; returns its ``epochs_ended`` count."""
    saved = int(state.get("epochs_ended", epochs_ended))
    name = type(sequence).__name__
    if "sequence" in state and _has_state(sequence):
        sequence.load_state_dict(state["sequence"])
        return saved
    if "sequence" in state:
        warn_user(f"The backup holds the state of the Sequence {name} but this {name} has no "
                  "load_state_dict(); it starts from its initial state", RuntimeWarning)
        return saved
    if not _shuffles(sequence) or saved <= epochs_ended:
        return saved
    for _ in range(saved - epochs_ended):
        sequence.on_epoch_end()
    warn_user(
        f"The Sequence {name} changes in on_epoch_end but has no state_dict()/load_state_dict(): the resumed "
        f"run replayed its on_epoch_end {saved - epochs_ended} time(s) to catch up with the interrupted run. "
        "That is exact only when on_epoch_end draws no global random numbers; give the Sequence "
        "state_dict() and load_state_dict() (returning and taking its shuffled indices) for an exact resume",
        RuntimeWarning)
    return saved


def warn_generator_resume(consumed):
    warn_user(
        "BackupAndRestore cannot save a Python generator's position: the resumed run reads and drops the "
        f"{consumed} batch(es) the interrupted run had taken from it, from the generator given now. That is exact "
        "only when this generator yields the same batches in the same order as the first one did (no global random "
        "state); use a kerosene.utils.Sequence or a DataLoader for an exact resume", RuntimeWarning)
