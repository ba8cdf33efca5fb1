#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cgroup_memory
short_description: Create, limit and remove memory cgroups on cgroup v1, v2 and hybrid hosts
version_added: 1.1.0
description:
  - Creates a cgroup below the memory controller's hierarchy (parents included), sets its memory
    limits with one vocabulary on every host, optionally moves processes into it, and removes it
    again when it is empty.
  - The same options work on cgroup v1 (EulerOS, openEuler, HCE, RHEL 7/8 defaults), cgroup v2 and
    hybrid hosts. The module finds the memory controller in C(/proc/self/mountinfo), so a v1 memory
    hierarchy co-mounted with other controllers (for example C(/sys/fs/cgroup/cpu,memory)) or
    mounted somewhere else is found as well.
  - "On v1 O(max) is C(memory.limit_in_bytes) and O(swap_max) is enforced through
    C(memory.memsw.limit_in_bytes) = O(max) + O(swap_max); the two are written in the order the
    kernel requires (it refuses a memory limit above the memory+swap limit at any moment)."
  - "On v2 the module enables C(+memory) in C(cgroup.subtree_control) of every parent, and refuses
    a O(max) below the cgroup's current usage unless O(force=true): lowering C(memory.max) below
    C(memory.current) makes the kernel OOM-kill processes inside the cgroup."
  - Every value is read back after it is written and compared with what the kernel should store
    (the kernel rounds down to its page size; v1 shows "unlimited" as a page-size dependent number).
    A failed write rolls back the changes already made in the run, including created cgroups.
  - Paths that leave the hierarchy (C(..), absolute paths elsewhere, symlinks) are refused. Paths
    inside systemd units (C(*.slice), C(*.service), C(*.scope)...) are refused on systemd hosts
    unless O(allow_systemd_managed=true), because systemd rewrites those files when it re-applies
    the unit; use M(oomkit.linux.systemd_oom) for them.
author:
  - oomkit maintainers (@oomkit)
options:
  path:
    description:
      - The cgroup, relative to the memory controller's hierarchy, for example V(oomkit/batch).
      - An absolute path is accepted only when it starts with the hierarchy's mount point (for
        example V(/sys/fs/cgroup/memory/oomkit/batch) on a v1 host); any other absolute path is refused.
      - The root of the hierarchy cannot be managed.
    type: str
    required: true
  state:
    description:
      - V(present) creates the cgroup and its parents when missing and applies the settings.
      - V(absent) removes the cgroup when it holds no processes and no child cgroups; otherwise the
        module fails and lists what still holds it. Parents are never removed.
    type: str
    choices: [present, absent]
    default: present
  max:
    description:
      - Hard memory limit. Above it the kernel reclaims, then OOM-kills inside the cgroup.
      - A size in bytes (V(67108864)) or with a unit, base 1024 (V(512M), V(2G), V(1.5G), V(512MiB));
        V(max), V(unlimited), V(infinity) or V(-1) for no limit. V(MB)/V(GB) are refused as ambiguous.
      - v1 C(memory.limit_in_bytes), v2 C(memory.max).
    type: raw
  swap_max:
    description:
      - Swap the cgroup may use, as a size (see O(max)); V(0) forbids swap, V(max) lifts the limit.
      - v2 C(memory.swap.max). On v1 it is enforced as C(memory.memsw.limit_in_bytes) = O(max) + O(swap_max)
        and needs a finite O(max) (given here or already set) and swap accounting in the kernel.
      - On v1, when O(swap_max) is not given, C(memory.memsw.limit_in_bytes) is left as it is; a O(max)
        above it is refused with a message asking for O(swap_max).
    type: raw
  high:
    description:
      - Throttling limit, a size (see O(max)). Above it the kernel reclaims hard and slows the cgroup
        down but never OOM-kills.
      - v2 C(memory.high); on v1 only openEuler/HCE kernels have C(memory.high).
    type: raw
  low:
    description:
      - Best-effort memory protection, a size (see O(max)).
      - v2 C(memory.low); on v1 only openEuler/HCE kernels have it.
    type: raw
  min:
    description:
      - Hard memory protection, a size (see O(max)).
      - v2 C(memory.min) (kernel 4.18+); on v1 only openEuler/HCE kernels have it.
    type: raw
  oom_group:
    description:
      - When the OOM killer picks a process of this cgroup, kill all processes of the cgroup together.
      - v2 only, C(memory.oom.group) (kernel 4.19+).
    type: bool
  oom_kill_disable:
    description:
      - v1 only. V(true) disables the OOM killer for this cgroup (C(oom_kill_disable) in
        C(memory.oom_control)), so tasks that hit the limit wait instead of being killed.
    type: bool
  swappiness:
    description:
      - v1 only, C(memory.swappiness), 0 to 200 (kernels before 5.8 accept 0 to 100).
    type: int
  soft_limit:
    description:
      - v1 only, C(memory.soft_limit_in_bytes), a size (see O(max)), the target the kernel reclaims
        the cgroup towards under global memory pressure.
    type: raw
  qos_level:
    description:
      - openEuler/HCE memcg OOM priority, C(memory.qos_level), -1024 to 1023 (openEuler 22.03 accepts 0
        and -1). Lower levels are killed first when C(vm.memcg_qos_enable) is on (set it with
        M(oomkit.linux.sysctl)).
      - Only kernels with C(CONFIG_MEMCG_OOM_PRIORITY) have the file; elsewhere see O(unsupported).
    type: int
  procs:
    description:
      - Process IDs to move into the cgroup (the whole process, all its threads). Processes already
        in it are left alone. A PID that does not exist is an error.
      - PIDs are 1..4194304. PID 1 (init), PID 2 (kthreadd) and kernel threads are refused. A process
        that has exited but not been reaped (a zombie) cannot be moved; it is listed in RV(procs.exited)
        with a warning, and the run is not changed by it.
    type: list
    elements: int
  force:
    description:
      - Allow a v2 O(max) below the cgroup's current usage (the kernel then OOM-kills inside the cgroup
        until usage fits).
    type: bool
    default: false
  allow_systemd_managed:
    description:
      - Allow a O(path) inside a systemd unit's cgroup (a component ending in C(.slice), C(.service),
        C(.scope), C(.socket), C(.mount) or C(.swap)) on a host booted with systemd.
      - Meant for units with C(Delegate=yes). Elsewhere systemd reverts the values; use
        M(oomkit.linux.systemd_oom).
    type: bool
    default: false
  unsupported:
    description:
      - What to do with a setting this host cannot honour (for example O(oom_kill_disable) on v2,
        O(oom_group) on v1, O(qos_level) without the openEuler kernel feature, O(swap_max) on v1
        without swap accounting).
      - V(fail) stops before anything is written and says why; V(skip) applies the rest, warns, and
        lists the skipped settings in RV(skipped).
    type: str
    choices: [fail, skip]
    default: fail
