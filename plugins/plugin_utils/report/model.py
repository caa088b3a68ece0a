# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report as data: task results in, one versioned document out.

The callback turns every task result into an *observation* with
:func:`observation`, keeps the facts the roles publish, and at the end hands
both to :func:`build_report`. Everything here is a pure function of its
arguments, so the same input always gives the same report.

States of a control on a host, worst first:

``error``      a task failed or the host was unreachable;
``drifted``    check mode, and the host differs from the policy;
``changed``    a real run changed the host;
``compliant``  check mode, and the host matches the policy;
``ok``         a real run found nothing to change;
``skipped``    every task of the control was skipped.
"""

from __future__ import annotations

import difflib
import json
import re

SCHEMA_NAME = "dlegate.rtc/compliance-report"
SCHEMA_VERSION = "1.0.0"
STATES = ("error", "drifted", "changed", "compliant", "ok", "skipped")
FAILING_STATES = ("error", "drifted")
VERDICTS = ("PASS", "DEGRADED", "FAIL")
NO_VERDICT = "none"
# The pass levels of the Microsoft 365 connectivity test, the verify role's defaults too.
DEFAULT_THRESHOLDS = {"loss_pct": 1.0, "rtt_ms": 100.0, "jitter_ms": 30.0}
QUALITY_UNITS = {"loss_pct": "%", "rtt_ms": "ms", "jitter_ms": "ms"}
MAX_DIFF_CHARS = 20000
MAX_TEXT_CHARS = 1000
HIDDEN = "output hidden by no_log"

_CONTROL_PREFIX = re.compile(r"^(?:[^|]*? : )?([A-Z][A-Z0-9]{1,7}-[0-9]{3}) \|")


def control_id(task_name):
    """The control id a task name starts with (``EGR-002 | ...``), or None.

    A role's tasks may be shown as ``ROLE : NAME``; the role part is ignored."""
    match = _CONTROL_PREFIX.match(task_name or "")
    return match.group(1) if match else None


def worst(states):
    """The worst of some states (``skipped`` when there are none)."""
    ranked = [STATES.index(state) for state in states]
    return STATES[min(ranked)] if ranked else "skipped"


def task_state(status, result, check_mode):
    """A task's state from its callback status (ok, failed, unreachable, skipped) and result.

    A module that reports ``compliant`` is judged by it; any other by ``changed``."""
    if status in ("failed", "unreachable"):
        return "error"
    if status == "skipped":
        return "skipped"
    if isinstance(result.get("compliant"), bool):
        differs = not result["compliant"]
    else:
        differs = bool(result.get("changed"))
    if check_mode:
        return "drifted" if differs else "compliant"
    return "changed" if differs else "ok"


def short(text, limit=MAX_TEXT_CHARS):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + " ... (%d more characters)" % (len(text) - limit)


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
    return str(value)


