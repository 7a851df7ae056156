#!/usr/bin/env python3
"""The Dockerfile, checked without a Docker engine: it parses, its stages are named and wired, the build stage
runs scripts/deps, and the runtime stage installs a package for every shared library the operator loads."""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
# In every Debian image already, or a compiler runtime only a sanitizer build links: never the image's concern.
BASE_FAMILY = re.compile(r"^(libc6|libgcc-s1|libstdc\+\+6|libasan\d+|libubsan\d+|liblsan\d+|libtsan\d+)$")


def parse_dockerfile(text):
    """[(line number, INSTRUCTION, arguments)], joining `\\` continuations and dropping comments as Docker does."""
    instructions, pending, start = [], None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, also in the middle of a continued instruction
        if pending is None:
            pending, start = "", number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        word, _, rest = pending.partition(" ")
        instructions.append((start, word.upper(), rest.strip()))
        if word.upper() not in KNOWN:
            raise ValueError(f"Dockerfile line {start}: unknown instruction {word!r}")
        pending = None
    if pending is not None:
        raise ValueError(f"Dockerfile line {start}: continuation runs past the end of the file")
    return instructions


def stages(instructions):
    """[{name, base, body: [(INSTRUCTION, args)]}] in order; instructions before the first FROM are skipped."""
    result = []
    for _, word, args in instructions:
        if word == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+[Aa][Ss]\s+(\S+))?", args)
            if not match:
                raise ValueError(f"FROM {args!r} does not parse")
            result.append({"base": match.group(1), "name": match.group(2), "body": []})
        elif result:
            result[-1]["body"].append((word, args))
    return result


def installed_packages(run_args):
    """Packages named by `apt-get install` in one RUN command."""
    packages = []
    for command in re.split(r"&&|;|\|\|", run_args):
        words = shlex.split(command)
        words = [w for w in words if "=" not in w or w.startswith("-")]  # drop VAR=value prefixes
        if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
            after = words[words.index("install") + 1:]
            packages += [w for w in after if not w.startswith("-")]
    return packages


def dpkg_package_of(path):
    """The Debian package owning a library path; tries the path as given, its real path and both sides of /usr."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/"):
            candidates.append(p[len("/usr"):])
        else:
            candidates.append("/usr" + p)
    for candidate in candidates:
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            for line in out.stdout.splitlines():
                if line.startswith("diversion "):
                    continue
                owners, _, _ = line.partition(": ")
                return owners.split(",")[0].strip().split(":")[0]
    return None


def dependency_closure(packages):
    """Every package apt installs along with `packages`, read from this bookworm machine's dpkg database."""
    seen, todo = set(), list(packages)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", name],
                             capture_output=True, text=True)
        if out.returncode != 0:
            continue
        for clause in out.stdout.split(","):
            for alternative in clause.split("|"):
                dep = alternative.strip().split(" ")[0].split(":")[0]
                if dep:
                    todo.append(dep)
    return seen


