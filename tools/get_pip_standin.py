# -*- coding: utf-8 -*-
# Copyright: oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into every virtualenv it creates by running a get-pip script it
fetches from ci-files.testing.ansible.com, which is not reachable from our build machines. It
looks for a cached copy first, so we install this file there: it bootstraps pip with ensurepip
and then installs the requested packages from the configured package index.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py understands these, plain pip does not.
_GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main() -> None:
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
    pip_args = [arg for arg in sys.argv[1:] if arg not in _GET_PIP_ONLY_OPTIONS]
    subprocess.run([sys.executable, "-m", "pip", "install"] + pip_args, check=True)


if __name__ == "__main__":
    main()
