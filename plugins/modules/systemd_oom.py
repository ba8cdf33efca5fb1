#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: systemd_oom
short_description: Persistent OOM and memory settings of a systemd unit, through a drop-in
version_added: 1.1.0
description:
  - Sets a unit's OOM killer and memory settings (C(OOMScoreAdjust=), C(OOMPolicy=), C(MemoryMax=),
    C(MemoryHigh=), C(MemoryLow=), C(MemoryMin=), C(MemorySwapMax=), the systemd-oomd C(ManagedOOM*=)
    settings, ...) in one drop-in file that the module owns, by default
    C(/etc/systemd/system/UNIT.d/50-oomkit-oom.conf), replaced atomically.
  - This is the durable way to protect a service or cap a leaky one on a systemd host; systemd reverts
    direct writes to the unit's cgroup files, and a live C(oom_score_adj) is lost when the service restarts.
  - Version aware. The module reads C(systemctl --version) and writes only directives that this systemd
    knows. On systemd older than 231 (EulerOS 2.0 SP5, RHEL 7 run systemd 219) O(memory_max) is written as
    C(MemoryLimit=). A setting this systemd or this unit type does not support is an error, or is skipped
    with a warning when O(unsupported=skip); it is never written as a line systemd would silently ignore.
  - When the drop-in changes the module runs C(systemctl daemon-reload); systemd then applies the memory
    settings to the running unit without a restart. It also reloads when systemd runs the unit with other
    values than its files say (a C(systemctl set-property) made since), so that ours apply again.
  - C(OOMScoreAdjust=) is applied by systemd only when it starts a process. With O(live=true) the module
    also writes the value to the unit's running processes (C(/proc/PID/oom_score_adj)), so no restart is
    needed; O(restart) decides whether the unit is restarted when that is not enough.
  - Afterwards the module checks what is really in effect (C(systemctl show), the main process's
    C(oom_score_adj), the cgroup memory files) and warns when it differs from what was asked, for example
    in a container without C(CAP_SYS_RESOURCE), where systemd shows C(OOMScoreAdjust=-900) while the
    process keeps 0.
  - Warns when another drop-in applied after ours (a later file name, in any unit directory, including
    C(/etc/systemd/system.control) and C(/run/systemd/system.control) written by C(systemctl set-property))
    sets one of our settings again, or when a file of the same name in a higher-priority directory hides ours.
author:
  - oomkit maintainers (@oomkit)
attributes:
  check_mode:
    support: full
    description: Predicts the drop-in, the live writes and the restart without changing anything.
  diff_mode:
    support: full
    description: Shows the drop-in before and after.
  platform:
    support: full
    platforms: posix
    description: Linux hosts managed by systemd (219 and later).
