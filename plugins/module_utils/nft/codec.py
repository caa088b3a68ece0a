# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nft's JSON, in and out: the objects of a listing and the expressions of the rules the collection writes.

A rule of a collection table is a dict of fields, rendered in this order::

    saddr   ip saddr @sources_v4        (a set of the table; ``family`` says ip or ip6)
    daddr   ip daddr @media_v4
    sport   udp sport 50000-50019       (``protocol`` says tcp or udp; [[lo, hi], ...])
    dport   udp dport { 3478, 49152-65535 }
    counter counter
    dscp    ip dscp set 46
    mark    meta mark set meta mark | 0x00200000
    verdict accept | drop
    comment comment "media"

Anything else in a rule makes it "unknown": kept as its JSON, shown in the diff and removed.
"""

from __future__ import annotations

import json

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError

FAMILY = "inet"
IP_FAMILIES = {"ip": ("_v4", "ipv4_addr", 4), "ip6": ("_v6", "ipv6_addr", 6)}
SUFFIXES = {family: spec[0] for family, spec in IP_FAMILIES.items()}
SET_TYPES = {spec[1]: spec[2] for spec in IP_FAMILIES.values()}
PROTOCOLS = ("tcp", "udp")
VERDICTS = ("accept", "drop")
FIELDS = ("saddr", "daddr", "sport", "dport", "counter", "dscp", "mark", "verdict")
RANK = {field: rank for rank, field in enumerate(FIELDS)}
META_MARK = {"meta": {"key": "mark"}}

# The DSCP names nft prints instead of numbers (RFC 2474, 2597, 3246, 5865, 8622).
DSCP_NAMES = dict([("cs%d" % n, n * 8) for n in range(8)] +
                  [("af%d%d" % (c, d), c * 8 + d * 2) for c in range(1, 5) for d in range(1, 4)] +
                  [("ef", 46), ("va", 44), ("le", 1)])


def empty_rule():
    return {"comment": None, "family": None, "saddr": None, "daddr": None, "protocol": None, "sport": None,
            "dport": None, "counter": False, "dscp": None, "mark": 0, "verdict": None}


def dump(value):
    """Canonical JSON text of a value, for display and comparison."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def ruleset_objects(data):
    """The (kind, body) pairs of nft JSON; ParseError when it is not nft's shape."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ParseError("nft output is not JSON: %s" % exc)
    if not isinstance(data, dict) or not isinstance(data.get("nftables"), list):
        raise ParseError("nft output has no 'nftables' list")
    objects = []
    for item in data["nftables"]:
        if not isinstance(item, dict) or len(item) != 1:
            raise ParseError("nft output holds an item that is not a one-key object: %s" % dump(item)[:200])
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict):
            raise ParseError("nft output holds a %r that is not an object" % kind)
        objects.append((kind, body))
    return objects


def strip_runtime(kind, body):
    """The object without its handle and the family and table it belongs to, for display."""
    return {kind: {k: v for k, v in body.items() if k not in ("handle", "family", "table")}}


def belongs(kind, body, table, family=FAMILY):
    if body.get("family") != family:
        return False
    return body.get("name") == table if kind == "table" else body.get("table") == table


# ---------------------------------------------------------------------------
# Decoding the expressions of one rule
# ---------------------------------------------------------------------------

def payload_match(expr):
    """(protocol, field, right) of ``<protocol> <field> == right``, or None."""
    match = expr.get("match") if isinstance(expr, dict) and len(expr) == 1 else None
    if not isinstance(match, dict) or match.get("op") not in ("==", "in") or set(match) != {"op", "left", "right"}:
        return None
    left = match["left"]
    payload = left.get("payload") if isinstance(left, dict) and len(left) == 1 else None
    if not isinstance(payload, dict) or set(payload) != {"protocol", "field"}:
        return None
    if not isinstance(payload["protocol"], str) or not isinstance(payload["field"], str):
        return None
    return payload["protocol"], payload["field"], match["right"]


def set_reference(right, family):
    """The set name of ``@name`` when it carries the family's suffix, else None."""
    if isinstance(right, str) and right.startswith("@") and right.endswith(SUFFIXES[family]) and len(right) > 4:
        name = right[1:]
        if name.replace("_", "").isalnum() and name[0].isalpha() and name.islower():
            return name
    return None


def _port_range(value):
    if is_int(value) and 1 <= value <= 65535:
        return [value, value]
    if isinstance(value, dict) and set(value) == {"range"} and isinstance(value["range"], list) \
            and len(value["range"]) == 2 and all(is_int(p) and 1 <= p <= 65535 for p in value["range"]) \
            and value["range"][0] <= value["range"][1]:
        return list(value["range"])
    return None