attributes:
  check_mode:
    support: full
    description: Reports exactly the writes a real run would make, and refuses what it would refuse.
  diff_mode:
    support: full
    description: Shows the cgroup's presence, each changed file value and each moved process, before and after.
  platform:
    platforms: posix
    support: full
    description: Linux with the cgroup memory controller mounted (v1, v2 or hybrid).
notes:
  - Runs as root on the target. Inside an unprivileged container C(/sys/fs/cgroup) is usually
    read-only and every write fails with a clear message.
  - Settings not given are left as they are. A newly created cgroup gets every given setting written,
    even when it equals the kernel default.
  - On v1 a limit below the current usage makes the kernel reclaim while writing; when it cannot,
    it refuses with EBUSY, which the module explains.
  - A cgroup is also capped by its parents' limits. The module warns when O(max) is above a parent's
    limit and reports the limit really in force in RV(effective_max) and RV(limited_by).
seealso:
  - module: oomkit.linux.systemd_oom
    description: Memory and OOM settings of systemd units (MemoryMax=, OOMPolicy=...), which systemd keeps applied.
  - module: oomkit.linux.sysctl
    description: OOM sysctls, among them C(vm.memcg_qos_enable) for O(qos_level).
  - name: Linux cgroup v2 memory interface files
    description: Kernel documentation of memory.max, memory.high, memory.events...
    link: https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files
  - name: Linux cgroup v1 memory controller
    description: Kernel documentation of memory.limit_in_bytes, memory.memsw.limit_in_bytes, memory.oom_control...
    link: https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
"""

EXAMPLES = r"""
- name: Cap a batch cgroup at 2 GiB of memory and no swap
  oomkit.linux.cgroup_memory:
    path: oomkit/batch
    max: 2G
    swap_max: 0

- name: Put a running job into it
  oomkit.linux.cgroup_memory:
    path: oomkit/batch
    procs:
      - "{{ job_pid | int }}"

- name: On v2, throttle at 1.5 GiB, kill at 2 GiB, and kill the whole group on OOM
  oomkit.linux.cgroup_memory:
    path: oomkit/batch
    high: 1.5G
    max: 2G
    oom_group: true
    unsupported: skip   # oom_group does not exist on v1 hosts of the same fleet

