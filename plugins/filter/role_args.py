# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: role_args
short_description: A role's variables in the types of its argument spec
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Converts the variables of a role of this collection with the role's own C(meta/argument_specs.yml), through
    ansible-core's argument spec validator, the way ansible-core checks them when the role starts. Strings from
    AWX surveys and C(-e key=value) become the declared types (V(t) and V(yes) are true, V(7) is 7, V(a,b) is a
    list).
  - A blank value (empty or only spaces) of a variable the spec does not mark as required means that the
    variable is not set, so the spec's default is returned for it. Variables left out get their default too.
  - Bad input fails with a message that names the variable (and the element of a list), not with the spec.
options:
  _input:
    description: The variables as they arrived, by their full names (C(diagnosis_since), ...).
    type: dict
    required: true
  role:
    description: The role of this collection whose argument spec applies (V(diagnosis), V(hardening)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The diagnosis role's variables, typed
  ansible.builtin.set_fact:
    args: "{{ {'diagnosis_incremental': 't', 'diagnosis_since': ''} | oomkit.linux.role_args('diagnosis') }}"
  # args.diagnosis_incremental is true; args.diagnosis_since is '' (its default); every other variable has its default
"""

RETURN = r"""
_value:
  description: Every option of the role's main entry point, by name, in the type the spec declares.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.oomkit.linux.plugins.plugin_utils import role_args as R
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import to_plain


def role_args(values, role):
    if not isinstance(values, dict):
        raise AnsibleFilterError("role_args needs the role variables as a mapping")
    try:
        return R.convert(str(role), to_plain(values))
    except (OSError, KeyError) as err:
        raise AnsibleFilterError("role_args: no argument spec for the role %r in this collection (%s)" % (role, err))
    except R.RoleArgsError as err:
        raise AnsibleFilterError("oomkit.linux.%s: %s" % (role, err))


class FilterModule(object):
    def filters(self):
        return {"role_args": role_args}
