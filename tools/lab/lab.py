#!/usr/bin/env python3
"""DLEGATE network lab: podman containers that model a corporate site and the
DLEGATE service side, for testing the dlegate.rtc collection.

Topology for lab slot N (site = 198.18.(10+2N).0/24, internet = 198.18.(11+2N).0/24;
the host bridge of each podman network keeps .1, no container ever gets it):

    site network (internal)                      internet network (internal)
    198.18.(10+2N).0/24                          198.18.(11+2N).0/24

    endpoint1  .11 --+                      +-- dns     .53  dnsmasq, authoritative
    endpoint2  .12 --+                      |                for dlegate.test
    ...              |      +--------+      +-- signal  .10  HTTPS + WSS echo, TCP 443
    endpointK  .1K --+------| gw     |------+
                      .254  | NAT    | .254 +-- turn    .20  coturn: STUN/TURN UDP+TCP 3478,
                            | site FW|                       TURN/TLS TCP 443, relay range
                            +--------+

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

Commands: image, images, up, down, status, inventory, impair, exec.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = REPO / ".cache" / "lab"
PACKAGES_FILE = HERE / "packages.txt"
RECIPE_FILES = (PACKAGES_FILE, HERE / "image-setup.sh")
CONTAINERS_CONF = HERE / "containers.conf"
SIGNAL_SERVER = HERE / "signal_server.py"
IMAGE_REPO = "localhost/dlegate-lab"
SUITE = "bookworm"
LABEL = "dlegate.lab"
DEFAULT_NAME = os.environ.get("DLEGATE_LAB_NAME", "dlegate")
DOMAIN = "dlegate.test"
PERMIT_MARK = "0x00200000"
MAX_ENDPOINTS = 200
MOUNT = "/lab"
PARALLEL = 4
SERVICE_OFFSETS = {"dns": 53, "signal": 10, "turn": 20}
GW_OFFSET = 254
ENDPOINT_BASE = 10
TURN_USERS = ("alice", "bob")
DNS_PIDFILE = "/run/lab-dnsmasq.pid"
IMPAIR_KINDS = ("block-udp", "block-tcp443", "dns-nxdomain", "dns-sinkhole",
                "rate", "loss")


class LabError(Exception):
    """A lab operation failed; the message says what and why."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# running commands


