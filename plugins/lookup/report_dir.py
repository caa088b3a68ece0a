# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report_dir lookup: where the collection's reports go on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: report_dir
author:
  - DLEGATE network engineering (@dlegate)
version_added: 0.1.0
short_description: The directory the collection's reports are written to
description:
  - Returns one absolute path on the controller, by the rule the C(dlegate.rtc.compliance) callback uses,
    so that a playbook's own report lands next to the callback's.
  - The first of, in order, the directory given as the term, C($DLEGATE_REPORT_DIR), C(reports/) in
    ansible-runner's artifact directory (C($AWX_ISOLATED_DATA_DIR), set under AWX, Ansible Automation
    Platform and ansible-navigator), and C(reports/) in the current working directory.
  - A relative directory is taken from the current working directory. Never a path inside the installed
    collection, and writable by a non-root runner in an execution environment.
  - The directory is not created.
options:
  _terms:
    description: The configured directory, for example C(dlegate_report_dir | default('')); empty means unset.
    type: list
    elements: str
    required: false
"""

EXAMPLES = r"""
- name: Write the onboarding report next to the compliance reports
  ansible.builtin.copy:
    content: "{{ onboarding_report | to_nice_json }}"
    dest: "{{ lookup('dlegate.rtc.report_dir', dlegate_report_dir | default('')) }}/site_onboarding.json"
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: The absolute report directory, as a one-item list.
  type: list
  elements: str
"""

import os

from ansible.plugins.lookup import LookupBase

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report.paths import resolve_report_dir


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        configured = next((str(term) for term in terms or [] if term), None)
        return [resolve_report_dir(configured, os.environ, os.getcwd())]
