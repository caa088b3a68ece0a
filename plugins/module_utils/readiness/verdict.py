# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness verdict: PASS, DEGRADED or FAIL, and the findings that say why. Pure functions.

:func:`judge` reads the results of the checks and decides:

* **PASS**: every check passed and the media path's quality is within the thresholds;
* **DEGRADED**: the service works, but only on a fallback (UDP blocked while TURN over
  TCP/TLS relays media: ``udp_blocked`` and ``tls_fallback_only``; the ephemeral range
  blocked while UDP 3478 answers: ``ephemeral_udp_blocked``), or the quality is below a
  threshold (``quality_loss``, ``quality_jitter``, ``quality_rtt``);
* **FAIL**: anything else a check found, such as a name that does not resolve, TCP 443 or
  TLS broken, TLS inspection, refused TURN credentials, or no media path at all.

Findings keep the shared shape (``common.findings``); their severity carries the verdict:
an ``error`` fails, a ``warning`` degrades, an ``info`` only informs. Two rules keep the
list to causes, not symptoms:

* a name that does not resolve explains every failure of the checks that reach it: only
  the DNS finding is reported;
* when UDP is blocked, the UDP checks' own timeouts are that one ``udp_blocked`` finding.

Findings of one id are merged into one, with every check's evidence.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding
from ansible_collections.dlegate.rtc.plugins.module_utils.common.validation import amount
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.findings import BLOCKED_ERRORS

PASS, DEGRADED, FAIL = "PASS", "DEGRADED", "FAIL"
VERDICT_OF_SEVERITY = {"error": FAIL, "warning": DEGRADED}
RANK = {"info": 0, "warning": 1, "error": 2}

UDP_PRIMARY = ("stun", "turn_udp")         # UDP 3478: does UDP reach the media servers at all?
UDP_DEPENDENT = ("ephemeral", "quality")   # UDP checks whose failure follows from a blocked UDP
FALLBACKS = ("turn_tls", "turn_tcp")
UDP_SILENCE = ("stun_udp_blocked", "turn_udp_blocked", "ephemeral_udp_blocked")
# Probe findings the verdict weighs differently from the probe.
SEVERITY_OVERRIDES = {"turn_not_freed": "info"}

UDP_PORTS = "Verify that UDP ports (such as 3478 and ephemeral UDP range) are permitted."
NO_UDP = "Firewalls that block outbound UDP traffic can prevent media transport."
QUALITY = ("The service needs low latency and minimal packet loss: prefer a stable broadband or LTE/5G "
           "connection and wired connections where possible. VPNs and deep packet inspection (DPI) can affect "
           "real-time media quality: exempt the service's traffic from them. For enterprise or managed networks, "
           "reserve sufficient bandwidth for concurrent sessions and peak usage (QoS).")

CATALOG = {
    "udp_blocked": (
        "Outbound UDP to the media servers is blocked",
        UDP_PORTS + " " + NO_UDP + " Allow outbound UDP 3478 and the media servers' ephemeral UDP range."),
    "tls_fallback_only": (
        "Media works only through the TURN fallback over TCP (TLS)",
        "When direct UDP media transport is blocked, encrypted transport over TCP (TLS) should be permitted, and "
        "it is: sessions will work, but media over TCP suffers more delay under loss. " + UDP_PORTS),
    "quality_loss": ("Packet loss on the media path is above the threshold", QUALITY),
    "quality_jitter": ("Jitter on the media path is above the threshold", QUALITY),
    "quality_rtt": ("Round-trip time on the media path is above the threshold", QUALITY),
    "check_error": (
        "A check could not run to its end",
        "The check stopped on an unexpected error (see the evidence); its part of the verdict is unknown. "
        "Report the evidence to the collection's maintainers."),
}
THRESHOLDS = (
    ("quality_loss", "loss_pct", "loss", "%"),
    ("quality_jitter", "jitter_ms", "jitter", " ms"),
    ("quality_rtt", "rtt_ms", "average round-trip time", " ms"),
)


