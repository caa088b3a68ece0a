# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure core of the dlegate.rtc.nft_egress module.

Nothing here has a side effect: no subprocess, no file, no DNS. The module
gathers the live state (``nft -j list ruleset``, DNS answers), hands it to
these functions and applies the one transaction they render.

Two data shapes travel between the functions:

* a *policy*: the module's arguments, validated and normalised by
  :func:`normalize_policy`;
* a *state*: the canonical model of the collection's table, built either from
  a policy (:func:`build_desired_state`) or from nft's JSON
  (:func:`parse_table`). Two states are equal exactly when the tables filter
  the same way, so idempotence is ``desired == live``. ``None`` stands for
  "no table".

A state is a dict::

    {"table": "dlegate_egress",
     "chain": {"type": "filter", "hook": "output", "priority": -10, "policy": "accept"},
     "sets": {"media_v4": {"type": "ipv4_addr", "elements": ["192.0.2.0/24"]}, ...},
     "rules": [{"comment": "media", "family": "ip", "saddr": None, "daddr": "media_v4",
                "protocol": "udp", "ports": [[3478, 3478]], "counter": False,
                "mark": 2097152, "verdict": "accept"},
               {"unknown": "<the JSON of a rule this module did not write>"}, ...],
     "unknown": ["<the JSON of other objects in the table>", ...]}
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import time

FAMILY = "inet"
CHAIN = "egress"
DEFAULT_TABLE = "dlegate_egress"
DEFAULT_PRIORITY = -10
DEFAULT_MARK = 0x00200000
SOURCES = "sources"
NFT_FAMILIES = {"ip": ("_v4", "ipv4_addr", 4), "ip6": ("_v6", "ipv6_addr", 6)}
SUFFIXES = {family: spec[0] for family, spec in NFT_FAMILIES.items()}

STATES = ("present", "absent", "rendered", "gathered")
MODES = ("permit", "enforce", "audit")
HOOKS = ("output", "forward")
PROTOCOLS = ("tcp", "udp")
UNRESOLVED = ("fail", "skip")

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
PORT_SPEC = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
LOOKS_NUMERIC = re.compile(r"^[0-9.]+$")
MAX_ROLLBACK = 86400
ROLLBACK_HEADER = "# dlegate.rtc nft_egress rollback; table inet {table}; deadline {deadline} ({when})"
ROLLBACK_DEADLINE = re.compile(r"^# dlegate\.rtc nft_egress rollback; .*; deadline (\d+) ")

# The detached process that restores the previous table unless the rollback
# script is removed (confirmed) first. Positional arguments: seconds, script,
# marker file, nft binary. ``mv`` makes taking the script atomic with respect
# to a confirmation that removes it.
ROLLBACK_SHELL = (
    'sleep "$1" || exit 0; '
    'mv -f "$2" "$2.run" 2>/dev/null || exit 0; '
    '"$4" -f "$2.run"; rc=$?; '
    'echo "rc=$rc time=$(date +%s)" > "$3"; '
    'rm -f "$2.run"'
)
# Starts ROLLBACK_SHELL in its own session, detached from the caller's
# standard streams, and returns at once: ``sh -c LAUNCHER sh ROLLBACK_SHELL
# seconds script marker nft``.
ROLLBACK_LAUNCHER = 'setsid "$0" -c "$1" dlegate-rollback "$2" "$3" "$4" "$5" </dev/null >/dev/null 2>&1 &'


class PolicyError(Exception):
    """Bad input: ``field`` names the argument, ``message`` says what is allowed."""

    def __init__(self, field, message):
        super().__init__("%s: %s" % (field, message))
        self.field = field
        self.message = message


class NftParseError(Exception):
    """nft's JSON does not have the shape this module can read."""


# ---------------------------------------------------------------------------
# Addresses and ports
# ---------------------------------------------------------------------------

def _network(text):
    """An IPv4/IPv6 address or CIDR, strict about host bits; ValueError otherwise."""
    return ipaddress.ip_network(text.strip(), strict=True)


def _is_dns_name(text):
    name = text.rstrip(".")
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(DNS_LABEL.match(label) for label in labels) \
        and not labels[-1].isdigit()


def _merge_intervals(intervals):
    """Sorted (lo, hi) integer intervals with overlapping and adjacent ones joined."""
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return merged


def _address_text(network):
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def canonical_elements(intervals, version):
    """The canonical element list of an interval set: merged, as the fewest CIDRs."""
    address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    elements = []
    for lo, hi in _merge_intervals(intervals):
        elements.extend(_address_text(n) for n in ipaddress.summarize_address_range(address(lo), address(hi)))
    return elements


def _interval(network):
    return (int(network.network_address), int(network.broadcast_address))


