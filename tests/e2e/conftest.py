"""Starts the real Worker under `wrangler dev` (workerd + a local R2 bucket) for the e2e tests.

Each Worker runs on a free loopback port with its own fresh state folder under a temporary
directory, and is stopped (with its whole process group) when the tests end. Nothing is written
outside that temporary directory.
"""
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRANGLER = ROOT / "scripts" / "node_modules" / ".bin" / "wrangler"
sys.path.insert(0, str(ROOT / "scripts"))
import local_r2_export  # noqa: E402  (the same reader `make local-objects` uses)


def free_port() -> int:
    """A loopback port that is free now, chosen below the kernel's ephemeral range.

    Port 0 would hand out an ephemeral port, which any outgoing connection on the machine (the
    load test opens many) may take before wrangler binds it; CI once failed that way."""
    low = 20000
    try:
        low = min(low, int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) - 4000)
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randrange(max(low - 8000, 10000), max(low, 10001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortClash(RuntimeError):
    """wrangler dev could not bind a port it was given."""


class Worker:
    """A `wrangler dev` process and helpers to talk to it and read its bucket."""

    def __init__(self, tmp: Path, extra_args=(), config: Path = ROOT / "wrangler.toml"):
        # A port can still be taken between choosing it and wrangler binding it: try again on
        # another port then, and only then.
        for attempt in range(3):
            try:
                self._start(tmp, extra_args, config)
                return
            except PortClash:
                if attempt == 2:
                    raise

    def _start(self, tmp: Path, extra_args, config: Path):
        self.port = free_port()
        self.state = tmp / f"state-{self.port}"
        self.log = open(tmp / f"wrangler-{self.port}.log", "w")
        env = dict(os.environ, WRANGLER_SEND_METRICS="false", CI="true", NO_COLOR="1",
                   XDG_CONFIG_HOME=str(tmp / "xdg"), WRANGLER_LOG_PATH=str(tmp / "wrangler-logs"))
        self.proc = subprocess.Popen(
            [str(WRANGLER), "dev", "--config", str(config), "--ip", "127.0.0.1",
             "--port", str(self.port), "--inspector-port", str(free_port()),
             "--persist-to", str(self.state), "--show-interactive-dev-session=false", *extra_args],
            cwd=config.parent, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + 120
        while True:
            try:
                if self.get("/")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                log = (tmp / f"wrangler-{self.port}.log").read_text()
                if "Address already in use" in log:
                    raise PortClash(log[-3000:])
                raise RuntimeError(f"wrangler dev did not start:\n{log[-3000:]}")
            time.sleep(0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, content_type="application/x-protobuf", gz=False, headers=None):
        h = {"Content-Type": content_type, **(headers or {})}
        if gz:
            body = gzip.compress(body)
            h["Content-Encoding"] = "gzip"
        return self.request("POST", path, body, h)

    def objects(self) -> dict:
        """Every object in the local R2 bucket: key -> bytes (miniflare's on-disk layout)."""
        return dict(local_r2_export.objects(self.state, "otlp2r2"))

    def export_tree(self, dest: Path) -> Path:
        """Writes the bucket's objects under `dest` as files named by key."""
        if dest.exists():
            shutil.rmtree(dest)
        for key, data in self.objects().items():
            p = dest / key
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return dest

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def tmp_root():
    d = Path(tempfile.mkdtemp(prefix="otlp2r2-e2e-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def local_config(tmp: Path, name: str, without_bucket=False, toml_vars=None) -> Path:
    """A copy of wrangler.toml inside the temporary folder, pointing at the built Worker.

    wrangler writes scratch files (`.wrangler/tmp`) next to its config, so running from a copy
    keeps everything the tests cause inside their temporary folder. `toml_vars` replaces
    `[vars]` lines with values written as TOML (`{"MAX_BODY_BYTES": "1000"}` gives the number
    1000, not the string: what `--var` cannot pass)."""
    cfg = (ROOT / "wrangler.toml").read_text()
    if without_bucket:
        cfg = cfg[: cfg.index("[[r2_buckets]]")] + cfg[cfg.index("[vars]"):]
    for key, value in (toml_vars or {}).items():
        cfg, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", cfg, flags=re.M)
        assert n == 1, f"{key} is not in wrangler.toml's [vars]"
    cfg = cfg.replace('main = "build/worker/shim.mjs"', f'main = "{ROOT / "build" / "worker" / "shim.mjs"}"')
    path = tmp / name / "wrangler.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cfg)
    return path


def own_worker(name, doc, toml_vars=None):
    """A module-scoped fixture: a Worker of the module's own, for tests whose bucket (or whose
    effect on wrangler dev) must not mix with other modules', with `toml_vars` as
    `local_config` takes them."""
    @pytest.fixture(scope="module")
    def fixture(tmp_root):
        w = Worker(tmp_root, config=local_config(tmp_root, name, toml_vars=toml_vars))
        yield w
        w.stop()
    fixture.__doc__ = doc
    return fixture


@pytest.fixture(scope="session")
def worker(tmp_root):
    w = Worker(tmp_root, config=local_config(tmp_root, "main"))
    yield w
    w.stop()


@pytest.fixture(scope="session")
def authed_worker(tmp_root):
    w = Worker(tmp_root, ["--var", "AUTH_TOKEN:e2e-secret-token"], config=local_config(tmp_root, "authed"))
    yield w
    w.stop()


@pytest.fixture(scope="session")
def bucketless_worker(tmp_root):
    """The Worker with no R2 binding at all: every put fails, as when R2 is down."""
    path = local_config(tmp_root, "no-bucket", without_bucket=True)
    w = Worker(tmp_root, config=path)
    yield w
    w.stop()


def query(tree: Path, sql: str):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{tree}'")
    return con.execute(sql).fetchall()


def parquet(tree: Path, table: str) -> str:
    return f"read_parquet('{tree}/{table}/**/*.parquet', hive_partitioning = true)"


def json_body(obj) -> bytes:
    return json.dumps(obj).encode()
