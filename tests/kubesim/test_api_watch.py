"""Watch semantics over raw HTTPS: resume from a resourceVersion, initial events, bookmarks, 410 Gone after
compaction, timeoutSeconds, selector transitions, Table watches, DELETED events."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


class WatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start(env={"KUBESIM_BOOKMARK_INTERVAL": "0.5"})

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def ns(self, name):
        status, body, _ = self.sim.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        self.assertEqual(status, 201, body)
        return name

    def cm(self, ns, name, labels=None, data=None):
        status, body, _ = self.sim.request("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                           {"metadata": {"name": name, "labels": labels or {}}, "data": data or {}})
        self.assertEqual(status, 201, body)
        return body

    def rv(self, ns):
        return self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps")[1]["metadata"]["resourceVersion"]

    def events(self, resp, n, deadline=30):
        out = []
        end = time.monotonic() + deadline
        while len(out) < n and time.monotonic() < end:
            line = resp.readline()
            if not line:
                break
            out.append(json.loads(line))
        return out

    def test_resume_from_resource_version_replays_later_changes(self):
        ns = self.ns("resume")
        self.cm(ns, "before")
        rv = self.rv(ns)
        self.cm(ns, "a")
        self.cm(ns, "b")
        self.sim.request("DELETE", f"/api/v1/namespaces/{ns}/configmaps/a")
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}")
        try:
            evs = self.events(resp, 3)
            self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                             [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")])
            rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
            self.assertEqual(rvs, sorted(rvs))
        finally:
            conn.close()

    def test_watch_without_version_starts_with_existing_objects(self):
        ns = self.ns("initial")
        self.cm(ns, "x")
        self.cm(ns, "y")
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=true")
        try:
            evs = self.events(resp, 2)
            self.assertEqual(sorted(e["object"]["metadata"]["name"] for e in evs), ["x", "y"])
            self.assertTrue(all(e["type"] == "ADDED" for e in evs))
            self.cm(ns, "z")
            self.assertEqual(self.events(resp, 1)[0]["object"]["metadata"]["name"], "z")
        finally:
            conn.close()

    def test_send_initial_events_ends_with_a_bookmark_and_bookmarks_repeat(self):
        ns = self.ns("bookmarks")
        self.cm(ns, "x")
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true"
                                     "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
        try:
            evs = self.events(resp, 3)
            self.assertEqual(evs[0]["type"], "ADDED")
            self.assertEqual(evs[1]["type"], "BOOKMARK")
            self.assertEqual(evs[1]["object"]["metadata"]["annotations"], {"k8s.io/initial-events-end": "true"})
            self.assertEqual(evs[2]["type"], "BOOKMARK")   # periodic, every 0.5 s here
            self.assertGreaterEqual(int(evs[2]["object"]["metadata"]["resourceVersion"]),
                                    int(evs[0]["object"]["metadata"]["resourceVersion"]))
        finally:
            conn.close()

    def test_compacted_resource_version_is_410_gone(self):
        ns = self.ns("gone")
        rv = self.rv(ns)
        self.cm(ns, "x")
        self.cm(ns, "y")
        _, page, _ = self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1")
        self.cm(ns, "z")   # history moves past the list's resourceVersion, then is compacted
        status, _, _ = self.sim.request("POST", "/kubesim/compact")
        self.assertEqual(status, 200)
        status, body, _ = self.sim.request(
            "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=1&continue={page['metadata']['continue']}")
        self.assertEqual((status, body["reason"]), (410, "Expired"))
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}")
        try:
            evs = self.events(resp, 1)
            self.assertEqual(evs[0]["type"], "ERROR")
            self.assertEqual(evs[0]["object"]["code"], 410)
            self.assertEqual(evs[0]["object"]["reason"], "Expired")
        finally:
            conn.close()

    def test_timeout_seconds_ends_the_stream(self):
        ns = self.ns("timeout")
        start = time.monotonic()
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={self.rv(ns)}"
                                     "&timeoutSeconds=1")
        try:
            self.assertEqual(resp.read(), b"")
            self.assertLess(time.monotonic() - start, 10)
        finally:
            conn.close()

    def test_label_selector_turns_relabels_into_added_and_deleted(self):
        ns = self.ns("selwatch")
        rv = self.rv(ns)
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}"
                                     "&labelSelector=team%3Dblue")
        try:
            self.cm(ns, "other", labels={"team": "red"})
            self.cm(ns, "c", labels={"team": "blue"})
            self.sim.request("PATCH", f"/api/v1/namespaces/{ns}/configmaps/c", {"metadata": {"labels": {"team": "red"}}},
                             headers={"Content-Type": "application/merge-patch+json"})
            self.sim.request("PATCH", f"/api/v1/namespaces/{ns}/configmaps/other",
                             {"metadata": {"labels": {"team": "blue"}}},
                             headers={"Content-Type": "application/merge-patch+json"})
            evs = self.events(resp, 3)
            self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                             [("ADDED", "c"), ("DELETED", "c"), ("ADDED", "other")])
        finally:
            conn.close()

    def test_table_watch_sends_rows(self):
        ns = self.ns("tablewatch")
        rv = self.rv(ns)
        conn, resp = self.sim.stream(f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}",
                                     headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        try:
            self.cm(ns, "t", data={"a": "1"})
            ev = self.events(resp, 1)[0]
            self.assertEqual(ev["object"]["kind"], "Table")
            self.assertEqual([c["name"] for c in ev["object"]["columnDefinitions"]], ["Name", "Data", "Age"])
            self.assertEqual(ev["object"]["rows"][0]["cells"][:2], ["t", 1])
        finally:
            conn.close()

    def test_metadata_only_answers(self):
        ns = self.ns("metaonly")
        self.cm(ns, "m", labels={"a": "b"}, data={"big": "x" * 100})
        hdr = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"}
        status, body, _ = self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps", headers=hdr)
        self.assertEqual((status, body["kind"]), (200, "PartialObjectMetadataList"))
        self.assertEqual(body["items"][0]["metadata"]["labels"], {"a": "b"})
        self.assertNotIn("data", body["items"][0])
        hdr = {"Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"}
        status, body, _ = self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps/m", headers=hdr)
        self.assertEqual((body["kind"], body["metadata"]["name"]), ("PartialObjectMetadata", "m"))

    def test_update_no_op_keeps_resource_version(self):
        ns = self.ns("noop")
        obj = self.cm(ns, "same", data={"k": "v"})
        status, again, _ = self.sim.request("PUT", f"/api/v1/namespaces/{ns}/configmaps/same", obj)
        self.assertEqual(status, 200)
        self.assertEqual(again["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"])
        applied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied", "namespace": ns},
                   "data": {"k": "v"}}
        path = f"/api/v1/namespaces/{ns}/configmaps/applied?fieldManager=op"
        hdr = {"Content-Type": "application/apply-patch+yaml"}
        status, first, _ = self.sim.request("PATCH", path, applied, headers=hdr)
        self.assertEqual(status, 201)
        status, second, _ = self.sim.request("PATCH", path, applied, headers=hdr)
        self.assertEqual(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
