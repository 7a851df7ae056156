"""Test helper: start the kubesim simulator, drive it with real kubectl and raw HTTPS, stop it."""
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
KUBESIM = os.environ.get("KUBESIM") or os.path.join(HERE, "kubesim")
KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl") or "/usr/bin/kubectl"


def wait_for(fn, timeout=30.0, interval=0.05, what="condition"):
    """Polls fn until it returns a truthy value; returns it, or raises AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class Sim:
    """A running simulator: .kubeconfig, .url, .port, .kubectl(*args), .stats(), .request(), .stop()."""

    def __init__(self, proc, tmpdir, kubeconfig, url):
        self.proc = proc
        self.tmpdir = tmpdir
        self.kubeconfig = kubeconfig
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self._ssl = None
        self._stderr_lines = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr_lines.append(line)

    def stderr(self) -> str:
        return "".join(self._stderr_lines)

    def kubectl(self, *args, input=None, timeout=120, check=False, env=None):
        """Runs real kubectl against the simulator; returns a CompletedProcess with text stdout/stderr."""
        cmd = [KUBECTL, "--kubeconfig", self.kubeconfig, *args]
        full_env = dict(os.environ)
        full_env.setdefault("HOME", self.tmpdir)
        full_env["KUBECACHEDIR"] = os.path.join(self.tmpdir, "kubecache")
        if env:
            full_env.update(env)
        cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=full_env)
        if check and cp.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({cp.returncode}): {cp.stderr}{cp.stdout}")
        return cp

    def kubectl_popen(self, *args, **kw):
        """Starts kubectl in the background (e.g. get -w); stdout is a text pipe."""
        env = dict(os.environ)
        env.setdefault("HOME", self.tmpdir)
        env["KUBECACHEDIR"] = os.path.join(self.tmpdir, "kubecache")
        return subprocess.Popen([KUBECTL, "--kubeconfig", self.kubeconfig, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, **kw)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the simulator's CA and presenting the admin certificate."""
        if self._ssl is None:
            text = open(self.kubeconfig).read()
            def field(name):
                m = re.search(rf"{name}:\s*(\S+)", text)
                return base64.b64decode(m.group(1))
            paths = {}
            for key, name in (("ca", "certificate-authority-data"), ("cert", "client-certificate-data"),
                              ("key", "client-key-data")):
                paths[key] = os.path.join(self.tmpdir, f"simtest-{key}.pem")
                with open(paths[key], "wb") as f:
                    f.write(field(name))
            ctx = ssl.create_default_context(cafile=paths["ca"])
            ctx.load_cert_chain(paths["cert"], paths["key"])
            self._ssl = ctx
        return self._ssl

    def connection(self, timeout=60, token=None) -> http.client.HTTPSConnection:
        ctx = self.ssl_context()
        if token:  # no client certificate: authenticate with the bearer token only
            ctx = ssl.create_default_context(cafile=os.path.join(self.tmpdir, "simtest-ca.pem"))
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=timeout)

    def stream(self, path, headers=None, timeout=60):
        """Opens a watch (or any streaming GET) as admin; returns (connection, response). Read lines with
        response.readline(); close the connection when done."""
        conn = self.connection(timeout=timeout)
        hdrs = {"Accept": "application/json"}
        hdrs.update(headers or {})
        conn.request("GET", path, headers=hdrs)
        return conn, conn.getresponse()

    def request(self, method, path, body=None, headers=None, token=None, timeout=60):
        """One raw request as admin (or with a bearer token); returns (status, parsed JSON or text, headers)."""
        conn = self.connection(timeout=timeout, token=token)
        try:
            hdrs = {"Accept": "application/json"}
            if token:
                hdrs["Authorization"] = f"Bearer {token}"
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                hdrs["Content-Type"] = "application/json"
            hdrs.update(headers or {})
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read().decode()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw
            return resp.status, parsed, dict(resp.getheaders())
        finally:
            conn.close()

    def stats(self) -> dict:
        status, body, _ = self.request("GET", "/kubesim/stats")
        assert status == 200, body
        return body

    def reset_stats(self) -> None:
        self.request("POST", "/kubesim/stats/reset")

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(args=(), timeout=60, env=None) -> Sim:
    """Starts kubesim with args (a list of extra flags) on a free port with a temp kubeconfig; waits for
    the `kubesim ready URL` line with a deadline. env: extra environment variables for the simulator."""
    tmpdir = tempfile.mkdtemp(prefix="kubesim-test-")
    kubeconfig = os.path.join(tmpdir, "kubeconfig")
    cmd = [sys.executable, KUBESIM, "--kubeconfig", kubeconfig, "--port", "0", *args]
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)
    result = {}

    def read_ready():
        result["line"] = proc.stdout.readline()

    t = threading.Thread(target=read_ready, daemon=True)
    t.start()
    t.join(timeout)
    line = result.get("line", "")
    m = re.match(r"kubesim ready (https://127\.0\.0\.1:\d+)\s*$", line or "")
    if not m:
        proc.kill()
        err = proc.stderr.read() if proc.poll() is not None else ""
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise RuntimeError(f"kubesim did not become ready within {timeout}s: {line!r} {err}")
    # Keep stdout drained so the simulator never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return Sim(proc, tmpdir, kubeconfig, m.group(1))


class SimCase(unittest.TestCase):
    """One kubesim for a whole test class, started with SIM_ARGS; k() is kubectl against it, get() its JSON."""
    SIM_ARGS: list = []

    @classmethod
    def setUpClass(cls):
        cls.sim = start(list(cls.SIM_ARGS))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def k(self, *args, **kw):
        return self.sim.kubectl(*args, **kw)

    def get(self, *args):
        return json.loads(self.k("get", *args, "-o", "json", check=True).stdout)


class InProcessSim(Sim):
    """The simulator served from this process (no controllers unless asked): .store gives direct access."""

    def __init__(self, running, tmpdir):
        self.running = running
        self.store = running.store
        self.proc = None
        self.tmpdir = tmpdir
        self.kubeconfig = running.kubeconfig
        self.url = running.url
        self.port = int(self.url.rsplit(":", 1)[1])
        self._ssl = None
        self._stderr_lines = []

    def stop(self, timeout=10):
        self.running.stop()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return 0


def start_in_process(args=(), with_controllers=False) -> InProcessSim:
    """Serves the simulator on a thread of this process; for tests that load the store directly."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import sim
    tmpdir = tempfile.mkdtemp(prefix="kubesim-test-")
    kubeconfig = os.path.join(tmpdir, "kubeconfig")
    running = sim.start_in_process(["--kubeconfig", kubeconfig, "--port", "0", *args], with_controllers)
    return InProcessSim(running, tmpdir)
