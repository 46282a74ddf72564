"""Callback dispatch cost per training step, measured on the engine's own dispatch path.

Times the per-step work the loop does for callbacks (the hook check, the lazy batch
logs, the CallbackList call) with 0 callbacks, 10 that override no batch hook, and 10
that override ``on_batch_end`` doing nothing; reports microseconds per step and per
callback. The step itself is left out, so the figures are the framework's overhead.

    python benchmarks/dispatch.py [--steps 200000]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from kerosene.callbacks import Callback, CallbackList
from kerosene.engine.logs import BatchLogs


class NoBatchHooks(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class OnBatchEnd(Callback):
    def on_batch_end(self, batch, logs=None):
        pass


def per_step_seconds(callbacks, steps):
    """The engine's per-step dispatch, as in engine/loop.py's epoch loop."""
    cb_list = CallbackList(callbacks)
    logs = {"loss": torch.tensor(0.5)}
    has_end = cb_list.has("on_train_batch_end")
    start = time.perf_counter()
    for step in range(steps):
        if has_end:
            cb_list.on_train_batch_end(step, BatchLogs(logs, step, 128))
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    cases = {
        "no callbacks": [],
        "10 without batch hooks": [NoBatchHooks() for _ in range(10)],
        "10 overriding on_batch_end": [OnBatchEnd() for _ in range(10)],
    }
    medians = {}
    for _ in range(args.repeats):
        for name, callbacks in cases.items():
            medians.setdefault(name, []).append(per_step_seconds(callbacks, args.steps))
    base = statistics.median(medians["no callbacks"])
    print(f"{'case':30s} {'us/step':>9s} {'added us/step':>14s} {'per callback':>13s}")
    for name, values in medians.items():
        value = statistics.median(values)
        added = value - base
        per_cb = added / 10 if name != "no callbacks" else 0.0
        print(f"{name:30s} {value * 1e6:9.3f} {added * 1e6:14.3f} {per_cb * 1e6:13.3f}")


if __name__ == "__main__":
    main()
