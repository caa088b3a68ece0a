"""tc core: reading what `tc -j ... show` printed, from real captures of iproute2 6.1 and 6.15."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import parse
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import (
    SCENARIOS, VERSIONS, capture, desired, live)

TREES = [("lab_tree", "lab_tree"), ("fast_link", "fast_link"), ("replaced_tree", "fast_link"),
         ("replaced_foreign_root", "lab_tree")]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario, spec_name", TREES)
def test_applied_tree_reads_back_as_built(scenario, spec_name, version):
    assert capture(scenario, version)["spec"] == spec_name
    assert live(scenario, version) == desired(spec_name)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_both_iproute2_versions_read_the_same(scenario):
    assert live(scenario, "6.1.0") == live(scenario, "6.15.0")


def test_iproute2_6_1_prints_classes_as_text_and_6_15_as_json():
    old, new = capture("lab_tree", "6.1.0")["class"], capture("lab_tree", "6.15.0")["class"]
    assert old.startswith("class htb 1:1 root rate 10Mbit ceil 10Mbit")
    assert json.loads(new)[1]["rate"] == 375000  # bytes/s: 3 Mbit/s
    assert parse.parse_classes(old) == parse.parse_classes(new)


def test_json_rates_are_bytes_per_second_and_64_bit():
    classes = {item["handle"]: item for item in parse.parse_classes(capture("fast_link", "6.15.0")["class"])}
    assert json.loads(capture("fast_link", "6.15.0")["class"])[0]["rate"] == 5000000000
    assert classes["1:1"]["rate_bit"] == 40000000000
    assert classes["1:30"]["rate_bit"] == 38499000000
    assert classes["1:10"]["ceil_bit"] == 2000000000


@pytest.mark.parametrize("text, bits", [
    ("3Mbit", 3000000), ("200Kbit", 200000), ("6800Kbit", 6800000), ("40Gbit", 40000000000),
    ("38499Mbit", 38499000000), ("1500bit", 1500), ("1Tbit", 10 ** 12), ("1Kibit", 1024), ("2Mibit", 2097152),
    ("1.5Mbit", 1500000), ("9" * 400 + "Tbit", int("9" * 400) * 10 ** 12),
])
def test_text_rates(text, bits):
    assert parse.text_rate_bits(text) == bits


@pytest.mark.parametrize("text", ["3 Mbit", "3MB", "Mbit", "1ibit", "3mbit", "3Mbps", "", "-3Mbit", "3Xbit"])
def test_bad_text_rates(text):
    with pytest.raises(ParseError):
        parse.text_rate_bits(text)


def test_default_class_of_the_htb_root_is_read_from_hex():
    assert live("lab_tree", "6.1.0")["root"] == {"kind": "htb", "handle": "1:", "default": "1:30"}


def test_foreign_root_keeps_its_kind_and_nothing_below():
    assert live("foreign_root", "6.1.0") == {"interface": "v0", "root": {"kind": "tbf", "handle": "8001:", "default": None},
                                             "classes": {}, "filters": [], "unmanaged": []}


def test_default_root_after_removal():
    state = live("removed_tree", "6.15.0")
    assert state["root"] == {"kind": "noqueue", "handle": "0:", "default": None}
    assert state == live("default_root", "6.15.0")


def test_foreign_items_are_kept_and_ingress_is_left_out():
    state = live("foreign_items", "6.1.0")
    assert state["classes"]["1:40"] == {"parent": "1:1", "rate_bit": 500000, "ceil_bit": 1000000, "prio": 3,
                                        "leaf": "tbf"}
    assert state["unmanaged"] == [
        "class tbf 40:1",
        "filter parent 1: ip pref 1 u32 match 00b80000/00ff0000 at 0 flowid 1:40",
        "filter parent 1: ip pref 5 u32 match 00110000/00ff0000 at 8 match 000013c4/0000ffff at 20 flowid 1:40",
    ]
    assert not any("parent ffff:" in line or "ingress" in line for line in state["unmanaged"])


def test_repeated_match_keys_are_all_kept():
    text = capture("foreign_items", "6.1.0")["filter"]
    assert text.count('"match"') > len(json.loads(text)[-1]["options"])
    sip = [entry for entry in parse.parse_filters(text) if entry["pref"] == 5]
    assert len(sip) == 1 and len(sip[0]["options"]["match"]) == 2


def test_u32_bookkeeping_rows_are_not_filters():
    entries = parse.parse_filters(capture("lab_tree", "6.1.0")["filter"])
    assert len(entries) == 8
    assert all("match" in entry["options"] for entry in entries)


@pytest.mark.parametrize("protocol, value, mask, dscp", [
    ("ip", "b80000", "fc0000", 46), ("ip", "480000", "fc0000", 18), ("ipv6", "b800000", "fc00000", 46),
    ("ipv6", "6000000", "fc00000", 24), ("ip", "0", "fc0000", 0),
])
def test_dscp_filters_are_recognised(protocol, value, mask, dscp):
    entry = {"kind": "u32", "parent": "1:", "protocol": protocol, "pref": 1,
             "options": {"fh": "800::800", "flowid": "1:10", "match": {"value": value, "mask": mask, "offmask": "",
                                                                       "off": 0}}}
    assert parse.dscp_filter(entry, "1:") == {"protocol": protocol, "dscp": dscp, "flowid": "1:10"}


@pytest.mark.parametrize("change", [
    {"parent": "2:"}, {"protocol": "all"}, {"kind": "bpf"},
    {"options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "ff0000", "off": 0}}},
    {"options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "fc0000", "off": 4}}},
    {"options": {"flowid": "1:10", "match": {"value": "b80001", "mask": "fc0000", "off": 0}}},
    {"options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "fc0000", "off": 0, "offmask": "ff"}}},
    {"options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "fc0000", "off": 0}, "actions": []}},
    {"options": {"match": {"value": "b80000", "mask": "fc0000", "off": 0}}},
    {"options": {"flowid": "1:10", "match": [{"value": "b80000", "mask": "fc0000", "off": 0}] * 2}},
])
def test_other_filters_are_not_dscp_filters(change):
    entry = {"kind": "u32", "parent": "1:", "protocol": "ip", "pref": 1,
             "options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "fc0000", "offmask": "", "off": 0}}}
    entry.update(change)
    assert parse.dscp_filter(entry, "1:") is None


def test_empty_output_is_no_tree():
    empty = {"interface": "v0", "root": None, "classes": {}, "filters": [], "unmanaged": []}
    assert parse.parse_tree("v0", "", "", "") == empty
    assert parse.parse_classes("") == [] and parse.parse_filters("[]") == []


def test_statistics_lines_of_tc_s_are_skipped():
    text = ("class htb 1:10 parent 1:1 prio 0 rate 3Mbit ceil 3Mbit burst 1599b cburst 1599b \n"
            " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) \n"
            " backlog 0b 0p requeues 0\n")
    assert parse.parse_classes(text) == [{"kind": "htb", "handle": "1:10", "parent": "1:1", "prio": 0,
                                          "rate_bit": 3000000, "ceil_bit": 3000000}]


def _qdisc(**changes):
    item = {"kind": "htb", "handle": "1:", "root": True, "options": {"default": "0x30"}}
    item.update(changes)
    return json.dumps([item])


@pytest.mark.parametrize("qdisc, classes, filters", [
    ("not json", "", ""),
    ("[" * 100000, "", ""),
    ('{"kind": "htb"}', "", ""),
    ("[1, 2]", "", ""),
    (_qdisc(kind=None), "", ""),
    (_qdisc(handle="1"), "", ""),
    (_qdisc(root="yes"), "", ""),
    (_qdisc(options=[]), "", ""),
    (_qdisc(options={"default": "zz"}), "", ""),
    (_qdisc(options={"default": "0x10000"}), "", ""),
    (_qdisc()[:-1], "", ""),
    (_qdisc()[:-1] + ', {"kind": "tbf", "handle": "2:", "root": true}]', "", ""),
    (_qdisc(), "qdisc htb 1: root", ""),
    (_qdisc(), "class htb 1:10 parent 1:1 prio high", ""),
    (_qdisc(), "class htb 1:10 parent 1:1 rate fast", ""),
    (_qdisc(), "class htb", ""),
    (_qdisc(), '[{"class": "htb", "handle": "1:1", "root": true, "rate": -1}]', ""),
    (_qdisc(), '[{"class": "htb", "handle": "1:1", "root": true, "rate": "1Mbit"}]', ""),
    (_qdisc(), '[{"class": "htb", "handle": "1:1"}]', ""),
    (_qdisc(), "", '[{"parent": "1:", "protocol": "ip", "pref": 1, "kind": "u32", "options": 5}]'),
    (_qdisc(), "", '[{"parent": "1:", "protocol": "ip", "pref": 1, "kind": "u32", '
                   '"options": {"flowid": "1:10", "match": {"value": "xyz", "mask": "fc0000"}}}]'),
    (_qdisc(), "", '[{"parent": "1:", "protocol": "ip", "pref": 1, "kind": "u32", '
                   '"options": {"flowid": "1:10", "match": {"value": "b80000", "mask": "fc0000", "off": "0"}}}]'),
    (_qdisc(), "", '[{"parent": "1:", "protocol": 4, "pref": 1, "kind": "u32", "options": {}}]'),
])
def test_malformed_output_raises_the_parse_error(qdisc, classes, filters):
    with pytest.raises(ParseError):
        parse.parse_tree("v0", qdisc, classes, filters)


def test_non_text_raises_the_parse_error():
    for bad in (None, b"[]", [], 5):
        with pytest.raises(ParseError):
            parse.parse_tree("v0", bad, "", "")
        with pytest.raises(ParseError):
            parse.parse_classes(bad)


# ---------------------------------------------------------------------------
# Fuzzing
# ---------------------------------------------------------------------------

def _parse_or_parse_error(qdisc, classes, filters):
    try:
        state = parse.parse_tree("v0", qdisc, classes, filters)
    except ParseError:
        return None
    assert set(state) == {"interface", "root", "classes", "filters", "unmanaged"}
    assert all(isinstance(line, str) for line in state["unmanaged"])
    return state


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2 ** 40), st.text(max_size=8),
                         st.sampled_from(["1:", "1:10", "0x30", "ffff:fff1", "htb", "u32", "ip", "ipv6", "b80000",
                                          "fc0000", "root"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["kind", "class", "handle", "parent", "root", "options", "rate", "ceil", "prio",
                                     "default", "match", "value", "mask", "off", "offmask", "flowid", "protocol",
                                     "pref", "ht_divisor"]), inner, max_size=5)), max_leaves=12)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, json_values, json_values)
def test_fuzzed_json_parses_or_raises_the_parse_error(qdisc, classes, filters):
    _parse_or_parse_error(json.dumps([qdisc]), json.dumps(classes), json.dumps(filters))


class_tokens = st.sampled_from(["class", "htb", "tbf", "1:1", "1:10", "root", "parent", "leaf", "10:", "prio", "0",
                                "rate", "ceil", "3Mbit", "200Kbit", "1Kibit", "burst", "1600b", "x", "-1", "\u00b2"])


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(class_tokens, max_size=12).map(" ".join), max_size=4).map("\n".join))
def test_fuzzed_class_text_parses_or_raises_the_parse_error(text):
    _parse_or_parse_error(capture("lab_tree", "6.1.0")["qdisc"], text, "")


REAL = [capture(scenario, version) for scenario in ("lab_tree", "foreign_items", "fast_link") for version in VERSIONS]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, path + (index,))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.sampled_from(["qdisc", "filter", "class"]), st.data())
def test_mutated_real_output_parses_or_raises_the_parse_error(document, kind, data):
    text = document[kind]
    if not text.lstrip().startswith("["):
        lines = text.splitlines()
        index = data.draw(st.integers(0, len(lines) - 1))
        tokens = lines[index].split()
        tokens[data.draw(st.integers(0, len(tokens) - 1))] = data.draw(class_tokens)
        lines[index] = " ".join(tokens)
        texts = dict(document, **{kind: "\n".join(lines)})
    else:
        tree = json.loads(text)
        paths = list(_paths(tree))[1:]
        path = data.draw(st.sampled_from(paths))
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
        texts = dict(document, **{kind: json.dumps(tree)})
    _parse_or_parse_error(texts["qdisc"], texts["class"], texts["filter"])


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_the_parse_error(text):
    _parse_or_parse_error(text, text, text)
    _parse_or_parse_error(capture("lab_tree", "6.1.0")["qdisc"], text, text)
