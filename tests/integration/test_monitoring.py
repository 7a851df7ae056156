#!/usr/bin/env python3
"""deploy/monitoring: the rules pass promtool and fire and clear as tests/monitoring/alerts_test.yaml expects; the
dashboard's queries parse; every metric the rules and the dashboard name is one the operator serves. The GitOps
notification examples refer to objects, triggers and templates that exist.

The last part runs the operator on kubesim through an upgrade (v1.3.8 → v1.3.9, three workloads) and scrapes
/metrics during and after it: names, the label names the selectors use, and the label values they compare with.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from test_deploy_manifests import kubectl, offline_env, yaml_to_objects  # noqa: E402 (kubectl parses our YAML)

MONITORING = REPO / "deploy" / "monitoring"
DASHBOARD_FILE = MONITORING / "dashboards" / "meshupgrade-operator.json"
ALERTS_TEST = REPO / "tests" / "monitoring" / "alerts_test.yaml"
RULES_NAME = "prometheusrule.rules.json"  # what alerts_test.yaml's rule_files names
TROUBLESHOOTING = REPO / "docs" / "troubleshooting.md"
RUNBOOKS = "https://github.com/flomesh-io/meshupgrade-operator/blob/main/docs/troubleshooting.md#"
JOB = "meshupgrade-operator"  # the ServiceMonitor's jobLabel value on deploy/metrics_service.yaml

# Names the rules and the dashboard may use that the operator does not serve, and who serves them.
NOT_FROM_THE_OPERATOR = {
    "up": "Prometheus, for every target",
    "kube_deployment_spec_replicas": "kube-state-metrics",
    "kube_deployment_status_replicas_available": "kube-state-metrics",
}
# Labels Prometheus puts on every series of a target (prometheus-operator's ServiceMonitor relabelling).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "endpoint", "container"}
# Label values a successful upgrade does not show but the operator can: the documented enumerations.
PHASES = {"Pending", "Prechecking", "UpdatingCRDs", "UpgradingControlPlane", "RollingSidecars", "Verifying",
          "Succeeded", "Failed", "RollingBack", "RolledBack", "Suspended"}
ENUMERATIONS = {
    ("meshupgrade_info", "phase"): PHASES,
    ("meshupgrade_workloads", "state"): {"total", "restarted", "ready", "failed", "skipped", "pending"},
    ("meshupgrade_condition", "type"): {"Ready", "Reconciling", "Stalled"},
    ("meshupgrade_condition", "status"): {"True", "False", "Unknown"},
    ("meshupgrade_step_duration_seconds", "step"): {"Precheck", "UpdateCRDs", "UpgradeControlPlane", "RollSidecars",
                                                    "Verify", "Rollback"},
    ("meshupgrade_step_duration_seconds", "outcome"): {"Succeeded", "Failed"},
    ("meshupgrade_upgrades_total", "outcome"): {"Succeeded", "RolledBack", "Failed"},
    ("controller_runtime_reconcile_total", "result"): {"success", "error", "requeue_after"},
    ("rest_client_requests_total", "code"): {"<error>"} | {str(c) for c in range(100, 600)},
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def promtool():
    path = shutil.which("promtool")
    if not path:
        raise AssertionError("promtool is not on PATH: scripts/deps installs Debian's prometheus package for it")
    return path


def run(*args, cwd=None):
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def render_monitoring():
    out = subprocess.run([kubectl(), "kustomize", str(MONITORING)], capture_output=True, text=True,
                         env=offline_env(), timeout=120)
    if out.returncode != 0:
        raise AssertionError("kubectl kustomize deploy/monitoring failed: " + out.stderr)
    return yaml_to_objects(out.stdout)


def by_kind(objects):
    out = {}
    for obj in objects:
        out.setdefault(obj["kind"], []).append(obj)
    return out


def rule_groups():
    """The PrometheusRule's spec.groups as deploy/monitoring renders them."""
    [rule] = by_kind(render_monitoring())["PrometheusRule"]
    return rule["spec"]["groups"]


