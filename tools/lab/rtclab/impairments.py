"""Network impairments: nft rules and tc qdiscs on the lab's routers, extra DNS records."""

import ipaddress
import re
from pathlib import Path

from .common import IMPAIR_KINDS, LabError
from .podman import podman
from .topology import parse_range
from .state import save_state, write_file
from .services import dns_conf, restart_lab_dns


def describe(imp):
    extra = " ".join(f"{k}={v}" for k, v in imp.items() if k != "kind")
    return f"{imp['kind']} {extra}".strip()


def impair_rules(state):
    gw = state["hosts"]["gw"]
    site_if, inet_if = gw["interfaces"]["site"], gw["interfaces"]["internet"]
    out = f'iifname "{site_if}" oifname "{inet_if}"'
    back = f'iifname "{inet_if}" oifname "{site_if}"'
    rules = []
    for imp in state["impairments"]:
        if imp["kind"] == "block-udp":
            port = f" udp dport {imp['ports']}" if imp.get("ports") else ""
            rules.append(f"{out} meta l4proto udp{port} drop")
        elif imp["kind"] == "block-tcp443":
            src = f" ip saddr != {imp['except']}" if imp.get("except") else ""
            rules.append(f"{out}{src} tcp dport 443 drop")
        elif imp["kind"] == "loss":
            match = {"both": "", "up": out + " ", "down": back + " "}[imp.get("direction", "both")]
            rules.append(f"{match}numgen random mod 100 < {imp['percent']} drop")
    return rules


def impair_nft(state):
    rules = impair_rules(state)
    script = "table inet lab_impair\ndelete table inet lab_impair\n"
    if rules:
        body = "\n".join("    " + r for r in rules)
        script += ("table inet lab_impair {\n  chain forward {\n"
                   "    type filter hook forward priority filter - 50; policy accept;\n"
                   f"{body}\n  }}\n}}\n")
    return script


def rate_to_bps(rate):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)", rate.lower())
    if not match:
        raise LabError(f"bad rate {rate!r}: use e.g. 512kbit, 5mbit")
    scale = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}[match.group(2)]
    return int(float(match.group(1)) * scale)


def tc_script(state):
    gw = state["hosts"]["gw"]
    rates = [imp["rate"] for imp in state["impairments"] if imp["kind"] == "rate"]
    lines = []
    for dev in gw["interfaces"].values():
        lines.append(f"tc qdisc del dev {dev} root 2>/dev/null")
        if rates:
            burst = max(3000, rate_to_bps(rates[-1]) // 8 // 50)
            lines.append(f"tc qdisc replace dev {dev} root tbf rate {rates[-1]} "
                         f"burst {burst} latency 50ms || exit 1")
    return "\n".join(lines + ["exit 0"]) + "\n"


def apply_impairments(state):
    gw = state["hosts"]["gw"]["container"]
    podman("exec", "-i", gw, "nft", "-f", "-", input=impair_nft(state))
    podman("exec", "-i", gw, "sh", "-s", input=tc_script(state))
    conf = Path(state["state_dir"]) / "etc" / "dns.conf"
    if conf.read_text() != dns_conf(state):
        write_file(conf, dns_conf(state))
        restart_lab_dns(state)


def make_impairment(args):
    kind = args.kind
    if kind == "block-udp":
        ports = None
        if args.port is not None:
            ports = str(port_number(args.port))
        elif args.range:
            low, high = parse_range(args.range)
            ports = f"{low}-{high}"
        return {"kind": kind, "ports": ports}
    if kind == "block-tcp443":
        return {"kind": kind, "except": str(ipaddress.ip_address(args.except_)) if args.except_
                else None}
    if kind == "dns-nxdomain":
        return {"kind": kind, "target": dns_name(args.target)}
    if kind == "dns-sinkhole":
        return {"kind": kind, "target": dns_name(args.target),
                "address": str(ipaddress.IPv4Address(args.address))}
    if kind == "rate":
        rate_to_bps(args.rate)
        return {"kind": kind, "rate": args.rate.lower()}
    percent = int(args.percent)
    if not 0 <= percent <= 100:
        raise LabError(f"bad loss percentage {percent}: want 0..100")
    return {"kind": "loss", "percent": percent, "direction": args.direction}


def port_number(value):
    if not 1 <= int(value) <= 65535:
        raise LabError(f"bad port {value}")
    return int(value)


def dns_name(value):
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", value):
        raise LabError(f"bad DNS name {value!r}")
    return value.lower().rstrip(".")


def add_impairment(state, imp):
    """Record imp (replacing one that it supersedes) and apply all impairments."""
    single = ("rate", "loss")
    keep = [i for i in state["impairments"]
            if not (i["kind"] == imp["kind"] and (imp["kind"] in single or i == imp
                                                  or i.get("target", 1) == imp.get("target")))]
    state["impairments"] = keep + [imp]
    apply_impairments(state)
    save_state(state)


def clear_impairments(state, kind="all"):
    if kind != "all" and kind not in IMPAIR_KINDS:
        raise LabError(f"unknown impairment {kind!r}: one of {', '.join(IMPAIR_KINDS)} or all")
    before = len(state["impairments"])
    state["impairments"] = [i for i in state["impairments"]
                            if kind != "all" and i["kind"] != kind]
    apply_impairments(state)
    save_state(state)
    return before - len(state["impairments"])
