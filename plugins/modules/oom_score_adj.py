#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_score_adj
short_description: Set the OOM killer adjustment (oom_score_adj) of running processes
version_added: 1.1.0
description:
  - Selects running processes by PID, pidfile, name, command line, user, cgroup or systemd unit and sets
    their live C(/proc/PID/oom_score_adj), which steers the kernel OOM killer's choice of victim.
    V(1000) makes a process the preferred victim; V(-1000) makes it immune.
  - All selectors given must match (they combine as AND). O(include_children) extends the selection to every
    descendant of the selected processes.
  - C(/proc) is scanned once per run and only the files the selectors need are read. A selection by name reads
    one small file per process, which takes tens of milliseconds on a host with 5,000 processes.
  - Kernel threads and zombies are never selected. The start time of each process is checked again right
    before its write, through a handle on C(/proc/PID) that cannot follow a reused PID; a process that exits
    between the scan and the write is reported with RV(processes[].status=vanished), not as a failure.
  - All or nothing. Every value is read and every change planned before the first write. Lowering writes
    come first, because they are the only ones the kernel may refuse. If a write fails, the processes already
    written are set back to their previous values. The error message and RV(processes) then say which
    processes were changed, rolled back or not touched.
  - On kernels that only have the legacy C(/proc/PID/oom_adj) (-17..15) the value is converted as the kernel
    converts it (V(1000) becomes 15, any other value is multiplied by 17/1000 and truncated toward zero), and a
    warning says the mapping is lossy.
options:
  value:
    description:
      - The C(oom_score_adj) to set, from V(-1000) (never kill) to V(1000) (kill first). V(0) is the default for
        new processes.
      - Lowering a process below its floor (usually V(0), or the lowest value a privileged writer gave it)
        needs C(CAP_SYS_RESOURCE). Raising never needs it.
    type: int
    required: true
  pid:
    description:
      - One process ID. Mutually exclusive with O(pids).
    type: int
  pids:
    description:
      - A list of process IDs, each 1..4194304. PIDs that do not exist (or belong to kernel threads or zombies) are not selected.
      - A thread ID stands for its process (all threads of a process share one value).
    type: list
    elements: int
  pidfile:
    description:
      - A file whose first word is a process ID, such as C(/run/sshd.pid).
      - A missing pidfile selects nothing (see O(missing)). A pidfile that does not start with a PID is an error.
      - The pidfile is not trusted (a service user may write it); the task fails, naming the rule, when it is
        a symlink, not a regular file (a FIFO), larger than 4096 bytes, in a directory others than root and
        its owner can write (unless sticky), or owned by a user other than root and the user of the process
        it names. The file's content is never quoted.
    type: path
  name:
    description:
      - The exact process name (C(comm), as C(ps -o comm) and C(pgrep -x) show it).
      - The kernel keeps only the first 15 characters of a name. A longer O(name) matches the truncated
        C(comm) only when the base name of the program (C(argv[0]) or C(/proc/PID/exe)) is the full O(name).
      - Not a path. Use O(pattern) to match a path or arguments.
    type: str
  pattern:
    description:
      - A Python regular expression searched (not anchored) in the full command line, the arguments joined
        with spaces. Anchor it with C(^) and C($) to avoid matching more than you mean.
      - The module's own process is never selected.
    type: str
  user:
    description:
      - The user the processes run as (effective UID), as a user name or a numeric UID.
    type: str
  cgroup:
    description:
      - Processes in a cgroup or any of its descendant cgroups, read from C(/proc/PID/cgroup).
      - A directory of the cgroup file system such as C(/sys/fs/cgroup/memory/batch) (cgroup v1 memory
        controller), C(/sys/fs/cgroup/unified/batch) (hybrid) or C(/sys/fs/cgroup/batch) (cgroup v2).
      - Any other absolute path, such as C(/system.slice/foo.service), is a path inside a hierarchy and is
        compared with the cgroup v1 memory, cgroup v2 and v1 C(name=systemd) paths of each process.
    type: str
  unit:
    description:
      - The processes of a systemd unit, from the cgroup reported by
        C(systemctl show -p ControlGroup --value UNIT), including its sub-cgroups.
      - A stopped unit has no processes (see O(missing)). Hosts without C(systemctl) get a clear error.
      - The live value is lost when the service restarts. Use M(oomkit.linux.systemd_oom) to persist it with
        C(OOMScoreAdjust=). The module warns about this whenever O(unit) is used.
    type: str
  include_children:
    description:
      - Also select every descendant (children, grandchildren and so on) of the selected processes, found
        through their parent PIDs. Descendants need not match the other selectors.
    type: bool
    default: false
  missing:
    description:
      - What to do when no process matches.
      - V(fail) fails the task. V(ok) returns RV(processes) empty with no change, for a service that may
        not be running.
    type: str
    choices: [fail, ok]
    default: fail
