# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nft_egress module against a fake nft: the YAML cases, then the flows that need more than one run."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common import dns, rollback
from ansible_collections.dlegate.rtc.plugins.modules import commit_confirm, nft_egress
from ansible_collections.dlegate.rtc.tests.unit.plugins.modules.harness import Host, check_case, load_cases

CASES = os.path.join(os.path.dirname(__file__), "test_nft_egress.yaml")
TABLE_ARGV = ["-j", "list", "table", "inet", "dlegate_egress"]
NO_TABLE = {"argv": TABLE_ARGV, "rc": 1, "stderr": "Error: No such file or directory\n"}
TERSE = {"argv": ["-t", "-j", "list", "ruleset"], "stdout": '{"nftables": []}'}
APPLY = {"argv": ["-f", "-"]}
MEDIA = {"config": {"destinations": {"media": ["198.51.100.20"]},
                    "rules": [{"name": "media", "protocol": "udp", "ports": [3478], "destinations": ["media"]}]}}


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(rollback, "RUN_DIR", str(tmp_path / "run"))
    return Host(tmp_path, monkeypatch)


@pytest.mark.parametrize("case", load_cases(CASES))
def test_case(host, case):
    check_case(host, nft_egress.main, case)


def test_a_5000_digit_port_names_its_field_without_a_traceback(host):
    nft = host.binary("nft", [])
    args = {"config": {"destinations": {"media": ["198.51.100.20"]},
                       "rules": [{"name": "media", "protocol": "udp", "ports": ["5" * 5000], "destinations": ["media"]}]}}
    failed, result = host.run(nft_egress.main, args)
    assert failed and result["field"] == "config.rules[0].ports[0]" and "is not a port" in result["msg"]
    assert len(result["msg"]) < 300 and nft.calls == []


# ---------------------------------------------------------------------------
# DNS on the managed host
# ---------------------------------------------------------------------------

class FakeResolver(object):
    def __init__(self, answers):
        self.answers = answers

    def __call__(self, nameservers, timeout):
        return self

    def resolve(self, name, rdtype, search=False):
        raise AssertionError("replaced by fake_resolution")


def fake_resolution(answers):
    def resolve_names(names, nameservers=(), timeout=5.0, **kwargs):
        return {name: {"addresses": answers.get(name, []), "error_text": None if answers.get(name) else "A: NXDOMAIN",
                       "error": None if answers.get(name) else "nxdomain"} for name in names}
    return resolve_names


def with_name(name):
    return {"config": {"destinations": {"signaling": [name]},
                       "rules": [{"name": "signaling", "protocol": "tcp", "ports": [443],
                                  "destinations": ["signaling"]}]}}


def test_a_sinkhole_answer_is_rejected_and_reported(host, monkeypatch):
    monkeypatch.setattr(dns, "resolve_names", fake_resolution({"signal.dlegate.test": ["127.0.0.1", "198.18.11.10"]}))
    nft = host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, with_name("signal.dlegate.test"))
    assert not failed, result
    assert result["rejected_answers"] == {"signal.dlegate.test": [{"address": "127.0.0.1", "reason": "loopback"}]}
    assert result["resolved"] == {"signal.dlegate.test": ["198.18.11.10"]}
    applied = nft.calls[-1]["stdin"]
    assert "198.18.11.10" in applied and "127.0.0.1" not in applied


def test_a_name_with_only_special_answers_fails_before_any_change(host, monkeypatch):
    monkeypatch.setattr(dns, "resolve_names", fake_resolution({"signal.dlegate.test": ["0.0.0.0"]}))
    nft = host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, with_name("signal.dlegate.test"))
    assert failed and "only special-use answers" in result["msg"]
    assert ["-f", "-"] not in nft.argvs


def test_allow_special_answers_uses_them(host, monkeypatch):
    monkeypatch.setattr(dns, "resolve_names", fake_resolution({"signal.dlegate.test": ["127.0.0.1"]}))
    nft = host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, dict(with_name("signal.dlegate.test"), allow_special_answers=True))
    assert not failed and "127.0.0.1" in nft.calls[-1]["stdin"]


def test_a_name_that_does_not_resolve_fails_naming_it(host, monkeypatch):
    monkeypatch.setattr(dns, "resolve_names", fake_resolution({}))
    nft = host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, with_name("gone.dlegate.test"))
    assert failed and "gone.dlegate.test" in result["msg"] and "NXDOMAIN" in result["msg"]
    assert ["-f", "-"] not in nft.argvs


def test_missing_dnspython_is_reported_when_names_must_be_resolved(host, monkeypatch):
    monkeypatch.setattr(dns, "HAS_DNSPYTHON", False)
    host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, with_name("signal.dlegate.test"))
    assert failed and "dnspython" in result["msg"]


