"""DLEGATE network lab: podman containers that model a corporate site and the
DLEGATE service side, for testing the dlegate.rtc collection.

Topology for lab slot N (site = 198.18.(10+2N).0/24, internet = 198.18.(11+2N).0/24;
the host bridge of each podman network keeps .1, no container ever gets it):

    site network (internal)                      internet network (internal)
    198.18.(10+2N).0/24                          198.18.(11+2N).0/24

    endpoint1  .11 ----+                      +-- dns     .53  dnsmasq, authoritative
    endpoint2  .12 ----+                      |                for dlegate.test
    ...                |      +--------+      +-- signal  .10  HTTPS + WSS echo, TCP 443
    endpointK  .(10+K)-+------| gw     |------+
                        .254  | NAT    | .254 +-- turn    .20  coturn, long-term users
                              | site FW|                  .21  coturn, REST shared secret
                              +--------+                       both: STUN/TURN UDP+TCP 3478,
                                                               TURN/TLS TCP 443, relay range

DNS (lab dns host, zone dlegate.test): signal -> .10; turn, media, stun -> .20;
turn-rest -> .21; other names in the zone NXDOMAIN, names outside it REFUSED
(no upstream servers).

gw forwards site -> internet with masquerade. Its site firewall (nft table
inet lab_site_fw) drops every forwarded packet except replies and packets that
carry the permit mark 0x00200000 set by the collection's egress policy. gw also
runs the site resolver (dnsmasq on its site address, no cache) that forwards to
the lab dns host. Endpoints route via gw and resolve through it.
Impairments (table inet lab_impair on gw, tc on gw, extra records on dns) are
added and cleared with `impair`.

Every lab object carries the label dlegate.lab=<name> and the name prefix
<name>-. Generated files and state.json live in <repo>/.cache/lab/<name>/,
mounted read-only at /lab in every lab container.

Modules: common (names, paths, LabError), podman (running commands), image,
topology (the plan, pure), state (state.json, inventory), services, impairments,
lifecycle (up, down, status) and cli. tools/lab/lab.py is the command line.
"""