def podman_env():
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def run(cmd, check=True, input=None, timeout=None, env=None):
    """Run cmd, return CompletedProcess (text). Raise LabError on failure."""
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, env=env)
    except FileNotFoundError as exc:
        raise LabError(f"command not found: {cmd[0]} ({exc})") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"timed out after {timeout}s: {shlex.join(cmd)}") from None
    if check and proc.returncode != 0:
        raise LabError(f"command failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                       f"{(proc.stderr or proc.stdout).strip()}")
    return proc


def podman(*args, check=True, input=None, timeout=None):
    require_tool("podman")
    return run(["podman", *args], check=check, input=input, timeout=timeout,
               env=podman_env())


def require_tool(name):
    if shutil.which(name) is None:
        raise LabError(f"'{name}' is not installed; install it first "
                       f"(apt-get install podman runc debootstrap nftables openssl uidmap)")


def in_container(container, script, check=True, input=None, timeout=60):
    """Run a shell script inside a lab container."""
    args = ["exec", "-i", container, "sh", "-c", script] if input is not None \
        else ["exec", container, "sh", "-c", script]
    return podman(*args, check=check, input=input, timeout=timeout)


def parallel(func, items):
    """Call func on every item with a few threads; re-raise the first error."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(func, items))


# --------------------------------------------------------------------------
# image


def read_packages():
    lines = PACKAGES_FILE.read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def image_key():
    digest = hashlib.sha256()
    digest.update("\n".join(read_packages()).encode())
    for path in RECIPE_FILES:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def image_tag():
    return f"{IMAGE_REPO}:{image_key()}"


def parse_sources_deb822(text, suite=SUITE):
    """URIs of deb822 stanzas (a .sources file) whose Suites include suite."""
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            match = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if match and not line.startswith("#"):
                fields[match.group(1).lower()] = match.group(2).split()
        if "deb" in fields.get("types", []) and suite in fields.get("suites", []) \
                and fields.get("enabled", ["yes"])[0].lower() != "no":
            found.extend(fields.get("uris", []))
    return found


def parse_sources_list(text, suite=SUITE):
    """Mirror URLs of one-line 'deb [opts] URL suite components' entries."""
    found = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2 and words[1] == suite:
            found.append(words[0])
    return found


def apt_mirror(root=Path("/etc/apt")):
    """The host's Debian mirror for the lab suite, from its apt sources."""
    candidates = []
    for path in sorted((root / "sources.list.d").glob("*.sources")):
        candidates += parse_sources_deb822(path.read_text(errors="replace"))
    for path in [root / "sources.list", *sorted((root / "sources.list.d").glob("*.list"))]:
        if path.is_file():
            candidates += parse_sources_list(path.read_text(errors="replace"))
    for uri in candidates:
        if uri.startswith(("http://", "https://", "file:/")):
            return uri
    raise LabError(f"no apt source for suite '{SUITE}' found under {root}")


def image_exists(tag):
    return podman("image", "exists", tag, check=False).returncode == 0


def mounts_under(path):
    prefix = str(Path(path).resolve()) + "/"
    with open("/proc/mounts") as fh:
        points = [line.split()[1].replace("\\040", " ") for line in fh]
    return sorted((p for p in points if p.startswith(prefix)), reverse=True)


def remove_rootfs(path):
    """Unmount anything debootstrap left mounted, then delete the tree."""
    for point in mounts_under(path):
        run(["umount", "-l", point], check=False)
    if mounts_under(path):
        raise LabError(f"refusing to delete {path}: still has mounts")
    shutil.rmtree(path, ignore_errors=True)


def build_image(force=False):
    tag = image_tag()
    if not force and image_exists(tag):
        log(f"image {tag} is up to date")
        return tag
    require_tool("debootstrap")
    mirror = apt_mirror()
    CACHE.mkdir(parents=True, exist_ok=True)
    rootfs = tempfile.mkdtemp(prefix="rootfs-", dir=CACHE)
    started = time.monotonic()
    try:
        bootstrap_rootfs(rootfs, mirror)
        run(["chroot", rootfs, "/bin/sh", "-s"], input=(HERE / "image-setup.sh").read_text())
        import_rootfs(rootfs, tag)
    finally:
        remove_rootfs(rootfs)
    log(f"built {tag} in {time.monotonic() - started:.0f}s")
    return tag


def bootstrap_rootfs(rootfs, mirror):
    log(f"debootstrap {SUITE} from {mirror} (takes a minute or two)")
    cmd = ["debootstrap", "--variant=minbase", "--include=" + ",".join(read_packages()),
           SUITE, rootfs, mirror]
    run(cmd, timeout=1800)


def import_rootfs(rootfs, tag):
    tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."],
                           stdout=subprocess.PIPE)
    try:
        proc = subprocess.run(
            ["podman", "import", "--change",
             "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--change", "CMD [\"sleep\", \"infinity\"]", "-", tag],
            stdin=tar.stdout, capture_output=True, text=True, env=podman_env())
    finally:
        tar.stdout.close()
        tar.wait()
    if proc.returncode != 0 or tar.returncode != 0:
        raise LabError(f"podman import {tag} failed: {proc.stderr.strip()}")


def list_images():
    out = podman("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}",
                 "--filter", f"reference={IMAGE_REPO}").stdout
    return [line.split(" ", 2) for line in out.splitlines() if line.strip()]


def prune_images(keep):
    for name, _, _ in list_images():
        if name != keep:
            proc = podman("rmi", name, check=False)
            log(f"removed {name}" if proc.returncode == 0 else
                f"kept {name} (in use): {proc.stderr.strip()}")


# --------------------------------------------------------------------------
# plan: names, addresses, credentials


def check_name(name):
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", name or ""):
        raise LabError(f"bad lab name {name!r}: use 1-31 of a-z 0-9 -")
    return name


