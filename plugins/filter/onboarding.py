# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that shape the site-onboarding report."""

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding_host_record
author: DLEGATE network engineering
version_added: 0.1.0
short_description: One host's entry in the site-onboarding report
description:
  - Collects what each onboarding stage recorded for a host. A stage that did not run on the
    host (it failed, or was unreachable) is reported as C(not_run), never as passed.
options:
  _input:
    description: The host's variables, for example C(hostvars[host]).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Report entry for every endpoint
  ansible.builtin.debug:
    msg: "{{ groups['endpoints'] | map('extract', hostvars) | map('dlegate.rtc.onboarding_host_record') | list }}"
"""

RETURN = r"""
_value:
  description: C(preflight), C(configure) and C(verify) records, and C(preflight_egress_compliant) /
    C(verify_egress_compliant) booleans for summaries.
  type: dict
"""

STAGES = ("preflight", "configure", "verify")
NOT_RUN = {"status": "not_run"}


def onboarding_host_record(host_vars):
    record = {stage: dict(host_vars.get(f"onboarding_{stage}") or NOT_RUN) for stage in STAGES}
    for stage in ("preflight", "verify"):
        record[f"{stage}_egress_compliant"] = as_bool(record[stage].get("egress_compliant"))
    return record


def as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


class FilterModule:
    def filters(self):
        return {"onboarding_host_record": onboarding_host_record}
