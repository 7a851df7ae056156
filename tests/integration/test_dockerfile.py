#!/usr/bin/env python3
"""The Dockerfile, checked without building it: it parses, its stages are named, on bookworm and wired, the build
stage runs scripts/deps, and the runtime stage runs the binary as 65532. That the runtime stage's packages give
every shared library the binary loads is proven on the built image (test_image.py runs ldd inside it)."""
import fnmatch
import json
import re
import shlex
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


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
    """[{name, base, body: [(INSTRUCTION, args)]}] in order; a base names an ARG declared before the first FROM
    as its default, as Docker resolves it without --build-arg."""
    result, args_before = [], {}
    for _, word, args in instructions:
        if word == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+[Aa][Ss]\s+(\S+))?", args)
            if not match:
                raise ValueError(f"FROM {args!r} does not parse")
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args_before[m.group(1) or m.group(2)], match.group(1))
            result.append({"base": base, "name": match.group(2), "body": []})
        elif result:
            result[-1]["body"].append((word, args))
        elif word == "ARG":
            name, _, default = args.partition("=")
            args_before[name] = default
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


def in_context(path, patterns):
    """Whether .dockerignore `patterns` keep `path` in the build context: the last pattern matching the path
    or one of its parent directories decides, `!` re-includes (Docker's rules, `**` read as `*`)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern[1:] if negated else pattern
        glob = glob.strip("/").replace("**/", "*").replace("/**", "/*")
        if any(fnmatch.fnmatchcase(p, glob) for p in prefixes):
            included = negated
    return included


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

    def test_bases_are_the_build_arguments_scripts_image_sets(self):
        froms = [args.split()[0] for _, word, args in self.instructions if word == "FROM"]
        self.assertEqual(froms, ["${BUILD_IMAGE}", "${RUNTIME_IMAGE}"])
        image_script = (REPO / "scripts" / "image").read_text()
        for name in ("BUILD_IMAGE", "RUNTIME_IMAGE"):
            self.assertIn(f'"{name}=', image_script, f"scripts/image passes --build-arg {name}")

    def test_runtime_packages_are_runtime_libraries(self):
        # That they exist and cover every library the binary loads, test_image.py proves on the built image.
        self.assertIn("ca-certificates", self.runtime_packages)
        for package in self.runtime_packages:
            self.assertFalse(package.endswith("-dev"), f"{package}: no development packages at run time")

    def test_build_context_holds_the_sources_and_no_local_builds(self):
        patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
        for path in ("CMakeLists.txt", "VERSION", "scripts/deps", "cmd/meshupgrade_operator.cpp",
                     "operator/kube_api.h", "controllers/mesh_upgrade/releases.json",
                     "controllers/mesh_upgrade/catalog_data.cpp.in"):
            self.assertTrue((REPO / path).exists(), path)
            self.assertTrue(in_context(path, patterns), f"{path} is left out of the build context")
        for path in (".git/HEAD", "build/test/CMakeCache.txt", "build/image-base/x.tar",
                     "operator/__pycache__/x.pyc", "tests/kubesim/kubesim", "README.md"):
            self.assertFalse(in_context(path, patterns), f"{path} is sent with the build context")


if __name__ == "__main__":
    unittest.main(verbosity=2)
