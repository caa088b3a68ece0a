# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of a finding, shared by every probe of the collection.

A finding is one problem a probe saw, as a dict::

    {"id": "dns_nxdomain", "severity": "error",
     "summary": "The name does not exist",
     "evidence": "system resolver: A: NXDOMAIN ...",
     "remediation": "Confirm that DNS resolution is working ...",
     ...context such as "name" or "resolver"}

``id`` is stable: playbooks, reports and the readiness verdict match on it.
Each probe keeps a catalog ``{id: (summary, remediation)}`` and builds its
findings with :func:`make_finding`.
"""

from __future__ import annotations

SEVERITIES = ("error", "warning", "info")


def make_finding(catalog, finding_id, severity, evidence, **context):
    """One finding of ``catalog``; ``context`` adds fields such as ``name``."""
    if severity not in SEVERITIES:
        raise ValueError("severity must be one of %s, not %r" % (", ".join(SEVERITIES), severity))
    summary, remediation = catalog[finding_id]
    finding = {"id": finding_id, "severity": severity, "summary": summary,
               "evidence": evidence, "remediation": remediation}
    finding.update(context)
    return finding


def passed(findings):
    """True when no finding is an error (warnings and notes do not fail a check)."""
    return not any(finding["severity"] == "error" for finding in findings)