def normalize_thresholds(thresholds):
    """The thresholds as numbers (FieldError naming ``thresholds.<key>``): a value at or above one fails it."""
    return {"rtt_ms": amount(thresholds["rtt_ms"], "thresholds.rtt_ms", 0, above_minimum=True),
            "jitter_ms": amount(thresholds["jitter_ms"], "thresholds.jitter_ms", 0, above_minimum=True),
            "loss_pct": amount(thresholds["loss_pct"], "thresholds.loss_pct", 0, 100, above_minimum=True)}


def verdict_of(findings):
    worst = max([RANK[finding["severity"]] for finding in findings] or [0])
    return {2: FAIL, 1: DEGRADED}.get(worst, PASS)


# ---------------------------------------------------------------------------
# Reading the checks
# ---------------------------------------------------------------------------

def ran(checks, name):
    """The check ran to its end (a result, no crash)."""
    return name in checks and checks[name].get("result") is not None


def unresolved_names(checks):
    """Names the DNS check got no usable address for: from the host's resolver, which the other checks
    use, or, when it was not asked, from any resolver."""
    if not ran(checks, "dns"):
        return set()
    results = checks["dns"]["result"]["results"]
    resolvers = [results["system"]] if "system" in results else list(results.values())
    names = set(name for answers in resolvers for name in answers)
    return set(name for name in names if not any(answers.get(name, {}).get("usable") for answers in resolvers))


def silent(result):
    """A STUN/TURN result without any valid answer, because the path dropped or refused it."""
    return not result.get("reachable") and result.get("error") in BLOCKED_ERRORS


def relayed(result):
    """A TURN result whose allocation worked, and its relay train too when there was one."""
    relay = result.get("relay")
    return bool(result.get("allocated")) and (relay is None or (relay["error"] is None and relay["received"] > 0))


def explained(finding, check, unresolved):
    """The finding of a check follows from a name that does not resolve."""
    targets = [finding["server"].rstrip(".").lower()] if finding.get("server") else check.get("targets") or []
    return any(target in unresolved for target in targets)


class Paths(object):
    """What the checks say about the media paths, checks explained by DNS left out."""

    def __init__(self, checks, unresolved):
        usable = dict((name, check) for name, check in checks.items()
                      if name != "dns" and check.get("result") is not None
                      and not any(target in unresolved for target in check.get("targets") or []))
        self.primary = [name for name in UDP_PRIMARY if name in usable]
        range_answers = "ephemeral" in usable and usable["ephemeral"]["result"]["answered"] > 0
        self.udp_blocked = bool(self.primary) and not range_answers \
            and all(silent(usable[name]["result"]) for name in self.primary)
        self.udp_answers = any(not silent(usable[name]["result"]) for name in self.primary)
        self.fallbacks = [name for name in FALLBACKS if name in usable]
        self.working_fallbacks = [name for name in self.fallbacks if relayed(usable[name]["result"])]


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------

def tagged(finding, check_names, severity=None):
    """A copy of a probe's finding with the checks it comes from and the verdict's severity."""
    copy = dict(finding, checks=list(check_names))
    copy["severity"] = severity or SEVERITY_OVERRIDES.get(finding["id"], finding["severity"])
    return copy


def probe_findings(checks, unresolved, paths):
    """Every check's findings that are a cause, weighed for the verdict."""
    findings = []
    for name, check in checks.items():
        if check.get("result") is None:
            continue
        for finding in check["result"].get("findings") or []:
            if name != "dns" and explained(finding, check, unresolved):
                continue
            if paths.udp_blocked and name in UDP_PRIMARY + UDP_DEPENDENT and finding["id"] in UDP_SILENCE:
                continue
            severity = None
            if finding["id"] == "ephemeral_udp_blocked" and paths.udp_answers:
                severity = "warning"  # media still reaches the TURN server on 3478 and is relayed
            findings.append(tagged(finding, [name], severity))
    return findings


def crash_findings(checks):
    return [tagged(make_finding(CATALOG, "check_error", "error", "%s: %s" % (name, check["error"])), [name])
            for name, check in checks.items() if check.get("error")]


