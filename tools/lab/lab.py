#!/usr/bin/env python3
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

Commands: image, images, up, down, status, inventory, impair, exec.
"""

import argparse
import base64
import concurrent.futures
import contextlib
import fcntl
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
HOST_IMAGE_REPO = "localhost/dlegate-lab-ca"
SUITE = "bookworm"
LABEL = "dlegate.lab"
DEFAULT_NAME = os.environ.get("DLEGATE_LAB_NAME", "dlegate")
DOMAIN = "dlegate.test"
PERMIT_MARK = "0x00200000"
MAX_ENDPOINTS = 200
MOUNT = "/lab"
PARALLEL = 4
SERVICE_OFFSETS = {"dns": 53, "signal": 10, "turn": 20}
TURN_REST_OFFSET = 21
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


def podman(*args, check=True, input=None, timeout=300):
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


@contextlib.contextmanager
def image_lock():
    """One image build at a time on this machine (labs may start in parallel)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".image.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def build_image(force=False):
    tag = image_tag()
    if not force and image_exists(tag):
        log(f"image {tag} is up to date")
        return tag
    with image_lock():
        if force or not image_exists(tag):
            build_image_now(tag)
    return tag


def build_image_now(tag):
    require_tool("debootstrap")
    mirror = apt_mirror()
    old_id = podman("image", "inspect", "--format", "{{.Id}}", tag, check=False).stdout.strip()
    CACHE.mkdir(parents=True, exist_ok=True)
    rootfs = tempfile.mkdtemp(prefix="rootfs-", dir=CACHE)
    started = time.monotonic()
    try:
        bootstrap_rootfs(rootfs, mirror)
        run(["chroot", rootfs, "/bin/sh", "-s"], input=(HERE / "image-setup.sh").read_text())
        import_rootfs(rootfs, tag)
    finally:
        remove_rootfs(rootfs)
    if old_id:   # a forced rebuild leaves the old image untagged: drop it unless in use
        podman("rmi", old_id, check=False)
    log(f"built {tag} in {time.monotonic() - started:.0f}s")


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
    turn_rest = str(inet[TURN_REST_OFFSET])
    hosts["turn"]["aliases"] = [turn_rest]
    state_dir = CACHE / name
    return {
        "name": name, "slot": slot, "label": f"{LABEL}={name}",
        "site_network": str(site), "internet_network": str(inet),
        "subnets": {"site": str(site), "internet": str(inet)},
        "networks": {"site": f"{name}-site", "internet": f"{name}-internet"},
        "hosts": hosts,
        "domain": DOMAIN,
        "domains": {f"signal.{DOMAIN}": signal, f"turn.{DOMAIN}": turn,
                    f"media.{DOMAIN}": turn, f"stun.{DOMAIN}": turn,
                    f"turn-rest.{DOMAIN}": turn_rest},
        "relay_range": parse_range(relay_range),
        "turn": {"realm": DOMAIN, "server": turn, "rest_server": turn_rest,
                 "ports": {"udp": 3478, "tcp": 3478, "tls": 443},
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
    role = r"(gw|dns|signal|turn|endpoint\d+|ca-prep)"
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


def lab_images(name):
    out = podman("images", "-a", "--filter", f"label={LABEL}={name}",
                 "--format", "{{.ID}}").stdout
    return sorted(set(out.split()))


def remove_lab(name):
    containers = lab_containers(name)
    if containers:
        podman("rm", "-f", "-t", "0", *containers, timeout=300)
    networks = lab_networks(name)
    if networks:
        podman("network", "rm", "-f", *networks)
    images = lab_images(name)
    if images:
        podman("rmi", "-f", *images)
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
             "turn": [f"turn.{DOMAIN}", f"media.{DOMAIN}", f"stun.{DOMAIN}",
                      f"turn-rest.{DOMAIN}"]}
    ips = {"signal": [state["hosts"]["signal"]["addresses"]["internet"]],
           "turn": [state["turn"]["server"], state["turn"]["rest_server"]]}
    for host, dns_names in names.items():
        make_leaf(pki, host, dns_names, ips[host], ec)


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
    ip saddr {state['site_network']} oifname "{gw['interfaces']['internet']}" masquerade
  }}
}}
"""


def write_configs(state):
    etc = Path(state["state_dir"]) / "etc"
    write_file(etc / "dns.conf", dns_conf(state))
    write_file(etc / "site-resolver.conf", site_resolver_conf(state))
    write_file(etc / "turnserver.conf", turn_conf(state), 0o644)
    write_file(etc / "turnserver-rest.conf", turn_conf(state, rest=True), 0o644)
    write_file(etc / "gw.nft", gw_nft(state))
    write_file(Path(state["state_dir"]) / "bin" / "signal_server.py", SIGNAL_SERVER.read_text())


# --------------------------------------------------------------------------
# networks and containers


def check_subnets_free(state):
    """Fail early, naming the owner, if another network holds this slot's subnets."""
    wanted = {ipaddress.ip_network(state["site_network"]),
              ipaddress.ip_network(state["internet_network"])}
    for net in json.loads(podman("network", "ls", "--format", "json").stdout or "[]"):
        for sub in net.get("subnets") or []:
            if any(ipaddress.ip_network(sub["subnet"]).overlaps(w) for w in wanted):
                owner = (net.get("labels") or {}).get(LABEL)
                hint = f"run: lab.py down --name {owner}" if owner else "remove that network"
                raise LabError(f"slot {state['slot']} is taken: network {net['name']} uses "
                               f"{sub['subnet']}; pick another --slot or {hint}")


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


