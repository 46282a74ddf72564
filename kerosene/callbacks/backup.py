"""BackupAndRestore: rerun a killed training script and get exactly the uninterrupted result.

A backup is one file, ``<backup_dir>/latest.backup``, holding everything that decides
the rest of the run: model weights and buffers, optimizer state, torch LR schedulers
held by callbacks, the epoch and step to resume at, the data-order seed, the RNG
states (Python, NumPy, torch CPU and CUDA), the epoch's partial batch values, the
History and every callback's ``state_dict()``.

File format: a header line ``KEROSENE-BACKUP``, a JSON line (layout version, size and
SHA-256 of the body) and a body written by ``torch.save`` from tensors and plain
containers only, read back with ``torch.load(weights_only=True)``: no pickle of
arbitrary objects. The file is written through :func:`kerosene.saving.atomic.atomic_write`,
so a kill at any moment leaves the previous backup or the new one, never a mix.

Under torch.distributed the backup is split (see :mod:`.backup_sharded`): rank 0 writes
what every rank holds alike (weights, optimizer, schedulers, position, seed), each rank
writes its own RNG states, partial epoch sums, callbacks' state and buffers, and rank 0
commits the generation once every rank's part is on disk. Every rank restores the
shared part and its own. Under FSDP each rank's part also holds its shards of the
weights and optimizer slots (:mod:`kerosene.saving.backup_fsdp`). At every epoch end a
world-size-independent copy is kept too (:mod:`.backup_resize`): a rerun with another
world size resumes from it at the start of the epoch after the last completed one, with
a notice (the interrupted epoch's progress is dropped).

Order of events, and why (BackupAndRestore is a :class:`~kerosene.callbacks.base.RunRestorer`:
the loop calls it at two fixed points around ``on_train_begin``):

- ``restore_state``, before any callback's ``on_train_begin``: the backup is read and
  checked (layout, checksum, model fingerprint, optimizer class) before anything
  changes; then the weights, optimizer state and every callback's ``load_state_dict``
  are applied, so callbacks that keep a restored state through their ``on_train_begin``
  (CSVLogger, EarlyStopping, ReduceLROnPlateau) see it there. BackupAndRestore then
  moves itself to the end of the running callback list, so that its epoch- and
  batch-end backups hold what every other callback has after that epoch or batch.
- ``restore_position``, once every ``on_train_begin`` has run: a callback whose state
  was reset by its own ``on_train_begin`` (History, a user callback that starts
  ``self.losses = []``) gets its saved state again, and the loop position, the epoch's
  partial logs and the RNG states are applied. With no backup to resume from, a first
  backup is written here, before any epoch.
- a mid-epoch resume restores, in ``on_epoch_begin`` of the resumed epoch (BackupAndRestore
  runs last there), the RNG states the epoch began with, so the epoch's data iterator
  (a sampler, worker seeds) draws what it drew in the interrupted run; the data is moved
  to the resumed step (a DataLoader's indices drawn, a Sequence indexed, a generator read
  and dropped, with a warning: its position cannot be saved), then the RNG states of
  that step are restored. During that epoch ``callback.epoch_resumed`` is true, so a
  callback with per-epoch side effects (LearningRateScheduler) does not apply them twice.
- a backup records the epoch's steps and samples: a mid-epoch backup resumed with another
  ``batch_size`` or data size is refused, naming both.
"""
from __future__ import annotations

import copy
import os

import numpy as np
import torch

from .._user_warning import warn_user
from .. import distributed
from ..errors import BackupError
from ..saving.backup_format import (LAYOUT_VERSION, CorruptBackup, capture_rng, compare_fingerprints, decode,
                                    encode, fingerprint, from_storable, restore_rng, same_state, to_storable)
from ..saving.backup_sharded import ShardedBackupStore, has_sharded_backup, remove_stale_temp_files, shared_name
from ..saving.atomic import check_destination, naming_errors
from ..saving.backup_epoch_copy import remove_epoch_copy
from ..saving.backup_fsdp import fsdp_parts, restore_model_shards, restore_optimizer_state
from ..saving.backup_store import BackupStore
from ..saving.sharded_weights import is_sharded
from ..saving.backup_store import remove_stale_temp_files as remove_single_temp_files
from .backup_resize import agree_on_pointer, finish_resume, resume_from_copy, write_copy
from .backup_objects import (buffers, named_callbacks, optimizer_of, pin_loader_order, restore_callbacks,
                             schedulers, to_cpu)
