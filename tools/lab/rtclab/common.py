"""Names, paths and the error type every part of the lab shares."""

import os
import sys
from pathlib import Path

# tools/lab: the recipe files and the servers that run inside the lab hosts
HERE = Path(__file__).resolve().parent.parent
REPO = HERE.parent.parent
CACHE = REPO / ".cache" / "lab"
PACKAGES_FILE = HERE / "packages.txt"
RECIPE_FILES = (PACKAGES_FILE, HERE / "image-setup.sh")
CONTAINERS_CONF = HERE / "containers.conf"
SIGNAL_SERVER = HERE / "signal_server.py"
UDP_ECHO = HERE / "udp_echo.py"
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
GW_OFFSET = 254            # gw on the site and on the WAN link
ISP_WAN_OFFSET = 253       # isp on the WAN link: gw's next hop
ISP_INTERNET_OFFSET = 254  # isp on the lab internet: the services' router
ECHO_RANGE = "50000-50099"  # UDP echo on turn, inside the relay range
MAX_ECHO_PORTS = 512
IPERF3_PORT = 5201          # iperf3 server on signal
ENDPOINT_BASE = 10
TURN_USERS = ("alice", "bob")
DNS_PIDFILE = "/run/lab-dnsmasq.pid"
IMPAIR_KINDS = ("block-udp", "block-tcp443", "dns-nxdomain", "dns-sinkhole",
                "rate", "loss")


class LabError(Exception):
    """A lab operation failed; the message says what and why."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)
