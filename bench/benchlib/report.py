"""latest.md from the rows: the machine, three tables (time, API cost, CPU and memory), the targets of DESIGN §5
checked against the measurements, and the notes file with the measured causes."""
import os
import platform
import subprocess


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores (`nproc` {os.cpu_count()}), {model}, {mem:.1f} GiB RAM, Linux {platform.release()}"


def _commit(root) -> str:
    cp = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return cp.stdout.strip() or "?"


def _f(v, fmt="{:.1f}"):
    if v is None:
        return "–"
    return fmt.format(v) if isinstance(v, (int, float)) else str(v)


def _verbs(d):
    return ", ".join(f"{k} {v}" for k, v in sorted((d or {}).items(), key=lambda kv: -kv[1])) or "–"


def _cpu_ratio(r):
    """CPU seconds of the whole kubectl procedure (kubectl processes + simulator) over the operator's (operator +
    simulator): what the wall-time ratio tends to when both are CPU-bound, whatever else loads the machine."""
    k = [r.get("kubectl_cpu_s"), r.get("sim_cpu_s_kubectl")]
    o = [r.get("operator_cpu_s"), r.get("sim_cpu_s_operator")]
    if None in k or None in o or not sum(o):
        return None
    return sum(k) / sum(o)


def _scenarios(rows):
    return [r for r in rows if "row" not in r]


def targets(rows) -> list:
    """[(target, verdict, evidence)] for DESIGN §5 from what was measured."""
    out = []
    sc = [r for r in _scenarios(rows) if r.get("operator_s") and not r.get("operator_error")]
    d0 = [r for r in sc if r["ready_delay_s"] == 0 and r["n"] == 1000 and r.get("kubectl_s")]
    if d0:
        ok = all(r["kubectl_s"] / r["operator_s"] >= 10 for r in d0)
        ev = "; ".join(f"C={r['concurrency']}: {r['kubectl_s'] / r['operator_s']:.1f}×" for r in d0)
        out.append(("D=0, N=1000: ≥10× faster than kubectl", "met" if ok else "MISSED", ev))
    else:
        out.append(("D=0, N=1000: ≥10× faster than kubectl", "not measured", ""))
    d1 = [r for r in sc if r["ready_delay_s"] > 0 and r["n"] == 1000]
    if d1:
        ok = all(r["operator_s"] <= 1.05 * r["bound_s"] for r in d1)
        ev = "; ".join(f"C={r['concurrency']}: {r['operator_s']:.1f}s vs bound {r['bound_s']:.0f}s "
                       f"(+{100 * (r['operator_s'] / r['bound_s'] - 1):.1f}%)" for r in d1)
        out.append(("D=1s, N=1000: within 5% of ceil(N/C)·D", "met" if ok else "MISSED", ev))
    else:
        out.append(("D=1s, N=1000: within 5% of ceil(N/C)·D", "not measured", ""))
    if sc:
        # The target is about scale: N >= 1000; small N carry a fixed ~40 writes (events, status, control plane).
        big = [r for r in sc if r["n"] >= 1000] or sc
        worst = max(big, key=lambda r: r["operator_writes_per_workload"])
        small = max((r["operator_writes_per_workload"] for r in sc if r["n"] < 1000), default=None)
        out.append(("≤1.2 writes per workload (N ≥ 1000)",
                    "met" if worst["operator_writes_per_workload"] <= 1.2 else "MISSED",
                    f"worst {worst['operator_writes_per_workload']:.3f} (N={worst['n']}, D={worst['ready_delay_s']:g}, "
                    f"C={worst['concurrency']})" + (f"; N<1000 up to {small:.2f}" if small is not None else "")))
        reads = max(r["operator_reads_during_upgrade"] for r in sc)
        out.append(("no polling reads (watches only)", "met" if reads <= 20 else "MISSED",
                    f"at most {reads} get/list requests during an upgrade (N-independent setup reads allowed)"))
    mem = {r["row"]: r for r in rows if "row" in r}
    for key, limit, label in (("idle_rss_mib", 20, "idle RSS < 20 MiB"),
                              ("watch_10k_rss_mib", 64, "RSS < 64 MiB watching 10,000 workloads")):
        r = mem.get(key)
        if r and r.get(key) is not None:
            out.append((label, "met" if r[key] < limit else "MISSED", f"{r[key]:.1f} MiB (peak {r['peak_rss_mib']:.1f})"))
        else:
            out.append((label, "not measured", (r or {}).get("error", "")[:200]))
    return out