def loaded_libraries(binary):
    """Resolved paths of every shared library `ldd` says the binary loads (direct and indirect)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"ldd {binary} failed: {out.stderr.strip()}")
    paths = []
    for line in out.stdout.splitlines():
        if "not found" in line:
            raise AssertionError(f"ldd {binary}: {line.strip()}")
        match = re.search(r"(/\S+)\s+\(0x", line)
        if match:
            paths.append(match.group(1))
    return paths


def direct_needs(binary):
    """The sonames the binary itself names (DT_NEEDED), as opposed to what its libraries pull in."""
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"readelf -d {binary} failed: {out.stderr.strip()}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)


def uncovered(binary, packages):
    """Libraries of `binary` no listed package brings: [(library, package)]; direct needs must be listed by name."""
    closure = dependency_closure(packages)
    direct = set(direct_needs(binary))
    missing = []
    for path in loaded_libraries(binary):
        package = dpkg_package_of(path)
        if package is None:
            missing.append((path, "no Debian package owns it"))
        elif BASE_FAMILY.match(package):
            continue
        elif os.path.basename(path) in direct and package not in packages:
            missing.append((path, package + " (linked directly: name it)"))
        elif package not in closure:
            missing.append((path, package))
    return missing


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instructions = parse_dockerfile(DOCKERFILE.read_text())
        cls.stages = stages(cls.instructions)
        cls.build, cls.runtime = cls.stages[0], cls.stages[-1]
        cls.runtime_packages = [p for word, args in cls.runtime["body"] if word == "RUN"
                                for p in installed_packages(args)]

    def test_parser_refuses_what_docker_refuses(self):
        with self.assertRaises(ValueError):
            parse_dockerfile("FROM debian:bookworm AS a\nRUNN true\n")
        with self.assertRaises(ValueError):
            parse_dockerfile("FROM debian:bookworm AS a\nRUN true \\\n")

    def test_stages_are_named_and_on_bookworm(self):
        self.assertGreaterEqual(len(self.stages), 2, "multi-stage: a build stage and a runtime stage")
        names = [s["name"] for s in self.stages]
        self.assertNotIn(None, names, "every stage is named (FROM ... AS name)")
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(self.build["base"], "debian:bookworm")
        self.assertEqual(self.runtime["base"], "debian:bookworm-slim")

    def test_build_stage_runs_the_deps_script_then_a_release_build(self):
        body = self.build["body"]
        runs = [args for word, args in body if word == "RUN"]
        deps_at = next((i for i, (w, a) in enumerate(body) if w == "RUN" and "scripts/deps" in a), None)
        self.assertIsNotNone(deps_at, "the build stage runs scripts/deps")
        copied_at = next((i for i, (w, a) in enumerate(body)
                          if w in ("COPY", "ADD") and ("scripts/deps" in a or a.split()[0] == ".")), None)
        self.assertIsNotNone(copied_at)
        self.assertLess(copied_at, deps_at, "scripts/deps is copied in before it runs")
        build = " ".join(runs)
        for fragment in ("-B build/release", "-G Ninja", "-DCMAKE_BUILD_TYPE=Release",
                         "--target meshupgrade-operator"):
            self.assertIn(fragment, build)

    def test_runtime_stage_runs_the_binary_as_a_numeric_non_root_user(self):
        body = self.runtime["body"]
        copies = [a for w, a in body if w == "COPY" and a.startswith("--from=")]
        self.assertEqual(len(copies), 1, "the runtime stage takes exactly the binary from the build stage")
        source_stage, source, destination = re.fullmatch(r"--from=(\S+)\s+(\S+)\s+(\S+)", copies[0]).groups()
        self.assertEqual(source_stage, self.build["name"])
        self.assertTrue(source.endswith("build/release/meshupgrade-operator"))
        [user] = [a for w, a in body if w == "USER"]
        uid, _, gid = user.partition(":")
        self.assertTrue(uid.isdigit() and int(uid) != 0, f"USER {user} is not a numeric non-root uid")
        self.assertTrue(gid == "" or gid.isdigit())
        self.assertEqual(int(uid), 65532, "deploy/deployment.yaml runs as 65532")
        [entrypoint] = [a for w, a in body if w == "ENTRYPOINT"]
        self.assertEqual(json.loads(entrypoint)[0], destination, "ENTRYPOINT (exec form) is the copied binary")

    def test_version_argument_is_the_version_file(self):
        version = (REPO / "VERSION").read_text().strip()
        args = [a for w, a in self.runtime["body"] if w == "ARG" and a.startswith("VERSION=")]
        self.assertEqual(args, [f"VERSION={version}"])

    def test_runtime_packages_exist_in_bookworm(self):
        self.assertIn("ca-certificates", self.runtime_packages)
        for package in self.runtime_packages:
            self.assertFalse(package.endswith("-dev"), f"{package}: no development packages at run time")
            out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
            # This machine is bookworm with the build dependencies: each runtime library is installed here.
            self.assertIn("install ok installed", out.stdout, f"{package} is not a package on this bookworm machine")

    def test_coverage_check_notices_a_missing_package(self):
        # The ldd check below is only worth something if it fails when a package is left out.
        found = glob.glob("/usr/lib/*/libcpprest.so.2.10") + glob.glob("/lib/*/libcpprest.so.2.10")
        self.assertTrue(found, "libcpprest2.10 is not installed (scripts/deps installs libcpprest-dev)")
        self.assertEqual(uncovered(found[0], self.runtime_packages), [])
        without = [p for p in self.runtime_packages if p not in ("libssl3", "libcpprest2.10")]
        self.assertIn("libssl3", [pkg.split(" ")[0] for _, pkg in uncovered(found[0], without)])

    def test_runtime_packages_cover_the_operators_shared_libraries(self):
        binary = os.environ.get("OPERATOR_BIN")
        if not binary:
            self.skipTest("OPERATOR_BIN is not set (ctest sets it to the built operator)")
        self.assertTrue(Path(binary).is_file(), f"OPERATOR_BIN={binary} does not exist: build meshupgrade-operator")
        for tool in ("ldd", "readelf", "dpkg"):
            self.assertIsNotNone(shutil.which(tool), f"{tool} is not on PATH")
        self.assertEqual(uncovered(binary, self.runtime_packages), [],
                         "add these packages to the Dockerfile's runtime stage")


if __name__ == "__main__":
    unittest.main(verbosity=2)
