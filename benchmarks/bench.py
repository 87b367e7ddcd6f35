"""Benchmarks for cognito_events against boto3 and the floor set by ``requests`` itself.

Run ``python benchmarks/bench.py`` (or ``nox -s bench``); ``--quick`` for a smoke test.
See benchmarks/README.md for what is measured and the figures of the last full run.

This orchestrating process imports only the standard library: the per-call and SigV4
measurements run in worker subprocesses (this same file with ``--worker``), the loopback
server in another, and every cold-start run in a fresh interpreter. That keeps this
process small, which matters because Linux carries the parent's peak RSS into a child's
``ru_maxrss`` across vfork+exec.

Instructions per call are counted by callgrind when ``valgrind`` is on the PATH:
unlike CPU seconds, the counts do not move with the host's load.

Nothing leaves 127.0.0.1: endpoints point at the loopback server, credentials are passed
explicitly, AWS config/credentials files point at empty temp files, IMDS is disabled and
proxy variables are removed from the environment.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import gc
import importlib.util
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

REGION = "us-east-1"
POOL_ID = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
POOL_PATH = "/identitypools/us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TIMEOUT = (3.05, 30.0)
SET_BODY = json.dumps({"Events": {"SyncTrigger": ARN}}, separators=(",", ":")).encode()
GET_EVENTS = {"SyncTrigger": ARN}
SIGN_URL = "https://cognito-sync.us-east-1.amazonaws.com" + POOL_PATH
# Per-call inputs vary from call to call (4 pools x 4 functions for set, 4 pools for get), so
# that no cache of the last request (a signature, a prepared request) can help anyone.
POOL_IDS = [f"us-east-1:0f7e2b2c-1111-2222-3333-44445555666{i}" for i in range(4)]
ARNS = [f"arn:aws:lambda:us-east-1:123456789012:function:f{i}" for i in range(4)]
SET_INPUTS = [(pool, arn) for arn in ARNS for pool in POOL_IDS]

# Headers of the floor's prebuilt requests: the same set and sizes as a SigV4-signed request
# from a requests-based client (fixed values; the loopback server checks nothing).
FLOOR_SIGNED_HEADERS = {
    "Accept-Encoding": "identity",
    "Content-Type": "application/json",
    "X-Amz-Date": "20240101T000000Z",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/cognito-sync/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    ),
    "User-Agent": "bench-floor/0.0 Python/3 requests/2",
}

# Modules that `import cognito_events` (or constructing / using a client) must not pull in.
FORBIDDEN_EXACT = {
    "logging.handlers",
    "logging.config",
    "configparser",
    "argparse",
    "sqlite3",
    "_sqlite3",
    "http.server",
    "socketserver",
}
FORBIDDEN_OWN_PARTS = ("emulat", "server", "cli", "main", "__main__")


# --------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------


def isolated_env(tmp: Path) -> dict[str, str]:
    """The environment for every subprocess: no AWS config, no IMDS, no proxies, no CA
    bundle variables (requests would stat a bundle path on every call of the contenders
    that honour the environment, and the floor passes ``verify=True``: all run with
    requests' defaults instead)."""
    drop_prefixes = ("AWS_", "BOTO_", "PYTHONPATH", "PYTHONSTARTUP", "COVERAGE_")
    proxies = {
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "requests_ca_bundle",
        "curl_ca_bundle",
    }
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop_prefixes) and k.lower() not in proxies
    }
    config = tmp / "aws_config"
    creds = tmp / "aws_credentials"
    config.write_text("")
    creds.write_text("")
    env.update(
        {
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(creds),
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def package_dirs(names: Sequence[str]) -> list[str]:
    dirs: list[str] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
        elif spec is not None and spec.origin:
            dirs.append(spec.origin)
    return dirs


def byte_compile(env: dict[str, str]) -> None:
    """Byte-compile our package and everything the contenders import (no-op when fresh)."""
    names = [
        "cognito_events",
        "requests",
        "urllib3",
        "idna",
        "charset_normalizer",
        "certifi",
        "attr",
        "attrs",
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "dateutil",
        "six",
    ]
    dirs = package_dirs(names)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j0", *dirs], env=env, check=True)


# --------------------------------------------------------------------------------------
# Cold start, imports, RSS (fresh interpreters)
# --------------------------------------------------------------------------------------

OURS_CLIENT = (
    "from cognito_events import CognitoEventsClient, Credentials, RetryPolicy, SYNC_TRIGGER\n"
    "c = CognitoEventsClient(region={region!r}, credentials=Credentials("
    "access_key_id={ak!r}, secret_access_key={sk!r}, session_token=None), "
    "endpoint_url={url!r}, retry=RetryPolicy(max_attempts=1), timeout={timeout!r})\n"
)
OURS_CALL = "c.set_cognito_events({pool!r}, {{SYNC_TRIGGER: {arn!r}}})\n"
BOTO3_FULL = (
    "import boto3, botocore.config\n"
    "c = boto3.client('cognito-sync', region_name={region!r}, endpoint_url={url!r}, "
    "aws_access_key_id={ak!r}, aws_secret_access_key={sk!r}, "
    "config=botocore.config.Config(retries={{'total_max_attempts': 1}}))\n"
    "c.set_cognito_events(IdentityPoolId={pool!r}, Events={{'SyncTrigger': {arn!r}}})\n"
)
FLOOR_FULL = (
    "import requests, attrs\n"
    "from requests.adapters import HTTPAdapter\n"
    "p = requests.Request('POST', {url!r} + {path!r}, headers={headers!r}, data={body!r})"
    ".prepare()\n"
    "r = HTTPAdapter().send(p, timeout={timeout!r})\n"
    "assert r.status_code == 200, r.status_code\n"
)
DEPS_IMPORT = "import requests, attrs\n"
RSS_SUFFIX = (
    "import resource\n"
    "with open('/proc/self/status') as f:\n"
    "    hwm = [ln.split()[1] for ln in f if ln.startswith('VmHWM:')][0]\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm)\n"
)
MODULES_PROBE = (
    "import sys\n"
    "s0 = set(sys.modules)\n"
    "import requests, attrs\n"
    "s1 = set(sys.modules)\n"
    "import cognito_events\n"
    "s2 = set(sys.modules)\n"
    "@CLIENT@"
    "s3 = set(sys.modules)\n"
    "@CALL@"
    "s4 = set(sys.modules)\n"
    "print(repr({'deps': len(s1 - s0), 'import': sorted(s2 - s1), "
    "'construct': sorted(s3 - s2), 'call': sorted(s4 - s3)}))\n"
)


def _fmt(template: str, url: str) -> str:
    return template.format(
        region=REGION,
        ak=ACCESS_KEY,
        sk=SECRET_KEY,
        url=url,
        timeout=TIMEOUT,
        pool=POOL_ID,
        arn=ARN,
        path=POOL_PATH,
        headers=FLOOR_SIGNED_HEADERS,
        body=SET_BODY,
    )


def cold_programs(url: str, have_ours: bool) -> dict[str, str]:
    progs: dict[str, str] = {}
    if have_ours:
        progs["ours: import+client+1 set"] = _fmt(OURS_CLIENT + OURS_CALL, url)
    progs["boto3: import+client+1 set"] = _fmt(BOTO3_FULL, url)
    progs["floor: requests+attrs, 1 HTTPAdapter.send"] = _fmt(FLOOR_FULL, url)
    if have_ours:
        progs["ours: import+construct"] = _fmt(OURS_CLIENT, url)
    progs["import requests, attrs"] = DEPS_IMPORT
    progs["python -c pass"] = "pass\n"
    return progs


@dataclass
class ProcRun:
    wall: float
    cpu: float
    maxrss_kib: int


def run_python(
    code: str, env: dict[str, str], cwd: str, capture: bool = False
) -> tuple[ProcRun, str]:
    """Run ``python -I -c code``; return wall/CPU/ru_maxrss from wait4 and its stdout."""
    with tempfile.TemporaryFile() as errfile:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=errfile,
            env=env,
            cwd=cwd,
        )
        out = ""
        if proc.stdout is not None:
            out = proc.stdout.read().decode()
            proc.stdout.close()
        # os.wait4 (not Popen.wait) to get this child's own rusage.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errfile.seek(0)
            err = errfile.read().decode(errors="replace")
            raise RuntimeError(f"child failed ({proc.returncode}):\n{code}\n{err}")
    return ProcRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss), out


