"""Helm's record after an upgrade and after a rollback, decoded as Helm decodes it (issue 12); meshes owned by a
GitOps controller refused before anything changes; the release catalog extended at run time by a ConfigMap."""
import base64
import gzip
import json
import unittest

import optest


def helm_history(env, release="osm", ns="osm-system"):
    """{version: (secret, release JSON)} as `helm history` reads them: data.release is base64 (the API's encoding
    of the bytes), the bytes are Helm's base64 of the gzipped JSON."""
    out = {}
    for s in env.get("secrets", "-n", ns, "-l", f"owner=helm,name={release}")["items"]:
        assert s["type"] == "helm.sh/release.v1", s["metadata"]["name"]
        raw = base64.b64decode(base64.b64decode(s["data"]["release"]))
        rel = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        out[rel["version"]] = (s, rel)
    return out


def images_in(manifest):
    return {line.split("image:", 1)[1].strip().strip('"\'') for line in manifest.splitlines() if "image:" in line}


class HelmRecord(unittest.TestCase):
    def test_an_upgrade_writes_the_next_revision_and_supersedes_the_previous(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "2", "--ready-delay", "0.2"]) as env:
            before = helm_history(env)
            self.assertEqual(sorted(before), [1])
            _, first = before[1]
            env.apply(optest.meshupgrade("up", "v1.3.9"))
            status = env.wait_ready("up", timeout=240)
            history = helm_history(env)
            self.assertEqual(sorted(history), [1, 2], "one new revision")
            old_secret, old = history[1]
            new_secret, new = history[2]
            # The previous revision: superseded, label and JSON.
            self.assertEqual(old_secret["metadata"]["labels"]["status"], "superseded")
            self.assertEqual(old["info"]["status"], "superseded")
            self.assertIn("modifiedAt", old_secret["metadata"]["labels"])
            # The new one, as `helm upgrade` writes it.
            self.assertEqual(new_secret["metadata"]["name"], "sh.helm.release.v1.osm.v2")
            labels = new_secret["metadata"]["labels"]
            self.assertEqual({k: labels[k] for k in ("name", "owner", "status", "version")},
                             {"name": "osm", "owner": "helm", "status": "deployed", "version": "2"})
            self.assertIn("createdAt", labels)
            self.assertEqual(new["version"], 2)
            self.assertEqual(new["name"], "osm")
            self.assertEqual(new["info"]["status"], "deployed")
            self.assertEqual(new["info"]["first_deployed"], first["info"]["first_deployed"])
            self.assertGreater(new["info"]["last_deployed"], first["info"]["last_deployed"])
            self.assertIn("meshupgrade-operator", new["info"]["description"])
            self.assertIn("MeshUpgrade osm-system/up", new["info"]["description"])
            self.assertEqual(new["chart"]["metadata"]["version"], "1.3.9")
            self.assertEqual(new["chart"]["metadata"]["appVersion"], "1.3.9")
            # config: the user's values plus the image overrides applied.
            for key, value in first.get("config", {}).get("osm", {}).items():
                if key != "image":
                    self.assertEqual(new["config"]["osm"][key], value, key)
            self.assertEqual(new["config"]["osm"]["image"]["tag"], "1.3.9")
            # manifest: the previous one with the operator's rewrites.
            old_images, new_images = images_in(first["manifest"]), images_in(new["manifest"])
            self.assertIn("flomesh/osm-edge-controller:1.3.8", old_images)
            self.assertIn("flomesh/osm-edge-controller:1.3.9", new_images)
            self.assertFalse({i for i in new_images if i.startswith("flomesh/osm-edge-") and i.endswith(":1.3.8")},
                             new_images)
            running = {c["image"] for d in env.deployments("osm-system")
                       for c in d["spec"]["template"]["spec"]["containers"] if "osm-edge" in c["image"]}
            self.assertTrue(running <= new_images, (running, new_images))
            # The operator's status says the same.
            self.assertEqual(status["helmRelease"]["revision"], 2)
            self.assertEqual(status["helmRelease"]["chartVersion"], "1.3.9")

    def test_a_rollback_writes_the_next_revision_as_helm_rollback_does(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "2", "--ready-delay", "0.2"]) as env:
            _, first = helm_history(env)[1]
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"image": "flomesh/pipy:0.90.3-38-notready"},
                                         timeouts={"perWorkload": "5s"}))
            stalled = env.wait_condition("up", "Stalled", timeout=240)
            self.assertEqual(env.mu("up")["status"]["phase"], "RolledBack", stalled)
            history = helm_history(env)
            self.assertEqual(sorted(history), [1, 2, 3])
            self.assertEqual([history[v][1]["info"]["status"] for v in (1, 2, 3)], ["superseded", "superseded", "deployed"])
            self.assertEqual(history[3][0]["metadata"]["labels"]["status"], "deployed")
            back = history[3][1]
            self.assertTrue(back["info"]["description"].startswith("Rollback to 1"), back["info"]["description"])
            self.assertEqual(back["chart"]["metadata"]["version"], "1.3.8")
            self.assertEqual(back["manifest"], first["manifest"])
            self.assertEqual(back["config"], first["config"])
            self.assertEqual(env.mu("up")["status"]["helmRelease"]["revision"], 3)


