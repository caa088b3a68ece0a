# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the numbers, choices and keys that QoS arguments are made of.

Each check returns the clean value or raises ``FieldError`` naming the field.
Numbers may come as strings, the way ``-e key=value`` hands them over, but a
boolean is never a number.
"""

from __future__ import annotations

import math

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError

# Longest rendering of a bad value in a message, so that a huge argument cannot flood it.
SHOWN_CHARACTERS = 64


def shown(value):
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "..."


def _as_number(value, field, what):
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise FieldError(field, "%s is not %s" % (shown(value), what))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(field, "%s is not %s" % (shown(value), what))
    return value


def count(value, field, minimum=0, maximum=None):
    """A whole number from ``minimum`` (and up to ``maximum``)."""
    what = "a whole number of at least %d" % minimum if maximum is None else \
        "a whole number from %d to %d" % (minimum, maximum)
    number = _as_number(value, field, what)
    if number != int(number) or number < minimum or (maximum is not None and number > maximum):
        raise FieldError(field, "%s is not %s" % (shown(value), what))
    return int(number)


def amount(value, field, minimum=0, maximum=None, above_minimum=False):
    """A number from ``minimum`` (or above it) up to ``maximum``; whole numbers stay ints."""
    if above_minimum:
        what = "a number above %s" % minimum
    else:
        what = "a number of at least %s" % minimum
    if maximum is not None:
        what += " and at most %s" % maximum
    number = _as_number(value, field, what)
    too_low = number <= minimum if above_minimum else number < minimum
    if too_low or (maximum is not None and number > maximum):
        raise FieldError(field, "%s is not %s" % (shown(value), what))
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def choice(value, field, choices):
    if value not in choices:
        raise FieldError(field, "%s is not allowed; choose one of %s" % (shown(value), ", ".join(choices)))
    return value


def mapping(value, field, allowed):
    """A dict whose keys are all in ``allowed``."""
    if not isinstance(value, dict):
        raise FieldError(field, "must be a dict with the keys %s" % ", ".join(allowed))
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise FieldError(field, "unknown key(s) %s; allowed are %s" % (", ".join(unknown), ", ".join(allowed)))
    return value
