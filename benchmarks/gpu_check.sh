#!/usr/bin/env bash
# GPU checks for a session lent a GPU machine, in one call of under 8 minutes:
#
#     bash benchmarks/gpu_check.sh            # PYTHON=/path/to/python to pick the interpreter
#     OUT=/some/dir bash benchmarks/gpu_check.sh   # where the JSON and the table go ($OUT, else /tmp/gpu_check)
#
# Step 2a proves, with torch.cuda.set_sync_debug_mode('error'), that eager, jit_compile=True and
# jit_compile='cuda_graphs' fits never sync per step; step 2b times eager, jit and CUDA graphs on
# seed/mlp/cnn next to the hand-written torch loop (and the hand-compiled one), writing
# fit_overhead_gpu.json and fit_overhead_gpu.txt (the table) into the output folder. Ratios are
# kerosene / hand-written (1.00 is parity), measured in the same interleaved run on the same card.
# Step 3 times DDP fit against a hand-written DDP loop on every GPU; step 4, if time is left, runs
# benchmarks/fsdp_memory.py on every GPU (nccl): memory per rank and step time, FSDP versus DDP,
# into fsdp_memory_gpu.json and fsdp_memory_gpu.txt (with one GPU nothing is sharded: ratios ~1).
# Every step has its own timeout, cut to what is left of the 450 s budget, so the call ends in time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
DEST="${OUT:-/tmp/gpu_check}"
mkdir -p "$DEST"
export KERAS_BACKEND=torch PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
BUDGET=450

# left CAP: the seconds a step may take, CAP or what is left of the budget (at least 1).
left() {
    local rest=$((BUDGET - SECONDS))
    if [ "$rest" -lt "$1" ]; then echo $((rest > 1 ? rest : 1)); else echo "$1"; fi
}

echo "== step 1: the machine"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || echo "(no nvidia-smi)"
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
"$PY" -c "import torch; print('torch', torch.__version__, '| cuda', torch.version.cuda, '| gpus', torch.cuda.device_count())"
if [ "$GPUS" -lt 1 ]; then
    echo "no CUDA device visible: nothing to check"; exit 1
fi
# The card's machine may have no network: failures are fine, PYTHONPATH already points here.
"$PY" -c "import pytest, h5py" 2>/dev/null || timeout 30 "$PY" -m pip install -q pytest h5py >/dev/null 2>&1 \
    || echo "(pytest/h5py not installable here)"

echo "== step 2a: no host-device sync per step: eager, jit_compile=True, 'cuda_graphs' (set_sync_debug_mode('error'))"
timeout "$(left 100)" "$PY" -m pytest -q -p no:cacheprovider tests/engine/test_gpu_sync.py 2>&1 \
    | tee "$DEST/gpu_sync.txt" || echo "!! sync test FAILED or ran out of time"

echo "== step 2b: ms/step, eager / jit / cuda_graphs versus the torch loop (seed, mlp, cnn on the GPU)"
# One interleaved run: the eager pair, the compiled pair (torch_compiled is the hand-compiled peer),
# and CUDA graphs; compile time is its own column, not in ms/step.
timeout "$(left 300)" "$PY" benchmarks/fit_overhead.py --device cuda --repeats 1 --retries 0 \
    --runners torch_item,torch_nosync,kerosene_losshistory,kerosene,torch_compiled,kerosene_jit,kerosene_cudagraphs \
    --json "$DEST/fit_overhead_gpu.json" | tee "$DEST/fit_overhead_gpu.txt" \
    || echo "!! benchmark FAILED or ran out of time"

echo "== step 3: DDP on all $GPUS GPU(s): kerosene fit versus a hand-written DDP loop (nccl), if time is left"
if [ $((BUDGET - SECONDS)) -gt 30 ]; then
    timeout "$(left 60)" "$PY" -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
        tests/scripts/ddp_bench.py --device cuda --epochs 3 || echo "!! DDP step FAILED or ran out of time"
else
    echo "(skipped: the budget is spent)"
fi
echo "== step 4: FSDP versus DDP on all $GPUS GPU(s): memory per rank and step time (nccl), if time is left"
if [ $((BUDGET - SECONDS)) -gt 40 ]; then
    CAP=$(left 90)
    # Two launches (DDP, then FSDP), each given half of the step's time.
    timeout "$CAP" "$PY" benchmarks/fsdp_memory.py --device cuda --nproc "$GPUS" --layers 36 --batch-size 256 \
        --steps 10 --timeout $((CAP / 2)) --json "$DEST/fsdp_memory_gpu.json" | tee "$DEST/fsdp_memory_gpu.txt" \
        || echo "!! FSDP step FAILED or ran out of time"
else
    echo "(skipped: the budget is spent)"
fi
echo "== done in ${SECONDS} s; results in $DEST"
