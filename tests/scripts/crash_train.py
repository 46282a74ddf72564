"""A small training run that can kill itself with SIGKILL at a chosen point; used by the
BackupAndRestore crash tests and benchmarks/crash_resume.py.

Usage::

    python tests/scripts/crash_train.py WORKDIR [--backup epoch|N|none] [--kill batch:K|write:K|val:E]
                                        [--epochs N] [--monitors] [--case CASE] [--batch-size B] [--jit]

``--kill batch:K`` kills before absolute batch K (epoch * steps + batch) runs,
``write:K`` kills half-way through the first backup write at or after batch K, and
``val:E`` kills inside epoch E's validation, ``epoch_end:E`` after the other callbacks'
``on_epoch_end`` of epoch E and before that epoch's backup. A kill point this process never reaches
(it resumed past it) does nothing. On success the script writes ``final.pt`` (the
model's state dict), ``history.json`` and prints ``DONE``; it prints ``TRAINING`` once
``fit`` has begun, for a parent that kills at a random time. ``--serve`` runs many
attempts from one imported interpreter (see :func:`serve`).

``--case`` picks what feeds and steers the run (see :data:`CASES`): ``arrays`` (numpy
arrays, the default), ``weighted`` (a DataLoader with a WeightedRandomSampler),
``augment`` (an unshuffled DataLoader with a worker whose ``__getitem__`` adds noise),
``generator`` (a Python generator with ``steps_per_epoch``), ``sequence`` (a Sequence
shuffling in ``on_epoch_end``, with ``state_dict``), ``sequence-replay`` (the same
without ``state_dict``, shuffling from its own seeded RandomState) and ``lr`` (arrays
with a LearningRateScheduler decaying every epoch).
"""
import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import torch

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import kerosene  # noqa: E402
from kerosene import callbacks as cbs  # noqa: E402
from kerosene.saving import backup_store as backup_module  # noqa: E402  (where backups are written)
from kerosene.layers import Dense, Dropout  # noqa: E402

STEPS_PER_EPOCH = 12


def optional_callback(name, module):
    """A callback class another module may not ship yet (None then)."""
    found = getattr(cbs, name, None)
    if found is None:
        with contextlib.suppress(ImportError):
            found = getattr(__import__(f"kerosene.callbacks.{module}", fromlist=[name]), name, None)
    return found


CSVLogger = optional_callback("CSVLogger", "csv_logger")
EarlyStopping = optional_callback("EarlyStopping", "early_stopping")
ReduceLROnPlateau = optional_callback("ReduceLROnPlateau", "learning_rate")


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class KillSwitch(cbs.Callback):
    """Kills the process at the chosen point; keeps no state across a resume."""

    def __init__(self, kind, at):
        super().__init__()
        self.kind, self.at = kind, at
        self.position = 0
        self.current_epoch = 0

    def on_train_begin(self, logs=None):
        print("TRAINING", flush=True)

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        absolute = self.current_epoch * STEPS_PER_EPOCH + batch
        self.position = absolute
        if self.kind == "batch" and absolute == self.at:
            die()

    def on_epoch_end(self, epoch, logs=None):
        if self.kind == "epoch_end" and epoch == self.at:   # after CSVLogger's row, before the backup
            die()

    def on_test_batch_end(self, batch, logs=None):
        if self.kind == "val" and self.current_epoch == self.at and batch >= 1:
            die()

    def state_dict(self):
        return {}


def install_write_trap(switch):
    """Make the first backup write at or after batch ``switch.at`` die half-way through."""
    real = backup_module.atomic_write

    @contextlib.contextmanager
    def trapped(path, *args, **kwargs):
        with real(path, *args, **kwargs) as handle:
            if switch.position < switch.at:
                yield handle
                return

            class Torn:
                def write(self, data):
                    handle.write(data[: len(data) // 2])
                    handle.flush()
                    os.fsync(handle.fileno())
                    die()
            yield Torn()

    backup_module.atomic_write = trapped


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 6)).astype("float32")
    w = rng.normal(size=(6, 3))
    labels = np.argmax(x @ w + rng.normal(scale=1.5, size=(150, 3)), axis=1)
    y = np.eye(3, dtype="float32")[labels]
    return x, y


