"""Pod lifecycle on the single node: scheduling (cpu), image pulls, start, readiness, crash loops, events."""
import logging
import threading
import time

from . import util

log = logging.getLogger("kubesim.pods")

POD_KIND = {"apiVersion": "v1", "kind": "Pod"}
INSUFFICIENT_CPU = "0/1 nodes are available: 1 Insufficient cpu."
PULL_BACKOFF_AFTER = 1.0      # seconds from ErrImagePull to ImagePullBackOff
CRASH_BACKOFF = (2.0, 4.0, 8.0, 16.0, 30.0)  # the kubelet's 10s..5m, compressed


def _tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def _ref(image: str) -> str:
    name = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else image + ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return "docker.io/library/" + name
    if "." not in first and ":" not in first and first != "localhost":
        return "docker.io/" + name
    return name


class Scheduler:
    """Binds pods to the node at admission when their cpu requests fit; tracks the cpu in use.
    Admission runs on API request threads, the rest on the dispatcher: every method takes the lock."""

    def __init__(self, node_cpu: float):
        self.node_cpu = node_cpu
        self.lock = threading.Lock()
        self.bound = {}          # (ns, name) -> cpu of active pods on the node
        self.unconfirmed = {}    # (ns, name) -> monotonic time of admission, until the pod is seen stored

    def _used(self) -> float:
        # an admitted pod whose creation then failed (invalid, already exists) must not hold cpu forever
        now = time.monotonic()
        for key, at in list(self.unconfirmed.items()):
            if now - at > 10.0:
                del self.unconfirmed[key]
                self.bound.pop(key, None)
        return sum(self.bound.values())

    def _fits(self, cpu: float) -> bool:
        return cpu <= 0 or self._used() + cpu <= self.node_cpu + 1e-9

    def reserve_if_fits(self, key, cpu: float) -> bool:
        with self.lock:
            if not self._fits(cpu):
                return False
            self.bound[key] = cpu
            return True

    def account(self, key, cpu: float) -> None:
        with self.lock:
            self.bound[key] = cpu

    def confirm(self, pod):
        with self.lock:
            self.unconfirmed.pop((pod["metadata"].get("namespace"), pod["metadata"].get("name")), None)

    def admit(self, op, pod, old=None):
        if op != "CREATE":
            return
        spec = pod.setdefault("spec", {})
        key = (pod["metadata"].get("namespace") or "default", pod["metadata"].get("name"))
        cpu = util.pod_cpu_request(pod)
        pod.setdefault("status", {})["qosClass"] = util.qos_class(spec)
        with self.lock:
            if not spec.get("nodeName") and not self._fits(cpu):
                return  # stays unscheduled: the lifecycle reports FailedScheduling
            if key not in self.bound:
                self.unconfirmed[key] = time.monotonic()
            self.bound[key] = cpu
        if not spec.get("nodeName"):
            spec["nodeName"] = util.NODE_NAME
            st = pod["status"]
            st["phase"] = "Pending"
            st["conditions"] = [util.cond("PodScheduled", "True", util.now())]

    def release(self, pod):
        with self.lock:
            self.bound.pop((pod["metadata"].get("namespace"), pod["metadata"].get("name")), None)