def host_image(state, base):
    """The lab image plus the lab CA (installed with update-ca-certificates once,
    then committed, so every host trusts it without paying for a rehash each)."""
    tag = f"{HOST_IMAGE_REPO}:{state['name']}"
    prep = f"{state['name']}-ca-prep"
    podman("run", "-d", "--pull", "never", "--name", prep, "--network", "none",
           "--label", state["label"], "-v", f"{state['state_dir']}:{MOUNT}:ro",
           base, "sleep", "infinity")
    try:
        in_container(prep, CA_INSTALL)
        podman("commit", "-q", "--change", f"LABEL {state['label']}", prep, tag)
    finally:
        podman("rm", "-f", "-t", "0", prep, check=False)
    return tag


def base_setup(state, host):
    """Endpoints route via gw; turn gets its second address."""
    spec = state["hosts"][host]
    script = ""
    if spec["role"] == "endpoint":
        script = f"ip route replace default via {state['hosts']['gw']['addresses']['site']}"
    if host == "turn":
        own, rest = state["turn"]["server"], state["turn"]["rest_server"]
        script = (f"dev=$(ip -o addr show to {own}/32 | cut -d' ' -f2)"
                  f" && ip addr replace {rest}/24 dev $dev")
    if script:
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
    for tag in ("turnserver", "turnserver-rest"):
        start_daemon(hosts["turn"]["container"],
                     f"turnserver -c {MOUNT}/etc/{tag}.conf", f"/var/log/{tag}.out")
    wait_listening(state)


def listeners(state, host):
    """(proto, address, port) of every socket a service host must listen on."""
    turn = state["turn"]
    if host in ("dns", "signal"):
        addr = state["hosts"][host]["addresses"]["internet"]
        return [("u", addr, 53)] if host == "dns" else [("t", addr, 443)]
    if host == "gw":
        return [("u", state["hosts"]["gw"]["addresses"]["site"], 53)]
    return [(p, ip, port) for ip in (turn["server"], turn["rest_server"])
            for p, port in (("u", 3478), ("t", 3478), ("t", 443))]


def wait_listening(state, hosts=None, seconds=15):
    """Wait until every service socket listens; fail with the service log otherwise."""
    def wait(host):
        checks = " && ".join(f"ss -Hln{p} 'src {ip}:{port}' | grep -q ."
                             for p, ip, port in listeners(state, host))
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


# --------------------------------------------------------------------------
# up / down


def lab_up(name, slot, endpoints, relay_range):
    started = time.monotonic()
    state = plan(name, slot, endpoints, relay_range)
    image = build_image()
    containers, networks = remove_lab(name)
    if containers or networks:
        log(f"removed leftovers: {len(containers)} containers, {len(networks)} networks")
    check_subnets_free(state)
    state_dir = Path(state["state_dir"])
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    state["image"] = image
    make_pki(state)
    state["host_image"] = host_image(state, image)
    create_networks(state)
    start_containers(state, state["host_image"])
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


