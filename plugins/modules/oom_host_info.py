#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_host_info
short_description: Read a host's OOM posture (container, capabilities, cgroups, systemd, services, processes)
version_added: 1.1.0
description:
  - Reads, in one run and without changing anything, what decides how a host behaves under memory pressure
    and what the other modules of this collection can do on it.
  - Whether the host is a container and which engine runs it, with the evidence. The checks are
    C(container=) in the environment of PID 1, C(/run/.containerenv), C(/run/systemd/container) and the
    cgroup of PID 1. C(/.dockerenv) is reported but is not trusted alone, because image builds can leave it
    behind on hosts that are not containers.
  - The container runtimes present on the host (podman, docker, containerd, CRI-O, iSulad, LXC,
    Kubernetes), with their programs, API sockets and running daemons or shims.
  - Whether this run has C(CAP_SYS_RESOURCE), which is needed to lower C(oom_score_adj) below 0. It is read
    from C(CapEff) in C(/proc/self/status).
  - Whether C(/proc/sys) and the memory cgroup file system are writable. This is told from the mount table,
    C(statvfs) and C(access(2)); nothing is written.
  - The cgroup layout (v1, v2 or hybrid) and where the memory controller is. systemd, its version and the
    state of the O(units) given. The processes each of O(processes) selects, with their live
    C(oom_score_adj). The usage, limit and OOM counters of the O(cgroups) given. Whether the openEuler/HCE
    memory cgroup OOM priority (C(vm.memcg_qos_enable), C(memory.qos_level)) exists. The values of the OOM
    sysctls and of O(sysctls).
  - The oomkit.linux.hardening and oomkit.linux.diagnosis roles run it once per host and plan everything
    else from its result.
options:
  units:
    description:
      - systemd units to report in RV(units). A name without a type gets C(.service).
      - Where systemd is not running (image builds, chroots, containers without systemd), a unit is present
        when its unit file is installed. An alias resolves to the unit it names.
    type: list
    elements: str
    default: []
  processes:
    description:
      - Process selections, reported in RV(processes) in the same order. The selectors are those of
        M(oomkit.linux.oom_score_adj), and all the selectors of one entry must match.
      - Kernel threads, zombies, this module's own process and its parent are never selected.
    type: list
    elements: dict
    default: []
    suboptions:
      pid:
        description: One process ID.
        type: int
      pids:
        description: Process IDs.
        type: list
        elements: int
      pidfile:
        description:
          - A file whose first word is a process ID. A missing pidfile selects nothing.
          - Read under the same rules as M(oomkit.linux.oom_score_adj)'s pidfile (no symlink, a regular file of
            at most 4096 bytes, owned by root or the process's user, in a directory others cannot write).
        type: path
      name:
        description: The exact process name (C(comm)); a name longer than 15 characters must also be the program's base name.
        type: str
      pattern:
        description: A Python regular expression searched in the command line (arguments joined by spaces).
        type: str
      user:
        description: The effective user, by name or numeric UID.
        type: str
      cgroup:
        description: A cgroup path (C(/system.slice/foo.service)) or a directory under C(/sys/fs/cgroup); sub-cgroups count.
        type: str
      unit:
        description: A systemd unit whose cgroup holds the processes (needs a running systemd).
        type: str
      include_children:
        description: Also select every descendant of the selected processes.
        type: bool
        default: false
  cgroups:
    description:
      - Memory cgroups to report in RV(cgroups). Give a path as the kernel log and C(/proc/PID/cgroup) show it
        (relative to the root of the memory hierarchy, for example C(/batch) or C(/system.slice/db.service)),
        or a full path under the memory controller's mount point. V(/) is the root of the hierarchy.
      - A path that does not exist is reported with RV(cgroups.exists=false). A path that leaves the
        hierarchy (C(..)) or goes through a symlink is reported with an error and nothing is read, because
        such paths may come from logs that any process can write to.
    type: list
    elements: str
    default: []
  sysctls:
    description:
      - More sysctls to read, in dotted (V(vm.swappiness)) or slashed (V(vm/swappiness)) form. The module always
        reads V(vm.panic_on_oom), V(vm.oom_kill_allocating_task), V(vm.oom_dump_tasks), V(vm.overcommit_memory)
        and V(vm.memcg_qos_enable).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads the same things in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Linux with C(/proc) mounted.
extends_documentation_fragment:
  - oomkit.linux.attributes
notes:
  - The result is returned as the module result (register it), not as C(ansible_facts). It describes a moment
    (which processes run, their values, cgroup usage), and a fact cache such as AWX's would keep that
    description after it is no longer true. M(oomkit.linux.oom_facts) returns the OOM configuration and events
    as facts.
  - Reading C(/proc/1/environ) and other processes' files needs root. Without it, the evidence says what could
    not be read, and processes of other users may not be selected.
requirements:
  - Linux with C(/proc) mounted; root for a complete answer.
  - C(systemctl) on the host for the systemd state of O(units), when systemd runs.
