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
cares, e.g. cgroup v1 limit vs memsw limit), then writes files, then runs its steps (a ``Step``:
systemd's daemon-reload); if anything fails, what this run already did is undone in reverse
(live values written back, files restored, a file's own directory removed again), and steps that
must see the restored files run again, so a failed run leaves the host as it was. ``commit()``
may be called again after more changes were added (live writes planned from what a step made
systemd report): it applies only the new ones, and a failure then rolls back the whole run.

A live change added with ``may_be_refused=True`` (a write the kernel may refuse for want of a
capability) that is refused with EACCES or EPERM is not a failure: it lands in ``refused`` with
the reason, and the module reports it. In check mode nothing is applied and the plan is the
prediction. ``diffs()`` is the one diff shape of every setter: a labelled entry for the live
values, then one entry per file.

Every live write is read back the same way: a LiveChange with ``read_back`` is compared, right
after its write, with what the kernel should store (``expected``). cgroup files and oom_score_adj
(oomkit.linux.cgroup_memory, oom_score_adj, systemd_oom's live writes) fail the run on a difference;
sysctls report it (``adjusted``: the kernel may keep another value on purpose).
"""

from __future__ import annotations

import errno

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError

_REFUSED = (errno.EACCES, errno.EPERM)


# What a live change's read-back does when the kernel holds another value than the one expected:
# fail the run (and roll back), or keep the value and report it (the kernel adjusted it on purpose).
READ_BACK_FAIL = "fail"
READ_BACK_REPORT = "report"
# read_back() returns VANISHED when there is nothing left to compare (the process exited)
VANISHED = object()
_AS_PLANNED = object()


class LiveChange(object):
    """One write on the live layer: ``apply()`` makes it, ``undo()`` (optional) reverts it.

    ``read_back()`` (optional) returns what the kernel holds after the write, compared with
    ``expected`` (default ``after``; a cgroup rounds sizes to pages): the one read-back of every
    setter. On a difference, ``on_mismatch`` decides: READ_BACK_FAIL fails the transaction (the
    message names ``where``, default the key, and both values through ``render``),
    READ_BACK_REPORT keeps the value and records it in ``Transaction.adjusted``. ``read_back()``
    returns VANISHED when there is nothing left to compare (the process exited)."""

    def __init__(self, key, before, after, apply, undo=None, read_back=None, expected=_AS_PLANNED,
                 on_mismatch=READ_BACK_FAIL, render=str, where=None):
        self.key = key
        self.before = before
        self.after = after
        self.apply = apply
        self.undo = undo
        self.read_back = read_back
        self.expected = after if expected is _AS_PLANNED else expected
        self.on_mismatch = on_mismatch
        self.render = render
        self.where = where or key
        self.read_value = VANISHED   # what the read-back found (VANISHED: none made, or nothing to read)


class Step(object):
    """An action after the files are written (systemd's daemon-reload). ``apply()`` raises HostError on
    failure; ``undo()`` (optional) reverts it; ``rerun_after_rollback`` runs ``apply()`` once more after
    a rollback restored the files (a daemon-reload then makes systemd read the restored files)."""

    def __init__(self, key, apply, undo=None, rerun_after_rollback=False):
        self.key = key
        self.apply = apply
        self.undo = undo
        self.rerun_after_rollback = rerun_after_rollback


class ManagedFile(object):
    """A whole file whose wanted text a module computes; written only when the text differs.

    The rules, for sysctl.d files and systemd drop-ins alike:

    * the text is read as bytes and kept with surrogateescape: foreign bytes (Latin-1 comments)
      are written back exactly as they were; the file must be a regular file of bounded size;
    * a symlink stays a symlink: the new text goes to the file it points to, atomically;
    * the read-modify-write holds an ``fcntl.flock`` lock on a lock file beside the target:
      ``plan()`` takes a function of the current text, which ``write()`` runs again under the
      lock when another run changed the file since it was read, so concurrent runs each keep
      the other's lines instead of the last one winning;
    * a backup never overwrites another backup.
    """

    def __init__(self, fs, path, label=None):
        self.fs = fs
        self.path = path
        self.label = label or path
        self.before = fs.read_config(path)
        self.after = self.before
        self.delete = False
        self.backup_file = None
        self._planner = None

    def plan(self, text):
        """Want ``text`` as the file content; None means the file should not exist.

        ``text`` may be a function of the current text (None when the file does not exist)
        returning the wanted text: it is applied to what was read now, and once more under the
        lock at write time if the file changed in between.
        """
        if callable(text):
            self._planner = text
            text = text(self.before)
        else:
            self._planner = None
        self.delete = text is None
        self.after = text

    @property
    def changed(self):
        return self.before != self.after

    def diff(self):
        return {
            "before_header": self.label,
            "after_header": self.label,
            "before": printable(self.before or ""),
            "after": printable(self.after or ""),
        }

    def write(self, backup=False):
        if not self.changed:
            return
        directory = self.fs.target(self.path).rsplit("/", 1)[0] or "/"
        if not self.delete and not self.fs.isdir(directory):
            # a minimal image may lack /etc/sysctl.d or a unit's drop-in directory
            self.fs.makedirs(directory)
        with self.fs.lock(self.path):
            current = self.fs.read_config(self.path)
            if current != self.before:
                if self._planner is None:
                    raise HostError("%s was changed by someone else while this run planned its edit; nothing "
                                    "was written, run again" % self.path, path=self.path)
                self.before = current
                self.after = self._planner(current)
                self.delete = self.after is None
                if not self.changed:
                    return
            if backup and self.before is not None:
                self.backup_file = self.fs.backup(self.fs.target(self.path))
            if self.delete:
                self.fs.remove(self.path)
            else:
                self.fs.replace_file(self.path, self.after)

    def restore(self):
        """Put the text from before the write back (a rollback), or remove a file that did not exist."""
        if self.before is None:
            if self.fs.exists(self.path):
                self.fs.remove(self.path)
        else:
            self.fs.replace_file(self.path, self.before)


def printable(text):
    """Text for Ansible's output (diffs, messages): bytes that are not UTF-8 shown as U+FFFD.

    The file itself keeps them; only what is shown replaces them.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class DirectoryFile(ManagedFile):
    """A ManagedFile that owns its directory (a systemd drop-in directory ``UNIT.d``): created for the
    write when missing, removed with the file when nothing else is left in it, and removed again when
    a rollback restores a file that did not exist."""

    def __init__(self, fs, path, label=None):
        super(DirectoryFile, self).__init__(fs, path, label)
        self.directory = path.rsplit("/", 1)[0] or "/"
        self.created_directory = False

    def write(self, backup=False):
        if self.changed and not self.delete and not self.fs.isdir(self.directory):
            self.fs.makedirs(self.directory)
            self.created_directory = True
        try:
            super(DirectoryFile, self).write(backup=backup)
        except HostError:
            self._drop_directory(created_only=True)
            raise
        if self.changed and self.delete:
            self._drop_directory(created_only=False)

    def restore(self):
        if self.before is not None and not self.fs.isdir(self.directory):
            self.fs.makedirs(self.directory)
        super(DirectoryFile, self).restore()
        if self.before is None:
            self._drop_directory(created_only=True)

    def _drop_directory(self, created_only):
        if created_only and not self.created_directory:
            return
        try:
            if self.fs.isdir(self.directory) and not self.fs.listdir(self.directory):
                self.fs.rmdir(self.directory)
        except HostError:
            pass  # not empty after all, or already gone: nothing of ours is left in it


class ApplyError(HostError):
    """A live or file write failed; ``rolled_back`` lists the keys restored, ``rollback_errors``
    what could not be restored (the host may then differ from its start: the message says so)."""

    def __init__(self, message, key=None, rolled_back=None, rollback_errors=None, path=None, errno_value=None):
        super(ApplyError, self).__init__(message, path=path, errno_value=errno_value)
        self.key = key
        self.rolled_back = rolled_back or []
        self.rollback_errors = rollback_errors or []


def key_equals_value(key, value):
    """``vm.panic_on_oom = 0``: live values in the syntax of their persisted file (sysctl.d)."""
    return "%s = %s\n" % (key, value)


def key_colon_value(key, value):
    """``max: 64M (67108864)``, ``pid 4242 (sleep): -900``: live values that have no file syntax."""
    return "%s: %s\n" % (key, value)


def live_diff(header, changes, render=None):
    """The diff entry of live changes, ``[(key, before, after)]``, under ``header`` (one line per key,
    ``key_equals_value`` unless ``render(key, value)`` says otherwise): the one shape of every setter."""
    render = render or key_equals_value
    return {
        "before_header": header,
        "after_header": header,
        "before": "".join(render(key, before) for key, before, _after in changes),
        "after": "".join(render(key, after) for key, _before, after in changes),
    }


class Transaction(object):
    """Apply planned live changes, file replacements and steps together, or not at all."""

    def __init__(self, check_mode=False, backup=False):
        self.check_mode = check_mode
        self.backup = backup
        self.live_changes = []
        self.files = []
        self.steps = []
        self.applied = []        # live changes applied (kept for the callers that read it)
        self.refused = []        # (change, reason) of the live writes the kernel refused
        self.adjusted = []       # (change, value read back) of writes the kernel kept otherwise (READ_BACK_REPORT)
        self._optional = set()   # ids of the live changes that may be refused
        self._history = []       # ("live" | "file" | "step", item) in the order applied
        self._done = {"live": 0, "file": 0, "step": 0}

    def add_live(self, change, may_be_refused=False):
        self.live_changes.append(change)
        if may_be_refused:
            self._optional.add(id(change))

    def add_file(self, managed_file):
        self.files.append(managed_file)

    def add_step(self, step):
        self.steps.append(step)

    @property
    def changed(self):
        return bool(self.live_changes) or any(f.changed for f in self.files)

    def diffs(self, live_header="live", render=None, files_first=False):
        """Diff entries for Ansible: one for the live values (rendered ``key = value``, the changes the
        kernel refused left out), one per changed file; ``files_first`` where the file is the primary
        layer (a systemd drop-in)."""
        result = []
        refused = set(id(change) for change, _reason in self.refused)
        live = [c for c in self.live_changes if id(c) not in refused]
        if live:
            result.append(live_diff(live_header, [(c.key, c.before, c.after) for c in live], render))
        files = [f.diff() for f in self.files if f.changed]
        return files + result if files_first else result + files

    def commit(self):
        """Apply what was added since the last commit. On failure roll back everything this transaction
        applied and raise ApplyError."""
        if self.check_mode:
            return
        for change in self.live_changes[self._done["live"]:]:
            self._done["live"] += 1
            try:
                change.apply()
            except HostError as err:
                if id(change) in self._optional and getattr(err, "errno", None) in _REFUSED:
                    self.refused.append((change, str(err)))
                    continue
                self._fail("%s: %s" % (change.key, err), change.key, err)
            self.applied.append(change)
            self._history.append(("live", change))
            self._read_back(change)
        for managed_file in self.files[self._done["file"]:]:
            self._done["file"] += 1
            try:
                managed_file.write(backup=self.backup)
            except HostError as err:
                self._fail(str(err), managed_file.path, err)
            if managed_file.changed:
                self._history.append(("file", managed_file))
        for step in self.steps[self._done["step"]:]:
            self._done["step"] += 1
            try:
                step.apply()
            except HostError as err:
                self._fail("%s: %s" % (step.key, err), step.key, err)
            self._history.append(("step", step))

    def _read_back(self, change):
        if change.read_back is None:
            return
        try:
            got = change.read_back()
        except HostError as err:
            self._fail("%s: cannot read back the value written: %s" % (change.key, err), change.key, err)
        change.read_value = got
        if got is VANISHED or got == change.expected:
            return
        if change.on_mismatch == READ_BACK_REPORT:
            self.adjusted.append((change, got))
            return
        wrote, found = change.render(change.expected), change.render(got)
        err = HostError("%s: wrote %s but the kernel reports %s" % (change.where, wrote, found))
        self._fail(str(err), change.key, err)

    def _fail(self, message, key, cause):
        rolled_back, rollback_errors = self.rollback()
        if rolled_back:
            message += "; rolled back the changes already made to: %s" % ", ".join(rolled_back)
        if rollback_errors:
            message += "; COULD NOT roll back: %s" % "; ".join(rollback_errors)
        raise ApplyError(message, key=key, rolled_back=rolled_back, rollback_errors=rollback_errors,
                         path=getattr(cause, "path", None), errno_value=getattr(cause, "errno", None))

    def rollback(self):
        """Undo, newest first, what this transaction applied; then rerun the steps that must see the
        restored files. Returns (keys rolled back, errors)."""
        rolled_back, errors, rerun = [], [], []
        for kind, item in reversed(self._history):
            try:
                if kind == "file":
                    item.restore()
                    rolled_back.append(item.path)
                    continue
                if kind == "step" and item.rerun_after_rollback:
                    rerun.insert(0, item)
                if item.undo is None:
                    continue
                item.undo()
                rolled_back.append(item.key)
            except HostError as err:
                errors.append("%s: %s" % (getattr(item, "key", None) or item.path, err))
        if any(kind == "file" for kind, _item in self._history):
            for step in rerun:
                try:
                    step.apply()
                    rolled_back.append("%s again" % step.key)
                except HostError as err:
                    errors.append("%s after the rollback: %s" % (step.key, err))
        self.applied = []
        self._history = []
        return rolled_back, errors