options:
  name:
    description:
      - The unit, for example V(sshd.service), V(user.slice) or V(worker@.service) (a template, whose
        drop-in applies to every instance).
      - Without a type suffix V(.service) is assumed.
      - Only units with processes or a control group take these settings (C(.service), C(.socket),
        C(.mount), C(.swap), C(.slice), C(.scope)).
      - Exactly one of O(name) and O(units) is required.
    type: str
    aliases: [unit]
  units:
    description:
      - Several units in one run, each a dict with C(name) and the settings of that unit, under the same
        keys as this module's options (C(oom_score_adjust), C(memory_max), ... C(managed_oom_preference)),
        and optionally C(state) and C(live) (which default to O(state) and O(live)).
      - The other options (O(dropin_name), O(exclusive), O(restart), O(unsupported), O(backup)) apply to
        every unit. Give no O(name) and no settings beside O(units).
      - One shared transaction for all of them. Every unit is checked before anything is written (a bad
        value fails the run with nothing changed), the drop-ins are written, systemd is reloaded B(once),
        then the live values are written. A failure up to there undoes the whole run (every drop-in
        restored, systemd reloaded again). Restarts, when needed, follow unit by unit.
      - One module run instead of one per unit. Over SSH each module run costs a Python start and several
        round trips on the host, so a fleet converges faster (the oomkit.linux.hardening role uses this).
      - The result is in RV(units), one entry per unit in the order given.
    type: list
    elements: dict
    version_added: 1.2.0
  state:
    description:
      - V(present) writes the given settings into the drop-in.
      - V(absent) removes our settings from the drop-in, and the drop-in itself (and its directory when it
        is left empty) only when nothing foreign is left in it; systemd then uses the unit's own values again.
        Give no settings with V(absent).
      - Ours are the settings this module manages (non-empty assignments of its directives in the unit's
        section). Every other line is foreign and kept verbatim, in place, and listed in RV(foreign_lines),
        comments, other directives and sections, and reset lines such as a hand-written C(MemoryMax=)
        (when such a reset is for a setting the task sets, our value is written after it, so it cannot be
        cancelled).
    type: str
    choices: [present, absent]
    default: present
  dropin_name:
    description:
      - File name of the drop-in in C(/etc/systemd/system/UNIT.d/).
      - systemd applies the drop-ins of a unit sorted by file name, whatever their directory; the last
        assignment of a setting wins. The default sorts after the C(50-Memory*.conf) files that
        C(systemctl set-property) writes, so after a C(daemon-reload) our values win over them.
    type: str
    default: 50-oomkit-oom.conf
  oom_score_adjust:
    description:
      - C(OOMScoreAdjust=), the C(oom_score_adj) of the processes the unit starts, V(-1000) (never killed
        by the OOM killer) to V(1000) (killed first).
      - Only for C(.service), C(.socket), C(.mount) and C(.swap) units.
      - Lowering below 0 needs C(CAP_SYS_RESOURCE), which containers usually lack.
    type: int
  oom_policy:
    description:
      - C(OOMPolicy=) (systemd 243; in C(.scope) units 253), what systemd does when the kernel OOM killer
        kills a process of the unit. V(continue) logs it, V(stop) stops the unit, V(kill) kills the rest
        of the unit (sets C(memory.oom.group)).
      - systemd sees OOM kills through cgroup v2; on cgroup v1 hosts the policy has little effect.
    type: str
    choices: [continue, stop, kill]
  memory_accounting:
    description: C(MemoryAccounting=). On cgroup v1 a unit gets its own memory cgroup only with accounting or a limit.
    type: bool
  memory_max:
    description:
      - C(MemoryMax=) (systemd 231), the hard limit; C(MemoryLimit=) on older systemd.
      - Bytes as an integer, or a string with K, M, G, T, P or E (base 1024, V(1.5G) works), a percentage
        of the physical memory (V(20%)), or V(infinity) (also V(max), V(-1)) for no limit. V(512MB) is
        refused as ambiguous.
      - Applies to the running unit after C(daemon-reload), without a restart.
    type: raw
  memory_high:
    description: C(MemoryHigh=) (systemd 231), the throttling limit (cgroup v2 only). Same forms as O(memory_max).
    type: raw
  memory_low:
    description: C(MemoryLow=) (systemd 231), best-effort protection (cgroup v2 only). Same forms as O(memory_max).
    type: raw
  memory_min:
    description: C(MemoryMin=) (systemd 240), hard protection (cgroup v2 only). Same forms as O(memory_max).
    type: raw
  memory_swap_max:
    description: C(MemorySwapMax=) (systemd 232), the swap limit (cgroup v2 only). Same forms as O(memory_max).
    type: raw
  memory_zswap_max:
    description: C(MemoryZSwapMax=) (systemd 253), the zswap limit (cgroup v2 only). Same forms as O(memory_max).
    type: raw
  memory_zswap_writeback:
    description: C(MemoryZSwapWriteback=) (systemd 256), whether zswap may write pages back to swap.
    type: bool
  managed_oom_swap:
    description: C(ManagedOOMSwap=) (systemd 247), what systemd-oomd does with this unit's cgroup on swap exhaustion.
    type: str
    choices: [auto, kill]
  managed_oom_memory_pressure:
    description: C(ManagedOOMMemoryPressure=) (systemd 247), what systemd-oomd does on memory pressure.
    type: str
    choices: [auto, kill]
  managed_oom_memory_pressure_limit:
    description:
      - C(ManagedOOMMemoryPressureLimit=) (systemd 247), a percentage such as V(60%) (up to two decimals);
        V(0%) means the systemd-oomd default.
    type: str
  managed_oom_memory_pressure_duration:
    description:
      - C(ManagedOOMMemoryPressureDurationSec=) (systemd 257), how long the pressure must last, a time
        span such as V(30s) or V(1min 30s), at least 1 second.
    type: str
  managed_oom_preference:
    description:
      - C(ManagedOOMPreference=) (systemd 248), V(avoid) or V(omit) make systemd-oomd spare this unit's
        cgroup; V(none) is the default.
    type: str
    choices: [none, avoid, omit]
  exclusive:
    description:
      - With V(true), settings of ours already in the drop-in but not given in this task are removed.
      - With V(false), they are kept, so several tasks can each manage some settings of one unit.
    type: bool
    default: false
  live:
    description:
      - Also write O(oom_score_adjust) to the unit's running processes (every process in the unit's
        control group), so the value takes effect without a restart. A write the kernel refuses (lowering
        without C(CAP_SYS_RESOURCE)) is a warning and the process's C(live) status V(refused), and check mode
        predicts it. Any other failed write fails the task and undoes it (the drop-in is restored and systemd
        reloads it again).
      - With O(state=absent), the processes get the value systemd uses for the unit once our drop-in is gone.
    type: bool
    default: true
  restart:
    description:
      - V(auto) restarts the unit when it is running, a setting that only a restart applies
        (C(OOMScoreAdjust=)) changed, and the live write did not already bring every process to it.
      - V(never) never restarts; RV(restart_required) tells whether a restart is needed.
      - V(always) restarts the running unit whenever the drop-in changed.
    type: str
    choices: [auto, never, always]
    default: auto
  unsupported:
    description:
      - What to do with a setting this systemd version or this unit type does not support.
      - V(fail) stops before any change with a message naming each setting and the version it needs.
      - V(skip) leaves those settings out, lists them in RV(skipped) and warns.
    type: str
    choices: [fail, skip]
    default: fail
  backup:
    description: Keep a copy of the previous drop-in next to it, with a time stamp.
    type: bool
    default: false