seealso:
  - module: oomkit.linux.oom_score_adj
    description: Set the oom_score_adj of the processes selected the same way.
  - module: oomkit.linux.systemd_oom
    description: Set OOMScoreAdjust= and memory limits of units.
  - module: oomkit.linux.cgroup_memory
    description: Set cgroup memory limits.
  - module: oomkit.linux.oom_facts
    description: OOM events from the kernel log, as facts.
author:
  - oomkit maintainers (@oomkit)
"""

EXAMPLES = r"""
- name: Read the OOM posture of the host
  oomkit.linux.oom_host_info:
    units: [sshd.service, systemd-journald.service]
    processes:
      - name: postgres
      - pattern: '^/usr/bin/java .*kafka'
    cgroups: [/batch]
    sysctls: [vm.min_free_kbytes]
  register: posture

- name: Say what cannot be done here
  ansible.builtin.debug:
    msg: >-
      container: {{ posture.container.runtime | default('no', true) }};
      CAP_SYS_RESOURCE: {{ posture.cap_sys_resource }};
      /proc/sys writable: {{ posture.proc_sys.writable }};
      memory cgroups writable: {{ posture.cgroup.memory_writable }}

- name: Fail when sshd runs unprotected
  ansible.builtin.assert:
    that: posture.units['sshd.service'].main_pid_oom_score_adj is none or posture.units['sshd.service'].main_pid_oom_score_adj < 0
    fail_msg: sshd can be chosen by the OOM killer
  when: posture.units['sshd.service'].present
"""

RETURN = r"""
container:
  description: Whether the host is a container.
  returned: always
  type: dict
  contains:
    in_container:
      description: True when conclusive evidence says the host is a container.
      type: bool
      sample: false
    runtime:
      description: The engine, as the evidence names it (V(podman), V(docker), V(lxc), V(systemd-nspawn)...), or null.
      type: str
      sample: podman
    evidence:
      description:
        - Everything found. RV(container.evidence[].conclusive=false) marks what is not trusted alone
          (C(/.dockerenv)) or what could not be read.
      type: list
      elements: dict
      sample: [{"source": "/proc/1/environ", "found": "container=podman", "conclusive": true}]
      contains:
        source:
          description: The file looked at.
          type: str
        found:
          description: What it showed (or why it could not be read).
          type: str
        conclusive:
          description: Whether this alone makes the host a container.
          type: bool
container_runtimes:
  description: The container runtimes present on the host; only runtimes with a program, a socket or a running process.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: V(podman), V(docker), V(containerd), V(crio), V(isulad), V(lxc) or V(kubernetes).
      type: str
    binaries:
      description: Their programs found in the usual directories.
      type: list
      elements: str
    sockets:
      description: Their API sockets that exist.
      type: list
      elements: str
    processes:
      description: Names of their running daemons and shims.
      type: list
      elements: str
  sample: [{"name": "podman", "binaries": ["/usr/bin/podman"], "sockets": [], "processes": ["conmon"]}]
runtime_processes:
  description: Names (C(comm)) of the running container runtime daemons and shims, sorted.
  returned: always
  type: list
  elements: str
  sample: [containerd, containerd-shim, kubelet]
runs_containers:
  description: True when a container runtime daemon or shim is running, so the host runs containers.
  returned: always
  type: bool
cap_sys_resource:
  description: Whether this run has C(CAP_SYS_RESOURCE) (null when it cannot be told).
  returned: always
  type: bool
  sample: false
proc_sys:
  description: Whether C(/proc/sys) is writable.
  returned: always
  type: dict
  contains:
    writable:
      description: True when a sysctl write can be made.
      type: bool
    reason:
      description: Why not, or null.
      type: str
      sample: /proc/sys is mounted read-only here (an unprivileged container)
    mount_point:
      description: The mount that holds C(/proc/sys).
      type: str
      sample: /proc
    read_only_mount:
      description: Whether that mount is read-only.
      type: bool
cgroup:
  description: The cgroup layout and the memory controller.
  returned: always
  type: dict
  contains:
    version:
      description: V(v1), V(v2), V(hybrid), or null when no cgroup file system is mounted.
      type: str
      sample: hybrid
    memory_version:
      description: The version of the hierarchy holding the memory controller (V(v1) or V(v2)), or null.
      type: str
      sample: v1
    memory_mount:
      description: Its mount point.
      type: str
      sample: /sys/fs/cgroup/memory
    memory_root:
      description: The part of the hierarchy that mount shows (V(/) outside containers).
      type: str
    unified_mount:
      description: The cgroup2 mount point, or null.
      type: str
      sample: /sys/fs/cgroup/unified
    memory_writable:
      description: Whether cgroups can be created and limited there.
      type: bool
    reason:
      description: Why not, or null.
      type: str
memcg_qos:
  description: The openEuler/HCE memory cgroup OOM priority.
  returned: always
  type: dict
  contains:
    sysctl:
      description: Whether C(vm.memcg_qos_enable) exists.
      type: bool
    qos_level:
      description: Whether C(memory.qos_level) exists (looked for at the root and one level below).
      type: bool
