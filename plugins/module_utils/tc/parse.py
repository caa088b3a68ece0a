# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers of what ``tc -j {qdisc,class,filter} show dev IF`` prints, into the canonical model.

What tc prints, as seen from iproute2 6.1 and 6.15:

* ``tc -j qdisc show`` and ``tc -j filter show`` print JSON in both.
* ``tc -j class show`` prints plain text in 6.1 (its class listing ignores
  ``-j``): ``class htb 1:10 parent 1:1 leaf 10: prio 0 rate 3Mbit ceil 10Mbit
  burst 1599b cburst 1600b``. Rates there are bits with a decimal unit, and
  lose precision past six significant digits per unit (1234567kbit prints as
  1234Mbit). 6.15 prints JSON, where ``rate`` and ``ceil`` are integers in
  bytes per second (3 Mbit/s is 375000) and ``burst``/``cburst`` in bytes.
  Both forms are read.
* ``default`` of an HTB qdisc is a hex string (``"0x30"`` for class 1:30).
* A u32 key with several matches repeats the ``match`` key in one JSON
  object; the parser keeps every repetition.
* u32 matches are hex strings without leading zeros on a 32-bit word at
  ``off``: ``match ip dsfield 0xb8 0xfc`` prints value ``b80000``, mask
  ``fc0000``, off 0; ``match ip6 priority 0xb8 0xfc`` prints ``b800000`` and
  ``fc00000``.
* ``tc filter show dev IF`` without a parent lists the root qdisc's filters
  only; ingress and clsact are separate and are no part of the model.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model as tree

HANDLE = re.compile(r"^[0-9a-f]{0,8}:[0-9a-f]{0,8}$")
TEXT_RATE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)(i?)bit$", re.ASCII)
UNIT_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
TEXT_CLASS_VALUES = ("parent", "leaf", "prio", "quantum", "rate", "ceil", "burst", "cburst", "overhead",
                     "linklayer", "level", "mpu")
INGRESS_PARENT = "ffff:fff1"
INGRESS_KINDS = ("ingress", "clsact")

# DSCP in the first 32-bit word of the header: IPv4 TOS byte, IPv6 traffic class.
DSCP_MATCH = {"ip": (0x00FC0000, 18), "ipv6": (0x0FC00000, 22)}
U32_KEY_DETAILS = frozenset(("fh", "order", "key_ht", "bkt", "not_in_hw", "in_hw", "in_hw_count", "skip_hw",
                             "skip_sw", "terminal"))


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def _object_keeping_repeats(pairs):
    """A JSON object whose repeated keys (u32's ``match``) become a list of every value."""
    obj, repeated = {}, set()
    for key, value in pairs:
        if key in repeated:
            obj[key].append(value)
        elif key in obj:
            obj[key] = [obj[key], value]
            repeated.add(key)
        else:
            obj[key] = value
    return obj


def load_list(text, what):
    """tc's JSON output: a list of objects. Empty output is an empty list."""
    if not isinstance(text, str):
        raise ParseError("%s: expected the text tc printed, got %s" % (what, type(text).__name__))
    if not text.strip():
        return []
    try:
        data = json.loads(text, object_pairs_hook=_object_keeping_repeats)
    except (ValueError, RecursionError) as error:
        raise ParseError("%s: not JSON (%s)" % (what, error))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ParseError("%s: expected a JSON list of objects" % what)
    return data


def _string(item, key, what, required=True):
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ParseError("%s: %r must be a string in %s" % (what, key, json.dumps(item, sort_keys=True)[:200]))
    return value


def _integer(item, key, what):
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParseError("%s: %r must be a non-negative integer, got %r" % (what, key, value))
    return value


def _handle(value, what):
    if not isinstance(value, str) or not HANDLE.match(value):
        raise ParseError("%s: %r is not a tc handle" % (what, value))
    return value


# ---------------------------------------------------------------------------
# Qdiscs
# ---------------------------------------------------------------------------

def parse_qdiscs(text):
    """``tc -j qdisc show dev IF`` as a list of {kind, handle, parent, options}; parent None at the root."""
    qdiscs = []
    for item in load_list(text, "tc qdisc"):
        root = item.get("root", False)
        if not isinstance(root, bool):
            raise ParseError("tc qdisc: 'root' must be true or false, got %r" % (root,))
        options = item.get("options", {})
        if not isinstance(options, dict):
            raise ParseError("tc qdisc: 'options' must be an object, got %r" % (options,))
        qdiscs.append({
            "kind": _string(item, "kind", "tc qdisc"),
            "handle": _handle(item.get("handle"), "tc qdisc"),
            "parent": None if root else _handle(item.get("parent"), "tc qdisc"),
            "options": options,
        })
    return qdiscs