def parse_range(text):
    match = re.fullmatch(r"(\d+)-(\d+)", text or "")
    low, high = (int(match.group(1)), int(match.group(2))) if match else (0, -1)
    if not 1024 <= low <= high <= 65535:
        raise LabError(f"bad port range {text!r}: want LO-HI within 1024-65535")
    return [low, high]


def subnets(slot):
    if not 0 <= slot <= 99:
        raise LabError(f"bad slot {slot}: want 0..99")
    return (ipaddress.ip_network(f"198.18.{10 + 2 * slot}.0/24"),
            ipaddress.ip_network(f"198.18.{11 + 2 * slot}.0/24"))


def host_entry(name, host, role, addresses, dns):
    return {"container": f"{name}-{host}", "role": role, "addresses": addresses,
            "dns": dns}


def plan_hosts(name, site, inet, endpoints):
    gw_site, gw_inet = str(site[GW_OFFSET]), str(inet[GW_OFFSET])
    dns = str(inet[SERVICE_OFFSETS["dns"]])
    hosts = {"gw": host_entry(name, "gw", "gateway",
                              {"site": gw_site, "internet": gw_inet}, dns)}
    for svc, offset in SERVICE_OFFSETS.items():
        hosts[svc] = host_entry(name, svc, "service", {"internet": str(inet[offset])}, dns)
    for index in range(1, endpoints + 1):
        hosts[f"endpoint{index}"] = host_entry(
            name, f"endpoint{index}", "endpoint",
            {"site": str(site[ENDPOINT_BASE + index])}, gw_site)
    return hosts


def plan(name, slot=0, endpoints=2, relay_range="49152-65535"):
    """The complete description of a lab (what state.json holds), without side effects."""
    check_name(name)
    if not 1 <= endpoints <= MAX_ENDPOINTS:
        raise LabError(f"bad endpoint count {endpoints}: want 1..{MAX_ENDPOINTS}")
    site, inet = subnets(slot)
    hosts = plan_hosts(name, site, inet, endpoints)
    signal, turn = hosts["signal"]["addresses"]["internet"], hosts["turn"]["addresses"]["internet"]
    state_dir = CACHE / name
    return {
        "name": name, "slot": slot, "label": f"{LABEL}={name}",
        "site_network": str(site), "internet_network": str(inet),
        "networks": {"site": f"{name}-site", "internet": f"{name}-internet"},
        "hosts": hosts,
        "domain": DOMAIN,
        "domains": {f"signal.{DOMAIN}": signal, f"turn.{DOMAIN}": turn,
                    f"media.{DOMAIN}": turn, f"stun.{DOMAIN}": turn},
        "relay_range": parse_range(relay_range),
        "turn": {"realm": DOMAIN, "server": turn, "ports": {"udp": 3478, "tcp": 3478, "tls": 443},
                 "users": {user: secrets.token_urlsafe(12) for user in TURN_USERS},
                 "secret": secrets.token_hex(16)},
        "state_dir": str(state_dir),
        "ca_cert": str(state_dir / "pki" / "ca.crt"),
        "inventory": str(state_dir / "inventory.yml"),
        "impairments": [],
    }


def turn_rest_credentials(secret, user, ttl=3600, now=None):
    """TURN REST API credentials (username 'expiry:user', HMAC-SHA1 password)."""
    username = f"{int(now if now is not None else time.time()) + ttl}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


# --------------------------------------------------------------------------
# state


def state_path(name):
    return CACHE / check_name(name) / "state.json"


def load_state(name, required=True):
    path = state_path(name)
    if not path.is_file():
        if required:
            raise LabError(f"lab '{name}' is not up (no {path.relative_to(REPO)}); "
                           f"run: lab.py up --name {name}")
        return None
    return json.loads(path.read_text())


def write_file(path, text, mode=0o644):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)


def save_state(state):
    write_file(Path(state["state_dir"]) / "state.json", json.dumps(state, indent=2) + "\n", 0o600)


# --------------------------------------------------------------------------
# removal


def lab_containers(name):
    out = podman("ps", "-a", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.Names}}").stdout
    found = set(out.split())
    role = r"(gw|dns|signal|turn|endpoint\d+)"
    out = podman("ps", "-a", "--format", "{{.Names}}").stdout
    found |= {n for n in out.split() if re.fullmatch(re.escape(name) + "-" + role, n)}
    return sorted(found)


