# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bandwidth_plan filter: the reservation a site profile needs."""

from __future__ import annotations

DOCUMENTATION = r"""
name: bandwidth_plan
author: DLEGATE network engineering
version_added: 0.1.0
short_description: Size the real-time bandwidth reservation of a site from the service's bandwidth model
description:
  - Computes the upstream and downstream bandwidth a site must reserve for the service's sessions,
    split into the traffic classes C(audio), C(video), C(screen_share) and C(signaling).
  - Per session it uses the top of each range on the service's requirements page, in kbit/s each way
    for a 1:1 session; audio C(60), video C(700), HD video C(1400), screen sharing C(1200) at high
    quality and C(300) when adaptive.
  - Multi-participant audio adds downstream for each participant beyond the second. Video adds
    downstream for each visible stream beyond the first; in large groups those streams are
    received at a lower, adaptive rate. These group rules are parameters with documented defaults.
  - The number of concurrent sessions of an item is either given, or sized from the offered traffic
    with Erlang B, the way telephony sizes trunks; the smallest number of sessions whose Erlang B
    blocking probability does not exceed the grade of service.
  - Each class is raised by O(headroom_pct) and rounded up to a whole kbit/s; the totals are the sums
    of the classes.
  - Bad input fails naming the field, for example C(sessions[1].grade_of_service).
  - See C(docs/qos.md) in the collection for the model and the reasons for its defaults.
options:
  _input:
    description: The site profile.
    type: dict
    required: true
    suboptions:
      sessions:
        description: The kinds of session the site runs. Items of the same type add up.
        type: list
        elements: dict
        required: true
        suboptions:
          type:
            description: The kind of session.
            type: str
            required: true
            choices: [audio, video, video_hd, screen_share]
          concurrent:
            description:
              - Sessions of this kind at the same time.
              - Give either O(_input.sessions[].concurrent) or O(_input.sessions[].offered_erlangs).
            type: int
          offered_erlangs:
            description:
              - Busy-hour traffic of this kind in erlangs (sessions per hour times hours per session).
                The concurrency is then sized with Erlang B, which stays accurate for hundreds of erlangs.
            type: float
          grade_of_service:
            description: The accepted blocking probability with O(_input.sessions[].offered_erlangs), above 0 and below 1.
            type: float
          participants:
            description: Participants in each session, at least 2.
            type: int
            default: 2
          visible_streams:
            description:
              - For C(video) and C(video_hd), the video streams each participant receives at once,
                from 1 to one less than O(_input.sessions[].participants).
              - Defaults to every other participant.
            type: int
          quality:
            description: For C(screen_share), the sharing quality.
            type: str
            choices: [high, adaptive]
            default: high
      headroom_pct:
        description: Percentage added to every class for peaks and overhead.
        type: float
        default: 0
      link_up_kbps:
        description: The site's upstream link rate in kbit/s; enables the warnings for upstream.
        type: float
      link_down_kbps:
        description: The site's downstream link rate in kbit/s; enables the warnings for downstream.
        type: float
      max_share_pct:
        description:
          - The share of a link that real-time traffic may reserve. The usual rules of thumb keep
            priority traffic at 30-33% of a link.
        type: float
        default: 33
      downstream_per_extra_participant_kbps:
        description: Audio downstream added for each participant beyond the second.
        type: float
        default: 60
      downstream_per_extra_stream_kbps:
        description: Video downstream added for each visible stream beyond the first in a small group.
        type: float
        default: 700
      adaptive_scaling_from:
        description: The group size, in participants, from which adaptive video scaling starts.
        type: int
        default: 5
      adaptive_stream_kbps:
        description: Video downstream for each visible stream beyond the first in a group of
          O(_input.adaptive_scaling_from) participants or more.
        type: float
        default: 300
      signaling_per_session_kbps:
        description: Signalling bandwidth each way for every session.
        type: float
        default: 10
"""

EXAMPLES = r"""
- name: Reserve for 20 calls, 10 small video meetings and the screen sharing of a branch
  ansible.builtin.set_fact:
    qos_plan: "{{ profile | dlegate.rtc.bandwidth_plan }}"
  vars:
    profile:
      sessions:
        - type: audio
          offered_erlangs: 10
          grade_of_service: 0.01
        - type: video
          concurrent: 10
          participants: 4
        - type: screen_share
          concurrent: 2
          quality: adaptive
      headroom_pct: 10
      link_up_kbps: 50000
      link_down_kbps: 100000

- name: Stop when the reservation does not fit the links
  ansible.builtin.assert:
    that: qos_plan.warnings | length == 0
    fail_msg: "{{ qos_plan.warnings }}"
"""

RETURN = r"""
_value:
  description: The reservation.
  type: dict
  contains:
    upstream_kbps:
      description: Total upstream reservation in kbit/s, the sum of the classes.
      type: int
    downstream_kbps:
      description: Total downstream reservation in kbit/s, the sum of the classes.
      type: int
    classes:
      description:
        - Per traffic class C(audio), C(video) (standard and HD), C(screen_share) and C(signaling),
          a dict with C(upstream_kbps) and C(downstream_kbps).
      type: dict
    concurrency:
      description: The concurrent sessions planned per session type, given or sized with Erlang B.
      type: dict
    warnings:
      description:
        - Reservations above O(_input.max_share_pct) of a link, and session types of which a link cannot
          carry even one session. Empty when no link rate is given.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.qos.bandwidth import plan


def bandwidth_plan(profile):
    try:
        return plan(profile)
    except FieldError as error:
        raise AnsibleFilterError("bandwidth_plan: %s" % error)


class FilterModule:
    def filters(self):
        return {"bandwidth_plan": bandwidth_plan}
