"""Two "nodes" on one machine: two torchrun agents meeting through a c10d rendezvous.

Each agent is its own process (``--nnodes=2 --nproc_per_node=1``) as it would be on two
machines; they find each other at ``127.0.0.1:<free port>`` and the rendezvous gives each
its node rank. Both train tests/scripts/multinode_train.py (a DDP fit and an FSDP fit),
and the result must be the one-agent ``--nproc_per_node=2 --standalone`` run's.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "scripts", "multinode_train.py")
HANG_GUARD = 120  # seconds per launch; two small fits take ~10 s on a quiet machine

sys.path.insert(0, os.path.dirname(SCRIPT))
from torchrun_launch import launch_env, torchrun  # noqa: E402


def free_port():
    """A port nobody listens on now: the one the kernel gives a socket bound to port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_naming(marker):
    """Pids of live processes whose command line holds ``marker`` (agents and their workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue  # it ended while we looked
        if marker in cmdline and not zombie:
            found.append(int(entry))
    return found


def stop(agents, marker):
    """End every agent and worker of this launch; return the pids still alive once the agents ended.

    torchrun starts each worker in a session of its own, so killing an agent's process group
    does not reach its workers: SIGTERM first (the agent then stops its workers), SIGKILL the
    agent's group after a grace period, then SIGKILL any process still naming ``marker``.
    """
    for agent in agents:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for agent in agents:
        try:
            agent.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(agent.pid, signal.SIGKILL)  # the agent's own group (start_new_session=True)
        except ProcessLookupError:
            pass
        agent.wait(timeout=10)
    leftovers = processes_naming(marker)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers


def two_agents(out, logs):
    """Run SCRIPT as two torchrun agents of one node each; return (their return codes, the run id)."""
    port = free_port()
    run_id = f"kerosene-test-{os.getpid()}-{port}"
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1",
               "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{port}", f"--rdzv_id={run_id}",
               f"--rdzv_conf=join_timeout={HANG_GUARD}", "--max_restarts=0", SCRIPT, str(out)]
    agents, codes, leftovers = [], None, []
    try:
        for node in range(2):
            with open(logs / f"agent{node}.log", "w") as log:
                agents.append(subprocess.Popen(command, env=launch_env(), cwd=ROOT, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + HANG_GUARD
        while time.monotonic() < deadline:
            codes = [agent.poll() for agent in agents]
            if None not in codes or any(code not in (None, 0) for code in codes):
                break  # both done, or one failed: the other would wait on it, so stop now
            time.sleep(0.2)
    finally:
        leftovers = stop(agents, str(out))
    assert not leftovers, f"processes of the launch outlived their agents: {leftovers}"
    return codes, run_id


def read_ranks(out):
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(2)]


def test_two_agents_on_one_machine_train_as_one_agent_with_two_processes(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    proc = torchrun(SCRIPT, [str(one)], timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    codes, run_id = two_agents(two, tmp_path)
    logs = "".join((tmp_path / f"agent{n}.log").read_text() for n in range(2))
    assert codes == [0, 0], logs

    single_agent, two_nodes = read_ranks(one), read_ranks(two)
    assert [r["launch"]["local_world_size"] for r in single_agent] == [2, 2]
    assert [r["launch"]["local_world_size"] for r in two_nodes] == [1, 1]
    assert sorted(r["launch"]["node_rank"] for r in two_nodes) == [0, 1]  # really two nodes
    assert {r["launch"]["run_id"] for r in two_nodes} == {run_id}
    assert [r["launch"]["world_size"] for r in two_nodes] == [2, 2]
    for rank in range(2):
        for engine, param_type in (("ddp", "Parameter"), ("fsdp", "DTensor")):
            want, got = single_agent[rank][engine], two_nodes[rank][engine]
            assert got["param_types"] == [param_type]
            # The same ranks reduce the same numbers over gloo either way: bitwise, not merely close.
            assert len(got["weights"]) == len(want["weights"])
            for a, b in zip(got["weights"], want["weights"]):
                assert np.array_equal(np.array(a), np.array(b)), (rank, engine)
            assert got["history"] == want["history"]
            assert got["history"]["loss"][-1] < got["history"]["loss"][0]  # it trained