class NoisyRows(torch.utils.data.Dataset):
    """Rows with noise drawn from the global torch RNG each time one is read (augmentation)."""

    def __init__(self, x, y):
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index] + 0.1 * torch.randn(self.x.shape[1]), self.y[index]


class ShuffledBatches(kerosene.utils.Sequence):
    """The Keras pattern: indices reshuffled in on_epoch_end with the global NumPy RNG."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.indices = np.arange(len(x))

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        rows = self.indices[index * self.batch_size:(index + 1) * self.batch_size]
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        np.random.shuffle(self.indices)

    def state_dict(self):
        return {"indices": self.indices.copy()}

    def load_state_dict(self, state):
        self.indices = np.array(state["indices"])


class SeededShuffledBatches(ShuffledBatches):
    """Shuffles from its own RandomState and has no state_dict: a resume replays on_epoch_end."""

    state_dict = load_state_dict = None

    def __init__(self, x, y, batch_size):
        super().__init__(x, y, batch_size)
        self.random = np.random.RandomState(5)

    def on_epoch_end(self):
        self.random.shuffle(self.indices)


def batches_forever(x, y, batch_size):
    """A generator that walks its own shuffled order of the rows, for ever."""
    order = np.random.RandomState(3).permutation(len(x))
    while True:
        for start in range(0, len(x) - batch_size + 1, batch_size):
            rows = order[start:start + batch_size]
            yield x[rows], y[rows]


def fit_inputs(case, x, y, batch_size):
    """``fit``'s data arguments for ``case``: train on 120 rows, validate on 30."""
    (xt, xv), (yt, yv) = (x[:120], x[120:]), (y[:120], y[120:])
    split = {"validation_data": (xv, yv), "validation_batch_size": batch_size, "batch_size": None}
    data = torch.utils.data
    if case in ("arrays", "lr"):
        return {"x": x, "y": y, "validation_split": 0.2, "shuffle": True, "batch_size": batch_size}
    if case == "weighted":
        sampler = data.WeightedRandomSampler(torch.linspace(0.2, 1.0, 120, dtype=torch.float64), 120)
        loader = data.DataLoader(data.TensorDataset(torch.from_numpy(xt), torch.from_numpy(yt)),
                                 batch_size=batch_size, sampler=sampler)
        return {"x": loader, **split}
    if case == "augment":
        loader = data.DataLoader(NoisyRows(xt, yt), batch_size=batch_size, shuffle=False, num_workers=1)
        return {"x": loader, **split}
    if case == "generator":
        return {"x": batches_forever(xt, yt, batch_size), "steps_per_epoch": 120 // batch_size, **split}
    if case in ("sequence", "sequence-replay"):
        kind = ShuffledBatches if case == "sequence" else SeededShuffledBatches
        return {"x": kind(xt, yt, batch_size), "shuffle": False, **split}
    raise SystemExit(f"unknown --case {case!r}")


CASES = ("arrays", "weighted", "augment", "generator", "sequence", "sequence-replay", "lr")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--backup", default="epoch")
    parser.add_argument("--kill", default="")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--monitors", action="store_true", help="add EarlyStopping and ReduceLROnPlateau")
    parser.add_argument("--case", default="arrays", choices=CASES)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--csv-append", action="store_true", help="CSVLogger(append=True)")
    parser.add_argument("--tensorboard", action="store_true", help="add TensorBoard(WORKDIR/tb)")
    parser.add_argument("--jit", action="store_true", help="compile(jit_compile=True)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(1234)
    np.random.seed(1234)

    x, y = make_data()
    model = kerosene.Sequential([Dense(32, input_dim=6, activation="relu"), Dropout(0.3),
                                 Dense(3, activation="softmax")])
    model.compile(optimizer=kerosene.optimizers.Adam(learning_rate=0.03), loss="categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=args.jit)

    callbacks = []
    if args.backup != "none":
        save_freq = "epoch" if args.backup == "epoch" else int(args.backup)
        callbacks.append(cbs.BackupAndRestore(os.path.join(args.workdir, "backup"), save_freq=save_freq))
    if CSVLogger is not None:
        callbacks.append(CSVLogger(os.path.join(args.workdir, "log.csv"), append=args.csv_append))
    if args.tensorboard:
        callbacks.append(cbs.TensorBoard(os.path.join(args.workdir, "tb")))
    if args.case == "lr":   # the Keras docs' schedule
        callbacks.append(cbs.LearningRateScheduler(lambda epoch, lr: lr * float(np.exp(-0.1))))
    if args.monitors:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True))
        callbacks.append(ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4))
    kind, _, at = args.kill.partition(":")
    switch = KillSwitch(kind, int(at) if at else -1)
    callbacks.append(switch)
    if kind == "write":
        install_write_trap(switch)

    began = time.perf_counter()
    history = model.fit(**fit_inputs(args.case, x, y, args.batch_size), epochs=args.epochs,
                        callbacks=callbacks, verbose=0)
    print(f"FIT_SECONDS {time.perf_counter() - began:.6f}", flush=True)
    torch.save(model.state_dict(), os.path.join(args.workdir, "final.pt"))
    with open(os.path.join(args.workdir, "history.json"), "w") as handle:
        json.dump({"epoch": history.epoch, "history": history.history,
                   "stop_reason": model.stop_reason}, handle)
    print("DONE", flush=True)


