"""A second MeshUpgrade of the same mesh waits for the first and starts as soon as the first ends, without anything
else touching it (issue 17: it stayed Pending/WaitingForUpgrade until some unrelated event requeued it)."""
import unittest

import optest


class QueuedUpgrade(unittest.TestCase):
    def test_the_second_upgrade_starts_when_the_first_ends(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "2", "--ready-delay", "0.5"]) as env:
            env.apply(optest.meshupgrade("first", "v1.3.9"))
            env.wait_condition("first", "Reconciling")
            env.apply(optest.meshupgrade("second", "v1.3.9", sidecar={"maxConcurrent": 1}))
            waiting = env.wait_condition("second", "Reconciling")
            self.assertEqual(waiting["reason"], "WaitingForUpgrade", waiting)
            env.wait_ready("first", timeout=240)
            # Nothing touches "second" from here: the first one's end alone must start it.
            status = env.wait_ready("second", timeout=120)
            self.assertEqual(status["fromVersion"], "v1.3.9")
            self.assertEqual(status["upgradePath"], "None")


if __name__ == "__main__":
    unittest.main(verbosity=2)