def lab_networks(name):
    out = podman("network", "ls", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.Name}}").stdout
    found = set(out.split())
    out = podman("network", "ls", "--format", "{{.Name}}").stdout
    found |= {n for n in out.split() if n in (f"{name}-site", f"{name}-internet")}
    return sorted(found)


def remove_lab(name):
    containers = lab_containers(name)
    if containers:
        podman("rm", "-f", "-t", "0", *containers, timeout=300)
    networks = lab_networks(name)
    if networks:
        podman("network", "rm", "-f", *networks)
    return containers, networks


# --------------------------------------------------------------------------
# PKI (lab CA, server certificates), generated with the host's openssl


def openssl(*args):
    require_tool("openssl")
    run(["openssl", *args])


def make_pki(state):
    pki = Path(state["state_dir"]) / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"),
            "-days", "30", "-subj", f"/O=DLEGATE lab/CN=DLEGATE lab CA {state['name']}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    names = {"signal": [f"signal.{DOMAIN}"],
             "turn": [f"turn.{DOMAIN}", f"media.{DOMAIN}", f"stun.{DOMAIN}"]}
    for host, dns_names in names.items():
        ip = state["hosts"][host]["addresses"]["internet"]
        make_leaf(pki, host, dns_names, ip, ec)


def make_leaf(pki, host, dns_names, ip, ec):
    san = ",".join([f"DNS:{n}" for n in dns_names] + [f"IP:{ip}"])
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


# --------------------------------------------------------------------------
# generated configuration files (written to the state dir, seen at /lab)


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


def turn_conf(state):
    turn = state["turn"]
    ip = turn["server"]
    lines = [f"listening-ip={ip}", f"relay-ip={ip}",
             f"listening-port={turn['ports']['udp']}",
             f"tls-listening-port={turn['ports']['tls']}",
             f"min-port={state['relay_range'][0]}", f"max-port={state['relay_range'][1]}",
             f"realm={turn['realm']}", f"server-name=turn.{DOMAIN}",
             "fingerprint", "lt-cred-mech", "use-auth-secret",
             f"static-auth-secret={turn['secret']}"]
    lines += [f"user={user}:{pw}" for user, pw in turn["users"].items()]
    lines += [f"cert={MOUNT}/pki/turn.crt", f"pkey={MOUNT}/pki/turn.key",
              "no-cli", "no-multicast-peers", "simple-log",
              "log-file=/var/log/turnserver.log", "pidfile=/run/turnserver.pid"]
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
    ip saddr {state['site_network']} oifname "{gw['interfaces']['internet']}" masquerade
  }}
}}
"""


def write_configs(state):
    etc = Path(state["state_dir"]) / "etc"
    write_file(etc / "dns.conf", dns_conf(state))
    write_file(etc / "site-resolver.conf", site_resolver_conf(state))
    write_file(etc / "turnserver.conf", turn_conf(state), 0o644)
    write_file(etc / "gw.nft", gw_nft(state))
    write_file(Path(state["state_dir"]) / "bin" / "signal_server.py", SIGNAL_SERVER.read_text())


# --------------------------------------------------------------------------
# networks and containers


def create_networks(state):
    site, inet = state["site_network"], state["internet_network"]
    for key, subnet in (("site", site), ("internet", inet)):
        gateway = str(ipaddress.ip_network(subnet)[1])
        podman("network", "create", "--internal", "--disable-dns", "--subnet", subnet,
               "--gateway", gateway, "--label", state["label"], state["networks"][key])


def run_args(state, host, image):
    spec = state["hosts"][host]
    args = ["run", "-d", "--pull", "never", "--name", spec["container"], "--hostname", host,
            "--label", state["label"], "--label", f"{LABEL}.host={host}",
            "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
            "--dns", spec["dns"], "--dns-search", ".",
            "-v", f"{state['state_dir']}:{MOUNT}:ro"]
    for net, ip in spec["addresses"].items():
        args += ["--network", f"{state['networks'][net]}:ip={ip}"]
    if spec["role"] == "gateway":
        args += ["--sysctl", "net.ipv4.ip_forward=1"]
    return args + [image, "sleep", "infinity"]


def start_containers(state, image):
    parallel(lambda host: podman(*run_args(state, host, image), timeout=120),
             list(state["hosts"]))


def gw_interfaces(state):
    """Map 'site'/'internet' to gw's interface names, found by address."""
    gw = state["hosts"]["gw"]
    out = podman("exec", gw["container"], "ip", "-o", "-4", "addr", "show").stdout
    by_ip = {}
    for line in out.splitlines():
        words = line.split()
        by_ip[words[3].split("/")[0]] = words[1]
    return {net: by_ip[ip] for net, ip in gw["addresses"].items()}


