# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as JSON, Markdown (a ticket: the fleet in one screen), a Prometheus textfile and the
hardening proposal's proposal.yml.

Every string from a log is attacker-controlled: Markdown gets entities and backslash escapes (and no
link can form), Prometheus label values get the exposition format's escapes.
"""

from __future__ import annotations

import html
import json
import re

import yaml

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import USERSPACE_KILLERS
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_findings import RULES
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import CAUSES, SEVERITIES, epoch
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_hosts import HOST_STATES


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + '\n'


_MD_SPECIAL = re.compile(r'([\\`*_\[\]|~])')
_MD_LINKISH = re.compile(r'(://|www\.)', re.IGNORECASE)


def md(value):
    """Escape a value for a Markdown table cell / line: no HTML, no markup, no link, no line breaks.

    & < > become entities (shown as the characters by every Markdown renderer, and harmless where the
    text is shown raw); Markdown punctuation gets a backslash; a zero-width space breaks what an
    autolinker would turn into a link (http://..., www.).
    """
    if value is None:
        return '-'
    text = str(value).replace('\r', ' ').replace('\n', ' ')
    text = ''.join(c if c >= ' ' else ' ' for c in text)
    text = _MD_LINKISH.sub(lambda m: m.group(1)[0] + '\u200b' + m.group(1)[1:], text)
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r'\\\1', text)


def _names(items, limit=8):
    shown = ', '.join(md(i) for i in items[:limit])
    return shown + (' and %d more' % (len(items) - limit) if len(items) > limit else '')


def _tops(entries, unit='kill'):
    return ', '.join('%s (%d %s%s, %d host%s)' % (md(e['name']), e['kills'], unit, '' if e['kills'] == 1 else 's',
                                                  e['hosts'], '' if e['hosts'] == 1 else 's') for e in entries)


MAX_MD_FINDINGS = 10


def render_markdown(report):
    """A ticket: the fleet in one screen (about 40 lines), whatever the number of hosts."""
    s = report['summary']
    fleet = report['fleet']
    partial = report.get('partial')
    out = ['# %s' % md(report['title']), '',
           'Generated %s by oomkit.linux.diagnosis (schema %s v%s)%s.' % (
               md(report['generated_at']), md(report['schema']), report['schema_version'],
               ', partial report of slice %s of run %s' % (md(partial.get('slice') or partial.get('part')), md(partial['run']))
               if partial else ''), '',
           '**%d OOM kill(s)** on %d of %d host(s) in %d group(s); **%d finding(s)**%s. Hosts: %d ok, %d unreachable, '
           '%d failed.' % (s['events_total'], s['hosts_with_kills'], s['hosts_total'], s['groups_total'],
                           s['findings_total'], ' (worst: %s)' % s['worst_severity'] if s['worst_severity'] else '',
                           s['hosts_ok'], s['hosts_unreachable'], s['hosts_failed']), '']
    if s['events_by_cause']:
        out.append('- Kills by cause: ' + ', '.join('%s %d' % (md(k), v) for k, v in s['events_by_cause'].items()) + '.')
        days = fleet['kills_by_day']
        if days:
            busiest = max(days, key=lambda d: (d['kills'], d['day']))
            out.append('- From %s to %s; busiest day %s with %d kill(s).' % (
                md(s['first_kill']), md(s['last_kill']), md(busiest['day']), busiest['kills']))
        if fleet['top_processes']:
            out.append('- Most killed processes: %s.' % _tops(fleet['top_processes'][:5]))
        if fleet['top_units']:
            out.append('- Most killed units: %s.' % _tops(fleet['top_units'][:5]))
        if fleet['top_cgroups']:
            out.append('- Cgroups with most kills: %s.' % _tops(fleet['top_cgroups'][:5]))
        groups = [g for g in fleet['groups'] if g['kills']]
        if fleet.get('all_kills_in_groups'):
            out.append('- All kills are in group %s.' % ' and in group '.join(md(g) for g in fleet['all_kills_in_groups']))
        if groups:
            out.append('- Kills by group: %s.' % ', '.join(
                '%s %s%% (%d kill(s) on %d of %d host(s))' % (md(g['name']), g['kills_share_percent'], g['kills'],
                                                              g['hosts_with_kills'], g['hosts']) for g in groups[:5]))
        ranked = [h for h in fleet['hosts_ranked'] if h['kills']]
        if ranked:
            out.append('- Hosts with most kills: %s.' % ', '.join('%s %d' % (md(h['name']), h['kills']) for h in ranked[:8]))
        out.append('')
    if s.get('userspace_kills_total'):
        userspace = fleet['userspace']
        out.append('- Userspace OOM killers (not kernel OOM kills): %d kill(s) on %d host(s)%s%s.' % (
            s['userspace_kills_total'], s['hosts_with_userspace_kills'],
            ': ' + ', '.join('%s %d' % (md(k), v) for k, v in userspace['kills_by_killer'].items())
            if userspace['kills_by_killer'] else '',
            '; most killed: %s' % _tops(userspace['top_victims'][:5]) if userspace['top_victims'] else ''))
        out.append('')
    if report['findings']:
        shown = report['findings'][:MAX_MD_FINDINGS]
        out += ['## Findings%s' % (' (the %d most severe of %d)' % (len(shown), len(report['findings']))
                                   if len(shown) < len(report['findings']) else ''), '',
                '| id | severity | hosts | finding |', '|---|---|---|---|']
        for f in shown:
            out.append('| %s | %s | %d: %s | %s |' % (f['id'], f['severity'], f['hosts_count'], _names(f['hosts'], 3),
                                                      md(f['title'])))
        out.append('')
    out += _markdown_proposal(report.get('proposal'))
    if s['unreachable_hosts'] or s['failed_hosts']:
        out.append('Not diagnosed: %s%s.' % (
            '%d unreachable (%s)' % (len(s['unreachable_hosts']), _names(s['unreachable_hosts'])) if s['unreachable_hosts'] else '',
            '%s%d failed (%s)' % ('; ' if s['unreachable_hosts'] else '', len(s['failed_hosts']), _names(s['failed_hosts']))
            if s['failed_hosts'] else ''))
        out.append('')
    out.append('Every finding, host and kill: report.html and report.json, written next to this file.')
    return '\n'.join(out) + '\n'


MAX_MD_PROPOSALS = 8


def _value_text(value):
    if isinstance(value, dict):
        return ', '.join('%s=%s' % (k, v) for k, v in value.items())
    return str(value)


def _markdown_proposal(proposal):
    """The hardening proposal: one line per item (what, where, how sure, why), then what was not proposed."""
    if not proposal or not (proposal['items'] or proposal['not_proposed']):
        return []
    out = ['## Hardening proposal', '',
           '%d proposal(s) for %d host(s), in proposal.yml next to this file (variable hardening_proposal, for '
           '`ansible-playbook oomkit.linux.harden -e @proposal.yml --check --diff`).' % (
               len(proposal['items']), proposal['summary']['hosts_with_proposal']), '']
    if proposal['items']:
        out += ['| id | confidence | hosts | variable | value | why |', '|---|---|---|---|---|---|']
        for item in proposal['items'][:MAX_MD_PROPOSALS]:
            out.append('| %s | %s | %d: %s | %s | %s | %s |' % (
                item['id'], item['confidence'], item['hosts_count'], _names(item['hosts'], 3), md(item['variable']),
                md(_value_text(item['value'])), md('; '.join(item['evidence'][:2]))))
        if len(proposal['items']) > MAX_MD_PROPOSALS:
            out.append('')
            out.append('... and %d more in report.html.' % (len(proposal['items']) - MAX_MD_PROPOSALS))
        out.append('')
    if proposal['not_proposed']:
        declined = ['%s on %d host(s): %s' % (md(n['subject']), n['hosts_count'], md(n['reason']))
                    for n in proposal['not_proposed'][:3]]
        out.append('Not proposed: %s.' % '; '.join(declined)
                   + (' (%d more in report.html)' % (len(proposal['not_proposed']) - 3)
                      if len(proposal['not_proposed']) > 3 else ''))
        out.append('')
    return out


def _comment(value):
    """Text for a YAML comment: one line, no control character."""
    return ''.join(c if c >= ' ' and c != '\x7f' else ' ' for c in str(value))


def render_proposal(report):
    """proposal.yml: one variable, hardening_proposal (keyed by inventory host), the role's own variables;
    each item's why in comments above it (for the review), the data itself dumped by PyYAML's safe dumper."""
    proposal = report.get('proposal') or {'hosts': {}, 'items': [], 'not_proposed': []}
    title, when = _comment(report['title']), _comment(report['generated_at'])
    out = ['# The hardening proposal of %s (oomkit.linux.diagnosis, %s).' % (title, when),
           '# Review it, then: ansible-playbook oomkit.linux.harden -i INVENTORY -e @proposal.yml --check --diff',
           '# Each host gets its own entry, merged with the hardening role\'s other variables.', '#']
    for item in proposal['items']:
        out.append('# %s (%s) %s: %s' % (item['id'], item['confidence'], _comment(', '.join(item['hosts'][:10]) + (
            ' and %d more' % (len(item['hosts']) - 10) if len(item['hosts']) > 10 else '')), _comment(item['title'])))
        out.extend('#     %s' % _comment(line) for line in item['evidence'][:6])
    if proposal['not_proposed']:
        out.append('# Not proposed:')
        out.extend('#   %s on %d host(s): %s' % (_comment(n['subject']), n['hosts_count'], _comment(n['reason']))
                   for n in proposal['not_proposed'][:50])
    out.append(yaml.safe_dump({'hardening_proposal': proposal['hosts']}, default_flow_style=False, sort_keys=False,
                              allow_unicode=False, width=120).rstrip('\n'))
    return '---\n' + '\n'.join(out) + '\n'


def prom_label(value):
    """Escape a Prometheus label value (backslash, double quote, newline)."""
    return str('' if value is None else value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def render_prometheus(report):
    """Prometheus text exposition format, for node_exporter's textfile collector (promtool-clean).

    Label sets do not depend on what was found: every diagnosed host has a kill series per cause and a
    findings series per severity, zero when there is none; a host's state is a state set (one series per
    state, 1 for the current one)."""
    out = []

    def metric(name, kind, text, samples):
        out.append('# HELP %s %s' % (name, text))
        out.append('# TYPE %s %s' % (name, kind))
        for labels, value in samples:
            label_text = ','.join('%s="%s"' % (k, prom_label(v)) for k, v in labels)
            out.append('%s{%s} %s' % (name, label_text, value) if label_text else '%s %s' % (name, value))

    hosts = report['hosts']
    ok = [x for x in hosts if x['status'] == 'ok']
    kills = {}
    last = {}
    for e in report['events']:
        t = epoch(e.get('time'))
        for host in e['seen_on']:
            if t is not None and t > last.get(host, 0):
                last[host] = t
    for x in ok:
        kills[x['name']] = x.get('kills_by_cause') or {}
    metric('oomkit_oom_kills_total', 'counter',
           'OOM kills the kernel logs of the host hold, per cause, as read by the last diagnosis run (drops when '
           'logs rotate, which rate() takes as a counter reset).',
           [((('host', x['name']), ('cause', cause)), kills[x['name']].get(cause, 0)) for x in ok for cause in CAUSES])
    metric('oomkit_oom_last_kill_timestamp_seconds', 'gauge',
           'Time of the newest OOM kill found in the report, per host; 0 when none.',
           [((('host', x['name']),), '%.3f' % last[x['name']] if x['name'] in last else '0') for x in ok])
    metric('oomkit_userspace_oom_kills_total', 'counter',
           'Kills by userspace OOM killers (systemd-oomd, earlyoom, nohang; not kernel OOM kills) the logs of the '
           'host hold, per killer, as read by the last diagnosis run.',
           [((('host', x['name']), ('killer', killer)), (x.get('userspace_by_killer') or {}).get(killer, 0))
            for x in ok for killer in USERSPACE_KILLERS])
    metric('oomkit_vmstat_oom_kill_total', 'counter', 'oom_kill of /proc/vmstat: OOM kills since boot, per host.',
           [((('host', x['name']),), x['vmstat_oom_kill']) for x in ok if isinstance(x.get('vmstat_oom_kill'), int)])
    severities = {}
    for x in ok:
        counts = dict((s, 0) for s in SEVERITIES)
        for f in x.get('findings') or []:
            counts[f['severity']] += 1
        severities[x['name']] = counts
    metric('oomkit_diagnosis_findings', 'gauge', 'Findings of the last diagnosis run that concern the host, per severity.',
           [((('host', x['name']), ('severity', sev)), severities[x['name']][sev]) for x in ok for sev in SEVERITIES])
    by_rule = dict((rule, 0) for rule in RULES)
    for f in report['findings']:
        by_rule[f['rule']] = by_rule.get(f['rule'], 0) + f['hosts_count']
    metric('oomkit_diagnosis_rule_hosts', 'gauge', 'Hosts with a finding of the rule in the last diagnosis run.',
           [((('rule', rule),), n) for rule, n in sorted(by_rule.items())])
    metric('oomkit_diagnosis_host_up', 'gauge', '1 when the host was diagnosed, 0 when unreachable or failed.',
           [((('host', x['name']),), 1 if x['status'] == 'ok' else 0) for x in hosts])
    metric('oomkit_diagnosis_host_state', 'gauge', 'State of the host in the last diagnosis run: 1 for its state, '
           '0 for the others (one series per state, always all of them).',
           [((('host', x['name']), ('state', state)), 1 if x['status'] == state else 0) for x in hosts for state in HOST_STATES])
    metric('oomkit_diagnosis_last_run_timestamp_seconds', 'gauge', 'When the report was generated.',
           [((), '%.3f' % epoch(report['generated_at']))])
    return '\n'.join(out) + '\n'
