"""The operator binary the bench runs: $OPERATOR_BIN or --operator-bin as given, else a Release build in
build/release, configured if needed and rebuilt by ninja (a no-op when up to date)."""
import os
import subprocess


def ensure_operator(root, given, log) -> str:
    if given:
        if not os.access(given, os.X_OK):
            raise SystemExit(f"operator binary {given} is not executable")
        return given
    bdir = os.path.join(root, "build", "release")
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        log(f"configuring a Release build in {bdir}")
        subprocess.run(["cmake", "-S", root, "-B", bdir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DMESHUPGRADE_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    log("building meshupgrade-operator (Release)")
    subprocess.run(["cmake", "--build", bdir, "--target", "meshupgrade-operator", "-j2"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(bdir, "meshupgrade-operator")
