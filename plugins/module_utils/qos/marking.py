# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DSCP marking of the service's traffic in the collection's table ``inet dlegate_qos``.

One base chain ``marking`` at the postrouting hook (priority mangle, -150), so it
sees both a host's own packets and those a gateway forwards, after routing and
before the egress qdisc classifies them by DSCP. Rules set DSCP and never drop:

* with ``clear_untrusted`` (gateways), the DSCP of everything from the
  ``source_networks`` is first set to 0 (CS0), so endpoints cannot claim priority;
* then each class, in order, sets its DSCP on the packets it matches (by
  protocol, destination group, destination ports and client source ports).
  A later class wins over an earlier one, so list general classes first.
"""

from __future__ import annotations

import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.addresses import networks_field, port_list, port_specs
from ansible_collections.dlegate.rtc.plugins.module_utils.common.destinations import (
    RESERVED_GROUP as SOURCES,
    empty_report,
    group_networks,
    normalize_groups,
    normalize_resolution,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import table as nft
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import DSCP_NAMES, SUFFIXES, empty_rule
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.resource import plan_table

CHAIN = "marking"
HOOK = "postrouting"
DEFAULT_TABLE = "dlegate_qos"
DEFAULT_PRIORITY = -150
CLEAR = "clear_untrusted"
STATES = ["present", "absent", "rendered", "gathered", "parsed"]
PROTOCOLS = ["tcp", "udp"]
CLASS_KEYS = ("name", "dscp", "protocol", "ports", "source_ports", "destinations")
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

# The DSCP values of RFC 8837 (WebRTC) and the Cisco baseline for signalling.
DEFAULT_DSCP = {"audio": 46, "video": 34, "screen_share": 18, "signaling": 24}

CLASS_SPEC = dict(
    name=dict(type="str", required=True),
    dscp=dict(type="raw", required=True),
    protocol=dict(type="str", choices=PROTOCOLS),
    ports=dict(type="list", elements="raw"),
    source_ports=dict(type="list", elements="raw"),
    destinations=dict(type="list", elements="str"),
)
CONFIG_SPEC = dict(
    table=dict(type="str", default=DEFAULT_TABLE),
    priority=dict(type="int", default=DEFAULT_PRIORITY),
    source_networks=dict(type="list", elements="str", default=[]),
    clear_untrusted=dict(type="bool", default=False),
    destinations=dict(type="dict", default={}),
    classes=dict(type="list", elements="dict", default=[], options=CLASS_SPEC),
)


def dscp_value(value, field):
    """A DSCP code point from 0-63 or a name (ef, af41, cs3...)."""
    if isinstance(value, str) and value.strip().lower() in DSCP_NAMES:
        return DSCP_NAMES[value.strip().lower()]
    try:
        return check.integer(value, field, 0, 63)
    except FieldError:
        raise FieldError(field, "%s is not a DSCP value; use 0-63 or a name such as ef, af41, af21, cs3"
                         % check.short(value))


def _class(raw, index, groups):
    field = "config.classes[%d]" % index
    if not isinstance(raw, dict):
        raise FieldError(field, "must be a dict with name, dscp and what to match")
    given = {key: value for key, value in raw.items() if value is not None}
    check.known_keys(given, field, CLASS_KEYS)
    item = {"name": check.identifier(given.get("name"), field + ".name", "class name"),
            "dscp": dscp_value(given.get("dscp"), field + ".dscp"),
            "protocol": given.get("protocol"),
            "ports": port_list(given["ports"], field + ".ports") if "ports" in given else None,
            "source_ports": port_list(given["source_ports"], field + ".source_ports") if "source_ports" in given else None,
            "destinations": list(dict.fromkeys(given.get("destinations") or []))}
    if item["protocol"] not in PROTOCOLS + [None]:
        raise FieldError(field + ".protocol", "%s is not allowed; choose one of tcp, udp" % check.short(item["protocol"]))
    if (item["ports"] or item["source_ports"]) and not item["protocol"]:
        raise FieldError(field + ".protocol", "is required with ports or source_ports")
    for target in item["destinations"]:
        if target not in groups:
            raise FieldError(field + ".destinations", "%s is not a group of destinations (known: %s)"
                             % (check.short(target), ", ".join(groups) or "none"))
    if not (item["protocol"] or item["destinations"]):
        raise FieldError(field, "matches every packet; give a protocol, ports or destinations")
    return item


def _classes(config, groups):
    value = config.get("classes") or []
    if not isinstance(value, list):
        raise FieldError("config.classes", "must be a list of dicts with name, dscp and what to match")
    classes = [_class(raw, i, groups) for i, raw in enumerate(value)]
    return check.unique_names(classes, "config.classes", "class", reserved=(CLEAR,))


def _config_field(config, key):
    return {"config.%s" % key: config.get(key)}


def normalize_policy(params):
    """Validate the module's arguments; return the policy or raise FieldError(field, message)."""
    config = params.get("config") or {}
    if not isinstance(config, dict):
        raise FieldError("config", "must be a dict (table, priority, source_networks, clear_untrusted, destinations, "
                                   "classes)")
    table = DEFAULT_TABLE if config.get("table") is None else config["table"]
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise FieldError("config.table", "%s is not a valid table name; use a letter followed by up to 63 letters, "
                                         "digits or underscores" % check.short(table))
    policy = dict(normalize_resolution(params),
                  state=check.choice(params, "state", STATES, "present"),
                  rollback_timeout=check.int_in(params, "rollback_timeout", 0, 0, 86400),
                  table=table,
                  priority=check.int_in(_config_field(config, "priority"), "config.priority", DEFAULT_PRIORITY,
                                        -2 ** 31, 2 ** 31 - 1),
                  source_networks=networks_field(check.string_list(_config_field(config, "source_networks"),
                                                                   "config.source_networks"), "config.source_networks"),
                  clear_untrusted=check.flag(_config_field(config, "clear_untrusted"), "config.clear_untrusted"),
                  destinations=normalize_groups(config.get("destinations"), "config.destinations"))
    policy["classes"] = _classes(config, policy["destinations"])
    if policy["clear_untrusted"] and not policy["source_networks"]:
        raise FieldError("config.clear_untrusted", "needs source_networks: the networks whose marks are not trusted")
    return policy


