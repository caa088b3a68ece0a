# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/controls.md and the roles agree: every control id a role uses is listed, and only those.

A control id is a task name prefix (``EGR-002 | ...``) or a tag; the compliance
callback reads the same prefix. Each control task must carry its id as a tag, its
own or one it inherits from the task that imports its file, so that ``--tags ID``
selects it.
"""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report.model import control_id

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CONTROLS_DOC = os.path.join(REPO, "docs", "controls.md")
ID = re.compile(r"^[A-Z][A-Z0-9]{1,7}-[0-9]{3}$")
BLOCK_KEYS = ("block", "rescue", "always")
IMPORT_KEYS = ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks", "import_tasks", "include_tasks")


def load_tasks(path):
    with open(path) as stream:
        return yaml.safe_load(stream) or []


def walk(tasks):
    for task in tasks:
        yield task
        for key in BLOCK_KEYS:
            yield from walk(task.get(key) or [])


def tags_of(task):
    tags = task.get("tags") or []
    return [tags] if isinstance(tags, str) else list(tags)


def role_task_files():
    return sorted(glob.glob(os.path.join(REPO, "roles", "*", "tasks", "**", "*.yml"), recursive=True))


def role_of(path):
    return os.path.relpath(path, os.path.join(REPO, "roles")).split(os.sep)[0]


def ids_in_roles():
    """{control id: set of roles} from every task name prefix and tag under roles/*/tasks."""
    found = {}
    for path in role_task_files():
        for task in walk(load_tasks(path)):
            ids = [control_id(task.get("name"))] + [tag for tag in tags_of(task) if ID.match(str(tag))]
            for found_id in filter(None, ids):
                found.setdefault(found_id, set()).add(role_of(path))
    return found


def markdown_table(section):
    """Rows (lists of cells) of the first table under the ``## section`` heading of docs/controls.md."""
    with open(CONTROLS_DOC) as stream:
        text = stream.read()
    body = re.split(r"^## ", text, flags=re.M)
    part = [chunk for chunk in body if chunk.startswith(section + "\n")][0]
    rows = [line for line in part.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def listed_controls():
    return dict((row[0], row) for row in markdown_table("Controls"))


def test_every_control_id_in_the_roles_is_listed_and_every_listed_id_is_in_a_role():
    in_roles, listed = set(ids_in_roles()), set(listed_controls())
    assert in_roles, "no control id found under roles/*/tasks"
    assert sorted(in_roles - listed) == [], "add these to docs/controls.md"
    assert sorted(listed - in_roles) == [], "no role uses these; move them to the Planned section"


def test_the_listed_role_is_the_role_that_uses_the_id():
    used = ids_in_roles()
    for control, row in listed_controls().items():
        assert ID.match(control), control
        assert used.get(control) == set([row[1]]), control


def test_every_control_maps_to_a_line_of_the_requirements_page():
    requirements = dict((row[0], row) for row in markdown_table("Requirements"))
    for control, row in listed_controls().items():
        refs = [ref.strip() for ref in row[3].split(",")]
        assert refs and set(refs) <= set(requirements), (control, refs)
    for ref, row in requirements.items():
        assert row[1].startswith('"'), "%s quotes the page" % ref
        covered = set(re.findall(r"[A-Z][A-Z0-9]{1,7}-[0-9]{3}", row[2]))
        assert covered <= set(listed_controls()), ref
        assert covered or "planned" in row[2], "%s is covered by no control" % ref


def imported_files(task, role_dir):
    for key in IMPORT_KEYS:
        spec = task.get(key)
        if spec:
            name = spec if isinstance(spec, str) else spec.get("file")
            apply_tags = [] if isinstance(spec, str) else tags_of(spec.get("apply") or {})
            yield os.path.join(role_dir, "tasks", name), apply_tags


def untagged_control_tasks(path, inherited):
    """Control tasks of a task file, and of the files it imports, whose id is not among their tags."""
    missing = []
    for task in walk(load_tasks(path)):
        tags = set(tags_of(task)) | set(inherited)
        found = control_id(task.get("name"))
        if found and found not in tags:
            missing.append((os.path.relpath(path, REPO), task.get("name")))
        for child, apply_tags in imported_files(task, os.path.dirname(os.path.dirname(path))):
            missing += untagged_control_tasks(child, tags | set(apply_tags))
    return missing


@pytest.mark.parametrize("role", sorted(set(role_of(path) for path in role_task_files())))
def test_each_control_task_carries_its_id_as_a_tag(role):
    main = os.path.join(REPO, "roles", role, "tasks", "main.yml")
    assert untagged_control_tasks(main, set()) == []
