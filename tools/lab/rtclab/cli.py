"""The lab's command line (tools/lab/lab.py)."""

import argparse
import json
import subprocess
import sys

from . import __doc__ as PACKAGE_DOC
from .common import DEFAULT_NAME, ECHO_RANGE, LabError, log
from .podman import podman_env, require_tool
from .image import build_image, image_tag, list_images, prune_images
from .state import load_state, write_inventory
from .impairments import add_impairment, clear_impairments, describe, make_impairment
from .lifecycle import format_status, lab_down, lab_status, lab_up


def resolve_container(state, host):
    if host in state["hosts"]:
        return state["hosts"][host]["container"]
    for spec in state["hosts"].values():
        if spec["container"] == host:
            return host
    raise LabError(f"no host {host!r} in lab '{state['name']}': "
                   f"one of {', '.join(state['hosts'])}")


def cmd_image(args):
    tag = build_image(force=args.force)
    if args.prune:
        prune_images(tag)
    print(tag)


def cmd_images(args):
    current = image_tag()
    for name, image_id, size in list_images():
        print(f"{name} {image_id} {size}{'  (current)' if name == current else ''}")
    if args.prune:
        prune_images(current)


def cmd_up(args):
    state = lab_up(args.name, args.slot, args.endpoints, args.relay_range, args.echo_range)
    print(state["inventory"])


def cmd_down(args):
    lab_down(args.name)


def cmd_status(args):
    status = lab_status(args.name)
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0 if status["healthy"] else 1


def cmd_inventory(args):
    print(write_inventory(load_state(args.name)))


def cmd_impair(args):
    state = load_state(args.name)
    if args.kind == "list":
        for imp in state["impairments"]:
            print(describe(imp))
        return 0
    if args.kind == "clear":
        count = clear_impairments(state, args.what)
        log(f"cleared {count} impairment(s)")
        return 0
    imp = make_impairment(args.kind, **impairment_options(args))
    add_impairment(state, imp)
    log(f"applied: {describe(imp)}")
    return 0


IMPAIRMENT_OPTIONS = ("ports", "except_source", "target", "address", "rate", "percent", "direction")


def impairment_options(args):
    """make_impairment's keywords from the options of `impair KIND`."""
    return {key: getattr(args, key) for key in IMPAIRMENT_OPTIONS if getattr(args, key, None) is not None}


def cmd_exec(args):
    state = load_state(args.name)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise LabError("exec needs a command: lab.py exec HOST -- CMD...")
    flags = ["-it"] if sys.stdin.isatty() and sys.stdout.isatty() else ["-i"]
    require_tool("podman")
    return subprocess.call(["podman", "exec", *flags, resolve_container(state, args.host),
                            *command], env=podman_env())


def add_name(parser, default=DEFAULT_NAME):
    parser.add_argument("--name", default=default,
                        help=f"lab name (default {DEFAULT_NAME}, or $DLEGATE_LAB_NAME)")


def impair_parsers(sub):
    name_only = argparse.ArgumentParser(add_help=False)
    add_name(name_only, default=argparse.SUPPRESS)
    kinds = sub.add_subparsers(dest="kind", required=True, metavar="KIND")
    p = kinds.add_parser("block-udp", parents=[name_only],
                         help="gw drops UDP site->WAN (all, one port or a range)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--port", dest="ports", type=int, metavar="PORT")
    group.add_argument("--range", dest="ports", metavar="LO-HI")
    p = kinds.add_parser("block-tcp443", parents=[name_only],
                         help="gw drops TCP 443 site->WAN")
    p.add_argument("--except", dest="except_source", metavar="SRC_IP",
                   help="source address still allowed (the proxy host)")
    p = kinds.add_parser("dns-nxdomain", parents=[name_only], help="NAME answers NXDOMAIN")
    p.add_argument("target", metavar="NAME")
    p = kinds.add_parser("dns-sinkhole", parents=[name_only], help="NAME answers a fixed address")
    p.add_argument("target", metavar="NAME")
    p.add_argument("--address", default="0.0.0.0")
    p = kinds.add_parser("rate", parents=[name_only],
                         help="WAN bottleneck: tbf on both isp interfaces, both directions (e.g. 5mbit)")
    p.add_argument("rate", metavar="RATE")
    p = kinds.add_parser("loss", parents=[name_only],
                         help="WAN loss: drop PCT%% of the packets isp forwards")
    p.add_argument("percent", metavar="PCT", type=int)
    p.add_argument("--direction", choices=("both", "up", "down"), default="both",
                   help="both (default), up = site->internet only, down = internet->site only")
    p = kinds.add_parser("clear", parents=[name_only], help="remove impairments")
    p.add_argument("what", nargs="?", default="all", metavar="KIND|all")
    kinds.add_parser("list", parents=[name_only], help="show active impairments")


def build_parser():
    parser = argparse.ArgumentParser(prog="lab.py", description=PACKAGE_DOC.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    p = sub.add_parser("image", help="build the lab image if its recipe changed")
    p.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    p.add_argument("--prune", action="store_true", help="remove other tags of the lab image")
    p.set_defaults(func=cmd_image)
    p = sub.add_parser("images", help="list lab images")
    p.add_argument("--prune", action="store_true", help="remove all but the current tag")
    p.set_defaults(func=cmd_images)
    p = sub.add_parser("up", help="(re)create the lab")
    add_name(p)
    p.add_argument("--slot", type=int, default=0, help="address slot 0..99 (default 0)")
    p.add_argument("--endpoints", type=int, default=2, help="endpoint hosts (default 2)")
    p.add_argument("--relay-range", default="49152-65535", metavar="LO-HI",
                   help="TURN relay ports (default 49152-65535)")
    p.add_argument("--echo-range", default=ECHO_RANGE, metavar="LO-HI",
                   help=f"UDP echo ports on turn, inside the relay range (default {ECHO_RANGE})")
    p.set_defaults(func=cmd_up)
    for cmd, func, text in (("down", cmd_down, "remove the lab"),
                            ("status", cmd_status, "show hosts and services"),
                            ("inventory", cmd_inventory, "write and print the inventory path")):
        p = sub.add_parser(cmd, help=text)
        add_name(p)
        p.set_defaults(func=func)
        if cmd == "status":
            p.add_argument("--json", action="store_true")
    p = sub.add_parser("impair", help="add, clear or list network impairments")
    add_name(p)
    impair_parsers(p)
    p.set_defaults(func=cmd_impair)
    p = sub.add_parser("exec", help="run a command in a lab host: exec HOST -- CMD...")
    add_name(p)
    p.add_argument("host", metavar="HOST")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except LabError as exc:
        log(f"lab.py {args.cmd}: error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130