def udp_findings(checks, paths):
    """``udp_blocked``, with ``tls_fallback_only`` when a TURN fallback over TCP/TLS relays media."""
    if not paths.udp_blocked:
        return []
    evidence = "; ".join("%s: %s" % (name, finding["evidence"])
                         for name in UDP_PRIMARY + UDP_DEPENDENT if ran(checks, name)
                         for finding in checks[name]["result"].get("findings") or []
                         if finding["id"] in UDP_SILENCE)
    checked = paths.primary + [name for name in UDP_DEPENDENT if ran(checks, name)]
    if paths.working_fallbacks:
        fallback = "; ".join(fallback_evidence(checks[name]["result"]) for name in paths.working_fallbacks)
        return [tagged(make_finding(CATALOG, "udp_blocked", "warning", evidence), checked),
                tagged(make_finding(CATALOG, "tls_fallback_only", "warning", fallback), paths.working_fallbacks)]
    if not paths.fallbacks:
        evidence += "; no TURN fallback over TCP or TLS was checked"
    return [tagged(make_finding(CATALOG, "udp_blocked", "error", evidence), checked)]


def fallback_evidence(result):
    text = "TURN over %s to %s:%d allocated the relay %s:%s" % (
        result["transport"].upper(), result["server"], result["port"], result["relayed_address"],
        result["relayed_port"])
    relay = result.get("relay")
    if relay:
        text += " and relayed %d of %d media packets" % (relay["received"], relay["sent"])
    return text


def quality_findings(checks, thresholds, unresolved, paths):
    """The quality train against the thresholds; nothing when it measured nothing."""
    if not ran(checks, "quality") or paths.udp_blocked:
        return []
    check = checks["quality"]
    result = check["result"]
    if not result.get("received") or any(target in unresolved for target in check.get("targets") or []):
        return []
    measured = {"loss_pct": result["loss_pct"], "jitter_ms": result["jitter_ms"], "rtt_ms": result["rtt_ms"]["avg"]}
    where = "%d STUN Binding requests to %s:%d over UDP, %d answered" % (
        result["sent"], result["server"], result["port"], result["received"])
    findings = []
    for finding_id, key, what, unit in THRESHOLDS:
        value = measured[key]
        if value is not None and value >= thresholds[key]:
            evidence = "%s %s%s over %s; the threshold is below %s%s" % (
                what, value, unit, where, thresholds[key], unit)
            findings.append(tagged(make_finding(CATALOG, finding_id, "warning", evidence, value=value,
                                                threshold=thresholds[key]), ["quality"]))
    return findings


def merge_findings(findings):
    """One finding per id, worst severity first: the evidence of all, the context they share."""
    merged, by_id = [], {}
    for finding in findings:
        evidence = finding["evidence"]
        if finding.get("name") and finding["checks"] == ["dns"]:
            evidence = "%s: %s" % (finding["name"], evidence)
        current = by_id.get(finding["id"])
        if current is None:
            current = by_id[finding["id"]] = dict(finding, evidence=[], checks=[])
            merged.append(current)
        else:
            for key in [key for key in current if key not in MERGED_KEYS and current[key] != finding.get(key)]:
                del current[key]
            if RANK[finding["severity"]] > RANK[current["severity"]]:
                current["severity"] = finding["severity"]
        if evidence not in current["evidence"]:
            current["evidence"].append(evidence)
        for name in finding["checks"]:
            if name not in current["checks"]:
                current["checks"].append(name)
    for current in merged:
        current["evidence"] = "; ".join(current["evidence"])
    return sorted(merged, key=lambda finding: -RANK[finding["severity"]])


MERGED_KEYS = ("id", "severity", "summary", "evidence", "remediation", "checks")


def judge(checks, thresholds):
    """The verdict and its findings.

    ``checks`` maps a check's name (``dns``, ``signaling``, ``stun``,
    ``turn_udp``, ``turn_tcp``, ``turn_tls``, ``ephemeral``, ``quality``) to
    ``{"targets": [names it reaches], "result": the probe's result or None,
    "error": why it crashed or None}``; ``thresholds`` holds ``rtt_ms``,
    ``jitter_ms`` and ``loss_pct``. Returns ``{"verdict", "findings"}``."""
    unresolved = unresolved_names(checks)
    paths = Paths(checks, unresolved)
    findings = (crash_findings(checks) + udp_findings(checks, paths) + probe_findings(checks, unresolved, paths)
                + quality_findings(checks, thresholds, unresolved, paths))
    merged = merge_findings(findings)
    return {"verdict": verdict_of(merged), "findings": merged}