def serve():
    """Fork one training process per stdin line (its arguments as a JSON list), one at a time.

    Each attempt is a real process, killed with a real SIGKILL; forking from this
    already-imported server only saves the seconds ``import torch`` costs per attempt.
    Prints ``PID <pid>`` when an attempt starts and ``EXIT <code>`` when it ends
    (``-9`` for SIGKILL), so the parent can also kill an attempt itself.
    """
    # torch.optim.Optimizer() imports torch._dynamo on first use, seconds of work per process.
    import torch._dynamo  # noqa: F401
    for line in sys.stdin:
        argv = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                main(argv)
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        print(f"PID {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(f"EXIT {code}", flush=True)


class AttemptServer:
    """Parent side of :func:`serve`: run attempts, optionally SIGKILL one from outside.

    Example::

        server = AttemptServer('attempts.log')
        code, output = server.run([workdir, '--backup', '4', '--kill', 'batch:7'])   # code == -9
        server.close()
    """

    def __init__(self, log_path, timeout=150):
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
        self.log = open(log_path, "w")
        self.server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                       text=True, env=env)
        self.watchdog = threading.Timer(timeout, self.server.kill)
        self.watchdog.start()

    def run(self, argv, kill_after=None):
        """Run one attempt; ``kill_after`` seconds after fit begins, SIGKILL it from here."""
        self.server.stdin.write(json.dumps([str(a) for a in argv]) + "\n")
        self.server.stdin.flush()
        pid, lines = None, []
        for line in self.server.stdout:
            lines.append(line)
            if line.startswith("PID "):
                pid = int(line.split()[1])
            elif line.startswith("TRAINING") and kill_after is not None:
                time.sleep(kill_after)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            elif line.startswith("EXIT "):
                return int(line.split()[1]), "".join(lines)
        raise RuntimeError(f"the attempt server died; its log: {self.log.name}")

    def close(self):
        self.watchdog.cancel()
        self.server.stdin.close()
        # The server's interpreter teardown (torch loaded) took over 30 s once at load 11; the
        # attempts were over and checked by then, so the bound is the watchdog's order, not 30 s.
        self.server.wait(timeout=120)
        self.log.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
