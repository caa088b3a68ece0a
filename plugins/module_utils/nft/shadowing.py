# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base chains of other tables that would still drop what a collection table permits.

nftables runs every table's base chains at a hook, and a drop in any of them is
final, so an accept in the collection's table cannot overrule them. A chain
*drops by default* when its policy is drop, or when it ends in an unconditional
drop or reject (firewalld's style). It *honours* the permit mark when a rule
before that end matches the mark's bits and accepts. Read from a terse listing
(``nft -t -j list ruleset``): set elements are never needed.
"""

from __future__ import annotations

from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import FAMILY, META_MARK, is_int, ruleset_objects

TERMINAL = ("drop", "reject")
# Statements that do not make a rule conditional.
UNCONDITIONAL = ("counter", "log", "limit_none")


def _verdict(exprs):
    """The rule's final verdict keyword (accept, drop, reject, jump, goto, return...), or None."""
    for expr in reversed(exprs):
        if isinstance(expr, dict) and len(expr) == 1:
            key = next(iter(expr))
            if key in ("accept", "drop", "reject", "jump", "goto", "return", "continue", "queue"):
                return key
    return None


def _is_unconditional(exprs):
    return all(isinstance(expr, dict) and len(expr) == 1 and next(iter(expr)) in UNCONDITIONAL + TERMINAL
               for expr in exprs)


def _matches_mark(expr, mark):
    """True when the expression tests that the packet mark carries every bit of ``mark``."""
    match = expr.get("match") if isinstance(expr, dict) and len(expr) == 1 else None
    if not isinstance(match, dict):
        return False
    left, right, op = match.get("left"), match.get("right"), match.get("op")
    if left == META_MARK:
        return op in ("==", "in") and is_int(right) and right == mark
    masked = left.get("&") if isinstance(left, dict) and len(left) == 1 else None
    if not (isinstance(masked, list) and len(masked) == 2 and masked[0] == META_MARK and is_int(masked[1])):
        return False
    mask = masked[1]
    if mask & mark != mark or mask & ~mark:
        return False
    if op in ("==", "in"):
        return is_int(right) and right == mark
    return op == "!=" and right == 0 and mask == mark


def _jump_targets(exprs):
    return [verdict["target"] for expr in exprs if isinstance(expr, dict)
            for verdict in (expr.get("jump"), expr.get("goto"))
            if isinstance(verdict, dict) and isinstance(verdict.get("target"), str)]


def _accepts_everything(chain, rules_by_chain):
    """True when the chain's first verdict-bearing unconditional rule accepts."""
    for exprs in rules_by_chain.get(chain, []):
        if _is_unconditional(exprs) or (exprs and all(isinstance(e, dict) and set(e) <= {"counter", "accept"}
                                                      for e in exprs)):
            return _verdict(exprs) == "accept"
    return False


def _marked_verdict(exprs, mark, chain, rules_by_chain):
    """'accept' or 'drop' when the rule decides the fate of packets carrying the mark, else None."""
    if not mark or not any(_matches_mark(expr, mark) for expr in exprs):
        return None
    verdict = _verdict(exprs)
    if verdict in ("jump", "goto"):
        targets = _jump_targets(exprs)
        accepts = targets and _accepts_everything((chain[0], chain[1], targets[0]), rules_by_chain)
        return "accept" if accepts else None
    return verdict if verdict in ("accept",) + TERMINAL else None


def _chain_honours(start, rules_by_chain, mark):
    """True when the chain, or a chain it jumps to, accepts packets carrying the mark before dropping them."""
    seen, todo = set(), [start]
    while todo:
        chain = todo.pop()
        if chain in seen:
            continue
        seen.add(chain)
        for exprs in rules_by_chain.get(chain, []):
            verdict = _marked_verdict(exprs, mark, chain, rules_by_chain)
            if verdict == "accept":
                return True
            if verdict in TERMINAL:
                return False
            todo.extend((chain[0], chain[1], target) for target in _jump_targets(exprs))
    return False


def _default_drop(body, rules):
    """'policy drop', 'ends in reject' or 'ends in drop' when the chain drops by default, else None."""
    if body.get("policy") == "drop":
        return "policy drop"
    if rules and _is_unconditional(rules[-1]) and _verdict(rules[-1]) in TERMINAL:
        return "ends in %s" % _verdict(rules[-1])
    return None


def _key(body, name_field):
    key = (body.get("family"), body.get("table"), body.get(name_field))
    return key if all(isinstance(part, str) for part in key) else None


def find_shadowing_chains(data, table, hook, mark):
    """Base chains of other tables on ``hook`` that drop by default and do not honour ``mark``."""
    objects = ruleset_objects(data)
    rules_by_chain = {}
    for kind, body in objects:
        key = _key(body, "chain")
        if kind == "rule" and key and isinstance(body.get("expr"), list):
            rules_by_chain.setdefault(key, []).append(body["expr"])
    found = []
    for kind, body in objects:
        key = _key(body, "name")
        if kind != "chain" or key is None or body.get("hook") != hook or key[0] not in ("inet", "ip", "ip6") \
                or key[:2] == (FAMILY, table):
            continue
        how = _default_drop(body, rules_by_chain.get(key, []))
        if how and not _chain_honours(key, rules_by_chain, mark):
            found.append({"family": key[0], "table": key[1], "chain": key[2], "hook": hook,
                          "priority": body.get("prio"), "drops": how})
    return found


def shadowing_warning(chain, mark):
    where = "%s %s chain %s" % (chain["family"], chain["table"], chain["chain"])
    if not mark:
        return ("%s drops by default on the %s hook (%s), and permit_mark is 0: it drops what the collection's "
                "table permits" % (where, chain["hook"], chain["drops"]))
    return ("%s drops by default on the %s hook (%s) and does not accept the permit mark: it drops what the "
            "collection's table permits; add 'meta mark & 0x%08x == 0x%08x accept' to it"
            % (where, chain["hook"], chain["drops"], mark, mark))
