# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the search for other tables' chains that drop what the collection's table permits.

``shadowing_cases`` is a real terse listing (``nft -t -j list ruleset``) of one
table per case, named after what it shows (rulesets in fixtures/capture.py).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.shadowing import find_shadowing_chains, shadowing_warning
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft.fuzzing import mutate, nft_documents
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture

MARK = 0x00200000
TABLE = "dlegate_egress"


def shadowing(data, hook="forward", mark=MARK, table=TABLE):
    return find_shadowing_chains(data, table, hook, mark)


def by_table(found):
    return {chain["table"]: chain for chain in found}


CASES = [
    # firewalld's style: policy accept, but the chain ends in an unconditional reject
    ("firewalld_style", {"family": "inet", "table": "firewalld_style", "chain": "filter_FORWARD", "hook": "forward",
                         "priority": 10, "drops": "ends in reject"}),
    # the chain mentions the mark only to drop it
    ("drops_the_mark", {"family": "ip", "table": "drops_the_mark", "chain": "forward", "hook": "forward",
                        "priority": 0, "drops": "policy drop"}),
    # 'meta mark 0x00000010 counter packets 2097152 bytes 0 accept': the counter's value is not a mark test
    ("counter_equals_mark", {"family": "inet", "table": "counter_equals_mark", "chain": "forward", "hook": "forward",
                             "priority": 0, "drops": "policy drop"}),
    ("honours_directly", None),
    # ends in 'counter drop', and accepts the mark in a chain it jumps to
    ("honours_by_jump", None),
    ("conditional_reject", None),
    ("output_only", None),
    (TABLE, None),
]


@pytest.mark.parametrize("table, expected", CASES, ids=[case[0] for case in CASES])
def test_each_case_of_the_real_listing(table, expected):
    assert by_table(shadowing(fixture("shadowing_cases"))).get(table) == expected


def test_the_real_listing_as_a_whole():
    found = shadowing(fixture("shadowing_cases"))
    assert [chain["table"] for chain in found] == ["firewalld_style", "drops_the_mark", "counter_equals_mark"]
    assert shadowing(fixture("shadowing_cases"), hook="output") == [
        {"family": "ip6", "table": "output_only", "chain": "output", "hook": "output", "priority": 0,
         "drops": "policy drop"}]


def test_with_another_mark_the_honouring_chains_shadow_too():
    found = by_table(shadowing(fixture("shadowing_cases"), mark=0x10))
    assert {"honours_directly", "honours_by_jump"} <= set(found)
    # 'meta mark 0x00000010 ... accept' honours exactly the mark 0x10
    assert "counter_equals_mark" not in found
    assert {"honours_directly", "honours_by_jump", "counter_equals_mark"} <= set(by_table(shadowing(
        fixture("shadowing_cases"), mark=0)))


def test_a_drop_chain_honouring_the_mark_through_a_jump_is_not_shadowing():
    assert shadowing(fixture("shadowing_honoured")) == []


def test_drop_chains_without_the_mark_rule_are_shadowing():
    assert shadowing(fixture("shadowing_ignored")) == [
        {"family": "inet", "table": "site", "chain": "forward", "hook": "forward", "priority": 0, "drops": "policy drop"},
        {"family": "ip", "table": "legacy", "chain": "FORWARD", "hook": "forward", "priority": 0, "drops": "policy drop"}]


def test_shadowing_is_per_hook_per_mark_and_never_the_own_table():
    honoured = fixture("shadowing_honoured")
    assert shadowing(honoured, hook="output") == [
        {"family": "inet", "table": "site", "chain": "output", "hook": "output", "priority": 0, "drops": "policy drop"}]
    assert [c["chain"] for c in shadowing(honoured, mark=0x10)] == ["forward"]
    assert [c["chain"] for c in shadowing(honoured, mark=0)] == ["forward"]
    assert shadowing(honoured, table="site") == []
    assert shadowing(fixture("permit_output"), hook="output") == []


