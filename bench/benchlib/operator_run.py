"""The operator's upgrade on a fresh simulator: apply a MeshUpgrade (v1.3.8 -> v1.3.9, maxConcurrent C) with
kubectl, observe it through watches opened before the counters are reset, stop at Ready=True."""
import json
import threading
import time

from . import proc, simulator
from .operator_proc import Operator

MU_PATH = "/apis/upgrade.flomesh.io/v1alpha1/namespaces/osm-system/meshupgrades"
RESTART_ANNOTATION = "upgrade.flomesh.io/restarted-at"
# What `kubectl apply` of the MeshUpgrade costs with a warm discovery cache (measured on the simulator):
# taken out of the counts so they hold the operator's requests only.
APPLY_COST = {"get": 3, "get meshupgrades": 1, "get namespaces": 1, "create meshupgrades": 1}


def manifest(concurrency):
    return json.dumps({"apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
                       "metadata": {"name": "bench", "namespace": "osm-system"},
                       "spec": {"targetVersion": "v1.3.9", "sidecar": {"maxConcurrent": concurrency}}})


class _Observer:
    """Phase timeline, terminal condition and the first restarted Deployment, from the watches' events."""

    def __init__(self):
        self.phases = {}           # phase -> monotonic time first seen
        self.ready_at = None
        self.stalled = None
        self.first_restart_at = None
        self.restarted = 0
        self.done = threading.Event()

    def on_mu(self, event, now):
        obj = event.get("object", {})
        if event.get("type") == "ERROR":
            self.stalled = f"watch error: {obj}"
            self.done.set()
            return True
        st = obj.get("status", {})
        if st.get("phase"):
            self.phases.setdefault(st["phase"], now)
        self.restarted = st.get("workloads", {}).get("restarted", self.restarted)
        conds = {c.get("type"): c for c in st.get("conditions", [])}
        if conds.get("Stalled", {}).get("status") == "True":
            self.stalled = f"Stalled: {conds['Stalled'].get('reason')}: {conds['Stalled'].get('message')}"
        elif conds.get("Ready", {}).get("status") == "True":
            self.ready_at = now
        if self.stalled or self.ready_at:
            self.done.set()
            return True
        return False

    def on_deployment(self, event, now):
        obj = event.get("object", {})
        ann = dict(obj.get("metadata", {}).get("annotations") or {})
        ann.update(obj.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations") or {})
        if RESTART_ANNOTATION in ann and obj.get("metadata", {}).get("namespace") != "osm-system":
            self.first_restart_at = now
            return True
        return False


def run(binary, n, ready_delay, concurrency, namespaces, seed, qps, burst, progress, timeout):
    """Returns the operator_* fields of a result row (an "operator_error" field when the upgrade did not finish)."""
    sim = simulator.fresh(n, ready_delay, namespaces, seed)
    op = None
    watches = []
    try:
        simulator.apply_crd(sim)
        op = Operator(binary, sim.kubeconfig, qps, burst)
        op.wait_ready(timeout=120 + n / 50)
        idle = op.settle_rss()
        obs = _Observer()
        watches = [simulator.Watch(sim, MU_PATH, obs.on_mu),
                   simulator.Watch(sim, "/apis/apps/v1/deployments", obs.on_deployment)]
        # Warms kubectl's discovery and OpenAPI caches so the real apply costs exactly APPLY_COST.
        sim.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest(concurrency), check=True)
        sim.reset_stats()
        sim_cpu0, op_cpu0 = proc.cpu_seconds(sim.proc.pid), proc.cpu_seconds(op.pid)
        rec0 = op.reconciles()
        t0 = time.monotonic()
        sim.kubectl("apply", "-f", "-", input=manifest(concurrency), check=True)
        deadline = t0 + timeout
        while not obs.done.wait(timeout=10):
            if op.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {op.proc.returncode}:\n{op.tail()}")
            if watches[0].error:
                raise RuntimeError(f"MeshUpgrade watch failed: {watches[0].error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not Ready within {timeout:.0f}s (phase times {sorted(obs.phases)}, "
                                   f"restarted {obs.restarted})\n{op.tail()}")
            if progress:
                progress(f"operator: {max(obs.phases, key=obs.phases.get) if obs.phases else '-'}, "
                         f"restarted {obs.restarted}/{n} after {time.monotonic() - t0:.0f}s")
        end = obs.ready_at or time.monotonic()
        stats = simulator.minus(sim.stats(), APPLY_COST)
        op_cpu = proc.cpu_seconds(op.pid) - op_cpu0
        sim_cpu = proc.cpu_seconds(sim.proc.pid) - sim_cpu0
        mem = proc.memory_mib(op.pid)
        rec1 = op.reconciles()
        wall = end - t0
        total = stats.get("total", sum(stats.get("by_verb", {}).values()))
        sidecars_from = obs.phases.get("RollingSidecars")
        row = {
            "operator_s": round(wall, 2),
            "operator_sidecar_phase_s": round(end - sidecars_from, 2) if sidecars_from else None,
            "operator_phase_start_s": {p: round(t - t0, 2) for p, t in sorted(obs.phases.items(), key=lambda x: x[1])},
            "first_restart_s": round(obs.first_restart_at - t0, 2) if obs.first_restart_at else None,
            "operator_requests_by_verb": simulator.by_verb(stats),
            "operator_requests_per_workload": round(total / max(1, n), 2),
            "operator_writes_per_workload": round(simulator.count(stats, simulator.WRITE_VERBS) / max(1, n), 3),
            "operator_reads_during_upgrade": simulator.count(stats, simulator.READ_VERBS),
            "operator_requests": stats.get("requests", {}),
            "status_writes": simulator.status_writes(stats),
            "operator_cpu_s": round(op_cpu, 2),
            "operator_reconciles": rec1 - rec0 if rec0 is not None and rec1 is not None else None,
            "operator_idle_rss_mib": round(idle, 1),
            "operator_peak_rss_mib": round(mem["hwm"], 1),
            "sim_cpu_s_operator": round(sim_cpu, 1),
            "sim_busy_operator": round(sim_cpu / wall, 2) if wall > 0 else None,
        }
        if obs.stalled:
            row["operator_error"] = obs.stalled + "\n" + op.tail(10)
        return row
    finally:
        for w in watches:
            w.stop()
        if op:
            op.stop(keep_log=False)
        sim.stop()
