# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation helpers shared by every module's core: each raises FieldError naming the field."""

from __future__ import annotations

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


def choice(params, field, choices, default):
    value = params.get(field)
    value = default if value is None else value
    if value not in choices:
        raise FieldError(field, "%s is not allowed; choose one of %s" % (short(value), ", ".join(choices)))
    return value


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
