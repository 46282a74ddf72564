"""One real ``torch.distributed.run`` launch for the multi-process tests, with a clean environment.

Example::

    proc = torchrun(SCRIPT, [str(out)], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
"""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCH_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def launch_env(**extra):
    """This environment without a launch's variables, one thread per process, kerosene on the path."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARIABLES}
    env.update(OMP_NUM_THREADS="1", KERAS_BACKEND="torch", PYTHONPATH=ROOT)
    env.update(extra)
    return env


def torchrun(script, args, timeout, nproc=2):
    """Run ``script args`` on ``nproc`` local processes under torchrun (standalone rendezvous)."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--standalone", script, *args],
        env=launch_env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
