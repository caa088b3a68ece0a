"""Benchmark: the compliance reports of a 1,000-host fleet, built and opened in Chromium.

Builds a synthetic run the way the dlegate.rtc.compliance callback sees it: every host
runs the egress, qos and verify controls in check mode, one host in ten has drifted
(with an nft diff), every host has a readiness verdict with measured quality and a
bandwidth plan. It times building the report, the JSON, the JUnit XML and the HTML,
then opens the page in headless Chromium (Debian's chromium package) and times, inside
the page, the parse up to the end of the body, one sort and one filter, and from outside
a full load with a screenshot. Targets: the page opens in a few seconds and sorting and
filtering stay interactive. Not a test: nothing here is asserted.

  ./rtc bench report [--hosts 1000] [--sites 12]
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import html_page, junit, model  # noqa: E402

CONTROLS = ["EGR-001", "EGR-002", "EGR-003", "EGR-004"] + ["QOS-%03d" % n for n in range(1, 9)] + ["VER-001", "VER-002"]
RULES = "\n".join("\t\tip daddr @media_v4 udp dport %d accept comment \"media\"" % port for port in range(40))
MEASURE = """<script>
(function(){
  var loaded=performance.now(),t0=performance.now();
  document.querySelector('th[data-sort="rank"]').click();
  var t1=performance.now(),f=document.getElementById('filter-text');
  f.value='drifted';f.dispatchEvent(new Event('input'));
  var t2=performance.now();
  document.body.setAttribute('data-bench',JSON.stringify({parsed_ms:loaded,sort_ms:t1-t0,filter_ms:t2-t1,
    shown:+document.getElementById('shown').textContent}));
})();
</script></body>"""


def observations(hosts):
    drift = {"changed": True, "compliant": False,
             "diff": {"before": "table inet dlegate_egress {\n%s\n\t\ttcp dport 2222 accept\n}\n" % RULES,
                      "after": "table inet dlegate_egress {\n%s\n}\n" % RULES,
                      "before_header": "live", "after_header": "policy"},
             "differences": [{"item": "rule", "change": "remove", "rule": "tcp dport 2222 accept"}]}
    out = []
    for index in range(hosts):
        name = "host%05d" % index
        for control in CONTROLS:
            result = drift if control == "EGR-002" and index % 10 == 0 else {"changed": False}
            out.append(model.observation(name, 0, "%s | task" % control, "ok", result, True))
    return out


def host_info(hosts, sites):
    readiness = {"verdict": "PASS", "findings": [], "thresholds": {"loss_pct": 1, "rtt_ms": 100, "jitter_ms": 30},
                 "checks": {"quality": {"result": {"loss_pct": 0.4, "rtt_ms": {"avg": 23.5}, "jitter_ms": 2.1}}}}
    degraded = dict(readiness, verdict="DEGRADED", findings=[{
        "id": "udp_blocked", "severity": "warning", "summary": "Outbound UDP to the media servers is blocked",
        "evidence": "stun: no answer within 5.0 s", "remediation": "Allow outbound UDP 3478 and the ephemeral range."}])
    plan = {"upstream_kbps": 2211, "downstream_kbps": 2211, "warnings": [],
            "classes": {"audio": {"upstream_kbps": 264, "downstream_kbps": 264}}}
    return {"host%05d" % i: {"site": "site-%02d" % (i % sites), "plan": plan,
                             "readiness": degraded if i % 7 == 0 else readiness} for i in range(hosts)}


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def chromium(binary, profile, *args):
    start = time.perf_counter()
    proc = subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--user-data-dir=%s" % profile, *args],
                          check=True, capture_output=True, text=True, timeout=300)
    return proc.stdout, time.perf_counter() - start


def open_in_chromium(page, workdir):
    binary = shutil.which("chromium")
    if not binary:
        return None
    measured = workdir / "measured.html"
    measured.write_text(page.replace("</body>", MEASURE, 1))
    blank = workdir / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>")
    _, blank_s = chromium(binary, workdir / "p1", "--dump-dom", blank.as_uri())
    dom, dump_s = chromium(binary, workdir / "p2", "--dump-dom", measured.as_uri())
    inside = json.loads(dom.split("data-bench=\"", 1)[1].split("\"", 1)[0].replace("&quot;", "\""))
    _, shot_s = chromium(binary, workdir / "p3", "--window-size=1400,1100", "--screenshot=%s" % (workdir / "shot.png"),
                         (workdir / "report.html").as_uri())
    return {"blank_s": blank_s, "dump_s": dump_s, "screenshot_s": shot_s, **inside}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=12)
    args = parser.parse_args()
    run = {"generated_at": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:00Z", "playbooks": ["audit.yml"],
           "plays": ["Audit"], "generator": {}}
    (items, observe_s) = timed(observations, args.hosts)
    report, build_s = timed(model.build_report, items, host_info(args.hosts, args.sites), run)
    text, json_s = timed(lambda: json.dumps(report, indent=2, sort_keys=True))
    xml, junit_s = timed(junit.render_junit, report)
    page, html_s = timed(html_page.render_html, report)
    with tempfile.TemporaryDirectory(prefix="dlegate-bench-report-") as tmp:
        workdir = Path(tmp)
        (workdir / "report.html").write_text(page)
        browser = open_in_chromium(page, workdir)
    print("%d hosts, %d sites, %d controls each, %d observations" % (args.hosts, args.sites, len(CONTROLS), len(items)))
    print("| step | time | size |\n|---|---:|---:|")
    print("| task results to observations | %.2f s | |" % observe_s)
    print("| build the report | %.2f s | |" % build_s)
    print("| JSON | %.2f s | %.1f MB |" % (json_s, len(text) / 1e6))
    print("| JUnit XML | %.2f s | %.1f MB |" % (junit_s, len(xml) / 1e6))
    print("| HTML | %.2f s | %.1f MB |" % (html_s, len(page) / 1e6))
    if browser is None:
        print("chromium is not installed: the browser timings are skipped")
        return 0
    print("| Chromium: parse to the end of the body (in the page) | %.0f ms | |" % browser["parsed_ms"])
    print("| Chromium: sort %d rows by state (in the page) | %.0f ms | |" % (args.hosts, browser["sort_ms"]))
    print("| Chromium: filter to 'drifted' (in the page) | %.0f ms | %d rows shown |" % (browser["filter_ms"], browser["shown"]))
    print("| Chromium: --dump-dom, whole process (blank page: %.2f s) | %.2f s | |" % (browser["blank_s"], browser["dump_s"]))
    print("| Chromium: --screenshot, whole process (layout and paint) | %.2f s | |" % browser["screenshot_s"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
