# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounds on what a task may hand a module, checked before anything else.

Every integer, size, path and key a module takes has a bound; beyond it the error names the
option and the bound, never Python's own exception text (``int()`` of 5,000 digits, a NUL in
``open()``). The bounds themselves live here once; module docs quote them.

Pure standard library, no Ansible import.
"""

from __future__ import annotations

# Longest decimal integer accepted anywhere: 2^64 has 20 digits, so nothing the kernel or systemd
# stores needs more. Longer digit strings are refused before int() sees them.
MAX_INT_DIGITS = 20
# Longest path (the kernel's PATH_MAX, terminating NUL included) and longest key or name.
MAX_PATH_BYTES = 4095
MAX_NAME_BYTES = 255
# Longest text value (one page, what a /proc/sys write takes at most).
MAX_VALUE_BYTES = 4095


class InputError(ValueError):
    """An option value beyond its bound; the message names the option."""


def _shown(value, limit=60):
    """A value for an error message: printable, short, with control characters escaped."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return ascii(text)


def check_text(option, value, max_bytes=MAX_NAME_BYTES, allow_newline=False):
    """Refuse NUL, newlines (unless allowed) and other control characters, and over-long text."""
    if not isinstance(value, str):
        value = str(value)
    if "\0" in value:
        raise InputError("%s: contains a NUL byte, which no path, key or value may hold" % option)
    for char in value:
        if char in "\n\r" and not allow_newline:
            raise InputError("%s: %s contains a newline (%s), which is refused" % (option, _shown(value), ascii(char)))
        if (ord(char) < 32 and char not in "\t\n\r") or char == "\x7f":
            raise InputError("%s: %s contains the control character %s, which is refused" % (option, _shown(value), ascii(char)))
        if char in "\u2028\u2029\x85":
            raise InputError("%s: %s contains a Unicode line separator (%s), which is refused" % (option, _shown(value), ascii(char)))
    size = len(value.encode("utf-8", "surrogateescape"))
    if size > max_bytes:
        raise InputError("%s: %d bytes long; at most %d are accepted" % (option, size, max_bytes))
    return value


def check_path(option, value):
    """A path option: absolute, no NUL or control characters, at most PATH_MAX bytes."""
    if value is None:
        return None
    value = check_text(option, value, max_bytes=MAX_PATH_BYTES)
    if value == "":
        raise InputError("%s: an empty path is not a file; give an absolute path or leave the option out" % option)
    return value


def check_digits(option, text, low=None, high=None):
    """Refuse a string of more than MAX_INT_DIGITS digits before it is converted."""
    digits = text.lstrip("+-").strip()
    if len(digits) > MAX_INT_DIGITS:
        raise InputError("%s: a number of %d digits is out of range%s" % (option, len(digits), _range(low, high)))


def bounded_int(option, value, low=None, high=None):
    """An integer option within [low, high]; the error names the option and the bound."""
    if isinstance(value, bool):
        raise InputError("%s: expected an integer, got a boolean" % option)
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError("%s: expected an integer, got %r" % (option, value))
        value = int(value)
    if not isinstance(value, int):
        text = str(value).strip()
        check_digits(option, text, low, high)
        try:
            value = int(text)
        except ValueError:
            raise InputError("%s: %s is not an integer" % (option, _shown(text)))
    if (low is not None and value < low) or (high is not None and value > high):
        shown = str(value) if value.bit_length() <= 64 else "a number of %d bits" % value.bit_length()
        raise InputError("%s: %s is out of range%s" % (option, shown, _range(low, high)))
    return value


def _range(low, high):
    if low is not None and high is not None:
        return " (allowed: %d..%d)" % (low, high)
    if low is not None:
        return " (allowed: %d or more)" % low
    if high is not None:
        return " (allowed: %d or less)" % high
    return ""
