"""The lab's services: PKI, generated configuration, daemons inside the hosts, their checks."""

from pathlib import Path

from .common import DNS_PIDFILE, DOMAIN, HOST_IMAGE_REPO, LabError, MOUNT, PERMIT_MARK, SIGNAL_SERVER, UDP_ECHO
from .podman import in_container, parallel, podman, require_tool, run
from .state import PUBLIC, SECRET, host_dir, write_file
from .topology import SECRET_FILES, host_files


def openssl(*args):
    require_tool("openssl")
    run(["openssl", *args])


def make_pki(state):
    """The lab CA and the server certificates, in the state folder (never mounted
    whole); every private key is readable by root only."""
    pki = Path(state["state_dir"]) / "pki"
    pki.mkdir(mode=0o700, parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"),
            "-days", "30", "-subj", f"/O=DLEGATE lab/CN=DLEGATE lab CA {state['name']}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    names = {"signal": [f"signal.{DOMAIN}"],
             "turn": [f"turn.{DOMAIN}", f"media.{DOMAIN}", f"stun.{DOMAIN}",
                      f"turn-rest.{DOMAIN}"]}
    ips = {"signal": [state["hosts"]["signal"]["addresses"]["internet"]],
           "turn": [state["turn"]["server"], state["turn"]["rest_server"]]}
    for host, dns_names in names.items():
        make_leaf(pki, host, dns_names, ips[host], ec)
    for key in pki.glob("*.key"):
        key.chmod(SECRET)


def make_leaf(pki, host, dns_names, ips, ec):
    san = ",".join([f"DNS:{n}" for n in dns_names] + [f"IP:{ip}" for ip in ips])
    ext = pki / f"{host}.ext"
    ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    openssl("req", "-new", *ec, "-keyout", str(pki / f"{host}.key"),
            "-out", str(pki / f"{host}.csr"), "-subj", f"/O=DLEGATE lab/CN={dns_names[0]}")
    openssl("x509", "-req", "-in", str(pki / f"{host}.csr"), "-CA", str(pki / "ca.crt"),
            "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "30",
            "-extfile", str(ext), "-out", str(pki / f"{host}.crt"))
    for leftover in (ext, pki / f"{host}.csr"):
        leftover.unlink()


def dns_records(state):
    """The lab dns host's records after DNS impairments: name -> ip, or None for NXDOMAIN."""
    records = dict(state["domains"])
    for imp in state["impairments"]:
        if imp["kind"] == "dns-nxdomain":
            records[imp["target"]] = None
        elif imp["kind"] == "dns-sinkhole":
            records[imp["target"]] = imp["address"]
    return records


def dns_conf(state):
    lines = ["no-resolv", "no-hosts", "bind-interfaces", "user=root",
             f"listen-address={state['hosts']['dns']['addresses']['internet']}",
             f"local=/{DOMAIN}/", f"pid-file={DNS_PIDFILE}",
             "log-queries", "log-facility=/var/log/dnsmasq.log"]
    for name, ip in sorted(dns_records(state).items()):
        lines.append(f"address=/{name}/" + (ip or ""))
    return "\n".join(lines) + "\n"


def site_resolver_conf(state):
    return "\n".join([
        "no-resolv", "no-hosts", "bind-interfaces", "user=root", "cache-size=0",
        f"listen-address={state['hosts']['gw']['addresses']['site']}",
        f"server={state['hosts']['dns']['addresses']['internet']}",
        f"pid-file={DNS_PIDFILE}", "log-facility=/var/log/dnsmasq.log"]) + "\n"


def turn_conf(state, rest=False):
    """coturn cannot mix static users and the REST secret in one process
    (the secret wins), so one instance per auth model, on its own address."""
    turn = state["turn"]
    ip = turn["rest_server"] if rest else turn["server"]
    tag = "turnserver-rest" if rest else "turnserver"
    lines = [f"listening-ip={ip}", f"relay-ip={ip}",
             f"listening-port={turn['ports']['udp']}",
             f"tls-listening-port={turn['ports']['tls']}",
             f"min-port={state['relay_range'][0]}", f"max-port={state['relay_range'][1]}",
             f"realm={turn['realm']}", f"server-name=turn.{DOMAIN}",
             "fingerprint", "lt-cred-mech"]
    if rest:
        lines += ["use-auth-secret", f"static-auth-secret={turn['secret']}"]
    else:
        lines += [f"user={user}:{pw}" for user, pw in turn["users"].items()]
    lines += [f"cert={MOUNT}/pki/turn.crt", f"pkey={MOUNT}/pki/turn.key",
              "no-cli", "no-multicast-peers", "simple-log", f"userdb=/var/lib/turn/{tag}.db",
              f"log-file=/var/log/{tag}.log", f"pidfile=/run/{tag}.pid"]
    return "\n".join(lines) + "\n"


