# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the generic commit-confirm rollback, with real detached timers in a temporary directory.

The restore command is a small script of the tests' own (``RESTORE``): it appends
the rollback script it is given to a log file, or fails, or sleeps first. Every
timer is started by the real ``spawn_detached`` with this interpreter; timeouts
are 1 s, and the slow restore-failure case is armed first so that it runs while
the other tests do.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common import rollback
from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import RollbackError, RollbackStore

RESTORE = """\
import sys, time
mode, log, script = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "fail":
    with open(log, "a") as out:
        out.write("try\\n")
    sys.stderr.write("cannot restore: table busy\\n")
    sys.exit(3)
if mode == "sleep":
    time.sleep(0.5)
with open(script) as source, open(log, "a") as out:
    out.write(source.read())
"""
BODY = "table inet t\ndelete table inet t\ntable inet t {\n}\n"
SECONDS = 1
WAIT = 15.0


class Host(object):
    """A run directory, the restore script and its log, and the timers started there."""

    def __init__(self, root):
        self.run_dir = str(root / "run")
        self.log = str(root / "restored.log")
        self.helper = str(root / "restore.py")
        with open(self.helper, "w") as handle:
            handle.write(RESTORE)

    def restore_argv(self, mode="append"):
        return [sys.executable, self.helper, mode, self.log]

    def store(self, resource="nft-inet-t", **kwargs):
        return RollbackStore(resource, run_dir=self.run_dir, **kwargs)

    def path(self, token, suffix):
        return os.path.join(self.run_dir, "%s.%s%s" % (rollback.parse_token(token) + (suffix,)))

    def restored(self):
        return read(self.log)

    def files(self):
        return sorted(os.listdir(self.run_dir))

    def timers(self):
        """Pids of the live timers running a script of this run directory."""
        found = []
        for entry in os.listdir("/proc"):
            argv = read_bytes("/proc/%s/cmdline" % entry) if entry.isdigit() else None
            parts = argv.split(b"\0") if argv else []
            if len(parts) > 4 and parts[1] == b"-c" and parts[2] == rollback.TIMER.encode() \
                    and parts[4].startswith(self.run_dir.encode() + b"/"):
                found.append(int(entry))
        return found

    def stop_timers(self):
        for pid in self.timers():
            os.kill(pid, signal.SIGKILL)
            reap(pid)


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def reap(pid):
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def finished(pid):
    """True once the process has exited (gone, or a zombie not yet reaped)."""
    stat = read("/proc/%d/stat" % pid)
    return stat is None or stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_for(condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting after %.1f s" % timeout)
        time.sleep(0.05)


def outcome(host, token):
    wait_for(lambda: os.path.exists(host.path(token, ".outcome")))
    with open(host.path(token, ".outcome")) as handle:
        return json.load(handle)


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path)
    yield host
    host.stop_timers()


@pytest.fixture(scope="module", autouse=True)
def failing_restore(tmp_path_factory):
    """Armed before every other test of this file: its three tries take about five seconds."""
    host = Host(tmp_path_factory.mktemp("failing"))
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(SECONDS, host.restore_argv("fail"), BODY)
    yield host, store, token
    host.stop_timers()


# ---------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------

def test_tokens_name_their_resource_and_parse_back():
    token = rollback.new_token("nft-inet-dlegate_egress")
    resource, ident = rollback.parse_token(token)
    assert resource == "nft-inet-dlegate_egress" and len(ident) == 16 and int(ident, 16) >= 0
    assert rollback.new_token("r") != rollback.new_token("r")


@pytest.mark.parametrize("token", ["nft-inet-t", "nft-inet-t:0123", "nft-inet-t:0123456789ABCDEF",
                                   "nft inet:0123456789abcdef", ":0123456789abcdef", "r:0123456789abcdef\n",
                                   None, 7, "r" * 100 + ":0123456789abcdef"])
def test_what_is_not_a_token_is_refused(token):
    with pytest.raises(ValueError) as error:
        rollback.parse_token(token)
    assert "is not a rollback token" in str(error.value) and len(str(error.value)) < 300


def test_script_header_carries_token_and_deadline():
    script = rollback.render_script("r:0123456789abcdef", 1767225600, "table inet t")
    assert script == ("# dlegate.rtc rollback; token r:0123456789abcdef; deadline 1767225600 (2026-01-01T00:00:00Z)\n"
                      "table inet t\n")
    assert rollback.script_header(script) == ("r:0123456789abcdef", 1767225600)
    assert rollback.script_body(script) == "table inet t\n"
    assert rollback.script_header("table inet t\n") == (None, None) and rollback.script_header(None) == (None, None)
    assert rollback.script_body("table inet t\n") == "table inet t\n"


