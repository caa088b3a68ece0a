# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports built the way the callback builds them, from task results, for the report tests."""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import model

EGRESS_DIFF = {"before": "table inet dlegate_egress {\n  tcp dport 443 accept\n  tcp dport 2222 accept\n}\n",
               "after": "table inet dlegate_egress {\n  tcp dport 443 accept\n}\n",
               "before_header": "inet dlegate_egress (live)", "after_header": "inet dlegate_egress (policy)"}
DRIFT = {"changed": True, "compliant": False, "diff": EGRESS_DIFF,
         "differences": [{"item": "rule", "change": "remove", "rule": "tcp dport 2222 accept"}]}
COMPLIANT = {"changed": False, "compliant": True, "differences": []}
READINESS_PASS = {"verdict": "PASS", "findings": [],
                  "checks": {"stun_quality": {"loss_pct": 0.0, "rtt_ms": {"avg": 12.5, "p95": 20.1}, "jitter_ms": 1.2}}}
READINESS_FAIL = {"verdict": "FAIL", "thresholds": {"loss_pct": 2},
                  "findings": [{"id": "udp_blocked", "severity": "error", "summary": "UDP 3478 is blocked",
                                "evidence": "no answer from 198.18.11.20:3478", "remediation": "Allow UDP 3478 outbound"}],
                  "checks": [{"name": "relay_quality", "loss_pct": 5.2, "rtt_ms": 80, "jitter_ms": 45}]}
PLAN = {"upstream_kbps": 2240, "downstream_kbps": 3340, "warnings": ["reservation above 33% of the link"],
        "classes": {"audio": {"upstream_kbps": 600, "downstream_kbps": 600},
                    "video": {"upstream_kbps": 1400, "downstream_kbps": 2500}}}
GENERATOR = {"callback": "dlegate.rtc.compliance", "collection_version": "0.1.0", "ansible_core_version": "2.19.0"}
RUN = {"generated_at": "2025-01-02T03:04:05Z", "started_at": "2025-01-02T03:00:00Z", "playbooks": ["audit.yml"],
       "plays": ["Audit"], "generator": GENERATOR}


def egress_audit(host, drifted=False):
    """The egress role's four controls as one check-mode run reports them."""
    return [
        model.observation(host, 0, "egress : EGR-001 | Install nftables and dnspython", "ok", {"changed": False}, True),
        model.observation(host, 0, "egress : EGR-002 | Apply the DLEGATE egress policy", "ok",
                          DRIFT if drifted else COMPLIANT, True),
        model.observation(host, 0, "egress : EGR-003 | Confirm the change", "skipped", {"skipped": True}, True),
        model.observation(host, 0, "egress : EGR-004 | Write the policy file", "ok", {"changed": False}, True),
    ]


def fleet_report():
    """Two sites: site-a with a drifted gateway and a compliant endpoint, site-b with an unreachable endpoint."""
    observations = egress_audit("gw-a", drifted=True) + egress_audit("endpoint-a1")
    observations.append(model.observation("endpoint-b1", 0, "Gathering Facts", "unreachable",
                                          {"unreachable": True, "msg": "ssh: connect to host endpoint-b1 port 22: timeout"},
                                          True))
    host_info = {"gw-a": {"site": "site-a", "readiness": READINESS_PASS, "plan": PLAN},
                 "endpoint-a1": {"site": "site-a", "readiness": READINESS_FAIL},
                 "endpoint-b1": {"site": "site-b"}}
    return model.build_report(observations, host_info, RUN)
