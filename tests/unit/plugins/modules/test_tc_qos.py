# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tc_qos module against a fake tc printing real captures: the YAML cases, then the rollback flows."""

from __future__ import annotations

import json
import os
import platform

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common import rollback
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import host as tc_host
from ansible_collections.dlegate.rtc.plugins.modules import commit_confirm, tc_qos
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import render
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.tc_fixtures import capture, live
from ansible_collections.dlegate.rtc.tests.unit.plugins.modules.harness import Host, check_case, load_cases

CASES = os.path.join(os.path.dirname(__file__), "test_tc_qos.yaml")
SHOW = {"qdiscs": ["-j", "qdisc", "show", "dev", "v0"], "classes": ["-j", "class", "show", "dev", "v0"],
        "filters": ["-j", "filter", "show", "dev", "v0"]}
BATCH = ["-batch", "-"]
# The scheduler lines of this lab's kernel config (no fq_codel), and of a usual server's.
KERNELS = {
    "lab": "CONFIG_NET_SCH_HTB=y\nCONFIG_NET_SCH_TBF=y\n# CONFIG_NET_SCH_FQ_CODEL is not set\n"
           "CONFIG_NET_SCH_INGRESS=y\nCONFIG_NET_SCH_FIFO=y\n",
    "fq_codel": "CONFIG_NET_SCH_HTB=m\nCONFIG_NET_SCH_FQ_CODEL=y\nCONFIG_NET_SCH_FIFO=y\n",
}
LAB = {"config": {"interface": "v0", "link_kbps": 10000, "realtime": {"rate_kbps": 3000},
                  "signaling": {"rate_kbps": 200}}}


def responses(scenario, version="6.1.0", apply=None):
    """What the fake tc prints for v0: one real capture's three outputs, and its answer to a batch."""
    document = capture(scenario, version)
    printed = {"qdiscs": document["qdisc"], "classes": document["class"], "filters": document["filter"]}
    return [{"argv": SHOW[key], "stdout": printed[key]} for key in SHOW] + [dict(apply or {}, argv=BATCH)]


def use_kernel(tmp_path, monkeypatch, kernel):
    path = tmp_path / ("kernel-config-" + kernel)
    if kernel in KERNELS:
        path.write_text(KERNELS[kernel])
    monkeypatch.setattr(tc_host, "KERNEL_CONFIGS", (str(path),))
    monkeypatch.setattr(tc_host, "MODULES_DIR", str(tmp_path / "modules" / "{release}"))


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(rollback, "RUN_DIR", str(tmp_path / "run"))
    for name in ("lo", "v0"):
        (tmp_path / "net" / name).mkdir(parents=True)
    monkeypatch.setattr(tc_host, "SYS_CLASS_NET", str(tmp_path / "net"))
    use_kernel(tmp_path, monkeypatch, "lab")
    return Host(tmp_path, monkeypatch)


@pytest.mark.parametrize("case", load_cases(CASES))
def test_case(host, case, tmp_path, monkeypatch):
    use_kernel(tmp_path, monkeypatch, case.get("kernel", "lab"))
    if "live" in case:
        case = dict(case, binaries={"tc": responses(case["live"], case.get("version", "6.1.0"), case.get("apply"))})
    check_case(host, tc_qos.main, case)


def test_rendered_is_exactly_the_build_tc_was_given_for_the_capture(host):
    failed, result = host.run(tc_qos.main, dict(LAB, state="rendered"))
    assert not failed and result["leaf_qdisc"] == "fq_codel"
    lab_tree = [line.replace("pfifo", "fq_codel") for line in capture("lab_tree", "6.1.0")["commands"]]
    assert result["rendered"].splitlines() == lab_tree


def test_parsed_judges_collected_evidence_offline(host):
    document = capture("lab_tree", "6.15.0")
    evidence = {"qdiscs": document["qdisc"], "classes": document["class"], "filters": document["filter"]}
    failed, result = host.run(tc_qos.main, dict(LAB, state="parsed", running_config=evidence))
    assert not failed and result["compliant"] and result["differences"] == []
    assert result["parsed"]["link_kbps"] == 10000 and result["parsed"]["leaf_qdisc"] == "pfifo"
    failed, result = host.run(tc_qos.main, {"state": "parsed", "config": {"interface": "v0"},
                                            "running_config": evidence})
    assert not failed and "compliant" not in result and result["tree"][0] == "qdisc htb 1: root default 1:30"


def test_parsed_evidence_of_an_edited_tree_is_not_compliant(host):
    document = capture("edited_tree", "6.1.0")
    evidence = {"qdiscs": document["qdisc"], "classes": document["class"], "filters": document["filter"]}
    failed, result = host.run(tc_qos.main, dict(LAB, state="parsed", running_config=evidence))
    assert not failed and result["compliant"] is False and result["parsed"] is None
    assert {"item": "filter ip dscp 40", "field": None, "desired": None, "live": "1:10"} in result["differences"]


def test_bad_evidence_names_running_config(host):
    evidence = {"qdiscs": "not json", "classes": "", "filters": ""}
    failed, result = host.run(tc_qos.main, dict(LAB, state="parsed", running_config=evidence))
    assert failed and result["field"] == "running_config" and "not JSON" in result["msg"]


def test_tc_missing_on_the_host_says_how_to_install_it(host):
    failed, result = host.run(tc_qos.main, LAB)
    assert failed and "tc not found" in result["msg"] and "iproute2" in result["msg"]


