"""Running commands: podman with the lab's containers.conf, scripts inside lab hosts."""

import concurrent.futures
import os
import shlex
import shutil
import subprocess

from .common import CONTAINERS_CONF, LabError, PARALLEL


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
