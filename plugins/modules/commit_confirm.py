#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: commit_confirm
short_description: Keep a change that a dlegate.rtc module applied behind a rollback timer
version_added: 0.1.0
description:
  - Modules of the collection that change the network (M(dlegate.rtc.nft_egress), M(dlegate.rtc.nft_dscp) and
    M(dlegate.rtc.tc_qos), with C(rollback_timeout)) save the last confirmed state, start a timer that restores it, and return a C(rollback_token). This module
    confirms that token, and only it, so that the change is kept.
  - Run it in a later task over a new connection. If the change cut the management path, this task cannot run
    and the host restores its previous state by itself.
  - It fails when the change cannot be kept any more, saying why, so that nothing is persisted on top of a
    reverted change. The change was rolled back (the timer ran first); a later run superseded the rollback; the
    restore itself failed (its script and nft's error are kept and reported); or no such rollback exists.
author:
  - DLEGATE network engineering (@dlegate)
options:
  token:
    description:
      - The C(rollback_token) returned by the run whose change to keep.
    type: str
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
notes:
  - Needs root (C(become=true)), as the module that armed the rollback did.
seealso:
  - module: dlegate.rtc.nft_egress
  - module: dlegate.rtc.nft_dscp
  - module: dlegate.rtc.tc_qos
"""

EXAMPLES = r"""
- name: Change the gateway's egress behind a 60 s rollback
  dlegate.rtc.nft_egress:
    config:
      hook: forward
      destinations: {signaling: [signal.dlegate.example]}
      rules: [{name: signaling, protocol: tcp, ports: [443], destinations: [signaling]}]
    rollback_timeout: 60
  become: true
  register: egress

- name: Drop the connection, so that the confirmation proves a new one works
  ansible.builtin.meta: reset_connection
  when: egress.rollback_token

- name: Keep the change
  dlegate.rtc.commit_confirm:
    token: "{{ egress.rollback_token }}"
  become: true
  when: egress.rollback_token
"""

RETURN = r"""
confirmed:
  description: Whether the change of O(token) is now kept.
  returned: always
  type: bool
  sample: true
msg:
  description: What happened to the rollback of O(token).
  returned: always
  type: str
  sample: "confirmed: the change of nft-inet-dlegate_egress:5f0c2b9e7d614a33 is kept"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import (
    RollbackError,
    RollbackStore,
    parse_token,
)


def main():
    module = AnsibleModule(argument_spec=dict(token=dict(type="str", required=True, no_log=False)),
                           supports_check_mode=True)
    token = module.params["token"]
    try:
        resource, _id = parse_token(token)
    except ValueError as exc:
        module.fail_json(msg="token: %s" % exc, field="token")
    store = RollbackStore(resource)
    if module.check_mode:
        pending = [item[0] for item in store.pending()]
        module.exit_json(changed=token in pending, confirmed=token in pending,
                         msg="would confirm %s" % token if token in pending else "%s is not pending" % token)
    try:
        with store.locked():
            confirmed, message = store.confirm(token)
    except RollbackError as exc:
        module.fail_json(msg=str(exc), confirmed=False)
    if not confirmed:
        module.fail_json(msg=message, confirmed=False)
    module.exit_json(changed=True, confirmed=True, msg=message)


if __name__ == "__main__":
    main()
