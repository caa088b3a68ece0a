"""Offline stand-in for get-pip.py: bootstrap pip from the interpreter's own bundled wheel,
then install the requested packages from the configured package index."""
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
