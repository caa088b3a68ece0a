# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance callback: collects each host's controls across a run and writes the reports."""

from __future__ import annotations

DOCUMENTATION = r"""
name: compliance
type: aggregate
author:
  - DLEGATE network engineering (@dlegate)
version_added: 0.1.0
short_description: Compliance reports of a run as JSON, JUnit XML and a self-contained HTML page
description:
  - Collects, across the whole run, the state of every control on every host. A control is a task whose
    name starts with its id, such as C(EGR-002 | Apply the DLEGATE egress policy); the roles of the
    collection name and tag their tasks that way (C(docs/controls.md)).
  - "The state of a control: C(error) (a task failed or the host was unreachable), C(drifted) (check
    mode, and the host differs from the policy: the diff and the module's C(differences) are kept),
    C(changed) (a real run changed the host), C(compliant) (check mode, and the host matches), C(ok)
    (a real run found nothing to change) or C(skipped). When several plays run a control, the last play
    that did not skip it decides, and the report keeps the history."
  - Also keeps each host's readiness verdict and findings (a C(dlegate.rtc.readiness) result or a
    C(verify_result) fact) and bandwidth plan (a C(qos_plan) fact). A host's site is its C(dlegate_site)
    variable, or its first inventory group.
  - "At the end of the run it writes three files into the report directory, named after the first
    playbook: C(NAME-compliance.json) (the versioned schema in C(docs/report-schema.md)),
    C(NAME-compliance.junit.xml) (one test case per host and control; drifted and error are failures)
    and C(NAME-compliance.html) (one page, no external resources)."
  - The report directory defaults to C(reports/) in ansible-runner's artifact directory when the run is
    driven by ansible-runner (AWX, Ansible Automation Platform, ansible-navigator, which set
    C(AWX_ISOLATED_DATA_DIR)), otherwise to C(reports/) in the current working directory. Both are writable by a non-root
    runner and neither is inside the installed collection.
  - The summary (totals, failing hosts, file paths) is added to the run's custom stats as
    C(dlegate_compliance). Callbacks run before this one, among them the stdout callback that turns
    custom stats into AWX job artifacts, so the collection's playbooks also publish their own summary
    with M(ansible.builtin.set_stats).
  - Results hidden with C(no_log) keep their state only; no diff, message or value of theirs is written.
  - A play whose variables set C(dlegate_report) to C(false) is left out, for example a summary play on the
    controller whose failure is the run's CI gate. Hosts that ran no control, had no error and published no
    readiness or plan are left out too.
requirements:
  - Enable it, for example C(callbacks_enabled = dlegate.rtc.compliance) in the C([defaults]) section of
    C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=dlegate.rtc.compliance) in the environment.
options:
  report_dir:
    description:
      - The directory for the report files; created when missing. A relative path is taken from the
        current working directory.
      - The extra variable C(dlegate_report_dir) (C(-e dlegate_report_dir=DIR)) overrides the ini and
        environment settings.
      - Unset, C($AWX_ISOLATED_DATA_DIR/reports) under ansible-runner, otherwise C(./reports).
    type: path
    ini:
      - section: callback_dlegate_compliance
        key: report_dir
    env:
      - name: DLEGATE_REPORT_DIR
  report_name:
    description: The name the report files start with; unset, the first playbook's name.
    type: str
    ini:
      - section: callback_dlegate_compliance
        key: report_name
    env:
      - name: DLEGATE_REPORT_NAME
"""

import json
import os
import tempfile
import time

from ansible import __version__ as ansible_version
from ansible.plugins.callback import CallbackBase

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import html_page, junit, model, paths

COLLECTION_VERSION = "0.1.0"
READINESS_ACTIONS = ("dlegate.rtc.readiness", "readiness")


