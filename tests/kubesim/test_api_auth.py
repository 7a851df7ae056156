"""--rbac: ServiceAccount tokens from `kubectl create token`, Roles and bindings, `kubectl auth can-i`, 403s."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


class RbacTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start(["--rbac"])

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def k(self, *args, ok=True, input=None):
        cp = self.sim.kubectl(*args, input=input)
        if ok:
            self.assertEqual(cp.returncode, 0, f"kubectl {' '.join(args)}: {cp.stderr}")
        return cp

    def test_service_account_token_is_bound_by_rbac(self):
        self.k("create", "namespace", "team")
        self.k("create", "serviceaccount", "bot", "-n", "team")
        token = self.k("create", "token", "bot", "-n", "team", "--duration=10m").stdout.strip()
        self.assertEqual(token.count("."), 2)
        as_bot = ("--token", token)
        # nothing bound yet: a real 403 Status
        cp = self.k(*as_bot, "get", "pods", "-n", "team", ok=False)
        self.assertIn('pods is forbidden: User "system:serviceaccount:team:bot" cannot list resource "pods" in API '
                      'group "" in the namespace "team"', cp.stderr)
        self.assertEqual(self.k(*as_bot, "auth", "can-i", "list", "pods", "-n", "team", ok=False).stdout.strip(), "no")
        # a Role and RoleBinding grant exactly what they say
        self.k("create", "role", "reader", "-n", "team", "--verb=get,list,watch", "--resource=pods,configmaps")
        self.k("create", "rolebinding", "bot-reader", "-n", "team", "--role=reader", "--serviceaccount=team:bot")
        self.assertEqual(self.k(*as_bot, "auth", "can-i", "list", "pods", "-n", "team").stdout.strip(), "yes")
        self.assertEqual(self.k(*as_bot, "auth", "can-i", "delete", "pods", "-n", "team", ok=False).stdout.strip(),
                         "no")
        self.assertEqual(self.k(*as_bot, "auth", "can-i", "list", "pods", "-n", "default", ok=False).stdout.strip(),
                         "no")
        self.assertIn("No resources found", self.k(*as_bot, "get", "pods", "-n", "team").stderr)
        cp = self.k(*as_bot, "create", "configmap", "x", "-n", "team", ok=False)
        self.assertIn("cannot create resource \"configmaps\"", cp.stderr)
        # a ClusterRole through a ClusterRoleBinding works everywhere
        self.k("create", "clusterrole", "ns-reader", "--verb=get,list", "--resource=namespaces")
        self.k("create", "clusterrolebinding", "bot-ns", "--clusterrole=ns-reader", "--serviceaccount=team:bot")
        self.assertIn("team", self.k(*as_bot, "get", "namespaces").stdout)
        listing = self.k(*as_bot, "auth", "can-i", "--list", "-n", "team").stdout
        self.assertRegex(listing, r"configmaps\s+\[\]\s+\[\]\s+\[get list watch\]")
        # impersonation by the admin sees the same permissions
        self.assertEqual(self.k("auth", "can-i", "list", "pods", "-n", "team",
                                "--as=system:serviceaccount:team:bot").stdout.strip(), "yes")
        self.assertEqual(self.k("auth", "can-i", "delete", "pods", "-n", "team", "--as=system:serviceaccount:team:bot",
                                ok=False).stdout.strip(), "no")
        cp = self.k("get", "secrets", "-n", "team", "--as=system:serviceaccount:team:bot", ok=False)
        self.assertIn("cannot list resource \"secrets\"", cp.stderr)
        # the admin certificate stays all-powerful
        self.assertEqual(self.k("auth", "can-i", "*", "*").stdout.strip(), "yes")

    def test_bad_token_is_unauthorized(self):
        cp = self.k("--token", "not.a.token", "get", "pods", ok=False)
        self.assertRegex(cp.stderr, "Unauthorized|You must be logged in to the server")

    def test_token_of_deleted_service_account_stops_working(self):
        self.k("create", "serviceaccount", "temp", "-n", "default")
        token = self.k("create", "token", "temp", "-n", "default").stdout.strip()
        self.k("create", "clusterrolebinding", "temp-view", "--clusterrole=view", "--serviceaccount=default:temp")
        self.assertEqual(self.k("--token", token, "get", "cm", "-n", "default").returncode, 0)
        self.k("delete", "serviceaccount", "temp", "-n", "default")
        cp = self.k("--token", token, "get", "cm", "-n", "default", ok=False)
        self.assertRegex(cp.stderr, "Unauthorized|You must be logged in to the server")


class NoRbacTest(unittest.TestCase):
    def test_without_rbac_everyone_may_do_everything(self):
        sim = simtest.start()
        try:
            sim.kubectl("create", "serviceaccount", "bot", check=True)
            token = sim.kubectl("create", "token", "bot", check=True).stdout.strip()
            self.assertEqual(sim.kubectl("--token", token, "auth", "can-i", "delete", "pods").stdout.strip(), "yes")
            self.assertEqual(sim.kubectl("--token", token, "create", "configmap", "c").returncode, 0)
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