from .base import Callback, RunRestorer

__all__ = ["BackupAndRestore", "BackupError", "LAYOUT_VERSION", "encode", "decode"]


class BackupAndRestore(Callback, RunRestorer):
    """Back up the whole training state so that rerunning a killed script resumes exactly.

    Rerun the same script after a crash (``kill -9``, out of memory, pre-emption) and
    ``fit`` continues from the last backup, at the exact epoch and batch, with the same
    data order and random numbers: the final weights are bitwise those of a run that
    was never interrupted.

    Args:
        backup_dir: folder for the backup (created if missing). Use a folder per run.
            Under torchrun every rank must be able to read it (shared filesystem across
            machines); each rank restores its own state, rank 0 writes the shared part.
        save_freq: ``'epoch'`` (a backup after every epoch), a positive int ``N`` (a
            backup every ``N`` batches, resumed at the next batch), or ``False`` (never
            write, only restore).
        delete_checkpoint: remove the backup when training ends normally (epochs
            done, or a callback stopped it). It is kept after an error, an interrupt
            or a NaN stop, so the run can be resumed or inspected.
        double_checkpoint: keep the previous backup as ``previous.backup``; a corrupt
            latest backup then falls back to it with a warning instead of an error.

    Example::

        backup = kerosene.callbacks.BackupAndRestore('/tmp/run1_backup', save_freq=100)
        model.fit(x, y, epochs=50, callbacks=[backup])   # rerun the script after a crash
    """

    epoch_log_keys = ()   # reads the epoch logs, writes none

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False):
        super().__init__()
        if isinstance(backup_dir, bytes) or not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore `backup_dir` must be a non-empty folder path, got {backup_dir!r}")
        if not (save_freq == "epoch" or save_freq is False or (
                isinstance(save_freq, (int, np.integer)) and not isinstance(save_freq, bool) and save_freq > 0)):
            raise ValueError(
                f"BackupAndRestore `save_freq` must be 'epoch', a positive integer (batches) or False, got {save_freq!r}")
        for name, value in (("delete_checkpoint", delete_checkpoint), ("double_checkpoint", double_checkpoint)):
            if not isinstance(value, bool):
                raise TypeError(f"BackupAndRestore `{name}` must be True or False, got {value!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq in ("epoch", False) else int(save_freq)
        self.delete_checkpoint = delete_checkpoint
        self.double_checkpoint = double_checkpoint
        self.batches_since_save = 0
        self._pending = None
        self._rng_at_epoch_begin = None
        self._epoch_begin_rng = None
        self._store = None          # the per-rank file layout, under torch.distributed only
        self._generation = 0        # the last distributed backup written or restored
        self._epoch_pointer = None  # epoch.json's record: the epoch-boundary copy (another world size)
        self._epoch_copy_dir = None

    # --- paths -----------------------------------------------------------------------
    @property
    def latest_path(self):
        return BackupStore(self.backup_dir).latest_path

    @property
    def previous_path(self):
        return BackupStore(self.backup_dir).previous_path

    # --- hooks -----------------------------------------------------------------------
    def overrides(self, hook):
        # Batch hooks only when saving by batch: 'epoch' mode costs nothing per step.
        if hook in ("on_train_batch_end", "on_batch_end"):
            return isinstance(self.save_freq, int) and self.save_freq is not False
        return super().overrides(hook)

    def restore_state(self, run):
        loop_state = run
        if self.save_freq is not False:
            check_destination(self.backup_dir, "BackupAndRestore `backup_dir`", folder=True)
        self._store = None
        self._generation = 0
        if distributed.is_distributed():
            self._store = ShardedBackupStore(self.backup_dir, distributed.rank(), distributed.world_size(),
                                             keep_previous=self.double_checkpoint)
            remove_stale_temp_files(self.backup_dir, self._store.rank)
        else:
            remove_single_temp_files(self.backup_dir)
        self.batches_since_save = 0
        self._rng_at_epoch_begin = None
        agree_on_pointer(self)
        payload = self._read_sharded_backup() if self._store is not None else self._read_backup()
        pin_loader_order(loop_state.adapter)
        if payload is not None:
            self._restore_model_and_callbacks(payload, loop_state)
        self._pending = payload
        # Last from now on: epoch- and batch-end backups then hold every other callback's state.
        loop_state.callbacks.move_to_end(self)

    def on_epoch_begin(self, epoch, logs=None):
        if self._rng_at_epoch_begin is not None and epoch == self._rng_at_epoch_begin[0]:
            restore_rng(self._rng_at_epoch_begin[1])
        self._rng_at_epoch_begin = None
        if isinstance(self.save_freq, int) and self.save_freq is not False:
            # Where the RNG stood before the epoch's data iterator drew from it (a DataLoader's
            # sampler or worker seeds): a mid-epoch resume replays the iterator from here.
            self._epoch_begin_rng = capture_rng()

    def on_train_batch_end(self, batch, logs=None):
        self.batches_since_save += 1
        if self.batches_since_save < self.save_freq or self._any_rank(self.model.stop_training):
            return
        loop_state = self._run_state()
        self.batches_since_save = 0
        self._write(loop_state, epoch=loop_state.epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq is False or self._any_rank(self.model.stop_reason == "nan"):
            return   # a NaN stop keeps the last good backup rather than saving NaN weights
        # First the copy another world size can resume from, then this world size's backup.
        write_copy(self, self._run_state(), epoch + 1)
        if self.save_freq == "epoch":
            self._write(self._run_state(), epoch=epoch + 1, step=0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and self.model.stop_reason in ("completed", "stop_training"):
            self.delete_backup()

    def delete_backup(self):
        """Remove the backup files (and the folder when nothing else is in it); rank 0's job under DDP."""
        if self._store is None or self._store.rank == 0:
            remove_epoch_copy(self.backup_dir)
        if self._store is not None:
            # No barrier needed: every rank's last part was on disk before the last commit.
            self._store.delete()
            return
        BackupStore(self.backup_dir).delete()

    def state_dict(self):
        return {"batches_since_save": self.batches_since_save}

    # --- writing ---------------------------------------------------------------------
    def _write(self, loop_state, epoch, step):
        with naming_errors(self.backup_dir, "BackupAndRestore writing the backup in"):
            if self._store is not None:
                self._write_sharded(loop_state, epoch, step)
                return
            BackupStore(self.backup_dir, keep_previous=self.double_checkpoint).write(
                encode(self._snapshot(loop_state, epoch, step)))

    def _write_sharded(self, loop_state, epoch, step):
        stop_training = self._any_rank(self.model.stop_training) if step == 0 else False
        self._generation += 1
        tag = {"generation": self._generation, "world_size": self._store.world}
        fsdp = fsdp_parts(self.model) if is_sharded(self.model) else None
        shared = None
        if self._store.rank == 0:
            shared = encode({**self._shared_state(loop_state, epoch, step, stop_training, fsdp), "sharded": tag})
        own = {**self._rank_state(loop_state, step), "sharded": {**tag, "rank": self._store.rank},
               "buffers": buffers(self.model)}
        if fsdp is not None:
            own["fsdp_shards"] = {"model": fsdp["model_shards"], "optimizer": fsdp["optimizer_shards"]}
        self._store.write(shared, encode(own), self._generation)

    def _any_rank(self, flag):
        """``flag`` agreed over the ranks (true when true on any): every rank must take the same path to a write."""
        if self._store is None:
            return bool(flag)
        import torch.distributed as torch_dist
        holder = torch.tensor([1.0 if flag else 0.0])
        torch_dist.all_reduce(holder, op=torch_dist.ReduceOp.MAX)
        return bool(holder.item())

    def _snapshot(self, loop_state, epoch, step):
        return {**self._shared_state(loop_state, epoch, step, self.model.stop_training),
                **self._rank_state(loop_state, step)}

    def _shared_state(self, loop_state, epoch, step, stop_training, fsdp=None):
        """What is the same on every rank under DDP: weights, optimizer, schedulers, position, seed.

        Under FSDP (``fsdp``: :func:`fsdp_parts`) the weights and optimizer slots that are
        sharded go to each rank's own part instead.
        """
        model = self.model
        optimizer = optimizer_of(model)
        callbacks = named_callbacks(loop_state.callbacks, self)
        if fsdp is not None:
            weights, optimizer_state = fsdp["model"], fsdp["optimizer"]
        else:
            weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            optimizer_state = to_cpu(optimizer.state_dict()) if optimizer is not None else None
        return {
            "layout": LAYOUT_VERSION,
            "fingerprint": fingerprint(model),
            "model": weights,
            "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
            "optimizer": optimizer_state,
            "schedulers": {name: to_storable(s.state_dict()) for name, s in schedulers(callbacks).items()},
            "loss_scaler": dict(loop_state.loss_scaler.state_dict()) if loop_state.loss_scaler is not None else {},
            "loop": {
                "epoch": int(epoch), "step": int(step), "seed": int(loop_state.seed),
                "steps": loop_state.adapter.steps, "samples": loop_state.adapter.samples,
                "stop_training": bool(stop_training) and step == 0,
                "stop_reason": model.stop_reason if step == 0 else None,
            },
        }

    def _rank_state(self, loop_state, step):
        """What one process owns: RNG states, partial epoch sums, data adapter, callbacks' state.

        Callbacks' state is per rank because batch logs are: a callback that keeps
        batch values holds that rank's own.
        """
        callbacks = named_callbacks(loop_state.callbacks, self)
        return {
            "rng": capture_rng(),
            "rng_epoch_begin": self._epoch_begin_rng if step else None,
            "aggregator": loop_state.aggregator.state_dict() if step else None,
            "adapter": to_storable(loop_state.adapter.state_dict()) if hasattr(loop_state.adapter, "state_dict") else {},
            "callbacks": {name: to_storable(cb.state_dict()) for name, cb in callbacks.items()},
            "own": to_storable(self.state_dict()),
        }

    # --- reading and restoring ---------------------------------------------------------
    def _read_backup(self):
        """The backup's content, checked against this model; None when there is none."""
        if has_sharded_backup(self.backup_dir):
            return resume_from_copy(self,
                f"The backup in {self.backup_dir!r} was written by a torch.distributed run but this run is a "
                "single process; resume with the world size that wrote it, or delete the folder to start over")
        return BackupStore(self.backup_dir).read(self._check_compatible) or resume_from_copy(self, None)

    def _read_sharded_backup(self):
        """The backup for this rank under torch.distributed (shared part + own part); None when none.

        Every rank reads, then all agree: a part missing or corrupt on any rank makes
        every rank move to the previous generation (``double_checkpoint``) or fail alike.
        """
        store = self._store
        commit = store.committed()
        if commit is None:
            if os.path.exists(self.latest_path) or os.path.exists(self.previous_path):
                return resume_from_copy(self,
                    f"The backup in {self.backup_dir!r} was written by a single process but this run has "
                    f"{store.world} processes; resume with the world size that wrote it, or delete the folder")
            return resume_from_copy(self, None)
        if "error" in commit:
            raise BackupError(f"{commit['error']}; delete {self.backup_dir!r} to start the training over")
        if commit["world_size"] != store.world:
            return resume_from_copy(self,
                f"The backup in {self.backup_dir!r} was written by {commit['world_size']} processes but this run "
                f"has {store.world}; every rank restores its own state, so resume with "
                f"--nproc_per_node/--nnodes giving {commit['world_size']} processes, or delete the folder")
        generation = commit["generation"]
        candidates = [generation] + ([generation - 1] if self.double_checkpoint and generation > 1 else [])
        problems = []
        for candidate in candidates:
            payload, status = None, None
            try:
                payload = store.read_payload(candidate)
                self._check_compatible(payload, store.path(shared_name(candidate)))
            except (OSError, CorruptBackup) as exc:
                status = ("corrupt", str(exc))
            except BackupError as exc:
                status = ("refused", str(exc))
            statuses = store.gather(status)
            refused = [(r, s[1]) for r, s in enumerate(statuses) if s is not None and s[0] == "refused"]
            if refused:
                raise BackupError(status[1] if status is not None and status[0] == "refused"
                                  else f"rank {refused[0][0]} refused the backup: {refused[0][1]}")
            broken = [f"rank {r}: {s[1]}" for r, s in enumerate(statuses) if s is not None]
            if not broken:
                if problems and store.rank == 0:
                    warn_user(f"{problems[0]}; resuming from the older backup generation {candidate}",
                              RuntimeWarning)
                self._generation = candidate
                return payload
            problems.append("; ".join(broken))
        raise BackupError(
            f"{'; '.join(problems)}. Delete {self.backup_dir!r} to start the training over "
            "(double_checkpoint=True keeps an older backup to fall back on)")

    def _check_compatible(self, payload, path):
        differences = compare_fingerprints(payload["fingerprint"], fingerprint(self.model))
        if differences:
            raise BackupError(
                f"The backup {path} was written for a different model ({differences}); "
                f"delete {self.backup_dir!r} or give this run its own backup_dir")
        optimizer = optimizer_of(self.model)
        saved = payload["optimizer_class"]
        here = type(optimizer).__name__ if optimizer is not None else None
        if saved != here:
            raise BackupError(
                f"The backup {path} was written with optimizer {saved} but this model uses {here}; "
                f"delete {self.backup_dir!r} or give this run its own backup_dir")
        loop_state = self._run_state()
        saved = payload["loop"]
        steps, samples = loop_state.adapter.steps, loop_state.adapter.samples
        if saved["step"] and "steps" in saved and (saved["steps"], saved["samples"]) != (steps, samples):
            raise BackupError(
                f"The backup {path} stopped at step {saved['step']} of an epoch of {saved['steps']} steps over "
                f"{saved['samples']} samples, but this run's epochs have {steps} steps over {samples} samples "
                "(another batch_size, steps_per_epoch or data size): the saved position means nothing here. "
                f"Rerun with the data and batch_size of the interrupted run, or delete {self.backup_dir!r} "
                "to start over")
        epochs = loop_state.epochs
        if payload["loop"]["epoch"] > epochs:
            raise BackupError(
                f"The backup {path} is at epoch {payload['loop']['epoch']} but fit(epochs={epochs}); "
                "pass at least as many epochs as the interrupted run reached")

    def _restore_model_and_callbacks(self, payload, loop_state):
        model = self.model
        shards = payload.get("fsdp_shards")
        optimizer = optimizer_of(model)
        if "epoch_copy" in payload:
            pass   # resume_from_copy loaded the weights and the optimizer
        elif shards is not None:
            model.load_state_dict(payload["model"], strict=False)   # the sharded entries come next
            restore_model_shards(model, shards["model"])
            if optimizer is not None and payload["optimizer"] is not None:
                restore_optimizer_state(optimizer, payload["optimizer"], shards["optimizer"])
        else:
            model.load_state_dict(payload["model"])
            if optimizer is not None and payload["optimizer"] is not None:
                optimizer.load_state_dict(payload["optimizer"])
        scaler = loop_state.loss_scaler
        if scaler is not None and payload.get("loss_scaler"):
            scaler.load_state_dict(payload["loss_scaler"])
        callbacks = named_callbacks(loop_state.callbacks, self)
        restore_callbacks(callbacks, payload["callbacks"], self.latest_path)
        for name, scheduler in schedulers(callbacks).items():
            if name in payload["schedulers"]:
                scheduler.load_state_dict(from_storable(payload["schedulers"][name]))
        super().load_state_dict(from_storable(payload["own"]))

    def restore_position(self, run):
        payload, self._pending = self._pending, None
        loop_state = run
        if payload is None:
            if self.save_freq is not False:
                # A first backup before any epoch: a kill before the first epoch's backup then resumes
                # with the files callbacks write (CSV rows, TensorBoard points) as they were here.
                write_copy(self, loop_state, loop_state.start_epoch)
                self._write(loop_state, loop_state.start_epoch, 0)
            return
        if "epoch_copy" in payload:
            finish_resume(self, payload, loop_state)
            return
        model = self.model
        # Callbacks that reset themselves in on_train_begin (History...) get their state again.
        for name, cb in named_callbacks(loop_state.callbacks, self).items():
            saved = payload["callbacks"].get(name)
            if saved is not None and not same_state(to_storable(cb.state_dict()), saved):
                cb.load_state_dict(copy.deepcopy(from_storable(saved)))

        loop = payload["loop"]
        loop_state.load_state_dict(loop)
        adapter = loop_state.adapter
        if hasattr(adapter, "load_state_dict"):
            adapter.load_state_dict(from_storable(payload["adapter"]))
        if loop["step"]:
            loop_state.aggregator.load_state_dict(payload["aggregator"], device=loop_state.device)
            # The epoch's data iterator is made and moved to the step under the epoch-begin RNG,
            # then the RNG of the step takes over.
            self._rng_at_epoch_begin = (loop["epoch"], payload.get("rng_epoch_begin") or payload["rng"])
            loop_state.at_resume_position.append(lambda: restore_rng(payload["rng"]))
        else:
            restore_rng(payload["rng"])
        if loop["stop_training"]:
            # The interrupted run had already decided to stop: finish without training more.
            model.stop_training = True
            model.stop_reason = loop["stop_reason"]
            loop_state.finish()

    # --- helpers ---------------------------------------------------------------------
    def _run_state(self):
        if self.run is None:
            raise RuntimeError("BackupAndRestore works inside model.fit(); the training run state is missing")
        return self.run