def _utc(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _write_atomically(path, text):
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dlegate.rtc.compliance"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = time.time()
        self._playbooks = []
        self._plays = []
        self._observations = []
        self._hosts = {}
        self._facts = {}
        self._variable_manager = None
        self._extra_report_dir = None
        self._check_mode = False
        self._recording = True

    # Events --------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._playbooks.append(os.path.basename(getattr(playbook, "_file_name", "") or "playbook"))

    def v2_playbook_on_play_start(self, play):
        self._plays.append(play.get_name() or "play %d" % (len(self._plays) + 1))
        self._recording = str((play.vars or {}).get("dlegate_report", True)).lower() not in ("false", "no", "0")
        self._check_mode = bool(getattr(play, "check_mode", False))
        self._variable_manager = play.get_variable_manager()
        extra_vars = getattr(self._variable_manager, "extra_vars", None) or {}
        if extra_vars.get("dlegate_report_dir"):
            self._extra_report_dir = str(extra_vars["dlegate_report_dir"])

    def set_play_context(self, play_context):
        self._check_mode = bool(play_context.check_mode) or self._check_mode

    def v2_runner_on_ok(self, result):
        self._observe(result, "ok")
        self._keep_facts(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._observe(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._observe(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._observe(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        report = self.build_report()
        files = self._write(report)
        summary = model.summary(report, files)
        stats.set_custom_stats("dlegate_compliance", summary)
        totals = report["totals"]["host_states"]
        counts = ", ".join("%d %s" % (totals[state], state) for state in model.STATES if totals[state])
        self._display.display("dlegate.rtc.compliance: %d hosts (%s); reports: %s"
                              % (report["totals"]["hosts"], counts or "no control ran", ", ".join(files.values())))

    # Collecting ------------------------------------------------------------------

    def _task_check_mode(self, task):
        value = getattr(task, "check_mode", None)
        return value if isinstance(value, bool) else self._check_mode

    def _observe(self, result, status):
        if not self._recording:
            return
        host, task = result._host, result._task
        self._hosts.setdefault(host.get_name(), host)
        name = task.get_name() or task.action
        self._observations.append(model.observation(host.get_name(), len(self._plays) - 1, name, status,
                                                    result._result, self._task_check_mode(task)))

    def _keep_facts(self, result):
        if not self._recording:
            return
        facts = self._facts.setdefault(result._host.get_name(), {})
        values = result._result
        if result._task.action in READINESS_ACTIONS and "verdict" in values:
            facts["readiness"] = values
        published = values.get("ansible_facts") or {}
        for fact, key in (("verify_result", "readiness"), ("qos_plan", "plan"), ("dlegate_site", "site")):
            if fact in published:
                facts[key] = published[fact]

    def _site(self, name):
        site = self._facts.get(name, {}).get("site")
        if site:
            return str(site)
        host = self._hosts[name]
        if self._variable_manager is not None:
            site = self._variable_manager.get_vars(host=host, include_hostvars=False).get("dlegate_site")
            if site:
                return str(site)
        groups = [group.get_name() for group in host.get_groups() if group.get_name() not in ("all", "ungrouped")]
        return groups[0] if groups else "ungrouped"

    def build_report(self):
        host_info = {}
        for name in self._hosts:
            facts = self._facts.get(name, {})
            host_info[name] = {"site": self._site(name), "readiness": facts.get("readiness"), "plan": facts.get("plan")}
        run = {"generated_at": _utc(time.time()), "started_at": _utc(self._started), "playbooks": self._playbooks,
               "plays": self._plays, "generator": {"callback": self.CALLBACK_NAME, "collection_version": COLLECTION_VERSION,
                                                   "ansible_core_version": ansible_version}}
        return model.build_report(self._observations, host_info, run)

    # Writing ---------------------------------------------------------------------

    def _report_dir(self):
        configured = self._extra_report_dir or self.get_option("report_dir")
        return paths.resolve_report_dir(configured, os.environ, os.getcwd())

    def _write(self, report):
        report_dir = self._report_dir()
        stem = self.get_option("report_name") or os.path.splitext(self._playbooks[0] if self._playbooks else "run")[0]
        files = paths.report_paths(report_dir, stem + "-compliance")
        os.makedirs(report_dir, exist_ok=True)
        _write_atomically(files["json"], json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
        _write_atomically(files["junit"], junit.render_junit(report))
        _write_atomically(files["html"], html_page.render_html(report))
        return files
