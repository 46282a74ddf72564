"""A small fit() run for the DDP tests: the same script in one process or under torchrun.

Usage::

    python -m torch.distributed.run --nproc_per_node=2 --standalone tests/scripts/ddp_train.py OUT
        [--scenario callbacks|stop_on_rank1|fail_on_rank1|fail_on_rank1_then_stop|fail_in_step_on_rank1
                    |fail_in_step_on_rank1_then_stop|kill_rank1|hang_rank1]
        [--batch-size 16] [--epochs 6] [--jit] [--distribute ddp|fsdp]

``callbacks`` trains with ModelCheckpoint, CSVLogger, EarlyStopping and a user
callback; ``stop_on_rank1`` has a callback that sets ``stop_training`` on rank 1 only,
mid-epoch; ``fail_on_rank1`` raises on rank 1 only (``fail_on_rank1_then_stop`` then
SIGSTOPs rank 1 in ``on_train_end``); ``fail_in_step_on_rank1`` (and its ``_then_stop``) raises
on rank 1 before a step, with no per-step stop check, so rank 0 waits inside the step's
collectives (under FSDP, an all-gather issued by FSDP's hooks); ``kill_rank1`` SIGKILLs rank 1
mid-epoch, ``hang_rank1`` SIGSTOPs it; ``--jit`` compiles with ``jit_compile=True``; ``--distribute fsdp`` compiles with
``distribute='fsdp'`` (default ``'ddp'``). Every rank writes
``OUT/rank{R}.json`` (epochs and steps it ran, its history, its final weights) when
fit returns. ``train()`` is imported by the tests for the single-process baseline.
"""
import argparse
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

SAMPLES, VAL_SAMPLES, FEATURES, CLASSES = 203, 50, 8, 3


def make_data():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(CLASSES, FEATURES)) * 2
    labels = rng.integers(0, CLASSES, size=SAMPLES + VAL_SAMPLES)
    x = (centers[labels] + rng.normal(size=(len(labels), FEATURES))).astype("float32")
    y = np.eye(CLASSES, dtype="float32")[labels]
    return (x[:SAMPLES], y[:SAMPLES]), (x[SAMPLES:], y[SAMPLES:])


def make_model(jit=False, distribute="ddp"):
    torch.manual_seed(0)
    model = kerosene.Sequential([
        kerosene.layers.Dense(16, activation="relu", input_dim=FEATURES),
        kerosene.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer=kerosene.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"], device="cpu", jit_compile=jit,
                  distribute=distribute)
    return model


class RunRecorder(cbs.Callback):
    """Counts what this rank ran; on the main process only, appends each epoch to a file."""

    def __init__(self, out):
        super().__init__()
        self.out = out
        self.epochs = []
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        if distributed.is_main_process():
            with open(os.path.join(self.out, "user_epochs.txt"), "a") as f:
                f.write(f"{epoch}\n")


class StopOnRank1(cbs.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if distributed.rank() == 1 and batch == 3 and len(self.model.history.epoch) == 1:
            self.model.stop_training = True


class SignalRank1(cbs.Callback):
    """Rank 1 sends itself ``signum`` mid-epoch: SIGKILL as an out-of-memory kill or a lost
    machine would end it, SIGSTOP as a hung process stops answering."""

    def __init__(self, signum):
        super().__init__()
        self.signum = signum

    def on_train_batch_begin(self, batch, logs=None):
        if distributed.rank() == 1 and batch == 2:
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), self.signum)


class FailOnRank1(cbs.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if distributed.rank() == 1 and batch == 2:
            raise ValueError("boom from rank 1")


class FailBeforeStepOnRank1(cbs.Callback):
    """Rank 1 raises before its third step; with no stop check after each step (this callback
    never stops training), rank 0 goes on into the step's collectives (FSDP's all-gather)."""

    never_stops_training = True

    def on_train_batch_begin(self, batch, logs=None):
        if distributed.rank() == 1 and batch == 2:
            raise ValueError("boom from rank 1")


class StopAtTrainEndOnRank1(cbs.Callback):
    """Rank 1 SIGSTOPs itself in ``on_train_end``: a failing rank slow to get out of ``fit``."""

    def on_train_end(self, logs=None):
        if distributed.rank() == 1:
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGSTOP)


def train(out, scenario="callbacks", batch_size=16, epochs=6, jit=False, distribute="ddp"):
    (x, y), val = make_data()
    model = make_model(jit, distribute)
    recorder = RunRecorder(out)
    callbacks = [recorder]
    if scenario == "callbacks":
        callbacks = [
            cbs.ModelCheckpoint(os.path.join(out, "ckpt-{epoch:02d}.weights.h5"), save_weights_only=True),
            cbs.CSVLogger(os.path.join(out, "log.csv")),
            cbs.EarlyStopping(monitor="val_loss", min_delta=0.5, patience=1),
            recorder,
        ]
    elif scenario == "stop_on_rank1":
        callbacks = [StopOnRank1(), recorder]
    elif scenario == "fail_on_rank1":
        callbacks = [FailOnRank1(), recorder]
    elif scenario == "fail_on_rank1_then_stop":
        callbacks = [FailOnRank1(), StopAtTrainEndOnRank1(), recorder]
    elif scenario == "fail_in_step_on_rank1":
        callbacks = [FailBeforeStepOnRank1()]
    elif scenario == "fail_in_step_on_rank1_then_stop":
        callbacks = [FailBeforeStepOnRank1(), StopAtTrainEndOnRank1()]
    elif scenario in ("kill_rank1", "hang_rank1"):
        callbacks = [SignalRank1(signal.SIGKILL if scenario == "kill_rank1" else signal.SIGSTOP), recorder]
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=val, verbose=0,
                        callbacks=callbacks)
    return {
        "rank": distributed.rank(),
        "world_size": distributed.world_size(),
        "epochs": recorder.epochs,
        "steps": recorder.steps,
        "params": {k: v for k, v in history.params.items() if isinstance(v, (int, float, str, bool))},
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "weights": [w.tolist() for w in model.get_weights()],
        "state_dict_keys": sorted(model.state_dict()),
        "stop_reason": model.stop_reason,
        "evaluate": model.evaluate(val[0], val[1], batch_size=8, verbose=0, return_dict=True),
        "graphs": compiled_graphs(),
    }


def compiled_graphs():
    """The graphs torch.compile built in this process (0 if dynamo was never imported)."""
    if "torch._dynamo" not in sys.modules:
        return 0
    from torch._dynamo.utils import counters  # noqa: E402  (deferred: only a jit run imports dynamo)
    return counters["stats"]["unique_graphs"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--scenario", default="callbacks", choices=["callbacks", "stop_on_rank1", "fail_on_rank1",
                                                                    "fail_on_rank1_then_stop", "fail_in_step_on_rank1",
                                                                    "fail_in_step_on_rank1_then_stop", "kill_rank1",
                                                                    "hang_rank1"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--distribute", default="ddp", choices=["ddp", "fsdp"])
    args = parser.parse_args()
    result = train(args.out, args.scenario, args.batch_size, args.epochs, args.jit, args.distribute)
    with open(os.path.join(args.out, f"rank{result['rank']}.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
