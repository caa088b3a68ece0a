# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report_dir lookup follows the callback's rule."""

from __future__ import annotations

import os

from ansible_collections.dlegate.rtc.plugins.lookup.report_dir import LookupModule


def test_the_term_wins_then_the_environment_then_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWX_ISOLATED_DATA_DIR", raising=False)
    monkeypatch.setenv("DLEGATE_REPORT_DIR", "from-env")
    lookup = LookupModule()
    assert lookup.run(["/srv/reports"]) == ["/srv/reports"]
    assert lookup.run(["", "rel"]) == [os.path.join(str(tmp_path), "rel")]
    assert lookup.run([""]) == [os.path.join(str(tmp_path), "from-env")]
    monkeypatch.delenv("DLEGATE_REPORT_DIR")
    assert lookup.run([]) == [os.path.join(str(tmp_path), "reports")]
    monkeypatch.setenv("AWX_ISOLATED_DATA_DIR", "/runner/artifacts/12")
    assert lookup.run([]) == ["/runner/artifacts/12/reports"]
