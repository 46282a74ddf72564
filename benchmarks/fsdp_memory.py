"""Memory per rank and step time of ``fit`` under DDP and under FSDP, on one machine.

Usage::

    python benchmarks/fsdp_memory.py                  # 2 gloo ranks on CPU, a ~300 MB Dense stack, Adam
    python benchmarks/fsdp_memory.py --json out.json  # the table, and every rank's figures as JSON
    python benchmarks/fsdp_memory.py --device cuda --nproc 8 --layers 36   # nccl, one rank per GPU

Run without a launch, the script starts ``torchrun --standalone --nproc_per_node=N`` on
itself twice, once per engine (each engine in fresh processes, so each peak is its own),
and prints one table. Each rank trains the same model with ``model.compile(...,
distribute='ddp' | 'fsdp')`` and Adam (two moments per parameter), and reports:

- bytes it holds of parameters, gradients and optimizer state, read from the tensors
  after the last step (a DTensor's local shard under FSDP, the whole tensor under DDP),
  next to the whole model's;
- peak resident memory (``resource.getrusage(...).ru_maxrss``), also above the same
  process's peak right after its imports (the torch runtime), the peak reached before the
  first step (the model built whole, then sharded) and the resident memory at the end; on
  CUDA, the peak of ``torch.cuda.max_memory_allocated`` instead;
- median seconds per step over the steps after the warm-up ones (a batch callback times
  each step; the ranks' largest median is reported).

Ratios are FSDP / DDP (below 1: FSDP holds or takes less).
"""
import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import kerosene  # noqa: E402
from kerosene import distributed  # noqa: E402

ENGINES = ("ddp", "fsdp")
MB = 1e6


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--nproc", type=int, default=2, help="ranks (processes) per engine")
    parser.add_argument("--width", type=int, default=2048, help="units of every Dense layer")
    parser.add_argument("--layers", type=int, default=18, help="Dense layers (18 x 2048^2 fp32 is ~300 MB)")
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--warmup", type=int, default=2, help="steps not timed")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--timeout", type=int, default=600, help="seconds each launch may take")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)  # set for the launched ranks
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("nproc", "width", "layers", "batch_size", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be 0 or more, got {args.warmup}")
    return args


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


# --- one rank, under the launch ----------------------------------------------------------

def held_bytes(tensors):
    """(bytes of the local parts, bytes of the whole) of ``tensors``: DTensor shards or plain tensors."""
    local = whole = 0
    for t in tensors:
        part = t.to_local() if hasattr(t, "to_local") else t
        local += part.numel() * part.element_size()
        whole += t.numel() * t.element_size()
    return local, whole


class StepTimer(kerosene.callbacks.Callback):
    """Seconds of each training step (the device synchronised at both ends on CUDA), and the peak
    resident memory once the model is built (and, under FSDP, sharded) but before the first step."""

    def __init__(self, cuda):
        super().__init__()
        self.cuda = cuda
        self.seconds = []
        self.start = None
        self.peak_before_steps = None

    def on_train_begin(self, logs=None):
        self.peak_before_steps = peak_rss_bytes()

    def _sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def on_train_batch_begin(self, batch, logs=None):
        self._sync()
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._sync()
        self.seconds.append(time.perf_counter() - self.start)


def rank_main(args):
    baseline = peak_rss_bytes()
    cuda = args.device == "cuda"
    torch.manual_seed(0)
    layers = [kerosene.layers.Dense(args.width, activation="relu", input_dim=args.width)]
    layers += [kerosene.layers.Dense(args.width, activation="relu") for _ in range(args.layers - 2)]
    layers += [kerosene.layers.Dense(args.width)] if args.layers > 1 else []
    model = kerosene.Sequential(layers)
    model.compile(optimizer=kerosene.optimizers.Adam(learning_rate=1e-4), loss="mse", device=args.device,
                  distribute=args.engine)
    world = distributed.world_size()
    rows = args.batch_size * world * (args.warmup + args.steps)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, args.width)).astype("float32")
    y = rng.normal(size=(rows, args.width)).astype("float32")
    timer = StepTimer(cuda)
    model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[timer])

    params = list(model.parameters())
    state = [v for slots in model.optimizer.state.values() for v in slots.values()
             if isinstance(v, torch.Tensor) and v.dim() > 0]
    figures = {"rank": distributed.rank(), "world_size": world, "engine": args.engine,
               "param_types": sorted({type(p).__name__ for p in params}),
               "step_seconds": timer.seconds[args.warmup:],
               "peak_rss_bytes": peak_rss_bytes(), "baseline_rss_bytes": baseline,
               "peak_rss_before_steps_bytes": timer.peak_before_steps, "end_rss_bytes": current_rss_bytes()}
    for name, tensors in (("params", params), ("grads", [p.grad for p in params if p.grad is not None]),
                          ("optimizer", state)):
        figures[f"{name}_local_bytes"], figures[f"{name}_whole_bytes"] = held_bytes(tensors)
    if cuda:
        figures["cuda_peak_bytes"] = torch.cuda.max_memory_allocated()
    with open(os.path.join(args.out, f"{args.engine}-rank{figures['rank']}.json"), "w") as f:
        json.dump(figures, f)


