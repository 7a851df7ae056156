"""The PNG of wall time against N (log-log), drawn by gnuplot; gnuplot-nox is installed from Debian on demand."""
import os
import shutil
import subprocess
import tempfile


def _gnuplot(log):
    if shutil.which("gnuplot"):
        return shutil.which("gnuplot")
    log("gnuplot missing: apt-get install -y gnuplot-nox")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "--no-install-recommends", "gnuplot-nox"],):
        cp = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if cp.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, env=env)
            cp = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if cp.returncode != 0:
            log(f"could not install gnuplot-nox: {cp.stderr.strip()[-300:]}")
    return shutil.which("gnuplot")


def draw(rows, png, log) -> bool:
    sc = [r for r in rows if "row" not in r and (r.get("operator_s") or r.get("kubectl_s"))]
    if not sc:
        return False
    gp = _gnuplot(log)
    if not gp:
        return False
    series = sorted({(r["ready_delay_s"], r["concurrency"]) for r in sc})
    tmp = tempfile.mkdtemp(prefix="bench-plot-")
    plots = []
    styles = ["lc rgb '#1f77b4'", "lc rgb '#d62728'", "lc rgb '#2ca02c'", "lc rgb '#9467bd'", "lc rgb '#ff7f0e'"]
    for i, (d, c) in enumerate(series):
        pts = sorted((r for r in sc if (r["ready_delay_s"], r["concurrency"]) == (d, c)), key=lambda r: r["n"])
        path = os.path.join(tmp, f"s{i}.dat")
        with open(path, "w") as f:
            for r in pts:
                f.write(f"{r['n']} {r.get('operator_s') or 'NaN'} {r.get('kubectl_s') or 'NaN'} {r['bound_s'] or 'NaN'}\n")
        st = styles[i % len(styles)]
        plots.append(f"'{path}' using 1:2 with linespoints lw 2 pt 7 {st} title 'operator D={d:g} C={c}'")
        plots.append(f"'{path}' using 1:3 with linespoints lw 2 pt 4 dt 2 {st} title 'kubectl D={d:g} C={c}'")
        if d:
            plots.append(f"'{path}' using 1:4 with lines lw 1 dt 3 {st} title 'bound ceil(N/C)·D, C={c}'")
    script = "\n".join([
        "set terminal pngcairo size 1000,650 noenhanced" if _has_cairo(gp) else "set terminal png size 1000,650",
        f"set output '{png}'", "set logscale xy", "set grid",
        "set xlabel 'meshed workloads N'", "set ylabel 'wall time (s)'",
        "set title 'Sidecar upgrade: operator vs the kubectl procedure (kubesim)'",
        "set key left top", "plot " + ", \\\n  ".join(plots), ""])
    cp = subprocess.run([gp], input=script, capture_output=True, text=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if cp.returncode != 0:
        log(f"gnuplot failed: {cp.stderr.strip()[-300:]}")
        return False
    return True


def _has_cairo(gp) -> bool:
    cp = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in (cp.stdout + cp.stderr)
