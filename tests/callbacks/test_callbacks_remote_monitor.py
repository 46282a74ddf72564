"""RemoteMonitor against real http.server instances on 127.0.0.1: one that records posts,
one that is down, one that is slow, one that fails."""
import contextlib
import json
import socket
import threading
import time
import urllib.parse
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from kerosene.callbacks import RemoteMonitor
from kerosene.layers import Dense
from kerosene.models import Sequential

X = np.random.default_rng(3).normal(size=(16, 4)).astype("float32")
Y = X[:, :1] * 2.0


def model():
    m = Sequential([Dense(1, input_dim=4)])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return m


@contextlib.contextmanager
def server(behaviour="record"):
    """A real HTTP server on 127.0.0.1; yields (root URL, list of received requests)."""
    received = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if behaviour == "slow":
                release.wait(60)  # far longer than any timeout under test
            received.append({"path": self.path, "headers": dict(self.headers), "body": body,
                             "finished": behaviour != "slow" or release.is_set()})
            status = 500 if behaviour == "fail" else 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", received, release
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fit(monitor, epochs=3, **kwargs):
    return model().fit(X, Y, batch_size=8, epochs=epochs, verbose=0, validation_data=(X, Y),
                       callbacks=[monitor], **kwargs)


def test_form_encoded_posts_carry_each_epochs_logs():
    with server() as (root, received, _):
        history = fit(RemoteMonitor(root=root, headers={"X-Run": "42"}))
    assert len(received) == 3
    for epoch, request in enumerate(received):
        assert request["path"] == "/publish/epoch/end/"
        assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
        assert request["headers"]["X-Run"] == "42"
        form = urllib.parse.parse_qs(request["body"].decode())
        assert list(form) == ["data"]
        payload = json.loads(form["data"][0])
        assert payload["epoch"] == epoch
        for key in ("loss", "mae", "val_loss", "val_mae"):
            assert payload[key] == history.history[key][epoch]


def test_json_posts_with_custom_path_and_field():
    with server() as (root, received, _):
        history = fit(RemoteMonitor(root=root, path="/metrics", field="ignored", send_as_json=True), epochs=2)
    assert [r["path"] for r in received] == ["/metrics", "/metrics"]
    payload = json.loads(received[1]["body"])
    assert received[1]["headers"]["Content-Type"] == "application/json"
    assert payload == {"epoch": 1, **{k: v[1] for k, v in history.history.items()}}


def test_a_server_that_is_down_warns_and_training_goes_on():
    monitor = RemoteMonitor(root=f"http://127.0.0.1:{free_port()}", timeout=2.0)
    with pytest.warns(RuntimeWarning, match="could not reach RemoteMonitor root server") as caught:
        history = fit(monitor)
    assert history.epoch == [0, 1, 2]
    assert sum("could not reach" in str(w.message) for w in caught) == 3


def test_a_slow_server_costs_at_most_the_timeout_per_epoch():
    timeout = 0.3
    epochs = 2
    with server("slow") as (root, received, release):
        monitor = RemoteMonitor(root=root, timeout=timeout)
        durations = []
        send = monitor.on_epoch_end

        def timed(epoch, logs=None):
            began = time.perf_counter()
            send(epoch, logs)
            durations.append(time.perf_counter() - began)

        monitor.on_epoch_end = timed
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = fit(monitor, epochs=epochs)
        elapsed = time.perf_counter() - start
        # The server holds every request for 60 s: fit returned while it still held them.
        assert not release.is_set() and received == []
    assert history.epoch == [0, 1]
    assert sum("could not reach" in str(w.message) for w in caught) == epochs
    assert elapsed < 60
    # Each epoch waited for the timeout, and not for the 60 s the server would have taken.
    assert len(durations) == epochs and all(timeout * 0.9 <= d < timeout * 10 for d in durations)


def test_an_error_status_warns_with_the_code():
    with server("fail") as (root, received, _):
        with pytest.warns(RuntimeWarning, match="500"):
            history = fit(RemoteMonitor(root=root), epochs=1)
    assert history.epoch == [0] and len(received) == 1


def test_only_the_main_process_sends(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    with server() as (root, received, _):
        fit(RemoteMonitor(root=root), epochs=2)
    assert received == []


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(root="localhost:9000"), ValueError, "root"),
    (dict(root=9000), ValueError, "root"),
    (dict(path=None), TypeError, "path"),
    (dict(field=""), ValueError, "field"),
    (dict(headers={"a": 1}), TypeError, "headers"),
    (dict(timeout=0), ValueError, "timeout"),
    (dict(timeout="5"), TypeError, "timeout"),
])
def test_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        RemoteMonitor(**kwargs)
