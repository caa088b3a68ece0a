# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance callback in a real ansible-playbook run against two local hosts.

The hosts are local connections writing into a temporary directory: check-mode
drift of a file, a real change, a failure, a secret hidden with no_log, the facts
the verify and qos roles publish, and sites from group_vars and from groups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SECRET = "s3cret-turn-password"

PLAYBOOK = """
- name: Audit
  hosts: site_east:gateways
  gather_facts: false
  check_mode: true
  tasks:
    - name: EGR-901 | Policy file
      ansible.builtin.copy:
        content: "policy v2\\n"
        dest: "{{ work }}/{{ inventory_hostname }}.conf"
        mode: "0644"
    - name: EGR-902 | Nothing to do
      ansible.builtin.debug:
        msg: fine
    - name: VER-901 | Credentials stay hidden
      ansible.builtin.copy:
        content: "%(secret)s\\n"
        dest: "{{ work }}/{{ inventory_hostname }}.secret"
        mode: "0600"
      no_log: true
    - name: Publish what the verify and qos roles publish
      ansible.builtin.set_fact:
        verify_result:
          verdict: DEGRADED
          findings: [{id: udp_blocked, severity: warning, summary: UDP blocked, evidence: none, remediation: Allow UDP 3478}]
          checks: {stun: {loss_pct: 2.5, rtt_ms: {avg: 40}, jitter_ms: 3}}
        qos_plan: {upstream_kbps: 760, downstream_kbps: 760, classes: {audio: {upstream_kbps: 60, downstream_kbps: 60}}}
- name: Apply
  hosts: beta
  gather_facts: false
  tasks:
    - name: EGR-901 | Policy file
      ansible.builtin.copy:
        content: "policy v2\\n"
        dest: "{{ work }}/{{ inventory_hostname }}.conf"
        mode: "0644"
    - name: EGR-903 | A check that fails
      ansible.builtin.fail:
        msg: the service is unreachable
      ignore_errors: true
- name: Summary, left out of the report
  hosts: localhost
  gather_facts: false
  vars:
    dlegate_report: false
  tasks:
    - name: A gate that fails
      ansible.builtin.fail:
        msg: gate
      ignore_errors: true
""" % {"secret": SECRET}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("callback")
    (work / "alpha.conf").write_text("policy v1\n")
    (work / "group_vars").mkdir()
    (work / "group_vars" / "site_east.yml").write_text("---\ndlegate_site: east\n")
    (work / "hosts.ini").write_text("localhost\n[site_east]\nalpha\n[gateways]\nbeta\n[all:vars]\nansible_connection=local\n")
    (work / "audit.yml").write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="dlegate.rtc.compliance", DLEGATE_REPORT_DIR=str(work / "ignored"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(["ansible-playbook", "-i", str(work / "hosts.ini"), str(work / "audit.yml"), "--diff",
                           "-e", "work=%s" % work, "-e", "ansible_python_interpreter=%s" % sys.executable,
                           "-e", "dlegate_report_dir=%s" % (work / "out")],
                          cwd=str(work), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = work / "out"
    return {"work": work, "stdout": proc.stdout, "report": json.loads((out / "audit-compliance.json").read_text()),
            "junit": ET.parse(str(out / "audit-compliance.junit.xml")).getroot(),
            "html": (out / "audit-compliance.html").read_text(), "files": sorted(os.listdir(str(out)))}


def hosts(report):
    return dict((host["name"], host) for host in report["hosts"])


def controls(host):
    return dict((control["id"], control) for control in host["controls"])


def test_the_extra_var_picks_the_directory_and_the_three_files_are_written(run):
    assert run["files"] == ["audit-compliance.html", "audit-compliance.json", "audit-compliance.junit.xml"]
    assert not (run["work"] / "ignored").exists()
    assert "dlegate.rtc.compliance: 2 hosts" in run["stdout"]
    assert [host["name"] for host in run["report"]["hosts"]] == ["alpha", "beta"]


def test_the_report_is_valid_against_the_schema(run):
    with open(os.path.join(REPO, "docs", "report-schema.json")) as stream:
        jsonschema.Draft202012Validator(json.load(stream)).validate(run["report"])


def test_check_mode_drift_comes_with_its_diff(run):
    alpha = controls(hosts(run["report"])["alpha"])
    assert alpha["EGR-901"]["state"] == "drifted"
    assert "-policy v1\n+policy v2\n" in alpha["EGR-901"]["diff"]
    assert alpha["EGR-902"]["state"] == "compliant"


def test_a_later_real_run_decides_and_the_history_is_kept(run):
    beta = controls(hosts(run["report"])["beta"])
    assert beta["EGR-901"]["state"] == "changed"
    assert beta["EGR-901"]["history"] == [{"play": "Audit", "state": "drifted"}, {"play": "Apply", "state": "changed"}]
    assert beta["EGR-903"]["state"] == "error" and beta["EGR-903"]["messages"] == ["the service is unreachable"]
    assert run["report"]["run"]["mode"] == "mixed"


def test_sites_come_from_dlegate_site_or_the_first_group(run):
    assert dict((name, host["site"]) for name, host in hosts(run["report"]).items()) == {"alpha": "east", "beta": "gateways"}


def test_readiness_and_the_bandwidth_plan_come_from_the_facts(run):
    alpha = hosts(run["report"])["alpha"]
    assert alpha["readiness"]["verdict"] == "DEGRADED"
    assert alpha["readiness"]["findings"][0]["id"] == "udp_blocked"
    assert [(q["metric"], q["value"], q["within"]) for q in alpha["readiness"]["quality"]] == [
        ("loss_pct", 2.5, False), ("rtt_ms", 40.0, True), ("jitter_ms", 3.0, True)]
    assert alpha["bandwidth_plan"]["upstream_kbps"] == 760.0


def test_no_log_hides_everything_but_the_state(run):
    assert controls(hosts(run["report"])["alpha"])["VER-901"]["state"] == "drifted"
    for text in (json.dumps(run["report"]), ET.tostring(run["junit"], encoding="unicode"), run["html"]):
        assert SECRET not in text


def test_junit_fails_drift_and_errors_only(run):
    failures = sorted((case.get("classname"), case.get("name"), case.find("failure").get("type"))
                      for case in run["junit"].iter("testcase") if case.find("failure") is not None)
    assert failures == [("east.alpha", "EGR-901", "drifted"), ("east.alpha", "VER-901", "drifted"),
                        ("gateways.beta", "EGR-903", "error"), ("gateways.beta", "VER-901", "drifted")]