@dataclass
class ColdResults:
    runs: dict[str, list[ProcRun]] = field(default_factory=dict)
    rss: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    modules: dict[str, Any] | None = None

    def wall(self, name: str) -> float:
        return statistics.median(r.wall for r in self.runs[name])

    def cpu(self, name: str) -> float:
        return statistics.median(r.cpu for r in self.runs[name])


def measure_cold(
    url: str, env: dict[str, str], cwd: str, runs: int, rss_runs: int, have_ours: bool
) -> ColdResults:
    progs = cold_programs(url, have_ours)
    names = list(progs)
    res = ColdResults(runs={n: [] for n in names})
    for name in names:  # warm the page cache, unmeasured
        run_python(progs[name], env, cwd)
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            res.runs[name].append(run_python(progs[name], env, cwd)[0])
    rss_progs = {n: progs[n] for n in names if "import+client+1 set" in n or "floor" in n}
    res.rss = {n: [] for n in rss_progs}
    for _ in range(rss_runs):
        for name, code in rss_progs.items():
            out = run_python(code + RSS_SUFFIX, env, cwd, capture=True)[1].split()
            res.rss[name].append((int(out[-2]), int(out[-1])))
    if have_ours:
        probe = MODULES_PROBE.replace("@CLIENT@", _fmt(OURS_CLIENT, url)).replace(
            "@CALL@", _fmt(OURS_CALL, url)
        )
        printed = run_python(probe, env, cwd, capture=True)[1]
        res.modules = ast.literal_eval(printed.strip().splitlines()[-1])
    return res


