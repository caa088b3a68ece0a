"""DLEGATE network lab: podman containers that model a corporate site, its ISP and
the DLEGATE service side, for testing the dlegate.rtc collection.

Topology for lab slot N (the host bridge of each podman network keeps .1, no
container ever gets it):

  site 198.18.(10+2N).0/24     wan 198.19.(10+2N).0/24        internet 198.18.(11+2N).0/24

  endpoint1 .11 ─┐                                      ┌─ dns    .53  dnsmasq for dlegate.test
  endpoint2 .12 ─┼─ .254 gw .254 ══ .253 isp .254 ──────┼─ signal .10  HTTPS + WSS echo on 443,
  ...           ─┘   NAT, site FW,      WAN bottleneck  │             iperf3 server on 5201
                     site resolver      (tbf), WAN loss └─ turn   .20  coturn (long-term users),
                                                                  .21  coturn (REST secret):
                                                                       3478 UDP/TCP, TLS on 443,
                                                                       relay range; UDP echo on
                                                                       .20 ports 50000-50099

DNS (lab dns host, zone dlegate.test): signal -> .10; turn, media, stun -> .20;
turn-rest -> .21; other names in the zone NXDOMAIN, names outside it REFUSED
(no upstream servers).

gw forwards site -> wan with masquerade; its default route is isp. Its site
firewall (nft table inet lab_site_fw) drops every forwarded packet except
replies and packets that carry the permit mark 0x00200000 set by the
collection's egress policy. gw also runs the site resolver (dnsmasq on its site
address, no cache) that forwards to the lab dns host. Endpoints route via gw and
resolve through it. isp routes between the wan and the lab internet without NAT
(services see gw's wan address); the services' default route is isp.

Impairments are added and cleared with `impair`: the site's own blocks (UDP,
TCP 443) in table inet lab_impair on gw; the WAN bottleneck (tbf on both isp
interfaces) and WAN loss (table inet lab_impair on isp) on isp; DNS answers on
dns. gw's tc is never touched: it belongs to the QoS under test.

Every lab object carries the label dlegate.lab=<name>, and only that label
selects what `down` and `up` remove. state.json, the PKI and the inventory live
in <repo>/.cache/lab/<name>/ (secrets 0600); each host gets only the files its
services read, from hosts/<host>/, mounted read-only at /lab.

Modules: common (names, paths, LabError), podman (running commands), image,
topology (the plan, pure), state (state.json, inventory), services, impairments,
lifecycle (up, down, status) and cli. tools/lab/lab.py is the command line.
"""