# --------------------------------------------------------------------------
# inventory (YAML written by hand: JSON scalars are valid YAML scalars)


def yaml_lines(value, indent=0):
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines += [f"{pad}{key}:"] + yaml_lines(item, indent + 1)
            else:
                lines.append(f"{pad}{key}: {yaml_scalar(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            sub = yaml_lines(item, indent + 1)
            lines.append(f"{pad}- {sub[0].strip()}")
            lines += sub[1:]
        return lines
    return [pad + yaml_scalar(value)]


def yaml_scalar(value):
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_/][A-Za-z0-9_./-]*", text) and text.lower() not in (
            "yes", "no", "true", "false", "on", "off", "null", "y", "n"):
        return text
    return json.dumps(text)


def inventory_host(state, host):
    spec = state["hosts"][host]
    entry = {"ansible_connection": "containers.podman.podman",
             "ansible_host": spec["container"],
             "ansible_python_interpreter": "/usr/bin/python3"}
    entry.update({f"lab_{net}_address": ip for net, ip in spec["addresses"].items()})
    if "interfaces" in spec:
        entry.update({f"lab_{net}_interface": dev for net, dev in spec["interfaces"].items()})
    return entry


def inventory(state):
    hosts = state["hosts"]
    groups = {"gateways": ["gw"],
              "endpoints": [h for h in hosts if hosts[h]["role"] == "endpoint"],
              "service": list(SERVICE_OFFSETS)}
    services = {h: hosts[h]["addresses"]["internet"] for h in SERVICE_OFFSETS}
    lab_vars = {
        "lab_name": state["name"],
        "lab_site_network": state["site_network"],
        "lab_internet_network": state["internet_network"],
        "lab_gateway_site_address": hosts["gw"]["addresses"]["site"],
        "lab_gateway_internet_address": hosts["gw"]["addresses"]["internet"],
        "lab_service_addresses": services,
        "lab_relay_range": list(state["relay_range"]),
        "lab_turn_realm": state["turn"]["realm"],
        "lab_turn_address": state["turn"]["server"],
        "lab_turn_rest_address": state["turn"]["rest_server"],
        "lab_turn_users": dict(state["turn"]["users"]),
        "lab_turn_secret": state["turn"]["secret"],
        "lab_ca_cert": state["ca_cert"],
        "lab_domains": dict(state["domains"]),
    }
    children = {group: {"hosts": {h: inventory_host(state, h) for h in members}}
                for group, members in groups.items()}
    return {"all": {"vars": lab_vars, "children": children}}


def write_inventory(state):
    text = (f"# DLEGATE lab '{state['name']}' inventory, generated by tools/lab/lab.py\n"
            + "\n".join(yaml_lines(inventory(state))) + "\n")
    write_file(state["inventory"], text, 0o600)
    return state["inventory"]


# --------------------------------------------------------------------------
# status


SERVICE_CHECKS = {
    "gw": {"site-resolver": f"kill -0 $(cat {DNS_PIDFILE})",
           "site-firewall": "nft list table inet lab_site_fw",
           "nat": "nft list table ip lab_site_nat"},
    "dns": {"dnsmasq": f"kill -0 $(cat {DNS_PIDFILE})"},
    "signal": {"signal": "pgrep -f signal_server.py"},
    "turn": {"turnserver": "kill -0 $(cat /run/turnserver.pid)",
             "turnserver-rest": "kill -0 $(cat /run/turnserver-rest.pid)"},
}


def check_services(container, checks):
    script = "; ".join(f"if {cmd} >/dev/null 2>&1; then echo {name}=up; "
                       f"else echo {name}=down; fi" for name, cmd in checks.items())
    out = in_container(container, script, check=False).stdout
    found = dict(line.split("=", 1) for line in out.split() if "=" in line)
    return {name: found.get(name, "down") for name in checks}


