#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctl
short_description: Set OOM and memory sysctls live and persisted, many keys per task
version_added: 1.1.0
description:
  - Sets any number of sysctls in one task, in the running kernel (C(/proc/sys)) and in one sysctl.d
    file this module owns, comparing first and writing only the keys that differ.
  - Validates every value before anything is written. OOM and memory keys (V(vm.panic_on_oom),
    V(vm.oom_kill_allocating_task), V(vm.oom_dump_tasks), overcommit, V(vm.min_free_kbytes),
    V(vm.swappiness), V(vm.watermark_scale_factor) and others) are checked against a table of
    types and ranges, including ranges that depend on the kernel version and checks the kernel
    itself does not make. Any other key may be managed too; the kernel validates it.
  - If a live write fails, the live writes this task already made are rolled back, and the error
    names the key, the value and what the error means on this host.
  - The persisted file keeps foreign lines and comments, uses C(key = value), and is replaced
    atomically with its owner, mode and SELinux context kept.
  - Simulates the order in which systemd-sysctl (at boot) and C(sysctl --system) apply all
    sysctl.d directories and C(/etc/sysctl.conf), reports per key which file wins, and warns when
    another file overrides ours.
  - Without O(settings) it only reports the current live, persisted and boot values of the known
    OOM and memory sysctls.
author:
  - oomkit maintainers (@oomkit)
