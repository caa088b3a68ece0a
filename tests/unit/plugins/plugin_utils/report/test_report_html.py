# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report: self-contained, its numbers equal the report's, one row per host, diffs that expand."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import html_page, model
from ansible_collections.dlegate.rtc.tests.unit.plugins.plugin_utils.report.report_samples import (
    DRIFT, RUN, egress_audit, fleet_report)


class Page(HTMLParser):
    """The parts of the page the tests look at: metrics, rows, details and every URL-like attribute."""

    def __init__(self, text):
        super().__init__()
        self.metrics, self.rows, self.details, self.urls = [], [], [], []
        self._metric = None
        self._detail = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [value for key, value in attrs.items() if key in ("src", "href", "xlink:href", "action")]
        if "data-metric" in attrs:
            self._metric = [attrs["data-metric"], attrs.get("data-site"), ""]
        if tag == "tr" and "data-name" in attrs:
            self.rows.append(attrs)
        if tag == "details":
            self._detail = [attrs.get("data-control"), ""]

    def handle_data(self, data):
        if self._metric is not None:
            self._metric[2] += data
        if self._detail is not None:
            self._detail[1] += data

    def handle_endtag(self, tag):
        if self._metric is not None and tag in ("span", "text", "tspan"):
            self.metrics.append(tuple(self._metric))
            self._metric = None
        if tag == "details" and self._detail is not None:
            self.details.append(tuple(self._detail))
            self._detail = None


def expected_metric(report, metric, site):
    scope, path = metric.split(".", 1)
    data = report["totals"] if scope == "totals" else [s for s in report["sites"] if s["name"] == site][0]
    for key in path.split("."):
        data = data[key]
    return data


def test_every_number_on_the_page_is_the_report_number():
    report = fleet_report()
    page = Page(html_page.render_html(report))
    every_count = set(("totals." + group + "." + key, None) for group in ("host_states", "readiness")
                      for key in report["totals"][group])
    every_count |= set(("sites." + group + "." + key, site["name"]) for site in report["sites"]
                       for group in ("host_states", "readiness") for key in site[group])
    assert every_count <= set((metric, site) for metric, site, _text in page.metrics)
    for metric, site, text in page.metrics:
        assert int(text) == expected_metric(report, metric, site), (metric, site)
    totals = dict(((m, s), int(t)) for m, s, t in page.metrics if m.startswith("totals."))
    assert totals[("totals.host_states.drifted", None)] == 1 and totals[("totals.readiness.FAIL", None)] == 1
    sites = [(m, s, int(t)) for m, s, t in page.metrics if m.startswith("sites.")]
    assert ("sites.hosts", "site-a", 2) in sites and ("sites.host_states.error", "site-b", 1) in sites


def test_one_row_per_host_with_what_sorting_and_filtering_use():
    page = Page(html_page.render_html(fleet_report()))
    assert [(row["data-name"], row["data-site"], row["data-state"], row["data-verdict"]) for row in page.rows] == [
        ("endpoint-a1", "site-a", "compliant", "FAIL"), ("gw-a", "site-a", "drifted", "PASS"),
        ("endpoint-b1", "site-b", "error", "none")]
    gateway = page.rows[1]
    assert gateway["data-rank"] == str(model.STATES.index("drifted")) and gateway["data-plan"] == "2240"
    assert "egr-002 drifted" in gateway["data-text"]
    assert "udp_blocked" in page.rows[0]["data-text"]


def test_each_drifted_control_has_an_expandable_diff():
    page = Page(html_page.render_html(fleet_report()))
    assert [control for control, _text in page.details] == ["EGR-002"]
    text = page.details[0][1]
    assert "-  tcp dport 2222 accept" in text and "tcp dport 2222 accept" in text


def test_findings_remediation_quality_and_plan_are_shown():
    text = html_page.render_html(fleet_report())
    assert "Allow UDP 3478 outbound" in text
    assert "relay_quality loss 5.2% / 2%" in text and "relay_quality jitter 45ms / 30ms" in text
    assert "reservation above 33% of the link" in text
    assert "\u2191 2240 \u2193 3340" in text
    assert "dlegate.rtc.rollout --limit gw-a --tags EGR-002" in text


def test_the_page_is_self_contained():
    text = html_page.render_html(fleet_report())
    page = Page(text)
    assert page.urls == []
    assert not re.search(r"https?://|@import|url\(|<link|<script[^>]+src|<img|<iframe", text, re.I)
    assert text.count("<script>") == 1 and text.count("<style>") == 1


def test_everything_from_hosts_is_escaped():
    hostile = '<script>alert("x")</script>'
    observations = [model.observation(hostile, 0, "EGR-002 | " + hostile, "ok",
                                      dict(DRIFT, differences=[{"rule": hostile}]), True)]
    text = html_page.render_html(model.build_report(observations, {hostile: {"site": hostile}}, RUN))
    assert hostile not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text


def test_a_thousand_hosts_render_every_row():
    observations = []
    for index in range(1000):
        observations += egress_audit("host%04d" % index, drifted=index % 10 == 0)
    report = model.build_report(observations, dict(("host%04d" % i, {"site": "site-%d" % (i % 7)}) for i in range(1000)),
                                RUN)
    page = Page(html_page.render_html(report))
    assert len(page.rows) == 1000 and len(page.details) == 100
    assert dict(((m, s), int(t)) for m, s, t in page.metrics)[("totals.host_states.drifted", None)] == 100
