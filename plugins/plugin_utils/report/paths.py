# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where reports go: never inside the collection, always somewhere the runner may write.

The order, first match wins:

1. the directory the user configured (extra var ``dlegate_report_dir``, or the
   callback's ini/env option);
2. ``DLEGATE_REPORT_DIR`` in the environment;
3. ``reports/`` in ansible-runner's artifact directory (``AWX_ISOLATED_DATA_DIR``),
   so that AWX, AAP and ansible-navigator keep the files with the job;
4. ``reports/`` in the current working directory.
"""

from __future__ import annotations

import os

ENV_REPORT_DIR = "DLEGATE_REPORT_DIR"
ENV_ARTIFACT_DIR = "AWX_ISOLATED_DATA_DIR"
SUBDIR = "reports"


def resolve_report_dir(configured, environ, cwd):
    """The absolute report directory for a configured value (or None), an environment and a working directory."""
    for candidate in (configured, environ.get(ENV_REPORT_DIR)):
        if candidate:
            return os.path.abspath(os.path.join(cwd, os.path.expanduser(str(candidate))))
    artifact_dir = environ.get(ENV_ARTIFACT_DIR)
    if artifact_dir:
        return os.path.join(os.path.abspath(artifact_dir), SUBDIR)
    return os.path.join(os.path.abspath(cwd), SUBDIR)


def report_paths(report_dir, stem):
    """The three report files of one run: JSON, JUnit XML and HTML."""
    base = os.path.join(report_dir, stem)
    return {"json": base + ".json", "junit": base + ".junit.xml", "html": base + ".html"}