def networks_to_elements(networks, version):
    """Collapse networks of one IP version into canonical set elements."""
    return canonical_elements([_interval(n) for n in networks if n.version == version], version)


def canonical_ports(ranges):
    """Merged [lo, hi] port ranges, sorted."""
    return _merge_intervals(ranges)


def parse_port(value, field):
    """One port spec (443, "3478", "49152-65535") as a (lo, hi) tuple."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PolicyError(field, "%r is not a port; use an integer 1-65535 or a string 'LOW-HIGH'" % (value,))
    match = PORT_SPEC.match(str(value))
    if not match:
        raise PolicyError(field, "%r is not a port; use an integer 1-65535 or a string 'LOW-HIGH'" % (value,))
    lo = int(match.group(1))
    hi = int(match.group(2)) if match.group(2) is not None else lo
    for port in (lo, hi):
        if not 1 <= port <= 65535:
            raise PolicyError(field, "%r: port %d is out of range; ports are 1-65535" % (value, port))
    if lo > hi:
        raise PolicyError(field, "%r is an inverted range; LOW must not exceed HIGH" % (value,))
    return (lo, hi)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def _choice(params, field, choices, default):
    value = params.get(field)
    value = default if value is None else value
    if value not in choices:
        raise PolicyError(field, "%r is not allowed; choose one of %s" % (value, ", ".join(choices)))
    return value


def _int_in(params, field, default, lo, hi):
    value = params.get(field)
    value = default if value is None else value
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PolicyError(field, "%r is not allowed; use an integer from %d to %d" % (value, lo, hi))
    return value


def _flag(params, field):
    value = params.get(field)
    if value is not None and not isinstance(value, bool):
        raise PolicyError(field, "%r is not allowed; use true or false" % (value,))
    return bool(value)


def _string_list(params, field):
    value = params.get(field) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PolicyError(field, "must be a list of strings")
    return value


def _identifier(value, field, what):
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise PolicyError(field, "%r is not a valid %s; use a lowercase letter followed by up to 30 "
                                 "lowercase letters, digits or underscores" % (value, what))
    return value


def parse_destination(entry, field):
    """An address/CIDR entry as ('network', ip_network) or a DNS name as ('name', name)."""
    if not isinstance(entry, str) or not entry.strip():
        raise PolicyError(field, "%r is not an IPv4/IPv6 address, a CIDR or a DNS name" % (entry,))
    text = entry.strip().lower()
    if "/" in text or ":" in text or LOOKS_NUMERIC.match(text):
        try:
            return ("network", _network(text))
        except ValueError as exc:
            raise PolicyError(field, "%r is not a valid IPv4/IPv6 address or CIDR (%s)" % (entry, exc))
    if "*" in text:
        raise PolicyError(field, "%r: wildcard names cannot be resolved; list the names or their networks" % entry)
    if not _is_dns_name(text):
        raise PolicyError(field, "%r is neither an IPv4/IPv6 address, a CIDR nor a valid DNS name" % entry)
    return ("name", text.rstrip("."))


def _destinations(params):
    value = params.get("destinations") or {}
    if not isinstance(value, dict):
        raise PolicyError("destinations", "must be a dict of group name to a list of addresses, CIDRs or DNS names")
    groups = {}
    for group, entries in value.items():
        field = "destinations.%s" % group
        _identifier(group, field, "group name")
        if group == SOURCES:
            raise PolicyError(field, "the group name %r is reserved for source_networks" % SOURCES)
        if not isinstance(entries, list):
            raise PolicyError(field, "must be a list of addresses, CIDRs or DNS names")
        parsed = [parse_destination(entry, "%s[%d]" % (field, i)) for i, entry in enumerate(entries)]
        groups[group] = {
            "networks": [item for kind, item in parsed if kind == "network"],
            "names": list(dict.fromkeys(item for kind, item in parsed if kind == "name")),
        }
    return groups


def _rule(raw, index, groups):
    field = "rules[%d]" % index
    if not isinstance(raw, dict):
        raise PolicyError(field, "must be a dict with name, protocol, ports and destinations")
    unknown = sorted(set(raw) - {"name", "protocol", "ports", "destinations"})
    if unknown:
        raise PolicyError(field, "unknown key(s) %s; allowed are name, protocol, ports, destinations" % ", ".join(unknown))
    name = _identifier(raw.get("name"), field + ".name", "rule name")
    protocol = raw.get("protocol")
    if protocol not in PROTOCOLS:
        raise PolicyError(field + ".protocol", "%r is not allowed; choose one of tcp, udp" % (protocol,))
    ports = raw.get("ports")
    if not isinstance(ports, list) or not ports:
        raise PolicyError(field + ".ports", "must be a non-empty list of ports (443) or ranges ('49152-65535')")
    ranges = [parse_port(port, "%s.ports[%d]" % (field, i)) for i, port in enumerate(ports)]
    targets = raw.get("destinations")
    if not isinstance(targets, list) or not targets:
        raise PolicyError(field + ".destinations", "must be a non-empty list of group names from destinations")
    for target in targets:
        if not isinstance(target, str) or target not in groups:
            raise PolicyError(field + ".destinations", "%r is not a group of destinations (known: %s)"
                              % (target, ", ".join(groups) or "none"))
    return {"name": name, "protocol": protocol, "ports": canonical_ports(ranges),
            "destinations": list(dict.fromkeys(targets))}


def _rules(params, groups):
    value = params.get("rules") or []
    if not isinstance(value, list):
        raise PolicyError("rules", "must be a list of dicts with name, protocol, ports and destinations")
    rules = [_rule(raw, i, groups) for i, raw in enumerate(value)]
    names = [rule["name"] for rule in rules]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise PolicyError("rules[%d].name" % i, "%r is used by another rule; rule names must be unique" % name)
    return rules


def _networks(params, field):
    networks = []
    for i, entry in enumerate(_string_list(params, field)):
        try:
            networks.append(_network(entry))
        except ValueError as exc:
            raise PolicyError("%s[%d]" % (field, i), "%r is not a valid IPv4/IPv6 address or CIDR (%s)" % (entry, exc))
    return networks


def _nameservers(params):
    for i, entry in enumerate(_string_list(params, "nameservers")):
        try:
            ipaddress.ip_address(entry.strip())
        except ValueError:
            raise PolicyError("nameservers[%d]" % i, "%r is not an IPv4/IPv6 address" % entry)
    return [entry.strip() for entry in _string_list(params, "nameservers")]


def _resolved(params):
    value = params.get("resolved") or {}
    if not isinstance(value, dict):
        raise PolicyError("resolved", "must be a dict of DNS name to a list of addresses")
    resolved = {}
    for name, addresses in value.items():
        field = "resolved.%s" % name
        if not isinstance(name, str) or not _is_dns_name(name.lower()):
            raise PolicyError(field, "%r is not a valid DNS name" % (name,))
        if not isinstance(addresses, list):
            raise PolicyError(field, "must be a list of IPv4/IPv6 addresses")
        parsed = []
        for i, address in enumerate(addresses):
            try:
                parsed.append(str(ipaddress.ip_address(str(address).strip())))
            except ValueError:
                raise PolicyError("%s[%d]" % (field, i), "%r is not an IPv4/IPv6 address" % (address,))
        resolved[name.lower().rstrip(".")] = parsed
    return resolved


def _timeout(params):
    value = params.get("resolve_timeout")
    value = 5.0 if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 300:
        raise PolicyError("resolve_timeout", "%r is not allowed; use a number of seconds above 0 and at most 300" % (value,))
    return float(value)


def normalize_policy(params):
    """Validate the module's arguments; return the policy or raise PolicyError(field, message)."""
    policy = {
        "state": _choice(params, "state", STATES, "present"),
        "mode": _choice(params, "mode", MODES, "permit"),
        "hook": _choice(params, "hook", HOOKS, "output"),
        "unresolved": _choice(params, "unresolved", UNRESOLVED, "fail"),
        "table": DEFAULT_TABLE if params.get("table") is None else params["table"],
        "priority": _int_in(params, "priority", DEFAULT_PRIORITY, -2 ** 31, 2 ** 31 - 1),
        "permit_mark": _int_in(params, "permit_mark", DEFAULT_MARK, 0, 0xFFFFFFFF),
        "rollback_timeout": _int_in(params, "rollback_timeout", 0, 0, MAX_ROLLBACK),
        "confirm": _flag(params, "confirm"),
        "source_networks": _networks(params, "source_networks"),
        "destinations": _destinations(params),
        "nameservers": _nameservers(params),
        "resolve_timeout": _timeout(params),
        "resolved": _resolved(params),
    }
    policy["rules"] = _rules(params, policy["destinations"])
    if not isinstance(policy["table"], str) or not TABLE_NAME.match(policy["table"]):
        raise PolicyError("table", "%r is not a valid table name; use a letter followed by up to 63 "
                                   "letters, digits or underscores" % (policy["table"],))
    if policy["source_networks"] and policy["hook"] != "forward":
        raise PolicyError("source_networks", "restricts forwarded traffic; it is only allowed with hook=forward")
    if policy["mode"] == "audit" and policy["state"] == "rendered":
        raise PolicyError("mode", "audit compares with the live table; with state=rendered use permit or enforce")
    return policy


