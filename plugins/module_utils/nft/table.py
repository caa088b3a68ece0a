# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model of a table the collection owns: one base chain, named interval sets, rules.

A *state* is a dict, built from a policy by a feature's core or from nft's JSON by
:func:`parse_table`; two states are equal exactly when the tables filter the same
way, so idempotence is ``desired == live``. ``None`` stands for "no table"::

    {"table": "dlegate_egress",
     "chain": {"name": "egress", "type": "filter", "hook": "output", "priority": -10, "policy": "accept"},
     "sets": {"media_v4": {"type": "ipv4_addr", "elements": ["192.0.2.0/24"]}, ...},
     "rules": [<rule dicts of codec.py>, {"unknown": "<JSON of a rule the collection did not write>"}],
     "unknown": ["<JSON of other objects in the table>", ...]}
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.dlegate.rtc.plugins.module_utils.common.addresses import (
    canonical_elements,
    interval,
    networks_to_elements,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import (
    FAMILY,
    IP_FAMILIES,
    SET_TYPES,
    belongs,
    counter_of,
    decode_rule,
    dump,
    is_int,
    ruleset_objects,
    strip_runtime,
)


def empty_state(table, chain=None):
    return {"table": table, "chain": chain, "sets": {}, "rules": [], "unknown": []}


def base_chain(name, hook, priority, chain_type="filter", policy="accept"):
    return {"name": name, "type": chain_type, "hook": hook, "priority": priority, "policy": policy}


def interval_set(version, elements):
    return {"type": "ipv4_addr" if version == 4 else "ipv6_addr", "elements": elements}


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def render_priority(priority, chain_type="filter"):
    if priority == 0:
        return chain_type
    return "%s %s %d" % (chain_type, "-" if priority < 0 else "+", abs(priority))


def render_ports(ranges):
    texts = ["%d" % lo if lo == hi else "%d-%d" % (lo, hi) for lo, hi in ranges]
    return texts[0] if len(texts) == 1 else "{ %s }" % ", ".join(texts)


def render_rule(rule):
    """One rule of the model as an nft statement line (an unrecognised one as a comment)."""
    if "unknown" in rule:
        return "# unrecognised rule: %s" % rule["unknown"]
    parts = []
    for field in ("saddr", "daddr"):
        if rule[field]:
            parts.append("%s %s @%s" % (rule["family"], field, rule[field]))
    for field in ("sport", "dport"):
        if rule[field]:
            parts.append("%s %s %s" % (rule["protocol"], field, render_ports(rule[field])))
    if rule["counter"]:
        parts.append("counter")
    if rule["dscp"] is not None:
        parts.append("%s dscp set %d" % (rule["family"], rule["dscp"]))
    if rule["mark"]:
        parts.append("meta mark set meta mark | 0x%08x" % rule["mark"])
    if rule["verdict"]:
        parts.append(rule["verdict"])
    if rule["comment"] is not None:
        parts.append("comment %s" % json.dumps(rule["comment"]))
    return " ".join(parts)


def render_set(name, spec):
    lines = ["\tset %s {" % name, "\t\ttype %s" % spec["type"], "\t\tflags interval"]
    if spec["elements"]:
        lines.append("\t\telements = {")
        lines.extend("\t\t\t%s," % element for element in spec["elements"])
        lines.append("\t\t}")
    lines.append("\t}")
    return lines


def render_chain(state):
    chain = state["chain"]
    if chain is None:
        return []
    lines = ["\tchain %s {" % chain["name"]]
    if chain.get("hook"):
        lines.append("\t\ttype %s hook %s priority %s; policy %s;" % (
            chain["type"], chain["hook"], render_priority(chain["priority"], chain["type"]), chain["policy"]))
    lines.extend("\t\t" + render_rule(rule) for rule in state["rules"])
    lines.append("\t}")
    return lines


def render_table(state):
    """The table definition of a state as nft text; "" for no table. Desired and live go through here."""
    if state is None:
        return ""
    lines = ["table %s %s {" % (FAMILY, state["table"])]
    lines.extend("\t# unrecognised object: %s" % item for item in state["unknown"])
    for name in sorted(state["sets"]):
        lines.extend(render_set(name, state["sets"][name]))
    lines.extend(render_chain(state))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_delete_script(table):
    """Remove the table whether or not it exists, in one transaction."""
    return "table %s %s\ndelete table %s %s\n" % (FAMILY, table, FAMILY, table)


def render_apply_script(state):
    """Create or replace the table atomically: one ``nft -f`` transaction."""
    return render_delete_script(state["table"]) + render_table(state)


def transaction(live, desired, table):
    """The nft script that turns ``live`` into ``desired``; None when nothing is to be done."""
    if live == desired:
        return None
    if desired is None:
        return render_delete_script(table)
    return render_apply_script(desired)


# ---------------------------------------------------------------------------
# Parsing nft -j output
# ---------------------------------------------------------------------------

def _element_interval(element, version):
    """An interval-set element of nft JSON as an (lo, hi) integer interval; ValueError when unreadable."""
    if isinstance(element, dict) and set(element) == {"elem"} and isinstance(element["elem"], dict):
        if set(element["elem"]) != {"val"}:
            raise ValueError("element with options")
        return _element_interval(element["elem"]["val"], version)
    if isinstance(element, str):
        net = ipaddress.ip_network(element, strict=False)
    elif isinstance(element, dict) and set(element) == {"prefix"} and isinstance(element["prefix"], dict) \
            and isinstance(element["prefix"].get("addr"), str) and is_int(element["prefix"].get("len")):
        net = ipaddress.ip_network("%s/%d" % (element["prefix"]["addr"], element["prefix"]["len"]), strict=False)
    elif isinstance(element, dict) and set(element) == {"range"} and isinstance(element["range"], list) \
            and len(element["range"]) == 2 and all(isinstance(a, str) for a in element["range"]):
        lo, hi = (ipaddress.ip_address(a) for a in element["range"])
        if lo.version != version or hi.version != version or lo > hi:
            raise ValueError("bad range")
        return (int(lo), int(hi))
    else:
        raise ValueError("unknown element")
    if net.version != version:
        raise ValueError("wrong family")
    return interval(net)


SET_KEYS = {"family", "name", "table", "type", "handle", "flags", "elem"}


def parse_set(body):
    """A set object as (name, spec), or None when it is not a set the collection writes."""
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not set(body) <= SET_KEYS or not isinstance(kind, str) or kind not in SET_TYPES \
            or body.get("flags") != ["interval"]:
        return None
    elements = body.get("elem", [])
    if not isinstance(elements, list):
        return None
    try:
        intervals = [_element_interval(element, SET_TYPES[kind]) for element in elements]
    except (ValueError, TypeError):
        return None
    return name, interval_set(SET_TYPES[kind], canonical_elements(intervals, SET_TYPES[kind]))


def parse_chain(body, name):
    """The base chain's settings, or None when it is not one the collection can describe."""
    chain = base_chain(body.get("name"), body.get("hook"), body.get("prio"), body.get("type"), body.get("policy"))
    if chain["name"] != name or not all(isinstance(chain[k], str) for k in ("type", "hook", "policy")) \
            or not is_int(chain["priority"]):
        return None
    return chain


def parse_rule(body, chain):
    """A rule object as a model rule, or {"unknown": json} when the collection did not write it."""
    rule = decode_rule(body) if body.get("chain") == chain else None
    return rule if rule is not None else {"unknown": dump(strip_runtime("rule", body))}


def parse_table(data, table, chain):
    """The state of ``inet <table>`` with base chain ``chain`` in nft JSON; None when the table is absent.

    Raises ParseError only when the JSON is not nft's shape; whatever the
    collection did not write is kept as ``unknown`` so that it shows in the
    diff and gets removed.
    """
    mine = [(kind, body) for kind, body in ruleset_objects(data) if belongs(kind, body, table)]
    if not any(kind == "table" for kind, _body in mine):
        return None
    state = empty_state(table)
    for kind, body in mine:
        parsed = None
        if kind == "table":
            continue
        if kind == "set":
            parsed = parse_set(body)
            if parsed is not None:
                state["sets"][parsed[0]] = parsed[1]
        elif kind == "chain" and state["chain"] is None:
            parsed = state["chain"] = parse_chain(body, chain)
        elif kind == "rule":
            parsed = parse_rule(body, chain)
            state["rules"].append(parsed)
        if parsed is None:
            state["unknown"].append(dump(strip_runtime(kind, body)))
    return state


def drop_counters(data, table, chain):
    """Packets and bytes counted by the table's drop rules: totals and per destination set."""
    totals = {"packets": 0, "bytes": 0, "by_set": {}}
    for kind, body in ruleset_objects(data):
        if kind != "rule" or not belongs(kind, body, table):
            continue
        rule = parse_rule(body, chain)
        if rule.get("verdict") != "drop":
            continue
        counts = counter_of(body)
        totals["by_set"][rule["daddr"] or "any"] = counts
        totals["packets"] += counts["packets"]
        totals["bytes"] += counts["bytes"]
    return totals


def unrecognised_items(state):
    """The JSON of every rule and object in the table that the collection did not write."""
    if state is None:
        return []
    return [rule["unknown"] for rule in state["rules"] if "unknown" in rule] + list(state["unknown"])


# ---------------------------------------------------------------------------
# Comparing: per-item differences as data
# ---------------------------------------------------------------------------

def _set_differences(live_sets, desired_sets):
    items = []
    for name in sorted(set(live_sets) | set(desired_sets)):
        before, after = live_sets.get(name), desired_sets.get(name)
        if before == after:
            continue
        if before is None or after is None:
            items.append({"item": "set %s" % name, "change": "add" if before is None else "remove"})
            continue
        old, new = before["elements"], after["elements"]
        items.append({"item": "set %s" % name, "change": "update",
                      "added": [e for e in new if e not in old], "removed": [e for e in old if e not in new]})
    return items


def _rule_lines(state):
    return [render_rule(rule) for rule in state["rules"]] if state else []


def _rule_differences(live, desired):
    old, new = _rule_lines(live), _rule_lines(desired)
    items = [{"item": "rule", "change": "remove", "rule": line} for line in old if line not in new]
    items.extend({"item": "rule", "change": "add", "rule": line} for line in new if line not in old)
    if not items and old != new:
        items.append({"item": "rule order", "change": "update", "live": old, "policy": new})
    return items


def differences(live, desired):
    """What differs between two states, item by item; [] when they are equal."""
    if live == desired:
        return []
    if live is None or desired is None:
        table = (desired or live)["table"]
        return [{"item": "table %s %s" % (FAMILY, table), "change": "add" if live is None else "remove"}]
    items = []
    if live["chain"] != desired["chain"]:
        items.append({"item": "chain", "change": "update", "live": live["chain"], "policy": desired["chain"]})
    items.extend(_set_differences(live["sets"], desired["sets"]))
    items.extend(_rule_differences(live, desired))
    items.extend({"item": "object", "change": "remove", "json": item} for item in live["unknown"])
    return items


def family_sets(name, networks, versions=(4, 6)):
    """The two interval sets ``<name>_v4`` and ``<name>_v6`` holding ``networks``."""
    return {name + suffix: interval_set(version, networks_to_elements(networks, version))
            for suffix, _type, version in IP_FAMILIES.values() if version in versions}
