# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service's bandwidth model, and the reservation it asks of a site.

A pure function of a site profile: :func:`plan` takes the sessions a site
runs at once (or the traffic it offers, sized with Erlang B) and returns the
upstream and downstream kbit/s to reserve, per traffic class, with warnings
when the reservation does not fit the link.

The per-session figures are the top of each range on the requirements page.
The page leaves the group rules open; they are the parameters in
``DEFAULT_RULES``, which a profile may override key by key.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError

TYPES = ("audio", "video", "video_hd", "screen_share")
QUALITIES = ("high", "adaptive")
CLASSES = ("audio", "video", "screen_share", "signaling")
CLASS_OF_TYPE = {"audio": "audio", "video": "video", "video_hd": "video", "screen_share": "screen_share"}
DIRECTIONS = ("upstream", "downstream")

# kbit/s each way for one 1:1 session: the top of the page's ranges.
AUDIO_KBPS = 60
VIDEO_KBPS = {"video": 700, "video_hd": 1400}
SCREEN_SHARE_KBPS = {"high": 1200, "adaptive": 300}

DEFAULT_RULES = {
    # Multi-participant audio: downstream added for each participant beyond the second.
    "downstream_per_extra_participant_kbps": 60,
    # Small video groups: downstream added for each visible stream beyond the first.
    "downstream_per_extra_stream_kbps": 700,
    # From this many participants on, a group is large and adaptive scaling starts...
    "adaptive_scaling_from": 5,
    # ...and each visible stream beyond the first is received at this rate instead.
    "adaptive_stream_kbps": 300,
    # HTTPS/WebSocket signalling, each way, for every session.
    "signaling_per_session_kbps": 10,
}
DEFAULT_PARTICIPANTS = 2
DEFAULT_QUALITY = "high"
DEFAULT_HEADROOM_PCT = 0
DEFAULT_MAX_SHARE_PCT = 33
MAX_HEADROOM_PCT = 1000
MAX_ERLANGS = 100000

SESSION_KEYS = ("type", "concurrent", "offered_erlangs", "grade_of_service", "participants",
                "visible_streams", "quality")
PROFILE_KEYS = ("sessions", "headroom_pct", "link_up_kbps", "link_down_kbps", "max_share_pct") + tuple(DEFAULT_RULES)


# ---------------------------------------------------------------------------
# Erlang B
# ---------------------------------------------------------------------------

def erlang_b(erlangs, circuits):
    """Blocking probability of ``circuits`` offered ``erlangs``.

    The recursion B(E, 0) = 1, B(E, n) = E·B / (n + E·B) stays within [0, 1]
    at every step, where E^n / n! would overflow for a few hundred erlangs.
    """
    blocking = 1.0
    for circuit in range(1, circuits + 1):
        blocking = erlangs * blocking / (circuit + erlangs * blocking)
    return blocking


def circuits_for(erlangs, grade_of_service):
    """The smallest number of circuits N with B(erlangs, N) <= grade_of_service."""
    if erlangs == 0:
        return 0
    blocking, circuits = 1.0, 0
    while blocking > grade_of_service:
        circuits += 1
        blocking = erlangs * blocking / (circuits + erlangs * blocking)
    return circuits


# ---------------------------------------------------------------------------
# The profile
# ---------------------------------------------------------------------------

def _given(raw, key):
    return raw.get(key) is not None


def _probability(value, field):
    if value is None:
        raise FieldError(field, "is required with offered_erlangs; give the blocking probability, e.g. 0.01")
    number = check.amount(value, field, minimum=0, maximum=1, above_minimum=True)
    if number >= 1:
        raise FieldError(field, "%s is not a probability strictly between 0 and 1" % check.short(value))
    return number


