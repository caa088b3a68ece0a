"""The fleet playbooks end to end on their own lab (a gateway and two endpoints), with the
compliance callback on: rollout, two audits, a hand edit found by the audit, and remove.

Each run is judged by the callback's reports and by the hosts themselves: `nft -j list
ruleset`, `tc -j qdisc show` and the files under /etc/dlegate are read before and after,
and must not change under an audit, and must come back byte for byte after remove. The
HTML report is opened in headless Chromium; a screenshot stays in tests/output/playbooks.
"""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_PY = REPO / "tools" / "lab" / "lab.py"
PLAYBOOKS = REPO / "playbooks"
NAME, SLOT = "audit-test", "14"
LAB = ["--name", NAME]
HOSTS = ("gw", "endpoint1", "endpoint2")
ARTEFACTS = REPO / "tests" / "output" / "playbooks"
HAND_RULE = 'tcp dport 2222 accept comment "by hand"'
HAND_EDIT = """nft add rule inet dlegate_egress egress tcp dport 2222 accept comment '"by hand"'"""
SNAPSHOT = {
    "nft": "nft -j list ruleset",
    "tc": "tc -j qdisc show",
    "files": "if [ -d /etc/dlegate ]; then find /etc/dlegate -type f | sort | xargs -r sha256sum; else echo absent; fi",
}


def lab(*args):
    return subprocess.run([sys.executable, str(LAB_PY), *args], check=False,
                          capture_output=True, text=True, timeout=600)


def host_shell(host, command):
    proc = lab("exec", *LAB, host, "--", "sh", "-c", command)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def snapshot():
    """What the collection may change on each host, as the host prints it."""
    return {host: {key: host_shell(host, command) for key, command in SNAPSHOT.items()} for host in HOSTS}


def write_site_vars(inventory_dir):
    """The site as a real inventory describes it: its network, link rates and the gateway's interfaces."""
    site = json.loads((inventory_dir / "state.json").read_text())["subnets"]["site"]
    group_vars = inventory_dir / "group_vars"
    group_vars.mkdir(exist_ok=True)
    (group_vars / "all.yml").write_text(
        "---\ndlegate_site: lab-site\nqos_link_up_kbps: 20000\nqos_link_down_kbps: 20000\n")
    (group_vars / "gateways.yml").write_text(
        f"---\negress_source_networks: ['{site}']\nqos_host_type: gateway\nqos_source_networks: ['{site}']\n"
        "qos_wan_interface: '{{ lab_wan_interface }}'\nqos_lan_interface: '{{ lab_site_interface }}'\n")


def unreachable_inventory(directory):
    """One more endpoint, whose container does not exist."""
    path = directory / "ghost.yml"
    path.write_text("---\nendpoints:\n  hosts:\n    ghost:\n      ansible_connection: containers.podman.podman\n"
                    f"      ansible_host: {NAME}-ghost\n      ansible_python_interpreter: /usr/bin/python3\n")
    return path


