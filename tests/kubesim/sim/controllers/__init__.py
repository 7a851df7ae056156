"""Controllers of the simulator: Deployment, ReplicaSet, StatefulSet, DaemonSet and the pod lifecycle."""

_managers = {}


def start(store, ready_delay: float = 1.0, node_cpu: float = 16.0):
    """Subscribes the controllers to the store; returns the manager (tests may inspect it)."""
    from .manager import Manager
    mgr = Manager(store, ready_delay, node_cpu)
    _managers[id(store)] = mgr
    mgr.start()
    return mgr