options:
  settings:
    description:
      - Sysctls to manage, as a mapping of name to value.
      - Names in dotted (V(vm.panic_on_oom)) or slashed (V(vm/panic_on_oom)) form. When the first
        separator is C(/), dots in the rest are kept literally, as systemd-sysctl and procps do
        (V(net/ipv4/conf/eth0.100/forwarding)).
      - With O(state=absent) only the names matter.
      - Values are at most 4095 bytes; integer knobs are held to what the kernel stores (a C int or an
        unsigned long) and to their own range. NUL, newlines and other control characters in names or
        values are refused. Write-only keys such as V(vm.drop_caches) are actions, not settings, and are refused.
      - When omitted, nothing is changed and the module reports the known OOM and memory sysctls.
    type: dict
  state:
    description:
      - V(present) sets the values.
      - V(absent) removes the keys from O(sysctl_file). Live values are left as they are, because
        the kernel has no "unset".
    type: str
    choices: [present, absent]
    default: present
  runtime:
    description:
      - Apply the values to the running kernel through C(/proc/sys).
      - Set to V(false) where C(/proc/sys) is read-only (unprivileged containers) to persist only.
    type: bool
    default: true
  persist:
    description:
      - Write the values to O(sysctl_file) so they are applied at boot.
    type: bool
    default: true
  sysctl_file:
    description:
      - The file this module owns. Keys it manages are rewritten in place; other lines and comments
        are kept byte for byte (bytes that are not UTF-8 too). Lines end at a newline only, as
        systemd-sysctl and procps read them.
      - A symlink (such as Debian's C(99-sysctl.conf -> ../sysctl.conf)) stays a symlink; the file it
        points to is replaced atomically. A FIFO, a device or a file over 1 MiB is refused.
      - The read-modify-write holds an C(fcntl.flock) lock on C(.<name>.lock) beside the file, and is
        redone on the current text when another run changed the file meanwhile, so concurrent runs keep
        each other's keys.
      - An absolute path of at most 4095 bytes, without control characters; an empty path is refused.
      - A file outside the sysctl.d directories is not read at boot; the module warns about that.
    type: path
    default: /etc/sysctl.d/90-oomkit-oom.conf
  exclusive:
    description:
      - Remove from O(sysctl_file) every key that is not in O(settings).
    type: bool
    default: false
  ignore_missing:
    description:
      - Keys this kernel does not have (for example V(vm.memcg_qos_enable) outside openEuler) are an
        error by default. With V(true) they are skipped with a warning and status V(missing), and
        not persisted.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of O(sysctl_file) before changing it. A second backup in the same second
        gets a counter (C(.1~), C(.2~)...) instead of overwriting the first.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Check mode reads everything and predicts the live values, the file and the boot values exactly.
  diff_mode:
    support: full
    details: Shows the live values and the file before and after.
  platform:
    support: full
    platforms: posix
extends_documentation_fragment:
  - oomkit.linux.attributes
notes:
  - Writing a sysctl is an action even when the value does not change (watermarks are recomputed,
    overcommit batches re-tuned), which is why only differing keys are written.
  - V(vm.overcommit_ratio) and V(vm.overcommit_kbytes) are one choice in the kernel (writing one
    zeroes the other), so they cannot both be given; giving one removes the other from O(sysctl_file).
  - Never set V(vm.panic_on_oom) to V(2) on hosts that run containers or memory-limited services,
    unless a reboot on every memory cgroup OOM is what you want.
seealso:
  - module: ansible.posix.sysctl
"""

EXAMPLES = r"""
- name: Apply the EulerOS OOM baseline, live and at boot
  oomkit.linux.sysctl:
    settings:
      vm.panic_on_oom: 0
      vm.oom_kill_allocating_task: 0
      vm.oom_dump_tasks: 1

- name: Strict overcommit with a ratio, in a file of our choice, keeping a backup
  oomkit.linux.sysctl:
    settings:
      vm.overcommit_memory: 2
      vm.overcommit_ratio: 80
    sysctl_file: /etc/sysctl.d/95-overcommit.conf
    backup: true

- name: Inside an unprivileged container, only persist
  oomkit.linux.sysctl:
    settings:
      vm.oom_dump_tasks: 1
    runtime: false

- name: openEuler memcg OOM priority where the kernel has it, skipped elsewhere
  oomkit.linux.sysctl:
    settings:
      vm.memcg_qos_enable: 1
    ignore_missing: true

- name: Our file holds exactly these keys; drop anything else it had
  oomkit.linux.sysctl:
    settings:
      vm.panic_on_oom: 0
      vm.oom_dump_tasks: 1
    exclusive: true

- name: Stop persisting a key
  oomkit.linux.sysctl:
    settings:
      vm.swappiness:
    state: absent

- name: Report the OOM sysctls and which file sets them at boot
  oomkit.linux.sysctl:
  register: oom_sysctls
"""

RETURN = r"""
settings:
  description:
    - Per key, by canonical dotted name, what was found and what was done.
    - Without O(settings), the known OOM and memory sysctls plus any key in O(sysctl_file), with
      C(live_after) and C(persisted_after) left out.
  returned: always
  type: dict
  sample:
    vm.oom_dump_tasks:
      live_before: "0"
      live_after: "1"
      persisted_before: null
      persisted_after: "1"
      boot_value: "1"
      boot_file: /etc/sysctl.d/90-oomkit-oom.conf
      system_value: "1"
      system_file: /etc/sysctl.d/90-oomkit-oom.conf
      shadowed_by: null
      status: changed
  contains:
    live_before:
      description: Value in C(/proc/sys) before the task; null when the kernel lacks the key.
      type: str
    live_after:
      description: Value read back after the task (predicted in check mode).
      type: str
    persisted_before:
      description: Value in O(sysctl_file) before the task; null when absent.
      type: str
    persisted_after:
      description: Value in O(sysctl_file) after the task; null when absent.
      type: str
    boot_value:
      description: Value systemd-sysctl applies at boot, from all sysctl.d directories.
      type: str
    boot_file:
      description: The file that sets O(settings) at boot under systemd-sysctl (the last one wins).
      type: str
    system_value:
      description: Value C(sysctl --system) applies (it also reads C(/etc/sysctl.conf), last).
      type: str
    system_file:
      description: The file that wins under C(sysctl --system).
      type: str
    shadowed_by:
      description: Another file that overrides the value in O(sysctl_file) at boot or under C(sysctl --system).
      type: str
    status:
      description: V(changed), V(ok) (already as wanted) or V(missing) (the kernel lacks the key).
      type: str
sysctl_file:
  description: The file this module owns.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-oomkit-oom.conf
backup_file:
  description: The copy made with O(backup=true).
  returned: when a backup was made
  type: str
  sample: /etc/sysctl.d/90-oomkit-oom.conf.2026-11-26@03:00:00~
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import DEFAULT_FILE, SysctlError, SysctlRun


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            runtime=dict(type="bool", default=True),
            persist=dict(type="bool", default=True),
            sysctl_file=dict(type="path", default=DEFAULT_FILE),
            exclusive=dict(type="bool", default=False),
            ignore_missing=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "absent" and not params["settings"]:
        module.fail_json(msg="state=absent needs the keys to remove in settings")

    run = SysctlRun(
        HostFS("/"),
        settings=params["settings"],
        runtime=params["runtime"],
        persist=params["persist"],
        path=params["sysctl_file"],
        state=params["state"],
        exclusive=params["exclusive"],
        ignore_missing=params["ignore_missing"],
        check_mode=module.check_mode,
        backup=params["backup"],
    )
    try:
        run.plan()
        run.commit()
    except (SysctlError, HostError) as err:
        module.fail_json(msg=str(err), settings=run.results)

    for warning in run.warnings:
        module.warn(warning)
    result = dict(changed=run.changed, settings=run.results, sysctl_file=params["sysctl_file"])
    if run.our_file.backup_file:
        result["backup_file"] = run.our_file.backup_file
    if module._diff:
        result["diff"] = run.transaction.diffs(live_header="live /proc/sys")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
