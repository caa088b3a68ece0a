"""tc core: the tc batch scripts, checked against the scripts tc accepted when the fixtures were captured."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model, render
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import capture, desired, live


def _commands_after(scenario, first):
    commands = capture(scenario, "6.1.0")["commands"]
    return commands[commands.index(first):]


def test_build_on_a_fresh_interface_is_the_script_tc_accepted():
    script = render.render_batch(desired("lab_tree"), live("default_root", "6.1.0"))
    assert script.splitlines() == capture("lab_tree", "6.1.0")["commands"]
    assert script.startswith("qdisc replace dev v0 root handle 1: htb default 30\n")
    assert "filter add dev v0 parent 1: protocol ipv6 prio 2 u32 match ip6 priority 0xb8 0xfc flowid 1:10\n" in script


def test_replacing_a_tree_deletes_the_root_first():
    script = render.render_batch(desired("fast_link"), live("foreign_items", "6.1.0"))
    assert script.splitlines() == _commands_after("replaced_tree", "qdisc del dev v0 root")
    assert "class add dev v0 parent 1:1 classid 1:30 htb rate 38499000kbit ceil 39000000kbit prio 2" in script


def test_replacing_a_foreign_root():
    script = render.render_batch(desired("lab_tree"), live("foreign_root", "6.15.0"))
    assert script.splitlines() == _commands_after("replaced_foreign_root", "qdisc del dev v0 root")


def test_removing_the_tree():
    assert render.render_batch(None, live("lab_tree", "6.1.0")) == "qdisc del dev v0 root\n"
    assert capture("removed_tree", "6.1.0")["commands"][-1] == "qdisc del dev v0 root"


def test_nothing_to_remove_from_the_default_root():
    assert render.render_batch(None, live("default_root", "6.1.0")) == ""
    assert render.render_batch(None, None) == ""


def test_a_parsed_tree_renders_like_the_built_one():
    parsed = live("fast_link", "6.15.0")
    assert render.render_batch(parsed, None) == render.render_batch(desired("fast_link"), None)


@pytest.mark.parametrize("bits, text", [(10000000, "10000kbit"), (40000000000, "40000000kbit"),
                                        (1234560, "1234560bit"), (8, "8bit")])
def test_rate_text(bits, text):
    assert render.rate_text(bits) == text


def test_what_cannot_be_rendered():
    assert render.can_render(None)
    assert render.can_render(live("default_root", "6.1.0"))
    assert render.can_render(live("lab_tree", "6.1.0"))
    assert not render.can_render(live("foreign_items", "6.1.0"))
    assert not render.can_render(live("foreign_root", "6.1.0"))
    with pytest.raises(ValueError):
        render.render_batch(live("foreign_items", "6.1.0"), None)


def test_leaf_handles_follow_their_class_below_the_automatic_range():
    state = desired("lab_tree")
    state["classes"]["1:9000"] = model.htb_class("1:1", 100, 100, 3, "pfifo")
    lines = render.build_commands(state)
    assert "qdisc add dev v0 parent 1:10 handle 10: pfifo" in lines
    assert "qdisc add dev v0 parent 1:9000 pfifo" in lines


def test_classes_come_after_their_parents():
    state = desired("lab_tree")
    state["classes"]["1:5"] = model.htb_class("1:40", 100, 100, 1)
    state["classes"]["1:40"] = model.htb_class("1:1", 200, 200)
    handles = [line.split(" classid ")[1].split()[0] for line in render.build_commands(state) if " classid " in line]
    assert handles.index("1:1") < handles.index("1:40") < handles.index("1:5")
