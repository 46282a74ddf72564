"""A write the OS refuses mid-run (disk full, file too large) names the file and the writer.

A real OS error, no mock: a child process lowers RLIMIT_FSIZE so that writes past a few
hundred bytes fail with EFBIG, then saves weights as ``.pt``, writes CSV rows and backups.
"""
import errno
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    import kerosene
    from kerosene.callbacks import BackupAndRestore, CSVLogger
    folder = sys.argv[1]
    model = kerosene.Sequential([kerosene.layers.Dense(64, input_dim=8)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 8), "float32"), np.ones((8, 64), "float32")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # EFBIG as an error, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))
    def attempt(what, action):
        try:
            action()
            print(what, "NO ERROR")
        except OSError as error:
            print(what, type(error).__name__, error.errno, error, "| caused by", repr(error.__cause__))
    attempt("PT", lambda: model.save_weights(folder + "/w.pt"))
    attempt("CSV", lambda: model.fit(x, y, epochs=200, verbose=0, callbacks=[CSVLogger(folder + "/log.csv")]))
    attempt("BACKUP", lambda: model.fit(x, y, epochs=2, verbose=0,
                                        callbacks=[BackupAndRestore(folder + "/backup")]))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE and EFBIG as on Linux")
def test_write_errors_name_the_file_and_the_writer(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.split()}
    efbig = f"{errno.EFBIG} [Errno {errno.EFBIG}]"
    assert f"OSError {efbig} saving the torch weights file '{tmp_path}/w.pt' failed: File too large" in lines["PT"]
    assert f"OSError {efbig} CSVLogger writing '{tmp_path}/log.csv' failed" in lines["CSV"]
    assert f"OSError {efbig} BackupAndRestore writing the backup in '{tmp_path}/backup' failed" in lines["BACKUP"]
    for line in lines.values():
        assert f"caused by OSError({errno.EFBIG}, 'File too large')" in line
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


HDF5_CHILD = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    import kerosene
    from kerosene.callbacks import ModelCheckpoint
    folder = sys.argv[1]
    model = kerosene.Sequential([kerosene.layers.Dense(64, input_dim=8)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 8), "float32"), np.ones((8, 64), "float32")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # EFBIG as an error, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))
    def attempt(what, action):
        try:
            action()
            print(what, "NO ERROR")
        except OSError as error:
            print(what, type(error).__name__, error.errno, error, "| caused by", repr(error.__cause__))
    attempt("H5W", lambda: model.save_weights(folder + "/w.h5"))
    attempt("H5M", lambda: model.save(folder + "/m.h5"))
    attempt("K3W", lambda: model.save_weights(folder + "/w.weights.h5"))
    attempt("KERAS", lambda: model.save(folder + "/m.keras"))
    attempt("CKPT", lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(folder + "/c.h5")]))
    print("END", flush=True)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE and EFBIG as on Linux")
def test_failed_hdf5_writes_are_one_named_error_and_nothing_on_stderr(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", HDF5_CHILD, str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    # h5py writing to disk itself printed 'Exception ignored in ObjectID.__dealloc__' tracebacks
    # for a failed write, then crashed with a segmentation fault in File.close (HDF5 2.0)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "END" in done.stdout
    assert "dealloc" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.split()}
    efbig = f"{errno.EFBIG} [Errno {errno.EFBIG}]"
    for key, doing, name in [("H5W", "saving the HDF5 weights file", "w.h5"),
                             ("H5M", "saving the HDF5 model file", "m.h5"),
                             ("K3W", "saving the Keras 3 weights file", "w.weights.h5"),
                             ("KERAS", "saving the Keras archive", "m.keras"),
                             ("CKPT", "saving the HDF5 model file", "c.h5")]:
        assert f"OSError {efbig} {doing} '{tmp_path}/{name}' failed: File too large" in lines[key], lines[key]
        assert f"caused by OSError({errno.EFBIG}, 'File too large')" in lines[key]
    assert sorted(os.listdir(tmp_path)) == []