# ---------------------------------------------------------------------------
# Shadowing: read from a terse listing, never the whole ruleset
# ---------------------------------------------------------------------------

def test_a_foreign_reject_chain_is_reported_with_a_warning(host):
    foreign = {"nftables": [
        {"chain": {"family": "inet", "table": "firewalld", "name": "filter_OUTPUT", "handle": 1, "type": "filter",
                   "hook": "output", "prio": 10, "policy": "accept"}},
        {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_OUTPUT", "handle": 2,
                  "expr": [{"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]}}]}
    host.binary("nft", [NO_TABLE, {"argv": ["-t", "-j", "list", "ruleset"], "stdout": json.dumps(foreign)}, APPLY])
    failed, result = host.run(nft_egress.main, MEDIA)
    assert not failed
    assert [chain["chain"] for chain in result["shadowing_chains"]] == ["filter_OUTPUT"]
    assert any("firewalld chain filter_OUTPUT" in warning for warning in result["warnings"])


# ---------------------------------------------------------------------------
# Commit-confirm: a token per run, confirmed only by that run
# ---------------------------------------------------------------------------

def started_timer(argv):
    """Stands in for the detached timer: proves it runs (pid file) and never restores."""
    script = argv[4]
    with open(script[:-len(".rollback")] + ".pid", "w") as handle:
        handle.write("%d\n" % os.getpid())


def test_a_change_arms_a_rollback_and_only_its_token_confirms_it(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30))
    assert not failed and result["rollback_pending"] is True
    token = result["rollback_token"]
    assert token.startswith("nft-inet-dlegate_egress:")
    other = "nft-inet-dlegate_egress:0123456789abcdef"
    failed, refused = host.run(commit_confirm.main, {"token": other})
    assert failed and refused["confirmed"] is False and "no rollback with token" in refused["msg"]
    failed, confirmed = host.run(commit_confirm.main, {"token": token})
    assert not failed and confirmed["confirmed"] is True
    failed, again = host.run(commit_confirm.main, {"token": token})
    assert failed


def test_a_run_that_changes_nothing_arms_and_confirms_nothing(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("nft", [NO_TABLE, TERSE, APPLY])
    _failed, first = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30))
    live = {"argv": TABLE_ARGV, "stdout": json.dumps({"nftables": []})}
    host.binary("nft", [live, TERSE])
    failed, check = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30), check=True)
    assert not failed and check["rollback_token"] is None and check["rollback_pending"] is True
    failed, confirmed = host.run(commit_confirm.main, {"token": first["rollback_token"]})
    assert not failed and confirmed["confirmed"]


def test_a_timer_that_does_not_start_stops_the_change(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", lambda argv: None)
    monkeypatch.setattr(rollback, "TIMER_START_WAIT", 0.2)
    nft = host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30))
    assert failed and "did not start" in result["msg"]
    assert ["-f", "-"] not in nft.argvs
    assert not [name for name in os.listdir(rollback.RUN_DIR) if name.endswith(".rollback")]


def test_a_failed_apply_withdraws_the_rollback_it_armed(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("nft", [NO_TABLE, TERSE, dict(APPLY, rc=1, stderr="Error: nope\n")])
    failed, result = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30))
    assert failed
    assert not [name for name in os.listdir(rollback.RUN_DIR) if name.endswith(".rollback")]


def test_the_rollback_restores_the_table_as_nft_listed_it(host, monkeypatch):
    spawned = []
    monkeypatch.setattr(rollback, "spawn_detached", lambda argv: (spawned.append(argv), started_timer(argv)))
    listing = "table inet dlegate_egress {\n}\n"
    host.binary("nft", [{"argv": TABLE_ARGV, "stdout_fixture": "edited_rule_added"}, TERSE, APPLY,
                        {"argv": ["list", "table", "inet", "dlegate_egress"], "stdout": listing}])
    failed, result = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30))
    assert not failed
    script = spawned[0][4]
    with open(script) as handle:
        text = handle.read()
    assert text.splitlines()[1:] == ["table inet dlegate_egress", "delete table inet dlegate_egress",
                                     "table inet dlegate_egress {", "}"]
    assert spawned[0][-2:] == [host.binaries["nft"].path, "-f"]
    assert oct(os.stat(script).st_mode & 0o777) == "0o600"


def test_check_mode_arms_no_rollback(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("nft", [NO_TABLE, TERSE, APPLY])
    failed, result = host.run(nft_egress.main, dict(MEDIA, rollback_timeout=30), check=True)
    assert not failed and result["changed"] and result["rollback_token"] is None
    assert result["rollback_pending"] is False


def test_a_bad_token_names_the_field(host):
    failed, result = host.run(commit_confirm.main, {"token": "x" * 5000})
    assert failed and result["field"] == "token" and len(result["msg"]) < 400
