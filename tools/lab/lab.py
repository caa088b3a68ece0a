#!/usr/bin/env python3
"""DLEGATE network lab: the command line (`./rtc lab ...`). The lab itself is the
rtclab package beside this file; `lab.py --help` lists the commands."""

import sys
from pathlib import Path

LAB_DIR = str(Path(__file__).resolve().parent)
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

from rtclab.cli import main  # noqa: E402  (needs the path above when loaded from elsewhere)

if __name__ == "__main__":
    sys.exit(main())