# --------------------------------------------------------------------------
# inside the hosts

CA_INSTALL = (f"cp {MOUNT}/pki/ca.crt /usr/local/share/ca-certificates/dlegate-lab-ca.crt"
              " && update-ca-certificates >/dev/null 2>&1")


def base_setup(state, host):
    """Trust the lab CA; endpoints route via gw."""
    spec = state["hosts"][host]
    script = CA_INSTALL
    if spec["role"] == "endpoint":
        script += f" && ip route replace default via {state['hosts']['gw']['addresses']['site']}"
    in_container(spec["container"], script)


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
    start_daemon(hosts["turn"]["container"],
                 f"turnserver -c {MOUNT}/etc/turnserver.conf", "/var/log/turnserver.out")
    wait_listening(state)


LISTENERS = {"dns": [("u", 53)], "gw": [("u", 53)], "signal": [("t", 443)],
             "turn": [("u", 3478), ("t", 3478), ("t", 443)]}


def wait_listening(state, hosts=None, seconds=15):
    """Wait until every service socket listens; fail with the service log otherwise."""
    def wait(host):
        checks = " && ".join(f"ss -Hln{p} 'sport = :{port}' | grep -q ." for p, port in LISTENERS[host])
        script = (f"i=0; until {checks}; do i=$((i+1)); [ $i -gt {seconds * 10} ] && exit 1; "
                  "sleep 0.1; done")
        if in_container(state["hosts"][host]["container"], script, check=False).returncode:
            logs = in_container(state["hosts"][host]["container"],
                                "tail -n 20 /var/log/*.out /var/log/*.log 2>/dev/null",
                                check=False).stdout
            raise LabError(f"service on {host} did not start listening:\n{logs}")
    parallel(wait, hosts or list(LISTENERS))


def restart_lab_dns(state):
    container = state["hosts"]["dns"]["container"]
    in_container(container, f"pid=$(cat {DNS_PIDFILE} 2>/dev/null) && kill $pid; "
                            "i=0; while [ -n \"$pid\" ] && kill -0 $pid 2>/dev/null "
                            "&& [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done; true")
    start_dnsmasq(state, "dns", "dns.conf")
    wait_listening(state, ["dns"])


# --------------------------------------------------------------------------
# up / down


def lab_up(name, slot, endpoints, relay_range):
    started = time.monotonic()
    state = plan(name, slot, endpoints, relay_range)
    image = build_image()
    containers, networks = remove_lab(name)
    if containers or networks:
        log(f"removed leftovers: {len(containers)} containers, {len(networks)} networks")
    state_dir = Path(state["state_dir"])
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    state["image"] = image
    make_pki(state)
    create_networks(state)
    start_containers(state, image)
    state["hosts"]["gw"]["interfaces"] = gw_interfaces(state)
    write_configs(state)
    save_state(state)
    parallel(lambda host: base_setup(state, host), list(state["hosts"]))
    start_services(state)
    write_inventory(state)
    log(f"lab '{name}' up in {time.monotonic() - started:.1f}s: "
        f"{len(state['hosts'])} hosts, site {state['site_network']}, "
        f"internet {state['internet_network']}")
    return state


def lab_down(name):
    containers, networks = remove_lab(check_name(name))
    shutil.rmtree(CACHE / name, ignore_errors=True)
    log(f"lab '{name}' down: removed {len(containers)} containers, {len(networks)} networks")