notes:
  - Memory limits below the unit's current usage make the kernel reclaim memory and may OOM-kill the unit's
    processes, as soon as systemd applies them.
  - On cgroup v1 only O(memory_max) is enforced (as C(memory.limit_in_bytes)); the module warns about the
    settings that have no effect there.
  - When systemd is not the running service manager (building an image, a chroot), the drop-in is written
    and nothing else is done.
seealso:
  - module: oomkit.linux.oom_score_adj
    description: Set oom_score_adj of running processes selected by name, pattern, cgroup or unit.
  - name: systemd.resource-control(5)
    description: The memory and systemd-oomd settings of units.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.resource-control.html
  - name: systemd.exec(5)
    description: OOMScoreAdjust=.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html
"""

EXAMPLES = r"""
# Not ssh.service: OpenSSH sets its own listener to -1000 and gives every login the value sshd was
# started with, so a negative OOMScoreAdjust= there shields every SSH session (see the hardening role).
- name: Protect the journal from the OOM killer, now and after restarts
  oomkit.linux.systemd_oom:
    name: systemd-journald.service
    oom_score_adjust: -900

- name: Protect several services in one run (one daemon-reload, one transaction)
  oomkit.linux.systemd_oom:
    units:
      - name: systemd-journald.service
        oom_score_adjust: -900
      - name: rsyslog.service
        oom_score_adjust: -900
      - name: worker.service
        memory_max: 2G

- name: Cap a leaky worker at 2 GiB and let systemd-oomd prefer to spare it
  oomkit.linux.systemd_oom:
    name: worker.service
    memory_max: 2G
    memory_high: 1800M
    oom_policy: kill
    managed_oom_preference: avoid
    unsupported: skip   # on old systemd, leave out what it does not know

- name: Limit all user sessions to 80% of the memory
  oomkit.linux.systemd_oom:
    name: user.slice
    memory_max: 80%

- name: Set the score but do not restart the service; report whether a restart is needed
  oomkit.linux.systemd_oom:
    name: postgresql.service
    oom_score_adjust: -500
    live: false
    restart: never
  register: pg_oom

- name: Remove our settings again
  oomkit.linux.systemd_oom:
    name: worker.service
    state: absent
"""

RETURN = r"""
unit:
  description: The full unit name.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: str
  sample: ssh.service
state:
  description: The O(state) asked for.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: str
  sample: present
dropin:
  description: Path of the drop-in the module owns.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: str
  sample: /etc/systemd/system/ssh.service.d/50-oomkit-oom.conf
systemd_version:
  description: Major version from C(systemctl --version).
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: int
  sample: 252
settings:
  description:
    - Per option given (and per option removed), the directive written and its value in the drop-in before
      and after, as text. V(null) means absent from the drop-in.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: dict
  sample:
    memory_max: {directive: MemoryMax, before: null, after: 512M}
    oom_score_adjust: {directive: OOMScoreAdjust, before: "-500", after: "-900"}
foreign_lines:
  description: The lines of the drop-in that are not ours and were kept (non-blank), bytes that are not UTF-8 shown as U+FFFD.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: list
  elements: str
  sample: ["# reset the vendor's limit", "MemoryMax="]
skipped:
  description: Settings left out with O(unsupported=skip), with the reason.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: list
  elements: dict
  sample: [{option: memory_min, directive: MemoryMin, reason: "MemoryMin= needs systemd 240 or later; this host runs systemd 219"}]
overrides:
  description:
    - Drop-ins that override ours, each with C(path), C(directive) (V(null) when a file of the same name
      in a higher-priority directory hides ours entirely), C(value) and C(reason).
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: list
  elements: dict
  sample: [{path: /etc/systemd/system.control/ssh.service.d/60-x.conf, directive: MemoryMax, value: 1G, reason: "applied after ours (file names sort later)"}]
live:
  description:
    - The unit's processes and their C(oom_score_adj) before and after the live write, with a C(status)
      of V(changed), V(unchanged), V(vanished) (exited meanwhile) or V(refused) (the kernel said no).
    - Empty when O(live=false), when no O(oom_score_adjust) is managed or when the unit is not running.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: list
  elements: dict
  sample: [{pid: 612, comm: sshd, before: 0, after: -900, status: changed}]