def forbidden(mods: Sequence[str]) -> list[str]:
    bad = []
    for m in mods:
        # cognito_events.<part>... where a part (underscores stripped) is e.g. "cli",
        # "__main__", "emulator", "_server" (but not "_client").
        parts = [p.strip("_") for p in m.split(".")[1:]] if m.startswith("cognito_events.") else []
        own = any(
            p == bad or p.startswith(bad + "_") or (bad in ("emulat", "server") and bad in p)
            for p in parts
            for bad in FORBIDDEN_OWN_PARTS
        )
        if own or m in FORBIDDEN_EXACT or m.startswith("logging.handlers"):
            bad.append(m)
    return bad


# --------------------------------------------------------------------------------------
# Per-call worker (runs in its own process)
# --------------------------------------------------------------------------------------


CONTENDERS = ("ours", "boto3", "floor")
#: Per-call targets, for CPU time and for instructions alike: ours <= limit x other.
PER_CALL_LIMITS = (("boto3", 0.5), ("floor", 1.15))


def _make_contenders(
    url: str, names: Sequence[str] = CONTENDERS
) -> dict[str, dict[str, Callable[[], object]]]:
    """The set and get calls of each named contender, each checked once against the server."""
    contenders: dict[str, dict[str, Callable[[], object]]] = {}
    if "ours" in names:
        _add_ours(url, contenders)
    if "boto3" in names:
        _add_boto3(url, contenders)
    if "floor" in names:
        _add_floor(url, contenders)
    return contenders


def _add_ours(url: str, contenders: dict[str, dict[str, Callable[[], object]]]) -> None:
    try:
        from cognito_events import (
            SYNC_TRIGGER,
            CognitoEventsClient,
            Credentials,
            RetryPolicy,
        )
    except ImportError as exc:
        print(f"[worker] cognito_events not importable: {exc}", file=sys.stderr)
    else:
        ours = CognitoEventsClient(
            region=REGION,
            credentials=Credentials(
                access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, session_token=None
            ),
            endpoint_url=url,
            retry=RetryPolicy(max_attempts=1),
            timeout=TIMEOUT,
        )
        got = ours.get_cognito_events(POOL_ID)
        assert got == GET_EVENTS, got
        ours_sets = itertools.cycle([(pool, {SYNC_TRIGGER: arn}) for pool, arn in SET_INPUTS])
        ours_gets = itertools.cycle(POOL_IDS)
        contenders["ours"] = {
            "set": lambda: ours.set_cognito_events(*next(ours_sets)),
            "get": lambda: ours.get_cognito_events(next(ours_gets)),
        }


