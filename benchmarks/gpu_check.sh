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
# Installs what it can (the card's machine may have no network: failures are fine, PYTHONPATH
# already points at this checkout), then the sync-debug test and the three workloads.
timeout 60 "$PY" -m pip install -q -e . --no-deps --no-build-isolation >/dev/null 2>&1 || echo "(pip install -e . skipped)"
"$PY" -c "import pytest, h5py" 2>/dev/null || timeout 60 "$PY" -m pip install -q pytest h5py >/dev/null 2>&1 \
    || echo "(pytest/h5py not installable here)"
echo "-- step 2a: no host-device sync per step (torch.cuda.set_sync_debug_mode('error'))"
timeout 90 "$PY" -m pytest -q -p no:cacheprovider tests/test_gpu_sync.py || echo "!! sync test FAILED"
echo "-- step 2b: ms/step and ratio kerosene / torch loop (seed, mlp, cnn on the GPU)"
timeout 180 "$PY" benchmarks/fit_overhead.py --device cuda --repeats 2 \
    --runners torch_item,torch_nosync,kerosene_losshistory,kerosene --json /tmp/fit_overhead_gpu.json \
    || echo "!! benchmark FAILED or ran out of time"
echo "-- step 2c: compiled steps: jit_compile=True and 'cuda_graphs' next to the hand-compiled loop (untested so far)"
timeout 240 "$PY" benchmarks/fit_overhead.py --device cuda --repeats 1 --retries 0 \
    --runners torch_item,torch_compiled,kerosene_jit,kerosene_cudagraphs --json /tmp/fit_overhead_gpu_jit.json \
    || echo "!! compiled benchmark FAILED or ran out of time"

echo "== step 3: DDP on all $GPUS GPU(s): kerosene fit versus a hand-written DDP loop (nccl)"
timeout 240 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
    tests/scripts/ddp_bench.py --device cuda --epochs 3

if [ "$GPUS" -ge 2 ]; then
    echo "== step 4: DDP on 1 GPU, for the scaling ratio"
    timeout 120 "$PY" -m torch.distributed.run --standalone --nproc_per_node=1 \
        tests/scripts/ddp_bench.py --device cuda --epochs 3
fi
