# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness suite: every planned check at once, one thread each, then the verdict.

The checks overlap instead of queueing: the suite takes about as long as its
slowest check (the quality train, or a check that waits for its timeout on a
blocked path). The probes share no state and every socket operation has a
deadline, so a thread per check is safe and always ends.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.argspec import with_defaults
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.checks import plan_checks
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.verdict import judge, normalize_thresholds


def elapsed_ms(start, clock):
    return round((clock() - start) * 1000.0, 1)


def timed(task, clock=time.monotonic):
    """``{"result", "error", "duration_ms"}`` of one call; an exception is its ``error``, never raised."""
    start = clock()
    try:
        result, error = task(), None
    except Exception as exc:  # a bug in one check must not hide the results of the others
        result, error = None, "%s: %s" % (exc.__class__.__name__, exc)
    return {"result": result, "error": error, "duration_ms": elapsed_ms(start, clock)}


def run_concurrently(tasks, clock=time.monotonic):
    """Run ``{name: callable}`` all at once, one thread each; ``{name: timed(callable)}``."""
    if not tasks:
        return {}
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [(name, pool.submit(timed, task, clock)) for name, task in tasks.items()]
    return dict((name, future.result()) for name, future in futures)


def run_readiness(params, clock=time.monotonic):
    """Plan, run and judge the checks ``params`` asks for (the module's parameters).

    Returns ``{"verdict", "findings", "checks", "thresholds", "duration_ms"}``;
    ``checks`` maps each check's name to ``kind``, ``targets`` (the names it
    reaches), ``passed``, ``duration_ms``, ``error`` (a crash) and ``result``
    (its probe's result). Raises FieldError on bad input, before any check runs."""
    params = with_defaults(params)
    thresholds = normalize_thresholds(params["thresholds"])
    planned = plan_checks(params)
    start = clock()
    outcomes = run_concurrently(dict((check.name, check.run) for check in planned), clock)
    duration_ms = elapsed_ms(start, clock)
    checks = {}
    for check in planned:
        outcome = outcomes[check.name]
        passed = outcome["result"] is not None and bool(outcome["result"].get("passed"))
        checks[check.name] = dict(outcome, kind=check.kind, targets=check.targets, passed=passed)
    judged = judge(checks, thresholds)
    return {"verdict": judged["verdict"], "findings": judged["findings"], "checks": checks,
            "thresholds": thresholds, "duration_ms": duration_ms}