def _add_boto3(url: str, contenders: dict[str, dict[str, Callable[[], object]]]) -> None:
    import boto3
    import botocore.config

    boto = boto3.client(
        "cognito-sync",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    assert boto.get_cognito_events(IdentityPoolId=POOL_ID)["Events"] == GET_EVENTS
    boto_sets = itertools.cycle(
        [{"IdentityPoolId": pool, "Events": {"SyncTrigger": arn}} for pool, arn in SET_INPUTS]
    )
    boto_gets = itertools.cycle(POOL_IDS)
    contenders["boto3"] = {
        "set": lambda: boto.set_cognito_events(**next(boto_sets)),
        "get": lambda: boto.get_cognito_events(IdentityPoolId=next(boto_gets)),
    }


def _add_floor(url: str, contenders: dict[str, dict[str, Callable[[], object]]]) -> None:
    """A prebuilt PreparedRequest per input, copied per call and sent with Session.send;
    public API only, no signing, no JSON, no validation."""
    import requests

    session = requests.Session()
    get_headers = {k: v for k, v in FLOOR_SIGNED_HEADERS.items() if k != "Content-Type"}

    def path(pool: str) -> str:
        return f"{url}/identitypools/{pool.replace(':', '%3A')}/events"

    def set_body(arn: str) -> bytes:
        return json.dumps({"Events": {"SyncTrigger": arn}}, separators=(",", ":")).encode()

    floor_sets = itertools.cycle(
        [
            requests.Request(
                "POST", path(pool), headers=FLOOR_SIGNED_HEADERS, data=set_body(arn)
            ).prepare()
            for pool, arn in SET_INPUTS
        ]
    )
    floor_gets = itertools.cycle(
        [requests.Request("GET", path(pool), headers=get_headers).prepare() for pool in POOL_IDS]
    )
    send = session.send
    kw: dict[str, Any] = {
        "timeout": TIMEOUT,
        "proxies": {},
        "verify": True,
        "allow_redirects": False,
        "stream": False,
        "cert": None,
    }

    def floor_set() -> bytes:
        return send(next(floor_sets).copy(), **kw).content

    def floor_get() -> bytes:
        return send(next(floor_gets).copy(), **kw).content

    assert json.loads(floor_get())["Events"] == GET_EVENTS
    contenders["floor"] = {"set": floor_set, "get": floor_get}


def _loop(fn: Callable[[], object], n: int) -> tuple[float, float]:
    gc.collect()
    pt, pc = time.process_time, time.perf_counter
    c0, w0 = pt(), pc()
    for _ in range(n):
        fn()
    c1, w1 = pt(), pc()
    return (c1 - c0) / n, (w1 - w0) / n


def _warm_up(contenders: dict[str, dict[str, Callable[[], object]]], warmup: int) -> None:
    """``warmup`` calls of every operation, then set-up objects (e.g. botocore's models)
    moved out of the collector's way."""
    for ops in contenders.values():
        for fn in ops.values():
            for _ in range(warmup):
                fn()
    gc.collect()
    gc.freeze()


def worker_percall(url: str, n: int, rounds: int, warmup: int) -> dict[str, Any]:
    """Per round and operation, ``n`` calls of each contender back to back (the order
    rotating from round to round), so that each round gives one ratio between contenders
    measured at nearly the same time."""
    contenders = _make_contenders(url)
    _warm_up(contenders, warmup)
    names = list(contenders)
    out: dict[str, dict[str, dict[str, list[float]]]] = {
        c: {op: {"cpu": [], "wall": []} for op in ("set", "get")} for c in names
    }
    for r in range(rounds):
        k = r % len(names)
        for op in ("set", "get"):
            for name in names[k:] + names[:k]:
                cpu, wall = _loop(contenders[name][op], n)
                out[name][op]["cpu"].append(cpu)
                out[name][op]["wall"].append(wall)
    return out


def worker_instructions(url: str, who: str, op: str, n: int, warmup: int) -> dict[str, Any]:
    """Set up one contender, warm both its operations, then make ``n`` calls of ``op``.

    Run under callgrind with ``n`` calls and with none: the difference between the two
    instruction totals, divided by ``n``, is the instructions per call, with start-up and
    set-up cancelled out."""
    contenders = _make_contenders(url, [who])
    _warm_up(contenders, warmup)
    call = contenders[who][op]
    for _ in range(n):
        call()
    return {"who": who, "op": op, "n": n}


# --------------------------------------------------------------------------------------
# Emulator worker
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _emulator_process() -> Iterator[str]:
    """``cognito-events serve`` in a child process; yields its endpoint URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cognito_events",
            "serve",
            "--port=0",
            f"--identity-pool={POOL_ID}",
            f"--credentials={ACCESS_KEY}:{SECRET_KEY}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("Listening on "), line
        yield line.removeprefix("Listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def worker_emulator(bare_url: str, n: int, rounds: int, warmup: int) -> dict[str, Any]:
    """Round trip of a signed set through the emulator vs a bare server; in-process start."""
    from cognito_events import SYNC_TRIGGER, CognitoEventsClient, Credentials, RetryPolicy
    from cognito_events.testing import Emulator

    credentials = Credentials(ACCESS_KEY, SECRET_KEY)
    out: dict[str, Any] = {"emulator": [], "bare": [], "start_ms": [], "stop_ms": []}
    with _emulator_process() as emulator_url:
        clients = {
            name: CognitoEventsClient(
                region=REGION,
                credentials=credentials,
                endpoint_url=url,
                retry=RetryPolicy(max_attempts=1),
                environ={},
            )
            for name, url in (("emulator", emulator_url), ("bare", bare_url))
        }
        for client in clients.values():
            for _ in range(warmup):
                client.set_cognito_events(POOL_ID, {SYNC_TRIGGER: ARN})
        for r in range(rounds):
            order = ["emulator", "bare"] if r % 2 == 0 else ["bare", "emulator"]
            for name in order:
                client = clients[name]
                began = time.perf_counter()
                for _ in range(n):
                    client.set_cognito_events(POOL_ID, {SYNC_TRIGGER: ARN})
                out[name].append((time.perf_counter() - began) / n)
    for _ in range(rounds * 5):
        emulator = Emulator()
        began = time.perf_counter()
        emulator.start()
        started = time.perf_counter()
        emulator.stop()
        out["start_ms"].append((started - began) * 1000)
        out["stop_ms"].append((time.perf_counter() - started) * 1000)
    return out


# --------------------------------------------------------------------------------------
# SigV4 worker
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def worker_sigv4(n: int, repeats: int) -> dict[str, list[float]]:
    from datetime import UTC, datetime

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    results: dict[str, list[float]] = {}
    auth = SigV4Auth(BotoCredentials(ACCESS_KEY, SECRET_KEY), "cognito-sync", REGION)

    def boto_add_auth() -> float:
        reqs = [
            AWSRequest(
                method="POST",
                url=SIGN_URL,
                headers={"Content-Type": "application/json"},
                data=SET_BODY,
            )
            for _ in range(n)
        ]
        add_auth = auth.add_auth
        with _no_gc():
            t0 = time.perf_counter()
            for req in reqs:
                add_auth(req)
            return (time.perf_counter() - t0) / n

    def boto_build_and_add_auth() -> float:
        add_auth = auth.add_auth
        with _no_gc():
            t0 = time.perf_counter()
            for _ in range(n):
                add_auth(
                    AWSRequest(
                        method="POST",
                        url=SIGN_URL,
                        headers={"Content-Type": "application/json"},
                        data=SET_BODY,
                    )
                )
            return (time.perf_counter() - t0) / n

    def boto_build_only() -> float:
        with _no_gc():
            t0 = time.perf_counter()
            for _ in range(n):
                AWSRequest(
                    method="POST",
                    url=SIGN_URL,
                    headers={"Content-Type": "application/json"},
                    data=SET_BODY,
                )
            return (time.perf_counter() - t0) / n

    timers: dict[str, Callable[[], float]] = {
        "botocore add_auth only": boto_add_auth,
        "botocore AWSRequest() + add_auth": boto_build_and_add_auth,
        "botocore AWSRequest() only": boto_build_only,
    }

    try:
        from cognito_events import Credentials, sigv4
    except ImportError as exc:
        print(f"[worker] cognito_events.sigv4 not importable: {exc}", file=sys.stderr)
    else:
        creds = Credentials(access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)
        sign = sigv4.sign_request

        def ours() -> float:
            with _no_gc():
                t0 = time.perf_counter()
                for _ in range(n):
                    sign(
                        method="POST",
                        url=SIGN_URL,
                        headers={"Content-Type": "application/json"},
                        body=SET_BODY,
                        credentials=creds,
                        region=REGION,
                        service="cognito-sync",
                        timestamp=datetime.now(UTC),
                    )
                return (time.perf_counter() - t0) / n

        ours()  # warm the signing-key cache
        timers = {"ours sigv4.sign_request": ours, **timers}

    for fn in timers.values():  # warm-up
        fn()
    for name in timers:
        results[name] = []
    for _ in range(repeats):
        for name, fn in timers.items():
            results[name].append(fn())
    return results


# --------------------------------------------------------------------------------------
# Orchestration and report
# --------------------------------------------------------------------------------------


def run_worker(args: list[str], env: dict[str, str]) -> Any:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_instructions(
    url: str, env: dict[str, str], n: int, have_ours: bool
) -> dict[str, dict[str, float]] | None:
    """Instructions per call of each contender and operation, counted by callgrind.

    Counts, unlike CPU seconds, do not move with the machine's load: the same program and
    inputs give the same count within a fraction of a percent. Per contender three runs
    (set-up and warm-up only; then ``n`` sets; then ``n`` gets), two at a time; None when
    valgrind is not installed."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    names = [c for c in CONTENDERS if have_ours or c != "ours"]
    # ("set", 0) is the base run: set-up and warm-up, no measured call of either operation.
    runs = [(who, op, count) for who in names for op, count in (("set", 0), ("set", n), ("get", n))]
    instr_env = {**env, "PYTHONHASHSEED": "0"}
    totals: dict[tuple[str, str, int], int] = {}
    pending = list(runs)
    running: list[tuple[tuple[str, str, int], subprocess.Popen[str]]] = []
    while pending or running:
        while pending and len(running) < 2:
            key = pending.pop(0)
            who, op, count = key
            cmd = [
                valgrind,
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker=instructions",
                f"--url={url}",
                f"--who={who}",
                f"--op={op}",
                f"-n={count}",
                "--warmup=50",
            ]
            proc = subprocess.Popen(
                cmd,
                env=instr_env,
                cwd=str(ROOT),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            running.append((key, proc))
        key, proc = running.pop(0)
        _, err = proc.communicate()
        found = re.search(r"Collected : (\d+)", err)
        if proc.returncode != 0 or found is None:
            raise RuntimeError(f"callgrind run {key} failed:\n{err[-2000:]}")
        totals[key] = int(found.group(1))
    return {
        who: {op: (totals[(who, op, n)] - totals[(who, "set", 0)]) / n for op in ("set", "get")}
        for who in names
    }


@dataclass
class Target:
    name: str
    value: float | None
    limit: float
    unit: str = "x"

    @property
    def shown(self) -> str:
        if self.value is None:
            return "-"
        if self.unit != "x":
            return f"{self.value:.2f} {self.unit}"
        return f"{self.value:.0f}" if self.limit == 0 else f"{self.value:.3f}x"

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        return "PASS" if self.value <= self.limit else "MISS"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _r(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}x"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="few iterations (smoke test)")
    ap.add_argument(
        "--worker",
        choices=["percall", "sigv4", "emulator", "instructions"],
        help=argparse.SUPPRESS,
    )
    ap.add_argument("--who", choices=CONTENDERS, help=argparse.SUPPRESS)
    ap.add_argument("--op", choices=["set", "get"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("-n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker == "percall":
        print(json.dumps(worker_percall(args.url, args.n, args.rounds, args.warmup)))
        return 0
    if args.worker == "instructions":
        print(json.dumps(worker_instructions(args.url, args.who, args.op, args.n, args.warmup)))
        return 0
    if args.worker == "sigv4":
        print(json.dumps(worker_sigv4(args.n, args.rounds)))
        return 0
    if args.worker == "emulator":
        print(json.dumps(worker_emulator(args.url, args.n, args.rounds, args.warmup)))
        return 0

    sys.path.insert(0, str(HERE))
    from _server import ServerProcess

    quick = args.quick
    n_calls, rounds, warmup = (300, 2, 50) if quick else (700, 21, 200)
    instr_n = 50 if quick else 400
    cold_runs, rss_runs = (5, 2) if quick else (21, 5)
    sig_n, sig_repeats = (500, 3) if quick else (5000, 7)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cognito-bench-") as tmpdir:
        tmp = Path(tmpdir)
        env = isolated_env(tmp)
        have_ours = importlib.util.find_spec("cognito_events") is not None
        if have_ours:
            probe = subprocess.run(
                [sys.executable, "-I", "-c", "import cognito_events.sigv4, cognito_events"],
                env=env,
                cwd=tmpdir,
                capture_output=True,
                text=True,
            )
            have_ours = probe.returncode == 0
            if not have_ours:
                print("cognito_events is not importable; its rows are skipped:", file=sys.stderr)
                print(probe.stderr.strip().splitlines()[-1:], file=sys.stderr)
        print("byte-compiling packages ...", flush=True)
        byte_compile(env)

        print(f"cold start: {cold_runs} interleaved runs per program ...", flush=True)
        with ServerProcess() as srv:
            cold = measure_cold(srv.url, env, tmpdir, cold_runs, rss_runs, have_ours)
            cold_stats = srv.stop()

        print(f"per call: {rounds} rounds x {n_calls} calls per op ...", flush=True)
        with ServerProcess() as srv:
            percall: dict[str, Any] = run_worker(
                [
                    "--worker=percall",
                    f"--url={srv.url}",
                    f"-n={n_calls}",
                    f"--rounds={rounds}",
                    f"--warmup={warmup}",
                ],
                env,
            )
            percall_stats = srv.stop()

        print(f"instructions: callgrind, {instr_n} calls per op after set-up ...", flush=True)
        with ServerProcess() as srv:
            instr = measure_instructions(srv.url, env, instr_n, have_ours)
            srv.stop()

        emu_n, emu_rounds = (100, 2) if quick else (500, 7)
        print(f"emulator: {emu_rounds} rounds x {emu_n} signed sets ...", flush=True)
        emu: dict[str, Any] = {}
        if have_ours:
            with ServerProcess() as srv:
                emu = run_worker(
                    [
                        "--worker=emulator",
                        f"--url={srv.url}",
                        f"-n={emu_n}",
                        f"--rounds={emu_rounds}",
                        f"--warmup={warmup}",
                    ],
                    env,
                )
                srv.stop()

        print(f"sigv4: {sig_repeats} repeats x {sig_n} signatures ...", flush=True)
        sig: dict[str, list[float]] = run_worker(
            ["--worker=sigv4", f"-n={sig_n}", f"--rounds={sig_repeats}"], env
        )
    elapsed = time.perf_counter() - started

    targets: list[Target] = []
    print()
    print(
        f"== 1. per call, one kept-alive connection ({rounds} rounds x {n_calls} calls; "
        "medians over rounds; ratios are medians of per-round ratios)"
    )
    med = {
        c: {op: {k: statistics.median(v) * 1e6 for k, v in d.items()} for op, d in ops.items()}
        for c, ops in percall.items()
    }

    def paired(c: str, other: str, op: str) -> float | None:
        """The median over rounds of c's CPU per call divided by other's, same round."""
        if c not in percall or other not in percall:
            return None
        mine, theirs = percall[c][op]["cpu"], percall[other][op]["cpu"]
        return float(statistics.median(a / b for a, b in zip(mine, theirs, strict=True)))

    rows = []
    for op in ("set", "get"):
        for c in med:
            cpu, wall = med[c][op]["cpu"], med[c][op]["wall"]
            cpus = [x * 1e6 for x in percall[c][op]["cpu"]]
            rows.append(
                [
                    f"{op}_cognito_events: {c}",
                    f"{cpu:.1f}",
                    f"{min(cpus):.0f}-{max(cpus):.0f}",
                    f"{wall:.1f}",
                    _r(paired(c, "boto3", op)),
                    _r(paired(c, "floor", op)),
                ]
            )
        for other, limit in PER_CALL_LIMITS:
            targets.append(
                Target(f"{op}: ours CPU/call <= {limit}x {other}", paired("ours", other, op), limit)
            )
    print_table(
        [
            "contender",
            "CPU us/call",
            "CPU range (rounds)",
            "wall us/call",
            "CPU vs boto3",
            "CPU vs floor",
        ],
        rows,
    )
    print(f"   server: {percall_stats} (one connection per contender = keep-alive held)\n")

    if instr is None:
        print("== 1b. instructions per call: valgrind not found, not measured\n")
    else:
        print(
            f"== 1b. instructions per call (callgrind; {instr_n} calls after set-up and "
            "warm-up, minus a run without them)"
        )
        rows = []
        for op in ("set", "get"):
            for c, ops in instr.items():
                rows.append(
                    [
                        f"{op}_cognito_events: {c}",
                        f"{ops[op] / 1e3:.1f}",
                        _r(_ratio(ops[op], instr.get("boto3", {}).get(op))),
                        _r(_ratio(ops[op], instr.get("floor", {}).get(op))),
                    ]
                )
            for other, limit in PER_CALL_LIMITS:
                targets.append(
                    Target(
                        f"{op}: ours instructions/call <= {limit}x {other}",
                        _ratio(instr.get("ours", {}).get(op), instr.get(other, {}).get(op)),
                        limit,
                    )
                )
        print_table(["contender", "k instructions/call", "vs boto3", "vs floor"], rows)

    print(
        f"== 2/3. cold start, fresh `python -I -c` processes ({cold_runs} interleaved runs; "
        "medians; RSS from separate runs)"
    )
    rows = []
    for name, runs in cold.runs.items():
        rss = cold.rss.get(name)
        rss_txt = "-"
        if rss:
            rss_txt = (
                f"{statistics.median(r[0] for r in rss) / 1024:.1f} / "
                f"{statistics.median(r[1] for r in rss) / 1024:.1f}"
            )
        rows.append(
            [
                name,
                f"{cold.wall(name) * 1e3:.1f}",
                f"{min(r.wall for r in runs) * 1e3:.1f}",
                f"{cold.cpu(name) * 1e3:.1f}",
                rss_txt,
            ]
        )
    print_table(
        ["program", "wall ms (median)", "wall ms (min)", "CPU ms", "ru_maxrss / VmHWM MiB"], rows
    )
    print(f"   server: {cold_stats}\n")

    def cw(name: str) -> float | None:
        return cold.wall(name) if name in cold.runs else None

    def rss_of(name: str) -> float | None:
        rss = cold.rss.get(name)
        return float(statistics.median(r[0] for r in rss)) if rss else None

    ours_full = cw("ours: import+client+1 set")
    targets += [
        Target(
            "cold: ours full <= 0.6x boto3",
            _ratio(ours_full, cw("boto3: import+client+1 set")),
            0.6,
        ),
        Target(
            "cold: ours full <= 1.1x dependency floor",
            _ratio(ours_full, cw("floor: requests+attrs, 1 HTTPAdapter.send")),
            1.1,
        ),
        Target(
            "cold: import+construct <= 1.1x import requests, attrs",
            _ratio(cw("ours: import+construct"), cw("import requests, attrs")),
            1.1,
        ),
        Target(
            "peak RSS: ours <= 0.7x boto3",
            _ratio(rss_of("ours: import+client+1 set"), rss_of("boto3: import+client+1 set")),
            0.7,
        ),
    ]

    if cold.modules is not None:
        mods = cold.modules
        print(f"== modules beyond `import requests, attrs` (which itself loads {mods['deps']}):")
        for stage in ("import", "construct", "call"):
            print(f"   {stage:9} +{len(mods[stage])}: {', '.join(mods[stage]) or '-'}")
        bad = forbidden(mods["import"] + mods["construct"])
        bad_call = forbidden(mods["call"])
        print(f"   forbidden at import/construct: {', '.join(bad) or 'none'}")
        print(f"   forbidden after one call:      {', '.join(bad_call) or 'none'}\n")
        targets.append(Target("imports: nothing forbidden loaded eagerly", float(len(bad)), 0))

    print(f"== 4. SigV4 signing of the Set request ({sig_repeats} repeats x {sig_n}; median)")
    sig_med = {k: statistics.median(v) * 1e6 for k, v in sig.items()}
    base = sig_med["botocore add_auth only"]
    print_table(
        ["signer", "us/signature", "vs add_auth only"],
        [[k, f"{v:.2f}", _r(v / base)] for k, v in sig_med.items()],
    )
    targets.append(
        Target(
            "sigv4: ours <= 0.25x botocore add_auth",
            _ratio(sig_med.get("ours sigv4.sign_request"), base),
            0.25,
        )
    )

    if emu:
        print(f"== 5. emulator ({emu_rounds} rounds x {emu_n} signed sets; medians)")
        emu_rt = statistics.median(emu["emulator"]) * 1e6
        bare_rt = statistics.median(emu["bare"]) * 1e6
        start_ms = statistics.median(emu["start_ms"])
        print_table(
            ["measure", "median", "vs bare server"],
            [
                ["signed set round trip: emulator (us)", f"{emu_rt:.1f}", _r(emu_rt / bare_rt)],
                ["signed set round trip: bare server (us)", f"{bare_rt:.1f}", _r(1.0)],
                ["Emulator() start in-process (ms)", f"{start_ms:.2f}", "-"],
                ["Emulator.stop() (ms)", f"{statistics.median(emu['stop_ms']):.2f}", "-"],
            ],
        )
        targets.append(Target("emulator: signed set <= 2x bare server", emu_rt / bare_rt, 2.0))
        targets.append(Target("emulator: in-process start < 50 ms", start_ms, 50.0, "ms"))

    print("== targets")
    print_table(
        ["target", "measured", "verdict"],
        [[t.name, t.shown, t.verdict] for t in targets],
    )
    print(f"total bench time: {elapsed:.0f} s{' (--quick)' if quick else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
