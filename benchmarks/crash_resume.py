"""How well does BackupAndRestore survive kill -9, and what do backups cost?

Kills: runs tests/scripts/crash_train.py (Dense-Dropout-Dense, shuffled data, Adam,
CSVLogger, EarlyStopping, ReduceLROnPlateau) again and again, SIGKILLing attempts at
random points (before a batch, half-way through a backup write, inside validation,
or from outside at a random moment), rerunning each run until it finishes, and
compares every finished run with an uninterrupted run without BackupAndRestore.

``--cases`` rotates the runs over crash_train.py's data/callback cases: ``arrays``
(the run above), ``weighted`` (a DataLoader with a WeightedRandomSampler), ``sequence``
(a Sequence shuffling in on_epoch_end), ``lr`` (a LearningRateScheduler), and the
others crash_train.py knows; each is compared with its own uninterrupted run. Every
finished run is also checked for temp files left anywhere in its folder.

Overhead: the same training without kills, with no backup and with each save_freq,
interleaved round by round so that load on the machine hits every setting alike.

Usage::

    python benchmarks/crash_resume.py                 # 100 kills, overhead of epoch, 4, 1
    python benchmarks/crash_resume.py --kills 20 --rounds 5 --save-freqs epoch,10,1
    python benchmarks/crash_resume.py --kills 100 --cases arrays,weighted,sequence,lr
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "scripts"))
sys.path.insert(0, os.path.join(HERE, ".."))

from crash_train import CASES, STEPS_PER_EPOCH, AttemptServer  # noqa: E402
from kerosene.callbacks import backup as backup_module  # noqa: E402

SCRIPT = os.path.join(HERE, "..", "tests", "scripts", "crash_train.py")


def case_options(case):
    """crash_train.py's options for ``case``: the arrays run also has EarlyStopping and ReduceLROnPlateau."""
    return ["--monitors"] if case == "arrays" else ["--case", case]


