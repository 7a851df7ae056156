"""The guide's procedure done carefully with kubectl: patch MeshConfig, then restart and wait for each meshed
Deployment, C workloads at a time (a pool of C threads, each running `rollout restart` then `rollout status`)."""
import concurrent.futures
import os
import resource
import time

from . import proc, simulator

SIDECAR_PATCH = '{"spec":{"sidecar":{"sidecarImage":"flomesh/pipy:0.90.3-38"}}}'
MONITORED = "openservicemesh.io/monitored-by=osm"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _workloads(sim):
    """Every Deployment of the namespaces the mesh monitors, listed as a person would: two kubectl calls."""
    monitored = set(sim.kubectl("get", "namespaces", "-l", MONITORED, "-o", "jsonpath={.items[*].metadata.name}",
                                check=True).stdout.split())
    rows = sim.kubectl("get", "deployments", "-A", "-o",
                       "jsonpath={range .items[*]}{.metadata.namespace} {.metadata.name}{\"\\n\"}{end}",
                       check=True).stdout.split("\n")
    return [(ns, f"deployment/{name}") for ns, name in (r.split() for r in rows if r.strip()) if ns in monitored]


def _one(sim, ns, ref, t0):
    restart = sim.kubectl("rollout", "restart", ref, "-n", ns, timeout=1800)
    restarted_at = time.monotonic() - t0
    if restart.returncode != 0:
        return restarted_at, f"{ns}/{ref} restart: {restart.stderr.strip()}"
    status = sim.kubectl("rollout", "status", ref, "-n", ns, "--timeout=30m", timeout=1900)
    if status.returncode != 0:
        return restarted_at, f"{ns}/{ref} status: {status.stderr.strip()}"
    return restarted_at, None


def run(n, ready_delay, concurrency, namespaces, seed, progress):
    """Times the procedure on a fresh simulator; returns the kubectl_* fields of a result row."""
    sim = simulator.fresh(n, ready_delay, namespaces, seed)
    try:
        sim.kubectl("get", "meshconfig", "-n", "osm-system", check=True)  # warms kubectl's discovery cache
        sim.reset_stats()
        load = os.getloadavg()[0]
        sim_cpu0, cpu0 = proc.cpu_seconds(sim.proc.pid), _children_cpu()
        t0 = time.monotonic()
        sim.kubectl("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge",
                    "-p", SIDECAR_PATCH, check=True)
        work = _workloads(sim)
        errors, first = [], None
        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(_one, sim, ns, ref, t0) for ns, ref in work]
            for done, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                at, err = fut.result()
                first = at if first is None else min(first, at)
                if err:
                    errors.append(err)
                if progress and done % max(1, len(work) // 10) == 0:
                    progress(f"kubectl {done}/{len(work)} after {time.monotonic() - t0:.0f}s")
        wall = time.monotonic() - t0
        stats = sim.stats()
        sim_cpu = proc.cpu_seconds(sim.proc.pid) - sim_cpu0
        total = stats.get("total", sum(stats.get("by_verb", {}).values()))
        return {
            "kubectl_s": round(wall, 2),
            "kubectl_load_avg_1m_at_start": round(load, 2),
            "kubectl_workloads": len(work),
            "kubectl_error": f"{len(errors)} workloads failed: {errors[:3]}" if errors else None,
            "kubectl_first_restart_s": round(first, 2) if first is not None else None,
            "kubectl_requests_by_verb": simulator.by_verb(stats),
            "kubectl_requests_per_workload": round(total / max(1, n), 2),
            "kubectl_writes_per_workload": round(simulator.count(stats, simulator.WRITE_VERBS) / max(1, n), 2),
            "kubectl_cpu_s": round(_children_cpu() - cpu0, 1),
            "sim_cpu_s_kubectl": round(sim_cpu, 1),
            "sim_busy_kubectl": round(sim_cpu / wall, 2),
        }
    finally:
        sim.stop()
