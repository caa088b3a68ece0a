# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTB tree of one interface, as arguments and as the canonical model.

Nothing here has a side effect. A module gathers the live tree (the three
``tc -j ... show dev IF`` commands), parses it (``tc.parse.parse_tree``),
builds the desired tree from its arguments (:func:`build_tree`), compares
the two (``tc.diff.diff_trees``) and, when they differ, applies the one
``tc -batch`` script that ``tc.render.render_batch`` writes.

The tree this module builds::

    1:    htb root qdisc, default class 1:30
    1:1   root class at the link rate
    1:10  real time: the reservation, prio 0, matched by DSCP (EF, AF41, AF21)
    1:20  signalling: prio 1, matched by DSCP (CS3), may borrow up to the link rate
    1:30  best effort: the rest of the link, prio 2, may borrow up to the link rate

Each leaf class holds a leaf qdisc: fq_codel where the kernel offers it,
pfifo otherwise.

The canonical model, built from arguments or parsed from tc, is a dict::

    {"interface": "eth0",
     "root": {"kind": "htb", "handle": "1:", "default": "1:30"},
     "classes": {"1:1": {"parent": None, "rate_bit": 10000000, "ceil_bit": 10000000, "prio": None, "leaf": None},
                 "1:10": {"parent": "1:1", "rate_bit": 3000000, "ceil_bit": 3000000, "prio": 0, "leaf": "pfifo"},
                 ...},
     "filters": [{"protocol": "ip", "dscp": 46, "flowid": "1:10"}, ...],
     "unmanaged": ["filter ip pref 5 u32 match 000013c4/0000ffff at 20 flowid 1:40", ...]}

