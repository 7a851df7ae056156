"""--fault SPEC parsing and injection: latency, error answers, watch closes, 410 on resume, conflicts."""
import random
import re
import threading

from .errors import ApiException

USAGE = """fault SPEC grammar (repeat --fault for several):
  latency=DURATION[:TARGET]                   add DURATION to every matching request (e.g. 50ms, 1s)
  error=CODE:RATIO[:TARGET][:retry-after=S]   answer CODE (500, 503, 429, ...) to that share of matching
                                              requests; 429 and 503 carry Retry-After (default 1 s)
  watch-close=DURATION[:TARGET]               end every matching watch after DURATION
  gone-on-resume[=RATIO][:TARGET]             a watch resuming from a resourceVersion older than the
                                              resource's latest change gets 410 Gone (ERROR event)
  conflict=RATIO[:TARGET]                     that share of updates/patches (not creates) get 409 Conflict
  seed=N                                      seed of the random choices (default 1)
TARGET: RESOURCE (plural, e.g. deployments; matches its subresources), RESOURCE/SUB (deployments/status),
        and/or verb=VERB (get|list|watch|create|update|patch|delete), several joined with ':'.
Faults never apply to /kubesim/* endpoints; error faults only apply to API resource requests."""


class FaultSpecError(ValueError):
    pass


def parse_duration(s: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", s.strip())
    if not m:
        raise FaultSpecError(f"bad duration {s!r}")
    v = float(m.group(1))
    return {"ms": v / 1000, "s": v, "m": v * 60, None: v}[m.group(2)]


def _ratio(s):
    try:
        r = float(s)
    except ValueError:
        raise FaultSpecError(f"bad ratio {s!r}")
    if not 0 <= r <= 1:
        raise FaultSpecError(f"ratio {s!r} not in [0, 1]")
    return r


class Fault:
    def __init__(self, kind, value=None, ratio=1.0, resource=None, verb=None, retry_after=None):
        self.kind, self.value, self.ratio = kind, value, ratio
        self.resource, self.verb, self.retry_after = resource, verb, retry_after

    def matches(self, verb, resource):
        if self.verb and self.verb != verb:
            return False
        if self.resource:
            if "/" in self.resource:
                return resource == self.resource
            return resource.split("/")[0] == self.resource
        return True


def _target(parts, fault):
    for p in parts:
        if not p:
            continue
        if p.startswith("verb="):
            fault.verb = p[5:]
        elif p.startswith("retry-after="):
            fault.retry_after = parse_duration(p[12:])
        elif re.fullmatch(r"[a-z0-9.-]+(/[a-z]+)?", p):
            fault.resource = p
        else:
            raise FaultSpecError(f"bad target {p!r}")
    return fault


def parse(spec: str):
    """Returns a Fault or ('seed', n). Raises FaultSpecError."""
    spec = spec.strip()
    name, _, rest = spec.partition("=")
    if name == "seed":
        return ("seed", int(rest))
    if name == "latency":
        parts = rest.split(":")
        return _target(parts[1:], Fault("latency", parse_duration(parts[0])))
    if name == "error":
        parts = rest.split(":")
        if len(parts) < 2 or not parts[0].isdigit() or not 400 <= int(parts[0]) <= 599:
            raise FaultSpecError(f"error fault needs CODE:RATIO, got {rest!r}")
        f = _target(parts[2:], Fault("error", int(parts[0]), _ratio(parts[1])))
        if f.retry_after is None and f.value in (429, 503):
            f.retry_after = 1
        return f
    if name == "watch-close":
        parts = rest.split(":")
        return _target(parts[1:], Fault("watch-close", parse_duration(parts[0]), resource=None))
    if name.startswith("gone-on-resume"):
        head, _, tail = spec.partition(":")
        ratio = 1.0
        if "=" in head:
            ratio = _ratio(head.split("=", 1)[1])
        elif head != "gone-on-resume":
            raise FaultSpecError(f"bad fault {spec!r}")
        return _target(tail.split(":") if tail else [], Fault("gone-on-resume", ratio=ratio))
    if name == "conflict":
        parts = rest.split(":")
        return _target(parts[1:], Fault("conflict", ratio=_ratio(parts[0])))
    raise FaultSpecError(f"unknown fault {spec!r}")


class Faults:
    def __init__(self, specs=()):
        self.faults = []
        self.rng = random.Random(1)
        self.lock = threading.Lock()
        for s in specs:
            f = parse(s)
            if isinstance(f, tuple):
                self.rng = random.Random(f[1])
            else:
                self.faults.append(f)

    def _roll(self, ratio):
        with self.lock:
            return self.rng.random() < ratio

    def latency(self, verb, resource) -> float:
        return sum(f.value for f in self.faults if f.kind == "latency" and f.matches(verb, resource))

    def check_error(self, verb, resource):
        """Raises the ApiException of a matching error fault (resource requests only)."""
        for f in self.faults:
            if f.kind == "error" and f.matches(verb, resource) and self._roll(f.ratio):
                reasons = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                           504: "Timeout", 409: "Conflict"}
                headers = {}
                details = {}
                if f.retry_after is not None:
                    headers["Retry-After"] = str(max(1, int(round(f.retry_after))))
                    details["retryAfterSeconds"] = max(1, int(round(f.retry_after)))
                msg = {429: "Too many requests, please try again later.",
                       503: "the server is currently unable to handle the request"}.get(
                    f.value, f"kubesim injected fault: {f.value}")
                raise ApiException(f.value, reasons.get(f.value, "InternalError"), msg, details=details,
                                   headers=headers)
            if f.kind == "conflict" and verb in ("update", "patch") and f.matches(verb, resource) and \
                    self._roll(f.ratio):
                raise ApiException(409, "Conflict", f"Operation cannot be fulfilled on {resource}: the object "
                                                    "has been modified; please apply your changes to the latest "
                                                    "version and try again (kubesim injected conflict)")

    def watch_close(self, resource):
        vals = [f.value for f in self.faults if f.kind == "watch-close" and f.matches("watch", resource)]
        return min(vals) if vals else None

    def gone_on_resume(self, resource) -> bool:
        for f in self.faults:
            if f.kind == "gone-on-resume" and f.matches("watch", resource) and self._roll(f.ratio):
                return True
        return False
