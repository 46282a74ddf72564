"""kerosene.datasets and get_file against a real HTTP server on 127.0.0.1 (no internet).

Small files in Keras's published formats are served locally; KERAS_HOME is a temp folder.
"""
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

from kerosene.datasets import (_download, boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist,
                               reuters)
from kerosene.utils import get_file
from kerosene.utils.data_utils import DownloadError

RNG = np.random.RandomState(0)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def idx_bytes(array):
    magic = 0x801 if array.ndim == 1 else 0x803
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def ragged(n, vocab=30):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(v) for v in RNG.randint(1, vocab, size=RNG.randint(2, 12))]
    return out


def cifar_archive(path, folder, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Write the small dataset files, serve them on 127.0.0.1, yield (url, folder, arrays)."""
    root = tmp_path_factory.mktemp("served")
    arrays = {}
    mn = {"x_train": RNG.randint(0, 255, (12, 28, 28)).astype("uint8"), "y_train": RNG.randint(0, 10, 12).astype("uint8"),
          "x_test": RNG.randint(0, 255, (5, 28, 28)).astype("uint8"), "y_test": RNG.randint(0, 10, 5).astype("uint8")}
    np.savez(root / "mnist.npz", **mn)
    arrays["mnist"] = mn
    for stem, key in (("train-images-idx3-ubyte", "x_train"), ("train-labels-idx1-ubyte", "y_train"),
                      ("t10k-images-idx3-ubyte", "x_test"), ("t10k-labels-idx1-ubyte", "y_test")):
        with gzip.open(root / f"{stem}.gz", "wb") as f:
            f.write(idx_bytes(mn[key]))
    np.savez(root / "boston_housing.npz", x=RNG.rand(20, 13), y=RNG.rand(20) * 50)
    im = {"x_train": ragged(10), "y_train": RNG.randint(0, 2, 10), "x_test": ragged(8), "y_test": RNG.randint(0, 2, 8)}
    np.savez(root / "imdb.npz", **im)
    np.savez(root / "reuters.npz", x=ragged(15), y=RNG.randint(0, 46, 15))
    (root / "imdb_word_index.json").write_text('{"the": 1, "film": 2}')
    batches = {f"data_batch_{i}": {b"data": RNG.randint(0, 255, (3, 3072)).astype("uint8"),
                                   b"labels": list(RNG.randint(0, 10, 3)), b"batch_label": b"b"} for i in range(1, 6)}
    batches["test_batch"] = {b"data": RNG.randint(0, 255, (2, 3072)).astype("uint8"), b"labels": [1, 2]}
    cifar_archive(root / "cifar-10-python.tar.gz", "cifar-10-batches-py", batches)
    arrays["cifar10"] = batches
    c100 = {n: {b"data": RNG.randint(0, 255, (k, 3072)).astype("uint8"), b"fine_labels": list(RNG.randint(0, 100, k)),
                b"coarse_labels": list(RNG.randint(0, 20, k))} for n, k in (("train", 4), ("test", 3))}
    cifar_archive(root / "cifar-100-python.tar.gz", "cifar-100-python", c100)
    arrays["cifar100"] = c100
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root, arrays
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def keras_home(tmp_path, monkeypatch, served):
    url, root, _ = served
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(_download, "ORIGIN_FOLDER", url)
    for module, name in ((mnist, "mnist.npz"), (boston_housing, "boston_housing.npz"), (imdb, "imdb.npz"),
                         (reuters, "reuters.npz")):
        monkeypatch.setattr(module, "FILE_HASH", sha256(root / name))
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", sha256(root / "imdb_word_index.json"))
    monkeypatch.setattr(cifar10, "ORIGIN", url + "cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar10, "FILE_HASH", sha256(root / "cifar-10-python.tar.gz"))
    monkeypatch.setattr(cifar100, "ORIGIN", url + "cifar-100-python.tar.gz")
    monkeypatch.setattr(cifar100, "FILE_HASH", sha256(root / "cifar-100-python.tar.gz"))
    return home


def test_mnist_downloads_into_keras_home_and_then_reads_the_cache(keras_home, served, monkeypatch):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    expected = served[2]["mnist"]
    np.testing.assert_array_equal(x_train, expected["x_train"])
    np.testing.assert_array_equal(y_test, expected["y_test"])
    assert (keras_home / "datasets" / "mnist.npz").is_file()
    monkeypatch.setattr(_download, "ORIGIN_FOLDER", "http://127.0.0.1:9/")  # nothing listens there
    (again, _), _ = mnist.load_data()
    np.testing.assert_array_equal(again, x_train)


def test_fashion_mnist_reads_gzipped_idx(keras_home, served):
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    expected = served[2]["mnist"]
    assert x_train.shape == (12, 28, 28) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train, expected["y_train"])
    np.testing.assert_array_equal(x_test, expected["x_test"])
    assert (keras_home / "datasets" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file()


def test_boston_housing_split_and_shuffle(keras_home, served):
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.25, seed=3)
    assert x_train.shape == (15, 13) and x_test.shape == (5, 13) and y_train.shape == (15,)
    with np.load(served[1] / "boston_housing.npz") as f:
        order = np.arange(20)
        np.random.RandomState(3).shuffle(order)
        np.testing.assert_array_equal(x_test, f["x"][order][15:])
    with pytest.raises(ValueError, match="test_split.*got 1.5"):
        boston_housing.load_data(test_split=1.5)


def _keras_loader(module_name, monkeypatch, path):
    keras_module = pytest.importorskip(f"keras.src.datasets.{module_name}")
    monkeypatch.setattr(keras_module, "get_file", lambda *a, **k: str(path))
    return keras_module.load_data


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 15}, {"num_words": 20, "skip_top": 5},
                                    {"maxlen": 8}, {"oov_char": None, "num_words": 12},
                                    {"start_char": None, "index_from": 0}, {"seed": 7, "index_from": 2}])
def test_imdb_matches_keras(keras_home, served, monkeypatch, kwargs):
    ours = imdb.load_data(**kwargs)
    theirs = _keras_loader("imdb", monkeypatch, served[1] / "imdb.npz")(**kwargs)
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        assert xa.dtype == object and [list(s) for s in xa] == [list(s) for s in xb]
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 10, "test_split": 0.3}, {"maxlen": 9, "skip_top": 4}])
def test_reuters_matches_keras(keras_home, served, monkeypatch, kwargs):
    ours = reuters.load_data(**kwargs)
    theirs = _keras_loader("reuters", monkeypatch, served[1] / "reuters.npz")(**kwargs)
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        assert [list(s) for s in xa] == [list(s) for s in xb]
        np.testing.assert_array_equal(ya, yb)


def test_imdb_word_index_and_bad_arguments(keras_home):
    assert imdb.get_word_index() == {"the": 1, "film": 2}
    with pytest.raises(ValueError, match="num_words.*got -1"):
        imdb.load_data(num_words=-1)
    with pytest.raises(TypeError, match="nb_words"):
        imdb.load_data(nb_words=10)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)


def test_cifar10_channels_last_and_labels(keras_home, served):
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    batches = served[2]["cifar10"]
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and x_test.shape == (2, 32, 32, 3)
    first = batches["data_batch_1"][b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(x_train[0], first)
    np.testing.assert_array_equal(y_test.ravel(), [1, 2])


def test_cifar100_label_modes(keras_home, served):
    (x_train, y_fine), _ = cifar100.load_data("fine")
    (_, y_coarse), (x_test, _) = cifar100.load_data(label_mode="coarse")
    c100 = served[2]["cifar100"]
    np.testing.assert_array_equal(y_fine.ravel(), c100["train"][b"fine_labels"])
    np.testing.assert_array_equal(y_coarse.ravel(), c100["train"][b"coarse_labels"])
    assert x_test.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="label_mode.*'medium'"):
        cifar100.load_data("medium")


def test_wrong_hash_is_refused_names_url_and_path_and_leaves_no_file(keras_home, served, monkeypatch):
    monkeypatch.setattr(imdb, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError) as info:
        imdb.load_data()
    message = str(info.value)
    assert served[0] + "imdb.npz" in message and str(keras_home / "datasets" / "imdb.npz") in message
    assert not (keras_home / "datasets" / "imdb.npz").exists()


def test_pickled_arrays_need_the_published_hash_even_in_the_cache(keras_home, served, monkeypatch):
    cached = keras_home / "datasets" / "imdb.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes((served[1] / "imdb.npz").read_bytes())
    monkeypatch.setattr(_download, "fetch", lambda *a, **k: str(cached))  # a loader handed an unverified file
    monkeypatch.setattr(imdb, "FILE_HASH", "1" * 64)
    with pytest.raises(ValueError, match="need pickle, so it is not loaded"):
        imdb.load_data()


def test_restricted_unpickler_refuses_code_even_with_a_matching_hash(keras_home, tmp_path, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    evil = np.empty(1, dtype=object)
    evil[0] = Evil()
    path = tmp_path / "evil.npz"
    np.savez(path, x=evil, y=np.zeros(1))
    monkeypatch.setattr(_download, "fetch", lambda *a, **k: str(path))
    monkeypatch.setattr(reuters, "FILE_HASH", sha256(path))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        reuters.load_data()


def test_dead_server_error_names_url_and_cache_path(keras_home, monkeypatch):
    monkeypatch.setattr(_download, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    with pytest.raises(DownloadError) as info:
        boston_housing.load_data()
    assert "http://127.0.0.1:9/boston_housing.npz" in str(info.value)
    assert str(keras_home / "datasets" / "boston_housing.npz") in str(info.value)
    assert os.listdir(keras_home / "datasets") == []  # no partial file left


def test_missing_file_is_a_404_naming_url_and_path(keras_home, served):
    with pytest.raises(DownloadError, match=r"404.*put it at .*nothing\.npz"):
        get_file("nothing.npz", origin=served[0] + "nothing.npz")


def test_get_file_md5_untar_and_cache_dir(tmp_path, served):
    url, root, _ = served
    md5 = hashlib.md5((root / "mnist.npz").read_bytes()).hexdigest()
    path = get_file("m.npz", url + "mnist.npz", md5_hash=md5, cache_dir=str(tmp_path), cache_subdir="x")
    assert path == str(tmp_path / "x" / "m.npz") and os.path.getsize(path) > 0
    folder = get_file("cifar-10-batches-py", url + "cifar-10-python.tar.gz", untar=True, cache_dir=str(tmp_path))
    assert sorted(os.listdir(folder))[0] == "data_batch_1"
    with pytest.raises(ValueError, match="hash_algorithm.*'sha1'"):
        get_file("a", url + "mnist.npz", file_hash="ab", hash_algorithm="sha1", cache_dir=str(tmp_path))
    with pytest.raises(TypeError, match="origin"):
        get_file("a", None)


def test_get_file_redownloads_a_corrupt_cached_copy(tmp_path, served):
    url, root, _ = served
    target = tmp_path / "datasets" / "mnist.npz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"corrupt")
    get_file("mnist.npz", url + "mnist.npz", file_hash=sha256(root / "mnist.npz"), cache_dir=str(tmp_path))
    assert sha256(target) == sha256(root / "mnist.npz")


def test_mnist_reads_local_npz_and_idx_folders(tmp_path, served, monkeypatch):
    monkeypatch.setattr(_download, "ORIGIN_FOLDER", "http://127.0.0.1:9/")  # proves no download happens
    root, expected = served[1], served[2]["mnist"]
    (x_train, _), (_, y_test) = mnist.load_data(str(root / "mnist.npz"))
    np.testing.assert_array_equal(x_train, expected["x_train"])
    raw = tmp_path / "raw"
    raw.mkdir()
    for stem, key in (("train-images-idx3-ubyte", "x_train"), ("train-labels-idx1-ubyte", "y_train"),
                      ("t10k-images-idx3-ubyte", "x_test"), ("t10k-labels-idx1-ubyte", "y_test")):
        (raw / stem).write_bytes(idx_bytes(expected[key]))
    (x_train, y_train), (x_test, y_test) = mnist.load_data(raw)
    np.testing.assert_array_equal(y_train, expected["y_train"])
    np.testing.assert_array_equal(x_test, expected["x_test"])
    gz = tmp_path / "gz"
    gz.mkdir()
    for name in os.listdir(root):
        if name.endswith("ubyte.gz"):
            (gz / name).write_bytes((root / name).read_bytes())
    (x_train, _), _ = mnist.load_data(str(gz))
    np.testing.assert_array_equal(x_train, expected["x_train"])


def test_mnist_local_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*IDX"):
        mnist.load_data(str(tmp_path / "nowhere" / "mnist.npz"))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 4)
    with pytest.raises(FileNotFoundError, match="missing: train-labels"):
        mnist.load_data(str(tmp_path))
    bad = tmp_path / "bad"
    bad.mkdir()
    for stem in mnist.IDX_FILES:
        (bad / stem).write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05\x00\x00\x00\x02\x00\x00\x00\x02" + b"\x00" * 3)
    with pytest.raises(ValueError, match="truncated"):
        mnist.load_data(str(bad))
    with pytest.raises(TypeError, match="path"):
        mnist.load_data(3)