systemd:
  description: The service manager.
  returned: always
  type: dict
  contains:
    running:
      description: Whether systemd is the running init system (C(/run/systemd/system)) and C(systemctl) is there.
      type: bool
    version:
      description: The major version from C(systemctl --version), or null.
      type: int
      sample: 252
    systemctl:
      description: Whether C(systemctl) is installed.
      type: bool
units:
  description: Each unit of O(units), by the name given (with its type).
  returned: always
  type: dict
  sample:
    ssh.service:
      present: true
      id: ssh.service
      names: [ssh.service, sshd.service]
      source: systemctl
      load_state: loaded
      active_state: active
      sub_state: running
      oom_score_adjust: -900
      main_pid: 612
      main_pid_oom_score_adj: -900
      fragment_path: /lib/systemd/system/ssh.service
  contains:
    present:
      description: Whether systemd knows the unit (loaded), or its unit file is installed where systemd does not run.
      type: bool
    id:
      description: The unit's real name (an alias resolves to it).
      type: str
    names:
      description: All its names.
      type: list
      elements: str
    source:
      description: V(systemctl) or V(unit_file).
      type: str
    load_state:
      description: C(LoadState) (V(loaded), V(not-found)...).
      type: str
    active_state:
      description: C(ActiveState).
      type: str
    sub_state:
      description: C(SubState).
      type: str
    oom_score_adjust:
      description: C(OOMScoreAdjust) as systemd has it.
      type: int
    main_pid:
      description: C(MainPID), 0 when there is none.
      type: int
    main_pid_oom_score_adj:
      description: The live C(oom_score_adj) of the main process, or null.
      type: int
    fragment_path:
      description: The unit file.
      type: str
processes:
  description: One entry per selection of O(processes), in order.
  returned: always
  type: list
  elements: dict
  contains:
    selector:
      description: The selectors given.
      type: dict
    processes:
      description: The processes selected, sorted by PID.
      type: list
      elements: dict
      contains:
        pid:
          description: Process ID.
          type: int
        ppid:
          description: Parent process ID.
          type: int
        comm:
          description: Process name.
          type: str
        oom_score_adj:
          description: Its live C(oom_score_adj).
          type: int
  sample: [{"selector": {"name": "sshd"}, "processes": [{"pid": 612, "ppid": 1, "comm": "sshd", "oom_score_adj": -900}]}]
cgroups:
  description: Each cgroup of O(cgroups), by the path given.
  returned: always
  type: dict
  sample:
    /batch: {exists: true, path: /sys/fs/cgroup/memory/batch, usage: 1071644672, limit: 1073741824, usage_kb: 1046528,
             limit_kb: 1048576, peak: 1073741824, failcnt: 12, oom_kills: 3, effective_limit: 1073741824,
             limited_by: /batch, error: null}
  contains:
    exists:
      description: Whether the cgroup exists and has memory files.
      type: bool
    path:
      description: Its directory.
      type: str
    matched:
      description:
        - The tail of the given path that was found here, when the path itself was not; null otherwise. A container
          that reads its host's kernel log sees the host's cgroup paths, and its own hierarchy starts below them.
      type: str
    usage:
      description: Memory usage in bytes.
      type: int
    limit:
      description: Its own hard limit in bytes; null when unlimited.
      type: int
    usage_kb:
      description: RV(cgroups.usage) in KiB.
      type: int
    limit_kb:
      description: RV(cgroups.limit) in KiB.
      type: int
    peak:
      description: Peak usage in bytes, where the kernel keeps it.
      type: int
    failcnt:
      description: How often the limit was hit (cgroup v1).
      type: int
    oom_kills:
      description: OOM kills in the cgroup, where the kernel counts them.
      type: int
    effective_limit:
      description: The tightest limit of the cgroup and its parents, in bytes; null when unlimited.
      type: int
    limited_by:
      description: The cgroup that sets RV(cgroups.effective_limit).
      type: str
    error:
      description: Why the path was not read, or null.
      type: str
sysctls:
  description: The OOM sysctls and those of O(sysctls), by dotted name.
  returned: always
  type: dict
  sample: {"vm.panic_on_oom": {"present": true, "value": "0"}, "vm.memcg_qos_enable": {"present": false, "value": null}}
  contains:
    present:
      description: Whether this kernel has it.
      type: bool
    value:
      description: Its value (whitespace collapsed), or null when missing or unreadable.
      type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.host_info import HostInfoError, gather
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.processes import SELECTOR_ARGUMENT_SPEC
from ansible_collections.oomkit.linux.plugins.module_utils.systemctl import module_runner


def argument_spec():
    return dict(
        units=dict(type="list", elements="str", default=[]),
        processes=dict(type="list", elements="dict", default=[], options=dict(SELECTOR_ARGUMENT_SPEC)),
        cgroups=dict(type="list", elements="str", default=[]),
        sysctls=dict(type="list", elements="str", default=[]),
    )


def run_module(module, fs):
    try:
        info = gather(fs, module_runner(module), module.params, exclude_pids=[os.getpid(), os.getppid()])
    except (HostInfoError, HostError) as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, **info)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, HostFS("/"))


if __name__ == "__main__":
    main()