attributes:
  check_mode:
    support: full
    description: Reports the processes that would change, and their values, without writing.
  diff_mode:
    support: full
    description: Shows the value of each selected process before and after.
  platform:
    support: full
    platforms: posix
    description: Linux only (C(/proc/PID/oom_score_adj) or the legacy C(/proc/PID/oom_adj)).
notes:
  - A live value belongs to the running process. It survives C(execve) and is inherited by new children,
    but a restarted service starts again from the value its service manager gives it. Persist values for
    systemd services with M(oomkit.linux.systemd_oom) (C(OOMScoreAdjust=)) and use this module for the
    running instance or for processes no service manager owns.
  - Without C(CAP_SYS_RESOURCE), which containers and user namespaces usually lack even as root, the kernel
    refuses to lower a process below its floor (C(EACCES)). The module fails with a message that says so
    and leaves every selected process as it was. The floor is not visible in C(/proc), so check mode cannot
    tell whether such a lowering will be refused. It warns when a run without C(CAP_SYS_RESOURCE) plans one.
  - In check mode RV(processes[].oom_score) is the current badness, not the one after the change.
  - Writes to threads are writes to their process. All threads share one value.
requirements:
  - Linux with C(/proc) mounted; root or the owner of the processes.
  - C(systemctl) on the host when O(unit) is used.
seealso:
  - module: oomkit.linux.systemd_oom
    description: Persist OOMScoreAdjust= for a systemd unit.
  - name: proc_pid_oom_score_adj(5)
    description: The kernel interface.
    link: https://man7.org/linux/man-pages/man5/proc_pid_oom_score_adj.5.html
author:
  - oomkit maintainers (@oomkit)
"""

EXAMPLES = r"""
- name: Make batch workers the first victims of the OOM killer
  oomkit.linux.oom_score_adj:
    name: batch-worker
    value: 800

- name: Make a Java job expendable, found by its command line
  oomkit.linux.oom_score_adj:
    pattern: '^/usr/bin/java .* -jar /opt/jobs/report\.jar'
    value: 1000

- name: Protect the database from its pidfile (needs CAP_SYS_RESOURCE, i.e. a host, not a container)
  oomkit.linux.oom_score_adj:
    pidfile: /run/postgresql/16-main.pid
    include_children: true
    value: -900

- name: Raise everything one user runs in one cgroup, if anything runs there
  oomkit.linux.oom_score_adj:
    user: builder
    cgroup: /sys/fs/cgroup/memory/ci
    value: 500
    missing: ok

- name: Apply the value to a running service now (persist it with oomkit.linux.systemd_oom)
  oomkit.linux.oom_score_adj:
    unit: fluent-bit.service
    value: 300
  register: live

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ live.processes | selectattr('status', 'equalto', 'changed') | map(attribute='pid') | list }}"
"""

RETURN = r"""
processes:
  description:
    - One entry per selected process, sorted by PID.
    - On failure it is also returned, with the status of each process after the rollback.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: The process ID.
      type: int
      sample: 4242
    comm:
      description: The process name (at most 15 characters).
      type: str
      sample: sleep
    cmdline:
      description: The command line, arguments joined with spaces, cut to 200 characters.
      type: str
      sample: sleep 3600
    before:
      description:
        - The value before the run. On legacy C(oom_adj) kernels, the C(oom_adj) converted to the oom_score_adj scale.
        - V(null) when the process vanished before its value was read.
      type: int
      sample: 0
    after:
      description:
        - The value after the run (in check mode, the value it would have).
        - Equal to RV(processes[].before) when the write was refused, rolled back or not made.
      type: int
      sample: 500
    oom_score:
      description:
        - The badness score read from C(/proc/PID/oom_score) at the end of the run (0..2000 on current kernels).
        - V(null) when the process has vanished.
      type: int
      sample: 1166
    interface:
      description: The file written, V(oom_score_adj), or V(oom_adj) on legacy kernels.
      type: str
      sample: oom_score_adj
    status:
      description:
        - V(changed) the value was set (in check mode, would be set). V(unchanged) it already had the value.
        - V(vanished) the process exited, or its PID was reused, before the write. Not a failure.
        - Only on failure. V(failed) means the kernel refused this process's write. V(rolled_back) means
          the process was written and then set back. V(not_applied) means its write was planned but never made.
      type: str
      choices: [changed, unchanged, vanished, failed, rolled_back, not_applied]
      sample: changed
  sample:
    - pid: 4242
      comm: sleep
      cmdline: sleep 3600
      before: 0
      after: 500
      oom_score: 1166
      interface: oom_score_adj
      status: changed
