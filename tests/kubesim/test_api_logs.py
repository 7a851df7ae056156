"""pods/log: `kubectl logs` (container choice, --tail) and `kubectl logs -f` following appended lines until the
pod goes away; served in-process so the test writes the log text into the store itself."""
import os
import select
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402

PODS = ("", "v1", "pods")


class LogsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start_in_process()
        store = cls.sim.store
        store.create(PODS, {"metadata": {"name": "two", "namespace": "default"},
                            "spec": {"containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "b:1"}]}})
        store.pod_logs[("default", "two", "app")] = "line 1\nline 2\nline 3\n"
        store.pod_logs[("default", "two", "side")] = "sidecar says hi\n"

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_logs_of_a_container_and_tail(self):
        cp = self.sim.kubectl("logs", "two", "-c", "side")
        self.assertEqual(cp.stdout, "sidecar says hi\n")
        cp = self.sim.kubectl("logs", "two", "-c", "app", "--tail=1")
        self.assertEqual(cp.stdout, "line 3\n")
        cp = self.sim.kubectl("logs", "two")   # kubectl picks the first container and says so
        self.assertEqual(cp.stdout, "line 1\nline 2\nline 3\n")
        cp = self.sim.kubectl("logs", "two", "-c", "nope")
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("container nope is not valid for pod two", cp.stderr)

    def test_follow_streams_appended_lines_until_the_pod_is_deleted(self):
        store = self.sim.store
        store.create(PODS, {"metadata": {"name": "chatty", "namespace": "default"},
                            "spec": {"containers": [{"name": "app", "image": "a:1"}]}})
        key = ("default", "chatty", "app")
        store.pod_logs[key] = "hello\n"
        proc = self.sim.kubectl_popen("logs", "-f", "chatty")
        try:
            text = self._read_until(proc, "hello\n")
            store.pod_logs[key] += "world\n"
            text = self._read_until(proc, "world\n", text)
            self.assertEqual(text, "hello\nworld\n")
            store.delete(PODS, "default", "chatty")
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            proc.kill()
            proc.wait()

    def _read_until(self, proc, want, text=""):
        deadline = time.monotonic() + 30
        fd = proc.stdout.fileno()
        while want not in text:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, f"timed out; got {text!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536).decode()
                self.assertTrue(chunk, f"kubectl exited; got {text!r}")
                text += chunk
        return text


if __name__ == "__main__":
    unittest.main(verbosity=2)
