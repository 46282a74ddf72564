#!/usr/bin/env bash
# GPU checks for a session lent a GPU machine, in one short call:
#
#     bash benchmarks/gpu_check.sh            # PYTHON=/path/to/python to pick the interpreter
#
# Each step prints one block; ratios are kerosene / hand-written (1.00 is parity),
# measured side by side in the same processes on the same card.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
export KERAS_BACKEND=torch PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

echo "== step 1: the machine"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "(no nvidia-smi)"
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
"$PY" -c "import torch; print('torch', torch.__version__, '| cuda', torch.version.cuda, '| gpus', torch.cuda.device_count())"
if [ "$GPUS" -lt 1 ]; then
    echo "no CUDA device visible: nothing to check"; exit 1
fi

echo "== step 2: single-GPU fit versus a hand-written loop"
# (the single-GPU benchmark goes here)

echo "== step 3: DDP on all $GPUS GPU(s): kerosene fit versus a hand-written DDP loop (nccl)"
timeout 240 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
    tests/scripts/ddp_bench.py --device cuda --epochs 3

if [ "$GPUS" -ge 2 ]; then
    echo "== step 4: DDP on 1 GPU, for the scaling ratio"
    timeout 120 "$PY" -m torch.distributed.run --standalone --nproc_per_node=1 \
        tests/scripts/ddp_bench.py --device cuda --epochs 3
fi