value:
  description: The value asked for.
  returned: always
  type: int
  sample: 500
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.processes import (
    OOM_SCORE_ADJ_MAX,
    OOM_SCORE_ADJ_MIN,
    SELECTOR_ARGUMENT_SPEC,
    SELECTOR_KEYS,
    diff_line,
    out_of_range,
    ProcessSelector,
    SelectorError,
    has_cap_sys_resource,
    refused_without_capability,
    legacy_warning,
    mark_unapplied,
    plan_oom_score_adj,
    process_results,
    read_pidfile,
    select_processes,
)
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ApplyError, Transaction, live_diff
from ansible_collections.oomkit.linux.plugins.module_utils.systemctl import module_runner

SELECTORS = list(SELECTOR_KEYS)

UNIT_WARNING = ("oom_score_adj of unit %s was set on its running processes only: the value is lost when "
                "the service restarts. Persist it with oomkit.linux.systemd_oom (OOMScoreAdjust=).")


def argument_spec():
    spec = dict(SELECTOR_ARGUMENT_SPEC)
    spec.update(
        value=dict(type="int", required=True),
        missing=dict(type="str", choices=["fail", "ok"], default="fail"),
    )
    return spec


def build_module():
    return AnsibleModule(
        argument_spec=argument_spec(),
        required_one_of=[SELECTORS],
        mutually_exclusive=[["pid", "pids"]],
        supports_check_mode=True,
    )


def build_diff(results):
    """One line per changed process: ``pid 4242 (sleep): 0`` before, ``...: 500`` after (the setters' one
    diff shape, reconcile.live_diff)."""
    changed = [("pid %d (%s)" % (r["pid"], r["comm"]), r["before"], r["after"]) for r in results
               if r["status"] == "changed"]
    return live_diff("oom_score_adj", changed, diff_line)


def run_module(module, fs):
    params = module.params
    value = params["value"]
    if not OOM_SCORE_ADJ_MIN <= value <= OOM_SCORE_ADJ_MAX:
        module.fail_json(msg=out_of_range(value), processes=[], value=value)
    selector = ProcessSelector.from_params(params)
    try:
        processes = select_processes(fs, selector, run_command=module_runner(module), exclude_pids=[os.getpid()])
        changes = plan_oom_score_adj(fs, processes, value)
    except (SelectorError, HostError) as err:
        module.fail_json(msg=str(err), processes=[], value=value)

    if selector.unit is not None:
        module.warn(UNIT_WARNING % selector.unit)

    if not processes:
        if params["missing"] == "fail":
            reason = "no running process matched %s" % selector.describe()
            if selector.pidfile is not None and read_pidfile(fs, selector.pidfile) is None:
                reason = "pidfile %s does not exist (%s)" % (selector.pidfile, reason)
            elif selector.cgroup is not None and selector.cgroup.startswith("/sys/fs/cgroup/") \
                    and not fs.isdir(selector.cgroup):
                reason = "cgroup %s does not exist (%s)" % (selector.cgroup, reason)
            module.fail_json(msg=reason + "; set missing=ok to accept that", processes=[], value=value)
        module.exit_json(changed=False, processes=[], value=value)

    warning = legacy_warning(processes, value)
    if warning:
        module.warn(warning)

    cap = has_cap_sys_resource(fs) if module.check_mode else None
    lowering = [c for c in changes if refused_without_capability(c.before, c.after, cap)]
    if lowering:
        module.warn("this run lacks CAP_SYS_RESOURCE: the kernel will refuse to lower %d of these process(es) "
                    "below its floor (not visible in /proc; 0 unless a privileged writer lowered it), so a real run "
                    "may fail and change nothing" % len(lowering))

    txn = Transaction(check_mode=module.check_mode)
    for change in changes:
        txn.add_live(change)

    try:
        txn.commit()
    except ApplyError as err:
        mark_unapplied(processes)
        results = process_results(fs, processes)
        still_changed = [r["pid"] for r in results if r["status"] == "changed"]
        msg = str(err)
        if still_changed:
            msg += "; these processes keep the new value: %s" % ", ".join(str(p) for p in still_changed)
        else:
            msg += "; no process was left changed"
        module.fail_json(msg=msg, changed=bool(still_changed), processes=results, value=value)

    results = process_results(fs, processes)
    changed = any(r["status"] == "changed" for r in results)
    result = dict(changed=changed, processes=results, value=value)
    if module._diff and changed:
        result["diff"] = build_diff(results)
    module.exit_json(**result)


def main():
    module = build_module()
    run_module(module, HostFS("/"))


if __name__ == "__main__":
    main()