# ---------------------------------------------------------------------------
# From policy to desired state
# ---------------------------------------------------------------------------

def domains_to_resolve(policy):
    """The DNS names to look up on the host: all names not given in ``resolved``."""
    if policy["state"] in ("absent", "rendered", "gathered"):
        return []
    names = [name for group in policy["destinations"].values() for name in group["names"]]
    return sorted(set(names) - set(policy["resolved"]))


def _resolve_group(group, policy, answers, errors, report):
    """The networks of one group; names that did not resolve are skipped or fail."""
    networks = list(group["networks"])
    skip = policy["unresolved"] == "skip" or policy["state"] == "rendered"
    for name in group["names"]:
        addresses = policy["resolved"].get(name, answers.get(name))
        if addresses:
            report["resolved"][name] = list(addresses)
            networks.extend(ipaddress.ip_network(address) for address in addresses)
            continue
        reason = errors.get(name) or ("not given in resolved" if policy["state"] == "rendered" else "no A or AAAA record")
        if not skip:
            raise PolicyError("destinations", "%r did not resolve (%s); fix the name or set unresolved=skip" % (name, reason))
        if name not in report["skipped_domains"]:
            report["skipped_domains"].append(name)
            report["warnings"].append("%s did not resolve (%s); it is left out of the policy" % (name, reason))
    return networks


