"""CHANGELOG.md from the changelog fragments, as antsibull-changelog will write it at release.

The fragments under changelogs/fragments/ describe the changes of the version in galaxy.yml.
antsibull-changelog renders only released versions, so while that version is not released
this script releases it in a scratch copy of the collection and takes the CHANGELOG.md it
generates there; the repository's changelog.yaml and fragments stay as they are.

  tools/changelog.py           lint the fragments and write CHANGELOG.md
  tools/changelog.py --check   lint the fragments; exit 1 when CHANGELOG.md is not what they give
"""

import argparse
import datetime
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = ROOT / "CHANGELOG.md"
# What antsibull-changelog reads: the collection's metadata, the fragments, and the plugins
# and roles whose documentation names the version they were added in.
INPUTS = ("galaxy.yml", "changelogs", "meta", "plugins", "roles", "playbooks")


def collection_version():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]


def released(version):
    changes = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))
    return str(version) in (changes.get("releases") or {})


def antsibull_changelog(*args, cwd):
    return subprocess.run(["antsibull-changelog", *args], cwd=cwd, check=False,
                          capture_output=True, text=True)


def rendered_changelog(version):
    """The CHANGELOG.md that releasing VERSION from today's fragments would write."""
    with tempfile.TemporaryDirectory(prefix="changelog-") as scratch:
        copy = Path(scratch) / "ansible_collections" / "dlegate" / "rtc"
        copy.mkdir(parents=True)
        for name in INPUTS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, copy / name)
        if released(version):
            command = ["generate"]
        else:
            command = ["release", "--version", str(version), "--date", datetime.date.today().isoformat()]
        result = antsibull_changelog(*command, cwd=copy)
        if result.returncode:
            raise RuntimeError(f"antsibull-changelog {command[0]} failed:\n{result.stdout}{result.stderr}")
        return (copy / "CHANGELOG.md").read_text(encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; do not write CHANGELOG.md")
    check = parser.parse_args().check
    lint = antsibull_changelog("lint", cwd=ROOT)
    if lint.returncode or lint.stdout.strip():
        print(f"antsibull-changelog lint:\n{lint.stdout}{lint.stderr}", end="")
        return 1
    try:
        want = rendered_changelog(collection_version())
    except RuntimeError as exc:
        print(exc)
        return 1
    have = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.exists() else ""
    if want == have:
        return 0
    if not check:
        CHANGELOG.write_text(want, encoding="utf-8")
        print(f"wrote {CHANGELOG.relative_to(ROOT)}")
        return 0
    print("CHANGELOG.md is not generated from changelogs/fragments; run tools/changelog.py. Differences:")
    sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), want.splitlines(True),
                                               "CHANGELOG.md", "generated", n=1))
    return 1


if __name__ == "__main__":
    sys.exit(main())