# ---------------------------------------------------------------------------
# Mark tests, one rule at a time
# ---------------------------------------------------------------------------

def chain_with(*rules, **chain):
    """A listing of one base chain 'forward' of table 'site' (policy drop unless given) and its rules."""
    items = [{"chain": dict({"family": "inet", "table": "site", "name": "forward", "handle": 1, "type": "filter",
                             "hook": "forward", "prio": 0, "policy": "drop"}, **chain)}]
    items.extend({"rule": {"family": "inet", "table": "site", "chain": "forward", "expr": expr}} for expr in rules)
    return {"nftables": items}


META_MARK = {"meta": {"key": "mark"}}


def mark_test(op, right, mask=None):
    left = META_MARK if mask is None else {"&": [META_MARK, mask]}
    return {"match": {"op": op, "left": left, "right": right}}


ACCEPT = {"accept": None}


@pytest.mark.parametrize("expr, honours", [
    ([mark_test("==", MARK, MARK), ACCEPT], True),
    ([mark_test("!=", 0, MARK), ACCEPT], True),
    ([mark_test("==", MARK), ACCEPT], True),
    ([mark_test("in", MARK, MARK), {"counter": {"packets": 0, "bytes": 0}}, ACCEPT], True),
    ([mark_test("==", MARK, MARK), {"drop": None}], False),
    ([mark_test("==", MARK, MARK), {"jump": {"target": "elsewhere"}}], False),
    ([mark_test("!=", MARK, MARK), ACCEPT], False),
    ([mark_test("==", 0, MARK), ACCEPT], False),
    ([mark_test("!=", 0, MARK | 1), ACCEPT], False),
    ([mark_test("==", MARK, 0xFFFFFFFF), ACCEPT], False),
    ([mark_test("==", MARK | 1), ACCEPT], False),
    ([mark_test("==", 0x10), {"counter": {"packets": MARK, "bytes": MARK}}, ACCEPT], False),
    ([{"match": {"op": "==", "left": {"ct": {"key": "mark"}}, "right": MARK}}, ACCEPT], False),
    ([{"mangle": {"key": META_MARK, "value": MARK}}, ACCEPT], False),
    ([mark_test("==", str(MARK), MARK), ACCEPT], False),
], ids=["masked", "masked-not-zero", "exact", "in-set-counted", "masked-drop", "masked-jump", "masked-not-mark",
        "masked-zero", "wider-mask-not-zero", "full-mask", "other-exact", "counter-value", "ct-mark", "sets-mark",
        "text-value"])
def test_which_rules_honour_the_mark(expr, honours):
    assert (shadowing(chain_with(expr)) == []) is honours


def test_a_chain_ending_in_an_unconditional_verdict():
    reject = {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}
    logged = [{"log": {"prefix": "denied "}}, {"counter": {"packets": 1, "bytes": 2}}, {"drop": None}]
    assert shadowing(chain_with([reject], policy="accept"))[0]["drops"] == "ends in reject"
    assert shadowing(chain_with(logged, policy="accept"))[0]["drops"] == "ends in drop"
    assert shadowing(chain_with([{"reject": None}], [ACCEPT], policy="accept")) == []
    conditional = [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "icmp"}}, reject]
    assert shadowing(chain_with(conditional, policy="accept")) == []
    assert shadowing(chain_with(policy="accept")) == []
    assert shadowing(chain_with([reject], [mark_test("==", MARK, MARK), ACCEPT], policy="accept")) == []


def test_jumps_are_followed_and_loops_end():
    listing = chain_with([{"jump": {"target": "a"}}])
    listing["nftables"] += [
        {"chain": {"family": "inet", "table": "site", "name": name, "handle": 2}} for name in ("a", "b")]
    listing["nftables"] += [
        {"rule": {"family": "inet", "table": "site", "chain": "a", "expr": [{"goto": {"target": "b"}}]}},
        {"rule": {"family": "inet", "table": "site", "chain": "b", "expr": [{"jump": {"target": "a"}}]}}]
    assert len(shadowing(listing)) == 1
    listing["nftables"].append({"rule": {"family": "inet", "table": "site", "chain": "b",
                                         "expr": [mark_test("==", MARK, MARK), ACCEPT]}})
    assert shadowing(listing) == []