Rates are in bit/s. ``root`` is None when tc shows no root qdisc; a root of
another kind (``noqueue``, ``mq``, a ``tbf``) keeps only its kind and handle.
``unmanaged`` lists, as display strings, what the model cannot express: a
filter or qdisc this module would not write. Two models are equal exactly
when the trees shape and classify the same way.
"""

from __future__ import annotations

import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError

ROOT_HANDLE = "1:"
ROOT_CLASS = "1:1"
REALTIME_CLASS = "1:10"
SIGNALING_CLASS = "1:20"
BEST_EFFORT_CLASS = "1:30"
CLASS_PRIO = {REALTIME_CLASS: 0, SIGNALING_CLASS: 1, BEST_EFFORT_CLASS: 2}
PROTOCOLS = ("ip", "ipv6")
LEAF_QDISCS = ("fq_codel", "pfifo")
DEFAULT_ROOT_HANDLE = "0:"

DSCP_NAMES = dict(
    [("cs%d" % n, 8 * n) for n in range(8)]
    + [("af%d%d" % (x, y), 8 * x + 2 * y) for x in range(1, 5) for y in range(1, 4)]
    + [("ef", 46), ("va", 44), ("le", 1)])
DEFAULT_DSCP = {"realtime": [46, 34, 18], "signaling": [24]}

SPEC_KEYS = ("interface", "link_kbps", "realtime", "signaling", "best_effort", "leaf_qdisc")
RESERVED_CLASS_KEYS = ("rate_kbps", "ceil_kbps", "dscp")
BEST_EFFORT_KEYS = ("ceil_kbps",)

# Linux interface names: up to 15 bytes, no slash, colon or whitespace. Quotes and
# '#' are kept out as well, since the name is written into a tc batch script.
INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,15}$")
MAX_KBPS = 1000000000
# tc 6.1 prints class rates as text with at most six significant digits per unit
# (1234567kbit reads back as 1234Mbit), so rates from 1 Gbit/s on are whole Mbit/s.
WHOLE_MBIT_FROM_KBPS = 1000000


# ---------------------------------------------------------------------------
# What the host offers
# ---------------------------------------------------------------------------

CONFIG_QDISC = re.compile(r"^CONFIG_NET_SCH_([A-Z0-9_]+)=[ym]\s*$", re.MULTILINE)
MODULE_QDISC = re.compile(r"(?:^|/)sch_([a-z0-9_]+)(?:\.ko(?:\.[a-z]+)?)?$")


def offered_qdiscs(kernel_config="", modules=()):
    """The qdisc kinds a kernel offers, from its config text and its module names or paths.

    ``kernel_config`` is the text of /proc/config.gz or /boot/config-RELEASE;
    ``modules`` names scheduler modules (``sch_fq_codel``) or their files
    (``.../net/sched/sch_fq_codel.ko.xz``), from modules.builtin or the module
    tree. pfifo is part of every kernel that has tc at all.
    """
    kinds = {"pfifo"}
    for name in CONFIG_QDISC.findall(kernel_config or ""):
        kinds.add(name.lower())
    for module in modules:
        match = MODULE_QDISC.search(module.strip())
        if match:
            kinds.add(match.group(1))
    return sorted(kinds)


def choose_leaf_qdisc(offered):
    """fq_codel where the kernel offers it, pfifo otherwise."""
    return "fq_codel" if "fq_codel" in offered else "pfifo"


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

def interface_name(value, field="interface", interfaces=None):
    """A valid interface name; with ``interfaces`` (the host's), one that exists."""
    if not isinstance(value, str) or not INTERFACE_NAME.match(value) or value in (".", ".."):
        raise FieldError(field, "%s is not an interface name; use up to 15 letters, digits and _ . @ + -" % check.short(value))
    if interfaces is not None and value not in interfaces:
        raise FieldError(field, "no interface %r on this host; it has %s" % (value, ", ".join(sorted(interfaces))))
    return value


def rate_kbps(value, field, required=True):
    """A positive whole rate in kbit/s that tc prints back exactly."""
    if value is None:
        if required:
            raise FieldError(field, "is required; give the rate in kbit/s, a whole number above 0")
        return None
    try:
        kbps = check.count(value, field, minimum=1, maximum=MAX_KBPS)
    except FieldError:
        raise FieldError(field, "%s is not a rate; give whole kbit/s from 1 to %d" % (check.short(value), MAX_KBPS))
    if kbps >= WHOLE_MBIT_FROM_KBPS and kbps % 1000:
        raise FieldError(field, "%d kbit/s: rates from 1 Gbit/s on must be whole Mbit/s (a multiple of 1000 kbit/s)"
                         % kbps)
    return kbps


def dscp_value(value, field):
    """A DSCP as a number 0-63 or a name such as ef, af41 or cs3."""
    if isinstance(value, str) and value.strip().lower() in DSCP_NAMES:
        return DSCP_NAMES[value.strip().lower()]
    try:
        return check.count(value, field, minimum=0, maximum=63)
    except FieldError:
        raise FieldError(field, "%s is not a DSCP; use 0-63 or a name such as ef, af41, af21, cs3" % check.short(value))


def dscp_list(value, field, allow_empty):
    if not isinstance(value, list) or (not value and not allow_empty):
        raise FieldError(field, "must be a %slist of DSCP values (0-63 or names such as ef, af41, cs3)"
                         % ("" if allow_empty else "non-empty "))
    return sorted(set(dscp_value(item, "%s[%d]" % (field, index)) for index, item in enumerate(value)))


def _reserved_class(spec, name, link):
    raw = check.dict_with_keys(spec.get(name) or {}, name, RESERVED_CLASS_KEYS)
    rate = rate_kbps(raw.get("rate_kbps"), name + ".rate_kbps")
    ceil = _ceil(raw, name, rate, link, default=rate if name == "realtime" else link)
    dscp = raw.get("dscp")
    dscp = sorted(DEFAULT_DSCP[name]) if dscp is None else dscp_list(dscp, name + ".dscp", allow_empty=name == "signaling")
    return {"rate_kbps": rate, "ceil_kbps": ceil, "dscp": dscp}


def _ceil(raw, name, rate, link, default):
    ceil = rate_kbps(raw.get("ceil_kbps"), name + ".ceil_kbps", required=False)
    if ceil is None:
        return default
    if not rate <= ceil <= link:
        raise FieldError(name + ".ceil_kbps", "%d kbit/s must lie between the class rate (%d) and the link rate (%d)"
                         % (ceil, rate, link))
    return ceil


def normalize_spec(spec, interfaces=None, offered=None):
    """The tree's arguments, checked, with their defaults.

    ``interfaces``: the host's interface names, to reject an unknown one.
    ``offered``: the qdisc kinds the kernel offers (:func:`offered_qdiscs`); a
    ``leaf_qdisc`` of ``auto`` (the default) picks from them, or fq_codel when
    they are not known (rendering without a host).
    """
    check.dict_with_keys(spec, "spec", SPEC_KEYS)
    interface = interface_name(spec.get("interface"), interfaces=interfaces)
    link = rate_kbps(spec.get("link_kbps"), "link_kbps")
    realtime = _reserved_class(spec, "realtime", link)
    signaling = _reserved_class(spec, "signaling", link)
    reserved = realtime["rate_kbps"] + signaling["rate_kbps"]
    if reserved >= link:
        raise FieldError("realtime.rate_kbps", "realtime (%d) and signaling (%d) reserve %d kbit/s, which leaves "
                         "nothing for best effort on a %d kbit/s link; reserve less than the link rate"
                         % (realtime["rate_kbps"], signaling["rate_kbps"], reserved, link))
    overlap = sorted(set(realtime["dscp"]) & set(signaling["dscp"]))
    if overlap:
        raise FieldError("signaling.dscp", "DSCP %s already selects the realtime class"
                         % ", ".join(str(dscp) for dscp in overlap))
    best_effort = check.dict_with_keys(spec.get("best_effort") or {}, "best_effort", BEST_EFFORT_KEYS)
    best_effort_rate = _printable_kbps(link - reserved)
    return {
        "interface": interface,
        "link_kbps": link,
        "realtime": realtime,
        "signaling": signaling,
        "best_effort": {"rate_kbps": best_effort_rate,
                        "ceil_kbps": _ceil(best_effort, "best_effort", best_effort_rate, link, default=link)},
        "leaf_qdisc": _leaf_qdisc(spec.get("leaf_qdisc"), offered),
    }


def _printable_kbps(kbps):
    """Best effort's derived rate, rounded down to what tc prints back exactly."""
    return kbps - kbps % 1000 if kbps >= WHOLE_MBIT_FROM_KBPS else kbps


def _leaf_qdisc(value, offered):
    if value in (None, "auto"):
        return "fq_codel" if offered is None else choose_leaf_qdisc(offered)
    check.one_of(value, "leaf_qdisc", ("auto",) + LEAF_QDISCS)
    if offered is not None and value not in offered:
        raise FieldError("leaf_qdisc", "%s is not offered by this kernel; it offers %s, or use auto"
                         % (value, ", ".join(sorted(offered))))
    return value


# ---------------------------------------------------------------------------
# The desired tree
# ---------------------------------------------------------------------------

def htb_class(parent, rate, ceil, prio=None, leaf=None):
    """A class of the model from its rate and ceiling in kbit/s."""
    return {"parent": parent, "rate_bit": rate * 1000, "ceil_bit": ceil * 1000, "prio": prio, "leaf": leaf}


def build_tree(spec):
    """The canonical model of the tree for normalised arguments (:func:`normalize_spec`)."""
    link, leaf = spec["link_kbps"], spec["leaf_qdisc"]
    parts = ((REALTIME_CLASS, spec["realtime"]), (SIGNALING_CLASS, spec["signaling"]),
             (BEST_EFFORT_CLASS, spec["best_effort"]))
    classes = {ROOT_CLASS: htb_class(None, link, link)}
    for handle, part in parts:
        classes[handle] = htb_class(ROOT_CLASS, part["rate_kbps"], part["ceil_kbps"], CLASS_PRIO[handle], leaf)
    filters = [{"protocol": protocol, "dscp": dscp, "flowid": handle}
               for handle, part in parts[:2] for dscp in part["dscp"] for protocol in PROTOCOLS]
    return {
        "interface": spec["interface"],
        "root": {"kind": "htb", "handle": ROOT_HANDLE, "default": BEST_EFFORT_CLASS},
        "classes": classes,
        "filters": sort_filters(filters),
        "unmanaged": [],
    }


def sort_filters(filters):
    return sorted(filters, key=lambda item: (item["protocol"], item["dscp"], item["flowid"]))


def has_tree(model):
    """Whether the interface has a root qdisc of its own (not the kernel's default, handle 0:)."""
    root = model.get("root") if model else None
    return bool(root) and root["handle"] != DEFAULT_ROOT_HANDLE


def is_managed_tree(model):
    """Whether the root is an HTB qdisc at this module's handle: a tree ``absent`` may remove."""
    root = model.get("root") if model else None
    return bool(root) and root["kind"] == "htb" and root["handle"] == ROOT_HANDLE


def split_handle(handle):
    """'1:10' -> (0x1, 0x10); '1:' -> (0x1, 0)."""
    major, _sep, minor = handle.partition(":")
    return int(major or "0", 16), int(minor or "0", 16)
