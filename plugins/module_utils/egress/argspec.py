# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of dlegate.rtc.nft_egress: the one source the module, the role's specs and tests share."""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.destinations import RESOLUTION_SPEC

STATES = ["present", "absent", "rendered", "gathered", "parsed"]
MODES = ["permit", "enforce"]
HOOKS = ["output", "forward"]
PROTOCOLS = ["tcp", "udp"]
DEFAULT_TABLE = "dlegate_egress"
DEFAULT_PRIORITY = -10
DEFAULT_MARK = 0x00200000

RULE_SPEC = dict(
    name=dict(type="str", required=True),
    protocol=dict(type="str", required=True, choices=PROTOCOLS),
    ports=dict(type="list", elements="raw", required=True),
    destinations=dict(type="list", elements="str", required=True),
)

CONFIG_SPEC = dict(
    table=dict(type="str", default=DEFAULT_TABLE),
    hook=dict(type="str", default="output", choices=HOOKS),
    priority=dict(type="int", default=DEFAULT_PRIORITY),
    mode=dict(type="str", default="permit", choices=MODES),
    permit_mark=dict(type="int", default=DEFAULT_MARK),
    source_networks=dict(type="list", elements="str", default=[]),
    destinations=dict(type="dict", default={}),
    rules=dict(type="list", elements="dict", default=[], options=RULE_SPEC),
)

ARGUMENT_SPEC = dict(
    RESOLUTION_SPEC,
    state=dict(type="str", default="present", choices=STATES),
    config=dict(type="dict", default={}, options=CONFIG_SPEC),
    running_config=dict(type="str"),
    rollback_timeout=dict(type="int", default=0),
)

REQUIRED_IF = [("state", "parsed", ["running_config"])]
