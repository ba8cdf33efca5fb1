# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconcile loop shared by every setter module.

Each module reads the current state of its knobs, computes the wanted state and hands the
differences to a Transaction. A knob can live in two layers, as firewalld's "immediate" and
"permanent" configurations do:

* the live layer: kernel files written value by value (``/proc/sys``, ``/proc/PID``, cgroup
  files). Each LiveChange knows how to undo itself, so a failure part-way rolls back what this
  run already wrote.
* the persisted layer: files we own (a sysctl.d drop-in, a systemd drop-in), planned as whole
  texts and replaced atomically.

The transaction applies live changes in the order given (modules order them when the kernel
cares, e.g. cgroup v1 limit vs memsw limit), then writes files; if a file write fails, the live
changes are rolled back too, so a failed run leaves the host as it was. In check mode nothing is
applied and the plan is the prediction.
"""

from __future__ import annotations

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError


class LiveChange(object):
    """One write on the live layer: ``apply()`` makes it, ``undo()`` (optional) reverts it."""

    def __init__(self, key, before, after, apply, undo=None):
        self.key = key
        self.before = before
        self.after = after
        self.apply = apply
        self.undo = undo


class ManagedFile(object):
    """A whole file whose wanted text a module computes; written only when the text differs."""

    def __init__(self, fs, path, label=None):
        self.fs = fs
        self.path = path
        self.label = label or path
        self.before = fs.read_optional(path)
        self.after = self.before
        self.delete = False
        self.backup_file = None

    def plan(self, text):
        """Want ``text`` as the file content; None means the file should not exist."""
        self.delete = text is None
        self.after = text

    @property
    def changed(self):
        return self.before != self.after

    def diff(self):
        return {
            "before_header": self.label,
            "after_header": self.label,
            "before": self.before or "",
            "after": self.after or "",
        }

    def write(self, backup=False):
        if not self.changed:
            return
        if backup and self.before is not None:
            self.backup_file = self.fs.backup(self.path, _timestamp())
        if self.delete:
            self.fs.remove(self.path)
        else:
            self.fs.replace_file(self.path, self.after)


class ApplyError(HostError):
    """A live or file write failed; ``rolled_back`` lists the keys restored, ``rollback_errors``
    what could not be restored (the host may then differ from its start: the message says so)."""

    def __init__(self, message, key=None, rolled_back=None, rollback_errors=None, path=None, errno_value=None):
        super(ApplyError, self).__init__(message, path=path, errno_value=errno_value)
        self.key = key
        self.rolled_back = rolled_back or []
        self.rollback_errors = rollback_errors or []


class Transaction(object):
    """Apply planned live changes and file replacements together, or not at all."""

    def __init__(self, check_mode=False, backup=False):
        self.check_mode = check_mode
        self.backup = backup
        self.live_changes = []
        self.files = []
        self.applied = []

    def add_live(self, change):
        self.live_changes.append(change)

    def add_file(self, managed_file):
        self.files.append(managed_file)

    @property
    def changed(self):
        return bool(self.live_changes) or any(f.changed for f in self.files)

    def diffs(self, live_header="live", render=None):
        """Diff entries for Ansible: one for the live values (rendered ``key = value``), one per file."""
        result = []
        if self.live_changes:
            render = render or (lambda key, value: "%s = %s\n" % (key, value))
            result.append({
                "before_header": live_header,
                "after_header": live_header,
                "before": "".join(render(c.key, c.before) for c in self.live_changes),
                "after": "".join(render(c.key, c.after) for c in self.live_changes),
            })
        result.extend(f.diff() for f in self.files if f.changed)
        return result

    def commit(self):
        """Apply everything. On failure roll back the live writes made so far and raise ApplyError."""
        if self.check_mode:
            return
        for change in self.live_changes:
            try:
                change.apply()
            except HostError as err:
                self._fail("%s: %s" % (change.key, err), change.key, err)
            self.applied.append(change)
        for managed_file in self.files:
            try:
                managed_file.write(backup=self.backup)
            except HostError as err:
                self._fail(str(err), managed_file.path, err)

    def _fail(self, message, key, cause):
        rolled_back, rollback_errors = self.rollback()
        if rolled_back:
            message += "; rolled back the changes already made to: %s" % ", ".join(rolled_back)
        if rollback_errors:
            message += "; COULD NOT roll back: %s" % "; ".join(rollback_errors)
        raise ApplyError(message, key=key, rolled_back=rolled_back, rollback_errors=rollback_errors,
                         path=getattr(cause, "path", None), errno_value=getattr(cause, "errno", None))

    def rollback(self):
        rolled_back, errors = [], []
        for change in reversed(self.applied):
            if change.undo is None:
                continue
            try:
                change.undo()
                rolled_back.append(change.key)
            except HostError as err:
                errors.append("%s: %s" % (change.key, err))
        self.applied = []
        return rolled_back, errors


def _timestamp():
    import time
    return time.strftime("%Y-%m-%d@%H:%M:%S")
