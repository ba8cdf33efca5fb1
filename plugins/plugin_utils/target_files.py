# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which files of this collection a target-side script needs: its import closure.

Used by the ``oomkit.linux.target_files`` lookup (the watch role ships its collector with the
collection's own module_utils, never a copy kept in the role). Controller side; no Ansible import.
"""

from __future__ import annotations

import ast
import os
import sys

PREFIX = 'ansible_collections.oomkit.linux'
MODULE_UTILS = PREFIX + '.plugins.module_utils'


class TargetFilesError(Exception):
    pass


def collection_root():
    """This collection's root directory (plugins/plugin_utils/ is two levels below it)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _stdlib(name):
    top = name.split('.')[0]
    names = getattr(sys, 'stdlib_module_names', None)
    if names is None:  # Python < 3.10 on the controller: accept what this interpreter finds built in
        return top in sys.builtin_module_names or top in ('__future__',)
    return top in names or top == '__future__'


def _resolve(dotted, root):
    """A module_utils dotted name -> ('file', path) or ('package', dir), or None."""
    rel = dotted[len(PREFIX) + 1:].split('.')
    base = os.path.join(root, *rel)
    if os.path.isfile(os.path.join(base, '__init__.py')):
        return 'package', base
    if os.path.isfile(base + '.py'):
        return 'file', base + '.py'
    return None


def _module_of(path, root):
    """Dotted name of a collection file (for relative imports)."""
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] == '__init__':
        rel = rel[:-1]
    return '.'.join([PREFIX] + rel)


def _imports(path, root):
    """Absolute dotted names imported by a file, with relative imports resolved."""
    with open(path, 'rb') as f:
        tree = ast.parse(f.read(), path)
    is_pkg = os.path.basename(path) == '__init__.py'
    here = _module_of(path, root) if path.startswith(root + os.sep) else None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level:
                if here is None:
                    raise TargetFilesError('%s: relative import outside the collection' % path)
                parts = here.split('.')
                if not is_pkg:
                    parts = parts[:-1]
                if node.level > 1:
                    parts = parts[:-(node.level - 1)]
                mod = '.'.join(parts + ([mod] if mod else []))
            names.append(mod)
            # "from pkg import submodule" imports a module too
            names.extend('%s.%s' % (mod, a.name) for a in node.names if a.name != '*')
    return names


def target_files(entry, root=None):
    """Files to ship next to ``entry``: [{'src': abs path, 'dest': path under the install dir}]."""
    root = root or collection_root()
    if not os.path.isfile(entry):
        raise TargetFilesError('%s: no such file' % entry)
    todo = [entry]
    done = set()
    files = {}
    while todo:
        path = todo.pop()
        if path in done:
            continue
        done.add(path)
        try:
            names = _imports(path, root)
        except SyntaxError as e:
            raise TargetFilesError('%s: %s' % (path, e))
        for name in names:
            if name == MODULE_UTILS or name.startswith(MODULE_UTILS + '.'):
                if name == MODULE_UTILS:
                    continue
                found = _resolve(name, root)
                if found is None:
                    # "from module import function": the module is the parent name
                    continue
                kind, where = found
                if kind == 'file':
                    todo.append(where)
                    files[where] = True
                else:
                    for dirpath, dirnames, filenames in os.walk(where):
                        dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
                        for fn in sorted(filenames):
                            if fn.endswith('.py'):
                                p = os.path.join(dirpath, fn)
                                todo.append(p)
                                files[p] = True
            elif name.startswith('ansible_collections') or name == 'ansible' or name.startswith('ansible.'):
                if name in ('ansible_collections', 'ansible_collections.oomkit', PREFIX,
                            PREFIX + '.plugins'):
                    continue
                raise TargetFilesError('%s imports %s: target-side code may import only the Python standard '
                                       'library and %s' % (os.path.relpath(path, root), name, MODULE_UTILS))
            elif not _stdlib(name):
                raise TargetFilesError('%s imports %s, which is not in the Python standard library'
                                       % (os.path.relpath(path, root), name))
    return [{'src': p, 'dest': os.path.join('ansible_collections', 'oomkit', 'linux', os.path.relpath(p, root))}
            for p in sorted(files)]
