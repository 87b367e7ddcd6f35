"""cProfile of N sequential calls against the loopback server: where does the time go?

    python benchmarks/profile_calls.py [--op set|get] [-n 2000] [--contender ours|floor|boto3]

Prints the share of self time per layer (cognito_events, requests, urllib3, http.client,
socket I/O, the rest of the stdlib, ...), then the top functions by cumulative and by own
time. Profiling inflates Python-level overhead relative to C calls, so read the numbers as
proportions, not as the CPU figures bench.py measures.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402
from _server import ServerProcess  # noqa: E402

LAYERS = (
    ("cognito_events", "cognito_events"),
    ("/requests/", "requests"),
    ("/urllib3/", "urllib3"),
    ("/botocore/", "botocore"),
    ("/boto3/", "boto3"),
    ("http/client.py", "http.client"),
    ("email/", "email (header parsing)"),
)


def layer_of(filename: str, funcname: str) -> str:
    if filename == "~":  # a C function
        if any(s in funcname for s in ("socket", "recv_into", "sendall", "select", "poll")):
            return "socket/select syscalls"
        return "C builtins"
    for needle, label in LAYERS:
        if needle in filename:
            return label
    return "other stdlib" if "python3." in filename else filename


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--op", choices=["set", "get"], default="set")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--contender", choices=["ours", "floor", "boto3"], default="ours")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument(
        "--timer",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: time.process_time (blocking waits excluded); wall: perf_counter",
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cognito-prof-") as tmp:
        os.environ.clear()
        os.environ.update(bench.isolated_env(Path(tmp)))
        with ServerProcess() as srv:
            fn = bench._make_contenders(srv.url)[args.contender][args.op]
            for _ in range(200):
                fn()
            timer = time.process_time if args.timer == "cpu" else time.perf_counter
            prof = cProfile.Profile(timer)
            prof.enable()
            for _ in range(args.n):
                fn()
            prof.disable()

    stats = pstats.Stats(prof)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_layer[layer_of(filename, func)] += tt
    print(
        f"{args.contender} {args.op}_cognito_events x {args.n}: {total / args.n * 1e6:.1f} us/call "
        "under the profiler"
    )
    print("self time per layer:")
    for name, tt in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28} {tt / args.n * 1e6:8.1f} us/call  {tt / total:6.1%}")
    print()
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
