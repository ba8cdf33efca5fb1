#!/usr/bin/env bash
# The supported ansible-core releases, each on the controller side of this collection:
#   - the unit tests of the controller-side plugins (filters, plugin_utils) and of the module_utils
#     logic, with plain pytest on that ansible-core;
#   - one run of each playbook (diagnose on the bundled sample log, harden in check mode with a
#     process and a cgroup to plan) against this machine, the target Python named below;
# and the target side on the oldest Python a supported ansible-core accepts: every module and
# module_util compiled and imported by that interpreter, and the playbooks' modules run by it.
#
# 2.19 is the development virtualenv (.venv, pinned in requirements-dev.txt); 2.17 and 2.18 get
# small virtualenvs under .tmp/core/, kept until their requirement list changes.
# Usage: tools/core-matrix.sh [VERSION...]   (default: all three)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
live=$repo/.tmp/live
# ansible-core releases tested, and the target Python each one runs the modules with: 2.17 is the
# last release that accepts Python 3.7 on targets, 2.18 and 2.19 need 3.8.
declare -A TARGET_PY=([2.17.14]=3.7 [2.18.19]=3.11 [2.19.14]=3.8)
versions=("$@")
((${#versions[@]})) || versions=(2.17.14 2.18.19 2.19.14)
log() { printf 'core-matrix: %s\n' "$*"; }

python_for() { # the interpreter of a Python version: the system one, else pyenv's
  local v=$1 p
  for p in "/usr/bin/python$v" /root/.pyenv/versions/"$v".*/bin/"python$v"; do
    [[ -x $p ]] && { echo "$p"; return 0; }
  done
  echo "core-matrix: no Python $v on this machine (looked in /usr/bin and /root/.pyenv/versions)" >&2
  return 1
}

pin() { grep -E "^$1==" requirements-dev.txt; }

venv_for() { # prints the bin directory of a virtualenv with that ansible-core
  local v=$1 dir reqs
  if [[ $(pin ansible-core) == "ansible-core==$v" ]]; then
    echo "$repo/.venv/bin"
    return 0
  fi
  dir=$repo/.tmp/core/$v
  reqs="ansible-core==$v $(pin pytest) $(pin hypothesis) $(pin jmespath) jsonschema"
  if [[ ! -x $dir/bin/python || $(cat "$dir/.installed" 2>/dev/null) != "$reqs" ]]; then
    log "virtualenv for ansible-core $v" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    # shellcheck disable=SC2086  # the list is split on purpose
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $reqs 2>&1 \
      | { grep -v "^WARNING: Location" || true; } >&2
    echo "$reqs" >"$dir/.installed"
  fi
  echo "$dir/bin"
}

# Controller-side and pure-logic unit tests; the module tests use ansible.module_utils.testing,
# which only ansible-core 2.19 has, and run under ansible-test in `make units`.
UNIT_TESTS=(tests/unit/plugins/filter tests/unit/plugins/plugin_utils tests/unit/plugins/module_utils)

target_import_check() { # PY ANSIBLE_LIB: compile and import every target-side file with PY
  local py=$1 lib=$2
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$live:$lib" "$py" - <<'PY'
import glob
import importlib
import os
import sys

root = os.path.join(os.environ['PYTHONPATH'].split(':')[0], 'ansible_collections', 'oomkit', 'linux')
names = []
for kind in ('module_utils', 'modules'):
    for path in sorted(glob.glob(os.path.join(root, 'plugins', kind, '*.py'))):
        if os.path.basename(path) == '__init__.py':
            continue
        with open(path, 'rb') as f:
            compile(f.read(), path, 'exec')
        names.append('ansible_collections.oomkit.linux.plugins.%s.%s' % (kind, os.path.basename(path)[:-3]))
for name in names:
    importlib.import_module(name)
print('core-matrix: Python %d.%d compiled and imported %d target-side files' % (sys.version_info[:2] + (len(names),)))
PY
}

playbooks() { # BIN PY OUT
  local bin=$1 py=$2 out=$3 sample
  sample=$live/ansible_collections/oomkit/linux/roles/diagnosis/files/samples/euleros-messages.log
  rm -rf "$out"
  mkdir -p "$out"
  local -a common=(-i "localhost," -c local -e "ansible_python_interpreter=$py")
  env ANSIBLE_COLLECTIONS_PATH="$live" ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$bin/ansible-playbook" "${common[@]}" oomkit.linux.diagnose \
    -e "{\"diagnosis_hosts\": \"localhost\", \"diagnosis_sources\": [\"files\"], \"diagnosis_paths\": [\"$sample\"],
         \"diagnosis_report_dir\": \"$out/report\"}" >"$out/diagnose.log" 2>&1 \
    || { tail -n 40 "$out/diagnose.log" >&2; return 1; }
  "$bin/python" - "$out/report/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report['summary']['events_total'] == 7, report['summary']
assert [h['status'] for h in report['hosts']] == ['ok'], report['hosts']
PY
  env ANSIBLE_COLLECTIONS_PATH="$live" ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$bin/ansible-playbook" "${common[@]}" oomkit.linux.harden --check --diff \
    -e "{\"hardening_hosts\": \"localhost\", \"hardening_sysctl_file\": \"/etc/sysctl.d/90-oomkit-matrix-test.conf\",
         \"hardening_expendable_names\": [\"sleep\"], \"hardening_cgroups\": [{\"path\": \"oomkit-matrix-$$\", \"max\": \"64M\"}]}" \
    >"$out/harden.log" 2>&1 || { tail -n 40 "$out/harden.log" >&2; return 1; }
  grep -q 'would change: .* 1 cgroup(s)' "$out/harden.log" || { tail -n 20 "$out/harden.log" >&2; return 1; }
  grep -qE '^localhost +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0' "$out/harden.log"
  test ! -e /etc/sysctl.d/90-oomkit-matrix-test.conf
}

mkdir -p "$repo/.tmp/core"
failed=0
for v in "${versions[@]}"; do
  [[ -n ${TARGET_PY[$v]:-} ]] || { echo "core-matrix: unknown version $v (known: ${!TARGET_PY[*]})" >&2; exit 2; }
  start=$SECONDS
  bin=$(venv_for "$v")
  [[ $("$bin/ansible" --version) == *"[core $v]"* ]] || { echo "core-matrix: $bin is not ansible-core $v" >&2; exit 1; }
  tpy=$(python_for "${TARGET_PY[$v]}")
  lib=$("$bin/python" -c 'import ansible, os; print(os.path.dirname(os.path.dirname(ansible.__file__)))')
  # test files that drive modules through ansible.module_utils.testing (2.19 only) are left to 2.19
  ignore=(--ignore=tests/unit/plugins/module_utils/test_oom_log_fuzz.py)
  if ! "$bin/python" -c 'import ansible.module_utils.testing' 2>/dev/null; then
    while IFS= read -r f; do ignore+=("--ignore=$f"); done \
      < <(grep -rlE 'module_utils\.testing|modules\.harness' "${UNIT_TESTS[@]}" || true)
  fi
  if (cd "$live/ansible_collections/oomkit/linux" &&
      PYTHONPATH="$live" "$bin/python" -m pytest -q -p no:cacheprovider -x "${UNIT_TESTS[@]}" \
        "${ignore[@]}" >"$repo/.tmp/core/units-$v.log" 2>&1) &&
     target_import_check "$tpy" "$lib" &&
     playbooks "$bin" "$tpy" "$repo/.tmp/core/run-$v"; then
    log "ansible-core $v: $(tail -n 1 "$repo/.tmp/core/units-$v.log"); diagnose and harden --check ran with target Python ${TARGET_PY[$v]} ($((SECONDS - start)) s)"
  else
    tail -n 30 "$repo/.tmp/core/units-$v.log" >&2 || true
    log "ansible-core $v: FAILED"
    failed=$((failed + 1))
  fi
done
log "$((${#versions[@]} - failed)) passed, $failed failed"
((failed == 0))