def _concurrency(raw, field):
    if _given(raw, "concurrent") and _given(raw, "offered_erlangs"):
        raise FieldError(field, "give either concurrent or offered_erlangs with grade_of_service, not both")
    if _given(raw, "concurrent"):
        if _given(raw, "grade_of_service"):
            raise FieldError(field + ".grade_of_service", "goes with offered_erlangs, not with concurrent")
        return check.count(raw["concurrent"], field + ".concurrent")
    if _given(raw, "offered_erlangs"):
        erlangs = check.amount(raw["offered_erlangs"], field + ".offered_erlangs", maximum=MAX_ERLANGS)
        return circuits_for(erlangs, _probability(raw.get("grade_of_service"), field + ".grade_of_service"))
    raise FieldError(field, "needs concurrent, or offered_erlangs with grade_of_service")


def _visible_streams(raw, field, kind, participants):
    if kind not in VIDEO_KBPS:
        if _given(raw, "visible_streams"):
            raise FieldError(field + ".visible_streams", "applies to video and video_hd sessions only")
        return None
    if not _given(raw, "visible_streams"):
        return participants - 1
    return check.count(raw["visible_streams"], field + ".visible_streams", minimum=1, maximum=participants - 1)


def _quality(raw, field, kind):
    if kind != "screen_share":
        if _given(raw, "quality"):
            raise FieldError(field + ".quality", "applies to screen_share sessions only")
        return None
    return check.one_of(raw.get("quality") or DEFAULT_QUALITY, field + ".quality", QUALITIES)


def normalize_session(raw, index):
    """One item of ``sessions``, checked, with its defaults and its concurrency."""
    field = "sessions[%d]" % index
    check.dict_with_keys(raw, field, SESSION_KEYS)
    kind = check.one_of(raw.get("type"), field + ".type", TYPES)
    participants = DEFAULT_PARTICIPANTS
    if _given(raw, "participants"):
        participants = check.count(raw["participants"], field + ".participants", minimum=2)
    return {
        "type": kind,
        "concurrent": _concurrency(raw, field),
        "participants": participants,
        "visible_streams": _visible_streams(raw, field, kind, participants),
        "quality": _quality(raw, field, kind),
    }


def normalize_rules(profile):
    """The group rules: the profile's values over ``DEFAULT_RULES``."""
    rules = {}
    for key, default in DEFAULT_RULES.items():
        value = profile.get(key)
        if value is None:
            rules[key] = default
        elif key == "adaptive_scaling_from":
            rules[key] = check.count(value, key, minimum=3)
        else:
            rules[key] = exact(check.amount(value, key))
    return rules


def exact(number):
    """A float as the decimal it was written as (6.1 -> 61/10), so that sums round exactly."""
    return Fraction(repr(number)) if isinstance(number, float) else number


def _link(profile, key):
    if not _given(profile, key):
        return None
    return check.amount(profile[key], key, above_minimum=True)


def normalize_profile(profile):
    """The whole profile, checked, with every default filled in."""
    check.dict_with_keys(profile, "profile", PROFILE_KEYS)
    sessions = profile.get("sessions")
    if not isinstance(sessions, list) or not sessions:
        raise FieldError("sessions", "must be a non-empty list of sessions, each with a type and concurrent "
                                     "or offered_erlangs")
    return {
        "sessions": [normalize_session(raw, index) for index, raw in enumerate(sessions)],
        "rules": normalize_rules(profile),
        "headroom_pct": exact(check.amount(_or(profile.get("headroom_pct"), DEFAULT_HEADROOM_PCT), "headroom_pct",
                                           maximum=MAX_HEADROOM_PCT)),
        "links": {"upstream": _link(profile, "link_up_kbps"), "downstream": _link(profile, "link_down_kbps")},
        "max_share_pct": check.amount(_or(profile.get("max_share_pct"), DEFAULT_MAX_SHARE_PCT), "max_share_pct",
                                      maximum=100, above_minimum=True),
    }


def _or(value, default):
    return default if value is None else value


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