class Run:
    """One ansible-playbook run and the three report files the callback wrote."""

    def __init__(self, playbook, workdir, inventories, *options, report_dir=True):
        workdir.mkdir(parents=True, exist_ok=True)
        self.report_dir = workdir / "reports"
        env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="dlegate.rtc.compliance", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0")
        env.pop("DLEGATE_REPORT_DIR", None)
        command = ["ansible-playbook", str(PLAYBOOKS / f"{playbook}.yml")]
        for inventory in inventories:
            command += ["-i", str(inventory)]
        if report_dir:
            command += ["-e", f"dlegate_report_dir={self.report_dir}"]
        proc = subprocess.run(command + list(options), cwd=workdir, env=env, check=False,
                              capture_output=True, text=True, timeout=1200)
        self.returncode, self.stdout = proc.returncode, proc.stdout + proc.stderr
        stem = self.report_dir / f"{playbook}-compliance"
        assert Path(f"{stem}.json").exists(), self.stdout[-4000:]
        self.report = json.loads(Path(f"{stem}.json").read_text())
        self.junit = ET.parse(f"{stem}.junit.xml").getroot()
        self.html = Path(f"{stem}.html")

    def hosts(self):
        return {host["name"]: host for host in self.report["hosts"]}

    def controls(self, host):
        return {control["id"]: control for control in self.hosts()[host]["controls"]}

    def failures(self):
        return sorted((case.get("classname"), case.get("name"))
                      for case in self.junit.iter("testcase") if case.find("failure") is not None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Rollout, two audits, a hand edit and its audit, audits selected by tags, then remove."""
    work = tmp_path_factory.mktemp("fleet")
    up = lab("up", *LAB, "--slot", SLOT, "--endpoints", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        inventory = Path(up.stdout.strip().splitlines()[-1])
        write_site_vars(inventory.parent)
        result = {"pristine": snapshot()}
        result["onboarding"] = Run("site_onboarding", work / "onboarding", [inventory], "--check", "--tags", "EGR-001",
                                   report_dir=False)
        result["rollout"] = Run("rollout", work / "rollout", [inventory, unreachable_inventory(work)],
                                "-e", json.dumps({"rollout_serial": [1, "100%"]}))
        result["onboarded"] = snapshot()
        result["audits"] = [Run("audit", work / f"audit{n}", [inventory], "-e", "audit_fail_on=drift") for n in (1, 2)]
        result["after_audits"] = snapshot()
        host_shell("endpoint1", HAND_EDIT)
        result["edited"] = snapshot()
        result["drift"] = Run("audit", work / "drift", [inventory], "-e", "audit_fail_on=drift")
        result["only"] = Run("audit", work / "only", [inventory], "--tags", "EGR-002")
        result["skip"] = Run("audit", work / "skip", [inventory], "--skip-tags", "EGR-004,verify")
        result["after_drift_audits"] = snapshot()
        result["remove"] = Run("remove", work / "remove", [inventory])
        result["removed"] = snapshot()
        (work / "snapshots.json").write_text(json.dumps({key: value for key, value in result.items()
                                                         if isinstance(value, dict)}, indent=1))
        yield result
    finally:
        lab("down", *LAB)


def test_every_report_is_valid_against_the_schema(runs):
    validator = jsonschema.Draft202012Validator(json.loads((REPO / "docs" / "report-schema.json").read_text()))
    for run in [runs["onboarding"], runs["rollout"], runs["drift"], runs["only"], runs["skip"], runs["remove"]] + runs["audits"]:
        validator.validate(run.report)


def test_the_onboarding_report_defaults_to_the_working_directory(runs):
    run = runs["onboarding"]
    assert run.returncode == 0, run.stdout[-3000:]
    written = sorted(path.name for path in run.report_dir.iterdir())
    assert written == ["site_onboarding-compliance.html", "site_onboarding-compliance.json",
                       "site_onboarding-compliance.junit.xml", "site_onboarding.json"]
    assert set(json.loads((run.report_dir / "site_onboarding.json").read_text())["hosts"]) == set(HOSTS)


def test_rollout_configures_every_reachable_host_and_reports_the_unreachable_one(runs):
    run = runs["rollout"]
    assert run.returncode != 0
    assert "3 of 4 hosts configured; failed: none; unreachable, left out: ghost" in run.stdout
    # One canary host, then the rest: the configure play runs in two batches.
    assert run.stdout.count("PLAY [Rollout | Configure the DLEGATE policy, batch by batch]") == 2
    hosts = run.hosts()
    assert {name: host["state"] for name, host in hosts.items()} == {
        "gw": "changed", "endpoint1": "changed", "endpoint2": "changed", "ghost": "error"}
    assert hosts["ghost"]["controls"] == [] and hosts["ghost"]["errors"][0]["task"] == "Rollout | Reach each host"
    assert run.report["run"]["mode"] == "apply"
    for name in HOSTS:
        assert run.controls(name)["EGR-002"]["state"] == "changed"
        assert hosts[name]["bandwidth_plan"]["upstream_kbps"] > 0
    assert runs["onboarded"] != runs["pristine"]


def test_the_audit_after_onboarding_is_compliant_everywhere_twice(runs):
    for run in runs["audits"]:
        assert run.returncode == 0, run.stdout[-3000:]
        assert run.report["run"]["mode"] == "audit"
        assert {host["name"]: host["state"] for host in run.report["hosts"]} == dict.fromkeys(HOSTS, "compliant")
        states = {control["state"] for host in run.report["hosts"] for control in host["controls"]}
        assert states == {"compliant", "skipped"}
        assert {"EGR-002", "QOS-004", "QOS-006", "VER-001"} <= set(run.report["controls"])
        assert all(host["readiness"]["verdict"] in ("PASS", "DEGRADED") for host in run.report["hosts"])
        assert run.failures() == []


def test_audits_change_nothing_on_the_hosts(runs):
    assert runs["after_audits"] == runs["onboarded"]
    assert runs["after_drift_audits"] == runs["edited"]


def test_a_hand_edit_is_drift_of_exactly_that_host_and_control_with_the_diff(runs):
    run = runs["drift"]
    assert run.returncode != 0
    assert "audit_fail_on=drift: drifted: endpoint1" in run.stdout
    drifted = [(host["name"], control["id"]) for host in run.report["hosts"]
               for control in host["controls"] if control["state"] == "drifted"]
    assert drifted == [("endpoint1", "EGR-002")]
    assert {host["name"]: host["state"] for host in run.report["hosts"]} == {
        "gw": "compliant", "endpoint1": "drifted", "endpoint2": "compliant"}
    control = run.controls("endpoint1")["EGR-002"]
    assert f"-\t\t{HAND_RULE}" in control["diff"].splitlines()
    assert control["differences"] == [{"item": "rule", "change": "remove", "rule": HAND_RULE}]
    assert run.report["totals"]["host_states"]["drifted"] == 1


def test_junit_shows_exactly_that_one_failure(runs):
    assert runs["drift"].failures() == [("lab-site.endpoint1", "EGR-002")]
    assert runs["drift"].junit.get("failures") == "1"


def test_tags_select_exactly_that_control(runs):
    assert runs["only"].report["controls"] == ["EGR-002"]
    assert runs["only"].failures() == [("lab-site.endpoint1", "EGR-002")]
    left = runs["skip"].report["controls"]
    assert "EGR-004" not in left and {"EGR-001", "EGR-002", "QOS-006"} <= set(left)
    assert not any(control.startswith("VER-") for control in left)
    assert runs["skip"].failures() == [("lab-site.endpoint1", "EGR-002")]


def test_remove_restores_the_prior_state_byte_for_byte(runs):
    assert runs["remove"].returncode == 0, runs["remove"].stdout[-3000:]
    for host in HOSTS:
        assert runs["removed"][host]["nft"] == runs["pristine"][host]["nft"], host
        assert runs["removed"][host]["tc"] == runs["pristine"][host]["tc"], host
        assert runs["removed"][host]["files"] == runs["pristine"][host]["files"] == "absent\n", host


class PageNumbers(HTMLParser):
    """The data-metric numbers of the report page, the filter's count and the script's ready mark."""

    def __init__(self, text):
        super().__init__()
        self.metrics, self.ready, self.shown = {}, None, None
        self._open = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.ready = attrs.get("data-ready")
        if "data-metric" in attrs:
            self._open = (attrs["data-metric"], attrs.get("data-site"))
        elif attrs.get("id") == "shown":
            self._open = ("shown", None)

    def handle_data(self, data):
        if self._open:
            if self._open[0] == "shown":
                self.shown = int(data)
            else:
                self.metrics[self._open] = int(data)
            self._open = None


def chromium(*args, profile):
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium package is missing (./rtc installs it)"
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", *args],
                          check=False, capture_output=True, text=True, timeout=120)


def test_the_html_report_shows_the_json_numbers_in_chromium(runs, tmp_path):
    run = runs["drift"]
    page = chromium("--dump-dom", run.html.as_uri(), profile=tmp_path / "dump")
    assert page.returncode == 0, page.stderr[-2000:]
    numbers = PageNumbers(page.stdout)
    assert numbers.ready == "1" and numbers.shown == len(run.report["hosts"])
    report = run.report
    expected = {("totals.hosts", None): report["totals"]["hosts"]}
    for group in ("host_states", "readiness"):
        expected.update({(f"totals.{group}.{key}", None): value for key, value in report["totals"][group].items()})
        for site in report["sites"]:
            expected.update({(f"sites.{group}.{key}", site["name"]): value for key, value in site[group].items()})
    for site in report["sites"]:
        expected[("sites.hosts", site["name"])] = site["hosts"]
    assert {key: numbers.metrics.get(key) for key in expected} == expected
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTEFACTS / "audit-drift.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1400,1100", f"--screenshot={screenshot}", run.html.as_uri(),
                    profile=tmp_path / "shot")
    assert shot.returncode == 0 and screenshot.stat().st_size > 10000, shot.stderr[-2000:]