def test_a_bad_resource_is_refused(tmp_path):
    for resource in ("", "a/b", "../x", "a b", "x" * 97):
        with pytest.raises(ValueError):
            RollbackStore(resource, run_dir=str(tmp_path))


# ---------------------------------------------------------------------------
# Arm, confirm, cancel
# ---------------------------------------------------------------------------

def test_arm_saves_the_script_and_proves_the_timer_runs(host):
    store = host.store()
    with store.locked():
        before = int(time.time())
        token, deadline = store.arm(60, host.restore_argv(), BODY)
    assert rollback.parse_token(token)[0] == "nft-inet-t"
    assert before + 60 <= deadline <= int(time.time()) + 60
    script = host.path(token, ".rollback")
    assert read(script) == rollback.render_script(token, deadline, BODY)
    assert os.stat(script).st_mode & 0o777 == 0o600
    pid = int(read(host.path(token, ".pid")))
    assert host.timers() == [pid] and not finished(pid)
    assert store.pending() == [(token, deadline, script)]
    assert store.status() == {"pending": True, "token": token, "deadline": deadline, "overdue": False,
                              "timer_running": True}


def test_confirm_keeps_the_change_and_the_timer_never_restores(host):
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(SECONDS, host.restore_argv(), BODY)
    pid = int(read(host.path(token, ".pid")))
    with store.locked():
        assert store.confirm(token) == (True, "confirmed: the change of %s is kept" % token)
    assert store.status()["pending"] is False
    wait_for(lambda: finished(pid))
    assert host.restored() is None
    assert host.files() == ["nft-inet-t.lock"]
    with store.locked():
        assert store.confirm(token) == (False, "no rollback with token %s is pending on this host" % token)


def test_confirming_another_token_keeps_the_pending_one(host):
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(60, host.restore_argv(), BODY)
        other = "nft-inet-t:0123456789abcdef"
        assert store.confirm(other) == (False, "no rollback with token %s is pending on this host" % other)
        with pytest.raises(ValueError):
            store.confirm("not a token")
    assert store.status()["token"] == token and os.path.exists(host.path(token, ".rollback"))


def test_cancel_withdraws_a_rollback_whose_change_was_never_applied(host):
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(60, host.restore_argv(), BODY)
        store.cancel(token)
    # without its script the timer restores nothing (see the confirm test)
    assert store.pending() == [] and host.files() == ["nft-inet-t.lock"]


def test_an_unconfirmed_change_is_restored_after_the_deadline(host):
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(SECONDS, host.restore_argv(), BODY)
    result = outcome(host, token)
    assert result["result"] == "rolled_back" and result["tries"] == [{"rc": 0, "error": ""}]
    assert rollback.script_header(host.restored())[0] == token
    assert rollback.script_body(host.restored()) == BODY
    # the outcome is written first, the script removed right after
    wait_for(lambda: not os.path.exists(host.path(token, ".rollback")))
    assert set(host.files()) == {"nft-inet-t.lock", "nft-inet-t.%s.outcome" % rollback.parse_token(token)[1]}
    assert store.status()["pending"] is False
    with store.locked():
        confirmed, message = store.confirm(token)
    assert confirmed is False
    assert message.startswith("the change of %s was rolled back at " % token)
    assert message.endswith(": the previous state is live again")


def test_a_second_arm_keeps_the_confirmed_state_and_supersedes_the_first_token(host):
    store = host.store()
    with store.locked():
        first, _deadline = store.arm(SECONDS, host.restore_argv(), "first body\n")
    with store.locked():
        second, deadline = store.arm(SECONDS, host.restore_argv(), "second body\n")
    assert [item[0] for item in store.pending()] == [second]
    assert rollback.script_body(read(host.path(second, ".rollback"))) == "first body\n"
    assert read(host.path(second, ".rollback")).startswith("# dlegate.rtc rollback; token %s; deadline %d "
                                                           % (second, deadline))
    assert json.loads(read(host.path(first, ".outcome")))["by"] == second
    with store.locked():
        confirmed, message = store.confirm(first)
    assert confirmed is False and "superseded" in message and second in message
    assert outcome(host, second)["result"] == "rolled_back"
    assert rollback.script_header(host.restored())[0] == second
    assert rollback.script_body(host.restored()) == "first body\n"
    assert "second body" not in host.restored()


# ---------------------------------------------------------------------------
# A timer that does not run
# ---------------------------------------------------------------------------

