"""tc core: differences between the desired tree and real ones, item by item."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import diff, model
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import desired, live


def test_in_sync_trees_have_no_difference():
    assert diff.diff_trees(desired("lab_tree"), live("lab_tree", "6.1.0")) == []
    assert diff.diff_trees(desired("fast_link"), live("replaced_tree", "6.15.0")) == []


def test_hand_edits_are_the_differences():
    assert diff.diff_trees(desired("lab_tree"), live("edited_tree", "6.1.0")) == [
        {"item": "class 1:10", "field": "rate_bit", "desired": 3000000, "live": 2000000},
        {"item": "class 1:10", "field": "ceil_bit", "desired": 3000000, "live": 2000000},
        {"item": "filter ip dscp 40", "field": None, "desired": None, "live": "1:10"},
    ]


def test_foreign_items_are_differences():
    assert diff.diff_trees(desired("lab_tree"), live("foreign_items", "6.15.0")) == [
        {"item": "class 1:40", "field": None, "desired": None,
         "live": {"parent": "1:1", "rate_bit": 500000, "ceil_bit": 1000000, "prio": 3, "leaf": "tbf"}},
        {"item": "unmanaged", "field": None, "desired": None, "live": "class tbf 40:1"},
        {"item": "unmanaged", "field": None, "desired": None,
         "live": "filter parent 1: ip pref 1 u32 match 00b80000/00ff0000 at 0 flowid 1:40"},
        {"item": "unmanaged", "field": None, "desired": None,
         "live": "filter parent 1: ip pref 5 u32 match 00110000/00ff0000 at 8 match 000013c4/0000ffff at 20 "
                 "flowid 1:40"},
    ]


def test_a_foreign_root_misses_the_whole_tree():
    found = diff.diff_trees(desired("lab_tree"), live("foreign_root", "6.1.0"))
    assert found[:3] == [
        {"item": "root", "field": "kind", "desired": "htb", "live": "tbf"},
        {"item": "root", "field": "handle", "desired": "1:", "live": "8001:"},
        {"item": "root", "field": "default", "desired": "1:30", "live": None},
    ]
    assert [item["item"] for item in found[3:7]] == ["class 1:1", "class 1:10", "class 1:20", "class 1:30"]
    assert all(item["live"] is None for item in found[3:])
    assert len(found) == 3 + 4 + 8


def test_no_live_tree_at_all():
    found = diff.diff_trees(desired("lab_tree"), None)
    assert found[0] == {"item": "root", "field": None, "desired": desired("lab_tree")["root"], "live": None}
    assert len(found) == 1 + 4 + 8


def test_removal():
    lab = live("lab_tree", "6.1.0")
    assert diff.diff_trees(None, lab) == [{"item": "root", "field": None, "desired": None, "live": lab["root"]}]
    assert diff.diff_trees(None, live("default_root", "6.1.0")) == []
    assert diff.diff_trees(None, live("removed_tree", "6.15.0")) == []


def test_filter_to_another_class_and_duplicates():
    state = live("lab_tree", "6.1.0")
    state["filters"][0]["flowid"] = "1:30"
    state["filters"].append({"protocol": "ipv6", "dscp": 46, "flowid": "1:10"})
    state["filters"] = model.sort_filters(state["filters"])
    assert diff.diff_trees(desired("lab_tree"), state) == [
        {"item": "filter ip dscp 18", "field": "flowid", "desired": "1:10", "live": "1:30"},
        {"item": "filter ipv6 dscp 46", "field": None, "desired": None, "live": "1:10"},
    ]


def test_missing_filter_and_leaf():
    state = live("lab_tree", "6.15.0")
    del state["filters"][-1]
    state["classes"]["1:20"]["leaf"] = None
    assert diff.diff_trees(desired("lab_tree"), state) == [
        {"item": "class 1:20", "field": "leaf", "desired": "pfifo", "live": None},
        {"item": "filter ipv6 dscp 46", "field": None, "desired": "1:10", "live": None},
    ]


def test_describe_for_diff_mode():
    assert diff.describe(desired("lab_tree"))[:5] == [
        "qdisc htb 1: root default 1:30",
        "class 1:1 parent 1: rate 10000kbit ceil 10000kbit",
        "class 1:10 parent 1:1 rate 3000kbit ceil 3000kbit prio 0 leaf pfifo",
        "class 1:20 parent 1:1 rate 200kbit ceil 10000kbit prio 1 leaf pfifo",
        "class 1:30 parent 1:1 rate 6800kbit ceil 10000kbit prio 2 leaf pfifo",
    ]
    assert diff.describe(desired("lab_tree"))[5] == "filter ip dscp 18 flowid 1:10"
    assert diff.describe(live("foreign_items", "6.1.0"))[-1].startswith("unmanaged: filter parent 1: ip pref 5")
    assert diff.describe(live("foreign_root", "6.1.0")) == ["qdisc tbf 8001: root"]
    assert diff.describe(None) == []


rates = st.integers(1, 4000)


@settings(max_examples=60, deadline=None, database=None)
@given(rates, rates, rates, rates)
def test_rate_changes_are_exactly_the_rate_differences(realtime, signaling, other_realtime, other_signaling):
    def tree(rt, sig):
        return model.build_tree(model.normalize_spec({"interface": "eth0", "link_kbps": 10000,
                                                      "realtime": {"rate_kbps": rt}, "signaling": {"rate_kbps": sig}}))
    before, after = tree(realtime, signaling), tree(other_realtime, other_signaling)
    found = diff.diff_trees(after, copy.deepcopy(before))
    assert {(item["item"], item["field"]) for item in found} == {
        (item, field) for item, field, changed in (
            ("class 1:10", "rate_bit", realtime != other_realtime),
            ("class 1:10", "ceil_bit", realtime != other_realtime),
            ("class 1:20", "rate_bit", signaling != other_signaling),
            ("class 1:30", "rate_bit", realtime + signaling != other_realtime + other_signaling)) if changed}
    assert diff.diff_trees(before, before) == []
