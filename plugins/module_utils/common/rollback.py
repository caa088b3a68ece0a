# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commit-confirm for any resource a module changes: a restore script, a timer, a token.

Before a change, the module saves a script that restores the last *confirmed*
state of the resource and starts a detached timer. Unless the run's token is
confirmed in time, the timer runs ``restore_argv + [script]`` (``nft -f``,
``tc -batch``). Every step that reads or changes the resource, the restore
included, holds the resource's lock, so a confirmation, an overlapping run and
the timer never interleave. Files, all under ``RUN_DIR`` (a tmpfs: a reboot
forgets unconfirmed changes, and the boot configuration holds only confirmed
ones)::

    <resource>.lock                     the lock
    <resource>.<token>.rollback         the pending restore script (header: token, deadline)
    <resource>.<token>.pid              written by the timer once it runs
    <resource>.<token>.outcome          JSON: rolled_back | restore_failed | superseded
    <resource>.<token>.rollback.failed  a script whose restore failed, kept for the operator
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import re
import subprocess
import sys
import time
import uuid

RUN_DIR = "/run/dlegate"
MAX_TIMEOUT = 86400
# A timer later than this past its deadline has not run: its host lost it (killed at logout, say).
OVERDUE_GRACE = 30
TIMER_START_WAIT = 5.0
LOCK_WAIT = 120.0
RESOURCE = re.compile(r"[A-Za-z0-9_.-]{1,96}")
TOKEN = re.compile(r"(?P<resource>[A-Za-z0-9_.-]{1,96}):(?P<id>[0-9a-f]{16})")
HEADER = "# dlegate.rtc rollback; token {token}; deadline {deadline} ({when})"
HEADER_PATTERN = re.compile(r"# dlegate\.rtc rollback; token (\S+); deadline (\d+) ")

# The detached timer, run by the module's own interpreter. Arguments: seconds,
# script, lock, outcome file, restore argv... It proves that it runs by writing
# its pid file, and restores only while holding the resource's lock.
TIMER = r'''
import fcntl, json, os, subprocess, sys, time
seconds, script, lock_path, outcome_path = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
restore = sys.argv[5:] + [script]
pid_path = script[:-len(".rollback")] + ".pid"
with open(pid_path + ".tmp", "w") as handle:
    handle.write("%d\n" % os.getpid())
os.rename(pid_path + ".tmp", pid_path)
time.sleep(seconds)
with open(lock_path, "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if os.path.exists(pid_path):
        os.unlink(pid_path)
    if not os.path.exists(script):
        sys.exit(0)
    tries = []
    for attempt in range(3):
        try:
            done = subprocess.run(restore, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, timeout=60)
            rc, error = done.returncode, done.stderr.strip()
        except Exception as exc:
            rc, error = -1, "%s: %s" % (exc.__class__.__name__, exc)
        tries.append({"rc": rc, "error": error})
        if rc == 0 or attempt == 2:
            break
        time.sleep(2)
    outcome = {"result": "rolled_back" if rc == 0 else "restore_failed", "time": int(time.time()),
               "tries": tries}
    if rc != 0:
        os.rename(script, script + ".failed")
        outcome["kept_script"] = script + ".failed"
    with open(outcome_path + ".tmp", "w") as handle:
        json.dump(outcome, handle)
    os.rename(outcome_path + ".tmp", outcome_path)
    if rc == 0:
        os.unlink(script)
'''


class RollbackError(Exception):
    """The rollback machinery could not do what was asked; nothing was changed."""


# ---------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------

def new_token(resource):
    return "%s:%s" % (resource, uuid.uuid4().hex[:16])


def parse_token(token):
    """(resource, id) of a token; ValueError when it is not one."""
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    if not match:
        raise ValueError("%r is not a rollback token (RESOURCE:16 hex digits, as returned in rollback_token)"
                         % (token if not isinstance(token, str) or len(token) < 120 else token[:120] + "...",))
    return match.group("resource"), match.group("id")


def render_script(token, deadline, body):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
    text = HEADER.format(token=token, deadline=int(deadline), when=when) + "\n" + body
    return text if text.endswith("\n") else text + "\n"


def script_body(script):
    """A restore script without its header: what it restores."""
    lines = script.splitlines(True)
    return "".join(lines[1:]) if lines and HEADER_PATTERN.match(lines[0]) else script


def script_header(script):
    """(token, deadline) of a restore script, or (None, None)."""
    match = HEADER_PATTERN.match(script or "")
    return (match.group(1), int(match.group(2))) if match else (None, None)


def timer_argv(python, seconds, script, lock, outcome, restore_argv):
    return [python, "-c", TIMER, str(seconds), script, lock, outcome] + list(restore_argv)


# ---------------------------------------------------------------------------
# The store on the host
# ---------------------------------------------------------------------------

def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _remove(path):
    try:
        os.unlink(path)
        return True
    except (IOError, OSError):
        return False


def _write_private(path, text):
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.rename(temporary, path)


def _alive(pid_text):
    try:
        os.kill(int(pid_text.strip()), 0)
        return True
    except (ValueError, AttributeError, OSError):
        return False


def spawn_detached(argv):
    """Start the timer in its own session, detached from the module's streams."""
    with open(os.devnull, "r+") as null:
        subprocess.Popen(argv, stdin=null, stdout=null, stderr=null, close_fds=True, start_new_session=True)


