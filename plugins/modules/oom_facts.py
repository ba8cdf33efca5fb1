#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oom_facts
short_description: Read kernel OOM-killer events from logs, classify their cause, return them as facts
version_added: 1.1.0
author: oomkit maintainers (@oomkit)
description:
  - Reads every kernel OOM-killer report the host still has, from the journal, C(/var/log/messages*),
    C(/var/log/kern.log*), C(/var/log/syslog*) (rotated and gzip-compressed files included), the kernel
    ring buffer, or the files you name.
  - Unwraps each line whatever its log format (bare kernel text, C(dmesg), C(dmesg -T) with localised
    dates, C(dmesg -x), classic syslog with or without the kernel C([uptime]) stamp, RFC 3339 and
    RFC 5424 timestamps, the EulerOS / HCE pipe format, rsyslog C(#012) escapes, C(journalctl -k) short
    output, journald JSON export, raw C(/dev/kmsg) records). Only lines written by the kernel count;
    userspace programs that merely mention OOM never create events.
  - Assembles one event per OOM decision (tolerant of missing, extra, reordered, interleaved and
    truncated lines), derives its cause with the evidence used, and, on the live host, refines
    memory-cgroup causes with the current cgroup tree when the log lacks the cgroup paths.
  - The same kill seen in two sources (for example the journal and C(/var/log/messages)) is returned
    once, with both sources listed.
  - Returns C(ansible_facts.oom) with the events, a summary, the host's OOM configuration and kernel
    OOM counters, and per-source read statistics. Bad or unreadable log content never fails the module;
    it is reported in C(sources).
  - Streams logs in constant memory, in one process at low priority by default; a 1 GiB syslog
    takes about 1.5 times as long as C(grep -E) on it (about as long with O(workers=0) on a host
    with an idle CPU). With O(state_file), later runs only read what was appended.
options:
  sources:
    description:
      - Where to read from.
      - V(auto) reads the journal when journald runs on the host, else the default log files that exist
        plus the kernel ring buffer. With O(paths) set, V(auto) means V(files).
      - V(journal) runs C(journalctl _TRANSPORT=kernel -o json) (all boots the journal keeps).
      - V(dmesg) reads C(/dev/kmsg) (falls back to the C(dmesg) command).
      - V(files) reads O(paths), or the default log files when O(paths) is empty.
    type: list
    elements: str
    choices: [auto, journal, dmesg, files]
    default: [auto]
  paths:
    description:
      - Files or glob patterns to read with V(files), for example C(/var/log/messages*).
      - Each path at most 4095 bytes, without NUL or control characters.
      - Explicit paths may be symlinks; the default sources (no O(paths)) read only regular files and
        do not follow a symlink out of the log directories. FIFOs and devices are skipped with a message,
        never read, and no error quotes a file's content.
      - Compressed files must end in C(.gz). Rotated files are read oldest first, and the files of one
        rotated log (C(messages-20261124.gz), C(messages.1), C(messages)) as one stream, so a report
        cut in two by the rotation is one event.
    type: list
    elements: path
    default: []
  since:
    description:
      - Only return events at or after this time. Relative (V(7d), V(12h), V(30m), V(90s), V(2w)),
        ISO 8601 (V(2026-11-26T00:00:00+08:00), V(2026-11-26)), or epoch seconds.
      - Events whose log gives no time at all (bare kernel text without a boot time) are kept.
    type: str
  until:
    description:
      - Only return events at or before this time; same forms as O(since).
      - O(since) and O(until) are at most 64 characters, and no number in them has more than 12 digits.
    type: str
  max_events:
    description:
      - Return at most this many events, the newest. The summary still counts all events.
      - V(0) returns no events, only the summary. At most V(100000).
    type: int
    default: 200
  include_tasks:
    description:
      - Include the task table of each report (one dict per row, columns as the kernel printed them).
    type: bool
    default: false
  state_file:
    description:
      - Path of a JSON file that remembers how far each source was read (file identity, offset and a
        fingerprint of its head, the journal cursor, the kernel ring buffer sequence number).
      - With it, a run only returns events appended since the previous run. Rotation is detected,
        including a rotated file that was compressed.
      - A check-mode run reads the state but never writes it.
      - The file decides which kills count as already read, so it must be a regular file (not a
        symlink, not a FIFO), at most 4 MiB, owned by root or the user running the module, in a
        directory others cannot write (a sticky directory such as C(/tmp) is accepted for files the
        run owns). Otherwise the task fails naming the rule; the file is never quoted.
      - The offset recorded per file counts complete lines only; a line still being written at the
        end of the file is read again, whole, by the next run.
    type: path
  enrich:
    description:
      - When a memory-cgroup event's log lacks the cgroup paths, compare the limit that was hit with the
        limits of the live cgroup tree to tell an own limit from a parent's limit. The evidence says
        when a conclusion comes from the live tree.
    type: bool
    default: true
  gather_config:
    description:
      - Return the host's OOM configuration in C(ansible_facts.oom.config).
    type: bool
    default: true
  thorough:
    description:
      - Kept for compatibility; it changes nothing. Every file, whatever its size, is searched in one
        pass for every line that can open an event (report starts, kill lines, C(oom-kill:) summaries,
        C(Task in ... limit of) lines, no-killable and panic lines, C(memory.oom.group) and C(oom_reaper)
        lines), so a report whose kill line never reached the log is always found.
    type: bool
    default: false
  workers:
    description:
      - Processes used to scan one large (64 MiB or more) uncompressed file. One by default, since the
        module is meant to run on hosts that are short of resources, on one core.
      - V(0) (opt-in) uses 2 when this process may use two CPUs (affinity and cgroup CPU quota) and
        the tasks runnable at that moment leave one of the host's CPUs idle, else 1.
      - Extra workers write the events they find to an unlinked temporary file in C(TMPDIR) (about
        1.2 KB per OOM report), so memory does not grow with the log.
      - At most V(64).
    type: int
    default: 1
  priority:
    description:
      - V(low) reads the logs at nice 19 and in the idle I/O scheduling class (C(setpriority) and the
        C(ioprio_set) system call of the reading thread; C(journalctl) and workers inherit both), so
        the scan takes only CPU and disk time nothing else on the host wants.
      - V(normal) reads at the priority the module was started with.
      - Whatever the priority, file pages that were not in the page cache before the run (C(mincore))
        are dropped from it again once read (C(posix_fadvise(DONTNEED))); pages that were cached stay cached.
    type: str
    choices: [low, normal]
    default: low
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing on the host changes; O(state_file) is not written in check mode, and C(changed) tells that it would be.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    platforms: linux
    support: full
notes:
  - Reading the journal, C(/dev/kmsg) and the system logs usually needs root (C(become=true)).
  - A text log cannot prove that a line came from the kernel (C(logger -t kernel) forges one); every
    event lists its C(sources) so the journal and the ring buffer can be preferred.
  - Classic syslog timestamps carry no year and no zone; the year is inferred from the file's
    modification time and the zone is the host's local zone.
seealso:
  - name: OOM event schema and cause rules
    description: Every field of an event and how the cause is derived.
    link: https://github.com/oomkit/linux/blob/main/docs/oom-events.md
"""

EXAMPLES = r"""
- name: OOM events of the last 7 days from wherever the host keeps kernel logs
  oomkit.linux.oom_facts:
    since: 7d
  become: true

- name: Parse a log file copied from another host
  oomkit.linux.oom_facts:
    sources: [files]
    paths:
      - /tmp/incident/messages*
    include_tasks: true

- name: Only what is new since the last run (AWX fact cache friendly)
  oomkit.linux.oom_facts:
    sources: [journal, dmesg]
    state_file: /var/lib/oomkit/oom_facts.state
  become: true

- name: Fail when some cgroup keeps hitting its limit
  ansible.builtin.assert:
    that:
      - ansible_facts.oom.summary.by_cause.cgroup_limit | default(0) < 10
    fail_msg: "{{ ansible_facts.oom.summary.repeat_offenders }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    oom:
      description: OOM events, their summary, the host's OOM configuration and read statistics.
      returned: always
      type: dict
      contains:
        events:
          description:
            - One dict per OOM decision, oldest first, at most O(max_events) (the newest).
            - Every field is present; V(null) where the log does not say.
          returned: always
          type: list
          elements: dict
          contains:
            source:
              description: Where the event starts (file path, V(journal) or V(dmesg)).
              type: str
              sample: /var/log/messages
            sources:
              description: Every source that had this event (more than one after de-duplication).
              type: list
              elements: str
            line:
              description: 1-based line number of the first line of the event in RV(ansible_facts.oom.events[].source).
              type: int
              sample: 1204
            time:
              description: Wall-clock time of the event in ISO 8601, from the log wrapper, or from the boot time for the ring buffer.
              type: str
              sample: "2026-11-26T00:30:01.123456+08:00"
            uptime:
              description: The kernel's C([seconds]) stamp of the first line.
              type: float
              sample: 205.060898
            host:
              description: Host name from the log wrapper.
              type: str
            invoker:
              description: Command name on the C(invoked oom-killer) line (the task whose allocation failed).
              type: str
              sample: python3
            invoker_pid:
              description: PID of the invoker, from the C(CPU:) line of the stack dump.
              type: int
            gfp_mask:
              description: Allocation flags as printed.
              type: str
              sample: "0xcc0"
            gfp_flags:
              description: Symbolic allocation flags as printed.
              type: str
              sample: GFP_KERNEL
            order:
              description: Allocation order (2^order pages).
              type: int
            oom_score_adj:
              description: The invoker's oom_score_adj on the invoked line.
              type: int
            constraint:
              description: C(CONSTRAINT_NONE), C(CONSTRAINT_MEMCG), C(CONSTRAINT_CPUSET) or C(CONSTRAINT_MEMORY_POLICY) from the C(oom-kill:) line.
              type: str
            nodemask:
              description: Node mask of the allocation.
              type: str
            cpuset:
              description: Cpuset of the invoker.
              type: str
            mems_allowed:
              description: Memory nodes the invoker may use.
              type: str
            killed_pid:
              description: The victim's PID (kill line, else C(oom-kill:) line, else the selection line, else the reaper line).
              type: int
            killed_comm:
              description: The victim's command name.
              type: str
            total_vm_kb:
              description: Victim's virtual size in kB.
              type: int
            anon_rss_kb:
              description: Victim's anonymous resident memory in kB.
              type: int
            file_rss_kb:
              description: Victim's file-backed resident memory in kB.
              type: int
            shmem_rss_kb:
              description: Victim's shared-memory resident memory in kB.
              type: int
            pgtables_kb:
              description: Victim's page tables in kB.
              type: int
            killed_uid:
              description: Victim's UID.
              type: int
            killed_oom_score_adj:
              description: Victim's oom_score_adj (kill line, else its row in the task table).
              type: int
            memcg:
              description: The cgroup whose limit was hit (C(oom_memcg=), C(limit of), the first C(Memory cgroup stats for), or the live tree).
              type: str
            task_memcg:
              description: The victim's cgroup (C(task_memcg=) or C(Task in)).
              type: str
            memcg_usage_kb:
              description: Usage of the cgroup from the C(memory usage) line, in kB.
              type: int
            memcg_limit_kb:
              description: Limit of the cgroup from the C(memory usage) line, in kB.
              type: int
            failcnt:
              description: Limit hit counter from the C(memory usage) line.
              type: int
            memsw_usage_kb:
              description: Memory+swap usage (cgroup v1 C(memory+swap) or v2 C(swap) line), in kB.
              type: int
            memsw_limit_kb:
              description: Memory+swap limit, in kB.
              type: int
            cause:
              description: Why the OOM happened.
              type: str
              choices: [cgroup_limit, parent_cgroup_limit, system_memory, numa_node_or_policy, cpuset, fragmentation, manual, unknown]
            confidence:
              description: V(high) when the log proves the cause, V(medium) when a part is inferred or cannot be excluded, V(low) for fragments.
              type: str
              choices: [high, medium, low]
            evidence:
              description: Short statements of the facts the cause was derived from.
              type: list
              elements: str
            evidence_lines:
              description:
                - Line numbers (in RV(ansible_facts.oom.events[].source)) of the lines the event and its cause rest on
                  (invoked, C(oom-kill:), C(memory usage), C(Task in), kill, panic lines, ...).
              type: list
              elements: int
            sysrq:
              description:
                - V(true) for a manual OOM kill asked for with sysrq f (C(order=-1) on the invoked line); its cause
                  is V(manual).
              type: bool
            verified:
              description:
                - V(true) when the kernel's own record of this host (the journal's C(_TRANSPORT=kernel) records or
                  the ring buffer, O(sources=journal) or O(sources=dmesg)) has the event.
                - V(false) when that record was read, covers the event's time and host, and lacks it; such a text-log
                  line tagged C(kernel) was never printed by the kernel (for example C(logger -t kernel)).
                - V(null) when only text logs were read, or the event is older than the kernel's record or from
                  another host. Findings of the diagnosis report never rest on unverified events alone.
              type: bool
            oom_group:
              description: V(true) when the cgroup's memory.oom.group killed all its tasks.
              type: bool
            group_killed:
              description:
                - Further processes killed with the victim by memory.oom.group (C(pid), C(comm)). The whole group
                  kill is one event (one OOM decision); the victim is RV(ansible_facts.oom.events[].killed_pid).
              type: list
              elements: dict
            reaped:
              description: V(true) when the oom_reaper line for the victim was seen.
              type: bool
            panic:
              description: V(true) when the kernel panicked on this OOM.
              type: bool
            no_killable:
              description: V(true) when the kernel found no killable process.
              type: bool
            nodes_below_min:
              description: NUMA nodes whose free memory was below the min watermark in the report.
              type: list
              elements: int
            extra:
              description: Fields the kernel printed that have no field of their own (kept, never dropped).
              type: dict
            tasks:
              description: The task table rows (only with O(include_tasks)).
              type: list
              elements: dict
        userspace_events:
          description:
            - Kills by userspace OOM killers (systemd-oomd, earlyoom, nohang), oldest first, at most O(max_events).
              They are not kernel OOM kills and never appear in RV(ansible_facts.oom.events) or its counts.
            - Read from text logs (lines of those programs, or untagged lines of their shape) and from the journal
              (their C(SYSLOG_IDENTIFIER)).
          returned: always
          type: list
          elements: dict
          contains:
            killer:
              description: The daemon that killed.
              type: str
              choices: [systemd-oomd, earlyoom, nohang]
            victim_pid:
              description: PID of the killed process (earlyoom, nohang); V(null) for systemd-oomd, which kills cgroups.
              type: int
            victim_comm:
              description: Name of the killed process, as the daemon printed it.
              type: str
            cgroup:
              description: The killed cgroup (systemd-oomd) or the victim's cgroup (nohang).
              type: str
            unit:
              description: The systemd unit of RV(ansible_facts.oom.userspace_events[].cgroup), when it names one.
              type: str
            reason:
              description: Why it killed, for example V(memory_pressure), V(swap), V(low_memory_and_swap), V(pressure).
              type: str
            signal:
              description: Signal sent (V(SIGTERM), V(SIGKILL)); systemd-oomd always kills.
              type: str
            detail:
              description: The rest of the daemon's message (thresholds, pressure, badness, RSS).
              type: str
            time:
              description: Wall-clock time from the log wrapper (ISO 8601).
              type: str
            host:
              description: Host name from the wrapper.
              type: str
            source:
              description: Where the line was read.
              type: str
            sources:
              description: Every source that had it.
              type: list
              elements: str
            line:
              description: Line number of the kill line in RV(ansible_facts.oom.userspace_events[].source).
              type: int
        summary:
          description: Counts over all events found (not only the returned ones).
          returned: always
          type: dict
          contains:
            total:
              description: Events found after de-duplication and time filtering.
              type: int
            returned:
              description: Events returned in C(events).
              type: int
            duplicates:
              description: Events dropped because another source had them.
              type: int
            filtered_by_time:
              description: Events outside O(since)/O(until).
              type: int
            by_cause:
              description: Event count per cause.
              type: dict
            by_killed_process:
              description: Event count per victim command name.
              type: dict
            by_cgroup:
              description: Event count per cgroup (the limit holder, else the victim's cgroup).
              type: dict
            by_source:
              description: Event count per source.
              type: dict
            first:
              description: Time of the oldest event with a time.
              type: str
            last:
              description: Time of the newest event with a time.
              type: str
            repeat_offenders:
              description: Processes and cgroups involved in two or more events (C(type), C(name), C(count)), most frequent first.
              type: list
              elements: dict
            userspace_total:
              description: Kills by userspace OOM killers found (RV(ansible_facts.oom.userspace_events) holds the newest).
              type: int
            unverified:
              description: Returned events with RV(ansible_facts.oom.events[].verified=false).
              type: int
        config:
          description: The host's OOM configuration now (V(null) with O(gather_config=false)).
          returned: always
          type: dict
          contains:
            kernel:
              description: Kernel release.
              type: str
            sysctl:
              description:
                - OOM-related C(vm.*) sysctls present on the host (C(vm.panic_on_oom), C(vm.oom_kill_allocating_task),
                  C(vm.oom_dump_tasks), overcommit, min_free_kbytes, swappiness...).
              type: dict
            cgroup_version:
              description: V(v1), V(v2), V(hybrid) or V(null).
              type: str
            memory_cgroup_version:
              description: Hierarchy of the memory controller, V(v1) or V(v2).
              type: str
            memory_cgroup_root:
              description: Mount point of the memory controller.
              type: str
            vmstat_oom_kill:
              description: C(oom_kill) from C(/proc/vmstat) (kills since boot, kernel 4.13+).
              type: int
            mem_total_kb:
              description: MemTotal.
              type: int
            swap_total_kb:
              description: SwapTotal.
              type: int
            mem_available_kb:
              description: MemAvailable (what the diagnosis's hardening proposal counts as room for a raised limit).
              type: int
            cgroups_with_oom:
              description: Memory cgroups with non-zero OOM counters (v1 C(memory.oom_control), v2 C(memory.events)), with their limit.
              type: list
              elements: dict
            cgroups_truncated:
              description: V(true) when the cgroup walk stopped at its bound.
              type: bool
        sources:
          description: One dict per source read, with read statistics.
          returned: always
          type: list
          elements: dict
          contains:
            name:
              description: File path, V(journal) or V(dmesg).
              type: str
            type:
              description: V(file), V(journal) or V(dmesg).
              type: str
            status:
              description:
                - V(ok), V(partial), V(missing), V(unreadable), V(unavailable), V(failed), or V(skipped)
                  (not a regular file, a symlink out of the log directories, or replaced while being opened).
              type: str
            bytes:
              description: Bytes read in this run.
              type: int
            lines:
              description: Lines read in this run.
              type: int
            skipped:
              description: Lines looked at and ignored (userspace programs, over-long lines).
              type: int
            errors:
              description: Read or parse errors.
              type: int
            events:
              description: Events this source produced (before de-duplication).
              type: int
            start_offset:
              description: Offset where reading started (non-zero in incremental runs).
              type: int
            incremental:
              description: V(true) when the run resumed from O(state_file).
              type: bool
            workers:
              description:
                - Processes that scanned this source (more than 1 only for a large uncompressed file, see O(workers)).
              type: int
            messages:
              description: Human-readable notes (errors, rotation detected, ...).
              type: list
              elements: str
state_written:
  description: Whether O(state_file) was updated (the module then reports C(changed)).
  returned: always
  type: bool
priority:
  description: The priority the logs were read at (see O(priority)).
  returned: always
  type: dict
  contains:
    requested:
      description: O(priority) as given.
      type: str
    applied:
      description: What was lowered for the scan, C(nice) and C(ioprio) (empty with V(normal)).
      type: list
      elements: str
    messages:
      description: Why something could not be lowered (an unknown machine for the C(ioprio_set) call, a refusal).
      type: list
      elements: str
sources_used:
  description: The sources actually read after resolving V(auto).
  returned: always
  type: list
  elements: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError
from ansible_collections.oomkit.linux.plugins.module_utils.inputs import InputError, check_path, check_text
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather

# Bounds of the options (documented in DOCUMENTATION); beyond them the task fails naming the option.
MAX_EVENTS_LIMIT = 100000
WORKERS_LIMIT = 64
TIME_TEXT_LIMIT = 64
TIME_DIGITS_LIMIT = 12


def check_options(p):
    """Refuse values beyond the documented bounds before anything is read."""
    if not 0 <= p['max_events'] <= MAX_EVENTS_LIMIT:
        raise InputError('max_events: %d is out of range (allowed: 0..%d)' % (p['max_events'], MAX_EVENTS_LIMIT))
    if not 0 <= p['workers'] <= WORKERS_LIMIT:
        raise InputError('workers: %d is out of range (allowed: 0..%d)' % (p['workers'], WORKERS_LIMIT))
    for option in ('since', 'until'):
        if p[option] is not None:
            check_text(option, p[option], max_bytes=TIME_TEXT_LIMIT)
            longest = max([len(d) for d in re.findall(r'[0-9]+', p[option])] or [0])
            if longest > TIME_DIGITS_LIMIT:
                raise InputError('%s: a number of %d digits is out of range (at most %d digits: epoch seconds or '
                                 'a span such as 7d)' % (option, longest, TIME_DIGITS_LIMIT))
    check_path('state_file', p['state_file'])
    for path in p['paths']:
        check_path('paths', path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type='list', elements='str', default=['auto'], choices=['auto', 'journal', 'dmesg', 'files']),
            paths=dict(type='list', elements='path', default=[]),
            since=dict(type='str'),
            until=dict(type='str'),
            max_events=dict(type='int', default=200),
            include_tasks=dict(type='bool', default=False),
            state_file=dict(type='path'),
            enrich=dict(type='bool', default=True),
            gather_config=dict(type='bool', default=True),
            workers=dict(type='int', default=1),
            priority=dict(type='str', default='low', choices=['low', 'normal']),
            thorough=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_options(p)
    except InputError as e:
        module.fail_json(msg=str(e))
    try:
        result = gather(
            sources=p['sources'], paths=p['paths'], since=p['since'], until=p['until'],
            max_events=p['max_events'], include_tasks=p['include_tasks'], state_file=p['state_file'],
            update_state=not module.check_mode, enrich=p['enrich'], config=p['gather_config'],
            # thorough is a documented no-op: not passed on
            workers=p['workers'] or None, priority=p['priority'],
        )
    except HostError as e:
        module.fail_json(msg=str(e))
    except ValueError as e:
        module.fail_json(msg=str(e))
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot write state_file %s: %s' % (p['state_file'], e))
    for warning in result.get('warnings') or []:
        module.warn(warning)
    facts = {'oom': {
        'events': result['events'],
        'userspace_events': result['userspace_events'],
        'summary': result['summary'],
        'config': result['config'],
        'sources': result['sources'],
    }}
    # Writing the state file is the one change this module makes; check mode predicts it (a given
    # state_file is always rewritten) without writing.
    changed = bool(result['state_written'] or (module.check_mode and p['state_file']))
    module.exit_json(changed=changed, ansible_facts=facts, state_written=result['state_written'],
                     sources_used=result['sources_used'], priority=result['priority'])


if __name__ == '__main__':
    main()