daemon_reloaded:
  description:
    - Whether C(systemctl daemon-reload) ran (in check mode, whether it would run). It runs when the drop-in
      changed, and when systemd runs with other values than the files say (a C(systemctl set-property)
      made at runtime), so that ours apply again.
    - With O(units), V(true) when it ran (once) for the run; each entry of RV(units) says whether its unit
      needed it.
  returned: always
  type: bool
restart_required:
  description:
    - True when the unit runs with a value that only a restart applies (a changed C(OOMScoreAdjust=) the
      live write did not bring to every process) and the module did not restart it.
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: bool
restarted:
  description: Whether the unit was restarted (in check mode, whether it would be).
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: bool
effective:
  description:
    - What is in effect after the run (in check mode, before it), read from C(systemctl show), the cgroup
      files and C(/proc/MAINPID/oom_score_adj). Empty when systemd is not running or the unit is a template.
    - C(active_state), C(main_pid), C(control_group) of the unit, and per option given a dict with
      C(wanted), C(systemd) (the C(systemctl show) value), C(cgroup) and C(cgroup_file) for memory limits,
      C(main_pid) and C(process) for O(oom_score_adjust), and C(ok) (V(true), V(false), or V(null) when
      not comparable, for example a percentage).
  returned: with O(name) (with O(units), in each entry of RV(units))
  type: dict
  sample:
    active_state: active
    main_pid: 612
    control_group: /system.slice/ssh.service
    oom_score_adjust: {wanted: -900, systemd: "-900", main_pid: 612, process: 0, ok: false}
    memory_max: {wanted: 512M, systemd: "536870912", cgroup: 512M,
                 cgroup_file: /sys/fs/cgroup/system.slice/ssh.service/memory.max, ok: true}
units:
  description:
    - With O(units), one result per unit in the order given, each with the keys returned with O(name)
      (RV(unit), RV(state), RV(dropin), RV(settings), RV(live), RV(restart_required), RV(effective), ...).
  returned: with O(units)
  type: list
  elements: dict
  sample: [{unit: systemd-journald.service, state: present, changed: true, daemon_reloaded: true,
            dropin: /etc/systemd/system/systemd-journald.service.d/50-oomkit-oom.conf, restart_required: false}]
backup_file:
  description: The copy of the previous drop-in, when O(backup=true) and it changed.
  returned: when a backup was made
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS, HostError
from ansible_collections.oomkit.linux.plugins.module_utils.systemctl import module_runner
from ansible_collections.oomkit.linux.plugins.module_utils.systemd import SystemdError, run, run_many

MEMORY_OPTIONS = ("memory_max", "memory_high", "memory_low", "memory_min", "memory_swap_max", "memory_zswap_max")


def argument_spec():
    spec = dict(
        name=dict(type="str", aliases=["unit"]),
        units=dict(type="list", elements="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        dropin_name=dict(type="str", default="50-oomkit-oom.conf"),
        oom_score_adjust=dict(type="int"),
        oom_policy=dict(type="str", choices=["continue", "stop", "kill"]),
        memory_accounting=dict(type="bool"),
        memory_zswap_writeback=dict(type="bool"),
        managed_oom_swap=dict(type="str", choices=["auto", "kill"]),
        managed_oom_memory_pressure=dict(type="str", choices=["auto", "kill"]),
        managed_oom_memory_pressure_limit=dict(type="str"),
        managed_oom_memory_pressure_duration=dict(type="str"),
        managed_oom_preference=dict(type="str", choices=["none", "avoid", "omit"]),
        exclusive=dict(type="bool", default=False),
        live=dict(type="bool", default=True),
        restart=dict(type="str", choices=["auto", "never", "always"], default="auto"),
        unsupported=dict(type="str", choices=["fail", "skip"], default="fail"),
        backup=dict(type="bool", default=False),
    )
    for option in MEMORY_OPTIONS:
        spec[option] = dict(type="raw")
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("name", "units")], required_one_of=[("name", "units")])
    systemctl_path = module.get_bin_path("systemctl")
    if systemctl_path is None:
        module.fail_json(msg="systemctl was not found: this host is not managed by systemd, so there is no unit "
                             "to configure (use oomkit.linux.oom_score_adj or oomkit.linux.cgroup_memory instead)")

    runner = module_runner(module)

    try:
        if module.params.get("units") is not None:
            result = run_many(HostFS("/"), runner, module.params, check_mode=module.check_mode)
        else:
            result = run(HostFS("/"), runner, module.params, check_mode=module.check_mode)
    except (SystemdError, HostError) as err:
        module.fail_json(msg=str(err))
    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
