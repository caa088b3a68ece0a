# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Destination groups: the service's addresses, CIDRs and DNS names, and how names become networks.

Shared by every module that matches the service's destinations (egress, DSCP
marking). Names are resolved on the managed host; answers that cannot be a
service address (special-use ranges, the site's sinkhole) are rejected and
reported per name.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.addresses import (
    address_field,
    destination,
    is_dns_name,
    networks_field,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError

UNRESOLVED = ["fail", "skip"]
RESERVED_GROUP = "sources"

# The module options that say how names are resolved; shared by every module that takes destinations.
RESOLUTION_SPEC = dict(
    unresolved=dict(type="str", default="fail", choices=UNRESOLVED),
    nameservers=dict(type="list", elements="str", default=[]),
    resolve_timeout=dict(type="float", default=5.0),
    resolved=dict(type="dict", default={}),
    sinkhole_networks=dict(type="list", elements="str", default=[]),
    allow_special_answers=dict(type="bool", default=False),
)


def normalize_groups(value, field):
    """{group: {"networks": [...], "names": [...]}} from {group: [address, CIDR or name, ...]}."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise FieldError(field, "must be a dict of group name to addresses, CIDRs or DNS names")
    groups = {}
    for group, entries in value.items():
        where = "%s.%s" % (field, group)
        check.identifier(group, where, "group name")
        if group == RESERVED_GROUP:
            raise FieldError(where, "the group name %r is reserved for source_networks" % RESERVED_GROUP)
        if not isinstance(entries, list):
            raise FieldError(where, "must be a list of addresses, CIDRs or DNS names")
        parsed = [destination(entry, "%s[%d]" % (where, i)) for i, entry in enumerate(entries)]
        groups[group] = {"networks": [item for kind, item in parsed if kind == "network"],
                         "names": list(dict.fromkeys(item for kind, item in parsed if kind == "name"))}
    return groups


def _resolved(params):
    resolved = {}
    for name, addresses in check.mapping(params, "resolved", "DNS name to a list of addresses").items():
        field = "resolved.%s" % name
        if not isinstance(name, str) or not is_dns_name(name.lower()):
            raise FieldError(field, "%s is not a valid DNS name" % check.short(name))
        if not isinstance(addresses, list):
            raise FieldError(field, "must be a list of IPv4/IPv6 addresses")
        resolved[name.lower().rstrip(".")] = [address_field(a, "%s[%d]" % (field, i)) for i, a in enumerate(addresses)]
    return resolved


def normalize_resolution(params):
    """The validated options of RESOLUTION_SPEC."""
    return {
        "unresolved": check.choice(params, "unresolved", UNRESOLVED, "fail"),
        "nameservers": [address_field(a, "nameservers[%d]" % i)
                        for i, a in enumerate(check.string_list(params, "nameservers"))],
        "resolve_timeout": check.number_in(params, "resolve_timeout", 5.0, 0, 300),
        "resolved": _resolved(params),
        "sinkhole_networks": networks_field(check.string_list(params, "sinkhole_networks"), "sinkhole_networks"),
        "allow_special_answers": check.flag(params, "allow_special_answers"),
    }


def names_to_resolve(policy):
    """The DNS names to look up on the host: all names of all groups not given in ``resolved``."""
    if policy["state"] != "present":
        return []
    names = [name for group in policy["destinations"].values() for name in group["names"]]
    return sorted(set(names) - set(policy["resolved"]))


def empty_report():
    return {"resolved": {}, "skipped_domains": [], "rejected_answers": {}, "warnings": []}


def judge_answers(name, addresses, policy, report):
    """The usable answers for ``name``; special-use and sinkhole answers are rejected and reported."""
    judged = dns.judge_answers({name: {"addresses": addresses}}, policy["sinkhole_networks"],
                               policy["allow_special_answers"])[name]
    if name in report["rejected_answers"]:
        return judged["usable"]  # a name in several groups is reported once
    for rejected in judged["rejected"]:
        report["rejected_answers"].setdefault(name, []).append(rejected)
        hint = "" if rejected["reason"].startswith("sinkhole") else "; set allow_special_answers to use it"
        report["warnings"].append("%s answered %s (%s): not a service address, it is left out%s"
                                  % (name, rejected["address"], rejected["reason"], hint))
    return judged["usable"]


def group_networks(group, policy, answers, errors, report):
    """The networks of one group; names that did not resolve are skipped or fail (FieldError)."""
    networks = list(group["networks"])
    offline = policy["state"] in ("rendered", "parsed")
    skip = policy["unresolved"] == "skip" or offline
    for name in group["names"]:
        given = policy["resolved"].get(name)
        addresses = given if given is not None else judge_answers(name, answers.get(name) or [], policy, report)
        if addresses:
            report["resolved"][name] = list(addresses)
            networks.extend(ipaddress.ip_network(address) for address in addresses)
            continue
        if name in report["rejected_answers"]:
            reason = "only special-use answers"
        else:
            reason = errors.get(name) or ("not given in resolved" if offline else "no A or AAAA record")
        if not skip:
            raise FieldError("config.destinations", "%r did not resolve to a usable address (%s); fix the name or "
                                                    "set unresolved=skip" % (name, reason))
        if name not in report["skipped_domains"]:
            report["skipped_domains"].append(name)
            report["warnings"].append("%s did not resolve (%s); it is left out of the policy" % (name, reason))
    return networks
