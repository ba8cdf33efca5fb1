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
common=(-i localhost, -c local -e "ansible_python_interpreter=$py")

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