def diff_text(diff):
    """A unified diff of Ansible's ``diff`` result (a dict, or a list of them for loops)."""
    if isinstance(diff, list):
        return "".join(diff_text(item) for item in diff)
    if not isinstance(diff, dict):
        return ""
    if diff.get("prepared"):
        return _as_text(diff["prepared"])
    before, after = _as_text(diff.get("before")), _as_text(diff.get("after"))
    if before == after:
        return ""
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                 fromfile=str(diff.get("before_header") or "before"),
                                 tofile=str(diff.get("after_header") or "after"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _result_diffs(result):
    diffs = [result.get("diff")]
    diffs += [item.get("diff") for item in result.get("results") or [] if isinstance(item, dict)]
    return "".join(diff_text(diff) for diff in diffs if diff)


def _result_differences(result):
    differences = list(result.get("differences") or [])
    for item in result.get("results") or []:
        if isinstance(item, dict):
            differences += item.get("differences") or []
    return differences


def _result_message(result, status):
    if result.get("msg"):
        return short(result["msg"])
    if status == "failed" and result.get("stderr"):
        return short(result["stderr"])
    return ""


def observation(host, play, task_name, status, result, check_mode):
    """One task's result on one host, as the report keeps it.

    ``play`` is the index of the play in the run; a result hidden with no_log
    keeps its state and nothing else."""
    state = task_state(status, result, check_mode)
    record = {"host": host, "play": play, "task": task_name, "control": control_id(task_name),
              "state": state, "diff": "", "differences": [], "message": ""}
    if result.get("censored") or result.get("_ansible_no_log"):
        record["message"] = HIDDEN
        return record
    if state in ("drifted", "changed"):
        record["diff"] = short(_result_diffs(result), MAX_DIFF_CHARS)
        record["differences"] = _result_differences(result)
    if state == "error":
        record["message"] = _result_message(result, status)
    return record


# Readiness and quality -------------------------------------------------------------

def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return _number(value.get("avg"))
    return None


def _thresholds(readiness):
    thresholds = dict(DEFAULT_THRESHOLDS)
    for metric, value in (readiness.get("thresholds") or {}).items():
        metric = {"loss": "loss_pct", "rtt": "rtt_ms", "jitter": "jitter_ms"}.get(metric, metric)
        if metric in thresholds and _number(value) is not None:
            thresholds[metric] = _number(value)
    return thresholds


def _quality_sources(readiness):
    """(name, dict) pairs that may carry loss_pct, rtt_ms or jitter_ms measurements."""
    if isinstance(readiness.get("quality"), dict):
        yield "quality", readiness["quality"]
    checks = readiness.get("checks") or {}
    items = checks.items() if isinstance(checks, dict) else ((c.get("name") or c.get("check"), c) for c in checks
                                                             if isinstance(c, dict))
    for name, check in items:
        if isinstance(check, dict):
            yield str(name), _measurements(check)


def _measurements(check):
    """The part of a check that holds its measurements: itself, its probe's ``result`` or a ``quality`` dict."""
    for candidate in (check.get("quality"), check.get("result"), check):
        if isinstance(candidate, dict) and any(metric in candidate for metric in DEFAULT_THRESHOLDS):
            return candidate
    return {}


def quality_rows(readiness):
    """Every measured loss, RTT and jitter of a readiness result next to its threshold."""
    thresholds = _thresholds(readiness)
    rows = []
    for name, source in _quality_sources(readiness):
        for metric in DEFAULT_THRESHOLDS:
            value = _number(source.get(metric))
            if value is not None:
                rows.append({"check": name, "metric": metric, "value": value, "unit": QUALITY_UNITS[metric],
                             "threshold": thresholds[metric], "within": value < thresholds[metric]})
    return rows


def _finding(raw):
    keys = ("id", "severity", "summary", "evidence", "remediation")
    return {key: short(raw.get(key) or "") for key in keys}


def readiness_record(raw):
    """The verdict, findings and measured quality of a readiness result or a ``verify_result`` fact."""
    if not isinstance(raw, dict):
        return None
    verdict = str(raw.get("verdict") or "").upper()
    return {"verdict": verdict if verdict in VERDICTS else NO_VERDICT,
            "findings": [_finding(item) for item in raw.get("findings") or [] if isinstance(item, dict)],
            "quality": quality_rows(raw)}


def plan_record(raw):
    """The bandwidth plan (a ``qos_plan`` fact): totals, classes and warnings."""
    if not isinstance(raw, dict):
        return None
    keys = ("upstream_kbps", "downstream_kbps", "link_up_kbps", "link_down_kbps")
    record = {key: _number(raw.get(key)) for key in keys if _number(raw.get(key)) is not None}
    record["classes"] = {str(name): {direction: _number(rates.get(direction))
                                     for direction in ("upstream_kbps", "downstream_kbps")}
                         for name, rates in (raw.get("classes") or {}).items() if isinstance(rates, dict)}
    record["warnings"] = [short(warning) for warning in raw.get("warnings") or []]
    return record


# Folding observations into the report -------------------------------------------

def remediation(control, state, host):
    if state == "drifted":
        return ("Restore the control: ansible-playbook dlegate.rtc.rollout --limit %s --tags %s" % (host, control))
    if state == "error":
        return "Fix the error, then rerun: --limit %s --tags %s" % (host, control)
    return ""


def fold_control(control, observations, play_names):
    """One control on one host: the state of the last play that ran it, and its history."""
    plays = []
    for item in observations:
        if item["play"] not in plays:
            plays.append(item["play"])
    history = [{"play": play_names[play] if play < len(play_names) else str(play),
                "state": worst([o["state"] for o in observations if o["play"] == play])} for play in plays]
    ran = [index for index, step in enumerate(history) if step["state"] != "skipped"]
    final = plays[ran[-1]] if ran else plays[-1]
    judged = [o for o in observations if o["play"] == final]
    state = worst([o["state"] for o in judged])
    return {
        "id": control,
        "state": state,
        "history": history,
        "tasks": sorted(set(o["task"] for o in judged)),
        "diff": short("".join(o["diff"] for o in judged), MAX_DIFF_CHARS),
        "differences": [item for o in judged for item in o["differences"]],
        "messages": [o["message"] for o in judged if o["message"]],
        "remediation": remediation(control, state, observations[0]["host"]),
    }


def _host_entry(name, observations, info, play_names):
    by_control = {}
    for item in observations:
        if item["control"]:
            by_control.setdefault(item["control"], []).append(item)
    controls = [fold_control(control, by_control[control], play_names) for control in sorted(by_control)]
    errors = [{"task": o["task"], "message": o["message"]}
              for o in observations if not o["control"] and o["state"] == "error"]
    states = [control["state"] for control in controls] + (["error"] if errors else [])
    readiness = readiness_record(info.get("readiness"))
    findings = readiness["findings"] if readiness else []
    return {
        "name": name,
        "site": str(info.get("site") or "unassigned"),
        "state": worst(states) if states else "ok",
        "controls": controls,
        "errors": errors,
        "readiness": readiness,
        "bandwidth_plan": plan_record(info.get("plan")),
        "remediation": [f["remediation"] for f in findings if f["remediation"]]
        + [c["remediation"] for c in controls if c["remediation"]],
    }


def _counts(keys, values):
    counts = dict((key, 0) for key in keys)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _totals(hosts):
    return {
        "hosts": len(hosts),
        "host_states": _counts(STATES, [host["state"] for host in hosts]),
        "control_states": _counts(STATES, [c["state"] for host in hosts for c in host["controls"]]),
        "readiness": _counts(VERDICTS + (NO_VERDICT,),
                             [host["readiness"]["verdict"] if host["readiness"] else NO_VERDICT for host in hosts]),
    }


def _reportable(host):
    """A host that ran no control, had no error and published nothing (localhost in a summary play) is left out."""
    return bool(host["controls"] or host["errors"] or host["readiness"] or host["bandwidth_plan"])


def build_report(observations, host_info, run):
    """The whole report.

    ``observations``: from :func:`observation`, in the order they happened.
    ``host_info``: ``{host: {"site": str, "readiness": raw, "plan": raw}}``.
    ``run``: ``generated_at``, ``started_at``, ``playbooks``, ``plays`` (names by index), ``generator``.
    """
    by_host = {}
    for item in observations:
        by_host.setdefault(item["host"], []).append(item)
    for name in host_info:
        by_host.setdefault(name, [])
    play_names = list(run.get("plays") or [])
    hosts = [_host_entry(name, by_host[name], host_info.get(name) or {}, play_names) for name in by_host]
    hosts = [host for host in hosts if _reportable(host)]
    hosts.sort(key=lambda host: (host["site"], host["name"]))
    sites = sorted(set(host["site"] for host in hosts))
    checked = [o for o in observations if o["control"] and o["state"] in ("drifted", "compliant")]
    applied = [o for o in observations if o["control"] and o["state"] in ("changed", "ok")]
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "generated_at": run.get("generated_at"),
        "generator": run.get("generator") or {},
        "run": {
            "playbooks": list(run.get("playbooks") or []),
            "plays": play_names,
            "started_at": run.get("started_at"),
            "mode": "mixed" if checked and applied else "audit" if checked else "apply" if applied else "none",
        },
        "controls": sorted(set(o["control"] for o in observations if o["control"])),
        "totals": _totals(hosts),
        "sites": [dict(name=site, **_totals([h for h in hosts if h["site"] == site])) for site in sites],
        "hosts": hosts,
    }


def summary(report, files):
    """The short form for AWX job artifacts and CI logs: totals, failing hosts, file paths."""
    failing = [host["name"] for host in report["hosts"] if host["state"] in FAILING_STATES]
    return {
        "schema_version": report["schema_version"],
        "mode": report["run"]["mode"],
        "totals": report["totals"],
        "failing_hosts": failing[:100],
        "failing_host_count": len(failing),
        "files": dict(files),
    }
