# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JUnit XML of a compliance report: one case per host and control, drift and errors fail."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import junit, model
from ansible_collections.dlegate.rtc.tests.unit.plugins.plugin_utils.report.report_samples import RUN, fleet_report


def parse(report):
    return ET.fromstring(junit.render_junit(report).encode("utf-8"))


def cases(root):
    return {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}


def test_one_suite_per_site_and_the_counts_add_up():
    root = parse(fleet_report())
    assert [suite.get("name") for suite in root.findall("testsuite")] == ["site-a", "site-b"]
    # site-a: 2 hosts x 4 controls + 2 readiness cases; site-b: the unreachable host's error case.
    assert [suite.get("tests") for suite in root.findall("testsuite")] == ["10", "1"]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("11", "3", "0", "2")


def test_drift_fails_with_the_diff_and_the_remediation():
    found = cases(parse(fleet_report()))
    failure = found[("site-a.gw-a", "EGR-002")].find("failure")
    assert failure.get("type") == "drifted" and failure.get("message") == "EGR-002 drifted"
    assert "-  tcp dport 2222 accept" in failure.text
    assert "dlegate.rtc.rollout --limit gw-a --tags EGR-002" in failure.text
    assert found[("site-a.gw-a", "EGR-001")].find("failure") is None
    assert found[("site-a.gw-a", "EGR-003")].find("skipped") is not None


def test_a_host_error_and_a_failed_readiness_verdict_are_failures():
    found = cases(parse(fleet_report()))
    host_error = found[("site-b.endpoint-b1", "host")].find("failure")
    assert host_error.get("type") == "error" and "port 22: timeout" in host_error.text
    readiness = found[("site-a.endpoint-a1", "readiness")].find("failure")
    assert readiness.get("message") == "readiness FAIL" and "udp_blocked (error)" in readiness.text
    assert found[("site-a.gw-a", "readiness")].find("failure") is None


def test_characters_xml_cannot_carry_are_replaced():
    observations = [model.observation("h\x01", 0, "EGR-002 | Apply", "failed", {"msg": "bad \x00 byte \x1b[0m"}, True)]
    root = parse(model.build_report(observations, {}, RUN))
    failure = root.find("testsuite/testcase/failure")
    assert failure.text.startswith("bad \ufffd byte \ufffd[0m")
    assert root.find("testsuite/testcase").get("classname") == "unassigned.h\ufffd"
