# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of a module that owns one nftables table, for the five resource states.

A feature supplies a :class:`TableFeature`: how to validate its arguments, parse
its table, plan it, and read a table back as config. This module then does the
rest the same way for every such module (the shape of ansible.posix's firewalld
transaction): resolve the destination names on the host, take the table's lock,
read the live table, plan, report ``compliant``/``differences``/``diff`` (check
mode included), and apply behind a proven rollback timer.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns
from ansible_collections.dlegate.rtc.plugins.module_utils.common.destinations import names_to_resolve
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.result import resource_result
from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import RollbackError, rollback_fields
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import FAMILY
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.host import (
    NFT,
    apply_table,
    parse_or_fail,
    read_live,
    rollback_store,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.table import (
    differences,
    render_table,
    transaction,
    unrecognised_items,
)


class TableFeature(object):
    """What a feature's core provides. ``plan`` returns the keys of :func:`plan_table`'s result."""

    def normalize(self, params):
        raise NotImplementedError

    def parse(self, data, table):
        raise NotImplementedError

    def plan(self, policy, live, answers, errors):
        raise NotImplementedError

    def to_config(self, state):
        raise NotImplementedError

    def has_policy(self, policy):
        """Whether a parsed run was given a policy to judge the evidence against."""
        return True

    def extra_result(self, module, nft, policy, listing):
        """Feature-specific results of a present or absent run (counters, shadowing...)."""
        return {}

    def gathered_extra(self, listing, table):
        return {}


def fail_on_field(module, exc):
    module.fail_json(msg=str(exc), field=exc.field)


def resolve(module, policy):
    """DNS answers and errors, keyed by name, for the names the policy must resolve on this host."""
    names = names_to_resolve(policy)
    if not names:
        return {}, {}
    if not dns.HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=dns.DNSPYTHON_IMPORT_ERROR)
    try:
        resolution = dns.resolve_names(names, policy["nameservers"], policy["resolve_timeout"])
    except dns.ResolverUnavailable as exc:
        module.fail_json(msg="%s; set nameservers" % exc)
    return dns.answers_and_errors(resolution)


class TableResource(object):
    def __init__(self, module, feature):
        self.module = module
        self.feature = feature

    def decide(self, policy, live, answers=None, errors=None):
        try:
            decision = self.feature.plan(policy, live, answers or {}, errors or {})
        except FieldError as exc:
            fail_on_field(self.module, exc)
        for warning in decision["warnings"]:
            self.module.warn(warning)
        return decision

    def judged(self, policy, decision):
        return resource_result(decision["differences"], decision["before"], decision["after"], self.module._diff,
                               "table %s %s" % (FAMILY, policy["table"]))

    def parser(self, policy):
        return lambda data: self.feature.parse(data, policy["table"])

    def run(self):
        try:
            policy = self.feature.normalize(self.module.params)
        except FieldError as exc:
            fail_on_field(self.module, exc)
        getattr(self, "run_" + policy["state"])(policy)

    def run_rendered(self, policy):
        decision = self.decide(policy, None)
        self.module.exit_json(changed=False, rendered=decision["after"], resolved=decision["resolved"],
                              skipped_domains=decision["skipped_domains"])

    def run_parsed(self, policy):
        live = parse_or_fail(self.module, self.parser(policy), self.module.params["running_config"], "running_config")
        result = dict(changed=False, parsed=self.feature.to_config(live), unrecognised=unrecognised_items(live))
        if self.feature.has_policy(policy):
            decision = self.decide(policy, live)
            judged = self.judged(policy, decision)
            result.update(compliant=judged["compliant"], differences=judged["differences"],
                          resolved=decision["resolved"], skipped_domains=decision["skipped_domains"])
        self.module.exit_json(**result)

    def run_gathered(self, policy):
        nft = NFT.bind(self.module)
        listing, live = read_live(self.module, nft, policy["table"], self.parser(policy))
        self.module.exit_json(changed=False, gathered=self.feature.to_config(live),
                              unrecognised=unrecognised_items(live),
                              **dict(self.feature.gathered_extra(listing, policy["table"]),
                                     **rollback_fields(self.module, rollback_store(policy["table"]))))

    def run_present(self, policy):
        nft = NFT.bind(self.module)
        answers, errors = resolve(self.module, policy)
        store = rollback_store(policy["table"])
        try:
            with store.locked():
                listing, live = read_live(self.module, nft, policy["table"], self.parser(policy))
                decision = self.decide(policy, live, answers, errors)
                result = self.judged(policy, decision)
                result.update(ruleset=decision["after"], resolved=decision["resolved"],
                              skipped_domains=decision["skipped_domains"],
                              rejected_answers=decision["rejected_answers"], rollback_token=None)
                result.update(self.feature.extra_result(self.module, nft, policy, listing))
                if decision["script"] and not self.module.check_mode:
                    result["rollback_token"] = apply_table(self.module, nft, store, policy["table"], decision,
                                                           policy["rollback_timeout"])
                result.update(rollback_fields(self.module, store))
        except RollbackError as exc:
            self.module.fail_json(msg=str(exc))
        self.module.exit_json(**result)

    run_absent = run_present


def plan_table(desired, report, live, table):
    """The decision every table feature returns: its report plus the comparison and the transaction."""
    return dict(report, desired=desired, live=live, differences=differences(live, desired),
                before=render_table(live), after=render_table(desired), script=transaction(live, desired, table))
