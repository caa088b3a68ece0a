# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tc_qos decisions: arguments, what a run does to real captured trees, restore scripts, trees read back as config."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import rollback
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import diff, model, render, resource
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import (
    VERSIONS,
    capture,
    live,
    spec,
)

LAB = {"interface": "v0", "link_kbps": 10000, "realtime": {"rate_kbps": 3000}, "signaling": {"rate_kbps": 200},
       "leaf_qdisc": "pfifo"}
# What Ansible hands over for LAB: every suboption present, unset ones None.
LAB_FROM_ANSIBLE = {"interface": "v0", "link_kbps": 10000, "leaf_qdisc": "pfifo", "best_effort": None,
                    "realtime": {"rate_kbps": 3000, "ceil_kbps": None, "dscp": None},
                    "signaling": {"rate_kbps": 200, "ceil_kbps": None, "dscp": None}}


def params(state="present", config=None, **extra):
    return dict(extra, state=state, config=LAB if config is None else config)


def refused(**kwargs):
    with pytest.raises(FieldError) as error:
        resource.normalize_params(**kwargs)
    return error.value


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def test_ansible_filled_arguments_are_the_spec():
    policy = resource.normalize_params(params(config=LAB_FROM_ANSIBLE))
    assert policy == {"state": "present", "interface": "v0", "rollback_timeout": 0,
                      "spec": model.normalize_spec(LAB)}


@pytest.mark.parametrize("state", ["absent", "gathered"])
def test_absent_and_gathered_need_the_interface_only(state):
    policy = resource.normalize_params(params(state, {"interface": "v0", "link_kbps": None}), interfaces=["v0"])
    assert policy["spec"] is None and policy["interface"] == "v0"


def test_parsed_judges_only_with_a_link_rate():
    assert resource.normalize_params(params("parsed", {"interface": "v0"}))["spec"] is None
    assert resource.normalize_params(params("parsed"))["spec"] == model.normalize_spec(LAB)


@pytest.mark.parametrize("config, field, words", [
    (dict(LAB, link_kbps=None), "config.link_kbps", "is required"),
    (dict(LAB, link_kbps=0), "config.link_kbps", "0 is not a rate"),
    (dict(LAB, link_kbps=-5), "config.link_kbps", "-5 is not a rate"),
    (dict(LAB, realtime={"rate_kbps": 0}), "config.realtime.rate_kbps", "0 is not a rate"),
    (dict(LAB, realtime=None), "config.realtime.rate_kbps", "is required"),
    (dict(LAB, realtime={"rate_kbps": 9900}), "config.realtime.rate_kbps", "leaves nothing for best effort"),
    (dict(LAB, signaling={"rate_kbps": 200, "ceil_kbps": 20000}), "config.signaling.ceil_kbps", "between"),
    (dict(LAB, realtime={"rate_kbps": 3000, "dscp": ["gold"]}), "config.realtime.dscp[0]", "not a DSCP"),
    (dict(LAB, interface="eth0 root"), "config.interface", "not an interface name"),
    (dict(LAB, interface="eth1"), "config.interface", "no interface 'eth1' on this host; it has lo, v0"),
    (dict(LAB, leaf_qdisc="fq_codel"), "config.leaf_qdisc", "not offered by this kernel"),
    (dict(LAB, shaper="cake"), "config", "unknown key(s) shaper"),
])
def test_bad_arguments_name_the_field(config, field, words):
    error = refused(params=params(config=config), interfaces=["lo", "v0"], offered=["htb", "pfifo"])
    assert error.field == field and words in error.message


def test_state_and_rollback_timeout_are_checked():
    assert refused(params=params("merged")).field == "state"
    assert refused(params=params(rollback_timeout=rollback.MAX_TIMEOUT + 1)).field == "rollback_timeout"
    assert resource.normalize_params(params(rollback_timeout=60))["rollback_timeout"] == 60


def test_auto_leaf_follows_what_the_kernel_offers():
    auto = dict(LAB, leaf_qdisc="auto")
    assert resource.normalize_params(params(config=auto), offered=["htb", "pfifo"])["spec"]["leaf_qdisc"] == "pfifo"
    assert resource.normalize_params(params(config=auto), offered=["fq_codel", "pfifo"])["spec"]["leaf_qdisc"] \
        == "fq_codel"


