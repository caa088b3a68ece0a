"""Test flows for the lab: an echo server, and a probe that says whether a flow passes.

  python3 flow.py serve tcp|udp PORT [--seconds N]   echo what arrives, for N seconds (default 600)
  python3 flow.py probe tcp|udp HOST PORT [--timeout S]
      exit 0 and print "pass" when the echo comes back, exit 1 and print "blocked" when not

Any error of the probe itself (a name that does not resolve, a bad argument, a crash)
exits 2 and prints "error: ...", so that a check expecting "blocked" cannot pass on it.
"""
import argparse
import socket
import sys
import time

PAYLOAD = b"dlegate-flow-check"
PASS, BLOCKED, ERROR = 0, 1, 2


def serve(proto, port, seconds):
    deadline = time.monotonic() + seconds
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.settimeout(1.0)
        if proto == "tcp":
            sock.listen(16)
        while time.monotonic() < deadline:
            try:
                echo_once(sock, proto)
            except (socket.timeout, OSError):
                continue


def echo_once(sock, proto):
    if proto == "udp":
        data, peer = sock.recvfrom(2048)
        sock.sendto(data, peer)
        return
    conn = sock.accept()[0]
    with conn:
        conn.settimeout(2.0)
        conn.sendall(conn.recv(2048))


def probe(proto, host, port, timeout):
    """True when the payload comes back; False when the flow is blocked or refused.
    Resolving the name is not part of the flow: its failure raises."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    address = socket.getaddrinfo(host, port, socket.AF_INET, kind)[0][4]
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            sock.send(PAYLOAD)
            return sock.recv(2048) == PAYLOAD
        except OSError:
            return False


def main():
    try:
        return run(parse_args())
    except Exception as exc:  # pylint: disable=broad-exception-caught
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("error")
        return ERROR


def parse_args():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    srv = sub.add_parser("serve")
    srv.add_argument("proto", choices=["tcp", "udp"])
    srv.add_argument("port", type=int)
    srv.add_argument("--seconds", type=float, default=600)
    prb = sub.add_parser("probe")
    prb.add_argument("proto", choices=["tcp", "udp"])
    prb.add_argument("host")
    prb.add_argument("port", type=int)
    prb.add_argument("--timeout", type=float, default=2.0)
    return parser.parse_args()   # bad arguments exit 2 (ERROR) too


def run(args):
    if args.command == "serve":
        serve(args.proto, args.port, args.seconds)
        return PASS
    passed = probe(args.proto, args.host, args.port, args.timeout)
    print("pass" if passed else "blocked")
    return PASS if passed else BLOCKED


if __name__ == "__main__":
    sys.exit(main())