def _default_class(root):
    value = root["options"].get("default", 0)
    try:
        minor = int(value, 16) if isinstance(value, str) else value
    except ValueError:
        minor = None
    if isinstance(minor, bool) or not isinstance(minor, int) or not 0 <= minor <= 0xFFFF:
        raise ParseError("tc qdisc: HTB default %r is not a class number" % (value,))
    if minor == 0:
        return None
    return "%x:%x" % (tree.split_handle(root["handle"])[0], minor)


# ---------------------------------------------------------------------------
# Classes
# ---------------------------------------------------------------------------

def text_rate_bits(text):
    """A rate as tc prints it in text (``3Mbit``, ``200Kbit``, ``40Gbit``, ``1Kibit``) in bit/s."""
    match = TEXT_RATE.match(text)
    if not match:
        raise ParseError("tc class: %r is not a rate" % (text,))
    number, unit, iec = match.groups()
    base = 1024 if iec else 1000
    if iec and not unit:
        raise ParseError("tc class: %r is not a rate" % (text,))
    return round(Fraction(number) * base ** UNIT_POWER[unit])


def _text_class(line):
    tokens = line.split()
    if len(tokens) < 3 or tokens[0] != "class":
        raise ParseError("tc class: cannot read %r" % line[:200])
    values, parent, index = {}, None, 3
    while index < len(tokens):
        token = tokens[index]
        if token in TEXT_CLASS_VALUES and index + 1 < len(tokens):
            values[token] = tokens[index + 1]
            index += 2
        else:
            index += 1
    if "parent" in values:
        parent = _handle(values["parent"], "tc class")
    prio = values.get("prio")
    if prio is not None and not (prio.isascii() and prio.isdigit()):
        raise ParseError("tc class: prio %r is not a number" % prio)
    return {
        "kind": tokens[1],
        "handle": _handle(tokens[2], "tc class"),
        "parent": parent,
        "prio": None if prio is None else int(prio),
        "rate_bit": text_rate_bits(values["rate"]) if "rate" in values else None,
        "ceil_bit": text_rate_bits(values["ceil"]) if "ceil" in values else None,
    }


def _json_class(item):
    root = item.get("root", False)
    if not isinstance(root, bool):
        raise ParseError("tc class: 'root' must be true or false, got %r" % (root,))
    rates = {key: _integer(item, key, "tc class") for key in ("rate", "ceil")}
    return {
        "kind": _string(item, "class", "tc class"),
        "handle": _handle(item.get("handle"), "tc class"),
        "parent": None if root else _handle(item.get("parent"), "tc class"),
        "prio": _integer(item, "prio", "tc class"),
        "rate_bit": None if rates["rate"] is None else rates["rate"] * 8,
        "ceil_bit": None if rates["ceil"] is None else rates["ceil"] * 8,
    }


def parse_classes(text):
    """``tc -j class show dev IF`` (JSON, or the text iproute2 6.1 prints) as a list of classes.

    Each class is {kind, handle, parent, prio, rate_bit, ceil_bit}; parent is None
    for a class at the top of its qdisc; absent values are None.
    """
    if not isinstance(text, str):
        raise ParseError("tc class: expected the text tc printed, got %s" % type(text).__name__)
    if text.lstrip().startswith("["):
        return [_json_class(item) for item in load_list(text, "tc class")]
    # Indented lines are statistics (tc -s); the model has no use for them.
    return [_text_class(line) for line in text.splitlines() if line.strip() and not line[0].isspace()]


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------

def parse_filters(text):
    """``tc -j filter show dev IF`` as a list of {parent, protocol, pref, kind, options}.

    u32's bookkeeping rows (the head of a priority, without options, and its
    hash table) are left out; every other row is one filter.
    """
    filters = []
    for item in load_list(text, "tc filter"):
        options = item.get("options")
        if options is None:
            continue
        if not isinstance(options, dict):
            raise ParseError("tc filter: 'options' must be an object, got %r" % (options,))
        entry = {
            "parent": _handle(item.get("parent"), "tc filter"),
            "protocol": _string(item, "protocol", "tc filter"),
            "pref": _integer(item, "pref", "tc filter"),
            "kind": _string(item, "kind", "tc filter"),
            "options": options,
        }
        if entry["kind"] == "u32" and "ht_divisor" in options and not set(options) & {"match", "flowid", "link"}:
            continue
        filters.append(entry)
    return filters


def _u32_matches(options):
    matches = options.get("match", [])
    matches = [matches] if isinstance(matches, dict) else matches
    if not isinstance(matches, list):
        raise ParseError("tc filter: u32 'match' must be an object, got %r" % (matches,))
    parsed = []
    for match in matches:
        if not isinstance(match, dict):
            raise ParseError("tc filter: u32 'match' must be an object, got %r" % (match,))
        try:
            value, mask = int(match["value"], 16), int(match["mask"], 16)
        except (KeyError, TypeError, ValueError):
            value = mask = -1
        if value < 0 or mask < 0:
            raise ParseError("tc filter: u32 match %r needs hex 'value' and 'mask'" % (match,))
        offset = match.get("off", 0)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ParseError("tc filter: u32 match offset %r is not a number" % (offset,))
        parsed.append({"value": value, "mask": mask, "off": offset, "offmask": match.get("offmask") or ""})
    return parsed


