# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.oomkit.linux.plugins.module_utils.sizes import (
    SIZE_MAX, SizeError, format_size, human_size, parse_size, round_to_page,
)


@pytest.mark.parametrize("value, expected", [
    (0, 0),
    (67108864, 67108864),
    ("67108864", 67108864),
    ("512", 512),
    ("512B", 512),
    ("1K", 1024),
    ("1k", 1024),
    ("64M", 67108864),
    ("64m", 67108864),
    (" 64M ", 67108864),
    ("64 M", 67108864),
    ("64MiB", 67108864),
    ("64mib", 67108864),
    ("2G", 2 * 1024 ** 3),
    ("1.5G", 1610612736),
    ("0.5K", 512),
    (".5M", 524288),
    ("1T", 1024 ** 4),
    ("1P", 1024 ** 5),
    ("7E", 7 * 1024 ** 6),
    (1024.0, 1024),
    # fractions round down to a whole byte, as systemd does
    ("1.3K", 1331),
])
def test_parse_size_values(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["max", "MAX", "unlimited", "infinity", "Infinity", "-1", -1, " max "])
def test_parse_size_unlimited_words_give_none(value):
    assert parse_size(value) is None


@pytest.mark.parametrize("value", ["max", -1, "infinity"])
def test_parse_size_unlimited_refused_when_not_allowed(value):
    with pytest.raises(SizeError, match="no limit"):
        parse_size(value, name="low", allow_unlimited=False)


@pytest.mark.parametrize("value, fragment", [
    ("", "empty size"),
    ("   ", "empty size"),
    ("abc", "cannot read 'abc'"),
    ("64X", "unknown unit 'X'"),
    ("64Mi", "unknown unit 'Mi'"),
    ("64MB", "ambiguous unit"),
    ("2GB", "ambiguous unit"),
    ("1.5", "fraction of a byte"),
    ("-5", "negative size"),
    ("-5M", "negative size"),
    (-2, "negative size"),
    ("1e9", "cannot read"),
    ("8E", "larger than the kernel can store"),
    (2 ** 63, "larger than the kernel can store"),
    (True, "boolean"),
    (1.5, "whole number of bytes"),
    ([64], "got list"),
    ("64M 32M", "cannot read"),
])
def test_parse_size_errors_are_clear(value, fragment):
    with pytest.raises(SizeError) as info:
        parse_size(value, name="max")
    message = str(info.value)
    assert message.startswith("max: ")
    assert fragment in message


def test_ambiguous_unit_message_suggests_both_spellings():
    with pytest.raises(SizeError) as info:
        parse_size("512MB")
    assert "'512M'" in str(info.value) and "'512MiB'" in str(info.value)


def test_size_max_is_accepted():
    assert parse_size(SIZE_MAX) == SIZE_MAX
    assert parse_size(str(SIZE_MAX)) == SIZE_MAX


@pytest.mark.parametrize("value, expected", [
    (None, "max"),
    (0, "0"),
    (1000, "1000"),
    (1024, "1K"),
    (67108864, "64M"),
    (1610612736, "1536M"),
    (2 * 1024 ** 3, "2G"),
    (67108865, "67108865"),
])
def test_format_size(value, expected):
    assert format_size(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, "max"),
    (1000, "1000B"),
    (1610612736, "1.5G"),
    (67108864, "64M"),
    (1024 ** 4, "1T"),
])
def test_human_size(value, expected):
    assert human_size(value) == expected


def test_round_to_page_rounds_down():
    assert round_to_page(None, 4096) is None
    assert round_to_page(4097, 4096) == 4096
    assert round_to_page(4095, 4096) == 0
    assert round_to_page(100000, 65536) == 65536


@given(st.integers(min_value=0, max_value=SIZE_MAX))
def test_format_then_parse_round_trips(num):
    assert parse_size(format_size(num)) == num


@given(st.integers(min_value=0, max_value=2 ** 32), st.sampled_from(["K", "M", "G", "KiB", "MiB", "GiB", "k", "m", "g"]))
def test_units_are_base_1024(number, unit):
    power = {"K": 1, "M": 2, "G": 3}[unit[0].upper()]
    assert parse_size("%d%s" % (number, unit)) == number * 1024 ** power
