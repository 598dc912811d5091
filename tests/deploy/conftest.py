"""Offline checks of what ships for containers and clusters: the Dockerfile (hadolint), the
kustomize manifests (rendered with kubectl, validated with kubernetes-validate) and the IAM
policy (checked against the AWS calls in src/). The tools come from deploy/local/requirements.txt.
"""

import pathlib
import shutil
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def tool(name):
    """A command from the venv running the tests, else from PATH."""
    here = pathlib.Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run deploy/local/emulator --install-only")
    return found