def test_chains_of_other_families_and_regular_chains_are_left_alone():
    assert shadowing(chain_with(family="bridge")) == []
    assert shadowing(chain_with(family="netdev")) == []
    assert shadowing(chain_with(hook=None)) == []


def test_shadowing_warning_says_what_to_add():
    chain = {"family": "ip", "table": "legacy", "chain": "FORWARD", "hook": "forward", "priority": 0,
             "drops": "ends in reject"}
    warning = shadowing_warning(chain, MARK)
    assert warning.startswith("ip legacy chain FORWARD drops by default on the forward hook (ends in reject)")
    assert warning.endswith("add 'meta mark & 0x00200000 == 0x00200000 accept' to it")
    assert "permit_mark is 0" in shadowing_warning(chain, 0)


# ---------------------------------------------------------------------------
# Fuzzing
# ---------------------------------------------------------------------------

def judge(data):
    """find_shadowing_chains either answers a list of chains or raises ParseError."""
    try:
        found = shadowing(data)
    except ParseError:
        return
    assert isinstance(found, list)
    for chain in found:
        shadowing_warning(chain, MARK)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(nft_documents)
def test_fuzzed_documents_are_judged_or_raise_the_parse_error(data):
    judge(data)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["shadowing_cases", "shadowing_honoured"]), st.data())
def test_mutated_real_listings_are_judged_or_raise_the_parse_error(name, data):
    document = copy.deepcopy(fixture(name))
    for _step in range(data.draw(st.integers(1, 3))):
        mutate(document, data)
    judge(document)


# ---------------------------------------------------------------------------
# Rule order and jumps: the first rule that decides the mark's fate counts
# ---------------------------------------------------------------------------

MARK_BIT = 0x00200000
MASKED = {"match": {"op": "==", "left": {"&": [{"meta": {"key": "mark"}}, MARK_BIT]}, "right": MARK_BIT}}


def _chain(table, name, policy="drop"):
    return {"chain": {"family": "inet", "table": table, "name": name, "type": "filter", "hook": "output", "prio": 0,
                      "policy": policy}}


def _rule(table, chain, expr):
    return {"rule": {"family": "inet", "table": table, "chain": chain, "expr": expr}}


def _found(objects):
    return [chain["table"] for chain in find_shadowing_chains({"nftables": objects}, "dlegate_egress", "output",
                                                              MARK_BIT)]


def test_a_drop_of_the_mark_before_its_accept_shadows():
    exact = {"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": MARK_BIT}}
    assert _found([_chain("a", "out"), _rule("a", "out", [exact, {"drop": None}]),
                   _rule("a", "out", [MASKED, {"accept": None}])]) == ["a"]


def test_an_accept_of_the_mark_before_a_drop_honours_it():
    assert _found([_chain("a", "out"), _rule("a", "out", [MASKED, {"accept": None}]),
                   _rule("a", "out", [MASKED, {"drop": None}])]) == []


def test_a_jump_on_the_mark_to_a_chain_that_accepts_everything_honours_it():
    objects = [_chain("b", "out"), {"chain": {"family": "inet", "table": "b", "name": "allow"}},
               _rule("b", "out", [MASKED, {"jump": {"target": "allow"}}]),
               _rule("b", "allow", [{"counter": {"packets": 0, "bytes": 0}}, {"accept": None}])]
    assert _found(objects) == []


def test_a_jump_on_the_mark_to_a_chain_that_filters_does_not():
    objects = [_chain("b", "out"), {"chain": {"family": "inet", "table": "b", "name": "picky"}},
               _rule("b", "out", [MASKED, {"jump": {"target": "picky"}}]),
               _rule("b", "picky", [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                                               "right": 22}}, {"accept": None}])]
    assert _found(objects) == ["b"]