def _set(version, elements):
    return {"type": "ipv4_addr" if version == 4 else "ipv6_addr", "elements": elements}


def _family_sets(name, networks):
    return {
        name + "_v4": _set(4, networks_to_elements(networks, 4)),
        name + "_v6": _set(6, networks_to_elements(networks, 6)),
    }


def _accept_rules(policy, has_sources):
    rules = []
    for rule in policy["rules"]:
        for group in rule["destinations"]:
            for family, suffix in SUFFIXES.items():
                rules.append({"comment": rule["name"], "family": family,
                              "saddr": SOURCES + suffix if has_sources else None,
                              "daddr": group + suffix, "protocol": rule["protocol"],
                              "ports": [list(r) for r in rule["ports"]], "counter": False,
                              "mark": policy["permit_mark"], "verdict": "accept"})
    return rules


def _drop_rules(groups):
    return [{"comment": "enforce %s" % group, "family": family, "saddr": None, "daddr": group + suffix,
             "protocol": None, "ports": None, "counter": True, "mark": 0, "verdict": "drop"}
            for group in sorted(groups) for family, suffix in SUFFIXES.items()]


def empty_state(table, hook=None, priority=DEFAULT_PRIORITY):
    chain = None if hook is None else {"type": "filter", "hook": hook, "priority": priority, "policy": "accept"}
    return {"table": table, "chain": chain, "sets": {}, "rules": [], "unknown": []}


def build_desired_state(policy, answers=None, errors=None):
    """The table the policy asks for, given DNS ``answers`` (name -> addresses) and ``errors`` (name -> reason).

    Returns (state, report); state is None for state=absent. The report holds
    ``resolved``, ``skipped_domains`` and ``warnings``. Raises PolicyError when
    a name did not resolve and unresolved=fail.
    """
    report = {"resolved": {}, "skipped_domains": [], "warnings": []}
    if policy["state"] == "absent":
        return None, report
    state = empty_state(policy["table"], policy["hook"], policy["priority"])
    for name, group in policy["destinations"].items():
        state["sets"].update(_family_sets(name, _resolve_group(group, policy, answers or {}, errors or {}, report)))
    if policy["source_networks"]:
        state["sets"].update(_family_sets(SOURCES, policy["source_networks"]))
    state["rules"] = _accept_rules(policy, bool(policy["source_networks"]))
    if policy["mode"] == "enforce":
        state["rules"].extend(_drop_rules(policy["destinations"]))
    return state, report


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def render_priority(priority):
    if priority == 0:
        return "filter"
    return "filter %s %d" % ("-" if priority < 0 else "+", abs(priority))


def render_ports(ranges):
    texts = ["%d" % lo if lo == hi else "%d-%d" % (lo, hi) for lo, hi in ranges]
    return texts[0] if len(texts) == 1 else "{ %s }" % ", ".join(texts)