def _rule(name, family, dscp, saddr=None, daddr=None, protocol=None, dport=None, sport=None):
    return dict(empty_rule(), comment=name, family=family, dscp=dscp, saddr=saddr, daddr=daddr, protocol=protocol,
                dport=[list(r) for r in dport] if dport else None, sport=[list(r) for r in sport] if sport else None)


def _class_rules(item, has_sources):
    rules = []
    for family, suffix in SUFFIXES.items():
        saddr = SOURCES + suffix if has_sources else None
        for group in item["destinations"] or [None]:
            rules.append(_rule(item["name"], family, item["dscp"], saddr=saddr,
                               daddr=group + suffix if group else None, protocol=item["protocol"],
                               dport=item["ports"], sport=item["source_ports"]))
    return rules


def build_desired_state(policy, answers=None, errors=None):
    """The marking table the policy asks for; (state, report), state None for state=absent."""
    report = empty_report()
    if policy["state"] == "absent":
        return None, report
    state = nft.empty_state(policy["table"], nft.base_chain(CHAIN, HOOK, policy["priority"]))
    for name, group in policy["destinations"].items():
        state["sets"].update(nft.family_sets(name, group_networks(group, policy, answers or {}, errors or {}, report)))
    has_sources = bool(policy["source_networks"])
    if has_sources:
        state["sets"].update(nft.family_sets(SOURCES, policy["source_networks"]))
    if policy["clear_untrusted"]:
        state["rules"].extend(_rule(CLEAR, family, 0, saddr=SOURCES + suffix) for family, suffix in SUFFIXES.items())
    for item in policy["classes"]:
        state["rules"].extend(_class_rules(item, has_sources))
    return state, report


def plan(policy, live, answers=None, errors=None):
    desired, report = build_desired_state(policy, answers, errors)
    return plan_table(desired, report, live, policy["table"])


def parse_live(data, table):
    return nft.parse_table(data, table, CHAIN)


def _set_entries(state, group):
    return [element for suffix in SUFFIXES.values() for element in state["sets"].get(group + suffix, {}).get("elements", [])]


def state_to_config(state):
    """A marking table as the module's ``config``; None when absent."""
    if state is None:
        return None
    known = [rule for rule in state["rules"] if "unknown" not in rule and rule["comment"]]
    classes = {}
    for rule in known:
        if rule["comment"] == CLEAR:
            continue
        item = classes.setdefault(rule["comment"], {"name": rule["comment"], "dscp": rule["dscp"],
                                                    "protocol": rule["protocol"], "destinations": []})
        if rule["dport"]:
            item["ports"] = port_specs(rule["dport"])
        if rule["sport"]:
            item["source_ports"] = port_specs(rule["sport"])
        group = rule["daddr"][:-3] if rule["daddr"] else None
        if group and group not in item["destinations"]:
            item["destinations"].append(group)
    groups = sorted(set(name[:-3] for name in state["sets"]) - {SOURCES})
    return {"table": state["table"], "priority": (state["chain"] or {}).get("priority"),
            "source_networks": _set_entries(state, SOURCES),
            "clear_untrusted": any(rule["comment"] == CLEAR for rule in known),
            "destinations": {group: _set_entries(state, group) for group in groups},
            "classes": list(classes.values())}
