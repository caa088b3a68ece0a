# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side of tc_qos: what the host has, its live tree, and the one ``tc -batch`` that changes it.

These are the only functions of the tc package that touch the host (files
under /sys, /proc, /boot and /lib/modules, and ``tc`` through the module's
run_command); every decision is made in ``tc.resource``.
"""

from __future__ import annotations

import gzip
import os
import platform

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError, ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.result import resource_result
from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import RollbackError, RollbackStore, rollback_fields
from ansible_collections.dlegate.rtc.plugins.module_utils.common.runner import Command, Tool
from ansible_collections.dlegate.rtc.plugins.module_utils.tc import diff, model, parse, resource

TC = Tool("tc", "apt-get install iproute2 / dnf install iproute-tc", {
    "show_qdiscs": Command(["-j", "qdisc", "show", "dev", "{interface}"]),
    "show_classes": Command(["-j", "class", "show", "dev", "{interface}"]),
    "show_filters": Command(["-j", "filter", "show", "dev", "{interface}"]),
    "apply": Command(["-batch", "-"], changes=True),
})
# The batch is checked by its exit status and, when it fails, followed by a restore.
ANY_RC = tuple(range(256))

SYS_CLASS_NET = "/sys/class/net"
KERNEL_CONFIGS = ("/proc/config.gz", "/boot/config-{release}")
MODULES_DIR = "/lib/modules/{release}"


# ---------------------------------------------------------------------------
# What the host has
# ---------------------------------------------------------------------------

def host_interfaces():
    """The host's interface names; None when they cannot be listed."""
    try:
        return sorted(os.listdir(SYS_CLASS_NET))
    except OSError:
        return None


def _kernel_config(release):
    for pattern in KERNEL_CONFIGS:
        path = pattern.format(release=release)
        try:
            if path.endswith(".gz"):
                with gzip.open(path, "rt") as handle:
                    return handle.read()
            with open(path) as handle:
                return handle.read()
        except (OSError, EOFError):
            continue
    return None


def _kernel_modules(release):
    base = MODULES_DIR.format(release=release)
    names = []
    try:
        with open(os.path.join(base, "modules.builtin")) as handle:
            names.extend(handle.read().splitlines())
    except OSError:
        pass
    for _directory, _subdirectories, files in os.walk(os.path.join(base, "kernel", "net", "sched")):
        names.extend(files)
    return names


def offered_qdiscs():
    """The qdisc kinds the running kernel offers, from its config and modules; None when neither can be read."""
    release = platform.release()
    config, modules = _kernel_config(release), _kernel_modules(release)
    if config is None and not modules:
        return None
    return model.offered_qdiscs(config or "", modules)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

def fail_on_field(module, error):
    module.fail_json(msg=str(error), field=error.field)