def render_rule(rule):
    """One rule of the model as an nft statement line (an unrecognised one as a comment)."""
    if "unknown" in rule:
        return "# unrecognised rule: %s" % rule["unknown"]
    parts = []
    if rule["saddr"]:
        parts.append("%s saddr @%s" % (rule["family"], rule["saddr"]))
    parts.append("%s daddr @%s" % (rule["family"], rule["daddr"]))
    if rule["protocol"]:
        parts.append("%s dport %s" % (rule["protocol"], render_ports(rule["ports"])))
    if rule["counter"]:
        parts.append("counter")
    if rule["mark"]:
        parts.append("meta mark set meta mark | 0x%08x" % rule["mark"])
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
    if state["chain"] is None and not state["rules"]:
        return []
    lines = ["\tchain %s {" % CHAIN]
    chain = state["chain"]
    if chain is not None:
        lines.append("\t\ttype %s hook %s priority %s; policy %s;" % (
            chain["type"], chain["hook"], render_priority(chain["priority"]), chain["policy"]))
    lines.extend("\t\t" + render_rule(rule) for rule in state["rules"])
    lines.append("\t}")
    return lines


def render_ruleset(state):
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
    """Create or replace the table atomically: one ``nft -f -`` transaction."""
    return render_delete_script(state["table"]) + render_ruleset(state)


# ---------------------------------------------------------------------------
# Parsing nft -j output
# ---------------------------------------------------------------------------

def ruleset_objects(data):
    """The (kind, body) pairs of nft JSON; NftParseError when it is not nft's shape."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise NftParseError("nft output is not JSON: %s" % exc)
    if not isinstance(data, dict) or not isinstance(data.get("nftables"), list):
        raise NftParseError("nft output has no 'nftables' list")
    objects = []
    for item in data["nftables"]:
        if not isinstance(item, dict) or len(item) != 1:
            raise NftParseError("nft output holds an item that is not a one-key object: %s" % _dump(item))
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict):
            raise NftParseError("nft output holds a %r that is not an object" % kind)
        objects.append((kind, body))
    return objects


def _dump(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strip_runtime(kind, body):
    """The object without its handle and the family and table it belongs to, for display."""
    return {kind: {k: v for k, v in body.items() if k not in ("handle", "family", "table")}}


def _belongs(kind, body, table):
    if body.get("family") != FAMILY:
        return False
    return body.get("name") == table if kind == "table" else body.get("table") == table


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _element_interval(element, version):
    """An interval-set element of nft JSON as an (lo, hi) integer interval; ValueError when unreadable."""
    if isinstance(element, dict) and set(element) == {"elem"} and isinstance(element["elem"], dict):
        if set(element["elem"]) != {"val"}:
            raise ValueError("element with options")
        return _element_interval(element["elem"]["val"], version)
    if isinstance(element, str):
        network = ipaddress.ip_network(element, strict=False)
    elif isinstance(element, dict) and set(element) == {"prefix"} and isinstance(element["prefix"], dict) \
            and isinstance(element["prefix"].get("addr"), str) and _is_int(element["prefix"].get("len")):
        network = ipaddress.ip_network("%s/%d" % (element["prefix"]["addr"], element["prefix"]["len"]), strict=False)
    elif isinstance(element, dict) and set(element) == {"range"} and isinstance(element["range"], list) \
            and len(element["range"]) == 2 and all(isinstance(a, str) for a in element["range"]):
        lo, hi = (ipaddress.ip_address(a) for a in element["range"])
        if lo.version != version or hi.version != version or lo > hi:
            raise ValueError("bad range")
        return (int(lo), int(hi))
    else:
        raise ValueError("unknown element")
    if network.version != version:
        raise ValueError("wrong family")
    return _interval(network)


SET_KEYS = {"family", "name", "table", "type", "handle", "flags", "elem"}


def parse_set(body):
    """A set object as (name, spec), or None when it is not a set this module writes."""
    types = {spec[1]: spec[2] for spec in NFT_FAMILIES.values()}
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not set(body) <= SET_KEYS or not isinstance(kind, str) or kind not in types \
            or body.get("flags") != ["interval"]:
        return None
    elements = body.get("elem", [])
    if not isinstance(elements, list):
        return None
    try:
        intervals = [_element_interval(element, types[kind]) for element in elements]
    except (ValueError, TypeError):
        return None
    return name, _set(types[kind], canonical_elements(intervals, types[kind]))


def parse_chain(body):
    """The base chain's settings, or None when it is not one this module can describe."""
    chain = {"type": body.get("type"), "hook": body.get("hook"), "priority": body.get("prio"),
             "policy": body.get("policy")}
    if body.get("name") != CHAIN or not all(isinstance(chain[k], str) for k in ("type", "hook", "policy")) \
            or not _is_int(chain["priority"]):
        return None
    return chain


def _payload_match(expr, fields):
    """(protocol, field, right) of ``<protocol> <field> == right`` when the field is one of ``fields``."""
    match = expr.get("match") if isinstance(expr, dict) and len(expr) == 1 else None
    if not isinstance(match, dict) or match.get("op") not in ("==", "in") or set(match) != {"op", "left", "right"}:
        return None
    left = match["left"]
    payload = left.get("payload") if isinstance(left, dict) and len(left) == 1 else None
    if not isinstance(payload, dict) or set(payload) != {"protocol", "field"} or payload["field"] not in fields:
        return None
    return payload["protocol"], payload["field"], match["right"]