def alerts():
    return [r for g in rule_groups() for r in g["rules"] if "alert" in r]


def dashboard():
    return json.loads(DASHBOARD_FILE.read_text())


def dashboard_panels(board):
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep theirs inside


def dashboard_exprs(board):
    """(where, PromQL) of every panel target and every query variable (label_values' series selector)."""
    out = []
    for panel in dashboard_panels(board):
        for target in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
    for var in board["templating"]["list"]:
        if var["type"] != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        m = re.fullmatch(r"label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)", query.strip())
        if not m:
            raise AssertionError(f"variable {var['name']}: only label_values(selector, label) is expected: {query}")
        out.append((f"variable {var['name']}", m.group(1)))
    return out


def grafana_to_promql(expr):
    """A dashboard query with Grafana's variables replaced by what Grafana would send."""
    for name, value in (("$__rate_interval", "1m"), ("$__range", "6h"), ("$__interval", "30s")):
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?[a-zA-Z_]+\}?", ".*", expr)


# ------------------------------------------------------------------------------------------------- PromQL reading

GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
# Aggregations may put by/without between their name and `(`: never metric names.
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile"}
KEYWORDS = GROUPING | AGGREGATIONS | {"bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"}
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def past_string(text, i):
    """The index just past the string literal that starts at text[i] (", ' or `; backslash escapes but in `)."""
    quote, i = text[i], i + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    raise AssertionError(f"an unterminated string in {text!r}")