def gw_nft(state):
    gw = state["hosts"]["gw"]
    return f"""table inet lab_site_fw
delete table inet lab_site_fw
table inet lab_site_fw {{
  chain forward {{
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    meta mark & {PERMIT_MARK} == {PERMIT_MARK} accept comment "permitted by dlegate.rtc egress policy"
  }}
}}
table ip lab_site_nat
delete table ip lab_site_nat
table ip lab_site_nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr {state['site_network']} oifname "{gw['interfaces']['wan']}" masquerade
  }}
}}
"""


def host_file_text(state, rel):
    """The text of one file a host reads under /lab (rel as in topology.HOST_FILES)."""
    renderers = {
        "etc/dns.conf": dns_conf,
        "etc/site-resolver.conf": site_resolver_conf,
        "etc/turnserver.conf": turn_conf,
        "etc/turnserver-rest.conf": lambda st: turn_conf(st, rest=True),
        "etc/gw.nft": gw_nft,
        "bin/signal_server.py": lambda st: SIGNAL_SERVER.read_text(),
        "bin/udp_echo.py": lambda st: UDP_ECHO.read_text(),
    }
    if rel in renderers:
        return renderers[rel](state)
    return (Path(state["state_dir"]) / rel).read_text()   # pki/: made by make_pki


def write_host_files(state, only=None):
    """Give each host its own folder (mounted at /lab) holding only what it needs."""
    for host, files in host_files(state).items():
        for rel in files:
            if only is None or rel in only:
                write_file(host_dir(state, host) / rel, host_file_text(state, rel),
                           SECRET if rel in SECRET_FILES else PUBLIC)


CA_INSTALL = ("cat > /usr/local/share/ca-certificates/dlegate-lab-ca.crt"
              " && update-ca-certificates >/dev/null 2>&1")


def host_image(state, base):
    """The lab image plus the lab CA (installed with update-ca-certificates once,
    then committed, so every host trusts it without paying for a rehash each)."""
    tag = f"{HOST_IMAGE_REPO}:{state['name']}"
    prep = f"{state['name']}-ca-prep"
    podman("run", "-d", "--pull", "never", "--name", prep, "--network", "none",
           "--label", state["label"], base, "sleep", "infinity")
    try:
        in_container(prep, CA_INSTALL, input=Path(state["ca_cert"]).read_text())
        podman("commit", "-q", "--change", f"LABEL {state['label']}", prep, tag)
    finally:
        podman("rm", "-f", "-t", "0", prep, check=False)
    return tag


def base_setup(state, host):
    """Routes: endpoints via gw, gw via isp's WAN side, services via isp's internet
    side; isp knows only its two networks. turn gets its second address."""
    in_container(state["hosts"][host]["container"], setup_script(state, host))


def setup_script(state, host):
    hosts = state["hosts"]
    role = hosts[host]["role"]
    if role == "endpoint":
        return f"ip route replace default via {hosts['gw']['addresses']['site']}"
    if role == "gateway":
        return f"ip route replace default via {hosts['isp']['addresses']['wan']}"
    if role == "isp":
        return "ip route del default 2>/dev/null; true"
    script = f"ip route replace default via {hosts['isp']['addresses']['internet']}"
    if host == "turn":
        own, rest = state["turn"]["server"], state["turn"]["rest_server"]
        script += (f" && dev=$(ip -o addr show to {own}/32 | cut -d' ' -f2)"
                   f" && ip addr replace {rest}/24 dev $dev")
    return script


def start_daemon(container, command, logfile):
    podman("exec", "-d", container, "sh", "-c", f"exec {command} >>{logfile} 2>&1")


def start_dnsmasq(state, host, conf):
    start_daemon(state["hosts"][host]["container"],
                 f"dnsmasq --keep-in-foreground --conf-file={MOUNT}/etc/{conf}",
                 "/var/log/dnsmasq.out")


