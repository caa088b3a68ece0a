# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify role: its argument specs agree with its defaults and with the readiness module's one argument
spec, every variable reaches the module, and credentials are no_log."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.argspec import ARGUMENT_SPEC

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "verify")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


ROLE_OPTIONS = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")
TASKS = load("tasks", "main.yml")
READINESS = next(task["dlegate.rtc.readiness"] for task in TASKS if "dlegate.rtc.readiness" in task)
VARIABLE = re.compile(r"^\{\{ (verify_\w+) \}\}$")


def fed_options():
    """(role variable, module option spec) for every module argument the task sets from one variable."""
    pairs = [("verify_checks", ARGUMENT_SPEC["checks"])]
    for section, values in READINESS.items():
        if isinstance(values, dict):
            for option, value in values.items():
                pairs.append((VARIABLE.match(value).group(1), ARGUMENT_SPEC[section]["options"][option]))
    return pairs


FED = fed_options()


def test_every_variable_is_specified_described_and_defaulted_alike():
    assert set(ROLE_OPTIONS) == set(DEFAULTS)
    for name, option in ROLE_OPTIONS.items():
        assert option.get("description"), name
        assert option.get("default") == DEFAULTS[name], name


def test_every_variable_reaches_the_module_or_the_fail_gate():
    used = set(variable for variable, _spec in FED) | {"verify_fail_on"}
    assert used == set(ROLE_OPTIONS)


@pytest.mark.parametrize("variable, spec", FED, ids=[variable for variable, _spec in FED])
def test_a_variable_has_the_type_of_the_option_it_feeds(variable, spec):
    role = ROLE_OPTIONS[variable]
    assert role["type"] == spec["type"]
    assert role.get("elements") == spec.get("elements")
    assert role.get("choices") == spec.get("choices")
    assert bool(role.get("no_log")) == bool(spec.get("no_log"))


def test_credentials_are_no_log_and_no_secret_is_a_default():
    secrets = sorted(name for name, option in ROLE_OPTIONS.items() if option.get("no_log"))
    assert secrets == ["verify_proxy_password", "verify_turn_password", "verify_turn_secret"]
    assert DEFAULTS["verify_proxy_password"] is None and DEFAULTS["verify_turn_secret"] is None
    # the lab's generated password, read from the lab's inventory, or nothing
    assert DEFAULTS["verify_turn_password"] == "{{ lab_turn_users['alice'] | default(none) }}"


def test_the_default_checks_are_the_modules():
    assert DEFAULTS["verify_checks"] == ARGUMENT_SPEC["checks"]["default"]


def test_every_task_carries_its_control_id_in_name_and_tags():
    for task in TASKS:
        control = re.match(r"^(VER-\d{3}) \| ", task["name"]).group(1)
        assert control in task["tags"] and "verify" in task["tags"]


def test_fail_on_names_the_verdicts_that_fail():
    failing = load("vars", "main.yml")["verify_failing_verdicts"]
    assert set(failing) == set(ROLE_OPTIONS["verify_fail_on"]["choices"])
    assert failing == {"fail": ["FAIL"], "degraded": ["FAIL", "DEGRADED"], "never": []}
