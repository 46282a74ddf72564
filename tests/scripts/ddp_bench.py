"""DDP speed: kerosene ``fit`` versus a hand-written DDP loop, side by side in the same processes.

Usage (one line per machine; benchmarks/gpu_check.sh runs it on every GPU it finds)::

    python -m torch.distributed.run --standalone --nproc_per_node=N tests/scripts/ddp_bench.py [--device cpu]

Both runs train the same MLP on the same synthetic data with plain SGD, ``batch_size``
per process, for ``--epochs`` timed epochs after one warm-up epoch. Rank 0 prints the
seconds per epoch of each and their ratio (kerosene / hand-written; 1.00 is parity).
"""
import argparse
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import kerosene  # noqa: E402


def build(features, hidden, classes, device):
    torch.manual_seed(0)
    return kerosene.Sequential([
        kerosene.layers.Dense(hidden, activation="relu", input_dim=features),
        kerosene.layers.Dense(hidden, activation="relu"),
        kerosene.layers.Dense(classes),
    ]).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_written(x, y, args, device, rank, world):
    model = build(x.shape[1], args.hidden, args.classes, device)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    n, per_rank = x.shape[0], args.batch_size
    global_batch = per_rank * world

    def epoch(e):
        generator = torch.Generator().manual_seed(e)
        order = torch.randperm(n, generator=generator).to(device)
        for lo in range(0, n - global_batch + 1, global_batch):
            idx = order[lo + rank * per_rank: lo + (rank + 1) * per_rank]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(ddp(x.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            optimizer.step()
    epoch(0)
    sync(device)
    start = time.perf_counter()
    for e in range(1, args.epochs + 1):
        epoch(e)
    sync(device)
    return (time.perf_counter() - start) / args.epochs


class EpochTimer(kerosene.callbacks.Callback):
    def __init__(self, device):
        super().__init__()
        self.device = device
        self.starts = {}
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        sync(self.device)
        self.starts[epoch] = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        sync(self.device)
        if epoch > 0:  # epoch 0 is the warm-up
            self.seconds.append(time.perf_counter() - self.starts[epoch])


def with_kerosene(x, y, args, device):
    model = build(x.shape[1], args.hidden, args.classes, device)
    model.compile(optimizer=kerosene.optimizers.SGD(learning_rate=0.01),
                  loss=kerosene.losses.SparseCategoricalCrossentropy(from_logits=True), device=device)
    timer = EpochTimer(device)
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs + 1, verbose=0, callbacks=[timer])
    return sum(timer.seconds) / len(timer.seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--samples", type=int, default=262144)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local) if args.device == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # The user initialises the group here; kerosene's fit must pick it up as it is.
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(args.samples, args.features, generator=generator).to(device)
    y = torch.randint(0, args.classes, (args.samples,), generator=generator).to(device)
    hand = hand_written(x, y, args, device, rank, world)
    ours = with_kerosene(x, y, args, device)
    if rank == 0:
        print(f"DDP world_size={world} device={device.type} batch/process={args.batch_size}: "
              f"hand-written {hand:.3f} s/epoch, kerosene fit {ours:.3f} s/epoch, ratio {ours / hand:.2f}",
              flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
