# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress policy: validate the arguments, build the desired table, and read a live one back as config.

The table ``inet dlegate_egress`` has one base chain ``egress`` (policy accept)
at the output (endpoints) or forward (gateways) hook. Each destination group is
two interval sets ``<group>_v4`` and ``<group>_v6``; each rule becomes one
accept-and-mark rule per group and family. In enforce mode, drop rules with
counters follow for every group.
"""

from __future__ import annotations

import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.addresses import networks_field, port_list, port_specs
from ansible_collections.dlegate.rtc.plugins.module_utils.common.destinations import (
    RESERVED_GROUP as SOURCES,
    empty_report,
    group_networks,
    names_to_resolve,
    normalize_groups,
    normalize_resolution,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.egress.argspec import (
    DEFAULT_MARK,
    DEFAULT_PRIORITY,
    DEFAULT_TABLE,
    HOOKS,
    MODES,
    PROTOCOLS,
    STATES,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import table as nft
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.resource import plan_table
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import SUFFIXES, empty_rule

CHAIN = "egress"
domains_to_resolve = names_to_resolve
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
RULE_KEYS = ("name", "protocol", "ports", "destinations")


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def _rule(raw, index, groups):
    field = "config.rules[%d]" % index
    if not isinstance(raw, dict):
        raise FieldError(field, "must be a dict with name, protocol, ports and destinations")
    check.known_keys({k: v for k, v in raw.items() if v is not None}, field, RULE_KEYS)
    name = check.identifier(raw.get("name"), field + ".name", "rule name")
    protocol = raw.get("protocol")
    if protocol not in PROTOCOLS:
        raise FieldError(field + ".protocol", "%s is not allowed; choose one of tcp, udp" % check.short(protocol))
    ports = port_list(raw.get("ports"), field + ".ports")
    targets = raw.get("destinations")
    if not isinstance(targets, list) or not targets:
        raise FieldError(field + ".destinations", "must be a non-empty list of group names from destinations")
    for target in targets:
        if not isinstance(target, str) or target not in groups:
            raise FieldError(field + ".destinations", "%s is not a group of destinations (known: %s)"
                             % (check.short(target), ", ".join(groups) or "none"))
    return {"name": name, "protocol": protocol, "ports": ports, "destinations": list(dict.fromkeys(targets))}


def _rules(config, groups):
    value = config.get("rules") or []
    if not isinstance(value, list):
        raise FieldError("config.rules", "must be a list of dicts with name, protocol, ports and destinations")
    return check.unique_names([_rule(raw, i, groups) for i, raw in enumerate(value)], "config.rules", "rule")


def _table(config):
    table = DEFAULT_TABLE if config.get("table") is None else config["table"]
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise FieldError("config.table", "%s is not a valid table name; use a letter followed by up to 63 "
                                         "letters, digits or underscores" % check.short(table))
    return table


def _prefixed(config):
    """The config's keys as the field names errors report (``config.mode``)."""
    return {"config.%s" % key: value for key, value in config.items()}


def normalize_policy(params):
    """Validate the module's arguments; return the policy or raise FieldError(field, message)."""
    config = params.get("config") or {}
    if not isinstance(config, dict):
        raise FieldError("config", "must be a dict (table, hook, priority, mode, permit_mark, source_networks, "
                                   "destinations, rules)")
    policy = dict(
        normalize_resolution(params),
        state=check.choice(params, "state", STATES, "present"),
    )
    policy.update({
        "rollback_timeout": check.int_in(params, "rollback_timeout", 0, 0, 86400),
        "table": _table(config),
        "mode": check.choice(_prefixed(config), "config.mode", MODES, "permit"),
        "hook": check.choice(_prefixed(config), "config.hook", HOOKS, "output"),
        "priority": check.int_in(_prefixed(config), "config.priority", DEFAULT_PRIORITY, -2 ** 31, 2 ** 31 - 1),
        "permit_mark": check.int_in(_prefixed(config), "config.permit_mark", DEFAULT_MARK, 0, 0xFFFFFFFF),
        "source_networks": networks_field(check.string_list(_prefixed(config), "config.source_networks"), "config.source_networks"),
        "destinations": normalize_groups(config.get("destinations"), "config.destinations"),
    })
    policy["rules"] = _rules(config, policy["destinations"])
    if policy["source_networks"] and policy["hook"] != "forward":
        raise FieldError("config.source_networks", "restricts forwarded traffic; it is only allowed with hook=forward")
    return policy


