"""A DDP fit and an FSDP fit of one small model: the two-"node" launch test's script.

Usage (one agent, or one such command per node with ``--nnodes=2``)::

    python -m torch.distributed.run --nproc_per_node=2 --standalone tests/scripts/multinode_train.py OUT

Every rank writes ``OUT/rank{R}.json``: for each engine the final full weights and the
history (from ``fsdp_train.train_case``), plus the launch as torchrun described it to
this process (its node's rank, the processes per node, the world size), so the test can
tell a two-agent run from a one-agent one.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fsdp_train  # noqa: E402
from kerosene import distributed  # noqa: E402

ENGINES = ("ddp", "fsdp")


def main():
    out = sys.argv[1]
    results = {engine: fsdp_train.train_case("dense", "adam", engine, batch_size=16) for engine in ENGINES}
    results["launch"] = {"rank": distributed.rank(), "world_size": distributed.world_size(),
                         "node_rank": int(os.environ["GROUP_RANK"]),
                         "local_world_size": int(os.environ["LOCAL_WORLD_SIZE"]),
                         "run_id": os.environ.get("TORCHELASTIC_RUN_ID")}
    with open(os.path.join(out, f"rank{distributed.rank()}.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
