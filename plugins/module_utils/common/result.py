# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one result shape of every configuration module.

``compliant`` says whether the host already matched the policy when the run
began; ``changed`` is its negation for a run that enforces the policy, so a
check-mode audit of a drifted host reports ``changed`` with the diff, never a
green ``ok``. ``differences`` lists what differs, item by item, as data.
"""

from __future__ import annotations


def resource_result(differences, before_text, after_text, diff_mode, header):
    """``changed``, ``compliant``, ``differences`` and, in diff mode, ``diff`` of one managed resource."""
    result = {"changed": bool(differences), "compliant": not differences, "differences": differences}
    if diff_mode:
        result["diff"] = {"before": before_text, "after": after_text,
                          "before_header": "%s (live)" % header, "after_header": "%s (policy)" % header}
    return result