- name: Mark expendable work as killed first on openEuler/HCE (needs vm.memcg_qos_enable=1)
  oomkit.linux.cgroup_memory:
    path: offline/batch
    qos_level: -1
    unsupported: skip

- name: Lower a v2 limit below what the cgroup uses now, accepting OOM kills inside it
  oomkit.linux.cgroup_memory:
    path: oomkit/leaky
    max: 256M
    force: true

- name: Remove the cgroup once its processes are gone
  oomkit.linux.cgroup_memory:
    path: oomkit/batch
    state: absent
"""

RETURN = r"""
version:
  description: The host's cgroup layout.
  returned: always
  type: str
  choices: [v1, v2, hybrid]
  sample: hybrid
hierarchy:
  description: Where the memory controller is.
  returned: always
  type: dict
  contains:
    version:
      description: The cgroup version of the memory controller's hierarchy (V(v1) on hybrid hosts with memory on v1).
      type: str
      sample: v1
    mount_point:
      description: Its mount point.
      type: str
      sample: /sys/fs/cgroup/memory
    root:
      description: The part of the hierarchy the mount shows (V(/) unless in a cgroup namespace or bind mount).
      type: str
      sample: /
  sample: {version: v1, mount_point: /sys/fs/cgroup/memory, root: /}
path:
  description: The cgroup as given, normalised relative to the hierarchy.
  returned: always
  type: str
  sample: oomkit/batch
cgroup:
  description: The cgroup as C(/proc/PID/cgroup) shows it.
  returned: always
  type: str
  sample: /oomkit/batch
resolved_path:
  description: The cgroup's directory on the host.
  returned: always
  type: str
  sample: /sys/fs/cgroup/memory/oomkit/batch
state:
  description: The requested state.
  returned: always
  type: str
  sample: present
exists:
  description: Whether the cgroup exists after the run (in check mode, would exist).
  returned: always
  type: bool
  sample: true
created:
  description: Cgroup directories created (in check mode, that would be created), parents first.
  returned: always
  type: list
  elements: str
  sample: [/sys/fs/cgroup/memory/oomkit, /sys/fs/cgroup/memory/oomkit/batch]
removed:
  description: Whether the cgroup was (would be) removed.
  returned: always
  type: bool
  sample: false
subtree_control:
  description: Parents where C(+memory) was (would be) written to C(cgroup.subtree_control) (v2 only).
  returned: always
  type: list
  elements: str
  sample: [/sys/fs/cgroup, /sys/fs/cgroup/oomkit]
settings:
  description:
    - One entry per requested and supported setting.
    - Sizes are bytes, or V(max) for no limit; C(after) is what the kernel stores (rounded down to the page size).
    - On v1 C(swap_max) is reported as the swap allowance, C(memory.memsw.limit_in_bytes) minus C(memory.limit_in_bytes).
  returned: when O(state=present)
  type: dict
  contains:
    file:
      description: The cgroup file behind the setting.
      type: str
      sample: memory.limit_in_bytes
    before:
      description: The value before the run; V(null) when the cgroup did not exist.
      type: raw
      sample: max
    after:
      description: The value after the run.
      type: raw
      sample: 67108864
    changed:
      description: Whether the value was (would be) written.
      type: bool
      sample: true
  sample:
    max: {file: memory.limit_in_bytes, before: max, after: 67108864, changed: true}
    swap_max: {file: memory.memsw.limit_in_bytes, before: max, after: 0, changed: true}
skipped:
  description: Settings this host cannot honour and the reason, when O(unsupported=skip).
  returned: always
  type: dict
  sample: {oom_group: "memory.oom.group exists only on cgroup v2 (kernel 4.19+)"}
procs:
  description: What happened to the processes of O(procs).
  returned: always
  type: dict
  contains:
    moved:
      description: PIDs moved (that would be moved) into the cgroup.
      type: list
      elements: int
    already:
      description: PIDs that were in the cgroup already.
      type: list
      elements: int
    exited:
      description: PIDs of O(procs) that had exited (zombies) and were ignored.
      type: list
      elements: int
  sample: {moved: [4242], already: [], exited: []}
usage:
  description: Memory charged to the cgroup now, in bytes (v1 C(memory.usage_in_bytes), v2 C(memory.current)); V(null) when it does not exist.
  returned: always
  type: int
  sample: 1052672
