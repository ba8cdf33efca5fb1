#!/usr/bin/env bash
# Role variables as AWX surveys and `-e key=value` send them (strings; blank optional answers as ""),
# through real ansible-playbook runs: the diagnosis role's time check is oom_facts' own parser, and
# the hardening role's variables are converted by its argument spec (the harden playbook in check mode
# changes nothing). Each refusal names the variable and nothing runs on the host.
set -eux -o pipefail

out=${OUTPUT_DIR:-$(mktemp -d)}/role_variables
rm -rf "$out"
mkdir -p "$out"
export ANSIBLE_ROLES_PATH='' ANSIBLE_NOCOLOR=1
py=$(command -v python3)
common=(-i "localhost," -c local -e "ansible_python_interpreter=$py")
extra=("$@")

# --- the diagnosis role: one time grammar --------------------------------------------------------
for value in 30min today 2026-11-26T08:00 1795651200; do
  ansible-playbook "${common[@]}" diagnosis_validate.yml -e "diagnosis_since=$value" -e "diagnosis_until=now" "$@"
done
for var in diagnosis_since diagnosis_until; do
  if ansible-playbook "${common[@]}" diagnosis_validate.yml -e "$var=2026-11-26T01" "$@" >"$out/bad_time.log" 2>&1; then
    echo "$var=2026-11-26T01 was accepted"; exit 1
  fi
  grep -q "$var: \"2026-11-26T01\" is not a time oom_facts reads" "$out/bad_time.log"
done

# --- the hardening role: the documented AWX survey, every answer a string ------------------------
# Extra-vars files from the survey in docs/awx.md: all defaults, then every optional question blank.
# the collection root: above tests/ (ansible-test runs a copy of this directory under tests/output/)
collection=$(pwd | sed 's#/tests/.*##')
test -f "$collection/docs/awx.md" -a -f "$collection/playbooks/harden.yml"
python3 - "$collection/docs/awx.md" "$out" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
for block in re.findall(r"```json\n(.*?)```", text, re.S):
    survey = json.loads(block)
    if survey["name"] != "OOM hardening":
        continue
    answers = dict((q["variable"], str(q["default"])) for q in survey["spec"])
    blanks = dict((q["variable"], "" if not q["required"] else str(q["default"])) for q in survey["spec"])
    answers["hardening_hosts"] = blanks["hardening_hosts"] = "localhost"
    json.dump(answers, open(sys.argv[2] + "/survey_defaults.json", "w"))
    json.dump(blanks, open(sys.argv[2] + "/survey_blanks.json", "w"))
PY
harden=("${common[@]}" "$collection/playbooks/harden.yml" --check -e hardening_become=false)
for answers in survey_defaults survey_blanks; do
  ansible-playbook "${harden[@]}" -e "@$out/$answers.json" "$@" | tee "$out/$answers.log"
  grep -q 'localhost .* failed=0' "$out/$answers.log"
done
# one layer reads booleans: "t" is true for ansible-core's check and for the role alike
ansible-playbook "${harden[@]}" -e "@$out/survey_blanks.json" -e hardening_protect=t -e hardening_set_stats=t "$@" \
  | tee "$out/protect_t.log"
grep -q 'localhost .* failed=0' "$out/protect_t.log"

# bad answers: an error naming the variable, before the host is read, and no argument spec in the output
bad() {
  if ansible-playbook "${harden[@]}" -e "@$out/survey_blanks.json" "$1" ${extra[@]+"${extra[@]}"} >"$out/bad.log" 2>&1; then
    echo "$1 was accepted"; exit 1
  fi
  grep -q "$2" "$out/bad.log"
  if grep -q 'argument_spec_data\|Read the host' "$out/bad.log"; then
    echo "$1: the argument spec was printed or the host was read"; exit 1
  fi
}
bad -ehardening_protect=maybe "hardening_protect must be true or false, not 'maybe'"
bad -ehardening_sysctl_extra=vm.swappiness "hardening_sysctl_extra: 'vm.swappiness' is not key=value pairs"
bad -ehardening_expendable_score=lots "hardening_expendable_score must be an integer, not 'lots'"
bad -ehardening_restart=sometimes "hardening_restart must be one of never, auto, always"

# the diagnosis role: one layer reads booleans and numbers ("t" was false for the role's own | bool)
ansible-playbook "${common[@]}" diagnosis_validate.yml -e diagnosis_incremental=t -e diagnosis_sources= \
  -e diagnosis_max_events=7 -e expect_incremental=True -e expect_sources=auto -e expect_max_events=7 "$@"
if ansible-playbook "${common[@]}" diagnosis_validate.yml -e diagnosis_max_events=lots "$@" >"$out/bad.log" 2>&1; then
  echo "diagnosis_max_events=lots was accepted"; exit 1
fi
grep -q "diagnosis_max_events must be an integer, not 'lots'" "$out/bad.log"
