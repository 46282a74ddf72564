"""Per-step cost of fit() next to a hand-written PyTorch loop, Keras 3 and Lightning.

Each runner trains the same model on the same data in a fresh subprocess (same
threads, seeds, data, optimizer settings); repeats are interleaved so a burst of
load from another process hits every runner alike. The table shows the median
ms/step and the ratio to the matching torch loop: runners that read every batch
loss are compared with the loop that calls ``.item()`` each step, the others with
the loop that never syncs.

    python benchmarks/fit_overhead.py                       # all workloads, 3 repeats
    python benchmarks/fit_overhead.py --workloads seed --repeats 5 --json out.json
    python benchmarks/fit_overhead.py --device cuda --runners torch_item,torch_nosync,kerosene_losshistory,kerosene
    python benchmarks/fit_overhead.py --runners torch_item,torch_compiled,kerosene_losshistory,kerosene_jit,keras3_jit

Compiled runners (``*_jit``, ``torch_compiled``) report their compile time apart, in the
``compile s`` column (warm-up epoch minus a warm epoch); it is not in ms/step.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch

WORKLOADS = {
    # name: (samples, batch size, timed epochs)
    "seed": (60000, 128, 2),
    "mlp": (12800, 128, 2),
    "cnn": (2560, 128, 2),
}

RUNNERS = {
    # name: (reads every batch loss?, baseline runner)
    "torch_item": (True, None),
    "torch_nosync": (False, None),
    "torch_compiled": (True, "torch_item"),         # the same loop, its step torch.compile'd by hand
    "kerosene_losshistory": (True, "torch_item"),
    "kerosene": (False, "torch_nosync"),
    "kerosene_jit": (True, "torch_item"),           # fit + LossHistory, jit_compile=True
    "kerosene_cudagraphs": (True, "torch_item"),    # jit_compile='cuda_graphs' (CUDA only)
    "keras3": (True, "torch_item"),
    "keras3_jit": (True, "torch_item"),             # Keras 3 jit_compile=True (torch backend)
    "lightning": (True, "torch_item"),
}
# Compiled runners are also compared with the hand-compiled loop (the honest peer).
COMPILED_PEER = {"kerosene_jit": "torch_compiled", "keras3_jit": "torch_compiled",
                 "kerosene_cudagraphs": "torch_compiled"}


# --- data and models, identical for every runner ----------------------------------------
def make_data(workload):
    import numpy as np
    samples = WORKLOADS[workload][0]
    rng = np.random.default_rng(0)
    if workload == "cnn":
        x = rng.random((samples, 28, 28, 1), dtype=np.float32)   # channels_last, as Keras users pass it
    else:
        x = rng.random((samples, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=samples)
    y = np.eye(10, dtype=np.float32)[labels]
    return x, y


def torch_model(workload):
    from torch import nn
    if workload == "seed":
        return nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=-1))
    if workload == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10), nn.Softmax(dim=-1))
    return nn.Sequential(
        _ToChannelsFirst(), nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 10), nn.Softmax(dim=-1))


class _ToChannelsFirst(torch.nn.Module):
    """What a torch user writes for channels_last data: one permute into NCHW."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def kerosene_model(workload):
    from kerosene.layers import Activation, Conv2D, Dense, Flatten, MaxPooling2D
    from kerosene.models import Sequential
    if workload == "seed":
        return Sequential([Dense(10, input_dim=784, kernel_initializer="uniform"), Activation("softmax")])
    if workload == "mlp":
        return Sequential([Dense(512, activation="relu", input_dim=784), Dense(512, activation="relu"),
                           Dense(10, activation="softmax")])
    return Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2),
                       Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                       Dense(10, activation="softmax")])


def keras_model(workload):
    import keras
    from keras import layers
    if workload == "seed":
        return keras.Sequential([keras.Input((784,)), layers.Dense(10, kernel_initializer="uniform"),
                                 layers.Activation("softmax")])
    if workload == "mlp":
        return keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                                 layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")])
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")])


def keras_cce(pred, target):
    """Keras's categorical crossentropy on probabilities (normalise, clip, log)."""
    import torch
    pred = pred / pred.sum(-1, keepdim=True)
    pred = torch.clamp(pred, 1e-7, 1 - 1e-7)
    return -(target * torch.log(pred)).sum(-1).mean()


# --- runners (each in its own process) ----------------------------------------------------
_WINDOW = {}