def test_a_timer_that_does_not_start_fails_the_arm_and_leaves_no_script(host, monkeypatch):
    monkeypatch.setattr(rollback, "TIMER_START_WAIT", 0.3)
    store = host.store(spawn=lambda argv: None)
    with store.locked():
        with pytest.raises(RollbackError) as error:
            store.arm(SECONDS, host.restore_argv(), BODY)
    assert "the rollback timer of nft-inet-t did not start" in str(error.value)
    assert host.files() == ["nft-inet-t.lock"] and store.pending() == []


def test_a_timer_that_cannot_be_executed_fails_the_arm_and_leaves_no_script(host, tmp_path):
    store = host.store(python=str(tmp_path / "no-such-python"))
    with store.locked():
        with pytest.raises(RollbackError) as error:
            store.arm(SECONDS, host.restore_argv(), BODY)
    assert "the rollback timer of nft-inet-t could not be started ([Errno 2]" in str(error.value)
    assert host.files() == ["nft-inet-t.lock"]


def test_a_failed_arm_keeps_the_pending_rollback(host, monkeypatch):
    monkeypatch.setattr(rollback, "TIMER_START_WAIT", 0.3)
    store = host.store()
    with store.locked():
        token, deadline = store.arm(60, host.restore_argv(), BODY)
    broken = host.store(spawn=lambda argv: None)
    with broken.locked():
        with pytest.raises(RollbackError):
            broken.arm(SECONDS, host.restore_argv(), "other body\n")
    assert store.pending() == [(token, deadline, host.path(token, ".rollback"))]
    assert not os.path.exists(host.path(token, ".outcome"))


def test_status_reports_a_rollback_whose_timer_was_lost_as_overdue(host):
    now = [1767225600.0]
    store = host.store(clock=lambda: now[0])
    with store.locked():
        token, deadline = store.arm(60, host.restore_argv(), BODY)
    assert deadline == 1767225660
    pid = int(read(host.path(token, ".pid")))
    os.kill(pid, signal.SIGKILL)
    reap(pid)
    status = store.status()
    assert (status["pending"], status["token"], status["timer_running"], status["overdue"]) == (True, token, False, False)
    now[0] = deadline + rollback.OVERDUE_GRACE
    assert store.status()["overdue"] is False
    now[0] = deadline + rollback.OVERDUE_GRACE + 1
    assert store.status() == {"pending": True, "token": token, "deadline": deadline, "overdue": True,
                              "timer_running": False}


def test_status_of_nothing_pending(host):
    assert host.store().status() == {"pending": False, "token": None, "deadline": None, "overdue": False,
                                     "timer_running": False}


# ---------------------------------------------------------------------------
# The lock
# ---------------------------------------------------------------------------

def test_the_lock_excludes_a_second_holder(host):
    store, other = host.store(), host.store()
    with store.locked():
        started = time.monotonic()
        with pytest.raises(RollbackError) as error:
            with other.locked(wait=0.3):
                pass
        assert 0.3 <= time.monotonic() - started < 2
        assert "another run has held the lock of nft-inet-t" in str(error.value)
        with host.store("tc-eth0").locked(wait=0.3):
            pass
    with other.locked(wait=0.3):
        pass


def test_the_timer_restores_only_while_holding_the_lock(host):
    store = host.store()
    with store.locked():
        token, _deadline = store.arm(SECONDS, host.restore_argv("sleep"), BODY)
        time.sleep(SECONDS + 0.3)
        assert host.restored() is None and os.path.exists(host.path(token, ".rollback"))
    # the timer removes its pid file once it holds the lock, then restores for 0.5 s
    wait_for(lambda: not os.path.exists(host.path(token, ".pid")))
    with pytest.raises(RollbackError):
        with store.locked(wait=0.2):
            pass
    assert outcome(host, token)["result"] == "rolled_back"
    assert rollback.script_body(host.restored()) == BODY
    with store.locked(wait=1):
        assert store.confirm(token)[0] is False


# ---------------------------------------------------------------------------
# Last: by now the restore armed first has failed three times
# ---------------------------------------------------------------------------

def test_a_failed_restore_is_retried_kept_and_reported(failing_restore):
    host, store, token = failing_restore
    result = outcome(host, token)
    assert result["result"] == "restore_failed"
    assert result["tries"] == [{"rc": 3, "error": "cannot restore: table busy"}] * 3
    assert host.restored() == "try\n" * 3
    kept = host.path(token, ".rollback.failed")
    assert result["kept_script"] == kept and rollback.script_body(read(kept)) == BODY
    assert not os.path.exists(host.path(token, ".rollback"))
    assert store.failed_restores() == [kept]
    with store.locked():
        confirmed, message = store.confirm(token)
    assert confirmed is False
    assert "the rollback of %s FAILED at " % token in message
    assert "after 3 tries (rc=3: cannot restore: table busy)" in message and message.endswith(kept)
