# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only host probe of the oomkit.linux.diagnosis role (run with ansible.builtin.script).

Usage: oom_probe.py BASE64_JSON  with {"critical": [...], "cgroups": [...], "memory_cgroup_root": ...,
"memory_cgroup_version": "v1"|"v2", "root": "/"}. The arguments are base64 so that cgroup paths taken
from logs (attacker-controlled) never reach a shell. Prints one JSON document:

  processes           the main process of each critical name, with its oom_score_adj
  container_runtimes  container runtime daemons running (dockerd, containerd, conmon, isulad...)
  runs_containers     bool
  in_container        this host is itself a container
  cgroups             {path: {usage_kb, limit_kb}} for the cgroups asked for that exist

One scan of /proc, nothing written. Python 3.8+ standard library only: targets are minimal servers.
"""

from __future__ import annotations

import base64
import json
import os
import sys

# Process names (comm, at most 15 characters) of container runtimes and their shims.
CONTAINER_RUNTIMES = frozenset((
    'dockerd', 'containerd', 'containerd-shim', 'containerd-shi', 'conmon', 'crio', 'cri-dockerd', 'kubelet',
    'isulad', 'isulad-shim', 'lxc-start', 'lxd', 'podman', 'k3s-server', 'k3s-agent',
))

UNLIMITED_KB = 2 ** 50  # cgroup v1 prints about 2^63 bytes for "no limit"


def _path(root, path):
    return path if root == '/' else os.path.join(root, path.lstrip('/'))


def _read(root, path):
    """Text of a file, or None when it is missing, vanished or unreadable (never fails)."""
    try:
        with open(_path(root, path), 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def _stat_ppid(text):
    # /proc/PID/stat: "pid (comm) state ppid ..." - comm may contain spaces and parentheses
    if not text or ')' not in text:
        return None
    tail = text[text.rfind(')') + 2:].split()
    try:
        return int(tail[1])
    except (IndexError, ValueError):
        return None


def in_container(root):
    for marker in ('/run/.containerenv', '/.dockerenv'):
        if os.path.exists(_path(root, marker)):
            return True
    environ = _read(root, '/proc/1/environ') or ''
    return any(item.startswith('container=') for item in environ.split('\0'))


def scan_processes(root, critical):
    """(main process of each critical name, sorted container runtime names)."""
    wanted = set(name[:15] for name in critical)
    runtimes = set()
    found = {}
    try:
        pids = [p for p in os.listdir(_path(root, '/proc')) if p.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        comm = _read(root, '/proc/%s/comm' % pid)
        if comm is None:
            continue
        comm = comm.rstrip('\n')
        if comm in CONTAINER_RUNTIMES:
            runtimes.add(comm)
        if comm in wanted:
            found[int(pid)] = {'pid': int(pid), 'comm': comm, 'ppid': _stat_ppid(_read(root, '/proc/%s/stat' % pid))}
    processes = []
    for pid in sorted(found):
        entry = found[pid]
        parent = found.get(entry['ppid'])
        if parent is not None and parent['comm'] == entry['comm']:
            continue  # a per-session child (sshd forks one per login): the main process is what counts
        value = _read(root, '/proc/%d/oom_score_adj' % pid)
        try:
            entry['oom_score_adj'] = int(value.strip())
        except (AttributeError, ValueError):
            continue  # vanished
        processes.append(entry)
    return processes, sorted(runtimes)


def _kb(text):
    if text is None or text.strip() == 'max':
        return None
    try:
        value = int(text.strip()) // 1024
    except ValueError:
        return None
    return None if value >= UNLIMITED_KB else value


def cgroup_usage(root, cgroups, mem_root, version):
    out = {}
    if not mem_root or version not in ('v1', 'v2'):
        return out
    usage_file, limit_file = (('memory.usage_in_bytes', 'memory.limit_in_bytes') if version == 'v1'
                              else ('memory.current', 'memory.max'))
    for cgroup in sorted(set(c for c in cgroups if isinstance(c, str))):
        if not cgroup.startswith('/') or '..' in cgroup.split('/') or '\0' in cgroup:
            continue
        directory = os.path.join(mem_root, cgroup.lstrip('/'))
        usage = _read(root, os.path.join(directory, usage_file))
        if usage is None:
            continue
        out[cgroup] = {'usage_kb': _kb(usage), 'limit_kb': _kb(_read(root, os.path.join(directory, limit_file)))}
    return out


def probe(critical=(), cgroups=(), memory_cgroup_root=None, memory_cgroup_version=None, root='/'):
    processes, runtimes = scan_processes(root, critical)
    return {
        'processes': processes,
        'container_runtimes': runtimes,
        'runs_containers': bool(runtimes),
        'in_container': in_container(root),
        'cgroups': cgroup_usage(root, cgroups, memory_cgroup_root, memory_cgroup_version),
    }


def main(argv):
    try:
        args = json.loads(base64.b64decode(argv[1]).decode('utf-8')) if len(argv) > 1 else {}
    except (ValueError, TypeError) as err:
        sys.stdout.write(json.dumps({'failed': True, 'msg': 'bad probe arguments: %s' % err}) + '\n')
        return 2
    if not isinstance(args, dict):
        args = {}
    result = probe(critical=args.get('critical') or (), cgroups=args.get('cgroups') or (),
                   memory_cgroup_root=args.get('memory_cgroup_root'),
                   memory_cgroup_version=args.get('memory_cgroup_version'), root=args.get('root') or '/')
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
