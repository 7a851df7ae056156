"""kubesim: a Kubernetes API server simulator (entry point wiring: flags, certificates, seeding, serving)."""
import argparse
import base64
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading

extra_images: set = set()   # --extra-image values (a no-op kept for old command lines)


def _parser():
    from . import faults
    p = argparse.ArgumentParser(prog="kubesim", description="Kubernetes API server simulator",
                                epilog=faults.USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kubeconfig", required=True, help="write an admin kubeconfig here")
    p.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0: any free port)")
    p.add_argument("--mesh", action="append", default=[], metavar="VERSION[@NAMESPACE]",
                   help="seed an osm-edge mesh of this version (in osm-system, or NAMESPACE); repeatable")
    p.add_argument("--meshed-workloads", type=int, default=0, metavar="N")
    p.add_argument("--namespaces", type=int, default=None, metavar="M")
    p.add_argument("--replicas", type=int, default=1, metavar="R")
    p.add_argument("--ready-delay", type=float, default=1.0, metavar="SECONDS")
    p.add_argument("--node-cpu", type=float, default=16.0, metavar="CORES")
    p.add_argument("--rbac", action="store_true", help="enforce RBAC for ServiceAccount tokens")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC")
    p.add_argument("--extra-image", action="append", default=[], metavar="IMAGE",
                   help="accepted and ignored: every image pulls unless --unpullable-image or osm-edge says not")
    p.add_argument("--unpullable-image", action="append", default=[], metavar="PATTERN",
                   help="images matching this shell pattern fail to pull (ErrImagePull); repeatable")
    p.add_argument("--log-level", default=os.environ.get("KUBESIM_LOG", "WARNING"))
    return p


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1/localhost and an admin client certificate (system:masters)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj",
             "/CN=kubesim-ca", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=d)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n"
                "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "3650", "-extfile", "server.ext", cwd=d)
    _openssl("req", *ec, "-keyout", "admin.key", "-out", "admin.csr", "-subj",
             "/O=system:masters/CN=kubernetes-admin", cwd=d)
    with open(os.path.join(d, "admin.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
    _openssl("x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "admin.crt", "-days", "3650", "-extfile", "admin.ext", cwd=d)


def write_kubeconfig(path, d, url):
    def b64(name):
        with open(os.path.join(d, name), "rb") as f:
            return base64.b64encode(f.read()).decode()
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: {url}
    certificate-authority-data: {b64("ca.crt")}
users:
- name: kubesim-admin
  user:
    client-certificate-data: {b64("admin.crt")}
    client-key-data: {b64("admin.key")}
contexts:
- name: kubesim
  context:
    cluster: kubesim
    user: kubesim-admin
    namespace: default
current-context: kubesim
preferences: {{}}
"""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def seed_basics(store):
    """What every cluster has: system namespaces, the node, default service accounts, default ClusterRoles."""
    from . import rbac
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        store.create(("", "v1", "namespaces"), {"metadata": {"name": ns}})
    ensure_default_sa(store)
    for cr in rbac.default_cluster_roles():
        store.create(("rbac.authorization.k8s.io", "v1", "clusterroles"), cr)
    store.create(("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), {
        "metadata": {"name": "cluster-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]})
    store.create(("", "v1", "services"), {"metadata": {"name": "kubernetes", "namespace": "default",
                                                       "labels": {"component": "apiserver",
                                                                  "provider": "kubernetes"}},
                                          "spec": {"clusterIP": "10.96.0.1",
                                                   "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}})


def ensure_default_sa(store):
    """Like the serviceaccount controller: every namespace gets a `default` ServiceAccount, synchronously
    (a mutation-free commit hook would recurse, so namespaces created later get theirs on the dispatcher)."""
    def on_event(type_, gvr, obj, old):
        if gvr[2] == "namespaces" and type_ == "ADDED":
            _make_sa(store, obj["metadata"]["name"])
    store.subscribe(on_event)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        _make_sa(store, ns)


def _make_sa(store, ns):
    from .errors import ApiException
    try:
        store.create(("", "v1", "serviceaccounts"), {"metadata": {"name": "default", "namespace": ns}})
    except ApiException:
        pass


def seed_node(store, node_cpu):
    cpu = str(int(node_cpu)) if float(node_cpu).is_integer() else f"{int(node_cpu * 1000)}m"
    from .api_types import now_iso
    now = now_iso()
    store.create(("", "v1", "nodes"), {
        "metadata": {"name": "kubesim-node", "labels": {
            "kubernetes.io/hostname": "kubesim-node", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/control-plane": ""}},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {"capacity": {"cpu": cpu, "memory": "65536Mi", "pods": "110000"},
                   "allocatable": {"cpu": cpu, "memory": "65536Mi", "pods": "110000"},
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                   "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                                   "lastTransitionTime": now}],
                   "addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                                 {"type": "Hostname", "address": "kubesim-node"}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0", "containerRuntimeVersion": "containerd://1.7.0",
                                "osImage": "kubesim", "operatingSystem": "linux", "architecture": "amd64",
                                "kernelVersion": "6.1.0", "kubeProxyVersion": "v1.32.0", "machineID": "kubesim",
                                "systemUUID": "kubesim", "bootID": "kubesim"}}})


class Running:
    """A simulator serving in this process: .store, .api, .server, .url, .kubeconfig; .stop()."""

    def __init__(self, store, api, server, url, kubeconfig, certdir):
        self.store, self.api, self.server, self.url = store, api, server, url
        self.kubeconfig, self.certdir = kubeconfig, certdir
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def stop(self):
        import shutil
        self.api.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.certdir, ignore_errors=True)


def build(args, with_controllers=True) -> Running:
    """Builds the store, seeds it, starts controllers (if SIM-MESH provides them) and binds the server."""
    from . import faults as faultmod
    from .server import Api, make_server
    from .store import Store
    faults = faultmod.Faults(args.fault)
    extra_images.update(args.extra_image)
    store = Store()
    store.rbac_enabled = args.rbac
    seed_basics(store)
    seed_node(store, args.node_cpu)
    namespaces = args.namespaces if args.namespaces is not None else 1
    meshmod = ctlmod = None
    if with_controllers:
        try:
            from . import mesh as meshmod
        except ImportError:
            meshmod = None
        try:
            from . import controllers as ctlmod
        except ImportError:
            ctlmod = None
    if meshmod is not None and hasattr(meshmod, "extra_images"):
        meshmod.extra_images.update(args.extra_image)
        meshmod.unpullable_images[:] = args.unpullable_image
    if meshmod is not None and hasattr(meshmod, "seed"):
        meshmod.seed(store, args.mesh, args.meshed_workloads, namespaces, args.replicas)
    elif args.mesh or args.meshed_workloads:
        print("kubesim: warning: sim.mesh is not available; --mesh/--meshed-workloads ignored", file=sys.stderr)
    if ctlmod is not None and hasattr(ctlmod, "start"):
        ctlmod.start(store, args.ready_delay, args.node_cpu)
    certdir = tempfile.mkdtemp(prefix="kubesim-certs-")
    make_certs(certdir)
    api = Api(store, faults, args.rbac, [0])
    srv = make_server(api, args.port, os.path.join(certdir, "server.crt"), os.path.join(certdir, "server.key"),
                      os.path.join(certdir, "ca.crt"))
    url = f"https://127.0.0.1:{srv.server_address[1]}"
    write_kubeconfig(args.kubeconfig, certdir, url)
    return Running(store, api, srv, url, args.kubeconfig, certdir)


def start_in_process(argv, with_controllers=False) -> Running:
    """For tests that need the store itself (bulk loading): parses argv like the CLI, serves on a thread."""
    args = _parser().parse_args(argv)
    threading.stack_size(1 << 20)
    r = build(args, with_controllers)
    r.thread.start()
    return r


def main(argv=None):
    p = _parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from . import faults as faultmod
    try:
        faultmod.Faults(args.fault)
    except (faultmod.FaultSpecError, ValueError) as e:
        p.print_usage(sys.stderr)
        print(f"kubesim: error: --fault: {e}", file=sys.stderr)
        return 2
    if args.meshed_workloads < 0 or args.replicas < 0 or (args.namespaces is not None and args.namespaces < 1):
        p.print_usage(sys.stderr)
        print("kubesim: error: counts must be positive", file=sys.stderr)
        return 2
    try:
        from .mesh import parse_meshes
        parse_meshes(args.mesh)
    except ImportError:
        pass
    except ValueError as e:
        p.print_usage(sys.stderr)
        print(f"kubesim: error: {e}", file=sys.stderr)
        return 2
    threading.stack_size(1 << 20)   # a thousand watch threads must stay cheap
    try:
        running = build(args)
    except OSError as e:
        print(f"kubesim: error: cannot serve on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running.thread.start()
    print(f"kubesim ready {running.url}", flush=True)
    while not stop.wait(0.5):
        pass
    # Stop at once: no new connections, no waiting for the accept loop or open watches (daemon threads).
    running.api.stopping.set()
    running.server.socket.close()
    import shutil
    shutil.rmtree(running.certdir, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)