def video_downstream_kbps(kind, participants, visible_streams, rules):
    """The first visible stream at the session's rate, each further one at the group's per-stream rate."""
    if participants >= rules["adaptive_scaling_from"]:
        per_extra_stream = rules["adaptive_stream_kbps"]
    else:
        per_extra_stream = rules["downstream_per_extra_stream_kbps"]
    return VIDEO_KBPS[kind] + (visible_streams - 1) * per_extra_stream


def session_kbps(session, rules):
    """(upstream, downstream) kbit/s of one session of a normalised ``sessions`` item, signalling excluded."""
    kind = session["type"]
    if kind == "audio":
        extra = (session["participants"] - 2) * rules["downstream_per_extra_participant_kbps"]
        return AUDIO_KBPS, AUDIO_KBPS + extra
    if kind in VIDEO_KBPS:
        return VIDEO_KBPS[kind], video_downstream_kbps(kind, session["participants"], session["visible_streams"], rules)
    rate = SCREEN_SHARE_KBPS[session["quality"]]
    return rate, rate


def class_load(sessions, rules):
    """Unrounded kbit/s per class and direction, before headroom."""
    load = {name: {direction: 0 for direction in DIRECTIONS} for name in CLASSES}
    for session in sessions:
        upstream, downstream = session_kbps(session, rules)
        traffic_class = load[CLASS_OF_TYPE[session["type"]]]
        traffic_class["upstream"] += session["concurrent"] * upstream
        traffic_class["downstream"] += session["concurrent"] * downstream
        for direction in DIRECTIONS:
            load["signaling"][direction] += session["concurrent"] * rules["signaling_per_session_kbps"]
    return load


def with_headroom(kbps, headroom_pct):
    """kbit/s raised by the headroom and rounded up to a whole kbit/s, computed exactly."""
    return int(math.ceil(Fraction(kbps) * (100 + Fraction(headroom_pct)) / 100))


def concurrency(sessions):
    totals = dict.fromkeys(TYPES, 0)
    for session in sessions:
        totals[session["type"]] += session["concurrent"]
    return totals


def _number_text(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


def _single_session_warnings(sessions, rules, links):
    warnings = []
    for session in sessions:
        if not session["concurrent"]:
            continue
        need = dict(zip(DIRECTIONS, session_kbps(session, rules)))
        for direction in DIRECTIONS:
            link, kbps = links[direction], need[direction] + rules["signaling_per_session_kbps"]
            if link is not None and kbps > link:
                warnings.append("the %s link of %s kbps cannot carry even one %s session (%s kbps)"
                                % (direction, _number_text(link), session["type"], _number_text(kbps)))
    return list(dict.fromkeys(warnings))


def _share_warnings(totals, links, max_share_pct):
    warnings = []
    for direction in DIRECTIONS:
        link = links[direction]
        if link is not None and totals[direction] * 100 > link * max_share_pct:
            warnings.append("the %s reservation of %d kbps is %s%% of the %s kbps link, above the allowed %s%%"
                            % (direction, totals[direction], _number_text(100.0 * totals[direction] / link),
                               _number_text(link), _number_text(max_share_pct)))
    return warnings


def plan(profile):
    """The reservation for a site profile; see the module docstring and the filter's documentation."""
    normalized = normalize_profile(profile)
    sessions, rules = normalized["sessions"], normalized["rules"]
    load = class_load(sessions, rules)
    classes = {
        name: {direction + "_kbps": with_headroom(load[name][direction], normalized["headroom_pct"])
               for direction in DIRECTIONS}
        for name in CLASSES
    }
    totals = {direction: sum(classes[name][direction + "_kbps"] for name in CLASSES) for direction in DIRECTIONS}
    warnings = _single_session_warnings(sessions, rules, normalized["links"])
    warnings += _share_warnings(totals, normalized["links"], normalized["max_share_pct"])
    return {
        "upstream_kbps": totals["upstream"],
        "downstream_kbps": totals["downstream"],
        "classes": classes,
        "concurrency": concurrency(sessions),
        "warnings": warnings,
    }
