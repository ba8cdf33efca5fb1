# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd drop-in files: parsing and rendering unit-file text (only our settings change, every other
line is kept), where drop-ins live and which one wins. Sits on the settings table
(``systemd_settings``); pure Python, no Ansible, nothing runs a command.
"""

from __future__ import annotations

from ansible_collections.oomkit.linux.plugins.module_utils.systemd_settings import _OPTION_ORDER, DIRECTIVES


# ---------------------------------------------------------------------------------------------
# Drop-in files
# ---------------------------------------------------------------------------------------------

HEADER = ("# Managed by oomkit.linux.systemd_oom: OOM and memory settings for %s.\n"
          "# Local changes to the settings below are overwritten; other lines are kept.\n")
_HEADER_PREFIX = "# Managed by oomkit.linux.systemd_oom"
_HEADER_SECOND = "# Local changes to the settings below are overwritten"


def parse_unit_file(text):
    """Parse unit-file text into ``[(section or None, [entry, ...]), ...]``.

    An entry is ``(key, value, raw)`` for an assignment and ``(None, None, raw)`` for comments
    and blank lines. Continuation lines (trailing backslash) are joined into one entry.
    """
    sections = [(None, [])]
    pending = []
    # lines end at "\n" only: a form feed or U+2028 in a comment does not start a new line
    lines = (text or "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for raw in lines:
        if pending:
            pending.append(raw)
            if raw.endswith("\\"):
                continue
            joined = "\n".join(pending)
            pending = []
            _add_line(sections, _join_continuation(joined), joined)
            continue
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1].strip(), []))
            continue
        if raw.endswith("\\") and not stripped.startswith(("#", ";")):
            pending = [raw]
            continue
        _add_line(sections, raw, raw)
    if pending:
        joined = "\n".join(pending)
        _add_line(sections, _join_continuation(joined), joined)
    return sections


def _join_continuation(raw):
    parts = raw.split("\n")
    return " ".join(p[:-1] if p.endswith("\\") else p for p in parts)


def _add_line(sections, logical, raw):
    stripped = logical.strip()
    if not stripped or stripped.startswith(("#", ";")) or "=" not in stripped:
        sections[-1][1].append((None, None, raw))
        return
    key, value = stripped.split("=", 1)
    sections[-1][1].append((key.strip(), value.strip(), raw))


def dropin_assignments(text):
    """``{directive: value text}`` of the settings we know in a drop-in (last assignment wins)."""
    result = {}
    for _section, entries in parse_unit_file(text):
        for key, value, _raw in entries:
            if key in DIRECTIVES:
                result[key] = value
    return result


def current_settings(text, section):
    """Settings of ours found in ``section`` of our drop-in: ``{option: (directive, canonical or None, text)}``."""
    result = {}
    for name, entries in parse_unit_file(text):
        if name != section:
            continue
        for key, value, _raw in entries:
            setting = DIRECTIVES.get(key)
            if setting is None:
                continue
            if value == "":
                result.pop(setting.option, None)
                continue
            result[setting.option] = (key, setting.parse_file_value(value), value)
    return result


def render_dropin(existing, unit, section, managed, remove_options=(), foreign=None):
    """The drop-in text with ``managed`` ``[(directive, value text)]`` as the settings of ``section``.

    Ours are the settings we manage: the non-empty assignments of directives in DIRECTIVES in
    ``section``. They are replaced by ``managed`` (in table order, first in the section, so that
    tasks managing different subsets of one drop-in produce the same text whatever order they ran
    in); those of options in ``remove_options`` are dropped. Everything else is foreign and kept
    verbatim, in place: comments, other directives, other sections, and reset lines (an empty
    assignment such as ``MemoryMax=``, which makes systemd forget the value set before it). When a
    kept reset line is for an option we set, our settings go after it, so that the reset cannot
    cancel them. ``foreign`` (a list) receives the foreign lines that are not blank.

    Returns None when nothing but our header would remain, which means: no file.
    """
    sections = parse_unit_file(existing)
    managed_options = set(DIRECTIVES[d].option for d, _v in managed)
    drop = managed_options | set(remove_options)
    out_sections = []
    found = False
    ours_left = False
    kept_foreign = []
    for name, entries in sections:
        kept = []
        ours = dict((DIRECTIVES[d].option, (d, v)) for d, v in managed)
        last_reset = -1
        for key, value, raw in entries:
            if raw.startswith(_HEADER_PREFIX) or raw.startswith(_HEADER_SECOND):
                continue
            if name == section and key in DIRECTIVES and value != "":
                option = DIRECTIVES[key].option
                if option not in drop:
                    ours[option] = (key, value)
                continue
            if name == section and key in DIRECTIVES and DIRECTIVES[key].option in managed_options:
                last_reset = len(kept)  # a reset of an option we set: ours must come after it
            kept.append(raw)
            if raw.strip():
                kept_foreign.append(raw)
        if name == section:
            found = True
            block = ["%s=%s" % ours[o] for o in _OPTION_ORDER if o in ours]
            ours_left = ours_left or bool(block)
            kept = kept[:last_reset + 1] + block + kept[last_reset + 1:]
        out_sections.append((name, kept))
    if not found and managed:
        ours = dict((DIRECTIVES[d].option, (d, v)) for d, v in managed)
        out_sections.append((section, ["%s=%s" % ours[o] for o in _OPTION_ORDER if o in ours]))
        ours_left = True
    if foreign is not None:
        foreign.extend(kept_foreign)
    has_content = any(any(line.strip() for line in lines) for _name, lines in out_sections)
    if not has_content:
        return None
    # with no setting of ours left (state=absent), the file is the admin's: no header of ours
    text = HEADER % unit if ours_left else ""
    for name, lines in out_sections:
        # Drop blank lines at the edges so re-rendering is a fixpoint.
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        if name is None:
            while lines and not lines[0].strip():
                lines = lines[1:]
            if lines:
                text += "\n".join(lines) + "\n"
            continue
        if not any(line.strip() for line in lines) and name == section and not managed:
            continue
        text += "[%s]\n" % name
        if lines:
            text += "\n".join(lines) + "\n"
    return text


# ---------------------------------------------------------------------------------------------
# Where drop-ins live and which one wins
# ---------------------------------------------------------------------------------------------

# The system manager's unit search path, highest priority first (systemd.unit(5)).
SYSTEM_UNIT_DIRS = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
)
OWN_DROPIN_DIR = "/etc/systemd/system"


def dropin_dir_names(unit):
    """The ``.d`` directory names whose drop-ins apply to ``unit``.

    Besides ``UNIT.d``: the template's ``foo@.service.d`` for an instance, the prefixes of a dashed
    name (``foo-.service.d`` for ``foo-bar.service``, v239+) and the type-wide ``service.d``.
    """
    prefix, utype = unit.rsplit(".", 1)
    names = []
    if "@" in prefix and not prefix.endswith("@"):
        names.append("%s@.%s.d" % (prefix.split("@", 1)[0], utype))
    names.append("%s.d" % unit)
    # Dashed prefixes: foo-bar-baz.service -> foo-.service.d, foo-bar-.service.d
    base = prefix.split("@", 1)[0]
    parts = base.split("-")
    prefixes = []
    for i in range(1, len(parts)):
        candidate = "-".join(parts[:i]) + "-"
        if candidate.strip("-"):
            prefixes.append("%s.%s.d" % (candidate, utype))
    names = ["%s.d" % utype] + prefixes + names
    return names


def effective_dropins(fs, unit, dirs=SYSTEM_UNIT_DIRS):
    """The drop-in files systemd applies to ``unit``, in the order it applies them.

    Same file name in several directories: the higher-priority directory wins and hides the
    others. Then all files are applied sorted by file name, whatever their directory; for a
    single-valued setting the last assignment wins. Returns ``[(basename, path), ...]``.
    """
    chosen = {}
    seen_real = set()
    for directory in dirs:
        real_dir = fs.realpath(directory)
        if real_dir in seen_real:  # /lib -> /usr/lib on merged-usr systems
            continue
        seen_real.add(real_dir)
        for dname in dropin_dir_names(unit):
            path = "%s/%s" % (directory, dname)
            if not fs.isdir(path):
                continue
            for entry in fs.listdir(path):
                if not entry.endswith(".conf") or entry in chosen:
                    continue
                chosen[entry] = "%s/%s" % (path, entry)
    return [(name, chosen[name]) for name in sorted(chosen)]


def find_overrides(fs, unit, own_path, directives, dirs=SYSTEM_UNIT_DIRS):
    """Drop-ins that override settings of our own drop-in at ``own_path``.

    Returns ``[{"path": ..., "directive": ..., "value": ..., "reason": ...}]`` for each of
    ``directives`` set (or reset) again by a file applied after ours, and one entry with
    directive None when a file of the same name in a higher-priority directory hides ours.
    """
    own_name = own_path.rsplit("/", 1)[1]
    order = effective_dropins(fs, unit, dirs)
    if own_name not in [name for name, _path in order]:
        # Ours is not written yet (check mode, first run): place it where it will sort.
        order = sorted(order + [(own_name, own_path)])
    result = []
    after = False
    for name, path in order:
        if name == own_name:
            if path != own_path:
                result.append({"path": path, "directive": None, "value": None,
                               "reason": "a drop-in with the same name in a higher-priority directory hides ours entirely"})
            after = True
            continue
        if not after:
            continue
        text = fs.read_optional(path)
        if text is None:
            continue
        assigned = dropin_assignments(text)
        for directive in directives:
            spellings = [directive]
            setting = DIRECTIVES.get(directive)
            if setting is not None:
                spellings = [d for d, s in DIRECTIVES.items() if s is setting]
            for spelled in spellings:
                if spelled in assigned:
                    reason = "applied after ours (file names sort later)"
                    if "/system.control/" in path:
                        reason += "; written by `systemctl set-property`"
                    result.append({"path": path, "directive": spelled, "value": assigned[spelled], "reason": reason})
    return result