def _set_reference(right, family):
    suffix = SUFFIXES[family]
    if isinstance(right, str) and right.startswith("@") and right.endswith(suffix) and IDENTIFIER.match(right[1:]):
        return right[1:]
    return None


def _port_range(value):
    if _is_int(value) and 1 <= value <= 65535:
        return [value, value]
    if isinstance(value, dict) and set(value) == {"range"} and isinstance(value["range"], list) \
            and len(value["range"]) == 2 and all(_is_int(p) and 1 <= p <= 65535 for p in value["range"]) \
            and value["range"][0] <= value["range"][1]:
        return list(value["range"])
    return None


def parse_ports(right):
    """The canonical port ranges of a dport match's right-hand side, or None."""
    values = right["set"] if isinstance(right, dict) and set(right) == {"set"} and isinstance(right["set"], list) \
        else [right]
    ranges = [_port_range(value) for value in values]
    if not ranges or any(r is None for r in ranges):
        return None
    return canonical_ports(ranges)


def _mark_value(expr):
    """The bit set by ``meta mark set meta mark | BIT``, or None."""
    mangle = expr.get("mangle") if isinstance(expr, dict) and len(expr) == 1 else None
    meta_mark = {"meta": {"key": "mark"}}
    if not isinstance(mangle, dict) or mangle.get("key") != meta_mark or set(mangle) != {"key", "value"}:
        return None
    value = mangle["value"]
    operands = value.get("|") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(operands, list) and len(operands) == 2 and operands[0] == meta_mark and _is_int(operands[1]) \
            and operands[1] > 0:
        return operands[1]
    return None


# Each statement this module writes, in the order it writes them.
RANK = {"saddr": 0, "daddr": 1, "dport": 2, "counter": 3, "mark": 4, "verdict": 5}


def _statement(expr, rule):
    """Fold one expression into ``rule``; return its rank, or None when it is not one this module writes."""
    payload = _payload_match(expr, ("saddr", "daddr", "dport"))
    if payload is not None:
        protocol, field, right = payload
        if not isinstance(protocol, str):
            return None
        if field == "dport" and protocol in PROTOCOLS:
            rule["protocol"], rule["ports"] = protocol, parse_ports(right)
            return RANK["dport"] if rule["ports"] is not None else None
        if field != "dport" and protocol in NFT_FAMILIES and rule["family"] in (None, protocol):
            rule["family"], rule[field] = protocol, _set_reference(right, protocol)
            return RANK[field] if rule[field] is not None else None
        return None
    if isinstance(expr, dict) and set(expr) == {"counter"} and isinstance(expr["counter"], dict) \
            and set(expr["counter"]) <= {"packets", "bytes"}:
        rule["counter"] = True
        return RANK["counter"]
    if isinstance(expr, dict) and len(expr) == 1 and set(expr) <= {"accept", "drop"} and next(iter(expr.values())) is None:
        rule["verdict"] = next(iter(expr))
        return RANK["verdict"]
    mark = _mark_value(expr)
    if mark is not None:
        rule["mark"] = mark
        return RANK["mark"]
    return None


def parse_rule(body):
    """A rule object as the model's rule dict; {"unknown": json} when this module did not write it."""
    unknown = {"unknown": _dump(_strip_runtime("rule", body))}
    rule = {"comment": None, "family": None, "saddr": None, "daddr": None, "protocol": None, "ports": None,
            "counter": False, "mark": 0, "verdict": None}
    comment = body.get("comment")
    exprs = body.get("expr")
    if body.get("chain") != CHAIN or not isinstance(exprs, list) or not (comment is None or isinstance(comment, str)):
        return unknown
    ranks = [_statement(expr, rule) for expr in exprs]
    if None in ranks or ranks != sorted(set(ranks)) or rule["daddr"] is None or rule["verdict"] is None \
            or ranks[-1] != RANK["verdict"]:
        return unknown
    rule["comment"] = comment
    return rule


def parse_table(data, table=DEFAULT_TABLE):
    """The canonical state of ``inet <table>`` in nft JSON (list table or list ruleset); None when absent.

    Raises NftParseError only when the JSON is not nft's shape; whatever the
    module did not write is kept as ``unknown`` so that it shows in the diff
    and gets removed.
    """
    mine = [(kind, body) for kind, body in ruleset_objects(data) if _belongs(kind, body, table)]
    if not any(pair[0] == "table" for pair in mine):
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
        elif kind == "chain":
            parsed = parse_chain(body) if state["chain"] is None else None
            state["chain"] = parsed or state["chain"]
        elif kind == "rule":
            parsed = parse_rule(body)
            state["rules"].append(parsed)
        if parsed is None:
            state["unknown"].append(_dump(_strip_runtime(kind, body)))
    return state