class GitOpsOwned(unittest.TestCase):
    def _unchanged(self, env, before):
        after = {d["metadata"]["name"]: d["metadata"]["resourceVersion"] for d in env.deployments("osm-system")}
        self.assertEqual(before, after, "nothing in the mesh changed")

    def test_a_flux_or_argo_cd_owned_mesh_is_refused_until_allowed(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "1", "--ready-delay", "0.2"]) as env:
            env.kubectl("label", "deploy/osm-controller", "-n", "osm-system", "helm.toolkit.fluxcd.io/name=osm-edge",
                        "helm.toolkit.fluxcd.io/namespace=flux-system", check=True)
            before = {d["metadata"]["name"]: d["metadata"]["resourceVersion"] for d in env.deployments("osm-system")}
            env.apply(optest.meshupgrade("up", "v1.3.9"))
            stalled = env.wait_condition("up", "Stalled")
            self.assertEqual(stalled["reason"], "GitOpsManaged")
            self.assertIn("HelmRelease flux-system/osm-edge manages this mesh", stalled["message"])
            self.assertIn("set its chart version to 1.3.9 instead", stalled["message"])
            self._unchanged(env, before)

            env.kubectl("label", "deploy/osm-controller", "-n", "osm-system", "helm.toolkit.fluxcd.io/name-",
                        "helm.toolkit.fluxcd.io/namespace-", check=True)
            env.kubectl("annotate", "deploy/osm-injector", "-n", "osm-system",
                        "argocd.argoproj.io/tracking-id=osm-edge:apps/Deployment:osm-system/osm-injector", check=True)
            env.kubectl("delete", "mu/up", "-n", "osm-system", "--wait=true", check=True)
            env.apply(optest.meshupgrade("again", "v1.3.9"))
            stalled = env.wait_condition("again", "Stalled")
            self.assertEqual(stalled["reason"], "GitOpsManaged")
            self.assertIn("Argo CD Application osm-edge manages this mesh", stalled["message"])

            env.kubectl("patch", "mu/again", "-n", "osm-system", "--type=merge",
                        "-p", '{"spec":{"policy":{"allowGitOpsManaged":true}}}', check=True)
            env.wait_ready("again", timeout=240)


class CatalogExtension(unittest.TestCase):
    def test_a_configmap_adds_a_release_and_an_unknown_target_becomes_known(self):
        with optest.Env(["--mesh", "v1.3.9", "--meshed-workloads", "2", "--ready-delay", "0.2"]) as env:
            env.apply(optest.meshupgrade("fork", "v1.4.0", containerRegistry="registry.example.com/fork",
                                         imageTag="1.4.0"))
            stalled = env.wait_condition("fork", "Stalled")
            self.assertEqual(stalled["reason"], "UnknownVersion")
            self.assertIn("upgrade.flomesh.io/release-catalog=true", stalled["message"])
            entry = {"releases": [{"version": "v1.4.0", "sidecarImage": "registry.example.com/fork/pipy:1.4.0",
                                   "repoServerImage": "registry.example.com/fork/pipy-repo:1.4.0"}]}
            env.kubectl("create", "namespace", "meshupgrade-system", check=True)
            env.apply(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "fork-releases", "namespace": "meshupgrade-system",
                                               "labels": {"upgrade.flomesh.io/release-catalog": "true"}},
                                  "data": {"releases.json": json.dumps(entry)}}))
            # The operator watches the ConfigMap: the upgrade starts without touching the MeshUpgrade.
            def moving():
                c = env.condition("fork", "Stalled")
                return c is None or c["status"] != "True"
            optest.wait_for(moving, timeout=60, what="the UnknownVersion to clear")
            status = env.wait_ready("fork", timeout=240)
            self.assertEqual(status["fromVersion"], "v1.3.9")
            self.assertEqual(status["toVersion"], "v1.4.0")
            ctrl = env.get("deployment", "osm-controller", "-n", "osm-system")
            images = {c["image"] for c in ctrl["spec"]["template"]["spec"]["containers"]}
            self.assertIn("registry.example.com/fork/osm-edge-controller:1.4.0", images)


if __name__ == "__main__":
    unittest.main(verbosity=2)