def dscp_filter(entry, root_handle):
    """The model's {protocol, dscp, flowid} for a filter this module writes, or None for any other."""
    options = entry["options"]
    if entry["kind"] != "u32" or entry["parent"] != root_handle or entry["protocol"] not in DSCP_MATCH:
        return None
    if set(options) - U32_KEY_DETAILS - {"match", "flowid"} or not isinstance(options.get("flowid"), str):
        return None
    matches = _u32_matches(options)
    mask, shift = DSCP_MATCH[entry["protocol"]]
    if len(matches) != 1:
        return None
    match = matches[0]
    if match["off"] != 0 or match["offmask"] or match["mask"] != mask or match["value"] & ~mask:
        return None
    flowid = _handle(options["flowid"], "tc filter")
    return {"protocol": entry["protocol"], "dscp": match["value"] >> shift, "flowid": flowid}


def describe_filter(entry):
    """A filter the model cannot express, as one line for ``unmanaged``."""
    head = "filter parent %s %s pref %s %s" % (entry["parent"], entry["protocol"], entry["pref"], entry["kind"])
    options = entry["options"]
    if entry["kind"] != "u32" or not isinstance(options.get("match", []), (dict, list)):
        return "%s %s" % (head, json.dumps(options, sort_keys=True))
    try:
        matches = _u32_matches(options)
    except ParseError:
        return "%s %s" % (head, json.dumps(options, sort_keys=True))
    words = ["match %08x/%08x at %d" % (m["value"], m["mask"], m["off"]) for m in matches]
    rest = {key: value for key, value in options.items() if key not in U32_KEY_DETAILS and key != "match"}
    words += ["%s %s" % (key, json.dumps(rest[key], sort_keys=True) if not isinstance(rest[key], str) else rest[key])
              for key in sorted(rest)]
    return " ".join([head] + words)


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------

def _is_ingress(qdisc):
    return qdisc["kind"] in INGRESS_KINDS or qdisc["parent"] == INGRESS_PARENT


def _root_of(qdiscs):
    roots = [qdisc for qdisc in qdiscs if qdisc["parent"] is None]
    if len(roots) > 1:
        raise ParseError("tc qdisc: %d root qdiscs on one interface" % len(roots))
    return roots[0] if roots else None


def _classes_of(root, classes, unmanaged):
    major = tree.split_handle(root["handle"])[0]
    modelled = {}
    for item in classes:
        if item["kind"] == "htb" and tree.split_handle(item["handle"])[0] == major:
            modelled[item["handle"]] = {"parent": item["parent"], "rate_bit": item["rate_bit"],
                                        "ceil_bit": item["ceil_bit"], "prio": item["prio"], "leaf": None}
        else:
            unmanaged.append("class %s %s" % (item["kind"], item["handle"]))
    return modelled


def _attach_leaves(qdiscs, classes, unmanaged):
    for qdisc in qdiscs:
        if qdisc["parent"] is None:
            continue
        owner = classes.get(qdisc["parent"])
        if owner is not None and owner["leaf"] is None:
            owner["leaf"] = qdisc["kind"]
        else:
            unmanaged.append("qdisc %s %s parent %s" % (qdisc["kind"], qdisc["handle"], qdisc["parent"]))


def parse_tree(interface, qdisc_text, class_text, filter_text):
    """The canonical model (see ``tc.model``) of what the three ``tc -j ... show dev IF`` printed."""
    qdiscs = [qdisc for qdisc in parse_qdiscs(qdisc_text) if not _is_ingress(qdisc)]
    state = {"interface": interface, "root": None, "classes": {}, "filters": [], "unmanaged": []}
    root = _root_of(qdiscs)
    if root is None:
        return state
    is_htb = root["kind"] == "htb"
    state["root"] = {"kind": root["kind"], "handle": root["handle"], "default": _default_class(root) if is_htb else None}
    if not is_htb:
        # Whatever hangs below another kind of root (mq's queues) belongs to it.
        return state
    unmanaged = []
    state["classes"] = _classes_of(root, parse_classes(class_text), unmanaged)
    _attach_leaves(qdiscs, state["classes"], unmanaged)
    for entry in parse_filters(filter_text):
        recognised = dscp_filter(entry, root["handle"])
        if recognised is None:
            unmanaged.append(describe_filter(entry))
        else:
            state["filters"].append(recognised)
    state["filters"] = tree.sort_filters(state["filters"])
    state["unmanaged"] = sorted(unmanaged)
    return state