def drop_counters(data, table=DEFAULT_TABLE):
    """Packets and bytes counted by the table's drop rules: totals and per destination set."""
    totals = {"packets": 0, "bytes": 0, "by_set": {}}
    for kind, body in ruleset_objects(data):
        if kind != "rule" or not _belongs(kind, body, table):
            continue
        rule = parse_rule(body)
        if rule.get("verdict") != "drop":
            continue
        counter = next((e["counter"] for e in body["expr"] if isinstance(e, dict) and set(e) == {"counter"}), {})
        counts = {key: counter.get(key) if _is_int(counter.get(key)) else 0 for key in ("packets", "bytes")}
        totals["by_set"][rule["daddr"]] = counts
        totals["packets"] += counts["packets"]
        totals["bytes"] += counts["bytes"]
    return totals


# ---------------------------------------------------------------------------
# Other tables that can drop what this table permits
# ---------------------------------------------------------------------------

def _mentions_mark(value, mark):
    """True when a JSON expression tree reads ``meta mark`` and names the mark's bits."""
    text = _dump(value)
    return '{"meta":{"key":"mark"}}' in text and re.search(r"(?<![\d.])%d(?![\d.])" % mark, text) is not None


def _jump_targets(exprs):
    return [verdict["target"] for expr in exprs if isinstance(expr, dict)
            for verdict in (expr.get("jump"), expr.get("goto"))
            if isinstance(verdict, dict) and isinstance(verdict.get("target"), str)]


def _chain_honours_mark(start, rules_by_chain, mark):
    """True when a rule in the chain, or in a chain it jumps to, mentions the mark."""
    seen, todo = set(), [start]
    while todo:
        chain = todo.pop()
        if chain in seen:
            continue
        seen.add(chain)
        for exprs in rules_by_chain.get(chain, []):
            if mark and _mentions_mark(exprs, mark):
                return True
            todo.extend((chain[0], chain[1], target) for target in _jump_targets(exprs))
    return False


def _chain_key(body, name_field):
    key = (body.get("family"), body.get("table"), body.get(name_field))
    return key if all(isinstance(part, str) for part in key) else None


def find_shadowing_chains(data, table=DEFAULT_TABLE, hook="output", mark=DEFAULT_MARK):
    """Base chains of other tables on ``hook`` whose policy is drop and that do not honour the mark.

    nftables runs every table's base chains at a hook and a drop in any of
    them is final, so such a chain drops what this table permits.
    """
    objects = ruleset_objects(data)
    rules_by_chain = {}
    for kind, body in objects:
        key = _chain_key(body, "chain")
        if kind == "rule" and key and isinstance(body.get("expr"), list):
            rules_by_chain.setdefault(key, []).append(body["expr"])
    found = []
    for kind, body in objects:
        key = _chain_key(body, "name")
        if kind != "chain" or key is None or body.get("hook") != hook or body.get("policy") != "drop" \
                or key[0] not in ("inet", "ip", "ip6") or key[:2] == (FAMILY, table):
            continue
        if not _chain_honours_mark(key, rules_by_chain, mark):
            found.append({"family": key[0], "table": key[1], "chain": key[2], "hook": hook,
                          "priority": body.get("prio")})
    return found


def shadowing_warning(chain, mark):
    where = "%s %s chain %s" % (chain["family"], chain["table"], chain["chain"])
    if not mark:
        return ("%s drops by default on the %s hook, and permit_mark is 0: it drops what this table "
                "permits" % (where, chain["hook"]))
    return ("%s drops by default on the %s hook and does not honour the permit mark: it drops what this "
            "table permits; add 'meta mark & 0x%08x == 0x%08x accept' to it" % (where, chain["hook"], mark, mark))


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------

