"""Keras 2's ``multi_gpu_model``, which kerosene does not build: data-parallel training runs one
process per device under ``torchrun`` instead (``compile(distribute='ddp')``, docs/distributed.md).

    try:
        model = multi_gpu_model(model, gpus=2)   # Keras 2's recipe, as its docs wrote it
    except ValueError:
        pass                                      # kerosene: train the model itself
"""
__all__ = ["multi_gpu_model"]


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """Refused with a ValueError (what Keras 2 raises when it cannot replicate the model), naming
    the way kerosene trains on several GPUs."""
    raise ValueError(f"multi_gpu_model(gpus={gpus!r}): kerosene does not replicate a model across GPUs within one "
                     "process. Launch the same script with `torchrun --nproc_per_node=N script.py`: fit() then trains "
                     "data-parallel with one process per GPU (DDP), or sharded with compile(distribute='fsdp'); see "
                     "docs/distributed.md")
