# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the shared validation helpers: every refusal names its field and says what is allowed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import validation as check
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError


def refused(function, *args):
    with pytest.raises(FieldError) as error:
        function(*args)
    return error.value


def test_field_error_carries_field_and_message():
    error = FieldError("rules[2].ports[0]", "use an integer 1-65535")
    assert (error.field, error.message) == ("rules[2].ports[0]", "use an integer 1-65535")
    assert str(error) == "rules[2].ports[0]: use an integer 1-65535"
    assert issubclass(ParseError, Exception) and not issubclass(ParseError, FieldError)


@pytest.mark.parametrize("value", ["media", "m", "tls_fallback", "a" + "b" * 30, "v4_2"])
def test_identifier_accepts_lowercase_names(value):
    assert check.identifier(value, "config.rules[0].name", "rule name") == value


@pytest.mark.parametrize("value", ["media\n", "media\r\n", "\nmedia", " media", "media ", "Media", "1media", "_media",
                                   "media-rule", "m" * 32, "", "médià", None, 7, ["media"]])
def test_identifier_refuses_everything_else(value):
    error = refused(check.identifier, value, "config.rules[0].name", "rule name")
    assert error.field == "config.rules[0].name"
    assert "is not a valid rule name" in error.message and "lowercase letter" in error.message


def test_short_cuts_a_flood_and_says_how_long_it_was():
    assert check.short("media") == "'media'"
    text = check.short("9" * 5000)
    assert text.startswith("'999") and text.endswith("...(5002 characters)")
    assert len(text) < check.MAX_TOKEN + 30
    # Python 3.11+ refuses to print an integer this long; the error message must still come out
    assert check.short(10 ** 5000) == "an integer of more than 64 digits"


def test_choice_defaults_and_lists_the_choices():
    assert check.choice({}, "mode", ("permit", "enforce"), "permit") == "permit"
    assert check.choice({"mode": None}, "mode", ("permit", "enforce"), "permit") == "permit"
    assert check.choice({"mode": "enforce"}, "mode", ("permit", "enforce"), "permit") == "enforce"
    error = refused(check.choice, {"config.mode": "audit"}, "config.mode", ("permit", "enforce"), "permit")
    assert (error.field, error.message) == ("config.mode", "'audit' is not allowed; choose one of permit, enforce")


@pytest.mark.parametrize("value, expected", [(5, 5), ("5", 5), ("0x10", 16), (" 7 ", 7), (0, 0), (10, 10)])
def test_integer_accepts_decimal_and_hex(value, expected):
    assert check.integer(value, "priority", 0, 16) == expected


HUGE = {"5000-digit text": "9" * 5000, "5000-digit integer": 10 ** 5000}


@pytest.mark.parametrize("value", [-1, 17, True, False, 1.0, "1.5", "seven", "", None, [1]] + list(HUGE.values()),
                         ids=lambda value: next((name for name, huge in HUGE.items() if huge is value), None))
def test_integer_refuses_what_is_not_an_integer_in_range(value):
    error = refused(check.integer, value, "config.permit_mark", 0, 16)
    assert error.field == "config.permit_mark"
    assert error.message.endswith("use an integer from 0 to 16")
    assert len(error.message) < 200


def test_int_in_uses_the_default_only_for_a_missing_value():
    assert check.int_in({}, "rollback_timeout", 0, 0, 86400) == 0
    assert check.int_in({"rollback_timeout": None}, "rollback_timeout", 30, 0, 86400) == 30
    assert refused(check.int_in, {"rollback_timeout": 86401}, "rollback_timeout", 0, 0, 86400).field == "rollback_timeout"


def test_number_in_is_above_lo_and_at_most_hi():
    assert check.number_in({}, "resolve_timeout", 5, 0, 300) == 5.0
    assert isinstance(check.number_in({"resolve_timeout": 2}, "resolve_timeout", 5, 0, 300), float)
    assert check.number_in({"resolve_timeout": 300}, "resolve_timeout", 5, 0, 300) == 300.0
    for value in (0, -1, 300.5, True, "5", float("nan")):
        error = refused(check.number_in, {"resolve_timeout": value}, "resolve_timeout", 5, 0, 300)
        assert error.field == "resolve_timeout" and "above 0 and at most 300" in error.message


def test_flag_wants_a_real_boolean():
    assert check.flag({}, "allow_special_answers") is False
    assert check.flag({}, "allow_special_answers", default=True) is True
    assert check.flag({"allow_special_answers": True}, "allow_special_answers") is True
    for value in ("yes", 1, 0, "false"):
        error = refused(check.flag, {"allow_special_answers": value}, "allow_special_answers")
        assert error.field == "allow_special_answers" and "true or false" in error.message


def test_string_list():
    assert check.string_list({}, "nameservers") == []
    assert check.string_list({"nameservers": ["192.0.2.53"]}, "nameservers") == ["192.0.2.53"]
    for value in ("192.0.2.53", ["192.0.2.53", 53], {"a": "b"}):
        error = refused(check.string_list, {"nameservers": value}, "nameservers")
        assert (error.field, error.message) == ("nameservers", "must be a list of strings")