def closing(text, i, open_char, close_char):
    """The index just past the bracket that closes text[i] (== open_char), skipping string literals."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "\"'`":
            i = past_string(text, i)
            continue
        if c == open_char:
            depth += 1
        elif c == close_char:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AssertionError(f"unbalanced {open_char} in {text!r}")


def parse_matchers(body):
    out, pos = [], 0
    while pos < len(body) and body[pos:].strip():
        m = MATCHER.match(body, pos)
        if not m:
            raise AssertionError(f"cannot read the label matchers {{{body}}}")
        out.append((m.group(1), m.group(2), m.group(3)))
        pos = m.end()
    return out


def selectors(expr):
    """(metric, [(label, op, value)]) for every vector selector of a PromQL expression.

    A small reader of the language's lexical structure, not a parser (promtool checks the syntax): an identifier not
    followed by `(` and not a keyword is a metric name; `{...}` after it (or alone, with __name__) its matchers;
    `[...]` (ranges, subqueries) and the label lists of by/without/on/ignoring/group_left/group_right are skipped.
    """
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
        elif c == "#":
            i = expr.find("\n", i) if "\n" in expr[i:] else n
        elif c in "\"'`":
            i = past_string(expr, i)
        elif c == "[":
            i = closing(expr, i, "[", "]")
        elif c == "{":
            end = closing(expr, i, "{", "}")
            matchers = parse_matchers(expr[i + 1:end - 1])
            names = [v for label, op, v in matchers if label == "__name__" and op == "="]
            if not names:
                raise AssertionError(f"a selector without a metric name in {expr!r}")
            out.append((names[0], [m for m in matchers if m[0] != "__name__"]))
            i = end
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            i = NUMBER.match(expr, i).end()
        elif IDENT.match(expr, i):
            word = IDENT.match(expr, i).group(0)
            i += len(word)
            j = i
            while j < n and expr[j].isspace():
                j += 1
            nxt = expr[j] if j < n else ""
            if word in GROUPING:
                if nxt == "(":
                    i = closing(expr, j, "(", ")")
            elif word == "offset":
                i = NUMBER.match(expr, j).end() if NUMBER.match(expr, j) else j
                i = IDENT.match(expr, i).end() if IDENT.match(expr, i) else i  # the duration's unit
            elif word in KEYWORDS or nxt == "(":
                pass  # a keyword or a function
            elif nxt == "{":
                end = closing(expr, j, "{", "}")
                out.append((word, parse_matchers(expr[j + 1:end - 1])))
                i = end
            else:
                out.append((word, []))
        else:
            i += 1
    return out


def family(name):
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def referenced():
    """{metric: [(where, matchers)]} over the rules' expressions and the dashboard's queries."""
    out = {}
    sources = [(f"alert {r['alert']}", r["expr"]) for r in alerts()]
    sources += [(where, grafana_to_promql(expr)) for where, expr in dashboard_exprs(dashboard())]
    for where, expr in sources:
        for metric, matchers in selectors(expr):
            out.setdefault(metric, []).append((where, matchers))
    return out


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# ------------------------------------------------------------------------------------------------------- the tests

class SelectorReaderTest(unittest.TestCase):
    def test_reads_names_and_matchers_and_skips_the_rest(self):
        expr = ('time() - max by (namespace, name) (meshupgrade_last_transition_timestamp_seconds) > 15 * 60\n'
                'and on (namespace, name) max by (namespace, name) (meshupgrade_info{phase=~"A|B", x!="}"})\n'
                'unless histogram_quantile(0.9, sum by (le) (rate(a_bucket{job="j"}[5m] offset 1h)))\n'
                'or {__name__="b", y="2"} / ignoring (z) group_left (w) c')
        self.assertEqual(selectors(expr), [
            ("meshupgrade_last_transition_timestamp_seconds", []),
            ("meshupgrade_info", [("phase", "=~", "A|B"), ("x", "!=", "}")]),
            ("a_bucket", [("job", "=", "j")]),
            ("b", [("y", "=", "2")]),
            ("c", []),
        ])


class MonitoringManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = render_monitoring()
        cls.kinds = by_kind(cls.objects)
        [cls.service] = yaml_to_objects((REPO / "deploy" / "metrics_service.yaml").read_text())

    def test_renders_a_service_monitor_a_rule_and_the_dashboard(self):
        self.assertEqual(sorted(o["kind"] for o in self.objects), ["ConfigMap", "PrometheusRule", "ServiceMonitor"])
        for obj in self.objects:
            self.assertEqual(obj["metadata"]["namespace"], self.service["metadata"]["namespace"], obj["kind"])

    def test_the_service_monitor_scrapes_the_metrics_service(self):
        [monitor] = self.kinds["ServiceMonitor"]
        spec, service = monitor["spec"], self.service
        labels = service["metadata"]["labels"]
        for key, want in spec["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(key), want, f"the ServiceMonitor selects {key}={want}")
        self.assertEqual(spec["namespaceSelector"], {"matchNames": [service["metadata"]["namespace"]]})
        [endpoint] = spec["endpoints"]
        self.assertIn(endpoint["port"], [p["name"] for p in service["spec"]["ports"]])
        self.assertEqual((endpoint["path"], endpoint["scheme"]), ("/metrics", "http"))
        # meshupgrade_* carry the MeshUpgrade's namespace label; without honorLabels it would be exported_namespace.
        self.assertIs(endpoint["honorLabels"], True)
        self.assertEqual(labels.get(spec["jobLabel"]), JOB, "job is the value of the Service's jobLabel label")

    def test_the_dashboard_config_map_is_the_json_file_for_grafanas_sidecar(self):
        [config_map] = self.kinds["ConfigMap"]
        self.assertEqual(config_map["metadata"]["labels"].get("grafana_dashboard"), "1")
        self.assertEqual(config_map["metadata"]["name"], "meshupgrade-operator-dashboard")
        self.assertEqual(config_map["data"], {DASHBOARD_FILE.name: DASHBOARD_FILE.read_text()})

    def test_an_overlay_can_add_the_label_prometheus_selects_by(self):
        # kube-prometheus-stack selects ServiceMonitors and rules by its release label; docs show this overlay.
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "kustomization.yaml").write_text(
                f"resources:\n  - {os.path.relpath(MONITORING, tmp)}\n"
                "labels:\n  - pairs:\n      release: kube-prometheus-stack\n")
            out = subprocess.run([kubectl(), "kustomize", tmp], capture_output=True, text=True, env=offline_env(),
                                 timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
        overlaid = by_kind(yaml_to_objects(out.stdout))
        [monitor] = overlaid["ServiceMonitor"]
        for kind in ("ServiceMonitor", "PrometheusRule", "ConfigMap"):
            self.assertEqual(overlaid[kind][0]["metadata"]["labels"]["release"], "kube-prometheus-stack", kind)
        self.assertNotIn("release", monitor["spec"]["selector"]["matchLabels"], "the Service has no such label")


class RulesTest(unittest.TestCase):
    def write_rules(self, directory):
        path = Path(directory) / RULES_NAME
        path.write_text(json.dumps({"groups": rule_groups()}, indent=1))
        return path

    def test_promtool_checks_the_rules(self):
        with tempfile.TemporaryDirectory() as tmp:
            cp = run(promtool(), "check", "rules", str(self.write_rules(tmp)))
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn(f"SUCCESS: {len(alerts())} rules found", cp.stdout)

    def test_promtool_fires_and_clears_each_alert_from_synthetic_series(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.write_rules(tmp)
            shutil.copy(ALERTS_TEST, tmp)
            cp = run(promtool(), "test", "rules", ALERTS_TEST.name, cwd=tmp)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn("SUCCESS", cp.stdout)

    def test_the_test_file_fires_and_clears_every_alert(self):
        text = ALERTS_TEST.read_text()
        fired, quiet = set(), set()
        for name, rest in re.findall(r"alertname: (\w+)[^\n]*\n\s*exp_alerts:([^\n]*)", text):
            (quiet if rest.strip().startswith("[]") else fired).add(name)
        names = {a["alert"] for a in alerts()}
        self.assertEqual(sorted(names - fired), [], "alerts the test file never fires")
        self.assertEqual(sorted(names - quiet), [], "alerts the test file never sees quiet")
        self.assertEqual(sorted((fired | quiet) - names), [], "the test file names alerts the rules do not have")

    def test_each_alert_says_what_happened_and_links_its_runbook(self):
        anchors = {github_anchor(h) for h in re.findall(r"^#{2,4} (.+)$", TROUBLESHOOTING.read_text(), re.M)}
        self.assertIn("alerts", anchors)
        for alert in alerts():
            with self.subTest(alert=alert["alert"]):
                notes = alert["annotations"]
                self.assertEqual(sorted(notes), ["description", "runbook_url", "summary"])
                self.assertIn(alert["labels"]["severity"], ("warning", "critical"))
                self.assertTrue(notes["runbook_url"].startswith(RUNBOOKS), notes["runbook_url"])
                anchor = notes["runbook_url"][len(RUNBOOKS):]
                self.assertEqual(anchor, alert["alert"].lower(), "the anchor is the alert's name")
                self.assertIn(anchor, anchors, f"docs/troubleshooting.md has no heading for #{anchor}")

    def test_operator_series_are_selected_by_the_service_monitors_job(self):
        # controller_runtime_*, workqueue_*, rest_client_*, leader_election_* and process_* are every kubebuilder
        # operator's names: without job they would mix in other operators' series.
        for alert in alerts():
            for metric, matchers in selectors(alert["expr"]):
                if metric.startswith("meshupgrade_") or metric.startswith("kube_"):
                    continue  # our own names; kube-state-metrics' series of our Deployment
                with self.subTest(alert=alert["alert"], metric=metric):
                    self.assertIn(("job", "=", JOB), matchers)


    def test_kube_state_metrics_series_are_those_of_the_deployment_deploy_installs(self):
        [deployment] = yaml_to_objects((REPO / "deploy" / "deployment.yaml").read_text())
        want = {("namespace", "=", deployment["metadata"]["namespace"]),
                ("deployment", "=", deployment["metadata"]["name"])}
        uses = [(a["alert"], m, matchers) for a in alerts() for m, matchers in selectors(a["expr"])
                if m.startswith("kube_")]
        self.assertTrue(uses, "MeshUpgradeOperatorNotReady reads kube-state-metrics")
        for alert, metric, matchers in uses:
            self.assertEqual(set(matchers), want, f"{alert}: {metric}")


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.board = dashboard()

    def test_is_a_grafana_dashboard_on_a_chosen_prometheus(self):
        board = self.board
        self.assertEqual((board["uid"], board["title"]), ("meshupgrade-operator", "MeshUpgrade operator"))
        variables = {v["name"]: v for v in board["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertEqual(variables["job"]["current"]["value"], JOB)
        panels = list(dashboard_panels(board))
        ids = [p["id"] for p in panels]
        self.assertEqual(len(ids), len(set(ids)), "panel ids are unique")
        for panel in panels:
            grid = panel["gridPos"]
            self.assertLessEqual(grid["x"] + grid["w"], 24, panel["title"])
            for target in panel.get("targets", []):
                self.assertEqual(target["datasource"], {"type": "prometheus", "uid": "${datasource}"}, panel["title"])
                # Like the rules, every name other operators share is taken from the chosen job only.
                for metric, matchers in selectors(target["expr"]):
                    if not metric.startswith("meshupgrade_"):
                        self.assertIn(("job", "=", "$job"), matchers, f"{panel['title']}: {metric}")

    def test_has_the_panels_the_issue_asks_for(self):
        exprs = " ".join(e for _, e in dashboard_exprs(self.board))
        for metric in ("meshupgrade_info", "meshupgrade_workloads", "meshupgrade_condition",
                       "meshupgrade_step_duration_seconds_bucket", "meshupgrade_upgrades_total",
                       "meshupgrade_last_transition_timestamp_seconds", "controller_runtime_reconcile_total",
                       "controller_runtime_reconcile_errors_total", "workqueue_depth", "leader_election_master_status",
                       "rest_client_requests_total"):
            self.assertIn(metric, exprs)
        titles = [p["title"] for p in dashboard_panels(self.board)]
        for title in ("Upgrades and their phases", "Workloads by state", "Mean step duration",
                      "Upgrades by outcome (dashboard range)", "Reconciles by result", "Work queue",
                      "Leader and workers", "API requests by code"):
            self.assertIn(title, titles)

    def test_every_query_parses(self):
        # promtool parses PromQL only inside rules: each query becomes a recording rule.
        rules = [{"record": f"dashboard:query_{i}", "expr": grafana_to_promql(expr)}
                 for i, (_, expr) in enumerate(dashboard_exprs(self.board))]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "dashboard.rules.json")
            path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
            cp = run(promtool(), "check", "rules", str(path))
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)


class NotificationExamplesTest(unittest.TestCase):
    """examples/flux/alert-meshupgrade.yaml and the Argo CD notifications patch hang together (docs/gitops.md)."""

    def test_the_flux_alert_listens_to_the_kustomization_that_health_checks_the_upgrade(self):
        flux = [o for f in sorted((REPO / "examples" / "flux").glob("*.yaml")) for o in yaml_to_objects(f.read_text())]
        kinds = by_kind(flux)
        [alert], [provider] = kinds["Alert"], kinds["Provider"]
        self.assertEqual(alert["spec"]["providerRef"], {"name": provider["metadata"]["name"]})
        self.assertNotIn("address", provider["spec"], "the webhook URL belongs in the Secret, not in Git")
        self.assertIn("secretRef", provider["spec"])
        [source] = alert["spec"]["eventSources"]
        self.assertEqual(source["kind"], "Kustomization")
        [kustomization] = [k for k in kinds["Kustomization"] if k["metadata"]["name"] == source["name"]]
        self.assertEqual([c["kind"] for c in kustomization["spec"]["healthChecks"]], ["MeshUpgrade"])
        self.assertEqual(alert["spec"]["eventSeverity"], "info")

    def test_the_argocd_subscriptions_name_triggers_templates_and_a_service_that_exist(self):
        [cm] = yaml_to_objects((REPO / "examples" / "argocd" / "argocd-notifications-cm-patch.yaml").read_text())
        [app] = yaml_to_objects((REPO / "examples" / "argocd" / "application.yaml").read_text())
        data = cm["data"]
        prefix = "notifications.argoproj.io/subscribe."
        subscriptions = [k[len(prefix):].split(".") for k in app["metadata"]["annotations"] if k.startswith(prefix)]
        self.assertEqual(sorted(t for t, _ in subscriptions), ["on-meshupgrade-degraded", "on-meshupgrade-healthy"])
        for trigger, service in subscriptions:
            self.assertIn(f"service.{service}", data)
            definition = data[f"trigger.{trigger}"]
            self.assertIn("app.status.health.status", definition, trigger)
            for template in re.findall(r"send: \[([^\]]*)\]", definition)[0].split(","):
                self.assertIn(f"template.{template.strip()}", data, trigger)
        self.assertIn("== 'Degraded'", data["trigger.on-meshupgrade-degraded"])
        self.assertIn("oncePer: app.status.sync.revision", data["trigger.on-meshupgrade-healthy"])


class ScrapedMetrics:
    """Scrapes an operator's /metrics on a thread; keeps every sample name and the label values of each."""

    def __init__(self, op):
        self.op = op
        self.labels = {}  # name -> {label: {values}}
        self.scrapes = 0
        self.progress = []  # (phase, restarted workloads, last transition) of osm-upgrade, one per scrape
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping.is_set():
            self.scrape()
            self.stopping.wait(0.2)

    def scrape(self):
        try:
            text = self.op.metrics()
        except OSError:
            return ""  # not serving yet
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
            if not m:
                continue
            seen = self.labels.setdefault(m.group(1), {})
            for label, _, value in parse_matchers(m.group(3) or ""):
                seen.setdefault(label, set()).add(value)
        self.scrapes += 1
        phase = re.search(r'^meshupgrade_info\{[^}]*name="osm-upgrade"[^}]*phase="(\w+)"', text, re.M)
        restarted = re.search(r'^meshupgrade_workloads\{[^}]*name="osm-upgrade"[^}]*state="restarted"[^}]*\} (\S+)',
                              text, re.M)
        changed = re.search(r'^meshupgrade_last_transition_timestamp_seconds\{[^}]*name="osm-upgrade"[^}]*\} (\S+)',
                            text, re.M)
        if phase and restarted and changed:
            self.progress.append((phase.group(1), float(restarted.group(1)), float(changed.group(1))))
        return text

    def stop(self):
        self.stopping.set()
        self.thread.join()


