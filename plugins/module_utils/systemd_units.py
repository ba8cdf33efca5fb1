# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd unit names for the OOM modules: which names are valid (systemctl's rule), which unit types
take OOM and memory settings, the section that holds them. Pure Python, no Ansible, nothing runs a
command.
"""

from __future__ import annotations

from ansible_collections.oomkit.linux.plugins.module_utils import systemctl


class SystemdError(Exception):
    """Bad input or an unusable systemd; the message is meant for the operator."""


# ---------------------------------------------------------------------------------------------
# Unit names
# ---------------------------------------------------------------------------------------------

UNIT_TYPES_WITH_CGROUP = ("service", "socket", "mount", "swap", "slice", "scope")
# Unit types whose section takes exec settings (OOMScoreAdjust=).
UNIT_TYPES_WITH_EXEC = ("service", "socket", "mount", "swap")


def normalize_unit_name(name):
    """Return the full unit name (``sshd`` -> ``sshd.service``) or raise SystemdError."""
    if not isinstance(name, str) or not name.strip():
        raise SystemdError("name must be a unit name such as sshd.service")
    name = systemctl.mangle(name)
    if not systemctl.unit_name_is_valid(name):
        raise SystemdError("%r is not a valid systemd unit name (letters, digits and :-_.\\@ only, not starting "
                           "with - or @, at most %d characters, optionally ending in a unit type such as .service)"
                           % (name, systemctl.UNIT_NAME_MAX - 1))
    unit_type = name.rsplit(".", 1)[1]
    if unit_type not in UNIT_TYPES_WITH_CGROUP:
        raise SystemdError("%s: a .%s unit has no processes or control group of its own, so it "
                           "takes no OOM or memory settings; use a .service, .socket, .mount, "
                           ".swap, .slice or .scope unit" % (name, unit_type))
    return name


def unit_type(name):
    return name.rsplit(".", 1)[1]


def unit_section(name):
    """The section of the unit file that holds the resource-control settings."""
    return unit_type(name).capitalize()


def is_template(name):
    """``foo@.service`` is a template: it has no running instance to query."""
    prefix = name.rsplit(".", 1)[0]
    return prefix.endswith("@")


def validate_dropin_name(name):
    if not isinstance(name, str) or not name.endswith(".conf") or len(name) <= len(".conf"):
        raise SystemdError("dropin_name %r must be a file name ending in .conf" % (name,))
    if "/" in name or name.startswith(".") or "\n" in name or "\x00" in name:
        raise SystemdError("dropin_name %r must be a plain file name (no '/', not hidden)" % (name,))
    return name
