"""The bandwidth model: every figure of the requirements page, Erlang B against published values, bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.qos import bandwidth
from ansible_collections.dlegate.rtc.plugins.module_utils.qos.bandwidth import circuits_for, erlang_b, plan


def one(session, **profile):
    return plan(dict(profile, sessions=[dict({"concurrent": 1}, **session)]))


def media(result, traffic_class):
    """(upstream, downstream) of a class."""
    return result["classes"][traffic_class]["upstream_kbps"], result["classes"][traffic_class]["downstream_kbps"]


# ---------------------------------------------------------------------------
# The page's figures, at the top of each range
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("session, traffic_class, kbps", [
    ({"type": "audio"}, "audio", (60, 60)),                                   # 1:1 audio: 50-60 kbps each way
    ({"type": "video"}, "video", (700, 700)),                                 # standard video 1:1: 600-700 kbps
    ({"type": "video_hd"}, "video", (1400, 1400)),                            # HD video: up to 1.4 Mbps
    ({"type": "screen_share"}, "screen_share", (1200, 1200)),                 # high quality: up to 1.2 Mbps
    ({"type": "screen_share", "quality": "high"}, "screen_share", (1200, 1200)),
    ({"type": "screen_share", "quality": "adaptive"}, "screen_share", (300, 300)),  # adaptive: from 300 kbps
])
def test_one_session_of_each_kind(session, traffic_class, kbps):
    result = one(session)
    assert media(result, traffic_class) == kbps
    assert media(result, "signaling") == (10, 10)
    assert (result["upstream_kbps"], result["downstream_kbps"]) == (kbps[0] + 10, kbps[1] + 10)
    others = set(bandwidth.CLASSES) - {traffic_class, "signaling"}
    assert all(media(result, name) == (0, 0) for name in others)


def test_multi_participant_audio_adds_downstream_per_participant():
    assert media(one({"type": "audio", "participants": 2}), "audio") == (60, 60)
    assert media(one({"type": "audio", "participants": 3}), "audio") == (60, 120)
    assert media(one({"type": "audio", "participants": 6}), "audio") == (60, 300)


def test_small_video_groups_add_downstream_per_visible_stream():
    assert media(one({"type": "video", "participants": 3}), "video") == (700, 1400)
    assert media(one({"type": "video", "participants": 4}), "video") == (700, 2100)
    assert media(one({"type": "video", "participants": 4, "visible_streams": 1}), "video") == (700, 700)
    assert media(one({"type": "video_hd", "participants": 3}), "video") == (1400, 2100)


def test_large_video_groups_receive_further_streams_at_the_adaptive_rate():
    assert media(one({"type": "video", "participants": 5}), "video") == (700, 700 + 3 * 300)
    assert media(one({"type": "video", "participants": 12, "visible_streams": 4}), "video") == (700, 1600)
    assert media(one({"type": "video_hd", "participants": 25, "visible_streams": 9}), "video") == (1400, 3800)


def test_per_stream_rate_is_lower_in_larger_groups():
    small = one({"type": "video", "participants": 4, "visible_streams": 3})
    large = one({"type": "video", "participants": 5, "visible_streams": 3})
    assert media(large, "video")[1] < media(small, "video")[1]


def test_group_rules_are_parameters():
    rules = {"downstream_per_extra_participant_kbps": 40, "downstream_per_extra_stream_kbps": 500,
             "adaptive_scaling_from": 8, "adaptive_stream_kbps": 150, "signaling_per_session_kbps": 25}
    assert media(one({"type": "audio", "participants": 4}, **rules), "audio") == (60, 140)
    assert media(one({"type": "video", "participants": 7, "visible_streams": 3}, **rules), "video") == (700, 1700)
    assert media(one({"type": "video", "participants": 8, "visible_streams": 3}, **rules), "video") == (700, 1000)
    assert media(one({"type": "video"}, **rules), "signaling") == (25, 25)


def test_the_defaults_are_documented_values():
    assert bandwidth.DEFAULT_RULES == {
        "downstream_per_extra_participant_kbps": 60, "downstream_per_extra_stream_kbps": 700,
        "adaptive_scaling_from": 5, "adaptive_stream_kbps": 300, "signaling_per_session_kbps": 10}
    assert (bandwidth.DEFAULT_PARTICIPANTS, bandwidth.DEFAULT_MAX_SHARE_PCT, bandwidth.DEFAULT_HEADROOM_PCT) == (2, 33, 0)


# ---------------------------------------------------------------------------
# A site
# ---------------------------------------------------------------------------

BRANCH = {
    "sessions": [
        {"type": "audio", "offered_erlangs": 10, "grade_of_service": 0.01},
        {"type": "video", "concurrent": 10, "participants": 4},
        {"type": "screen_share", "concurrent": 2, "quality": "adaptive"},
        {"type": "audio", "concurrent": 2, "participants": 4},
    ],
    "headroom_pct": 10,
    "link_up_kbps": 50000,
    "link_down_kbps": 100000,
}


def test_a_branch_office():
    # audio: 18 (Erlang B) x 60/60 + 2 x 60/180; video: 10 x 700/2100; share: 2 x 300/300;
    # signalling: 32 sessions x 10; every class + 10 %, rounded up.
    assert plan(BRANCH) == {
        "upstream_kbps": 1320 + 7700 + 660 + 352,
        "downstream_kbps": 1584 + 23100 + 660 + 352,
        "classes": {
            "audio": {"upstream_kbps": 1320, "downstream_kbps": 1584},
            "video": {"upstream_kbps": 7700, "downstream_kbps": 23100},
            "screen_share": {"upstream_kbps": 660, "downstream_kbps": 660},
            "signaling": {"upstream_kbps": 352, "downstream_kbps": 352},
        },
        "concurrency": {"audio": 20, "video": 10, "video_hd": 0, "screen_share": 2},
        "warnings": [],
    }


def test_headroom_rounds_up_to_whole_kbps():
    assert media(one({"type": "audio", "concurrent": 3}, headroom_pct=12.5), "audio") == (203, 203)  # 202.5
    assert media(one({"type": "audio", "concurrent": 3}, headroom_pct="12.5"), "audio") == (203, 203)


def test_decimal_rules_add_up_exactly():
    # 60 + 10 x 6.1 is 121 exactly; summed as floats it is 121.00000000000001 and would round up to 122.
    result = one({"type": "audio", "participants": 12}, downstream_per_extra_participant_kbps=6.1)
    assert media(result, "audio") == (60, 121)


def test_counts_may_be_strings():
    assert one({"type": "video", "concurrent": "3", "participants": "4"})["concurrency"]["video"] == 3


def test_zero_sessions_reserve_nothing():
    result = one({"type": "video_hd", "concurrent": 0}, link_down_kbps=100)
    assert result["upstream_kbps"] == result["downstream_kbps"] == 0
    assert result["warnings"] == []


# ---------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------

def test_reservation_above_the_allowed_share_of_a_link():
    result = plan({"sessions": [{"type": "video", "concurrent": 10}], "link_up_kbps": 20000,
                   "link_down_kbps": 100000})
    assert result["warnings"] == ["the upstream reservation of 7100 kbps is 35.5% of the 20000 kbps link, "
                                  "above the allowed 33%"]


def test_the_allowed_share_is_a_parameter():
    profile = {"sessions": [{"type": "video", "concurrent": 10}], "link_up_kbps": 20000, "max_share_pct": 40}
    assert plan(profile)["warnings"] == []
    profile["max_share_pct"] = 30
    assert plan(profile)["warnings"] == ["the upstream reservation of 7100 kbps is 35.5% of the 20000 kbps link, "
                                         "above the allowed 30%"]


def test_a_link_that_cannot_carry_one_session():
    result = plan({"sessions": [{"type": "video_hd", "concurrent": 2}, {"type": "audio", "concurrent": 1}],
                   "link_up_kbps": 1000, "link_down_kbps": 8000})
    assert result["warnings"] == [
        "the upstream link of 1000 kbps cannot carry even one video_hd session (1410 kbps)",
        "the upstream reservation of 2890 kbps is 289% of the 1000 kbps link, above the allowed 33%",
        "the downstream reservation of 2890 kbps is 36.1% of the 8000 kbps link, above the allowed 33%",
    ]


def test_no_link_no_warnings():
    assert plan({"sessions": [{"type": "video_hd", "concurrent": 1000}]})["warnings"] == []


# ---------------------------------------------------------------------------
# Erlang B
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("erlangs, grade_of_service, circuits", [
    (10, 0.01, 18),       # telephony's rule of thumb (see docs/qos.md)
    (8.108, 0.01, 15),    # erlang.com: 15 lines at 1 % carry 8.108 erlangs
    (33.333, 0.01, 45),   # erlang.com: 1200 calls of 3 minutes in the busy hour at 1 % need 45 lines
    (0, 0.01, 0),
])
def test_circuits_for_published_values(erlangs, grade_of_service, circuits):
    assert circuits_for(erlangs, grade_of_service) == circuits


def test_blocking_for_published_values():
    assert erlang_b(8.108, 15) == pytest.approx(0.01, abs=1e-5)       # erlang.com, 15 lines at 1 %
    assert erlang_b(25, 30) == pytest.approx(0.0526, abs=1e-4)        # Mathematica: 30 lines, 25 E, about 0.05
    assert erlang_b(10, 17) > 0.01 >= erlang_b(10, 18)
    assert erlang_b(5, 0) == 1.0


def _exact_erlang_b(erlangs, circuits):
    """E^N/N! over the sum of E^k/k!, in exact rationals."""
    erlangs = Fraction(erlangs)
    terms = [erlangs ** k / math.factorial(k) for k in range(circuits + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize("erlangs, circuits", [(1, 1), (2.5, 4), (10, 18), (50, 64), (120, 140), (300, 324)])
def test_the_recursion_matches_the_formula(erlangs, circuits):
    assert erlang_b(erlangs, circuits) == pytest.approx(float(_exact_erlang_b(erlangs, circuits)), rel=1e-9)


def test_hundreds_of_erlangs():
    # E^N/N! in floats overflows long before this; the recursion does not.
    with pytest.raises(OverflowError):
        float(500) ** 527 / math.factorial(527)
    assert circuits_for(500, 0.01) == 527
    assert erlang_b(500, 527) <= 0.01 < erlang_b(500, 526)
    assert circuits_for(100, 0.01) == 117
    result = plan({"sessions": [{"type": "audio", "offered_erlangs": 500, "grade_of_service": 0.01}]})
    assert result["concurrency"]["audio"] == 527
    assert media(result, "audio") == (527 * 60, 527 * 60)


@settings(max_examples=80, deadline=None, database=None)
@given(st.floats(0.01, 1000), st.floats(0.0001, 0.5))
def test_circuits_are_the_fewest_that_meet_the_grade(erlangs, grade_of_service):
    circuits = circuits_for(erlangs, grade_of_service)
    assert erlang_b(erlangs, circuits) <= grade_of_service
    assert circuits == 0 or erlang_b(erlangs, circuits - 1) > grade_of_service


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

def bad_session(**changes):
    session = {"type": "video", "concurrent": 2}
    session.update(changes)
    return {"sessions": [{"type": "audio", "concurrent": 1}, {k: v for k, v in session.items() if v != "DROP"}]}


@pytest.mark.parametrize("profile, field, words", [
    (bad_session(type="fax"), "sessions[1].type", "choose one of audio, video, video_hd, screen_share"),
    (bad_session(type=None), "sessions[1].type", "not allowed"),
    (bad_session(concurrent=-1), "sessions[1].concurrent", "at least 0"),
    (bad_session(concurrent=2.5), "sessions[1].concurrent", "whole number"),
    (bad_session(concurrent=True), "sessions[1].concurrent", "whole number"),
    (bad_session(concurrent="many"), "sessions[1].concurrent", "whole number"),
    (bad_session(concurrent="DROP"), "sessions[1]", "needs concurrent, or offered_erlangs with grade_of_service"),
    (bad_session(offered_erlangs=5, grade_of_service=0.01), "sessions[1]", "either concurrent or offered_erlangs"),
    (bad_session(concurrent="DROP", offered_erlangs=5), "sessions[1].grade_of_service", "is required"),
    (bad_session(concurrent="DROP", offered_erlangs=5, grade_of_service=0), "sessions[1].grade_of_service",
     "above 0"),
    (bad_session(concurrent="DROP", offered_erlangs=5, grade_of_service=1), "sessions[1].grade_of_service",
     "strictly between 0 and 1"),
    (bad_session(concurrent="DROP", offered_erlangs=5, grade_of_service=1.5), "sessions[1].grade_of_service",
     "at most 1"),
    (bad_session(concurrent="DROP", offered_erlangs=5, grade_of_service=-0.1), "sessions[1].grade_of_service",
     "above 0"),
    (bad_session(concurrent="DROP", offered_erlangs=-5, grade_of_service=0.01), "sessions[1].offered_erlangs",
     "at least 0"),
    (bad_session(concurrent="DROP", offered_erlangs=float("nan"), grade_of_service=0.01),
     "sessions[1].offered_erlangs", "not a number"),
    (bad_session(concurrent="DROP", offered_erlangs=10 ** 6, grade_of_service=0.01), "sessions[1].offered_erlangs",
     "at most 100000"),
    (bad_session(grade_of_service=0.01), "sessions[1].grade_of_service", "goes with offered_erlangs"),
    (bad_session(participants=1), "sessions[1].participants", "at least 2"),
    (bad_session(participants=4, visible_streams=4), "sessions[1].visible_streams", "from 1 to 3"),
    (bad_session(visible_streams=0), "sessions[1].visible_streams", "from 1 to 1"),
    (bad_session(type="audio", visible_streams=1), "sessions[1].visible_streams", "video and video_hd sessions only"),
    (bad_session(quality="high"), "sessions[1].quality", "screen_share sessions only"),
    (bad_session(type="screen_share", quality="low"), "sessions[1].quality", "choose one of high, adaptive"),
    (bad_session(codec="vp8"), "sessions[1]", "unknown key(s) codec"),
    ({"sessions": ["audio"]}, "sessions[0]", "must be a dict"),
    ({"sessions": []}, "sessions", "non-empty list"),
    ({"sessions": {"type": "audio"}}, "sessions", "non-empty list"),
    ({}, "sessions", "non-empty list"),
    ("audio", "profile", "must be a dict"),
    (dict(bad_session(), headroom_pct=-5), "headroom_pct", "at least 0"),
    (dict(bad_session(), headroom_pct=5000), "headroom_pct", "at most 1000"),
    (dict(bad_session(), link_up_kbps=0), "link_up_kbps", "above 0"),
    (dict(bad_session(), link_down_kbps="fast"), "link_down_kbps", "not a number"),
    (dict(bad_session(), max_share_pct=0), "max_share_pct", "above 0"),
    (dict(bad_session(), max_share_pct=101), "max_share_pct", "at most 100"),
    (dict(bad_session(), adaptive_scaling_from=2), "adaptive_scaling_from", "at least 3"),
    (dict(bad_session(), adaptive_stream_kbps=-1), "adaptive_stream_kbps", "at least 0"),
    (dict(bad_session(), signalling_kbps=5), "profile", "unknown key(s) signalling_kbps"),
])
def test_bad_input_names_the_field(profile, field, words):
    with pytest.raises(FieldError) as error:
        plan(profile)
    assert error.value.field == field
    assert words in error.value.message


def test_a_huge_bad_value_is_cut_in_the_message():
    with pytest.raises(FieldError) as error:
        plan(bad_session(type="x" * 10000))
    assert len(str(error.value)) < 200


# ---------------------------------------------------------------------------
# Any profile
# ---------------------------------------------------------------------------

session_items = st.fixed_dictionaries(
    {"type": st.sampled_from(bandwidth.TYPES)},
    optional={"concurrent": st.one_of(st.integers(-1, 50), st.sampled_from(["3", "x", None, 1.5])),
              "offered_erlangs": st.one_of(st.floats(-1, 300), st.none()),
              "grade_of_service": st.one_of(st.floats(-0.1, 1.1), st.none()),
              "participants": st.integers(0, 30),
              "visible_streams": st.integers(0, 30),
              "quality": st.sampled_from(["high", "adaptive", "low"])})
profiles = st.fixed_dictionaries(
    {"sessions": st.lists(session_items, min_size=1, max_size=4)},
    optional={"headroom_pct": st.floats(-1, 50), "link_up_kbps": st.floats(-1, 10 ** 6),
              "link_down_kbps": st.floats(-1, 10 ** 6), "max_share_pct": st.floats(-1, 120),
              "adaptive_scaling_from": st.integers(0, 10)})


@settings(max_examples=200, deadline=None, database=None)
@given(profiles)
def test_any_profile_is_a_plan_or_a_field_error(profile):
    try:
        result = plan(profile)
    except FieldError as error:
        assert error.field.split("[")[0].split(".")[0] in set(bandwidth.PROFILE_KEYS) | {"profile"}
        return
    for direction in ("upstream", "downstream"):
        assert result[direction + "_kbps"] == sum(item[direction + "_kbps"] for item in result["classes"].values())
    assert all(value >= 0 for item in result["classes"].values() for value in item.values())
    more = dict(profile, sessions=profile["sessions"] + [{"type": "audio", "concurrent": 1}])
    assert plan(more)["upstream_kbps"] > result["upstream_kbps"]