# --- the launching parent --------------------------------------------------------------------

def launch(args, engine, out):
    passed = ["--device", args.device, "--width", str(args.width), "--layers", str(args.layers),
              "--batch-size", str(args.batch_size), "--warmup", str(args.warmup), "--steps", str(args.steps)]
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(KERAS_BACKEND="torch", PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
               os.path.abspath(__file__), *passed, "--engine", engine, "--out", out]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=args.timeout)
    except BaseException:  # out of time, or SIGTERM/Ctrl-C: see stop_on_sigterm
        # torchrun puts each rank in a session of its own: SIGTERM lets it stop them; a SIGKILL would orphan them.
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise
    if proc.returncode != 0:
        sys.exit(f"the {engine} launch failed (exit {proc.returncode}):\n{output[-6000:]}")
    return [json.load(open(os.path.join(out, f"{engine}-rank{r}.json"))) for r in range(args.nproc)]


def summarise(ranks):
    """The largest rank's figures: what the machine must hold per rank."""
    local = max(sum(r[f"{n}_local_bytes"] for n in ("params", "grads", "optimizer")) for r in ranks)
    first = ranks[0]
    summary = {"held_bytes": local,
               "whole_bytes": sum(first[f"{n}_whole_bytes"] for n in ("params", "grads", "optimizer")),
               "params_bytes": max(r["params_local_bytes"] for r in ranks),
               "grads_bytes": max(r["grads_local_bytes"] for r in ranks),
               "optimizer_bytes": max(r["optimizer_local_bytes"] for r in ranks),
               "peak_rss_bytes": max(r["peak_rss_bytes"] for r in ranks),
               "rss_above_baseline_bytes": max(r["peak_rss_bytes"] - r["baseline_rss_bytes"] for r in ranks),
               "peak_rss_before_steps_bytes": max(r["peak_rss_before_steps_bytes"] for r in ranks),
               "end_rss_bytes": max(r["end_rss_bytes"] for r in ranks),
               "median_step_s": max(statistics.median(r["step_seconds"]) for r in ranks),
               "param_types": first["param_types"]}
    if "cuda_peak_bytes" in first:
        summary["cuda_peak_bytes"] = max(r["cuda_peak_bytes"] for r in ranks)
    return summary


def table(results, args):
    ddp, fsdp = results["ddp"], results["fsdp"]
    columns = [("params MB", "params_bytes", MB), ("grads MB", "grads_bytes", MB),
               ("optim MB", "optimizer_bytes", MB), ("held MB", "held_bytes", MB)]
    columns += ([("CUDA peak MB", "cuda_peak_bytes", MB)] if "cuda_peak_bytes" in ddp else
                [("peak RSS MB", "peak_rss_bytes", MB), ("RSS over imports MB", "rss_above_baseline_bytes", MB),
                 ("peak RSS before step 1 MB", "peak_rss_before_steps_bytes", MB),
                 ("RSS at end MB", "end_rss_bytes", MB)])
    columns += [("step ms", "median_step_s", 1e-3)]
    lines = [f"{args.nproc} ranks on {args.device}; Dense {args.layers} x {args.width}, Adam; "
             f"whole model + grads + Adam state {ddp['whole_bytes'] / MB:.0f} MB; batch {args.batch_size}/rank; "
             f"median of {args.steps} steps after {args.warmup} warm-up; per rank, the largest rank's figure",
             "| engine | " + " | ".join(c[0] for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for name, summary in (("DDP", ddp), ("FSDP", fsdp)):
        lines.append(f"| {name} | " + " | ".join(f"{summary[key] / unit:.0f}" for _, key, unit in columns) + " |")
    lines.append("| FSDP / DDP | " + " | ".join(f"{fsdp[key] / ddp[key]:.2f}" for _, key, _ in columns) + " |")
    return "\n".join(lines)


def stop_on_sigterm(signum, frame):
    """SIGTERM (as from ``timeout``) as an exception in the parent, so its launch is stopped cleanly."""
    raise SystemExit(f"fsdp_memory.py: stopped by signal {signum}")


def main():
    args = parse_args()
    if args.engine:  # a rank under the launch
        return rank_main(args)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="fsdp_memory-") as out:
        ranks = {engine: launch(args, engine, out) for engine in ENGINES}
    results = {engine: summarise(r) for engine, r in ranks.items()}
    text = table(results, args)
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items() if k not in ("engine", "out", "json")},
                       "summary": results, "ranks": ranks, "table": text}, f, indent=1)


if __name__ == "__main__":
    main()
