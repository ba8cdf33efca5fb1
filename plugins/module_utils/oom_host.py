# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the live host says about OOM, for oomkit.linux.oom_facts: its OOM configuration now, and the
live memory cgroup tree that refines the cause of events whose log lacks the cgroup paths.

Everything is read through ``hostfs.HostFS`` (so a fixture root works as the host's ``/``), on the
host layer's primitives: the cgroup layout of ``host_info.memory_layout``, the posture collector
``host_info.oom_posture`` that oom_host_info uses too, and ``host.is_v1_unlimited``. Parsing logs
(``oom_log``, ``oom_sources``) never needs this module: oom_sources imports it only to gather config
or enrich.
"""

from __future__ import annotations

import posixpath

from ansible_collections.oomkit.linux.plugins.module_utils.host import is_v1_unlimited
from ansible_collections.oomkit.linux.plugins.module_utils.host_info import memory_layout, oom_posture
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import POSTURE_SYSCTLS

# memory cgroups looked at, at most (a host with a huge tree stays bounded)
MAX_CGROUPS = 20000


def _int(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def _read(fs, host_path):
    """A kernel file's text, or None when it is missing or cannot be read (a cgroup gone meanwhile)."""
    try:
        return fs.read_optional(host_path)
    except HostError:
        return None


def _fs(root):
    return root if isinstance(root, HostFS) else HostFS(root or '/')


# --------------------------------------------------------------------------------------------
# host configuration snapshot
# --------------------------------------------------------------------------------------------

def cgroup_layout(root='/'):
    """(version, memory_root, memory_version) of the host: the cgroup detection of
    ``cgroups.detect_layout``; (None, None, None) when no memory controller can be found."""
    layout, _error = memory_layout(_fs(root))
    if layout is None:
        return None, None, None
    return layout.version, layout.memory.mount_point, layout.memory.version


def _limit_kb(fs, d, mem_version):
    """The memory limit (kB) of the cgroup directory ``d`` (a host path), None when unlimited."""
    if mem_version == 'v1':
        v = _int(_read(fs, posixpath.join(d, 'memory.limit_in_bytes')))
    else:
        raw = (_read(fs, posixpath.join(d, 'memory.max')) or '').strip()
        v = None if raw in ('', 'max') else _int(raw)
    if v is None or is_v1_unlimited(v):
        return None
    return v // 1024


def _kv(text):
    out = {}
    for line in (text or '').splitlines():
        parts = line.split()
        if len(parts) == 2:
            v = _int(parts[1])
            if v is not None:
                out[parts[0]] = v
    return out


def walk_cgroups(fs, mem_root, limit=MAX_CGROUPS):
    """Yield (cgroup path, host path of its directory) for every memory cgroup below ``mem_root``,
    parents before children, in name order, at most ``limit``."""
    for count, directory in enumerate(fs.walk_dirs(mem_root)):
        if count >= limit:
            return
        rel = directory[len(mem_root.rstrip('/')):] or '/'
        yield rel, directory


def host_config(root='/'):
    """The host's OOM configuration and kernel OOM counters: the OOM posture of host_info (the collector
    oom_host_info uses too), the kernel's OOM counter, memory sizes and the memory cgroups that hit OOM."""
    fs = _fs(root)
    posture = oom_posture(fs, POSTURE_SYSCTLS)
    sysctl = {}
    for name, entry in posture['sysctls'].items():
        if entry['value'] is not None:
            iv = _int(entry['value'])
            sysctl[name] = iv if iv is not None else entry['value']
    layout = posture['layout']
    version, mem_root, mem_version = ((layout.version, layout.memory.mount_point, layout.memory.version)
                                      if layout is not None else (None, None, None))
    vmstat = _kv(_read(fs, '/proc/vmstat'))
    meminfo = {}
    for line in (_read(fs, '/proc/meminfo') or '').splitlines():
        if line.startswith(('MemTotal:', 'SwapTotal:', 'MemAvailable:')):
            parts = line.split()
            meminfo[parts[0].rstrip(':')] = _int(parts[1])
    cgroups = []
    truncated = False
    if mem_root:
        n = 0
        for rel, d in walk_cgroups(fs, mem_root):
            n += 1
            if mem_version == 'v1':
                ctl = _kv(_read(fs, posixpath.join(d, 'memory.oom_control')))
                kills = ctl.get('oom_kill', 0)
                entry = {'path': rel, 'oom_kill': kills, 'under_oom': ctl.get('under_oom'),
                         'oom_kill_disable': ctl.get('oom_kill_disable')}
                hit = kills or ctl.get('under_oom')
            else:
                evs = _kv(_read(fs, posixpath.join(d, 'memory.events')))
                entry = {'path': rel, 'oom': evs.get('oom', 0), 'oom_kill': evs.get('oom_kill', 0),
                         'oom_group_kill': evs.get('oom_group_kill', 0)}
                hit = entry['oom'] or entry['oom_kill'] or entry['oom_group_kill']
            if hit and rel != '/':
                entry['limit_kb'] = _limit_kb(fs, d, mem_version)
                cgroups.append(entry)
        truncated = n >= MAX_CGROUPS
    return {
        'kernel': posture['kernel'],
        'sysctl': sysctl,
        'cgroup_version': version,
        'memory_cgroup_version': mem_version,
        'memory_cgroup_root': mem_root,
        'vmstat_oom_kill': vmstat.get('oom_kill'),
        'mem_total_kb': meminfo.get('MemTotal'),
        'swap_total_kb': meminfo.get('SwapTotal'),
        'mem_available_kb': meminfo.get('MemAvailable'),
        'cgroups_with_oom': cgroups,
        'cgroups_truncated': truncated,
    }


# --------------------------------------------------------------------------------------------
# live-cgroup enrichment
# --------------------------------------------------------------------------------------------

class _LiveTree(object):
    """The live memory cgroup tree, as the enrichment asks it (cgroup paths, not host paths)."""

    def __init__(self, fs, mem_root, mem_version):
        self.fs = fs
        self.mem_root = mem_root
        self.mem_version = mem_version
        self._all = None

    def _dir(self, cg):
        return posixpath.join(self.mem_root, cg.lstrip('/'))

    def exists(self, cg):
        return self.fs.isdir(self._dir(cg))

    def limit_kb(self, cg):
        return _limit_kb(self.fs, self._dir(cg), self.mem_version)

    def procs(self, cg):
        text = _read(self.fs, posixpath.join(self._dir(cg), 'cgroup.procs')) or ''
        return [p for p in text.split() if p.isdigit()]

    def children(self, cg):
        base = self._dir(cg)
        try:
            return [n for n in self.fs.listdir(base) if self.fs.isdir(posixpath.join(base, n))]
        except HostError:
            return []

    def all_limits(self):
        if self._all is None:
            self._all = [(rel, _limit_kb(self.fs, d, self.mem_version))
                         for rel, d in walk_cgroups(self.fs, self.mem_root) if rel != '/']
        return self._all


def _needs_enrichment(ev):
    return (ev.get('cause') in ('cgroup_limit', 'parent_cgroup_limit') and ev.get('memcg_limit_kb') and
            not (ev.get('memcg') and ev.get('task_memcg')))


def make_refiner(root='/', cfg=None):
    """A callable(event) for :attr:`EventCollector.refine` that enriches from the live tree."""
    if cfg is None:
        _v, mem_root, mem_version = cgroup_layout(root)
    else:
        mem_root, mem_version = cfg.get('memory_cgroup_root'), cfg.get('memory_cgroup_version')
    if not mem_root:
        return None
    tree = _LiveTree(_fs(root), mem_root, mem_version)

    def refine(ev):
        if _needs_enrichment(ev):
            _enrich_one(ev, tree)
    return refine


def enrich_events(events, root='/', cfg=None):
    """Refine memcg causes with the live cgroup tree (which ancestor holds the limit that was hit).

    Only events whose log lacks the cgroup paths are touched; every conclusion is stated in the
    event's evidence, marked as coming from the live tree (now, not at the time of the kill).
    """
    todo = [ev for ev in events if _needs_enrichment(ev)]
    if not todo:
        return 0
    if cfg is None:
        _v, mem_root, mem_version = cgroup_layout(root)
    else:
        mem_root, mem_version = cfg.get('memory_cgroup_root'), cfg.get('memory_cgroup_version')
    if not mem_root:
        return 0
    tree = _LiveTree(_fs(root), mem_root, mem_version)
    changed = 0
    for ev in todo:
        if _enrich_one(ev, tree):
            changed += 1
    return changed


def _enrich_one(ev, tree):
    want = ev['memcg_limit_kb']
    ev_list = ev['evidence']
    task = ev.get('task_memcg')
    if task and not ev.get('memcg'):
        if not tree.exists(task):
            ev_list.append('live cgroup tree: victim cgroup %s no longer exists' % task)
            return False
        cg = task
        while True:
            if tree.limit_kb(cg) == want:
                ev['memcg'] = cg
                if cg == task:
                    ev['cause'] = 'cgroup_limit'
                    ev_list.append('live cgroup tree: %s itself has limit %dkB' % (cg, want))
                else:
                    ev['cause'] = 'parent_cgroup_limit'
                    ev_list.append('live cgroup tree: ancestor %s of %s has limit %dkB' % (cg, task, want))
                ev['confidence'] = 'medium'
                ev['extra']['enriched'] = True
                return True
            if cg == '/':
                break
            cg = posixpath.dirname(cg.rstrip('/')) or '/'
        ev_list.append('live cgroup tree: no cgroup on the path of %s has limit %dkB now' % (task, want))
        return False
    memcg = ev.get('memcg')
    if memcg and not task:
        if tree.exists(memcg) and tree.limit_kb(memcg) == want:
            kids = tree.children(memcg)
            if kids and not tree.procs(memcg):
                ev['cause'] = 'parent_cgroup_limit'
                ev['confidence'] = 'medium'
                ev_list.append('live cgroup tree: %s has child cgroups (%s) and no processes of its own: '
                               'the victim was in a descendant' % (memcg, ', '.join(kids[:5])))
                ev['extra']['enriched'] = True
                return True
        return False
    cands = [cg for cg, lim in tree.all_limits() if lim == want]
    if not cands:
        ev_list.append('live cgroup tree: no cgroup has limit %dkB now' % want)
        return False
    if len(cands) > 1:
        ev_list.append('live cgroup tree: %d cgroups have limit %dkB (%s): cannot tell which was hit'
                       % (len(cands), want, ', '.join(cands[:5])))
        return False
    cg = cands[0]
    ev['memcg'] = cg
    ev['extra']['enriched'] = True
    kids = tree.children(cg)
    if kids and not tree.procs(cg):
        ev['cause'] = 'parent_cgroup_limit'
        ev_list.append('live cgroup tree: only %s has limit %dkB; it has child cgroups (%s) and no '
                       'processes of its own, so the victim was in a descendant'
                       % (cg, want, ', '.join(kids[:5])))
    else:
        ev['cause'] = 'cgroup_limit'
        ev_list.append('live cgroup tree: only %s has limit %dkB%s' % (
            cg, want, '' if not kids else ' (it also has processes of its own: own limit assumed)'))
    ev['confidence'] = 'medium'
    return True


__all__ = ['MAX_CGROUPS', 'cgroup_layout', 'enrich_events', 'host_config', 'make_refiner', 'walk_cgroups']
