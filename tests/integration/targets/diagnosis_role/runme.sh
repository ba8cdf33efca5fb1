#!/usr/bin/env bash
# The diagnosis role on a small fleet on this machine: two "hosts" that are this machine (local
# connection, each reading its own bundled log), one unreachable host; then a real OOM kill in a
# v1 memory cgroup read back from the kernel ring buffer; incremental runs; bad input; the
# fail-on-severity gate. Everything it creates lives in OUTPUT_DIR or is removed at the end.
set -eux -o pipefail

out=${OUTPUT_DIR:-$(mktemp -d)}/diagnosis
rm -rf "$out"
mkdir -p "$out"
export ANSIBLE_ROLES_PATH='' ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=false
py=$(command -v python3)
common=(-i inventory.ini -e "diagnosis_out=$out" -e "ansible_python_interpreter=$py")

# 1. the fleet run: survey-style strings for every typed variable
ANSIBLE_SHOW_CUSTOM_STATS=true ansible-playbook "${common[@]}" fleet.yml "$@" | tee "$out/fleet.log"
ansible-playbook "${common[@]}" verify_fleet.yml "$@"
# set_stats published the summary (AWX job artifacts)
grep -A3 'CUSTOM STATS' "$out/fleet.log" | grep -q '"oomkit_diagnosis"' 

# 2. a real OOM kill on this kernel, found in the ring buffer and selected with a JMESPath query
ansible-playbook "${common[@]}" real_oom.yml "$@"

# 3. incremental: the second run reports nothing new; check mode never writes the state file
ansible-playbook "${common[@]}" incremental.yml "$@"

# 4. bad input: a clear error, and no report written
if ansible-playbook "${common[@]}" fleet.yml -e diagnosis_sources=files,bogus -e "diagnosis_report_dir=$out/bad" \
    >"$out/bad.log" 2>&1; then
  echo "a bogus source was accepted"; exit 1
fi
grep -q 'diagnosis_sources: unknown source(s) bogus' "$out/bad.log"
test ! -e "$out/bad"

# 5. the gate: the play fails on a high finding, after the report is written
if ansible-playbook "${common[@]}" fleet.yml -e diagnosis_fail_on_severity=high -e "diagnosis_report_dir=$out/gate" \
    >"$out/gate.log" 2>&1; then
  echo "diagnosis_fail_on_severity=high did not fail"; exit 1
fi
grep -q 'finding(s) at high or worse' "$out/gate.log"
test -s "$out/gate/report.json"