def test_running_config_takes_the_three_outputs():
    outputs = resource.running_config({"running_config": {"qdiscs": "[]", "classes": None}})
    assert outputs == {"qdiscs": "[]", "classes": "", "filters": ""}
    with pytest.raises(FieldError) as error:
        resource.running_config({"running_config": {"qdiscs": [], "classes": "", "filters": ""}})
    assert error.value.field == "running_config.qdiscs"
    with pytest.raises(FieldError) as error:
        resource.running_config({"running_config": {"qdisc": "[]"}})
    assert error.value.field == "running_config" and "unknown key(s) qdisc" in error.value.message


@pytest.mark.parametrize("interface, expected", [("eth0", "tc-eth0"), ("wan.10", "tc-wan.10"),
                                                 ("br@x+1", "tc-br_40x_2b1")])
def test_resource_ids_are_valid_rollback_resources(interface, expected):
    assert resource.resource_id(interface) == expected
    assert rollback.RESOURCE.fullmatch(expected)


# ---------------------------------------------------------------------------
# Decisions on real captures
# ---------------------------------------------------------------------------

def lab_policy(state="present"):
    return resource.normalize_params(params(state))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_tree_tc_printed_back_is_in_sync(version):
    decision = resource.plan(lab_policy(), live("lab_tree", version))
    assert decision["differences"] == [] and decision["script"] == "" and decision["warnings"] == []
    assert decision["before"] == decision["after"]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_hand_edited_tree_is_replaced_in_one_batch(version):
    decision = resource.plan(lab_policy(), live("edited_tree", version))
    assert {item["item"] for item in decision["differences"]} >= {"class 1:10", "filter ip dscp 40"}
    lines = decision["script"].splitlines()
    assert lines[0] == "qdisc del dev v0 root"
    assert lines[1:] == capture("lab_tree", version)["commands"]


@pytest.mark.parametrize("version", VERSIONS)
def test_present_builds_on_the_kernels_default_root_without_deleting_it(version):
    decision = resource.plan(lab_policy(), live("default_root", version))
    assert decision["before"] == "qdisc noqueue 0: root\n"
    assert decision["script"].splitlines() == capture("lab_tree", version)["commands"]


@pytest.mark.parametrize("version", VERSIONS)
def test_present_replaces_a_foreign_root(version):
    decision = resource.plan(lab_policy(), live("foreign_root", version))
    assert decision["differences"][0]["item"] == "root"
    assert decision["script"].startswith("qdisc del dev v0 root\nqdisc replace dev v0 root handle 1: htb")


@pytest.mark.parametrize("version", VERSIONS)
def test_absent_removes_the_modules_tree(version):
    decision = resource.plan(lab_policy("absent"), live("foreign_items", version))
    assert decision["desired"] is None and decision["after"] == ""
    assert decision["script"] == "qdisc del dev v0 root\n"
    assert decision["differences"] == [{"item": "root", "field": None, "desired": None,
                                        "live": {"kind": "htb", "handle": "1:", "default": "1:30"}}]


@pytest.mark.parametrize("version", VERSIONS)
def test_absent_leaves_a_foreign_root_with_a_warning(version):
    decision = resource.plan(lab_policy("absent"), live("foreign_root", version))
    assert decision["differences"] == [] and decision["script"] == ""
    assert decision["warnings"] == ["v0 has a tbf root qdisc (handle 8001:) that tc_qos did not write; absent leaves it"]


@pytest.mark.parametrize("version", VERSIONS)
def test_absent_on_the_default_root_is_in_sync(version):
    decision = resource.plan(lab_policy("absent"), live("removed_tree", version))
    assert decision["differences"] == [] and decision["script"] == "" and decision["warnings"] == []


# ---------------------------------------------------------------------------
# Restore scripts
# ---------------------------------------------------------------------------

RESET = ["qdisc replace dev v0 root pfifo", "qdisc del dev v0 root"]


@pytest.mark.parametrize("version", VERSIONS)
def test_restoring_the_default_root_resets_whatever_is_there(version):
    assert resource.restore_batch(live("default_root", version)).splitlines() == RESET


