"""atomic_write: a killed writer's temp file is cleaned by the next write of the same file."""
import os
import signal
import subprocess
import sys
import textwrap

import h5py

from kerosene.saving.atomic import atomic_write, remove_stale_temps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _temps(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def test_sigkill_during_save_weights_leaves_a_temp_that_the_next_save_removes(tmp_path):
    killed = _run("""
        import os, signal
        import kerosene
        from kerosene.saving import atomic
        model = kerosene.models.Sequential([kerosene.layers.Dense(3, input_dim=4)])
        real_replace = os.replace
        def die(*args):   # the temp file is fully written: die before it becomes w.h5
            os.kill(os.getpid(), signal.SIGKILL)
        atomic.os.replace = die
        model.save_weights('w.h5')
    """, tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "w.h5").exists()
    left = _temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(".w.h5."), left

    saved = _run("""
        import kerosene
        model = kerosene.models.Sequential([kerosene.layers.Dense(3, input_dim=4)])
        model.save_weights('w.h5')
    """, tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert _temps(tmp_path) == []
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert len(f.attrs["layer_names"]) == 1


def test_only_old_temps_of_the_same_target_are_removed(tmp_path):
    target = tmp_path / "model.h5"
    old = tmp_path / ".model.h5.abcd1234.tmp"
    fresh = tmp_path / ".model.h5.zz_y9876.tmp"     # a writer of this process may own it
    other = tmp_path / ".other.h5.abcd1234.tmp"     # another file's temp
    unrelated = tmp_path / ".model.h5.notatemp"
    for p in (old, fresh, other, unrelated):
        p.write_bytes(b"x")
    past = 1e9   # 2001: before this process started, however long the suite has run
    for p in (old, other, unrelated):
        os.utime(p, (past, past))
    assert remove_stale_temps(target) == [old.name]
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, other.name, unrelated.name])


def test_atomic_write_cleans_before_writing(tmp_path):
    target = tmp_path / "log.csv"
    stale = tmp_path / ".log.csv.q1w2e3r4.tmp"
    stale.write_bytes(b"half")
    past = 1e9
    os.utime(stale, (past, past))
    with atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("epoch\n")
    assert target.read_text() == "epoch\n"
    assert _temps(tmp_path) == []
