# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny DNS server on 127.0.0.1 for the unit tests, built on dnspython's message API.

The zone maps a name to what the server does with questions for it::

    {"signal.test": {"A": ["198.18.11.10"], "AAAA": ["2001:db8::10"]},
     "alias.test": {"CNAME": "signal.test"},          # followed inside the zone
     "broken.test": {"rcode": "SERVFAIL"},             # or REFUSED, NXDOMAIN...
     "slow.test": {"drop": True},                      # never answers: the client times out
     "half.test": {"A": ["198.18.11.11"], "AAAA": "drop"}}

Names missing from the zone are NXDOMAIN. ``queries`` records every question.
"""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

TTL = 60


class DnsServer:
    def __init__(self, zone):
        self.zone = dict((name.lower().rstrip("."), spec) for name, spec in zone.items())
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.nameserver = "127.0.0.1:%d" % self.port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            self.queries.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
            response = self.answer(query, question)
            if response is not None:
                self.sock.sendto(response.to_wire(), peer)

    def answer(self, query, question):
        response = dns.message.make_response(query)
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        for _hop in range(20):
            spec = self.zone.get(name)
            if spec is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if spec.get("drop") or spec.get(rdtype) == "drop":
                return None
            rcode = spec.get("rcode") or (spec.get(rdtype) if isinstance(spec.get(rdtype), str) else None)
            if rcode:
                response.set_rcode(dns.rcode.from_text(rcode))
                return response
            if "CNAME" not in spec:
                break
            target = spec["CNAME"].rstrip(".").lower()
            response.answer.append(dns.rrset.from_text(name + ".", TTL, "IN", "CNAME", target + "."))
            name = target
        records = spec.get(rdtype) or []
        if records:
            response.answer.append(dns.rrset.from_text_list(name + ".", TTL, "IN", rdtype, records))
        return response


def closed_udp_port():
    """A UDP port on 127.0.0.1 that nothing listens on (just released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
