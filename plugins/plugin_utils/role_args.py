# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables converted and validated by the role's own argument spec, on the controller.

The argument spec (``roles/ROLE/meta/argument_specs.yml``) is the contract of a role's variables.
ansible-core checks it when the role starts; this module applies the same spec with the same code
(ansible-core's ``ArgumentSpecValidator`` and its ``check_type_*`` converters) to get the values
in their types, so that survey strings (``"true"``, ``"t"``, ``"-900"``, ``"a,b"``, ``"k=v,k2=v2"``)
mean the same thing to both, and there is no second converter. On top of the spec, two rules:

* **Blank is unset.** An AWX survey sends an optional question left empty as ``""``; for an option
  the spec does not mark ``required``, ``""`` (or only spaces) and ``None`` mean "not set": the
  spec's default applies.
* **A ``raw`` option takes the type of its default** when that default is a mapping or a list
  (a string is then read by ``check_type_dict`` or ``check_type_list``). The spec declares such an
  option ``raw`` only where ansible-core's own check would refuse a blank answer before the role
  runs (``type: dict`` refuses ``""``).

Errors name the variable (and the element, ``hardening_cgroups #2``), never the whole spec.
Pure Python on the controller; imports ansible-core's module_utils only.
"""

from __future__ import annotations

import copy
import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_dict, check_type_list

# the collection root, from plugins/plugin_utils/
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_TYPE_WORDS = {
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "dict": "a mapping (key=value pairs or a JSON mapping)",
    "list": "a list (comma-separated from a survey)",
    "str": "a string",
    "path": "a path",
}


class RoleArgsError(ValueError):
    """Bad role input: the message names the variable."""


def spec_path(role):
    return os.path.join(_ROOT, "roles", role, "meta", "argument_specs.yml")


_SPECS = {}


def load_spec(role, entry_point="main"):
    """The options of a role's entry point, from its meta/argument_specs.yml (read once)."""
    key = (role, entry_point)
    if key not in _SPECS:
        # controller side only: PyYAML comes with ansible-core
        import yaml  # pylint: disable=import-outside-toplevel
        with open(spec_path(role)) as handle:
            data = yaml.safe_load(handle)
        _SPECS[key] = data["argument_specs"][entry_point]["options"]
    return _SPECS[key]


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _type_of(spec):
    wanted = spec.get("type", "str")
    if wanted == "raw" and isinstance(spec.get("default"), dict):
        return "dict"
    if wanted == "raw" and isinstance(spec.get("default"), list):
        return "list"
    return wanted


def _words(wanted, spec=None):
    if spec and spec.get("choices"):
        return "one of %s" % ", ".join(str(c) for c in spec["choices"])
    return _TYPE_WORDS.get(wanted, "of type %s" % wanted)


def check(where, spec, value, name="value"):
    """One value through ArgumentSpecValidator with a one-option spec (``{"type": "int"}``...), for the
    values inside a role variable's elements too; RoleArgsError naming ``where``."""
    return _check(name, where, spec, value, top=False)


def _check(name, where, spec, value, top=True):
    wanted = spec.get("type", "str")
    if wanted in ("int", "float") and isinstance(value, bool):
        # ansible-core takes True as 1; a boolean where a number is wanted is a mistake
        raise RoleArgsError("%s must be %s, not %r" % (where, _words(wanted), value))
    one = dict((k, spec[k]) for k in ("type", "choices") if k in spec)
    result = ArgumentSpecValidator({name: one}).validate({name: value})
    if result.error_messages:
        if wanted == "dict" and isinstance(value, str) and top:
            raise RoleArgsError("%s: %r is not key=value pairs or a JSON mapping" % (where, value))
        raise RoleArgsError("%s must be %s, not %r" % (where, _words(wanted, spec), value))
    return result.validated_parameters[name]


def convert_option(name, spec, value):
    """The value of one option in its type (blank -> the default); RoleArgsError for bad input."""
    if is_blank(value) and not spec.get("required"):
        return copy.deepcopy(spec.get("default"))
    wanted = _type_of(spec)
    if wanted != spec.get("type", "str") and isinstance(value, str):
        # a raw option read as the type of its default
        try:
            value = check_type_dict(value) if wanted == "dict" else check_type_list(value)
        except TypeError:
            raise RoleArgsError("%s: %r is not key=value pairs or a JSON mapping" % (name, value))
    if wanted in ("dict", "list") and spec.get("type") == "raw":
        if not isinstance(value, dict if wanted == "dict" else list):
            raise RoleArgsError("%s must be %s, not %r" % (name, _words(wanted), value))
        return value
    elements = spec.get("elements")
    value = _check(name, name, dict(spec, type=wanted), value)
    if wanted == "list" and elements:
        items = []
        for index, item in enumerate(value):
            where = "%s #%d" % (name, index + 1)
            if elements == "str" and is_blank(item):
                continue  # "a,,b" or "a, " from a survey
            items.append(_check(name, where, {"type": elements}, item, top=False))
        value = items
    return value


def convert(role, values, entry_point="main"):
    """``{variable: value}`` as it arrived -> ``{variable: value}`` in the spec's types, for every option
    of the spec (missing or blank ones get their default). RoleArgsError names the first bad variable."""
    spec = load_spec(role, entry_point)
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise RoleArgsError("%s: not a variable of the %s role" % (", ".join(unknown), role))
    return dict((name, convert_option(name, option, values.get(name))) for name, option in spec.items())
