"""A 2-rank training run with BackupAndRestore that can SIGKILL one of its ranks at a chosen point.

Usage::

    python -m torch.distributed.run --nproc_per_node=2 --standalone tests/scripts/ddp_crash_train.py
        WORKDIR [--backup N|epoch|none] [--kill batch:R:K|write:R:K] [--epochs 4]

``batch:R:K`` kills rank R before absolute batch K (epoch * steps + batch) runs;
``write:R:K`` kills rank R right after its own part of the first backup written at
or after batch K is on disk, before the generation is committed (the other rank may
have written its part too: a mix of generations on disk); ``copy:0:K`` kills rank 0 when
the first epoch-boundary copy at or after batch K is on disk but ``epoch.json`` does not
name it yet. torchrun then tears down
the other rank. A kill point this attempt never reaches (it resumed past it) does
nothing. Shuffle, Dropout (each rank seeded differently), validation and CSVLogger
are on. When fit returns, rank 0 writes ``final.pt`` and ``history.json``, each rank
``rank{R}.pt`` (its final weights), and prints ``DONE``. With ``--record-begin`` rank 0
writes ``begin-E.pt`` (the full weights and optimizer slots at each epoch's begin) and prints ``BEGIN E``.
Run without torchrun it is one process (the kill rank is then 0).
"""
import argparse
import contextlib
import json
import os
import signal
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import kerosene  # noqa: E402
from kerosene import callbacks as cbs  # noqa: E402
from kerosene import distributed  # noqa: E402
from kerosene.saving import backup_epoch_copy, backup_sharded  # noqa: E402
from kerosene.layers import Dense, Dropout  # noqa: E402


def die():
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class KillSwitch(cbs.Callback):
    """Kills this process at the chosen point if this is the chosen rank; no state across a resume."""

    def __init__(self, kind, rank, at):
        super().__init__()
        self.kind, self.rank, self.at = kind, rank, at
        self.current_epoch = 0
        self.position = -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.position = self.current_epoch * self.params["steps"] + batch
        if self.kind == "batch" and self.position == self.at and distributed.rank() == self.rank:
            die()

    def state_dict(self):
        return {}


class RecordBegin(cbs.Callback):
    """Rank 0 keeps the full weights each epoch begins with (every rank gathers under FSDP)."""

    def __init__(self, workdir):
        super().__init__()
        self.workdir = workdir

    def on_epoch_begin(self, epoch, logs=None):
        weights = self.model.get_weights()
        slots = {f"slot/{index}/{name}": value.full_tensor() if hasattr(value, "full_tensor") else value
                 for index, state in self.model.optimizer.state_dict()["state"].items()
                 for name, value in state.items()}
        if distributed.rank() == 0:
            torch.save({**{str(i): torch.from_numpy(w) for i, w in enumerate(weights)}, **slots},
                       os.path.join(self.workdir, f"begin-{epoch}.pt"))
            print(f"BEGIN {epoch}", flush=True)

    def state_dict(self):
        return {}


def install_write_trap(switch):
    """Die right after this rank's part of the first backup at or after batch ``switch.at`` is written."""
    real = backup_sharded.atomic_write
    own_part = f"rank-{switch.rank}."

    @contextlib.contextmanager
    def trapped(path, *args, **kwargs):
        with real(path, *args, **kwargs) as handle:
            yield handle
        if os.path.basename(path).startswith(own_part) and switch.position >= switch.at:
            die()

    backup_sharded.atomic_write = trapped


def install_copy_trap(switch):
    """Die just before ``epoch.json`` moves to the first epoch-boundary copy written at or after batch ``switch.at``."""
    real = backup_epoch_copy.atomic_write

    @contextlib.contextmanager
    def trapped(path, *args, **kwargs):
        if os.path.basename(path) == backup_epoch_copy.POINTER and switch.position >= switch.at:
            die()
        with real(path, *args, **kwargs) as handle:
            yield handle

    backup_epoch_copy.atomic_write = trapped


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(190, 6)).astype("float32")
    w = rng.normal(size=(6, 3))
    labels = np.argmax(x @ w + rng.normal(scale=1.5, size=(190, 3)), axis=1)
    return x, np.eye(3, dtype="float32")[labels]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--backup", default="3")
    parser.add_argument("--kill", default="")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--distribute", default="auto", choices=["auto", "fsdp"])
    parser.add_argument("--record-begin", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1234)
    x, y = make_data()
    model = kerosene.Sequential([Dense(32, input_dim=6, activation="relu"), Dropout(0.3),
                                 Dense(3, activation="softmax")])
    model.compile(optimizer=kerosene.optimizers.Adam(learning_rate=0.03), loss="categorical_crossentropy",
                  metrics=["accuracy"], device="cpu", distribute=args.distribute)
    # Each rank draws its own dropout masks: a restore that mixed up the ranks' RNG states would show.
    torch.manual_seed(99 + distributed.rank())
    np.random.seed(99 + distributed.rank())

    callbacks = []
    if args.backup != "none":
        save_freq = "epoch" if args.backup == "epoch" else int(args.backup)
        callbacks.append(cbs.BackupAndRestore(os.path.join(args.workdir, "backup"), save_freq=save_freq))
    callbacks.append(cbs.CSVLogger(os.path.join(args.workdir, "log.csv")))
    kind, rank, at = (args.kill.split(":") + ["", "", ""])[:3] if args.kill else ("", "-1", "-1")
    switch = KillSwitch(kind, int(rank), int(at))
    callbacks.append(switch)
    if args.record_begin:
        callbacks.append(RecordBegin(args.workdir))
    if kind == "write":
        install_write_trap(switch)
    if kind == "copy" and distributed.rank() == int(rank):
        install_copy_trap(switch)

    history = model.fit(x, y, batch_size=10, epochs=args.epochs, validation_split=0.2, shuffle=True,
                        callbacks=callbacks, verbose=0)
    me = distributed.rank()
    # Under FSDP the parameters are shards: get_weights gathers the whole (every rank takes part).
    state = model.state_dict() if args.distribute == "auto" else {
        str(i): torch.from_numpy(w) for i, w in enumerate(model.get_weights())}
    torch.save(state, os.path.join(args.workdir, f"rank{me}.pt"))
    if me == 0:
        torch.save(state, os.path.join(args.workdir, "final.pt"))
        with open(os.path.join(args.workdir, "history.json"), "w") as handle:
            json.dump({"epoch": history.epoch, "history": history.history, "stop_reason": model.stop_reason},
                      handle)
    print(f"DONE rank {me}", flush=True)


if __name__ == "__main__":
    main()
