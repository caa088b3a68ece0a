# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differences between two models of a tree, as data, and a text form of a model for diff mode."""

from __future__ import annotations

from collections import Counter

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model as tree

CLASS_FIELDS = ("parent", "rate_bit", "ceil_bit", "prio", "leaf")
ROOT_FIELDS = ("kind", "handle", "default")


def difference(item, field, desired, live):
    return {"item": item, "field": field, "desired": desired, "live": live}


def _root_differences(desired, live):
    if desired is None or live is None:
        return [difference("root", None, desired, live)] if desired != live else []
    return [difference("root", field, desired[field], live[field])
            for field in ROOT_FIELDS if desired[field] != live[field]]


def _class_differences(desired, live):
    found = []
    for handle in sorted(set(desired) | set(live), key=tree.split_handle):
        want, have = desired.get(handle), live.get(handle)
        item = "class " + handle
        if want is None or have is None:
            found.append(difference(item, None, want, have))
            continue
        found.extend(difference(item, field, want[field], have[field])
                     for field in CLASS_FIELDS if want[field] != have[field])
    return found


def _filter_key(item):
    return (item["protocol"], item["dscp"])


def _filter_differences(desired, live):
    want = {_filter_key(item): item["flowid"] for item in desired}
    have = {}
    for item in live:
        have.setdefault(_filter_key(item), []).append(item["flowid"])
    found = []
    for key in sorted(set(want) | set(have)):
        name = "filter %s dscp %d" % key
        wanted, flowids = want.get(key), sorted(have.get(key, []))
        if wanted in flowids:
            flowids.remove(wanted)
        elif wanted is not None and flowids:
            found.append(difference(name, "flowid", wanted, flowids.pop(0)))
        elif wanted is not None:
            found.append(difference(name, None, wanted, None))
        found.extend(difference(name, None, None, flowid) for flowid in flowids)
    return found


def diff_trees(desired, live):
    """What differs between ``desired`` and ``live``, one item each: an empty list means in sync.

    Each difference is {item, field, desired, live}: ``item`` names the root,
    a class (``class 1:10``), a filter (``filter ip dscp 46``) or something
    ``unmanaged``; ``field`` is the field that differs, or None when the item
    exists on one side only (that side's value, the other None). A ``desired``
    of None (no tree wanted) differs from a live tree only by its root.
    """
    if desired is None or not tree.has_tree(desired):
        if not tree.has_tree(live):
            return []
        return [difference("root", None, None, live["root"])]
    live = live or {"root": None, "classes": {}, "filters": [], "unmanaged": []}
    found = _root_differences(desired["root"], live["root"])
    found += _class_differences(desired["classes"], live["classes"])
    found += _filter_differences(desired["filters"], live["filters"])
    unmanaged = Counter(live["unmanaged"]) - Counter(desired["unmanaged"])
    found += [difference("unmanaged", None, None, line) for line in sorted(unmanaged.elements())]
    return found


def _rate(bits):
    if bits is None:
        return "?"
    return "%gkbit" % (bits / 1000.0)


def describe(state):
    """A model as the lines diff mode shows (``before``/``after``), one per qdisc, class and filter."""
    if state is None or state.get("root") is None:
        return []
    root = state["root"]
    lines = ["qdisc %s %s root%s" % (root["kind"], root["handle"],
                                     " default %s" % root["default"] if root["default"] else "")]
    classes = state["classes"]
    for handle in sorted(classes, key=tree.split_handle):
        item = classes[handle]
        line = "class %s parent %s rate %s ceil %s" % (handle, item["parent"] or root["handle"], _rate(item["rate_bit"]),
                                                       _rate(item["ceil_bit"]))
        if item["prio"] is not None:
            line += " prio %d" % item["prio"]
        if item["leaf"]:
            line += " leaf %s" % item["leaf"]
        lines.append(line)
    lines += ["filter %s dscp %d flowid %s" % (item["protocol"], item["dscp"], item["flowid"])
              for item in state["filters"]]
    lines += ["unmanaged: " + line for line in state["unmanaged"]]
    return lines
