# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``tc -batch`` scripts that put a model's tree on an interface, or take it away.

A script replaces the whole tree in one ``tc -batch`` run: it deletes the
interface's root qdisc when there is one of its own (a handle other than
``0:``; the kernel's default root cannot be deleted, and need not be), then
builds the tree from the root down: qdisc, classes parents first, leaf
qdiscs, filters.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.tc import model as tree

FILTER_PREF = {"ip": 1, "ipv6": 2}
DSCP_SELECTOR = {"ip": "ip dsfield", "ipv6": "ip6 priority"}
# Leaf handles follow their class (1:10 -> 10:) below the range the kernel picks from.
AUTOMATIC_HANDLES_FROM = 0x8000


def rate_text(bits):
    """A rate in bit/s as tc reads it: kbit when whole, bit otherwise."""
    return "%dkbit" % (bits // 1000) if bits % 1000 == 0 else "%dbit" % bits


def can_render(state):
    """Whether :func:`render_batch` can write ``state``: no tree, or an HTB tree with nothing unmanaged."""
    if state is None or not tree.has_tree(state):
        return True
    return state["root"]["kind"] == "htb" and not state["unmanaged"] and all(
        item["rate_bit"] and item["ceil_bit"] for item in state["classes"].values())


def _depth(classes, handle):
    depth, seen = 0, set()
    while classes[handle]["parent"] in classes and handle not in seen:
        seen.add(handle)
        handle, depth = classes[handle]["parent"], depth + 1
    return depth


def _sorted_handles(classes):
    return sorted(classes, key=lambda handle: (_depth(classes, handle), tree.split_handle(handle)))


def build_commands(state):
    """The batch lines that build ``state``'s tree on an interface without a root qdisc of its own."""
    dev = state["interface"]
    root = state["root"]
    head = "qdisc replace dev %s root handle %s htb" % (dev, root["handle"])
    if root["default"]:
        head += " default %x" % tree.split_handle(root["default"])[1]
    lines = [head]
    classes = state["classes"]
    for handle in _sorted_handles(classes):
        item = classes[handle]
        line = "class add dev %s parent %s classid %s htb rate %s ceil %s" % (
            dev, item["parent"] or root["handle"], handle, rate_text(item["rate_bit"]), rate_text(item["ceil_bit"]))
        if item["prio"] is not None:
            line += " prio %d" % item["prio"]
        lines.append(line)
    for handle in _sorted_handles(classes):
        leaf = classes[handle]["leaf"]
        if leaf:
            lines.append("qdisc add dev %s parent %s%s %s" % (dev, handle, _leaf_handle(handle), leaf))
    for item in state["filters"]:
        lines.append("filter add dev %s parent %s protocol %s prio %d u32 match %s 0x%02x 0xfc flowid %s" % (
            dev, root["handle"], item["protocol"], FILTER_PREF[item["protocol"]], DSCP_SELECTOR[item["protocol"]],
            item["dscp"] << 2, item["flowid"]))
    return lines


def _leaf_handle(class_handle):
    minor = tree.split_handle(class_handle)[1]
    return " handle %x:" % minor if 0 < minor < AUTOMATIC_HANDLES_FROM else ""


def delete_commands(live):
    """The batch lines that remove ``live``'s root qdisc, when it has one of its own."""
    if not tree.has_tree(live):
        return []
    return ["qdisc del dev %s root" % live["interface"]]


def render_batch(desired, live):
    """One ``tc -batch`` script that turns ``live`` into ``desired`` (None or no root: remove the tree)."""
    if not can_render(desired):
        raise ValueError("cannot render the tree of %s: it has parts tc batch lines here do not express"
                         % desired["interface"])
    lines = delete_commands(live)
    if desired is not None and tree.has_tree(desired):
        lines += build_commands(desired)
    return "".join(line + "\n" for line in lines)
