"""The lab image: a debootstrap root file system imported into podman, tagged by its recipe."""

import contextlib
import fcntl
import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .common import CACHE, HERE, IMAGE_REPO, LabError, PACKAGES_FILE, RECIPE_FILES, SUITE, log
from .podman import podman, podman_env, require_tool, run


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
