# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nft_dscp module against a fake nft, with a real capture of the table it writes."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common import rollback
from ansible_collections.dlegate.rtc.plugins.modules import nft_dscp
from ansible_collections.dlegate.rtc.tests.unit.plugins.modules.harness import Host

TABLE_ARGV = ["-j", "list", "table", "inet", "dlegate_qos"]
NO_TABLE = {"argv": TABLE_ARGV, "rc": 1, "stderr": "Error: No such file or directory\n"}
LIVE = {"argv": TABLE_ARGV, "stdout_fixture": "marking_gateway"}
APPLY = {"argv": ["-f", "-"]}
GATEWAY = {"config": {
    "source_networks": ["198.18.10.0/24"], "clear_untrusted": True,
    "destinations": {"signaling": ["198.18.11.10"], "media": ["198.18.11.20"]},
    "classes": [{"name": "signaling", "dscp": "cs3", "protocol": "tcp", "ports": [443], "destinations": ["signaling"]},
                {"name": "media", "dscp": "af41", "protocol": "udp", "ports": [3478, "49152-65535"],
                 "destinations": ["media"]},
                {"name": "audio", "dscp": 46, "protocol": "udp", "source_ports": ["50000-50019"],
                 "destinations": ["media"]}]}}


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(rollback, "RUN_DIR", str(tmp_path / "run"))
    return Host(tmp_path, monkeypatch)


def test_present_writes_the_marking_table_in_one_transaction(host):
    nft = host.binary("nft", [NO_TABLE, APPLY])
    failed, result = host.run(nft_dscp.main, GATEWAY)
    assert not failed and result["changed"] and not result["compliant"]
    applied = nft.calls[-1]["stdin"]
    assert "type filter hook postrouting priority filter - 150; policy accept;" in applied
    assert 'ip saddr @sources_v4 ip dscp set 0 comment "clear_untrusted"' in applied
    assert 'ip saddr @sources_v4 ip daddr @media_v4 udp sport 50000-50019 ip dscp set 46 comment "audio"' in applied
    assert applied.index('"clear_untrusted"') < applied.index('comment "signaling"') < applied.index('comment "audio"')


@pytest.mark.parametrize("check", [False, True])
def test_the_live_table_nft_printed_back_is_compliant(host, check):
    nft = host.binary("nft", [LIVE])
    failed, result = host.run(nft_dscp.main, GATEWAY, check=check)
    assert not failed and result["changed"] is False and result["compliant"] and result["differences"] == []
    assert nft.argvs == [TABLE_ARGV]


def test_a_changed_dscp_value_is_drift_in_check_mode(host):
    args = {"config": dict(GATEWAY["config"], classes=[dict(GATEWAY["config"]["classes"][0], dscp=26)]
                           + GATEWAY["config"]["classes"][1:])}
    nft = host.binary("nft", [LIVE])
    failed, result = host.run(nft_dscp.main, args, check=True, diff=True)
    assert not failed and result["changed"] and not result["compliant"]
    changed = {item["change"]: item["rule"] for item in result["differences"] if item["item"] == "rule"
               and "ip dscp" in item["rule"]}
    assert "ip dscp set 26" in changed["add"] and "ip dscp set 24" in changed["remove"]
    assert nft.argvs == [TABLE_ARGV]


def test_gathered_feeds_back_unchanged(host):
    host.binary("nft", [LIVE])
    _failed, gathered = host.run(nft_dscp.main, {"state": "gathered"})
    host.binary("nft", [LIVE])
    failed, again = host.run(nft_dscp.main, {"config": gathered["gathered"]}, check=True)
    assert not failed and again["compliant"], again["differences"]


@pytest.mark.parametrize("change, field, words", [
    ({"dscp": 64}, "config.classes[0].dscp", "0-63"),
    ({"dscp": "gold"}, "config.classes[0].dscp", "ef, af41"),
    ({"protocol": None, "ports": None, "destinations": []}, "config.classes[0]", "matches every packet"),
    ({"protocol": None}, "config.classes[0].protocol", "required with ports"),
    ({"destinations": ["voice"]}, "config.classes[0].destinations", "voice"),
    ({"ports": ["9-1"]}, "config.classes[0].ports[0]", "inverted"),
])
def test_bad_classes_name_their_field_and_touch_nothing(host, change, field, words):
    item = dict(GATEWAY["config"]["classes"][0], **change)
    item = {key: value for key, value in item.items() if value is not None}
    nft = host.binary("nft", [])
    failed, result = host.run(nft_dscp.main, {"config": dict(GATEWAY["config"], classes=[item])})
    assert failed and result["field"] == field and words in result["msg"]
    assert nft.calls == []


def test_clear_untrusted_needs_the_networks_it_distrusts(host):
    failed, result = host.run(nft_dscp.main, {"config": {"clear_untrusted": True}})
    assert failed and result["field"] == "config.clear_untrusted"


def test_parsed_judges_collected_evidence_offline(host):
    import json
    from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture
    failed, result = host.run(nft_dscp.main, dict(GATEWAY, state="parsed",
                                                  running_config=json.dumps(fixture("marking_gateway"))))
    assert not failed and result["compliant"] and result["parsed"]["clear_untrusted"] is True
    assert [item["name"] for item in result["parsed"]["classes"]] == ["signaling", "media", "audio"]