class RollbackStore(object):
    """The pending rollbacks of one resource on this host."""

    def __init__(self, resource, run_dir=None, spawn=None, python=None, clock=time.time):
        if not RESOURCE.fullmatch(resource):
            raise ValueError("bad resource id %r" % resource)
        self.resource = resource
        self.run_dir = run_dir or RUN_DIR
        self.spawn = spawn or spawn_detached
        self.python = python or sys.executable
        self.clock = clock

    def _path(self, token, suffix):
        return os.path.join(self.run_dir, "%s.%s%s" % (self.resource, parse_token(token)[1], suffix))

    @contextlib.contextmanager
    def locked(self, wait=LOCK_WAIT):
        """Hold the resource's lock; RollbackError when another run keeps it longer than ``wait``."""
        self._ensure_dir()
        with open(os.path.join(self.run_dir, self.resource + ".lock"), "a") as lock:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError):
                    if time.monotonic() > deadline:
                        raise RollbackError("another run has held the lock of %s for %d s" % (self.resource, wait))
                    time.sleep(0.1)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _ensure_dir(self):
        if not os.path.isdir(self.run_dir):
            os.makedirs(self.run_dir, 0o700)

    def pending(self):
        """[(token, deadline, script path)] of the armed rollbacks, oldest deadline first."""
        pattern = os.path.join(glob.escape(self.run_dir), glob.escape(self.resource) + ".*.rollback")
        found = []
        for path in glob.glob(pattern):
            token, deadline = script_header(_read(path))
            if token is not None:
                found.append((token, deadline, path))
        return sorted(found, key=lambda item: item[1])

    def status(self):
        """What is pending: ``pending``, ``token``, ``deadline``, ``overdue`` and ``timer_running``."""
        pending = self.pending()
        if not pending:
            return {"pending": False, "token": None, "deadline": None, "overdue": False, "timer_running": False}
        token, deadline, _path = pending[-1]
        running = _alive(_read(self._path(token, ".pid")))
        return {"pending": True, "token": token, "deadline": deadline, "timer_running": running,
                "overdue": self.clock() > deadline + OVERDUE_GRACE}

    def arm(self, seconds, restore_argv, body):
        """Save ``body`` (the restore of the current state) behind a timer; return the new token.

        When a rollback is already pending, its body is kept: the new one still
        restores the last confirmed state. The old one is removed only once the
        new timer is proven to run. Call with the lock held.
        """
        pending = self.pending()
        if pending:
            body = script_body(_read(pending[-1][2]) or body)
        token = new_token(self.resource)
        deadline = int(self.clock()) + seconds
        script = self._path(token, ".rollback")
        _write_private(script, render_script(token, deadline, body))
        try:
            self.spawn(timer_argv(self.python, seconds, script, os.path.join(self.run_dir, self.resource + ".lock"),
                                  self._path(token, ".outcome"), restore_argv))
        except OSError as exc:
            _remove(script)
            raise RollbackError("the rollback timer of %s could not be started (%s); nothing was changed"
                                % (self.resource, exc))
        if not self._timer_started(token):
            _remove(script)
            raise RollbackError("the rollback timer of %s did not start within %d s; nothing was changed"
                                % (self.resource, TIMER_START_WAIT))
        for old_token, _deadline, old_script in pending:
            self._record(old_token, {"result": "superseded", "by": token, "time": int(self.clock())})
            _remove(old_script)
        return token, deadline

    def _timer_started(self, token):
        pid_path = self._path(token, ".pid")
        waited = 0.0
        while waited < TIMER_START_WAIT:
            if _alive(_read(pid_path)):
                return True
            time.sleep(0.05)
            waited += 0.05
        return False

    def _record(self, token, outcome):
        _write_private(self._path(token, ".outcome"), json.dumps(outcome))

    def cancel(self, token):
        """Withdraw a rollback whose change was never applied. Call with the lock held."""
        _remove(self._path(token, ".rollback"))
        _remove(self._path(token, ".pid"))

    def confirm(self, token):
        """Keep the change of ``token``: (True, message), or (False, why it cannot be kept). Lock held."""
        if _remove(self._path(token, ".rollback")):
            _remove(self._path(token, ".pid"))
            return True, "confirmed: the change of %s is kept" % token
        outcome = _read(self._path(token, ".outcome"))
        if outcome is None:
            return False, "no rollback with token %s is pending on this host" % token
        try:
            outcome = json.loads(outcome)
        except ValueError:
            outcome = {"result": "unknown"}
        return False, self._outcome_text(token, outcome)

    @staticmethod
    def _outcome_text(token, outcome):
        result = outcome.get("result")
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(outcome.get("time") or 0))
        if result == "rolled_back":
            return "the change of %s was rolled back at %s: the previous state is live again" % (token, when)
        if result == "superseded":
            return ("the rollback of %s was superseded at %s by a later change (%s); that run confirms it"
                    % (token, when, outcome.get("by")))
        if result == "restore_failed":
            tries = outcome.get("tries") or [{}]
            return ("the rollback of %s FAILED at %s after %d tries (rc=%s: %s); the unconfirmed change may still "
                    "be live; the restore script is kept at %s"
                    % (token, when, len(tries), tries[-1].get("rc"), tries[-1].get("error"), outcome.get("kept_script")))
        return "the rollback of %s ended in an unknown state (%s)" % (token, outcome)

    def failed_restores(self):
        """Outcomes of restores that failed, newest last, for reporting."""
        pattern = os.path.join(glob.escape(self.run_dir), glob.escape(self.resource) + ".*.rollback.failed")
        return sorted(glob.glob(pattern))


def rollback_fields(module, store):
    """The rollback part of a module's result; warns when a rollback is overdue."""
    status = store.status()
    if status["overdue"]:
        module.warn("the rollback of %s was due at %s and did not run: the unconfirmed change is still live; "
                    "confirm token %s or run again" % (store.resource, status["deadline"], status["token"]))
    return {"rollback_pending": status["pending"], "rollback_deadline": status["deadline"],
            "rollback_overdue": status["overdue"]}