@pytest.mark.parametrize("scenario", ["lab_tree", "fast_link"])
@pytest.mark.parametrize("version", VERSIONS)
def test_restoring_a_tree_rebuilds_it_as_it_was_built(scenario, version):
    assert resource.restore_batch(live(scenario, version)).splitlines() == RESET + capture(scenario, version)["commands"]


@pytest.mark.parametrize("scenario", ["foreign_root", "foreign_items"])
@pytest.mark.parametrize("version", VERSIONS)
def test_a_tree_with_parts_the_module_cannot_write_cannot_be_restored(scenario, version):
    assert resource.restore_batch(live(scenario, version)) is None


def test_rendered_is_the_build_on_a_bare_interface():
    assert resource.rendered(model.normalize_spec(LAB)).splitlines() == capture("lab_tree", "6.1.0")["commands"]


# ---------------------------------------------------------------------------
# Live trees as config
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["lab_tree", "fast_link", "replaced_tree", "replaced_foreign_root"])
@pytest.mark.parametrize("version", VERSIONS)
def test_a_tree_the_module_wrote_reads_back_as_its_config(scenario, version):
    document = capture(scenario, version)
    config = resource.tree_to_config(live(scenario, version))
    assert config is not None and config["interface"] == "v0"
    assert model.build_tree(model.normalize_spec(config)) == model.build_tree(model.normalize_spec(spec(document["spec"])))


def test_the_lab_tree_as_config():
    assert resource.tree_to_config(live("lab_tree", "6.1.0")) == {
        "interface": "v0", "link_kbps": 10000,
        "realtime": {"rate_kbps": 3000, "ceil_kbps": 3000, "dscp": [18, 34, 46]},
        "signaling": {"rate_kbps": 200, "ceil_kbps": 10000, "dscp": [24]},
        "best_effort": {"ceil_kbps": 10000}, "leaf_qdisc": "pfifo"}


@pytest.mark.parametrize("scenario", ["default_root", "foreign_root", "foreign_items", "edited_tree", "removed_tree"])
@pytest.mark.parametrize("version", VERSIONS)
def test_what_the_module_would_not_write_has_no_config(scenario, version):
    assert resource.tree_to_config(live(scenario, version)) is None


def test_a_best_effort_rate_changed_by_hand_has_no_config():
    tree = model.build_tree(model.normalize_spec(LAB))
    tree["classes"]["1:30"]["rate_bit"] = 5000000
    assert resource.tree_to_config(tree) is None


def test_leaves_in_offers_what_the_evidence_holds():
    assert resource.leaves_in(live("lab_tree", "6.1.0")) == ["pfifo"]
    assert resource.leaves_in(live("default_root", "6.1.0")) is None


RATES = st.integers(1, 999999) | st.integers(1000, 40000).map(lambda mbit: mbit * 1000)
DSCP = st.lists(st.integers(0, 63), max_size=4, unique=True)


@st.composite
def specs(draw):
    link = draw(RATES.filter(lambda kbps: kbps >= 3))
    realtime = draw(st.integers(1, link - 2))
    signaling = draw(st.integers(1, link - realtime - 1))
    realtime_dscp = draw(DSCP.filter(bool))
    signaling_dscp = [value for value in draw(DSCP) if value not in realtime_dscp]
    return {"interface": "eth0", "link_kbps": link,
            "realtime": {"rate_kbps": realtime, "dscp": realtime_dscp},
            "signaling": {"rate_kbps": signaling, "dscp": signaling_dscp},
            "leaf_qdisc": draw(st.sampled_from(model.LEAF_QDISCS))}


@settings(max_examples=150, deadline=None, database=None)
@given(specs())
def test_every_tree_the_module_builds_reads_back_as_a_config_that_builds_it_again(raw):
    try:
        tree = model.build_tree(model.normalize_spec(raw))
    except FieldError:
        return  # rates tc cannot print back exactly are refused before anything is built
    config = resource.tree_to_config(tree)
    assert config is not None
    assert diff.diff_trees(model.build_tree(model.normalize_spec(config)), tree) == []
    assert render.can_render(tree) and resource.restore_batch(tree).count("\n") == len(render.build_commands(tree)) + 2
