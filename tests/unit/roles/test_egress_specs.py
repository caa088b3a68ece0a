# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress role's argument specs agree with the module's one argument spec."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.dlegate.rtc.plugins.module_utils.egress import argspec

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "egress")

# Role variable -> (the module's spec it feeds, the option name there).
FEEDS = {
    "egress_mode": (argspec.CONFIG_SPEC, "mode"),
    "egress_table": (argspec.CONFIG_SPEC, "table"),
    "egress_permit_mark": (argspec.CONFIG_SPEC, "permit_mark"),
    "egress_source_networks": (argspec.CONFIG_SPEC, "source_networks"),
    "egress_unresolved": (argspec.ARGUMENT_SPEC, "unresolved"),
    "egress_nameservers": (argspec.ARGUMENT_SPEC, "nameservers"),
    "egress_resolved": (argspec.ARGUMENT_SPEC, "resolved"),
    "egress_sinkhole_networks": (argspec.ARGUMENT_SPEC, "sinkhole_networks"),
    "egress_allow_special_answers": (argspec.ARGUMENT_SPEC, "allow_special_answers"),
}


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


ROLE_OPTIONS = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


@pytest.mark.parametrize("variable", sorted(FEEDS))
def test_a_role_variable_has_the_type_and_choices_of_the_option_it_feeds(variable):
    spec, option = FEEDS[variable]
    role = ROLE_OPTIONS[variable]
    assert role["type"] == spec[option]["type"]
    assert role.get("choices") == spec[option].get("choices")
    assert role.get("elements") == spec[option].get("elements")


@pytest.mark.parametrize("variable", sorted(FEEDS))
def test_a_role_default_is_one_the_module_accepts(variable):
    spec, option = FEEDS[variable]
    choices = spec[option].get("choices")
    assert choices is None or DEFAULTS[variable] in choices


def test_the_role_states_are_module_states():
    assert set(ROLE_OPTIONS["egress_state"]["choices"]) <= set(argspec.STATES)


def test_every_variable_is_specified_and_every_specified_variable_has_a_default():
    assert set(ROLE_OPTIONS) == set(DEFAULTS)
    for name, option in ROLE_OPTIONS.items():
        assert option.get("description"), name
        assert option.get("default") == DEFAULTS[name], name
