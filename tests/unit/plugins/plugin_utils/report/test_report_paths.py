# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the reports go."""

from __future__ import annotations

import os

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import paths

CWD = "/home/runner/project"


def test_a_configured_directory_wins_and_is_taken_from_the_working_directory():
    environ = {"DLEGATE_REPORT_DIR": "/env/reports", "AWX_ISOLATED_DATA_DIR": "/runner/artifacts/7"}
    assert paths.resolve_report_dir("/srv/audit", environ, CWD) == "/srv/audit"
    assert paths.resolve_report_dir("out/../audit", environ, CWD) == "/home/runner/project/audit"
    assert paths.resolve_report_dir("~/audit", {}, CWD) == os.path.expanduser("~/audit")


def test_then_the_environment_then_the_runner_artifact_directory_then_the_working_directory():
    environ = {"DLEGATE_REPORT_DIR": "env-reports", "AWX_ISOLATED_DATA_DIR": "/runner/artifacts/7"}
    assert paths.resolve_report_dir(None, environ, CWD) == "/home/runner/project/env-reports"
    del environ["DLEGATE_REPORT_DIR"]
    assert paths.resolve_report_dir("", environ, CWD) == "/runner/artifacts/7/reports"
    assert paths.resolve_report_dir(None, {"AWX_ISOLATED_DATA_DIR": ""}, CWD) == "/home/runner/project/reports"


def test_report_paths():
    assert paths.report_paths("/r", "audit-compliance") == {
        "json": "/r/audit-compliance.json", "junit": "/r/audit-compliance.junit.xml", "html": "/r/audit-compliance.html"}
