#!/usr/bin/env python3
"""The image, built for real with scripts/image (buildah, no daemon), then run from its own filesystem: the
binary prints the version, every shared library resolves inside the image, and it becomes ready against kubesim.

Needs root (buildah's chroot isolation and vfs storage, chroot). The image's layers, the compiler cache and the
debootstrap bases stay where scripts/image keeps them (build/image, build/image-base), so a second run rebuilds
only what changed, and a user's build warms the test as the test warms theirs."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()
TAG = f"ghcr.io/flomesh-io/meshupgrade-operator:{VERSION}"  # scripts/image's default
BINARY = "/usr/local/bin/meshupgrade-operator"
NONROOT = "65532:65532"
# scripts/image's defaults; IMAGE_TEST_STORAGE and IMAGE_TEST_BASE_CACHE point the test elsewhere.
STORAGE = Path(os.environ.get("IMAGE_TEST_STORAGE") or REPO / "build" / "image")
BASE_CACHE = Path(os.environ.get("IMAGE_TEST_BASE_CACHE") or REPO / "build" / "image-base")


def buildah(*args, check=True, timeout=300):
    cmd = ["buildah", "--storage-driver", "vfs", "--root", str(STORAGE / "root"), "--runroot", str(STORAGE / "run"),
           *args]
    cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and cp.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({cp.returncode}): {cp.stderr}{cp.stdout}")
    return cp


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("building with buildah (chroot isolation, vfs) and chroot need root")
        started = time.monotonic()
        # The user's command, with buildah chosen even where a Docker daemon answers (the image must be in
        # buildah's storage to be mounted).
        cp = subprocess.run([str(REPO / "scripts" / "image"), "--builder", "buildah", "--storage", str(STORAGE),
                             "--base-cache", str(BASE_CACHE)], capture_output=True, text=True, timeout=3000)
        cls.build_seconds = time.monotonic() - started
        if cp.returncode != 0:
            raise AssertionError(f"scripts/image failed ({cp.returncode}) after {cls.build_seconds:.0f}s:\n"
                                 f"{cp.stderr[-6000:]}\n{cp.stdout[-6000:]}")
        # What it did and when (its own lines, without the build's), for the test log.
        steps = "\n".join(line for line in cp.stderr.splitlines() if line.startswith("image: "))
        print(f"{steps}\nscripts/image built {TAG} in {cls.build_seconds:.0f}s", file=sys.stderr)
        cls.container = buildah("from", "--pull-never", TAG).stdout.strip().splitlines()[-1]
        try:
            cls.mnt = Path(buildah("mount", cls.container).stdout.strip())
        except BaseException:
            buildah("rm", cls.container, check=False)
            raise

    @classmethod
    def tearDownClass(cls):
        buildah("umount", cls.container, check=False)
        buildah("rm", cls.container, check=False)

    def in_image(self, *args, timeout=60):
        """Runs a command inside the image's filesystem as the image's user."""
        return subprocess.run(["chroot", f"--userspec={NONROOT}", str(self.mnt), *args],
                              capture_output=True, text=True, timeout=timeout)

    def test_image_config_runs_the_binary_as_nonroot(self):
        config = json.loads(buildah("inspect", "--type", "image", TAG).stdout)["OCIv1"]["config"]
        self.assertEqual(config["User"], NONROOT)
        self.assertEqual(config["Entrypoint"], [BINARY])
        self.assertEqual(config["Labels"]["org.opencontainers.image.version"], VERSION)

    def test_binary_prints_the_version(self):
        cp = self.in_image(BINARY, "--version")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn(VERSION, cp.stdout)

    def test_every_shared_library_resolves_in_the_image(self):
        # The runtime stage installs a package per library by hand; ldd inside the image proves the list whole.
        cp = self.in_image("ldd", BINARY)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertNotIn("not found", cp.stdout)
        libraries = [line.split()[0] for line in cp.stdout.splitlines() if "=>" in line]
        for soname in ("libcpprest.so.2.10", "libssl.so.3", "libyaml-cpp.so.0.7", "libprometheus-cpp-pull.so.1.0"):
            self.assertIn(soname, libraries, cp.stdout)

    def test_binary_becomes_ready_against_kubesim(self):
        sim = optest.simtest.start()
        op, log = None, None
        kubeconfig = self.mnt / "tmp" / "kubeconfig"
        try:
            sim.kubectl("apply", "-f", optest.CRD, check=True)
            sim.kubectl("wait", "--for=condition=Established", "crd/meshupgrades.upgrade.flomesh.io",
                        "--timeout=60s", check=True)
            # The kubeconfig goes inside the image's /tmp; kubesim listens on 127.0.0.1, which a chroot shares.
            shutil.copyfile(sim.kubeconfig, kubeconfig)
            os.chmod(kubeconfig, 0o644)
            port = optest.free_port()
            log = tempfile.TemporaryFile(mode="w+")
            op = subprocess.Popen(["chroot", f"--userspec={NONROOT}", str(self.mnt), BINARY,
                                   "--kubeconfig", "/tmp/kubeconfig",
                                   "--health-probe-bind-address", f"127.0.0.1:{port}",
                                   "--metrics-bind-address", "0"], stdout=log, stderr=subprocess.STDOUT)

            def ready():
                if op.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"the operator exited ({op.returncode}):\n{log.read()[-4000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                        return r.status == 200
                except (urllib.error.URLError, OSError):
                    return False
            try:
                optest.wait_for(ready, timeout=120, interval=0.5, what="/readyz 200 from the image's operator")
            except AssertionError as e:
                log.seek(0)
                raise AssertionError(f"{e}\noperator log:\n{log.read()[-4000:]}") from None
        finally:
            if op and op.poll() is None:
                op.terminate()
                try:
                    op.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    op.kill()
                    op.wait()
            if log:
                log.close()
            kubeconfig.unlink(missing_ok=True)
            sim.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