def diff_lines(before, after):
    """(added, removed): the ruleset lines only in ``after`` and only in ``before``, in order."""
    old, new = before.splitlines(), after.splitlines()
    added, removed = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(line.strip() for line in old[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(line.strip() for line in new[j1:j2])
    return added, removed


def compare_states(live, desired):
    """What it takes to go from ``live`` to ``desired`` (either may be None for no table)."""
    before, after = render_ruleset(live), render_ruleset(desired)
    added, removed = diff_lines(before, after)
    return {"changed": live != desired, "before": before, "after": after, "added": added, "removed": removed}


def transaction(live, desired, table):
    """The nft script that turns ``live`` into ``desired``; None when nothing is to be done."""
    if live == desired:
        return None
    if desired is None:
        return render_delete_script(table)
    return render_apply_script(desired)


def audit_reference_mode(live):
    """The mode an audit compares with: enforce when the live table drops anything, else permit."""
    rules = live["rules"] if live else []
    return "enforce" if any(rule.get("verdict") == "drop" for rule in rules) else "permit"


def plan(policy, live, answers=None, errors=None):
    """Everything a run decides, from the policy, the parsed live table and the DNS answers.

    Returns the comparison (changed, before, after, added, removed), the
    resolution report (resolved, skipped_domains, warnings), ``desired``,
    ``ruleset`` (the desired table as nft text) and ``script`` (the one nft
    transaction to apply, None when there is nothing to do). In audit mode
    ``compliant`` says whether the live table implements the policy, in
    permit or in enforce form, and nothing is to be applied.
    """
    auditing = policy["mode"] == "audit"
    effective = dict(policy, mode=audit_reference_mode(live)) if auditing else policy
    desired, report = build_desired_state(effective, answers, errors)
    result = compare_states(live, desired)
    result.update(report, desired=desired, ruleset=render_ruleset(desired))
    if auditing:
        result.update(compliant=not result["changed"], changed=False, script=None)
    else:
        result["script"] = transaction(live, desired, policy["table"])
    return result


# ---------------------------------------------------------------------------
# Gathered: the live table as module arguments
# ---------------------------------------------------------------------------

def _group_of(set_name):
    return set_name[:-3]


def _set_entries(state, group):
    return [element for suffix in ("_v4", "_v6") for element in state["sets"].get(group + suffix, {}).get("elements", [])]


def state_to_policy(state):
    """The live table as the module's policy arguments (round-trips through build_desired_state); None when absent."""
    if state is None:
        return None
    chain = state["chain"] or {}
    known = [rule for rule in state["rules"] if "unknown" not in rule]
    accepts = [rule for rule in known if rule["verdict"] == "accept" and rule["comment"] is not None]
    rules = {}
    for rule in accepts:
        entry = rules.setdefault(rule["comment"], {"name": rule["comment"], "protocol": rule["protocol"],
                                                   "ports": _port_specs(rule["ports"] or []), "destinations": []})
        if _group_of(rule["daddr"]) not in entry["destinations"]:
            entry["destinations"].append(_group_of(rule["daddr"]))
    groups = sorted(set(_group_of(name) for name in state["sets"]) - {SOURCES})
    return {
        "table": state["table"],
        "hook": chain.get("hook"),
        "priority": chain.get("priority"),
        "mode": audit_reference_mode(state),
        "permit_mark": accepts[0]["mark"] if accepts else DEFAULT_MARK,
        "source_networks": _set_entries(state, SOURCES),
        "destinations": {group: _set_entries(state, group) for group in groups},
        "rules": list(rules.values()),
    }


def unrecognised_items(state):
    """The JSON of every rule and object in the live table that this module did not write."""
    if state is None:
        return []
    return [rule["unknown"] for rule in state["rules"] if "unknown" in rule] + list(state["unknown"])


def _port_specs(ranges):
    return [lo if lo == hi else "%d-%d" % (lo, hi) for lo, hi in ranges]


# ---------------------------------------------------------------------------
# Commit-confirm rollback
# ---------------------------------------------------------------------------

def _rollback_header(table, deadline):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
    return ROLLBACK_HEADER.format(table=table, deadline=int(deadline), when=when) + "\n"


def render_rollback_script(table, previous_listing, deadline):
    """The nft script that restores the table as it was: its ``nft list table`` text, or no table."""
    body = render_delete_script(table) + (previous_listing or "")
    return _rollback_header(table, deadline) + body + ("" if body.endswith("\n") else "\n")


def rearm_rollback_script(script, table, deadline):
    """A pending rollback script with a new deadline; it keeps restoring the last confirmed table."""
    lines = script.splitlines(True)
    body = "".join(lines[1:]) if lines and ROLLBACK_DEADLINE.match(lines[0]) else script
    return _rollback_header(table, deadline) + body


def rollback_deadline(script):
    """The epoch deadline written in a rollback script's header, or None."""
    match = ROLLBACK_DEADLINE.match(script or "")
    return int(match.group(1)) if match else None


def rollback_command(shell, nft, script_path, seconds, marker_path):
    """The argv that starts the detached restore timer and returns at once."""
    return [shell, "-c", ROLLBACK_LAUNCHER, shell, ROLLBACK_SHELL, str(seconds), script_path, marker_path, nft]


def rollback_file_prefix(table):
    return "nft_egress-%s." % table


def rollback_marker_name(table):
    return "nft_egress-%s.rolledback" % table