def start_services(state):
    hosts = state["hosts"]
    in_container(hosts["gw"]["container"], f"nft -f {MOUNT}/etc/gw.nft")
    start_dnsmasq(state, "dns", "dns.conf")
    start_dnsmasq(state, "gw", "site-resolver.conf")
    signal = hosts["signal"]["addresses"]["internet"]
    start_daemon(hosts["signal"]["container"],
                 f"python3 -u {MOUNT}/bin/signal_server.py {MOUNT}/pki/signal.crt "
                 f"{MOUNT}/pki/signal.key {signal} 443", "/var/log/signal.log")
    iperf3 = state["iperf3"]
    start_daemon(hosts["signal"]["container"], f"iperf3 -s -B {iperf3['address']} -p {iperf3['port']}",
                 "/var/log/iperf3.log")
    echo = state["udp_echo"]
    start_daemon(hosts["turn"]["container"],
                 f"python3 -u {MOUNT}/bin/udp_echo.py {echo['address']} {echo['ports'][0]}-{echo['ports'][1]}",
                 "/var/log/udp-echo.log")
    wait_listening(state, ["turn"], services=["udp-echo"])   # its ports first, before coturn relays from them
    for tag in ("turnserver", "turnserver-rest"):
        start_daemon(hosts["turn"]["container"],
                     f"turnserver -c {MOUNT}/etc/{tag}.conf", f"/var/log/{tag}.out")
    wait_listening(state)


def listeners(state, host):
    """service -> (proto, address, port) of the sockets it must listen on, per host."""
    turn, echo, iperf3 = state["turn"], state["udp_echo"], state["iperf3"]
    addr = state["hosts"][host]["addresses"]
    if host == "dns":
        return {"dnsmasq": [("u", addr["internet"], 53)]}
    if host == "signal":
        return {"signal": [("t", addr["internet"], 443)], "iperf3": [("t", iperf3["address"], iperf3["port"])]}
    if host == "gw":
        return {"site-resolver": [("u", addr["site"], 53)]}
    if host == "turn":
        return {"turnserver": [(p, ip, port) for ip in (turn["server"], turn["rest_server"])
                               for p, port in (("u", 3478), ("t", 3478), ("t", 443))],
                "udp-echo": [("u", echo["address"], port) for port in echo["ports"]]}
    return {}


def wait_listening(state, hosts=None, seconds=15, services=None):
    """Wait until every service socket listens; fail with the service log otherwise."""
    def wait(host):
        sockets = [sock for name, socks in listeners(state, host).items()
                   if services is None or name in services for sock in socks]
        checks = " && ".join(f"ss -Hln{p} 'src {ip}:{port}' | grep -q ." for p, ip, port in sockets)
        script = (f"i=0; until {checks}; do i=$((i+1)); [ $i -gt {seconds * 10} ] && exit 1; "
                  "sleep 0.1; done")
        if in_container(state["hosts"][host]["container"], script, check=False).returncode:
            logs = in_container(state["hosts"][host]["container"],
                                "tail -n 20 /var/log/*.out /var/log/*.log 2>/dev/null",
                                check=False).stdout
            raise LabError(f"service on {host} did not start listening:\n{logs}")
    parallel(wait, hosts or ["dns", "gw", "signal", "turn"])


def restart_lab_dns(state):
    container = state["hosts"]["dns"]["container"]
    in_container(container, f"pid=$(cat {DNS_PIDFILE} 2>/dev/null) && kill $pid; "
                            "i=0; while [ -n \"$pid\" ] && kill -0 $pid 2>/dev/null "
                            "&& [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done; true")
    start_dnsmasq(state, "dns", "dns.conf")
    wait_listening(state, ["dns"])


SERVICE_CHECKS = {
    "gw": {"site-resolver": f"kill -0 $(cat {DNS_PIDFILE})",
           "site-firewall": "nft list table inet lab_site_fw",
           "nat": "nft list table ip lab_site_nat"},
    "dns": {"dnsmasq": f"kill -0 $(cat {DNS_PIDFILE})"},
    "isp": {"forwarding": "grep -qx 1 /proc/sys/net/ipv4/ip_forward"},
    "signal": {"signal": "pgrep -f signal_server.py", "iperf3": "pgrep -x iperf3"},
    "turn": {"turnserver": "kill -0 $(cat /run/turnserver.pid)",
             "turnserver-rest": "kill -0 $(cat /run/turnserver-rest.pid)",
             "udp-echo": "pgrep -f udp_echo.py"},
}


def check_services(container, checks):
    script = "; ".join(f"if {cmd} >/dev/null 2>&1; then echo {name}=up; "
                       f"else echo {name}=down; fi" for name, cmd in checks.items())
    out = in_container(container, script, check=False).stdout
    found = dict(line.split("=", 1) for line in out.split() if "=" in line)
    return {name: found.get(name, "down") for name in checks}