def _timed_begin():
    """Start of the timed epochs: the machine's busy seconds and this process's CPU seconds now."""
    _WINDOW.update(busy0=_machine_busy_seconds(), cpu0=time.process_time(), wall0=time.perf_counter())
    return _WINDOW["wall0"]


def _timed_end():
    """End of the timed epochs (returns the wall clock, as ``time.perf_counter``)."""
    _WINDOW.update(busy1=_machine_busy_seconds(), cpu1=time.process_time(), wall1=time.perf_counter())
    return _WINDOW["wall1"]


def _timed_window_shares():
    """(this process's CPU share, other processes' share of the machine) over the timed epochs only.

    Measured inside the child around the timed epochs, so the compile before them (inductor's
    compile workers are processes of their own, not counted as the child's) is not taken for
    contention. ``None`` for the second where /proc/stat cannot be read.
    """
    wall = max(_WINDOW["wall1"] - _WINDOW["wall0"], 1e-9)
    cpu = _WINDOW["cpu1"] - _WINDOW["cpu0"]
    others = None
    if _WINDOW["busy0"] is not None and _WINDOW["busy1"] is not None:
        others = max(0.0, (_WINDOW["busy1"] - _WINDOW["busy0"]) - cpu) / (wall * (os.cpu_count() or 1))
    return cpu / wall, others


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_torch(workload, read_loss, device, compiled=False):
    import torch
    x, y = make_data(workload)
    samples, batch, epochs = WORKLOADS[workload]
    model = torch_model(workload).to(device)
    opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7, foreach=True)
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)   # converted once, as fit does
    losses = []
    steps = (samples + batch - 1) // batch

    def step(xb, yb):
        loss = keras_cce(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    if compiled:
        # By hand, as torch documents it: torch.compile(step), static shapes, the last smaller
        # batch eager. (Tracing backward into the same graph, trace_autograd_ops, made torch's
        # RMSprop compute wrong updates in torch 2.13, so the peer breaks at backward.)
        compiled_step = torch.compile(step, dynamic=False)

        def run_step(xb, yb):
            return step(xb, yb) if xb.shape[0] != batch else compiled_step(xb, yb)
    else:
        run_step = step

    def epoch(k):
        generator = torch.Generator().manual_seed(k)
        order = torch.randperm(samples, generator=generator).to(device, non_blocking=True)
        model.train()
        for i in range(steps):
            idx = order[i * batch:(i + 1) * batch]
            loss = run_step(xt.index_select(0, idx), yt.index_select(0, idx))
            if read_loss:
                losses.append(loss.item())
        return loss

    warm = time.perf_counter()
    epoch(0)
    _sync(device)
    warmup_s = time.perf_counter() - warm
    start = _timed_begin()
    for k in range(1, epochs + 1):
        last = epoch(k)
    _sync(device)
    elapsed = _timed_end() - start
    return elapsed / (steps * epochs), float(last.item()), warmup_s


def run_kerosene(workload, read_loss, device, jit=False):
    import kerosene
    x, y = make_data(workload)
    samples, batch, epochs = WORKLOADS[workload]
    model = kerosene_model(workload)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", device=str(device), jit_compile=jit)
    if device.type != "cpu":   # the torch loop's data sits on the card before timing; give fit the same
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    callbacks = []
    if read_loss:
        class LossHistory(kerosene.callbacks.Callback):
            def on_train_begin(self, logs={}):
                self.losses = []

            def on_batch_end(self, batch, logs={}):
                self.losses.append(logs.get("loss"))
        callbacks.append(LossHistory())
    warm = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=callbacks)
    _sync(device)
    warmup_s = time.perf_counter() - warm
    gc.collect()   # compiling leaves a large heap: its next full collection would land in the timed run
    start = _timed_begin()
    # Like the torch loop, the timed run starts from arrays already converted (and, on CUDA, on the card).
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks)
    _sync(device)
    elapsed = _timed_end() - start
    steps = (samples + batch - 1) // batch
    return elapsed / (steps * epochs), history.history["loss"][-1], warmup_s


def run_keras3(workload, read_loss, jit=False):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    x, y = make_data(workload)
    samples, batch, epochs = WORKLOADS[workload]
    model = keras_model(workload)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", jit_compile=jit)

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.losses = []

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(logs.get("loss"))
    callbacks = [LossHistory()] if read_loss else []
    warm = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=callbacks)
    warmup_s = time.perf_counter() - warm
    gc.collect()
    start = _timed_begin()
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks)
    elapsed = _timed_end() - start
    steps = (samples + batch - 1) // batch
    return elapsed / (steps * epochs), float(history.history["loss"][-1]), warmup_s


