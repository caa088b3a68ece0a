# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report as JUnit XML, the format every CI system shows natively.

One test suite per site, one test case per host and control. A drifted control
and an error are failures; a control whose tasks were all skipped is skipped.
A host with an error outside any control (unreachable, say) and a readiness
verdict of FAIL add one test case each.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report.model import FAILING_STATES


# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text):
    return _NOT_XML.sub("\ufffd", str(text))


def _case(suite, classname, name, failure=None, skipped=False, text=""):
    case = ET.SubElement(suite, "testcase", classname=xml_safe(classname), name=xml_safe(name))
    if failure:
        element = ET.SubElement(case, "failure", message=xml_safe(failure[0]), type=failure[1])
        element.text = xml_safe(text)
    elif skipped:
        ET.SubElement(case, "skipped")
    elif text:
        ET.SubElement(case, "system-out").text = xml_safe(text)
    return case


def _control_text(control):
    parts = control["messages"] + ([control["diff"]] if control["diff"] else [])
    parts += [control["remediation"]] if control["remediation"] else []
    return "\n".join(parts)


def _control_case(suite, classname, control):
    state = control["state"]
    failure = ("%s %s" % (control["id"], state), state) if state in FAILING_STATES else None
    return _case(suite, classname, control["id"], failure=failure, skipped=state == "skipped",
                 text=_control_text(control))


def _readiness_case(suite, classname, readiness):
    findings = "\n".join("%s (%s): %s %s" % (f["id"], f["severity"], f["summary"], f["remediation"])
                         for f in readiness["findings"])
    failure = ("readiness %s" % readiness["verdict"], "readiness") if readiness["verdict"] == "FAIL" else None
    return _case(suite, classname, "readiness", failure=failure, text=findings)


def _host_cases(suite, site, host):
    classname = "%s.%s" % (site, host["name"])
    for control in host["controls"]:
        _control_case(suite, classname, control)
    if host["errors"]:
        text = "\n".join("%s: %s" % (error["task"], error["message"]) for error in host["errors"])
        _case(suite, classname, "host", failure=("host error", "error"), text=text)
    if host["readiness"] and host["readiness"]["verdict"] in ("PASS", "DEGRADED", "FAIL"):
        _readiness_case(suite, classname, host["readiness"])


def _count(suite):
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for case in cases if case.find("skipped") is not None)))


def render_junit(report):
    """The JUnit XML document (a string) of a report."""
    root = ET.Element("testsuites", name="dlegate.rtc compliance")
    for site in report["sites"]:
        suite = ET.SubElement(root, "testsuite", name=xml_safe(site["name"]), timestamp=str(report.get("generated_at") or ""))
        for host in report["hosts"]:
            if host["site"] == site["name"]:
                _host_cases(suite, site["name"], host)
        _count(suite)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key)) for suite in root.findall("testsuite"))))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
