"""The main job against the lab: bring the lab up and onboard its site.

Runs playbooks/site_onboarding.yml (preflight, configure, verify, report) against
the lab's generated inventory, then prints a short summary of the report.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "tools" / "lab" / "lab.py"
PLAYBOOK = ROOT / "playbooks" / "site_onboarding.yml"


def lab(*args):
    subprocess.run([sys.executable, str(LAB), *args], check=True)


def lab_state(name):
    return json.loads((ROOT / ".cache" / "lab" / name / "state.json").read_text())


def write_site_vars(inventory_dir, state):
    """What a real site's inventory says about its gateways: the networks they serve."""
    group_vars = inventory_dir / "group_vars"
    group_vars.mkdir(exist_ok=True)
    site = state["subnets"]["site"]
    (group_vars / "gateways.yml").write_text(f"---\negress_source_networks:\n  - {site}\n")


def print_summary(report_file):
    report = json.loads(report_file.read_text())
    hosts = report["hosts"]
    audit = report.get("check_mode") in (True, "True")
    print("\nSite onboarding summary" + (" (check mode: an audit, nothing was changed)" if audit else ""))
    for stage in ("preflight", "configure", "verify"):
        info = report["stages"][stage]
        missing = ", ".join(info["not_available"]) or "none"
        print(f"  {stage:<10} ran: {', '.join(info['ran'])}; not available yet: {missing}")
    print(f"  {'host':<12} {'before':<14} {'changed':<8} {'after':<14} {'verdict before -> after':<25} HTTPS 443")
    for name, record in hosts.items():
        before = "compliant" if record["preflight_egress_compliant"] else "non-compliant"
        after = "compliant" if record["verify_egress_compliant"] else "NON-COMPLIANT"
        changed = record["configure"].get("egress_changed", "not_run")
        https = record["verify"].get("https_status") or {}
        reach = ", ".join(f"{dest} {'BLOCKED' if status == -1 else status}" for dest, status in https.items()) or "-"
        print(f"  {name:<12} {before:<14} {str(changed):<8} {after:<14} {verdicts(record):<25} {reach}")
        if record["verify"].get("readiness_findings"):
            print(f"  {'':<12} findings after: {', '.join(record['verify']['readiness_findings'])}")
    print(f"Report: {report_file}")
    return all(record["verify_egress_compliant"] and -1 not in (record["verify"].get("https_status") or {}).values()
               and record["verify"].get("readiness_verdict") != "FAIL" for record in hosts.values())


def verdicts(record):
    """The readiness verdict before and after the change, from the preflight and verify stages."""
    return f"{record['preflight'].get('readiness_verdict', '-')} -> {record['verify'].get('readiness_verdict', '-')}"


def compliance_env(report_dir):
    """The compliance callback on, writing its JSON, JUnit and HTML reports next to the onboarding report."""
    enabled = [name for name in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if name]
    return dict(os.environ, ANSIBLE_CALLBACKS_ENABLED=",".join(enabled + ["dlegate.rtc.compliance"]),
                DLEGATE_REPORT_DIR=str(report_dir))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="dlegate", help="lab name (default: dlegate)")
    parser.add_argument("--slot", type=int, default=0, help="lab slot, which picks its subnets (default: 0)")
    parser.add_argument("--endpoints", type=int, default=2, help="number of endpoints (default: 2)")
    parser.add_argument("--reuse-lab", action="store_true", help="keep the lab as it is when it is already up")
    parser.add_argument("--check", action="store_true", help="audit only: run the playbook in check mode")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "site_onboarding.json")
    args = parser.parse_args()
    inventory = ROOT / ".cache" / "lab" / args.name / "inventory.yml"
    if not (args.reuse_lab and inventory.exists()):
        lab("up", "--name", args.name, "--slot", str(args.slot), "--endpoints", str(args.endpoints))
    write_site_vars(inventory.parent, lab_state(args.name))
    args.report.unlink(missing_ok=True)
    play = subprocess.run(["ansible-playbook", "-i", str(inventory), str(PLAYBOOK),
                           "-e", f"dlegate_report_file={args.report.resolve()}",
                           *(["--check", "--diff"] if args.check else [])],
                          check=False, env=compliance_env(args.report.resolve().parent))
    compliant = args.report.exists() and print_summary(args.report)
    print(f"The lab stays up for exploring: ./rtc lab status --name {args.name}; "
          f"remove it with ./rtc lab down --name {args.name}")
    return 0 if play.returncode == 0 and compliant else 1


if __name__ == "__main__":
    sys.exit(main())
