# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the dlegate.rtc.nft_egress module: main() against a fake nft that records its calls."""

from __future__ import annotations

import json
import os
import time

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dlegate.rtc.plugins.module_utils import nft_egress as core
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture, policy_args
from ansible_collections.dlegate.rtc.plugins.modules import nft_egress

NFT = "/usr/sbin/nft"
EMPTY = {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5",
                                    "json_schema_version": 1}}]}


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeNft:
    """Stands in for run_command: answers nft's reads from a fixture and records every call."""

    def __init__(self, ruleset=None, listing="", apply_rc=0, apply_err="", list_rc=0, list_err=""):
        self.ruleset = EMPTY if ruleset is None else ruleset
        self.listing, self.apply_rc, self.apply_err = listing, apply_rc, apply_err
        self.list_rc, self.list_err = list_rc, list_err
        self.calls = []

    def __call__(self, module, args, data=None, **kwargs):
        assert args[0] == NFT
        self.calls.append((args[1:], data))
        if args[1:] == ["-j", "list", "ruleset"]:
            return self.list_rc, json.dumps(self.ruleset), self.list_err
        if args[1:] == ["-f", "-"]:
            return self.apply_rc, "", self.apply_err
        if args[1:4] == ["list", "table", "inet"]:
            return 0, self.listing, ""
        raise AssertionError("unexpected nft call %r" % (args,))

    @property
    def commands(self):
        return [call[0] for call in self.calls]

    @property
    def applied(self):
        return [data for args, data in self.calls if args == ["-f", "-"]]


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A fake host: nft at NFT, the rollback directory in tmp_path, the detached process recorded."""
    state = {"nft": FakeNft(), "bin": NFT, "warnings": [], "spawned": []}

    def exit_json(module, **result):
        raise Exited(dict(result, warnings=list(state["warnings"])))

    def fail_json(module, msg, **result):
        raise Failed(dict(result, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, text: state["warnings"].append(text))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda module, name, *a, **k: state["bin"])

    def run_command(module, args, **kwargs):
        return state["nft"](module, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(nft_egress, "RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(nft_egress, "spawn_rollback", lambda module, *args: state["spawned"].append(args))
    return state


def run(args, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises((Exited, Failed)) as outcome:
            nft_egress.main()
    return outcome.value


def result_of(args, **kwargs):
    outcome = run(args, **kwargs)
    assert isinstance(outcome, Exited), outcome.result.get("msg")
    return outcome.result


def failure_of(args, **kwargs):
    outcome = run(args, **kwargs)
    assert isinstance(outcome, Failed), outcome.result
    return outcome.result


PERMIT = policy_args("permit_output")


def desired_text(args):
    state = core.build_desired_state(core.normalize_policy(args))[0]
    return core.render_apply_script(state)


# ---------------------------------------------------------------------------
# present: create, idempotence, check mode, diff
# ---------------------------------------------------------------------------

def test_present_creates_the_table_in_one_transaction(host):
    result = result_of(PERMIT)
    assert result["changed"] is True
    assert host["nft"].applied == [desired_text(PERMIT)]
    assert result["ruleset"] == desired_text(PERMIT).split("\n", 2)[2]
    assert result["removed"] == [] and "table inet dlegate_egress {" in result["added"]
    assert result["resolved"] == PERMIT["resolved"] and result["skipped_domains"] == []
    assert result["rollback_pending"] is False and result["confirmed"] is False


def test_check_mode_computes_the_change_and_applies_nothing(host):
    result = result_of(PERMIT, check=True)
    assert result["changed"] is True and "table inet dlegate_egress {" in result["added"]
    assert host["nft"].applied == []
    assert host["nft"].commands == [["-j", "list", "ruleset"]]


@pytest.mark.parametrize("check", [False, True])
def test_second_run_with_live_equal_to_desired_changes_nothing(host, check):
    host["nft"] = FakeNft(fixture("permit_output"))
    result = result_of(PERMIT, check=check)
    assert (result["changed"], result["added"], result["removed"]) == (False, [], [])
    assert host["nft"].applied == []


def test_diff_mode_shows_only_the_real_difference(host):
    host["nft"] = FakeNft(fixture("edited_element_changed"))
    result = result_of(PERMIT, diff=True)
    assert result["changed"] is True
    assert (result["added"], result["removed"]) == (["198.51.100.20,"], ["198.51.100.21,"])
    before, after = result["diff"]["before"].splitlines(), result["diff"]["after"].splitlines()
    assert len(before) == len(after) and sum(a != b for a, b in zip(before, after)) == 1
    assert host["nft"].applied == [desired_text(PERMIT)]


def test_a_rule_added_by_hand_is_reported_and_removed(host):
    host["nft"] = FakeNft(fixture("edited_rule_added"))
    result = result_of(PERMIT)
    assert result["changed"] is True and result["added"] == []
    assert result["removed"][0].startswith('# unrecognised rule: {"rule":{"chain":"egress","comment":"ssh"')
    assert host["nft"].applied == [desired_text(PERMIT)]


def test_nft_rejecting_the_transaction_fails_clearly(host):
    host["nft"] = FakeNft(apply_rc=1, apply_err="Error: Could not process rule: Operation not supported\n")
    result = failure_of(PERMIT)
    assert result["msg"].startswith("nft rejected the apply transaction for table inet dlegate_egress, nothing "
                                    "was changed: Error: Could not process rule")


def test_reading_without_root_says_so(host):
    host["nft"] = FakeNft(list_rc=1, list_err="Error: Operation not permitted\n")
    result = failure_of(PERMIT)
    assert "nft -j list ruleset failed (rc=1)" in result["msg"] and "become: true" in result["msg"]
    assert host["nft"].applied == []


# ---------------------------------------------------------------------------
# Bad input, missing tools
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (dict(PERMIT, rules=[dict(PERMIT["rules"][0], ports=["5000-4000"])]), ["rules[0].ports[0]", "5000-4000"]),
    (dict(PERMIT, rules=[dict(PERMIT["rules"][0], ports=[0])]), ["rules[0].ports[0]", "1-65535"]),
    (dict(PERMIT, rules=[dict(PERMIT["rules"][0], destinations=["voice"])]), ["rules[0].destinations", "voice"]),
    (dict(PERMIT, destinations={"media": ["10.0.0.0/33"]}), ["destinations.media[0]", "10.0.0.0/33"]),
    (dict(PERMIT, destinations={"Media": []}), ["destinations.Media", "group name"]),
    (dict(PERMIT, rules=[dict(PERMIT["rules"][0], protocol="icmp")]), ["protocol", "tcp, udp"]),
    (dict(PERMIT, mode="strict"), ["mode", "permit, enforce, audit"]),
    (dict(PERMIT, rules=[{"name": "x", "protocol": "tcp", "ports": [443]}]), ["destinations"]),
])
def test_bad_input_fails_naming_the_field_and_touches_nothing(host, args, words):
    result = failure_of(args)
    for word in words:
        assert word in result["msg"]
    assert host["nft"].calls == []


def test_a_name_that_does_not_resolve_fails_before_any_change(host, monkeypatch):
    args = dict(PERMIT, resolved={})
    monkeypatch.setattr(nft_egress, "resolve_names", lambda module, policy: (
        {"signal.dlegate.example": ["203.0.113.10"]}, {"turn.dlegate.example": "A: NXDOMAIN; AAAA: NXDOMAIN"}))
    result = failure_of(args)
    assert result["field"] == "destinations" and "'turn.dlegate.example' did not resolve" in result["msg"]
    assert host["nft"].applied == []


def test_missing_nft_gives_the_install_hint(host):
    host["bin"] = None
    result = failure_of(PERMIT)
    assert result["msg"] == ("nft not found: install the nftables package "
                             "(apt-get install nftables / dnf install nftables)")


def test_missing_nft_in_audit_is_a_host_without_the_table(host):
    host["bin"] = None
    result = result_of(dict(PERMIT, mode="audit"))
    assert result["compliant"] is False and result["changed"] is False
    assert any("nft not found" in warning for warning in result["warnings"])


def test_missing_dnspython_is_reported_when_names_must_be_resolved(host, monkeypatch):
    monkeypatch.setattr(nft_egress, "HAS_DNSPYTHON", False)
    result = failure_of(dict(PERMIT, resolved={}))
    assert "dnspython" in result["msg"] and host["nft"].applied == []
    assert result_of(dict(PERMIT))["changed"] is True


# ---------------------------------------------------------------------------
# DNS on the managed host
# ---------------------------------------------------------------------------

class FakeResolver:
    answers = {("turn.dlegate.example", "A"): ["198.51.100.30"],
               ("turn.dlegate.example", "AAAA"): ["2001:db8:20::30"],
               ("signal.dlegate.example", "A"): ["203.0.113.10"]}
    made = []

    def __init__(self, configure=True):
        self.configure, self.nameservers = configure, None
        FakeResolver.made.append(self)

    def resolve(self, name, rdtype, search=None):
        import dns.resolver
        if name == "gone.dlegate.example":
            raise dns.resolver.NXDOMAIN()
        if (name, rdtype) not in self.answers:
            raise dns.resolver.NoAnswer()
        return [type("Record", (), {"address": address})() for address in self.answers[(name, rdtype)]]


def test_names_are_resolved_on_the_host_a_and_aaaa(host, monkeypatch):
    pytest.importorskip("dns.resolver")
    FakeResolver.made = []
    monkeypatch.setattr(nft_egress.dns.resolver, "Resolver", FakeResolver)
    args = dict(PERMIT, resolved={}, nameservers=["192.0.2.53"], unresolved="skip",
                destinations={"media": ["turn.dlegate.example", "signal.dlegate.example", "gone.dlegate.example"]},
                rules=[dict(PERMIT["rules"][1])])
    result = result_of(args, check=True)
    assert result["resolved"] == {"turn.dlegate.example": ["198.51.100.30", "2001:db8:20::30"],
                                  "signal.dlegate.example": ["203.0.113.10"]}
    assert result["skipped_domains"] == ["gone.dlegate.example"]
    assert any("gone.dlegate.example did not resolve (A: NXDOMAIN; AAAA: NXDOMAIN)" in w for w in result["warnings"])
    assert FakeResolver.made[0].configure is False and FakeResolver.made[0].nameservers == ["192.0.2.53"]


# ---------------------------------------------------------------------------
# rendered, gathered, audit, absent, enforce
# ---------------------------------------------------------------------------

def test_rendered_needs_neither_nft_nor_dns(host):
    host["bin"] = None
    result = result_of(dict(PERMIT, state="rendered", resolved={"turn.dlegate.example": ["198.51.100.30"]}))
    assert result["changed"] is False and "signal.dlegate.example" in result["skipped_domains"]
    assert result["ruleset"].startswith("table inet dlegate_egress {\n")
    assert host["nft"].calls == []


def test_gathered_returns_the_live_table_as_arguments(host):
    host["nft"] = FakeNft(fixture("enforce_forward"))
    result = result_of({"state": "gathered"})
    assert result["changed"] is False and host["nft"].applied == []
    gathered = result["gathered"]
    state = core.build_desired_state(core.normalize_policy(gathered))[0]
    assert state == core.parse_table(fixture("enforce_forward"))
    assert result["unrecognised"] == []


def test_gathered_without_a_table_is_null(host):
    assert result_of({"state": "gathered"})["gathered"] is None


@pytest.mark.parametrize("name, compliant", [("permit_output", True), ("edited_rule_removed", False)])
def test_audit_reports_and_never_changes(host, name, compliant):
    host["nft"] = FakeNft(fixture(name))
    result = result_of(dict(PERMIT, mode="audit"))
    assert result["compliant"] is compliant and result["changed"] is False
    assert bool(result["added"]) is not compliant
    assert host["nft"].applied == []


def test_absent_deletes_the_table_then_changes_nothing(host):
    host["nft"] = FakeNft(fixture("permit_output"))
    result = result_of({"state": "absent"})
    assert result["changed"] is True and host["nft"].applied == [core.render_delete_script("dlegate_egress")]
    host["nft"] = FakeNft()
    result = result_of({"state": "absent"})
    assert result["changed"] is False and host["nft"].applied == []


def test_enforce_reports_the_drop_counters(host):
    host["nft"] = FakeNft(fixture("enforce_counted"))
    result = result_of(policy_args("enforce_output"))
    assert result["changed"] is False
    assert result["counters"]["packets"] == 3 and result["counters"]["by_set"]["media_v4"]["bytes"] == 144


def test_shadowing_chains_are_reported_with_a_warning(host):
    host["nft"] = FakeNft(fixture("shadowing_ignored"))
    result = result_of(policy_args("enforce_forward"), check=True)
    assert [(c["table"], c["chain"]) for c in result["shadowing_chains"]] == [("site", "forward"),
                                                                              ("legacy", "FORWARD")]
    assert sum("does not honour the permit mark" in w for w in result["warnings"]) == 2
    host["nft"] = FakeNft(fixture("shadowing_honoured"))
    assert result_of(policy_args("enforce_forward"), check=True)["shadowing_chains"] == []


# ---------------------------------------------------------------------------
# Commit-confirm rollback
# ---------------------------------------------------------------------------

LISTING = "table inet dlegate_egress {\n\tchain egress {\n\t}\n}\n"


def rollback_files(tmp_path):
    run_dir = tmp_path / "run"
    return sorted(p.name for p in run_dir.iterdir()) if run_dir.exists() else []


def test_rollback_is_armed_before_the_apply_and_confirmed_later(host, tmp_path):
    host["nft"] = FakeNft(fixture("edited_rule_removed"), listing=LISTING)
    args = dict(PERMIT, rollback_timeout=30)
    started = int(time.time())
    result = result_of(args)
    assert result["changed"] is True and result["rollback_pending"] is True
    assert started + 30 <= result["rollback_deadline"] <= int(time.time()) + 30
    [name] = rollback_files(tmp_path)
    script_path = str(tmp_path / "run" / name)
    assert name.startswith("nft_egress-dlegate_egress.") and name.endswith(".rollback")
    with open(script_path) as handle:
        script = handle.read()
    assert script.split("\n", 1)[1] == "table inet dlegate_egress\ndelete table inet dlegate_egress\n" + LISTING
    assert host["spawned"] == [(NFT, script_path, 30, str(tmp_path / "run" / "nft_egress-dlegate_egress.rolledback"))]
    assert host["nft"].commands == [["-j", "list", "ruleset"], ["list", "table", "inet", "dlegate_egress"],
                                    ["-f", "-"]]

    host["nft"] = FakeNft(fixture("permit_output"))
    rerun = result_of(args)
    assert rerun["changed"] is False and rerun["rollback_pending"] is True
    assert rerun["rollback_deadline"] == result["rollback_deadline"] and len(host["spawned"]) == 1

    assert result_of({"confirm": True}, check=True)["confirmed"] is True and rollback_files(tmp_path) == [name]
    confirmed = result_of({"confirm": True})
    assert (confirmed["changed"], confirmed["confirmed"], confirmed["rollback_pending"]) == (False, True, False)
    assert rollback_files(tmp_path) == []
    assert result_of({"confirm": True})["confirmed"] is False


def test_rollback_of_a_new_table_restores_its_absence(host, tmp_path):
    result_of(dict(PERMIT, rollback_timeout=10))
    [name] = rollback_files(tmp_path)
    with open(str(tmp_path / "run" / name)) as handle:
        assert handle.read().split("\n", 1)[1] == core.render_delete_script("dlegate_egress")
    assert ["list", "table", "inet", "dlegate_egress"] not in host["nft"].commands


def test_a_second_change_keeps_restoring_the_last_confirmed_table(host, tmp_path):
    host["nft"] = FakeNft(fixture("edited_rule_removed"), listing=LISTING)
    result_of(dict(PERMIT, rollback_timeout=30))
    [first] = rollback_files(tmp_path)
    host["nft"] = FakeNft(fixture("permit_output"), listing="table inet dlegate_egress { }\n")
    result = result_of(dict(PERMIT, mode="enforce", rollback_timeout=60))
    [second] = rollback_files(tmp_path)
    assert second != first and result["rollback_pending"] is True
    with open(str(tmp_path / "run" / second)) as handle:
        assert handle.read().endswith(LISTING)
    assert host["spawned"][1][2] == 60


def test_failed_apply_cancels_the_rollback_it_armed(host, tmp_path):
    host["nft"] = FakeNft(apply_rc=1, apply_err="Error: syntax error\n")
    failure_of(dict(PERMIT, rollback_timeout=30))
    assert rollback_files(tmp_path) == []


def test_confirm_after_the_rollback_ran_fails(host, tmp_path):
    os.makedirs(str(tmp_path / "run"))
    with open(str(tmp_path / "run" / "nft_egress-dlegate_egress.rolledback"), "w") as handle:
        handle.write("rc=0 time=1767225600\n")
    result = failure_of({"confirm": True})
    assert "already ran (rc=0 time=1767225600)" in result["msg"] and "reverted" in result["msg"]
    assert host["nft"].calls == []


def test_check_mode_arms_no_rollback(host, tmp_path):
    result = result_of(dict(PERMIT, rollback_timeout=30), check=True)
    assert result["changed"] is True and result["rollback_pending"] is False
    assert rollback_files(tmp_path) == [] and host["spawned"] == []