class PodLifecycle:
    def __init__(self, mgr):
        self.mgr = mgr
        self.store = mgr.store
        self.ready_delay = mgr.ready_delay
        self.sched = mgr.scheduler
        self.state = {}          # uid -> dict(stage, restarts, token)
        self.pending = []        # uids waiting for cpu, FIFO

    # ------------------------------------------------------------------ events
    def on_event(self, type_, pod, old):
        uid = pod["metadata"]["uid"]
        self.sched.confirm(pod)
        if type_ == "DELETED":
            st = self.state.pop(uid, None)
            self.sched.release(pod)
            if uid in self.pending:
                self.pending.remove(uid)
            if st is not None and st.get("stage") in ("running", "crashloop", "starting"):
                self._event(pod, "Killing", f"Stopping container {self._containers(pod)[0]['name']}")
            self.mgr.soon(self.retry_pending)
            return
        if uid in self.state:
            return
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        if spec.get("nodeName") and status.get("phase") in ("Running", "Succeeded", "Failed"):
            # seeded or already handled (e.g. the simulator restarted with this pod): only account for it
            self.state[uid] = {"stage": "running", "restarts": 0, "token": 0}
            self.sched.account((pod["metadata"]["namespace"], pod["metadata"]["name"]), util.pod_cpu_request(pod))
            return
        if not spec.get("nodeName"):
            self.state[uid] = {"stage": "unschedulable", "restarts": 0, "token": 0}
            self._unschedulable(pod)
            return
        self.state[uid] = {"stage": "starting", "restarts": 0, "token": 0}
        self._event(pod, "Scheduled", f"Successfully assigned {pod['metadata']['namespace']}/"
                                      f"{pod['metadata']['name']} to {util.NODE_NAME}", component="default-scheduler")
        self._start(pod)

    # ------------------------------------------------------------------ scheduling
    def _unschedulable(self, pod):
        uid = pod["metadata"]["uid"]
        if uid not in self.pending:
            self.pending.append(uid)
        status = util.clone(pod.get("status") or {})
        status["phase"] = "Pending"
        status["conditions"] = [util.cond("PodScheduled", "False", util.now(), "Unschedulable", INSUFFICIENT_CPU)]
        self._write_status(pod, status)
        self._event(pod, "FailedScheduling", INSUFFICIENT_CPU, "Warning", component="default-scheduler")

    def retry_pending(self):
        for uid in list(self.pending):
            pod = self.mgr.cache.by_uid(util.GVR_POD, uid)
            if pod is None:
                self.pending.remove(uid)
                continue
            cpu = util.pod_cpu_request(pod)
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            if not self.sched.reserve_if_fits(key, cpu):
                continue
            self.pending.remove(uid)
            new = util.clone(pod)
            new["spec"]["nodeName"] = util.NODE_NAME
            try:
                new = util.s_update(self.store, util.GVR_POD, new)
            except Exception as e:  # noqa: BLE001 - gone (its DELETED event cleans up) or conflicting: retry later
                log.debug("bind %s failed: %s", key, e)
                self.sched.release(new)
                self.pending.append(uid)
                self.mgr.later_call(1.0, self.retry_pending)
                continue
            self.mgr.cache.observe(util.GVR_POD, new)
            self.state[uid] = {"stage": "starting", "restarts": 0, "token": 0}
            self._event(new, "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {util.NODE_NAME}",
                        component="default-scheduler")
            self._start(new)

    # ------------------------------------------------------------------ start-up
    def _containers(self, pod):
        return (pod.get("spec") or {}).get("containers") or [{"name": "?"}]

    def _start(self, pod):
        from .. import mesh
        spec = pod.get("spec") or {}
        ts = util.now()
        inits = spec.get("initContainers") or []
        mains = spec.get("containers") or []
        bad_init = [c for c in inits if not mesh.image_known(c.get("image", ""))]
        bad_main = [c for c in mains if not mesh.image_known(c.get("image", ""))]
        for c in inits[: inits.index(bad_init[0]) if bad_init else len(inits)]:
            self._container_events(pod, c)
        if bad_init:
            self._pull_failed(pod, bad_init[0], init=True)
            return
        crashing = {}
        for c in mains:
            if c in bad_main:
                continue
            line = mesh.crash_log(pod, c)
            if line is not None:
                crashing[c["name"]] = line
            self._container_events(pod, c)
        for c in bad_main:
            self._pull_failed(pod, c, init=False, write=False)
        st = self.state[pod["metadata"]["uid"]]
        st.update(bad={c["name"] for c in bad_main}, crashing=crashing, pull_stage="ErrImagePull")
        for name, line in crashing.items():
            self.store.pod_logs[(pod["metadata"]["namespace"], pod["metadata"]["name"], name)] = line + "\n"
            if "FatalInvalidCLIParameters" in line:
                self._event(pod, "FatalInvalidCLIParameters", "Error validating CLI parameters", "Warning",
                            component=name)
        policy = spec.get("restartPolicy", "Always")
        if policy != "Always" and not bad_main and (crashing and policy == "Never" or not crashing):
            # run-to-completion pods (e.g. an image-pull probe): they exit once started, 1 if they crash
            st["stage"] = "running"
            self._after(pod, max(0.0, self.ready_delay), lambda p: self._complete(p, failed=bool(crashing)))
            if self.ready_delay > 0:
                st["ready"] = False
                self._write_status(pod, self._status(pod, ts))
            return
        st["stage"] = "running"
        st["ready"] = self.ready_delay <= 0  # healthy containers pass their readiness probe
        if crashing:
            st["restarts"] = 1
        pod = self._write_status(pod, self._status(pod, ts)) or pod
        if crashing:
            self._after(pod, CRASH_BACKOFF[0], self._crash_again)
        if bad_main:
            self._after(pod, PULL_BACKOFF_AFTER, self._pull_backoff)
        if st["ready"]:
            if util.pod_is_ready(pod):
                self.mgr.pod_ready(pod)
        else:
            self._after(pod, self.ready_delay, self._become_ready)

    def _complete(self, pod, failed: bool):
        """Terminal phase of a restartPolicy Never/OnFailure pod: containers exited (0, or 1 when crashing)."""
        ts = util.now()
        st = self.state[pod["metadata"]["uid"]]
        st["stage"] = "done"
        status = util.running_pod_status(pod, ts, False, (pod.get("status") or {}).get("startTime") or ts)
        crashing = st.get("crashing", {})
        for cs in status["containerStatuses"]:
            bad = failed and cs["name"] in crashing
            cs.update(started=False, ready=False, state={"terminated": {
                "exitCode": 1 if bad else 0, "reason": "Error" if bad else "Completed",
                "startedAt": status["startTime"], "finishedAt": ts, "containerID": cs["containerID"]}})
        status["phase"] = "Failed" if failed else "Succeeded"
        for c in status["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c.update(status="False", reason="PodFailed" if failed else "PodCompleted", lastTransitionTime=ts)
                c.pop("message", None)
        self._write_status(pod, status)
        self.sched.release(pod)
        self.mgr.soon(self.retry_pending)

    def _status(self, pod, ts) -> dict:
        """Status of a started pod: healthy containers running (ready once their delay passed), others waiting."""
        st = self.state.get(pod["metadata"]["uid"], {})
        ready = st.get("ready", False)
        bad = st.get("bad", set())
        crashing = st.get("crashing", {})
        restarts = st.get("restarts", 0)
        start = (pod.get("status") or {}).get("startTime") or ts
        status = util.running_pod_status(pod, ts, True, start)
        all_ready = True
        for cs in status["containerStatuses"]:
            name = cs["name"]
            image = cs["image"]
            if name in bad:
                cs.update(ready=False, started=False, imageID="", state={"waiting": {
                    "reason": st.get("pull_stage", "ErrImagePull"),
                    "message": self._pull_message(image, st.get("pull_stage", "ErrImagePull"))}})
                cs.pop("containerID", None)
            elif name in crashing:
                cs.update(ready=False, started=False, restartCount=restarts, state={"waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {int(CRASH_BACKOFF[min(restarts, len(CRASH_BACKOFF) - 1)] * 5)}s "
                               f"restarting failed container={name} pod={pod['metadata']['name']}_"
                               f"{pod['metadata']['namespace']}({pod['metadata']['uid']})"}},
                          lastState={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts,
                                                    "finishedAt": ts, "containerID": cs["containerID"]}})
            elif _tag(image).endswith("-notready") or not ready:
                cs["ready"] = False
            if not cs["ready"]:
                all_ready = False
        if not all_ready:
            names = " ".join(cs["name"] for cs in status["containerStatuses"] if not cs["ready"])
            for c in status["conditions"]:
                if c["type"] in ("Ready", "ContainersReady"):
                    c.update(status="False", reason="ContainersNotReady",
                             message=f"containers with unready status: [{names}]")
        if all(cs["name"] in bad for cs in status["containerStatuses"]):
            status["phase"] = "Pending"  # nothing ever started
        return status

    def _pull_message(self, image, stage):
        if stage == "ImagePullBackOff":
            return f'Back-off pulling image "{image}"'
        ref = _ref(image)
        return (f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
                f'{ref}: not found')

    def _pull_failed(self, pod, c, init: bool, write: bool = True):
        image = c.get("image", "")
        self._event(pod, "Pulling", f'Pulling image "{image}"', component="kubelet")
        self._event(pod, "Failed", f'Failed to pull image "{image}": {self._pull_message(image, "ErrImagePull")}',
                    "Warning", component="kubelet")
        self._event(pod, "Failed", "Error: ErrImagePull", "Warning", component="kubelet")
        if not init:
            return
        st = self.state[pod["metadata"]["uid"]]
        st.update(stage="init-pull", init_bad=c["name"], pull_stage="ErrImagePull")
        self._write_status(pod, self._init_blocked_status(pod, "ErrImagePull"))
        self._after(pod, PULL_BACKOFF_AFTER, self._pull_backoff)

    def _init_blocked_status(self, pod, stage):
        spec = pod.get("spec") or {}
        st = self.state[pod["metadata"]["uid"]]
        ts = util.now()
        bad = st["init_bad"]
        inits, done = [], True
        for c in spec.get("initContainers") or []:
            if c["name"] == bad:
                done = False
                inits.append({"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                              "restartCount": 0, "started": False, "state": {"waiting": {
                                  "reason": stage, "message": self._pull_message(c.get("image", ""), stage)}}})
            elif done:
                inits.append({"name": c["name"], "image": c.get("image", ""),
                              "imageID": util.image_id(c.get("image", "")), "ready": True, "restartCount": 0,
                              "started": False, "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                                         "startedAt": ts, "finishedAt": ts}}})
            else:
                inits.append({"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                              "restartCount": 0, "started": False,
                              "state": {"waiting": {"reason": "PodInitializing"}}})
        mains = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False, "restartCount": 0,
                  "started": False, "state": {"waiting": {"reason": "PodInitializing"}}}
                 for c in spec.get("containers") or []]
        pending = [c["name"] for c in inits if not c["ready"]]
        not_ready = " ".join(c["name"] for c in mains)
        start = (pod.get("status") or {}).get("startTime") or ts
        return {"phase": "Pending", "hostIP": "10.0.0.10", "hostIPs": [{"ip": "10.0.0.10"}],
                "podIP": util.pod_ip(pod["metadata"]["uid"]), "podIPs": [{"ip": util.pod_ip(pod["metadata"]["uid"])}],
                "startTime": start, "qosClass": util.qos_class(spec),
                "conditions": [util.cond("PodReadyToStartContainers", "True", start),
                               util.cond("Initialized", "False", start, "ContainersNotInitialized",
                                         f"containers with incomplete status: [{' '.join(pending)}]"),
                               util.cond("Ready", "False", start, "ContainersNotReady",
                                         f"containers with unready status: [{not_ready}]"),
                               util.cond("ContainersReady", "False", start, "ContainersNotReady",
                                         f"containers with unready status: [{not_ready}]"),
                               util.cond("PodScheduled", "True", start)],
                "initContainerStatuses": inits, "containerStatuses": mains}

    def _container_events(self, pod, c):
        if not self.mgr.container_events:
            return
        image = c.get("image", "")
        name = c["name"]
        if c.get("imagePullPolicy") == "Always":
            self._event(pod, "Pulling", f'Pulling image "{image}"', component="kubelet")
            self._event(pod, "Pulled", f'Successfully pulled image "{image}" in 412ms (412ms including waiting). '
                                       f'Image size: 52428800 bytes.', component="kubelet")
        else:
            self._event(pod, "Pulled", f'Container image "{image}" already present on machine',
                        component="kubelet")
        self._event(pod, "Created", f"Created container: {name}", component="kubelet")
        self._event(pod, "Started", f"Started container {name}", component="kubelet")

    # ------------------------------------------------------------------ timers
    def _after(self, pod, seconds, fn):
        uid = pod["metadata"]["uid"]
        st = self.state.get(uid)
        if st is None:
            return
        token = st["token"]

        def fire():
            cur = self.state.get(uid)
            if cur is None or cur["token"] != token:
                return
            latest = self.mgr.cache.by_uid(util.GVR_POD, uid)
            if latest is None or latest["metadata"].get("deletionTimestamp"):
                return
            fn(latest)
        self.store.call_later(max(0.0, seconds), fire)

    def _become_ready(self, pod):
        self.state[pod["metadata"]["uid"]]["ready"] = True
        pod = self._write_status(pod, self._status(pod, util.now())) or pod
        if util.pod_is_ready(pod):
            self.mgr.pod_ready(pod)

    def _pull_backoff(self, pod):
        st = self.state[pod["metadata"]["uid"]]
        st["pull_stage"] = "ImagePullBackOff"
        spec = pod.get("spec") or {}
        if st.get("stage") == "init-pull":
            image = next((c.get("image", "") for c in spec.get("initContainers") or []
                          if c["name"] == st["init_bad"]), "")
            self._write_status(pod, self._init_blocked_status(pod, "ImagePullBackOff"))
            images = [image]
        else:
            self._write_status(pod, self._status(pod, util.now()))
            images = [c.get("image", "") for c in spec.get("containers") or [] if c["name"] in st.get("bad", ())]
        for image in images:
            self._event(pod, "BackOff", f'Back-off pulling image "{image}"', component="kubelet")
            self._event(pod, "Failed", "Error: ImagePullBackOff", "Warning", component="kubelet")

    def _crash_again(self, pod):
        st = self.state[pod["metadata"]["uid"]]
        st["restarts"] += 1
        self._write_status(pod, self._status(pod, util.now()))
        for name in st.get("crashing", {}):
            self._event(pod, "BackOff", f"Back-off restarting failed container {name} in pod "
                                        f"{pod['metadata']['name']}_{pod['metadata']['namespace']}"
                                        f"({pod['metadata']['uid']})", "Warning", component="kubelet")
        delay = CRASH_BACKOFF[min(st["restarts"] - 1, len(CRASH_BACKOFF) - 1)]
        self._after(pod, delay, self._crash_again)

    # ------------------------------------------------------------------ writes
    def _write_status(self, pod, status):
        md = pod["metadata"]
        try:
            new = util.s_status(self.store, util.GVR_POD, md["namespace"], md["name"], status)
        except Exception as e:  # noqa: BLE001 - the pod went away meanwhile
            log.debug("pod status %s/%s: %s", md["namespace"], md["name"], e)
            return None
        self.mgr.cache.observe(util.GVR_POD, new)
        self.mgr.mark_owner(new)
        return new  # callers use this: `pod` may be a cached (shared) object and is never changed in place

    def _event(self, pod, reason, message, type_="Normal", component="kubelet"):
        try:
            self.store.record_event(dict(POD_KIND, metadata=pod["metadata"]), reason, message, type_, component)
        except Exception:  # noqa: BLE001 - events are best effort, as in a real cluster
            log.debug("event %s failed", reason)