def test_the_host_side_reads_the_kernel_and_its_modules(tmp_path, monkeypatch):
    release = platform.release()
    sched = tmp_path / "modules" / release / "kernel" / "net" / "sched"
    sched.mkdir(parents=True)
    (sched / "sch_fq_codel.ko.xz").write_text("")
    (tmp_path / "modules" / release / "modules.builtin").write_text("kernel/net/sched/sch_htb.ko\n")
    monkeypatch.setattr(tc_host, "KERNEL_CONFIGS", (str(tmp_path / "missing.gz"), str(tmp_path / "missing")))
    monkeypatch.setattr(tc_host, "MODULES_DIR", str(tmp_path / "modules" / "{release}"))
    assert tc_host.offered_qdiscs() == ["fq_codel", "htb", "pfifo"]
    monkeypatch.setattr(tc_host, "MODULES_DIR", str(tmp_path / "nothing" / "{release}"))
    assert tc_host.offered_qdiscs() is None
    monkeypatch.setattr(tc_host, "SYS_CLASS_NET", str(tmp_path / "no-sysfs"))
    assert tc_host.host_interfaces() is None


# ---------------------------------------------------------------------------
# Commit-confirm
# ---------------------------------------------------------------------------

def started_timer(argv):
    """Stands in for the detached timer: proves it runs (pid file) and never restores."""
    script = argv[4]
    with open(script[:-len(".rollback")] + ".pid", "w") as handle:
        handle.write("%d\n" % os.getpid())


def pending_scripts():
    return [name for name in os.listdir(rollback.RUN_DIR) if name.endswith(".rollback")]


def test_a_change_arms_a_rollback_that_rebuilds_the_live_tree_and_only_its_token_confirms_it(host, monkeypatch):
    spawned = []
    monkeypatch.setattr(rollback, "spawn_detached", lambda argv: (spawned.append(argv), started_timer(argv)))
    tc = host.binary("tc", responses("edited_tree"))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30))
    assert not failed and result["changed"] and result["rollback_pending"] is True
    token = result["rollback_token"]
    assert token.startswith("tc-v0:")
    assert spawned[0][-2:] == [tc.path, "-batch"]
    with open(spawned[0][4]) as handle:
        restore = handle.read().splitlines()[1:]
    assert restore == ["qdisc replace dev v0 root pfifo", "qdisc del dev v0 root"] + \
        render.build_commands(live("edited_tree", "6.1.0"))
    assert "class add dev v0 parent 1:1 classid 1:10 htb rate 2000kbit ceil 2000kbit prio 0" in restore
    failed, refused = host.run(commit_confirm.main, {"token": "tc-v0:0123456789abcdef"})
    assert failed and "no rollback with token" in refused["msg"]
    failed, confirmed = host.run(commit_confirm.main, {"token": token})
    assert not failed and confirmed["confirmed"] is True and pending_scripts() == []


def test_check_mode_and_a_run_without_change_arm_nothing(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("tc", responses("edited_tree"))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30), check=True)
    assert not failed and result["changed"] and result["rollback_token"] is None and not result["rollback_pending"]
    host.binary("tc", responses("lab_tree"))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30))
    assert not failed and not result["changed"] and result["rollback_token"] is None
    assert not os.path.isdir(rollback.RUN_DIR) or pending_scripts() == []


def test_a_tree_that_cannot_be_written_back_refuses_a_rollback_and_changes_nothing(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    tc = host.binary("tc", responses("foreign_root"))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30))
    assert failed and "cannot write back (qdisc tbf 8001: root)" in result["msg"]
    assert BATCH not in tc.argvs and pending_scripts() == []


def test_a_timer_that_does_not_start_stops_the_change(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", lambda argv: None)
    monkeypatch.setattr(rollback, "TIMER_START_WAIT", 0.2)
    tc = host.binary("tc", responses("default_root"))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30))
    assert failed and "did not start" in result["msg"] and BATCH not in tc.argvs


def test_a_rejected_batch_withdraws_its_rollback(host, monkeypatch):
    monkeypatch.setattr(rollback, "spawn_detached", started_timer)
    host.binary("tc", responses("edited_tree", apply={"rc": 1, "stderr": "Command failed -:3\n"}))
    failed, result = host.run(tc_qos.main, dict(LAB, rollback_timeout=30))
    assert failed and "rejected" in result["msg"] and pending_scripts() == []


PICKY_TC = r'''#!{python}
import json, sys
argv, stdin = sys.argv[1:], ("" if sys.stdin.isatty() else sys.stdin.read())
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": argv, "stdin": stdin}}) + "\n")
printed = {printed!r}
if argv[:1] == ["-j"]:
    sys.stdout.write(printed[argv[1]])
    sys.exit(0)
# The new tree's batch fails (its real-time class is at 3000kbit); the restore of the old one goes through.
sys.exit(1 if "classid 1:10 htb rate 3000kbit" in stdin else 0)
'''


def test_a_batch_that_fails_half_way_is_followed_by_the_old_tree(host, tmp_path):
    document = capture("edited_tree", "6.1.0")
    log = str(tmp_path / "tc.calls")
    path = host.bin_dir / "tc"
    path.write_text(PICKY_TC.format(python=os.sys.executable, log=log, printed={
        "qdisc": document["qdisc"], "class": document["class"], "filter": document["filter"]}))
    path.chmod(0o700)
    failed, result = host.run(tc_qos.main, LAB)
    assert failed and "the previous tree was put back" in result["msg"], result["msg"]
    with open(log) as handle:
        batches = [json.loads(line)["stdin"] for line in handle if json.loads(line)["argv"] == BATCH]
    assert len(batches) == 2 and "rate 3000kbit" in batches[0]
    assert batches[1].splitlines()[2:] == render.build_commands(live("edited_tree", "6.1.0"))
