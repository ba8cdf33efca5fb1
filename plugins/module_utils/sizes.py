# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory sizes as operators write them, and back.

One grammar for every module of the collection (cgroup files, systemd ``Memory*=`` settings):

* an integer number of bytes: ``67108864`` (an int or a string of digits);
* a number with a unit, always base 1024 as the kernel and systemd read them: ``K``, ``M``,
  ``G``, ``T``, ``P``, ``E`` (case-insensitive), optionally spelled ``KiB``, ``MiB``...,
  and ``B`` for bytes. ``KB``/``MB``/``GB`` are refused: half the world reads them as powers of
  ten, and a limit 5% off is not what anyone asked for;
* a decimal fraction with a unit, ``1.5G``: the result is rounded down to a whole byte (systemd
  does the same; the kernel then rounds down to its page size anyway);
* no limit: ``max``, ``unlimited``, ``infinity`` or ``-1`` -> ``None``.

Pure standard library, no Ansible import.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The largest value the kernel's page counters and systemd accept (LONG_MAX on 64-bit hosts).
SIZE_MAX = 2 ** 63 - 1

UNLIMITED_WORDS = ("max", "unlimited", "infinity", "-1")
# SIZE_MAX has 19 digits: a size written with more digits (before or after the point) is refused
# before any conversion.
MAX_SIZE_DIGITS = 20

_UNITS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_UNIT_ORDER = ("E", "P", "T", "G", "M", "K")

_SIZE_RE = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[A-Za-z]*)$")


class SizeError(ValueError):
    """A size that cannot be understood; the message says what is accepted."""


def _describe(name):
    return "%s: " % name if name else ""


def _unit_power(unit, name, text):
    upper = unit.upper()
    if upper in ("B", ""):
        return 0
    if upper in _UNITS:
        return _UNITS[upper]
    if len(upper) == 3 and upper.endswith("IB") and upper[0] in _UNITS:
        return _UNITS[upper[0]]
    if len(upper) == 2 and upper.endswith("B") and upper[0] in _UNITS:
        raise SizeError(
            "%sambiguous unit in %r: %r may mean powers of 1000 or of 1024; write %r or %r (base 1024, "
            "as the kernel and systemd read it)" % (_describe(name), text, unit, text[:-1].rstrip(), text[:-1].rstrip() + "iB"))
    raise SizeError("%sunknown unit %r in %r; use bytes or one of K, M, G, T, P, E (base 1024), or 'max' for no limit"
                    % (_describe(name), unit, text))


def parse_size(value, name=None, allow_unlimited=True):
    """Return a number of bytes (int), or None for "no limit".

    ``name`` only serves the error message (the option being parsed). With ``allow_unlimited``
    false, the "no limit" words are refused.
    """
    if isinstance(value, bool):
        raise SizeError("%sexpected a size such as 512M, 2G or a number of bytes, got a boolean" % _describe(name))
    if isinstance(value, float):
        if not value.is_integer():
            raise SizeError("%sexpected a whole number of bytes or a size with a unit (for example '1.5G'), got %r"
                            % (_describe(name), value))
        value = int(value)
    if isinstance(value, int):
        if value == -1:
            return _unlimited(name, allow_unlimited, value)
        if value < 0:
            raise SizeError("%snegative size %d; use 'max' (or -1) for no limit" % (_describe(name), value))
        return _bounded(value, name, value)
    if not isinstance(value, str):
        raise SizeError("%sexpected a size such as 512M, 2G or a number of bytes, got %s" % (_describe(name), type(value).__name__))

    text = value.strip()
    if not text:
        raise SizeError("%sempty size; give bytes, a size such as 512M, or 'max'" % _describe(name))
    if text.lower() in UNLIMITED_WORDS:
        return _unlimited(name, allow_unlimited, text)
    if text.startswith("-"):
        raise SizeError("%snegative size %r; use 'max' (or -1) for no limit" % (_describe(name), text))
    match = _SIZE_RE.match(text)
    if not match:
        raise SizeError("%scannot read %r as a size; write bytes (67108864), a size with a unit (512M, 2G, 1.5G) or 'max'"
                        % (_describe(name), text))
    power = _unit_power(match.group("unit"), name, text)
    number = match.group("number")
    whole, _dot, fraction = number.partition(".")
    if len(whole.lstrip("0")) > MAX_SIZE_DIGITS or len(fraction) > MAX_SIZE_DIGITS:
        raise SizeError("%s%s has more digits than any size can (at most %d before and after the point); the largest "
                        "size is %d bytes, use 'max' for no limit" % (_describe(name), _shown(text), MAX_SIZE_DIGITS, SIZE_MAX))
    if "." in number:
        if power == 0:
            raise SizeError("%s%r is a fraction of a byte; give whole bytes or a unit (for example '1.5G')" % (_describe(name), text))
        try:
            result = int(Decimal(number) * (1024 ** power))
        except InvalidOperation:
            raise SizeError("%scannot read %r as a size" % (_describe(name), text))
    else:
        result = int(number) * (1024 ** power)
    if result == 0 and number.strip("0.") != "":
        raise SizeError("%s%r is less than one byte and would be a 0-byte limit; write 0 if that is what you mean"
                        % (_describe(name), text))
    return _bounded(result, name, text)


def _shown(text, limit=40):
    return repr(text) if len(text) <= limit else "%r... (%d characters)" % (text[:limit], len(text))


def _unlimited(name, allow_unlimited, shown):
    if not allow_unlimited:
        raise SizeError("%s%r (no limit) is not accepted here; give a size" % (_describe(name), shown))
    return None


def _bounded(result, name, shown):
    if result > SIZE_MAX:
        if isinstance(shown, int):
            shown = "a number of %d bits" % shown.bit_length()  # repr() of a huge int fails (4300 digits)
        else:
            shown = _shown(shown)
        raise SizeError("%s%s is larger than the kernel can store (%d bytes); use 'max' for no limit"
                        % (_describe(name), shown, SIZE_MAX))
    return result


def format_size(num):
    """Exact, shortest human form: 67108864 -> '64M', 1610612736 -> '1536M', 1000 -> '1000', None -> 'max'.

    The result parses back to the same number with parse_size().
    """
    if num is None:
        return "max"
    num = int(num)
    if num <= 0:
        return str(num)
    for unit in _UNIT_ORDER:
        factor = 1024 ** _UNITS[unit]
        if num % factor == 0:
            return "%d%s" % (num // factor, unit)
    return str(num)


def human_size(num):
    """Approximate form for messages: 1610612736 -> '1.5G', 1000 -> '1000B', None -> 'max'."""
    if num is None:
        return "max"
    num = int(num)
    for unit in _UNIT_ORDER:
        factor = 1024 ** _UNITS[unit]
        if abs(num) >= factor:
            text = ("%.1f" % (float(num) / factor)).rstrip("0").rstrip(".")
            return "%s%s" % (text, unit)
    return "%dB" % num


def round_to_page(num, page_size):
    """What the kernel stores for a byte count written to a page counter: rounded DOWN to pages."""
    if num is None:
        return None
    return (int(num) // page_size) * page_size