def parse_ports(right):
    """The sorted port ranges of a port match's right-hand side, or None when it is not one."""
    values = right["set"] if isinstance(right, dict) and set(right) == {"set"} and isinstance(right["set"], list) \
        else [right]
    ranges = [_port_range(value) for value in values]
    if not ranges or any(r is None for r in ranges):
        return None
    merged = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def mark_value(expr):
    """The bits set by ``meta mark set meta mark | BITS``, or None."""
    mangle = expr.get("mangle") if isinstance(expr, dict) and len(expr) == 1 else None
    if not isinstance(mangle, dict) or mangle.get("key") != META_MARK or set(mangle) != {"key", "value"}:
        return None
    value = mangle["value"]
    operands = value.get("|") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(operands, list) and len(operands) == 2 and operands[0] == META_MARK and is_int(operands[1]) \
            and 0 < operands[1] <= 0xFFFFFFFF:
        return operands[1]
    return None


def dscp_value(expr):
    """(family, value) of ``ip dscp set VALUE`` / ``ip6 dscp set VALUE``, or None."""
    mangle = expr.get("mangle") if isinstance(expr, dict) and len(expr) == 1 else None
    if not isinstance(mangle, dict) or set(mangle) != {"key", "value"} or not isinstance(mangle["key"], dict):
        return None
    payload = mangle["key"].get("payload")
    # a tuple: a protocol that is a list or a dict must not be looked up in a dict (unhashable)
    if not isinstance(payload, dict) or payload.get("field") != "dscp" or payload.get("protocol") not in tuple(IP_FAMILIES) \
            or set(payload) != {"protocol", "field"}:
        return None
    value = mangle["value"]
    value = DSCP_NAMES.get(value) if isinstance(value, str) else value
    if not is_int(value) or not 0 <= value <= 63:
        return None
    return payload["protocol"], value


def _family_fits(rule, family):
    if rule["family"] in (None, family):
        rule["family"] = family
        return True
    return False


def _fold_payload(expr, rule):
    payload = payload_match(expr)
    if payload is None:
        return None
    protocol, field, right = payload
    if field in ("sport", "dport") and protocol in PROTOCOLS and rule["protocol"] in (None, protocol):
        rule["protocol"], rule[field] = protocol, parse_ports(right)
        return RANK[field] if rule[field] is not None else None
    if field in ("saddr", "daddr") and protocol in IP_FAMILIES and _family_fits(rule, protocol):
        rule[field] = set_reference(right, protocol)
        return RANK[field] if rule[field] is not None else None
    return None


def fold_statement(expr, rule):
    """Fold one expression into ``rule``; return its rank, or None when the collection never writes it."""
    if isinstance(expr, dict) and "match" in expr:
        return _fold_payload(expr, rule)
    if isinstance(expr, dict) and set(expr) == {"counter"} and isinstance(expr["counter"], dict) \
            and set(expr["counter"]) <= {"packets", "bytes"}:
        rule["counter"] = True
        return RANK["counter"]
    if isinstance(expr, dict) and len(expr) == 1 and set(expr) <= set(VERDICTS) and next(iter(expr.values())) is None:
        rule["verdict"] = next(iter(expr))
        return RANK["verdict"]
    mark = mark_value(expr)
    if mark is not None:
        rule["mark"] = mark
        return RANK["mark"]
    dscp = dscp_value(expr)
    if dscp is not None and _family_fits(rule, dscp[0]):
        rule["dscp"] = dscp[1]
        return RANK["dscp"]
    return None


def decode_rule(body):
    """A rule object as the model's rule dict, or None when the collection did not write it."""
    exprs, comment = body.get("expr"), body.get("comment")
    if not isinstance(exprs, list) or not exprs or not (comment is None or isinstance(comment, str)):
        return None
    rule = empty_rule()
    ranks = [fold_statement(expr, rule) for expr in exprs]
    if None in ranks or ranks != sorted(set(ranks)):
        return None
    if rule["verdict"] is None and rule["dscp"] is None:
        return None
    rule["comment"] = comment
    return rule


def counter_of(body):
    """Packets and bytes of a rule's counter statement (zeros when it has none)."""
    for expr in body.get("expr") or []:
        if isinstance(expr, dict) and set(expr) == {"counter"} and isinstance(expr["counter"], dict):
            return {key: expr["counter"].get(key) if is_int(expr["counter"].get(key)) else 0
                    for key in ("packets", "bytes")}
    return {"packets": 0, "bytes": 0}