def test_mapping():
    assert check.mapping({}, "resolved", "names") == {}
    assert check.mapping({"resolved": {"a.example": []}}, "resolved", "names") == {"a.example": []}
    error = refused(check.mapping, {"resolved": ["a.example"]}, "resolved", "DNS name to addresses")
    assert (error.field, error.message) == ("resolved", "must be a dict of DNS name to addresses")


def test_known_keys_names_the_unknown_ones_sorted():
    check.known_keys({"name": 1, "ports": 2}, "config.rules[0]", ("name", "protocol", "ports"))
    error = refused(check.known_keys, {"port": 1, "name": 2, "dport": 3}, "config.rules[0]", ("name", "ports"))
    assert error.field == "config.rules[0]"
    assert error.message == "unknown key(s) dport, port; allowed are name, ports"


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=40))
def test_identifier_accepts_exactly_the_documented_shape(text):
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789_")
    valid = 1 <= len(text) <= 31 and "a" <= text[0] <= "z" and set(text) <= allowed
    try:
        check.identifier(text, "name", "group name")
    except FieldError as error:
        assert not valid and error.field == "name"
    else:
        assert valid


def test_one_of_is_choice_without_a_default():
    assert check.one_of("video", "sessions[0].type", ("audio", "video")) == "video"
    error = refused(check.one_of, None, "sessions[0].type", ("audio", "video"))
    assert (error.field, error.message) == ("sessions[0].type", "None is not allowed; choose one of audio, video")


def test_dict_with_keys_wants_a_dict_of_known_keys():
    assert check.dict_with_keys({"rate_kbps": 1}, "realtime", ("rate_kbps", "dscp")) == {"rate_kbps": 1}
    error = refused(check.dict_with_keys, ["rate_kbps"], "realtime", ("rate_kbps", "dscp"))
    assert (error.field, error.message) == ("realtime", "must be a dict with the keys rate_kbps, dscp")
    error = refused(check.dict_with_keys, {"rate": 1, "dscp": []}, "realtime", ("rate_kbps", "dscp"))
    assert error.message == "unknown key(s) rate; allowed are rate_kbps, dscp"


@pytest.mark.parametrize("value, expected", [(0, 0), (7, 7), (7.0, 7), ("7", 7), (" 7 ", 7), ("7.0", 7)])
def test_count_takes_whole_numbers_as_numbers_or_text(value, expected):
    result = check.count(value, "sessions[0].concurrent")
    assert result == expected and isinstance(result, int)


@pytest.mark.parametrize("value", [-1, 7.5, "7.5", True, False, None, "seven", "", [7], float("inf"), float("nan"),
                                   "nan", "9" * 5000])
def test_count_refuses_what_is_not_a_whole_number(value):
    error = refused(check.count, value, "sessions[0].concurrent")
    assert error.field == "sessions[0].concurrent"
    assert error.message.endswith("is not a whole number of at least 0") and len(error.message) < 200


def test_count_bounds_and_huge_integers():
    assert check.count(63, "dscp", minimum=0, maximum=63) == 63
    assert refused(check.count, 64, "dscp", 0, 63).message == "64 is not a whole number from 0 to 63"
    assert refused(check.count, 1, "participants", 2).message == "1 is not a whole number of at least 2"
    # too large for a float, and for Python 3.11+ to print: still a clean refusal
    assert refused(check.count, 10 ** 5000, "dscp", 0, 63).message == \
        "an integer of more than 64 digits is not a whole number from 0 to 63"
    assert check.count(10 ** 30, "concurrent") == 10 ** 30


def test_amount_bounds_and_types():
    assert check.amount("2.5", "headroom_pct") == 2.5
    assert check.amount(10.0, "headroom_pct") == 10 and isinstance(check.amount(10.0, "headroom_pct"), int)
    assert check.amount(0, "headroom_pct") == 0
    assert check.amount(1, "grade_of_service", maximum=1) == 1
    error = refused(check.amount, 0, "link_up_kbps", 0, None, True)
    assert error.message == "0 is not a number above 0"
    error = refused(check.amount, 101, "max_share_pct", 0, 100, True)
    assert error.message == "101 is not a number above 0 and at most 100"
    for value in (-0.5, True, "ten", None, float("nan"), float("-inf"), {}):
        error = refused(check.amount, value, "headroom_pct")
        assert error.field == "headroom_pct" and "is not a number of at least 0" in error.message


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.integers(-10, 10 ** 6), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=12), st.booleans(), st.none()))
def test_count_returns_an_int_in_range_or_names_the_field(value):
    try:
        result = check.count(value, "field", minimum=1, maximum=1000)
    except FieldError as error:
        assert error.field == "field"
    else:
        assert isinstance(result, int) and not isinstance(result, bool) and 1 <= result <= 1000
        assert float(value) == result
