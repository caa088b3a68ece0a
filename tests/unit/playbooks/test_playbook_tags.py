# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks import their roles, so control ids select tasks: --list-tags shows them,
--tags ID keeps exactly that control's tasks (and the bookkeeping tagged always)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CONTROL = re.compile(r"^[A-Z][A-Z0-9]{1,7}-[0-9]{3}$")


def ansible_playbook(playbook, *options):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible-playbook", "-i", "gw,", os.path.join(REPO, "playbooks", playbook + ".yml")]
                          + list(options), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def listed_controls(playbook):
    tags = set()
    for line in ansible_playbook(playbook, "--list-tags").splitlines():
        if "TASK TAGS: [" in line:
            tags |= set(tag.strip() for tag in line.split("TASK TAGS: [", 1)[1].rstrip("]").split(","))
    return sorted(tag for tag in tags if CONTROL.match(tag))


def documented_controls():
    with open(os.path.join(REPO, "docs", "controls.md")) as stream:
        section = stream.read().split("\n## Controls\n", 1)[1].split("\n## ", 1)[0]
    return sorted(re.findall(r"^\| ([A-Z][A-Z0-9]{1,7}-[0-9]{3}) \|", section, flags=re.M))


def prefixed(prefixes):
    return [control for control in documented_controls() if control.split("-")[0] in prefixes]


@pytest.mark.parametrize("playbook, prefixes", [
    ("audit", ("EGR", "QOS", "VER")),
    ("rollout", ("EGR", "QOS")),
    ("remove", ("EGR", "QOS")),
    ("verify", ("VER",)),
])
def test_list_tags_shows_every_control_of_the_roles_a_playbook_runs(playbook, prefixes):
    assert listed_controls(playbook) == prefixed(prefixes)


def test_site_onboarding_lists_the_egress_controls():
    assert set(prefixed(("EGR",))) <= set(listed_controls("site_onboarding"))


@pytest.mark.parametrize("control", ["EGR-004", "QOS-006"])
def test_tags_keep_exactly_that_controls_tasks(control):
    """Besides the bookkeeping tagged always (argument checks, the audit's records), only the control's tasks."""
    out = ansible_playbook("audit", "--list-tasks", "--tags", control)
    tasks = [line.strip().split("\tTAGS: [") for line in out.splitlines()
             if "\tTAGS: [" in line and not line.lstrip().startswith("play #")]
    names = [name.split(" : ", 1)[-1] for name, tags in tasks if "always" not in tags]
    assert names and all(name.startswith(control + " | ") for name in names), names
