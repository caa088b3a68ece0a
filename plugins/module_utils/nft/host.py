# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host side of every module that owns an nftables table: read it, apply it behind a rollback.

These are the only functions here that touch the host (through the module's
run_command); the decisions stay in the pure core.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.common.rollback import RollbackError, RollbackStore
from ansible_collections.dlegate.rtc.plugins.module_utils.common.runner import Command, Tool
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import FAMILY
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.table import render_delete_script

NFT = Tool("nft", "apt-get install nftables / dnf install nftables", {
    "read_table": Command(["-j", "list", "table", FAMILY, "{table}"]),
    "list_table": Command(["list", "table", FAMILY, "{table}"]),
    "read_chains_terse": Command(["-t", "-j", "list", "ruleset"]),
    "apply": Command(["-f", "-"], changes=True),
})
NO_TABLE = "No such file or directory"
EMPTY = {"nftables": []}


def rollback_store(table):
    return RollbackStore("nft-%s-%s" % (FAMILY, table))


def parse_or_fail(module, parse, data, field=None):
    try:
        return parse(data)
    except ParseError as exc:
        extra = {"field": field} if field else {}
        module.fail_json(msg="cannot read nft's JSON: %s" % exc, **extra)


def read_live(module, nft, table, parse):
    """(JSON listing, parsed state) of one table only: other tables are never read whole."""
    rc, out, err = nft.run("read_table", table=table, ok_rc=(0, 1))
    if rc == 1 and NO_TABLE in err:
        return EMPTY, None
    if rc != 0:
        module.fail_json(msg=nft.failure_message(nft.argv("read_table", table=table), rc, err), rc=rc, stderr=err)
    return out, parse_or_fail(module, parse, out)


def apply_table(module, nft, store, table, decision, rollback_timeout):
    """Apply the decision's one transaction, behind a proven rollback timer when asked; return its token.

    Call with the store's lock held, the live state read under it.
    """
    token, previous = None, store.pending()
    if rollback_timeout:
        listing = nft.run("list_table", table=table)[1] if decision["live"] is not None else ""
        try:
            token, _deadline = store.arm(rollback_timeout, [nft.path, "-f"], render_delete_script(table) + listing)
        except RollbackError as exc:
            module.fail_json(msg=str(exc))
    rc, _out, err = nft.run("apply", data=decision["script"], ok_rc=(0, 1))
    if rc != 0:
        if token and not previous:
            store.cancel(token)
        module.fail_json(msg="nft rejected the %s transaction for table %s %s, nothing was changed: %s"
                             % ("delete" if decision["desired"] is None else "apply", FAMILY, table, err.strip()),
                         rc=rc, stderr=err, script=decision["script"])
    return token
