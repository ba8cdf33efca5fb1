# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: target_files
short_description: The collection files a target-side Python script needs, found from its imports
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Reads a Python script of this collection (for example the collector of the C(oomkit.linux.watch) role)
    and follows its imports of C(ansible_collections.oomkit.linux.plugins.module_utils), at any depth and
    including imports made inside functions, to the files that provide them.
  - A module that is a package (a directory) is shipped whole, so a module split into a package keeps
    working without any change to the caller.
  - Fails when a followed file imports anything that is neither this collection's C(module_utils) nor
    the Python standard library (target hosts have the standard library only).
  - Returns one item per file, sorted, each with its absolute path on the controller and its path relative
    to the install directory on the target (C(ansible_collections/oomkit/linux/plugins/module_utils/...)).
    Put the install directory on C(sys.path) and the imports work unchanged.
options:
  _terms:
    description: Absolute paths of the entry scripts.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Copy the collector's module_utils to the host
  ansible.builtin.copy:
    src: "{{ item.src }}"
    dest: "/usr/lib/oomkit/{{ item.dest }}"
    mode: "0644"
  loop: "{{ lookup('oomkit.linux.target_files', role_path ~ '/files/oomkit_watch.py', wantlist=True) }}"
"""

RETURN = r"""
_raw:
  description: One item per file to ship.
  type: list
  elements: dict
  contains:
    src:
      description: Absolute path of the file in the collection on the controller.
      type: str
    dest:
      description: Path relative to the install directory on the target.
      type: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.oomkit.linux.plugins.plugin_utils.target_files import (
    TargetFilesError,
    collection_root,
    target_files,
)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        root = collection_root()
        out = []
        seen = set()
        for term in terms:
            if not os.path.isabs(term):
                raise AnsibleLookupError('target_files: %r is not an absolute path' % (term,))
            try:
                files = target_files(term, root)
            except TargetFilesError as e:
                raise AnsibleLookupError('target_files: %s' % e)
            for item in files:
                if item['dest'] not in seen:
                    seen.add(item['dest'])
                    out.append(item)
        return sorted(out, key=lambda i: i['dest'])
