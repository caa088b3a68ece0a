# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The errors every module of the collection raises from its pure core."""

from __future__ import annotations


class FieldError(Exception):
    """Bad input: ``field`` names the argument (``rules[2].ports[0]``), ``message`` says what is allowed."""

    def __init__(self, field, message):
        super().__init__("%s: %s" % (field, message))
        self.field = field
        self.message = message


class ParseError(Exception):
    """Output of a host tool (nft -j, tc -j) or a network peer that does not have the expected shape."""
