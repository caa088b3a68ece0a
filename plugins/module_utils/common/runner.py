# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One declarative runner per host binary.

A module declares a binary's commands once, each marked as reading or changing
the host; the runner fills in their arguments, runs them, refuses a changing
command in check mode, and turns a failure into one clear ``fail_json``::

    NFT = Tool("nft", "apt-get install nftables / dnf install nftables", {
        "list_table": Command(["-j", "list", "table", "inet", "{table}"]),
        "apply": Command(["-f", "-"], changes=True),
    })
    nft = NFT.bind(module)
    rc, out, err = nft.run("list_table", table="dlegate_egress", ok_rc=(0, 1))
"""

from __future__ import annotations


class CheckModeViolation(Exception):
    """A command that changes the host was asked for in check mode: a defect of the module."""


class Command(object):
    def __init__(self, argv, changes=False):
        self.argv = list(argv)
        self.changes = changes


class Tool(object):
    """A binary, how to install it, and its declared commands."""

    def __init__(self, name, install_hint, commands):
        self.name = name
        self.install_hint = install_hint
        self.commands = dict(commands)

    def argv(self, path, command, /, **values):
        return [path] + [part.format(**values) for part in self.commands[command].argv]

    def bind(self, module, required=True):
        return BoundTool(self, module, required)


class BoundTool(object):
    """A Tool found on the managed host and bound to the running module."""

    def __init__(self, tool, module, required):
        self.tool = tool
        self.module = module
        self.path = module.get_bin_path(tool.name)
        if required and not self.path:
            module.fail_json(msg="%s not found: install it (%s)" % (tool.name, tool.install_hint))

    @property
    def available(self):
        return bool(self.path)

    def argv(self, command, /, **values):
        return self.tool.argv(self.path, command, **values)

    def run(self, command, /, data=None, ok_rc=(0,), **values):
        """(rc, out, err) of a declared command; fails the module when rc is not in ``ok_rc``.

        ``values`` fill in the command's placeholders, which may have any name but ``data`` and ``ok_rc``.
        """
        if self.tool.commands[command].changes and self.module.check_mode:
            raise CheckModeViolation("%s %s changes the host and must not run in check mode" % (self.tool.name, command))
        argv = self.argv(command, **values)
        rc, out, err = self.module.run_command(argv, data=data, binary_data=data is not None)
        if rc not in ok_rc:
            self.module.fail_json(msg=self.failure_message(argv, rc, err), rc=rc, stdout=out, stderr=err,
                                  cmd=" ".join(argv))
        return rc, out, err

    def failure_message(self, argv, rc, err):
        hint = ""
        if "Operation not permitted" in err or "Permission denied" in err:
            hint = " (%s needs root: run the task with become: true)" % self.tool.name
        return "%s failed (rc=%d): %s%s" % (" ".join(argv[:1] + [a for a in argv[1:] if a != "-"]), rc,
                                            err.strip(), hint)
