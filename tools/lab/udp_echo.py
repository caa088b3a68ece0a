#!/usr/bin/env python3
"""UDP echo across a range of ports, for probing the reachability of the ephemeral
UDP (media) range. Runs inside the lab's turn host on the TURN server's own address:
every datagram that arrives on ADDRESS:PORT, for PORT in LO-HI, goes back to its
sender unchanged.

Usage: udp_echo.py ADDRESS LO-HI
"""

import selectors
import socket
import sys

MAX_DATAGRAM = 65535


def open_sockets(address, low, high):
    """One bound, non-blocking socket per port. No SO_REUSEADDR: coturn, which
    relays from the same address and range, must not bind these ports as well."""
    sockets = []
    for port in range(low, high + 1):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, port))
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def echo(sock):
    try:
        data, peer = sock.recvfrom(MAX_DATAGRAM)
        sock.sendto(data, peer)
    except OSError:   # a late ICMP error for an earlier reply, or a full buffer: drop it
        pass


def serve(sockets):
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            echo(key.fileobj)


def main(argv):
    if len(argv) != 2 or argv[1].count("-") != 1:
        sys.exit(__doc__)
    low, high = (int(part) for part in argv[1].split("-"))
    sockets = open_sockets(argv[0], low, high)
    print(f"udp echo on {argv[0]} ports {low}-{high}", flush=True)
    serve(sockets)


if __name__ == "__main__":
    main(sys.argv[1:])
