"""Integration-test helper: a simulator with a seeded mesh, the MeshUpgrade CRD, and the operator binary."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "kubesim"))
import simtest  # noqa: E402

OPERATOR_BIN = os.environ.get("OPERATOR_BIN") or os.path.join(ROOT, "build", "test", "meshupgrade-operator")
CRD = os.path.join(ROOT, "crds", "meshupgrade.yaml")
wait_for = simtest.wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    """One operator process against the simulator; its log goes to a file kept for failure messages."""

    def __init__(self, sim, *args, env=None):
        self.sim = sim
        fd, self.log_path = tempfile.mkstemp(prefix="operator-", suffix=".log")
        os.close(fd)
        self.health_port = free_port()
        self.metrics_port = free_port()
        cmd = [OPERATOR_BIN, "--kubeconfig", sim.kubeconfig,
               f"--health-probe-bind-address=127.0.0.1:{self.health_port}",
               f"--metrics-bind-address=127.0.0.1:{self.metrics_port}", "--log-format=json", *args]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def kill(self):
        """SIGKILL: the crash the operator must survive."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            return r.read().decode()


class Env:
    """kubesim + CRD (+ operator on demand). Use as a context manager."""

    def __init__(self, sim_args=(), operator_args=(), start_operator=True):
        self.sim = simtest.start(list(sim_args))
        self.operators = []
        try:
            self.kubectl("apply", "-f", CRD, check=True)
            self.kubectl("wait", "--for=condition=Established", "crd/meshupgrades.upgrade.flomesh.io",
                         "--timeout=60s", check=True)
            if start_operator:
                self.start_operator(*operator_args)
        except BaseException:
            self.close()
            raise

    def start_operator(self, *args, env=None):
        op = Operator(self.sim, *args, env=env)
        self.operators.append(op)
        return op

    def kubectl(self, *args, **kw):
        """kubectl against the simulator; reads are retried through injected API faults (a test's own
        reads are not what a fault test examines)."""
        if args and args[0] == "get":
            check = kw.pop("check", False)
            for _ in range(10):
                cp = self.sim.kubectl(*args, **kw)
                if cp.returncode == 0 or "injected fault" not in cp.stderr:
                    break
            if check and cp.returncode != 0:
                raise AssertionError(f"kubectl {' '.join(args)} failed ({cp.returncode}): {cp.stderr}{cp.stdout}")
            return cp
        return self.sim.kubectl(*args, **kw)

    def wait_ready(self, name, timeout=300, ns="osm-system"):
        """Waits for Ready=True (or fails at Stalled=True) on a MeshUpgrade; returns its status."""
        def check():
            st = self.mu(name, ns).get("status", {})
            conds = {c["type"]: c for c in st.get("conditions", [])}
            if conds.get("Stalled", {}).get("status") == "True":
                raise AssertionError(f"mu/{name} stalled: {conds['Stalled']}\n{self.log_tail()}")
            return st if conds.get("Ready", {}).get("status") == "True" else None
        try:
            return wait_for(check, timeout=timeout, interval=0.5, what=f"Ready on mu/{name}")
        except AssertionError as e:
            raise AssertionError(f"{e}\noperator log tail:\n{self.log_tail()}") from None

    def get(self, *args):
        cp = self.kubectl("get", *args, "-o", "json", check=True)
        return json.loads(cp.stdout)

    def apply(self, manifest: str, check=True):
        return self.kubectl("apply", "-f", "-", input=manifest, check=check)

    def mu(self, name, ns="osm-system"):
        return self.get("meshupgrade", name, "-n", ns)

    def condition(self, name, ctype, ns="osm-system"):
        for c in self.mu(name, ns).get("status", {}).get("conditions", []):
            if c["type"] == ctype:
                return c
        return None

    def wait_condition(self, name, ctype, status="True", timeout=180, ns="osm-system"):
        def check():
            c = self.condition(name, ctype, ns)
            return c if c and c["status"] == status else None
        try:
            return wait_for(check, timeout=timeout, interval=0.3, what=f"{ctype}={status} on mu/{name}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nstatus: {json.dumps(self.mu(name, ns).get('status'), indent=1)}\n"
                                 f"operator log tail:\n{self.log_tail()}") from None

    def log_tail(self, n=40):
        out = []
        for op in self.operators:
            out.extend(op.logs().splitlines()[-n:])
        return "\n".join(out)

    def deployments(self, ns):
        return self.get("deployments", "-n", ns)["items"]

    def close(self):
        for op in self.operators:
            op.stop()
        self.sim.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def meshupgrade(name="osm-upgrade", target="v1.3.9", ns="osm-system", **spec):
    body = {"apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
            "metadata": {"name": name, "namespace": ns},
            "spec": dict({"targetVersion": target}, **spec)}
    return json.dumps(body)


def reconcile_count(op, controller="meshupgrade"):
    """controller_runtime_reconcile_total summed over results, from the operator's /metrics."""
    total = 0.0
    for line in op.metrics().splitlines():
        if line.startswith("controller_runtime_reconcile_total{") and f'controller="{controller}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def is_leader(op):
    """leader_election_master_status from the operator's /metrics."""
    for line in op.metrics().splitlines():
        if line.startswith("leader_election_master_status{"):
            return float(line.rsplit(" ", 1)[1]) == 1.0
    return False
