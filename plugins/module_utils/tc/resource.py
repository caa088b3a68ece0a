# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tc_qos module's decisions, for its five states, without side effects.

The module gathers (the host's interfaces and qdisc kinds, the three ``tc -j
... show`` outputs) and applies; everything it decides on the way is here:
the checked arguments (:func:`normalize_params`), what to do with a live tree
(:func:`plan`), the script that puts a live tree back for a rollback
(:func:`restore_batch`), and a live tree read back as the module's ``config``
(:func:`tree_to_config`).
"""

from __future__ import annotations

import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import MAX_TIMEOUT
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import diff, model, render

STATES = ["present", "absent", "rendered", "gathered", "parsed"]
TREE_STATES = ("present", "rendered")
RUNNING_CONFIG_KEYS = ("qdiscs", "classes", "filters")

RESERVED_CLASS_SPEC = dict(
    rate_kbps=dict(type="int"),
    ceil_kbps=dict(type="int"),
    dscp=dict(type="list", elements="raw"),
)
CONFIG_SPEC = dict(
    interface=dict(type="str", required=True),
    link_kbps=dict(type="int"),
    realtime=dict(type="dict", options=RESERVED_CLASS_SPEC),
    signaling=dict(type="dict", options=RESERVED_CLASS_SPEC),
    best_effort=dict(type="dict", options=dict(ceil_kbps=dict(type="int"))),
    leaf_qdisc=dict(type="str", default="auto", choices=["auto"] + list(model.LEAF_QDISCS)),
)
RUNNING_CONFIG_SPEC = dict((key, dict(type="str", default="")) for key in RUNNING_CONFIG_KEYS)

# Every tc command of a restore goes into one batch, which must work whatever the
# interface holds by then: replacing the root with a pfifo works on any root (the
# kernel's default one included), and deleting that pfifo brings the default back.
RESET_LINES = ("qdisc replace dev {interface} root pfifo", "qdisc del dev {interface} root")
RESOURCE_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _in_config(error):
    return FieldError("config." + error.field, error.message)


def _drop_none(value):
    """Ansible fills every unset suboption with None; the core reads a missing key the same way."""
    if isinstance(value, dict):
        return dict((key, _drop_none(item)) for key, item in value.items() if item is not None)
    return value


def spec_given(config):
    """Whether ``config`` describes a tree (a link rate), not just the interface it is about."""
    return config.get("link_kbps") is not None


def normalize_params(params, interfaces=None, offered=None):
    """The checked arguments of one run; FieldError naming ``config.FIELD`` when they are bad.

    ``interfaces``: the host's interface names (None: not known, any valid name is taken).
    ``offered``: the qdisc kinds the host's kernel offers (``model.offered_qdiscs``), for ``leaf_qdisc: auto``.
    """
    state = check.choice(params, "state", STATES, "present")
    config = _drop_none(params.get("config") or {})
    if not isinstance(config, dict):
        raise FieldError("config", "must be a dict with interface, link_kbps, realtime, signaling, best_effort and "
                                   "leaf_qdisc")
    check.known_keys(config, "config", tuple(CONFIG_SPEC))
    try:
        interface = model.interface_name(config.get("interface"), interfaces=interfaces)
        spec = None
        if state in TREE_STATES or (state == "parsed" and spec_given(config)):
            spec = model.normalize_spec(dict(config, interface=interface), offered=offered)
    except FieldError as error:
        raise _in_config(error)
    return {
        "state": state,
        "interface": interface,
        "spec": spec,
        "rollback_timeout": check.int_in(params, "rollback_timeout", 0, 0, MAX_TIMEOUT),
    }


def running_config(params):
    """The three tc outputs of ``state: parsed``."""
    given = check.mapping(params, "running_config", "tc outputs (qdiscs, classes, filters)")
    check.known_keys(given, "running_config", RUNNING_CONFIG_KEYS)
    outputs = {}
    for key in RUNNING_CONFIG_KEYS:
        value = given.get(key)
        value = "" if value is None else value
        if not isinstance(value, str):
            raise FieldError("running_config." + key, "must be the text that tc -j %s show printed" % key[:-1])
        outputs[key] = value
    return outputs


def leaves_in(live):
    """The leaf qdisc kinds this module writes that a live tree holds: what ``auto`` accepts on evidence."""
    kinds = set(item["leaf"] for item in (live or {}).get("classes", {}).values())
    return sorted(kinds & set(model.LEAF_QDISCS)) or None


def resource_id(interface):
    """The rollback resource of an interface's tree (``tc-eth0``)."""
    return "tc-" + RESOURCE_UNSAFE.sub(lambda match: "_%02x" % ord(match.group()), interface)


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------