def run_lightning(workload, read_loss):
    import lightning as L
    import torch
    x, y = make_data(workload)
    samples, batch, epochs = WORKLOADS[workload]
    net = torch_model(workload)

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = net
            self.losses = []

        def training_step(self, data, i):
            xb, yb = data
            loss = keras_cce(self.net(xb), yb)
            if read_loss:
                self.losses.append(loss.item())
            return loss

        def configure_optimizers(self):
            return torch.optim.RMSprop(self.parameters(), lr=0.001, alpha=0.9, eps=1e-7, foreach=True)

    data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True)
    module = Module()

    def trainer(n):
        return L.Trainer(max_epochs=n, enable_progress_bar=False, enable_model_summary=False, logger=False,
                         enable_checkpointing=False, accelerator="cpu", devices=1)
    warm = time.perf_counter()
    trainer(1).fit(module, loader)
    warmup_s = time.perf_counter() - warm
    start = _timed_begin()
    trainer(epochs).fit(module, loader)
    elapsed = _timed_end() - start
    steps = (samples + batch - 1) // batch
    return (elapsed / (steps * epochs), float(module.losses[-1]) if module.losses else float("nan"),
            warmup_s)


def child(runner, workload, threads, device="cpu"):
    import torch
    device = torch.device(device)
    torch.set_num_threads(threads)
    # Denormals: RMSprop's running averages decay into denormal floats that are ~10x slower
    # on x86. The benchmark flushes them in every runner alike; the library never does.
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    read = RUNNERS[runner][0]
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    if device.type != "cpu" and not (runner.startswith("torch") or runner.startswith("kerosene")):
        raise SystemExit(f"runner {runner!r} only runs on the CPU here")
    jit = "cuda_graphs" if runner.endswith("_cudagraphs") else runner.endswith(("_jit", "_compiled"))
    if runner.startswith("torch"):
        per_step, loss, warmup_s = run_torch(workload, read, device, compiled=jit)
    elif runner.startswith("kerosene"):
        per_step, loss, warmup_s = run_kerosene(workload, read, device, jit=jit)
    elif runner.startswith("keras3"):
        per_step, loss, warmup_s = run_keras3(workload, read, jit=jit)
    else:
        per_step, loss, warmup_s = run_lightning(workload, read)
    cpu_share = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
    steps = (WORKLOADS[workload][0] + WORKLOADS[workload][1] - 1) // WORKLOADS[workload][1]
    # Compile time: the warm-up epoch's time beyond what a warm epoch takes.
    compile_s = max(0.0, warmup_s - per_step * steps)
    timed_share, timed_others = _timed_window_shares()
    print(json.dumps({"ms_per_step": per_step * 1e3, "final_loss": loss, "cpu_share_run": cpu_share,
                      "cpu_share": timed_share, "others_timed": timed_others, "compile_s": compile_s}))


# --- parent: interleaved repeats and the table --------------------------------------------
def available(runner, device="cpu"):
    if runner.endswith("_cudagraphs") and device == "cpu":
        return False   # jit_compile='cuda_graphs' is refused on a CPU
    module = {"keras3": "keras", "keras3_jit": "keras", "lightning": "lightning"}.get(runner)
    if module is None:
        return True
    import importlib.util
    return importlib.util.find_spec(module) is not None


