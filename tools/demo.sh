#!/usr/bin/env bash
# `make demo`: the main job on this host. Runs from the Makefile, which has set up the virtualenv
# and made the live tree visible as the oomkit.linux collection.
#   1. the diagnosis playbook on this host plus the bundled EulerOS-format sample log, with the
#      fleet report written under .tmp/demo/diagnosis and its summary printed;
#   2. the hardening playbook in check mode with diff: what it would change here, changing nothing.
set -euo pipefail
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
# Targets run the system Python, as a real host would (not a pyenv shim found by discovery).
export ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-/usr/bin/python3}
echo "== 1/2 OOM diagnosis of this host and the bundled EulerOS sample log (oomkit.linux.diagnose)"
ansible-playbook tools/demo/diagnose-demo.yml
echo
echo "== 2/2 OOM hardening of this host, dry run (oomkit.linux.harden --check --diff)"
ansible-playbook oomkit.linux.harden -i localhost, -c local \
  -e hardening_hosts=localhost -e hardening_sysctl_file=/etc/sysctl.d/90-oomkit-oom.conf --check --diff
