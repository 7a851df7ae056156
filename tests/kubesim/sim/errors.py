"""ApiException: an API failure that the server turns into a metav1.Status answer."""


class ApiException(Exception):
    def __init__(self, code: int, reason: str, message: str, causes: list | None = None,
                 details: dict | None = None, headers: dict | None = None):
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.details = details or {}
        self.headers = headers or {}

    def status(self) -> dict:
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message}
        if self.reason:   # metav1.Status omits an empty reason (StatusReasonUnknown)
            st["reason"] = self.reason
        st["code"] = self.code
        details = dict(self.details)
        if self.causes:
            details["causes"] = self.causes
        if details:
            st["details"] = details
        return st


def not_found(resource: str, name: str, group: str = "") -> ApiException:
    gr = f"{resource}.{group}" if group else resource
    return ApiException(404, "NotFound", f'{gr} "{name}" not found',
                        details={"name": name, "group": group, "kind": resource})


def already_exists(resource: str, name: str, group: str = "") -> ApiException:
    gr = f"{resource}.{group}" if group else resource
    return ApiException(409, "AlreadyExists", f'{gr} "{name}" already exists',
                        details={"name": name, "group": group, "kind": resource})


def conflict(resource: str, name: str, group: str = "") -> ApiException:
    gr = f"{resource}.{group}" if group else resource
    return ApiException(409, "Conflict",
                        f'Operation cannot be fulfilled on {gr} "{name}": the object has been modified; '
                        "please apply your changes to the latest version and try again",
                        details={"name": name, "group": group, "kind": resource})


def invalid(kind: str, name: str, causes: list, group: str = "") -> ApiException:
    """causes: [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.x"}]"""
    gk = f"{kind}.{group}" if group else kind
    parts = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
    msg = f'{gk} "{name}" is invalid: ' + (f"[{parts}]" if len(causes) > 1 else parts)
    return ApiException(422, "Invalid", msg, causes=causes, details={"name": name, "group": group, "kind": kind})