def markdown(rows, root, command, notes_path) -> str:
    sc = sorted(_scenarios(rows), key=lambda r: (r["n"], r["ready_delay_s"], r["concurrency"]))
    L = ["# Benchmark results", "",
         f"Machine: {machine()}. Commit `{_commit(root)}`. Command: {command if command.startswith('several') else '`' + command + '`'}.", "",
         "Fresh simulator per run (`--mesh v1.3.8 --meshed-workloads N --namespaces 10 --ready-delay D`, same seed); "
         "operator: MeshUpgrade v1.3.8 → v1.3.9 with `sidecar.maxConcurrent: C`, from `kubectl apply` to Ready=True "
         "(this includes precheck and the control-plane rollout); kubectl: the guide's procedure (MeshConfig patch, "
         "then `rollout restart` + `rollout status` per workload, C at a time). Bound = ceil(N/C)·D.", "",
         "## Time", "",
         "| N | D s | C | kubectl s | operator s | kubectl/operator | bound s | over bound | sidecar phase s | "
         "first restart s (op / kubectl) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sc:
        ratio = r["kubectl_s"] / r["operator_s"] if r.get("kubectl_s") and r.get("operator_s") else None
        over = None
        if r.get("operator_s") is not None:
            over = f"+{r['operator_s'] - r['bound_s']:.1f}s"
            if r["bound_s"]:
                over += f" ({100 * (r['operator_s'] / r['bound_s'] - 1):+.1f}%)"
        L.append(f"| {r['n']} | {r['ready_delay_s']:g} | {r['concurrency']} | {_f(r.get('kubectl_s'))} | "
                 f"{_f(r.get('operator_s'))} | {_f(ratio, '{:.1f}×')} | {r['bound_s']:g} | {_f(over)} | "
                 f"{_f(r.get('operator_sidecar_phase_s'))} | {_f(r.get('first_restart_s'))} / "
                 f"{_f(r.get('kubectl_first_restart_s'))} |")
    L += ["", "## API requests (from `/kubesim/stats`, reset before each run)", "",
          "| N | D s | C | operator req/workload | operator writes/workload | operator get+list | status writes | "
          "kubectl req/workload | kubectl writes/workload | operator by verb | kubectl by verb |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sc:
        L.append(f"| {r['n']} | {r['ready_delay_s']:g} | {r['concurrency']} | {_f(r.get('operator_requests_per_workload'), '{:.2f}')} | "
                 f"{_f(r.get('operator_writes_per_workload'), '{:.3f}')} | {_f(r.get('operator_reads_during_upgrade'), '{}')} | "
                 f"{_f(r.get('status_writes'), '{}')} | {_f(r.get('kubectl_requests_per_workload'), '{:.2f}')} | "
                 f"{_f(r.get('kubectl_writes_per_workload'), '{:.2f}')} | {_verbs(r.get('operator_requests_by_verb'))} | "
                 f"{_verbs(r.get('kubectl_requests_by_verb'))} |")
    L += ["", "## CPU and memory", "",
          "Load average (1 min) at each run's start: " + ", ".join(
              f"N={r['n']} D={r['ready_delay_s']:g} C={r['concurrency']}: {r.get('load_avg_1m_at_start', '?')}"
              + (f" (kubectl run: {r['kubectl_load_avg_1m_at_start']})" if "kubectl_load_avg_1m_at_start" in r else "")
              for r in sc)
          + ".", "",
          "Simulator busy = its CPU seconds / wall time; it is one Python process (one GIL), so near 1.0 it is the "
          "bottleneck.", "",
          "| N | D s | C | operator CPU s | operator idle RSS MiB | operator peak RSS MiB | simulator CPU s / busy "
          "(operator run) | simulator CPU s / busy (kubectl run) | kubectl processes CPU s | CPU ratio kubectl/operator | "
          "operator reconciles |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sc:
        L.append(f"| {r['n']} | {r['ready_delay_s']:g} | {r['concurrency']} | {_f(r.get('operator_cpu_s'), '{:.2f}')} | "
                 f"{_f(r.get('operator_idle_rss_mib'))} | {_f(r.get('operator_peak_rss_mib'))} | "
                 f"{_f(r.get('sim_cpu_s_operator'))} / {_f(r.get('sim_busy_operator'), '{:.2f}')} | "
                 f"{_f(r.get('sim_cpu_s_kubectl'))} / {_f(r.get('sim_busy_kubectl'), '{:.2f}')} | {_f(r.get('kubectl_cpu_s'))} | "
                 f"{_f(_cpu_ratio(r), '{:.1f}×')} | {_f(r.get('operator_reconciles'), '{}')} |")
    mem = [r for r in rows if "row" in r]
    if mem:
        L += ["", "| memory row | meshed workloads | RSS MiB (settled) | peak RSS MiB | time to ready s |", "|---|---|---|---|---|"]
        for r in mem:
            L.append(f"| {r['row']} | {r['n']} | {_f(r.get(r['row']))} | {_f(r.get('peak_rss_mib'))} | {_f(r.get('sync_s'))} |")
    errs = [(r, k) for r in rows for k in ("error", "operator_error", "kubectl_error") if r.get(k)]
    if errs:
        L += ["", "## Errors", ""]
        for r, k in errs:
            what = r.get("row") or f"N={r['n']} D={r['ready_delay_s']:g} C={r['concurrency']}"
            L.append(f"- {what} {k}: `{' '.join(r[k].split())[:400]}`")
    L += ["", "## Targets (DESIGN §5)", "", "| target | verdict | measured |", "|---|---|---|"]
    for t, v, e in targets(rows):
        L.append(f"| {t} | {v} | {e} |")
    if notes_path and os.path.exists(notes_path):
        with open(notes_path) as f:
            L += ["", f.read().strip()]
    return "\n".join(L) + "\n"
