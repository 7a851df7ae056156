"""The operator as a child process against a simulator: started, waited for (/readyz), measured, stopped."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from . import proc


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    def __init__(self, binary, kubeconfig, qps, burst, workers=1):
        self.health_port, self.metrics_port = _free_port(), _free_port()
        fd, self.log_path = tempfile.mkstemp(prefix="bench-operator-", suffix=".log")
        self.log = os.fdopen(fd, "w")
        self.cmd = [binary, "--kubeconfig", kubeconfig,
                    f"--health-probe-bind-address=127.0.0.1:{self.health_port}",
                    f"--metrics-bind-address=127.0.0.1:{self.metrics_port}", "--log-format=json",
                    "--max-concurrent-reconciles", str(workers), "--kube-api-qps", str(qps),
                    "--kube-api-burst", str(burst)]
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/readyz", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"operator not ready within {timeout}s:\n{self.tail()}")
            time.sleep(0.2)

    def settle_rss(self, timeout=30.0, window=3.0):
        """VmRSS once it has stopped moving by more than 1% for `window` seconds (caches synced, allocator calm)."""
        deadline = time.monotonic() + timeout
        last = proc.memory_mib(self.pid)["rss"]
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = proc.memory_mib(self.pid)["rss"]
            if abs(now - last) > 0.01 * last:
                stable_since, last = time.monotonic(), now
            elif time.monotonic() - stable_since >= window:
                break
        return proc.memory_mib(self.pid)["rss"]

    def reconciles(self):
        """controller_runtime_reconcile_total summed over controllers and results, from /metrics (None if absent)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
                text = r.read().decode()
        except OSError:
            return None
        vals = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("controller_runtime_reconcile_total{")]
        return int(sum(vals)) if vals else None

    def tail(self, n=30):
        self.log.flush()
        with open(self.log_path) as f:
            return "".join(f.readlines()[-n:])

    def stop(self, keep_log=False):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not keep_log:
            os.unlink(self.log_path)