# ---------------------------------------------------------------------------
# From policy to desired state
# ---------------------------------------------------------------------------

def _accept_rules(policy, has_sources):
    rules = []
    for rule in policy["rules"]:
        for group in rule["destinations"]:
            for family, suffix in SUFFIXES.items():
                rules.append(dict(empty_rule(), comment=rule["name"], family=family,
                                  saddr=SOURCES + suffix if has_sources else None, daddr=group + suffix,
                                  protocol=rule["protocol"], dport=[list(r) for r in rule["ports"]],
                                  mark=policy["permit_mark"], verdict="accept"))
    return rules


def _drop_rules(groups):
    return [dict(empty_rule(), comment="enforce %s" % group, family=family, daddr=group + suffix,
                 counter=True, verdict="drop")
            for group in sorted(groups) for family, suffix in SUFFIXES.items()]


def build_desired_state(policy, answers=None, errors=None):
    """The table the policy asks for, given DNS ``answers`` (name -> addresses) and ``errors`` (name -> reason).

    Returns (state, report); state is None for state=absent. The report holds
    ``resolved``, ``skipped_domains``, ``rejected_answers`` and ``warnings``.
    Raises FieldError when a name did not resolve and unresolved=fail.
    """
    report = empty_report()
    if policy["state"] == "absent":
        return None, report
    state = nft.empty_state(policy["table"], nft.base_chain(CHAIN, policy["hook"], policy["priority"]))
    for name, group in policy["destinations"].items():
        state["sets"].update(nft.family_sets(name, group_networks(group, policy, answers or {}, errors or {}, report)))
    if policy["source_networks"]:
        state["sets"].update(nft.family_sets(SOURCES, policy["source_networks"]))
    state["rules"] = _accept_rules(policy, bool(policy["source_networks"]))
    if policy["mode"] == "enforce":
        state["rules"].extend(_drop_rules(policy["destinations"]))
    return state, report


def plan(policy, live, answers=None, errors=None):
    """Everything a run decides: desired state, per-item differences, the transaction, the DNS report."""
    desired, report = build_desired_state(policy, answers, errors)
    return plan_table(desired, report, live, policy["table"])


# ---------------------------------------------------------------------------
# Gathered and parsed: a table as config
# ---------------------------------------------------------------------------

def _group_of(set_name):
    return set_name[:-3]


def _set_entries(state, group):
    return [element for suffix in SUFFIXES.values() for element in state["sets"].get(group + suffix, {}).get("elements", [])]


def state_to_config(state):
    """A table as the module's ``config`` (round-trips through build_desired_state); None when absent."""
    if state is None:
        return None
    chain = state["chain"] or {}
    known = [rule for rule in state["rules"] if "unknown" not in rule]
    accepts = [rule for rule in known if rule["verdict"] == "accept" and rule["comment"] is not None
               and rule["daddr"] and rule["dport"]]
    rules = {}
    for rule in accepts:
        entry = rules.setdefault(rule["comment"], {"name": rule["comment"], "protocol": rule["protocol"],
                                                   "ports": port_specs(rule["dport"] or []), "destinations": []})
        if rule["daddr"] and _group_of(rule["daddr"]) not in entry["destinations"]:
            entry["destinations"].append(_group_of(rule["daddr"]))
    groups = sorted(set(_group_of(name) for name in state["sets"]) - {SOURCES})
    return {
        "table": state["table"],
        "hook": chain.get("hook"),
        "priority": chain.get("priority"),
        "mode": "enforce" if any(rule.get("verdict") == "drop" for rule in known) else "permit",
        "permit_mark": accepts[0]["mark"] if accepts else DEFAULT_MARK,
        "source_networks": _set_entries(state, SOURCES),
        "destinations": {group: _set_entries(state, group) for group in groups},
        "rules": list(rules.values()),
    }


def parse_live(data, table):
    """The egress table in nft JSON (``list table`` or ``list ruleset``); None when absent."""
    return nft.parse_table(data, table, CHAIN)


def drop_counters(data, table):
    return nft.drop_counters(data, table, CHAIN)