def _machine_busy_seconds():
    """CPU seconds the whole machine spent busy (all cores; hypervisor steal counts as busy)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# Share of the machine that other processes may use during a run before it counts as contended.
OTHERS_LIMIT = 0.15


def run_child(runner, workload, threads, retries=2, device="cpu"):
    """Run one runner in a fresh process; retry when other processes used the machine meanwhile.

    Our own CPU share cannot tell contention apart on its own (OpenMP threads spin while
    waiting, so a starved run can still look busy), so the parent also measures what the
    rest of the machine used: /proc/stat busy time minus the child's own CPU time.
    """
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS=str(threads))
    # Inductor's cache under the temp dir is shared machine-wide: each run compiles afresh in its own.
    cache = tempfile.mkdtemp(prefix=f"inductor-{runner}-")
    env["TORCHINDUCTOR_CACHE_DIR"] = cache
    cores = os.cpu_count() or 1
    for attempt in range(retries + 1):
        load_before = os.getloadavg()[0]
        busy0, mine0, wall0 = _machine_busy_seconds(), _children_cpu_seconds(), time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", runner, workload, "--threads", str(threads),
                              "--device", device], capture_output=True, text=True, env=env, timeout=1800)
        wall = time.perf_counter() - wall0
        shutil.rmtree(cache, ignore_errors=True)
        busy1, mine1 = _machine_busy_seconds(), _children_cpu_seconds()
        if out.returncode != 0:
            raise RuntimeError(f"{runner}/{workload} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["load_before"] = load_before
        others_run = None
        if busy0 is not None and busy1 is not None:
            others_run = max(0.0, (busy1 - busy0) - (mine1 - mine0)) / (wall * cores)
        # Contention is judged over the timed epochs (measured by the child): over the whole run,
        # inductor's compile worker processes (not the child's own CPU time) looked like others' load.
        result["others_run"] = others_run
        others = result.get("others_timed", others_run)
        result["others_share"] = others
        result["attempts"] = attempt + 1
        if device != "cpu":   # waiting on the card lowers the CPU share; it says nothing about contention
            result["contended"] = bool(others is not None and others > OTHERS_LIMIT)
            return result
        contended = result["cpu_share"] < 0.5 * threads * 0.8 or (others is not None and others > OTHERS_LIMIT)
        if not contended or attempt == retries:
            result["contended"] = contended
            return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="seed,mlp,cnn")
    parser.add_argument("--runners", default=",".join(RUNNERS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--retries", type=int, default=2, help="reruns of a contended run before it is kept")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (cuda: torch and kerosene runners only)")
    parser.add_argument("--json", help="write the raw results and medians here")
    parser.add_argument("--child", nargs=2, metavar=("RUNNER", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.threads, args.device)
        return
    workloads = args.workloads.split(",")
    runners = [r for r in args.runners.split(",") if available(r, args.device)]
    for name in workloads:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    results = {w: {r: [] for r in runners} for w in workloads}
    for repeat in range(args.repeats):
        for workload in workloads:
            for runner in runners:
                res = run_child(runner, workload, args.threads, retries=args.retries, device=args.device)
                results[workload][runner].append(res)
                others = res["others_share"]
                print(f"# repeat {repeat + 1} {workload:5s} {runner:22s} {res['ms_per_step']:8.3f} ms/step"
                      f"  others {'?' if others is None else f'{others:.0%}'}  tries {res['attempts']}"
                      f"{'  (contended)' if res['contended'] else ''}", file=sys.stderr, flush=True)
    table = []
    for workload in workloads:
        medians = {r: statistics.median(x["ms_per_step"] for x in results[workload][r]) for r in runners}
        for runner in runners:
            base = RUNNERS[runner][1]
            ratio = medians[runner] / medians[base] if base in medians else None
            peer = COMPILED_PEER.get(runner)
            peer_ratio = medians[runner] / medians[peer] if peer in medians else None
            losses = [x["final_loss"] for x in results[workload][runner]]
            contended = sum(bool(x["contended"]) for x in results[workload][runner])
            compile_s = statistics.median(x.get("compile_s", 0.0) for x in results[workload][runner])
            table.append({"workload": workload, "runner": runner, "ms_per_step": medians[runner],
                          "baseline": base, "ratio": ratio, "vs_torch_compiled": peer_ratio,
                          "compile_s": compile_s, "final_loss": losses[-1],
                          "contended_runs": contended, "runs": len(losses)})
    print(f"{'workload':8s} {'runner':22s} {'ms/step':>9s} {'vs':>14s} {'ratio':>7s} {'vs compiled':>11s} "
          f"{'compile s':>9s} {'final loss':>11s} {'contended':>9s}")
    for row in table:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
        peer = f"{row['vs_torch_compiled']:.2f}x" if row["vs_torch_compiled"] is not None else "-"
        print(f"{row['workload']:8s} {row['runner']:22s} {row['ms_per_step']:9.3f} {row['baseline'] or '-':>14s} "
              f"{ratio:>7s} {peer:>11s} {row['compile_s']:9.1f} {row['final_loss']:11.4f} "
              f"{row['contended_runs']:>5d}/{row['runs']}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"table": table, "raw": results, "threads": args.threads, "repeats": args.repeats,
                       "device": args.device}, handle,
                      indent=2)


if __name__ == "__main__":
    main()
