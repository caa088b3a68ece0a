"""The whole test suite, stage by stage; exits non-zero when any stage fails.

Stages (all by default, in this order):
  unit      pytest on the pure code under plugins/ (tests/unit)
  lint      ansible-lint, production profile; role READMEs match their argument specs;
            CHANGELOG.md matches the changelog fragments; the built collection holds
            no run output
  sanity    ansible-test sanity on a clean copy of the collection
  lab       pytest proving the lab itself (tests/lab)
  molecule  every Molecule scenario of every role, against the lab
  playbooks the playbooks end to end on labs of their own: site onboarding (check-mode audit,
            onboarding, rerun) and the audit lifecycle (rollout, audits, drift, remove)
"""

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
STAGES = ("unit", "lint", "sanity", "lab", "molecule", "playbooks")


def run(cmd, cwd=ROOT, env=None):
    print(f"\n$ {' '.join(str(c) for c in cmd)}", flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, check=False).returncode


def stage_unit():
    return run([sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"])


def stage_lint():
    docs = run([sys.executable, "tools/role_docs.py", "--check"])
    changelog = run([sys.executable, "tools/changelog.py", "--check"])
    artifact = check_artifact()
    return run(["ansible-lint", "--offline", "-q"]) or docs or changelog or artifact


def check_artifact():
    """The built collection holds only files of the source tree: no run output (reports,
    caches, bytecode), which .gitignore names and galaxy.yml's build_ignore must keep out."""
    with tempfile.TemporaryDirectory(prefix="build-", dir=CACHE) as out:
        code = run(["ansible-galaxy", "collection", "build", "--force", "--output-path", out])
        if code:
            return code
        with tarfile.open(next(Path(out).glob("*.tar.gz"))) as tarball:
            shipped = {member.name for member in tarball.getmembers() if member.isfile()}
    stray = sorted(shipped - set(source_files()) - {"MANIFEST.json", "FILES.json"})
    for name in stray:
        print(f"built collection: {name} is not a source file (add it to build_ignore in galaxy.yml)")
    return 1 if stray else 0


# Not part of the built collection (galaxy.yml build_ignore), so not sanity-tested.
OUTSIDE_COLLECTION = (".ci/", "tools/", "rtc", "requirements-dev.txt")
# ansible-test fetches a get-pip script from its own CI host, which is out of reach here;
# this stand-in bootstraps pip from the interpreter's bundled wheel instead.
GET_PIP_CACHE = Path.home() / ".ansible" / "test" / "cache" / "get_pip_24_2.py"


def source_files():
    """Files git tracks or would track: everything but what .gitignore names."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line and (ROOT / line).is_file()]


def collection_files():
    return [line for line in source_files() if not line.startswith(OUTSIDE_COLLECTION)]


def stage_sanity():
    """ansible-test wants the collection under ansible_collections/NS/NAME and a git tree."""
    CACHE.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="sanity-", dir=CACHE))  # concurrent runs never share a copy
    copy = workdir / "ansible_collections" / "dlegate" / "rtc"
    if not GET_PIP_CACHE.exists():
        GET_PIP_CACHE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "tools" / "ansible_test_get_pip.py", GET_PIP_CACHE)
    for rel in collection_files():
        target = copy / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    for git_cmd in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=ci", "-c", "user.email=ci@localhost", "commit", "-qm", "sanity"]):
        subprocess.run(["git", *git_cmd], cwd=copy, check=True)
    try:
        return run(["ansible-test", "sanity", "--color", "no", "--python", "3.11"], cwd=copy)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def stage_lab():
    return run([sys.executable, "-m", "pytest", "tests/lab", "-q", "-p", "no:cacheprovider"])


def stage_playbooks():
    return run([sys.executable, "-m", "pytest", "tests/playbooks", "-q", "-p", "no:cacheprovider"])


def scenario_dirs():
    return sorted(p.parent for p in ROOT.glob("roles/*/molecule/*/molecule.yml"))


def stage_molecule():
    failed = 0
    for scenario in scenario_dirs():
        role_dir = scenario.parents[1]
        failed |= run(["molecule", "test", "-s", scenario.name], cwd=role_dir) != 0
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stages", nargs="*", metavar="STAGE", help=f"stages to run: {', '.join(STAGES)} (default: all)")
    stages = parser.parse_args().stages or list(STAGES)
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    results = []
    for name in stages:
        start = time.monotonic()
        code = globals()[f"stage_{name}"]()
        results.append((name, code, time.monotonic() - start))
    print("\nTest suite summary")
    for name, code, seconds in results:
        print(f"  {name:<9} {'passed' if code == 0 else 'FAILED':<7} {seconds:6.1f} s")
    failed = sum(1 for result in results if result[1])
    print(f"stages: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