class MetricsTheOperatorServesTest(unittest.TestCase):
    """Every name the rules and the dashboard select is served, with the labels and values they compare."""

    @classmethod
    def setUpClass(cls):
        import optest
        cls.optest = optest
        # Conflicts on status writes make reconciles fail and retry, so the error and retry series exist too.
        cls.env = optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "3", "--namespaces", "1",
                              "--ready-delay", "1.5", "--fault", "conflict=0.3:meshupgrades/status"],
                             start_operator=False)
        cls.addClassCleanup(cls.env.close)
        env = cls.env
        env.kubectl("create", "namespace", "meshupgrade-system", check=True)
        op = env.start_operator("--leader-elect", "--leader-election-namespace=meshupgrade-system")
        cls.scraped = ScrapedMetrics(op)
        cls.addClassCleanup(cls.scraped.stop)
        def leading():
            try:
                return optest.is_leader(op)
            except OSError:
                return False  # not serving /metrics yet
        optest.wait_for(leading, timeout=120, interval=0.5, what="the operator to lead")
        env.apply(optest.meshupgrade("osm-upgrade", "v1.3.9", sidecar={"maxConcurrent": 1}))
        cls.status = env.wait_ready("osm-upgrade")
        cls.scraped.stop()
        cls.during = cls.scraped.scrapes
        cls.scraped.scrape()  # and once more, after Ready
        cls.op = op

    def test_the_upgrade_ran(self):
        self.assertEqual(self.status["phase"], "Succeeded")
        self.assertGreater(self.during, 3, "scraped during the upgrade")

    def test_every_metric_the_rules_and_the_dashboard_name_is_served(self):
        served = set(self.scraped.labels)
        missing = {metric: sorted({where for where, _ in uses}) for metric, uses in referenced().items()
                   if metric not in served and metric not in NOT_FROM_THE_OPERATOR}
        self.assertEqual(missing, {}, f"named but not served by the operator (it serves: {sorted(served)})")

    def test_the_selectors_labels_are_on_the_series(self):
        wrong = []
        for metric, uses in referenced().items():
            if metric not in self.scraped.labels:
                continue  # reported by the test above
            labels = self.scraped.labels[metric]
            for where, matchers in uses:
                for label, _, _ in matchers:
                    if label not in labels and label not in TARGET_LABELS:
                        wrong.append(f"{where}: {metric} has no label {label} (it has {sorted(labels)})")
        self.assertEqual(wrong, [])

    def test_the_values_compared_with_are_values_the_operator_writes(self):
        wrong = []
        for metric, uses in referenced().items():
            if metric in NOT_FROM_THE_OPERATOR:
                continue  # RulesTest checks what the kube-state-metrics selectors name
            labels = self.scraped.labels.get(metric, {})
            for where, matchers in uses:
                for label, op, value in matchers:
                    if label in TARGET_LABELS or "$" in value or op not in ("=", "=~"):
                        continue
                    if op == "=~" and re.search(r"[.*+?()\[\]{}^\\]", value):
                        continue  # a real pattern: only literal alternatives are checked
                    allowed = ENUMERATIONS.get((family(metric), label), set()) | labels.get(label, set())
                    for literal in value.split("|"):
                        if literal not in allowed:
                            wrong.append(f"{where}: {metric}{{{label}{op}{value!r}}}: {literal!r} is neither "
                                         f"served ({sorted(labels.get(label, ()))}) nor documented")
        self.assertEqual(wrong, [])

    def test_the_last_transition_moves_with_the_sidecar_rollouts_progress(self):
        # MeshUpgradeNotProgressing reads "no change for 15 minutes" from this gauge: were it to move with phases
        # only, a long sidecar rollout that restarts workloads all along would look stuck.
        rolling = [(restarted, changed) for phase, restarted, changed in self.scraped.progress
                   if phase == "RollingSidecars"]
        steps = [(a, b) for a, b in zip(rolling, rolling[1:]) if b[0] > a[0]]
        self.assertTrue(steps, f"scrapes saw workloads restart during RollingSidecars: {self.scraped.progress}")
        stuck = [(a, b) for a, b in steps if b[1] <= a[1]]
        self.assertEqual(stuck, [], "(restarted, meshupgrade_last_transition_timestamp_seconds) before and after a "
                                    "restart: the timestamp did not move")

    def test_a_deleted_upgrade_takes_its_series_along(self):
        # MeshUpgradeRolledBack and MeshUpgradeFailed say they clear when the MeshUpgrade is deleted.
        def info_names():
            text = self.op.metrics()
            return {m for m in re.findall(r'^meshupgrade_info\{[^}]*name="([^"]+)"', text, re.M)}
        self.assertIn("osm-upgrade", info_names())
        self.env.kubectl("delete", "mu", "osm-upgrade", "-n", "osm-system", "--timeout=120s", check=True)
        self.optest.wait_for(lambda: "osm-upgrade" not in info_names(), timeout=60, interval=0.5,
                             what="meshupgrade_info of the deleted MeshUpgrade to go")


if __name__ == "__main__":
    unittest.main()