def desired_tree(policy, live):
    """The tree a run wants: its spec's for present; None (no tree) for absent when the live one is ours."""
    if policy["state"] == "present":
        return model.build_tree(policy["spec"])
    return None if model.is_managed_tree(live) else live


def plan(policy, live):
    """What a present or absent run does to ``live``: differences, diff texts, the batch, and warnings.

    ``absent`` removes only a tree this module writes (an HTB root at 1:); any
    other root qdisc is left as it is, with a warning.
    """
    desired = desired_tree(policy, live)
    differences = diff.diff_trees(desired, live)
    warnings = []
    if policy["state"] == "absent" and model.has_tree(live) and not model.is_managed_tree(live):
        warnings.append("%s has a %s root qdisc (handle %s) that tc_qos did not write; absent leaves it"
                        % (policy["interface"], live["root"]["kind"], live["root"]["handle"]))
    return {
        "desired": desired,
        "live": live,
        "differences": differences,
        "before": text_of(live),
        "after": text_of(desired),
        "script": render.render_batch(desired, live) if differences else "",
        "warnings": warnings,
    }


def text_of(state):
    lines = diff.describe(state)
    return "".join(line + "\n" for line in lines)


def restore_batch(live):
    """A ``tc -batch`` script that puts ``live`` back over whatever tree the interface has by then.

    None when ``live`` holds parts this module cannot write back (another kind
    of root, unmanaged filters or qdiscs): such a tree cannot be rolled back to.
    """
    if model.has_tree(live) and not render.can_render(live):
        return None
    lines = [line.format(interface=live["interface"]) for line in RESET_LINES]
    if model.has_tree(live):
        lines += render.build_commands(live)
    return "".join(line + "\n" for line in lines)


def rendered(spec):
    """The batch that builds a spec's tree on an interface without a tree of its own."""
    return render.render_batch(model.build_tree(spec), None)


# ---------------------------------------------------------------------------
# A live tree as config
# ---------------------------------------------------------------------------

def _kbps(bits):
    if not isinstance(bits, int) or bits % 1000:
        raise ValueError("not a whole kbit/s")
    return bits // 1000


def _class_config(classes, filters, handle, with_dscp=True):
    item = classes[handle]
    found = {"rate_kbps": _kbps(item["rate_bit"]), "ceil_kbps": _kbps(item["ceil_bit"])}
    if with_dscp:
        found["dscp"] = sorted(set(rule["dscp"] for rule in filters if rule["flowid"] == handle))
    return found


def tree_to_config(state):
    """A live tree as the module's ``config``, or None when the module would not write it exactly so."""
    if not model.is_managed_tree(state) or state["unmanaged"]:
        return None
    classes = state["classes"]
    try:
        best_effort = _class_config(classes, state["filters"], model.BEST_EFFORT_CLASS, with_dscp=False)
        config = {
            "interface": state["interface"],
            "link_kbps": _kbps(classes[model.ROOT_CLASS]["rate_bit"]),
            "realtime": _class_config(classes, state["filters"], model.REALTIME_CLASS),
            "signaling": _class_config(classes, state["filters"], model.SIGNALING_CLASS),
            "best_effort": {"ceil_kbps": best_effort["ceil_kbps"]},
            "leaf_qdisc": classes[model.REALTIME_CLASS]["leaf"],
        }
        rebuilt = model.build_tree(model.normalize_spec(config))
    except (KeyError, TypeError, ValueError, FieldError):
        return None
    return config if not diff.diff_trees(rebuilt, state) else None