def container_states(name):
    out = podman("ps", "-a", "--filter", f"label={LABEL}={name}", "--format", "json").stdout
    states = {}
    for item in json.loads(out or "[]"):
        names = item.get("Names") or []
        for cname in names if isinstance(names, list) else [names]:
            states[cname] = item.get("State", "unknown")
    return states


def lab_status(name):
    state = load_state(name)
    states = container_states(name)
    hosts = {}
    for host, spec in state["hosts"].items():
        entry = {"container": spec["container"], "role": spec["role"],
                 "addresses": dict(spec["addresses"], **{
                     f"alias{i}": ip for i, ip in enumerate(spec.get("aliases", []), 1)}),
                 "state": states.get(spec["container"], "missing"), "services": {}}
        hosts[host] = entry

    def services(host):
        if hosts[host]["state"] == "running":
            hosts[host]["services"] = check_services(hosts[host]["container"],
                                                     SERVICE_CHECKS[host])
        else:
            hosts[host]["services"] = {svc: "down" for svc in SERVICE_CHECKS[host]}
    parallel(services, list(SERVICE_CHECKS))
    healthy = all(h["state"] == "running" and all(v == "up" for v in h["services"].values())
                  for h in hosts.values())
    return {"name": name, "slot": state["slot"], "healthy": healthy,
            "site_network": state["site_network"], "internet_network": state["internet_network"],
            "relay_range": state["relay_range"], "impairments": state["impairments"],
            "inventory": state["inventory"], "hosts": hosts}


def format_status(status):
    lines = [f"lab {status['name']} (slot {status['slot']}): site {status['site_network']}, "
             f"internet {status['internet_network']}, relay ports "
             f"{status['relay_range'][0]}-{status['relay_range'][1]}",
             f"{'HOST':<12} {'CONTAINER':<24} {'ADDRESSES':<30} {'STATE':<9} SERVICES"]
    for host, entry in status["hosts"].items():
        addrs = ", ".join(entry["addresses"].values())
        svcs = " ".join(f"{k}:{v}" for k, v in entry["services"].items())
        lines.append(f"{host:<12} {entry['container']:<24} {addrs:<30} {entry['state']:<9} {svcs}")
    lines.append("impairments: " + (", ".join(describe(i) for i in status["impairments"])
                                    or "none"))
    lines.append("healthy" if status["healthy"] else "NOT healthy")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# impairments: nft table inet lab_impair and tc on gw, extra records on dns


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


# --------------------------------------------------------------------------
# command line


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
    state = lab_up(args.name, args.slot, args.endpoints, args.relay_range)
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
    imp = make_impairment(args)
    add_impairment(state, imp)
    log(f"applied: {describe(imp)}")
    return 0


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
                         help="drop forwarded UDP site->internet (all, one port or a range)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--port", type=int)
    group.add_argument("--range", metavar="LO-HI")
    p = kinds.add_parser("block-tcp443", parents=[name_only],
                         help="drop forwarded TCP 443 site->internet")
    p.add_argument("--except", dest="except_", metavar="SRC_IP",
                   help="source address still allowed (the proxy host)")
    p = kinds.add_parser("dns-nxdomain", parents=[name_only], help="NAME answers NXDOMAIN")
    p.add_argument("target", metavar="NAME")
    p = kinds.add_parser("dns-sinkhole", parents=[name_only], help="NAME answers a fixed address")
    p.add_argument("target", metavar="NAME")
    p.add_argument("--address", default="0.0.0.0")
    p = kinds.add_parser("rate", parents=[name_only],
                         help="tbf rate limit on both gw interfaces (e.g. 5mbit)")
    p.add_argument("rate", metavar="RATE")
    p = kinds.add_parser("loss", parents=[name_only],
                         help="drop PCT%% of forwarded packets at each pass through gw")
    p.add_argument("percent", metavar="PCT", type=int)
    p.add_argument("--direction", choices=("both", "up", "down"), default="both",
                   help="both (default), up = site->internet only, down = internet->site only")
    p = kinds.add_parser("clear", parents=[name_only], help="remove impairments")
    p.add_argument("what", nargs="?", default="all", metavar="KIND|all")
    kinds.add_parser("list", parents=[name_only], help="show active impairments")


def build_parser():
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n")[0],
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


if __name__ == "__main__":
    sys.exit(main())