class TreeResource(object):
    """One run of tc_qos on one interface, for the state it was given."""

    def __init__(self, module):
        self.module = module

    def run(self):
        getattr(self, "run_" + self.module.params["state"])()

    def normalize(self, interfaces=None, offered=None):
        try:
            return resource.normalize_params(self.module.params, interfaces=interfaces, offered=offered)
        except FieldError as error:
            fail_on_field(self.module, error)

    def auto_leaf(self):
        return (self.module.params["config"] or {}).get("leaf_qdisc") in (None, "auto")

    def leaf_choices(self):
        """(kinds the kernel offers or None, the kinds ``auto`` may pick from)."""
        offered = offered_qdiscs()
        if offered is not None:
            return offered, offered
        if not self.auto_leaf():
            return None, None
        self.module.warn("cannot read the kernel's config or module list to see whether it offers fq_codel; "
                         "the leaf qdiscs are pfifo (set config.leaf_qdisc to choose)")
        return None, ["pfifo"]

    # -- reading -------------------------------------------------------------

    def parse(self, interface, outputs, field=None):
        try:
            return parse.parse_tree(interface, outputs["qdiscs"], outputs["classes"], outputs["filters"])
        except ParseError as error:
            extra = {"field": field} if field else {}
            self.module.fail_json(msg="cannot read what tc printed for %s: %s" % (interface, error), **extra)

    def read_live(self, tc, interface):
        outputs = dict((key, tc.run("show_" + key, interface=interface)[1]) for key in resource.RUNNING_CONFIG_KEYS)
        return self.parse(interface, outputs)

    # -- states --------------------------------------------------------------

    def run_rendered(self):
        policy = self.normalize()
        self.module.exit_json(changed=False, rendered=resource.rendered(policy["spec"]),
                              leaf_qdisc=policy["spec"]["leaf_qdisc"])

    def run_parsed(self):
        policy = self.normalize()
        try:
            outputs = resource.running_config(self.module.params)
        except FieldError as error:
            fail_on_field(self.module, error)
        live = self.parse(policy["interface"], outputs, field="running_config")
        result = dict(changed=False, parsed=resource.tree_to_config(live), tree=diff.describe(live),
                      unmanaged=live["unmanaged"])
        if policy["spec"] is not None:
            if self.auto_leaf():
                policy = self.normalize(offered=resource.leaves_in(live))
            decision = resource.plan(dict(policy, state="present"), live)
            result.update(compliant=not decision["differences"], differences=decision["differences"])
        self.module.exit_json(**result)

    def run_gathered(self):
        policy = self.normalize(interfaces=host_interfaces())
        live = self.read_live(TC.bind(self.module), policy["interface"])
        store = RollbackStore(resource.resource_id(policy["interface"]))
        self.module.exit_json(changed=False, gathered=resource.tree_to_config(live), tree=diff.describe(live),
                              unmanaged=live["unmanaged"], **rollback_fields(self.module, store))

    def run_present(self):
        offered = choices = None
        if self.module.params["state"] == "present":
            offered, choices = self.leaf_choices()
        policy = self.normalize(interfaces=host_interfaces(), offered=choices)
        tc = TC.bind(self.module)
        store = RollbackStore(resource.resource_id(policy["interface"]))
        try:
            with store.locked():
                result = self.converge(tc, store, policy)
                result.update(rollback_fields(self.module, store), offered_qdiscs=offered)
        except RollbackError as error:
            self.module.fail_json(msg=str(error))
        self.module.exit_json(**result)

    run_absent = run_present

    def converge(self, tc, store, policy):
        """Read the live tree, judge it, and replace it unless in check mode. Call with the lock held."""
        live = self.read_live(tc, policy["interface"])
        decision = resource.plan(policy, live)
        for warning in decision["warnings"]:
            self.module.warn(warning)
        result = resource_result(decision["differences"], decision["before"], decision["after"], self.module._diff,
                                 "tc tree of %s" % policy["interface"])
        result.update(interface=policy["interface"], batch=decision["script"], unmanaged=live["unmanaged"],
                      leaf_qdisc=policy["spec"]["leaf_qdisc"] if policy["spec"] else None, rollback_token=None)
        if decision["script"] and not self.module.check_mode:
            result["rollback_token"] = self.apply(tc, store, decision, policy)
        return result

    def apply(self, tc, store, decision, policy):
        """Run the decision's batch behind a proven rollback timer when asked; return its token.

        tc runs a batch line by line, so a batch that fails half way has already
        changed the tree: the live tree is then put back at once.
        """
        interface, timeout = policy["interface"], policy["rollback_timeout"]
        token, previous = None, store.pending()
        restore = resource.restore_batch(decision["live"])
        if timeout:
            if restore is None:
                self.module.fail_json(msg="%s has a tree that tc_qos cannot write back (%s), so no rollback can be "
                                          "armed; nothing was changed. Remove it first, or run without "
                                          "rollback_timeout" % (interface, "; ".join(decision["before"].splitlines())))
            try:
                token, _deadline = store.arm(timeout, [tc.path, "-batch"], restore)
            except RollbackError as error:
                self.module.fail_json(msg=str(error))
        rc, _out, err = tc.run("apply", data=decision["script"], ok_rc=ANY_RC)
        if rc != 0:
            put_back = restore is not None and tc.run("apply", data=restore, ok_rc=ANY_RC)[0] == 0
            if token and not previous:
                store.cancel(token)
            self.module.fail_json(
                msg="tc rejected the batch for %s (%s); %s" % (
                    interface, err.strip(), "the previous tree was put back" if put_back
                    else "the previous tree could NOT be put back: check the interface"),
                rc=rc, stderr=err, batch=decision["script"])
        return token