def reference_run(folder, case="arrays"):
    """The uninterrupted run, in a fresh interpreter, without BackupAndRestore."""
    os.makedirs(folder)
    done = subprocess.run([sys.executable, SCRIPT, folder, "--backup", "none", *case_options(case)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"the reference run failed:\n{done.stderr}")
    return load_result(folder)


def load_result(folder):
    weights = torch.load(os.path.join(folder, "final.pt"), weights_only=True)
    with open(os.path.join(folder, "history.json")) as handle:
        history = json.load(handle)
    csv_path = os.path.join(folder, "log.csv")
    csv_text = open(csv_path).read() if os.path.exists(csv_path) else None
    return weights, history, csv_text


def kill_plan(rng, total_batches, count, save_freq):
    """Up to ``count`` kill points, in the order the run meets them; maybe a timed kill last.

    A point the run never reaches (a resume went past it) just lets that run finish.
    """
    timed = count > 1 and rng.random() < 0.5
    plan = []
    for position in rng.sample(range(1, total_batches), count - timed):
        kind = rng.choice(["batch", "write", "val"])
        epoch_end = (position // STEPS_PER_EPOCH + 1) * STEPS_PER_EPOCH - 0.5
        if kind == "val":
            plan.append((epoch_end, "val", position // STEPS_PER_EPOCH))
        elif kind == "write":
            every = int(save_freq) if save_freq != "epoch" else None
            when = epoch_end + 0.25 if every is None else -(-(position + 1) // every) * every - 0.75
            plan.append((when, "write", position))
        else:
            plan.append((position - 0.9, "batch", position))
    plan = [(kind, where) for _, kind, where in sorted(plan)]
    if timed:
        plan.append(("timed", rng.uniform(0.0, 0.5)))
    return plan


def backup_is_sound(folder):
    path = os.path.join(folder, "backup", "latest.backup")
    if not os.path.exists(path):
        return True
    try:
        with open(path, "rb") as handle:
            backup_module.decode(handle.read(), path)
        return True
    except ValueError:
        return False


def temp_files(folder):
    return [name for _, _, names in os.walk(folder) for name in names if name.endswith(".tmp")]


def crash_runs(server, workroot, references, kills_wanted, rng, save_freqs):
    cases = list(references)
    stats = {"kills": 0, "attempts": 0, "runs": 0, "identical": 0, "corrupt": 0, "temp_left": 0, "by_kind": {},
             "by_case": {}}
    while stats["kills"] < kills_wanted:
        folder = os.path.join(workroot, f"run{stats['runs']}")
        os.makedirs(folder)
        save_freq = save_freqs[stats["runs"] % len(save_freqs)]
        case = cases[(stats["runs"] // len(save_freqs)) % len(cases)]
        ref_weights, ref_history, ref_csv = references[case]
        total_batches = len(ref_history["epoch"]) * STEPS_PER_EPOCH
        common = [folder, "--backup", save_freq, *case_options(case)]
        plan = kill_plan(rng, total_batches, min(5, kills_wanted - stats["kills"]), save_freq)
        code = None
        for kind, where in plan:
            if kind == "timed":
                code, _ = server.run(common, kill_after=where)
            else:
                code, _ = server.run(common + ["--kill", f"{kind}:{where}"])
            stats["attempts"] += 1
            if code == -signal.SIGKILL:
                stats["kills"] += 1
                stats["by_kind"][kind] = stats["by_kind"].get(kind, 0) + 1
                stats["corrupt"] += not backup_is_sound(folder)
            elif code != 0:
                raise SystemExit(f"an attempt failed with {code}; see {server.log.name}")
            else:
                break   # this run finished before the remaining kill points
        while code != 0:
            code, _ = server.run(common)
            stats["attempts"] += 1
            if code not in (0, -signal.SIGKILL):
                raise SystemExit(f"a rerun failed with {code}; see {server.log.name}")
        weights, history, csv_text = load_result(folder)
        same = (weights.keys() == ref_weights.keys() and all(torch.equal(weights[k], ref_weights[k])
                                                             for k in weights))
        same = same and history == ref_history and csv_text == ref_csv
        left = temp_files(folder)
        stats["identical"] += same
        stats["temp_left"] += len(left)
        stats["runs"] += 1
        done = stats["by_case"].setdefault(case, [0, 0])
        done[0] += same
        done[1] += 1
        print(f"  run {stats['runs']:3d} {case:>9} save_freq={save_freq:>5}: {stats['kills']:4d} kills so far, "
              f"{'identical' if same else 'DIFFERENT'}{f', temp files left: {left}' if left else ''}", flush=True)
    return stats


def overhead(server, workroot, save_freqs, rounds):
    settings = ["none"] + save_freqs
    times = {s: [] for s in settings}
    for round_index in range(rounds):
        for setting in settings:
            folder = os.path.join(workroot, f"time{round_index}_{setting}")
            os.makedirs(folder)
            code, out = server.run([folder, "--backup", setting, "--monitors"])
            if code != 0:
                raise SystemExit(f"a timing run failed; see {server.log.name}")
            times[setting].append(float(out.split("FIT_SECONDS")[1].split()[0]))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs to survive in all (default 100)")
    parser.add_argument("--save-freqs", default="epoch,4,1", help="save_freq settings, comma separated")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds per setting (default 5)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cases", default="arrays", help=f"runs rotate over these, comma separated: {', '.join(CASES)}")
    args = parser.parse_args()
    if args.kills < 0 or args.rounds < 1:
        raise SystemExit("--kills must be >= 0 and --rounds >= 1")
    save_freqs = [s.strip() for s in args.save_freqs.split(",") if s.strip()]
    for s in save_freqs:
        if s != "epoch" and not (s.isdigit() and int(s) > 0):
            raise SystemExit(f"--save-freqs takes 'epoch' or positive integers, got {s!r}")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases:
        raise SystemExit(f"--cases takes some of {', '.join(CASES)}, got {args.cases!r}")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    with tempfile.TemporaryDirectory() as workroot:
        server = AttemptServer(os.path.join(workroot, "attempts.log"), timeout=24 * 3600)
        try:
            print(f"seed {seed}; reference runs...", flush=True)
            references = {case: reference_run(os.path.join(workroot, f"reference_{case}"), case) for case in cases}
            reference = references[cases[0]]
            stats = crash_runs(server, workroot, references, args.kills, rng, save_freqs)
            times = overhead(server, workroot, save_freqs, args.rounds)
        finally:
            server.close()

    print()
    print("| kills survived | by kind | runs | bitwise identical runs (by case) | corrupted backups found "
          "| temp files left | attempts |")
    print("|---|---|---|---|---|---|---|")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats["by_kind"].items()))
    by_case = ", ".join(f"{c} {same}/{runs}" for c, (same, runs) in stats["by_case"].items())
    print(f"| {stats['kills']} | {kinds} | {stats['runs']} | {stats['identical']}/{stats['runs']} ({by_case}) | "
          f"{stats['corrupt']} | {stats['temp_left']} | {stats['attempts']} |")
    print()
    base = statistics.median(times["none"])
    print(f"fit() time, median of {args.rounds} interleaved rounds "
          f"({len(reference[1]['epoch'])} epochs x {STEPS_PER_EPOCH} batches):")
    print("| save_freq | median s | ratio vs no backup |")
    print("|---|---|---|")
    for setting, values in times.items():
        median = statistics.median(values)
        print(f"| {setting} | {median:.3f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