peak:
  description: Highest usage recorded, in bytes (v1 C(memory.max_usage_in_bytes), v2 C(memory.peak) on kernel 5.19+); V(null) when unknown.
  returned: always
  type: int
  sample: 67108864
failcnt:
  description: v1 only, how many times usage hit the limit (C(memory.failcnt)).
  returned: always
  type: int
  sample: 193
oom_kills:
  description: Processes killed by the OOM killer in this cgroup (v1 C(memory.oom_control) C(oom_kill), v2 C(memory.events) C(oom_kill)).
  returned: always
  type: int
  sample: 1
oom_control:
  description: v1 C(memory.oom_control) as a dict; V(null) on v2.
  returned: always
  type: dict
  sample: {oom_kill_disable: 0, under_oom: 0, oom_kill: 1}
events:
  description: v2 C(memory.events) as a dict (hierarchical counters); V(null) on v1.
  returned: always
  type: dict
  sample: {low: 0, high: 0, max: 12, oom: 1, oom_kill: 1, oom_group_kill: 0}
effective_max:
  description:
    - The tightest hard limit on the cgroup and its parents, in bytes, or V(max) when nothing limits it. A cgroup
      never gets more memory than this, whatever its own O(max) says; V(null) when the cgroup does not exist.
  returned: always
  type: raw
  sample: 67108864
limited_by:
  description: The cgroup whose limit is RV(effective_max) (this cgroup or a parent), as C(/proc/PID/cgroup) shows it; V(null) when unlimited.
  returned: always
  type: str
  sample: /oomkit
events_local:
  description: v2 C(memory.events.local) (this cgroup only) as a dict; V(null) when absent.
  returned: always
  type: dict
  sample: {low: 0, high: 0, max: 12, oom: 1, oom_kill: 1, oom_group_kill: 0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.cgroups import (
    CgroupError, KNOB_NAMES, detect_layout, page_size, plan_absent, plan_present, read_stats, resolve_path, validate_wanted,
)
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import Transaction, key_colon_value


ARGUMENT_SPEC = dict(
    path=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    max=dict(type="raw"),
    swap_max=dict(type="raw"),
    high=dict(type="raw"),
    low=dict(type="raw"),
    min=dict(type="raw"),
    oom_group=dict(type="bool"),
    oom_kill_disable=dict(type="bool"),
    swappiness=dict(type="int"),
    soft_limit=dict(type="raw"),
    qos_level=dict(type="int"),
    procs=dict(type="list", elements="int"),
    force=dict(type="bool", default=False),
    allow_systemd_managed=dict(type="bool", default=False),
    unsupported=dict(type="str", choices=["fail", "skip"], default="fail"),
)


def run(module, fs, page):
    """Plan, apply unless in check mode, and return the result dict. Raises CgroupError/HostError."""
    params = module.params
    state = params["state"]
    wanted = {}
    if state == "present":
        wanted = validate_wanted(params)
    else:
        given = [name for name in KNOB_NAMES if params.get(name) is not None]
        if given or params.get("procs"):
            raise CgroupError("state=absent removes the cgroup; %s make no sense with it" % ", ".join(given + (["procs"] if params.get("procs") else [])))

    layout = detect_layout(fs)
    cg = resolve_path(fs, layout.memory, params["path"], params["allow_systemd_managed"])
    if state == "present":
        plan = plan_present(fs, layout, cg, wanted, procs=params.get("procs"), page=page,
                            unsupported=params["unsupported"], force=params["force"])
    else:
        plan = plan_absent(fs, layout, cg)

    for warning in plan.warnings:
        module.warn(warning)

    transaction = Transaction(check_mode=module.check_mode)
    for change in plan.changes:
        transaction.add_live(change)
    transaction.commit()

    result = dict(
        changed=transaction.changed,
        version=layout.version,
        hierarchy=layout.memory.to_dict(),
        path=cg.relative,
        cgroup=cg.cgroup,
        resolved_path=cg.host_path,
        state=state,
        exists=(state == "present"),
        created=plan.created,
        removed=plan.removed,
        subtree_control=plan.subtree,
        skipped=plan.skipped,
        procs=dict(moved=plan.moved, already=plan.already_in, exited=plan.exited),
    )
    if state == "present":
        result["settings"] = plan.report_settings()
    stats = read_stats(fs, cg, page)
    result.update(stats)
    if module._diff:
        result["diff"] = transaction.diffs(live_header=cg.host_path, render=key_colon_value)
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module, HostFS("/"), page_size())
    except (CgroupError, HostError) as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
