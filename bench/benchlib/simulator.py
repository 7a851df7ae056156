"""A fresh simulator per run, its request counters read as verbs, and raw watches the bench observes with."""
import json
import os
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "kubesim"))
import simtest  # noqa: E402

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
READ_VERBS = ("get", "list")


def fresh(n: int, ready_delay: float, namespaces: int, seed: int):
    """A new simulator holding a v1.3.8 mesh and n meshed workloads; seeding 10,000 takes about a minute."""
    args = ["--mesh", "v1.3.8", "--meshed-workloads", str(n), "--namespaces", str(namespaces),
            "--ready-delay", str(ready_delay), "--fault", f"seed={seed}"]
    return simtest.start(args, timeout=300 + n / 20)


def apply_crd(sim) -> None:
    sim.kubectl("apply", "-f", os.path.join(ROOT, "crds", "meshupgrade.yaml"), check=True)
    sim.kubectl("wait", "--for=condition=Established", "crd/meshupgrades.upgrade.flomesh.io", "--timeout=120s",
                check=True)


def minus(stats: dict, cost: dict) -> dict:
    """stats less a known client's requests, cost given as {"verb resource": n} ("get" alone: discovery)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in stats.items()}
    for key, n in cost.items():
        verb = key.split(" ", 1)[0]
        out["requests"][key] = out["requests"].get(key, 0) - n
        out["by_verb"][verb] = out["by_verb"].get(verb, 0) - n
        out["total"] = out.get("total", 0) - n
    out["requests"] = {k: v for k, v in out["requests"].items() if v > 0}
    out["by_verb"] = {k: v for k, v in out["by_verb"].items() if v > 0}
    return out


def by_verb(stats: dict) -> dict:
    return dict(sorted(stats.get("by_verb", {}).items()))


def count(stats: dict, verbs) -> int:
    return sum(v for k, v in stats.get("by_verb", {}).items() if k in verbs)


def status_writes(stats: dict) -> int:
    """Writes to meshupgrades/status (update or patch)."""
    return sum(v for k, v in stats.get("requests", {}).items()
               if k.split(" ", 1)[0] in WRITE_VERBS and k.endswith(" meshupgrades/status"))


class Watch:
    """One raw watch from a given resourceVersion on a thread; on_event(event, now) returns True to stop.
    Opened before the request counters are reset, so the bench's own observation costs the counts nothing."""

    def __init__(self, sim, path: str, on_event):
        self.sim = sim
        self.on_event = on_event
        status, body, _ = sim.request("GET", path + ("&" if "?" in path else "?") + "limit=1")
        if status != 200:
            raise RuntimeError(f"list {path}: {status} {body}")
        rv = body["metadata"]["resourceVersion"]
        q = urllib.parse.urlencode({"watch": "1", "resourceVersion": rv, "timeoutSeconds": "7200"})
        self.conn, self.resp = sim.stream(path + ("&" if "?" in path else "?") + q, timeout=7200)
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.done.is_set():
                line = self.resp.readline()
                if not line:
                    self.error = self.error or "watch ended"
                    break
                if self.on_event(json.loads(line), time.monotonic()):
                    break
        except Exception as e:  # a closed connection at stop() lands here too
            if not self.done.is_set():
                self.error = repr(e)
        finally:
            self.done.set()

    def stop(self):
        self.done.set()
        try:
            self.conn.sock and self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()
        self.thread.join(timeout=10)
