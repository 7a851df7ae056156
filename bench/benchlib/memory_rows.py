"""The operator's memory with no upgrade: idle RSS after its caches synced, and the same with 10,000 meshed
workloads (10,000 Deployments and their pods) watched."""
import time

from . import proc, simulator
from .operator_proc import Operator


def measure(binary, n, namespaces, seed, qps, burst):
    """VmRSS (settled) and VmHWM of an operator synced against n meshed workloads, with the time to sync."""
    sim = simulator.fresh(n, 0, namespaces, seed)
    op = None
    try:
        simulator.apply_crd(sim)
        t0 = time.monotonic()
        op = Operator(binary, sim.kubeconfig, qps, burst)
        op.wait_ready(timeout=300 + n / 20)
        synced = time.monotonic() - t0
        rss = op.settle_rss(timeout=60, window=5)
        return {"n": n, "rss_mib": round(rss, 1), "hwm_mib": round(proc.memory_mib(op.pid)["hwm"], 1),
                "sync_s": round(synced, 1), "operator_cpu_s": round(proc.cpu_seconds(op.pid), 2)}
    finally:
        if op:
            op.stop()
        sim.stop()


def rows(binary, idle_n, watch_n, namespaces, seed, qps, burst, progress):
    out = []
    for metric, n in (("idle_rss_mib", idle_n), ("watch_10k_rss_mib", watch_n)):
        if progress:
            progress(f"memory: {metric} with {n} meshed workloads")
        try:
            m = measure(binary, n, namespaces, seed, qps, burst)
            out.append({"row": metric, metric: m["rss_mib"], "n": n, "peak_rss_mib": m["hwm_mib"],
                        "sync_s": m["sync_s"], "operator_cpu_s": m["operator_cpu_s"]})
        except Exception as e:  # a row that failed says so rather than ending the whole run
            out.append({"row": metric, metric: None, "n": n, "error": str(e)[-2000:]})
    return out
