# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the one result shape of the configuration modules."""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.result import resource_result

DIFFERENCES = [{"item": "set media_v4", "change": "update", "added": ["198.51.100.20"], "removed": []}]


def test_a_compliant_resource_is_not_changed():
    assert resource_result([], "table\n", "table\n", False, "inet dlegate_egress") == {
        "changed": False, "compliant": True, "differences": []}


def test_a_drifted_resource_is_changed_and_not_compliant():
    result = resource_result(DIFFERENCES, "before\n", "after\n", False, "inet dlegate_egress")
    assert result == {"changed": True, "compliant": False, "differences": DIFFERENCES}
    assert "diff" not in result


def test_diff_mode_adds_the_before_and_after_texts():
    result = resource_result(DIFFERENCES, "before\n", "after\n", True, "inet dlegate_egress")
    assert result["diff"] == {"before": "before\n", "after": "after\n",
                              "before_header": "inet dlegate_egress (live)",
                              "after_header": "inet dlegate_egress (policy)"}
    assert (result["changed"], result["compliant"]) == (True, False)


def test_diff_mode_of_a_compliant_resource_shows_equal_texts():
    result = resource_result([], "same\n", "same\n", True, "tc eth0")
    assert (result["changed"], result["compliant"], result["differences"]) == (False, True, [])
    assert result["diff"]["before"] == result["diff"]["after"] == "same\n"
