# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation helpers shared by every module's core: each raises FieldError naming the field.

Two kinds: helpers that take the module's ``params`` and a field name and apply
a default (``choice``, ``int_in``, ``number_in``, ``flag``...), and helpers that
check one value already taken out (``integer``, ``count``, ``amount``,
``one_of``, ``dict_with_keys``...). Numbers for ``count`` and ``amount`` may
come as strings, the way ``-e key=value`` hands them over, but a boolean is
never a number.
"""

from __future__ import annotations

import math
import re

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError

# A lowercase letter followed by up to 30 lowercase letters, digits or underscores.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,30}")
# Longest text accepted where a short token is expected; a longer one is refused before any parsing.
MAX_TOKEN = 64


def short(value):
    """``repr`` of a value, cut so that a hostile argument cannot flood the error message."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print (Python 3.11+ limits int-to-text conversion)
        return "an integer of more than %d digits" % MAX_TOKEN
    return text if len(text) <= MAX_TOKEN else text[:MAX_TOKEN] + "...(%d characters)" % len(text)


def one_of(value, field, choices):
    if value not in choices:
        raise FieldError(field, "%s is not allowed; choose one of %s" % (short(value), ", ".join(choices)))
    return value


def choice(params, field, choices, default):
    value = params.get(field)
    return one_of(default if value is None else value, field, choices)


def integer(value, field, lo, hi):
    """An integer from lo to hi; decimal or 0x-prefixed strings are accepted."""
    if isinstance(value, str) and len(value) <= MAX_TOKEN:
        try:
            value = int(value, 0)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise FieldError(field, "%s is not allowed; use an integer from %d to %d" % (short(value), lo, hi))
    return value


def int_in(params, field, default, lo, hi):
    value = params.get(field)
    return integer(default if value is None else value, field, lo, hi)


def number_in(params, field, default, lo, hi, unit="seconds"):
    """A number above ``lo`` and at most ``hi``."""
    value = params.get(field)
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo < value <= hi:
        raise FieldError(field, "%s is not allowed; use a number of %s above %s and at most %s"
                         % (short(value), unit, lo, hi))
    return float(value)


def _as_number(value, field, what):
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise FieldError(field, "%s is not %s" % (short(value), what))
    # Any int is finite; math.isfinite() cannot even take one too large for a float.
    finite = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if isinstance(value, bool) or not finite:
        raise FieldError(field, "%s is not %s" % (short(value), what))
    return value


def count(value, field, minimum=0, maximum=None):
    """A whole number from ``minimum`` (and up to ``maximum``); ``3.0`` and ``"3"`` count as 3."""
    what = "a whole number of at least %d" % minimum if maximum is None else \
        "a whole number from %d to %d" % (minimum, maximum)
    number = _as_number(value, field, what)
    if number != int(number) or number < minimum or (maximum is not None and number > maximum):
        raise FieldError(field, "%s is not %s" % (short(value), what))
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
        raise FieldError(field, "%s is not %s" % (short(value), what))
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def flag(params, field, default=False):
    value = params.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise FieldError(field, "%s is not allowed; use true or false" % short(value))
    return value


def string_list(params, field):
    value = params.get(field) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError(field, "must be a list of strings")
    return value


def mapping(params, field, what):
    value = params.get(field) or {}
    if not isinstance(value, dict):
        raise FieldError(field, "must be a dict of %s" % what)
    return value


def identifier(value, field, what):
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise FieldError(field, "%s is not a valid %s; use a lowercase letter followed by up to 30 "
                                "lowercase letters, digits or underscores" % (short(value), what))
    return value


def known_keys(raw, field, allowed):
    """Refuse keys of a dict that are not among ``allowed``."""
    unknown = sorted(str(key) for key in set(raw) - set(allowed))
    if unknown:
        raise FieldError(field, "unknown key(s) %s; allowed are %s" % (", ".join(unknown), ", ".join(allowed)))


def dict_with_keys(value, field, allowed):
    """A dict whose keys are all among ``allowed``."""
    if not isinstance(value, dict):
        raise FieldError(field, "must be a dict with the keys %s" % ", ".join(allowed))
    known_keys(value, field, allowed)
    return value


def unique_names(items, field, what, reserved=()):
    """Refuse a list item whose ``name`` an earlier item (or ``reserved``) already has."""
    seen = set(reserved)
    for index, item in enumerate(items):
        if item["name"] in seen:
            raise FieldError("%s[%d].name" % (field, index), "%r is used already; %s names must be unique%s"
                             % (item["name"], what, " and not %s" % ", ".join(reserved) if reserved else ""))
        seen.add(item["name"])
    return items
