# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page a person can read at 1,000 hosts and more.

Fleet overview first (kills per cause per day as stacked bars in inline SVG, top killed processes,
units and cgroups, hosts ranked, per-group breakdown), then the findings (one per problem), then the
hardening proposal, then the newest kills, then every host in collapsed <details> sections, fifty hosts
to a section. No script,
no external asset (a Content-Security-Policy forbids both), every value escaped: process names,
cgroup paths and host names come from logs and inventories and are attacker-controlled.
"""

from __future__ import annotations

import datetime
import html

from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_common import (
    CAUSE_COLOURS, CAUSES, OTHER_COLOUR)

MAX_DAYS = 92           # days drawn in the chart (the newest)
MAX_NEWEST_KILLS = 20   # rows of the fleet's newest kills
MAX_HOST_KILLS = 50     # rows of kills in one host's section
HOSTS_PER_SECTION = 50
MAX_FINDING_HOSTS = 6   # host names shown in a finding's row before "and N more"


def h(value):
    """HTML-escape anything (None -> '-')."""
    return html.escape('-' if value is None else str(value), quote=True)


def _colour(cause):
    return CAUSE_COLOURS.get(cause, OTHER_COLOUR)


def kills_by_day_svg(fleet, width=900, height=240):
    """Inline SVG: one stacked bar per day, one segment per cause."""
    days = fleet['kills_by_day'][-MAX_DAYS:]
    left, right, top, bottom = 48, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = ['<svg id="kills-by-day" xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" '
             'viewBox="0 0 %d %d" aria-labelledby="kills-by-day-title">' % (width, height, width, height),
             '<title id="kills-by-day-title">OOM kills per day, by cause</title>']
    if not days:
        parts.append('<text x="%d" y="%d" class="axis">no kill with a wall-clock time</text>' % (left, top + plot_h // 2))
        parts.append('</svg>')
        return '\n'.join(parts)
    # a calendar axis: days without kills are gaps, not missing bars
    first = datetime.date.fromisoformat(days[0]['day'])
    last = datetime.date.fromisoformat(days[-1]['day'])
    span = (last - first).days + 1
    peak = max(d['kills'] for d in days)
    slot = plot_w / float(span)
    bar_width = max(min(slot * 0.8, 40.0), 1.0)
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" class="axisline"/>' % (left, top + plot_h, left + plot_w, top + plot_h))
    parts.append('<text x="%d" y="%d" class="axis" text-anchor="end">%d</text>' % (left - 6, top + 10, peak))
    parts.append('<text x="%d" y="%d" class="axis" text-anchor="end">0</text>' % (left - 6, top + plot_h))
    for day in days:
        offset = (datetime.date.fromisoformat(day['day']) - first).days
        x = left + offset * slot + (slot - bar_width) / 2.0
        y = float(top + plot_h)
        label = '%s: %d kill(s): %s' % (day['day'], day['kills'],
                                        ', '.join('%s %d' % (c, n) for c, n in sorted(day['by_cause'].items())))
        parts.append('<g class="day"><title>%s</title>' % h(label))
        for cause in list(CAUSES) + sorted(set(day['by_cause']) - set(CAUSES)):
            count = day['by_cause'].get(cause)
            if not count:
                continue
            seg = plot_h * count / float(peak)
            y -= seg
            parts.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>' % (
                x, y, bar_width, seg, _colour(cause)))
        parts.append('</g>')
    for fraction, anchor in ((0.0, 'start'), (0.5, 'middle'), (1.0, 'end')):
        when = first + datetime.timedelta(days=int(round((span - 1) * fraction)))
        parts.append('<text x="%.1f" y="%d" class="axis" text-anchor="%s">%s</text>' % (
            left + plot_w * fraction, top + plot_h + 18, anchor, h(when.isoformat())))
    if len(fleet['kills_by_day']) > MAX_DAYS:
        parts.append('<text x="%d" y="%d" class="axis">the newest %d days with kills of %d</text>' % (
            left, height - 4, MAX_DAYS, len(fleet['kills_by_day'])))
    parts.append('</svg>')
    return '\n'.join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f4f4f4}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
td.n,th.n{text-align:right}
.sev{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap}.sev-critical{background:#8b0000}
.sev-high{background:#d62728}.sev-medium{background:#e08a00}.sev-low{background:#4a7ab0}.sev-info{background:#777}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.5em}svg text{font-size:12px;fill:#333}svg .axisline{stroke:#999}
.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.tops{display:grid;grid-template-columns:repeat(3,1fr);gap:1em}.tops table{font-size:.85em}
.unreachable{color:#8b0000}ul.evidence{margin:0;padding-left:1.2em}
details{margin:.2em 0}details>summary{cursor:pointer}details.section>summary{font-weight:bold;padding:.2em 0}
details.host{margin-left:1.2em;border-left:3px solid #eee;padding-left:.6em}details.host[open]{border-left-color:#bbb}
#findings td:nth-child(3){width:48%}#findings td:nth-child(4){width:22%}
.muted{color:#666}.chip{display:inline-block;background:#eef;border-radius:3px;padding:0 4px;margin:0 2px;font-size:.85em}
"""


def _table(table_id, headers, rows, numeric=()):
    out = ['<table id="%s"><thead><tr>%s</tr></thead><tbody>' % (
        table_id, ''.join('<th%s>%s</th>' % (' class="n"' if i in numeric else '', h(x)) for i, x in enumerate(headers)))]
    for row in rows:
        out.append('<tr>%s</tr>' % ''.join('<td%s>%s</td>' % (' class="n"' if i in numeric else '', cell)
                                           for i, cell in enumerate(row)))
    out.append('</tbody></table>')
    return ''.join(out)


def _sev(severity):
    return '<span class="sev sev-%s">%s</span>' % (h(severity), h(severity)) if severity else '-'


def _chips(names):
    return ''.join('<span class="chip">%s</span>' % h(n) for n in names) or '-'


def _when(event):
    return event.get('time') or ('uptime %s' % event.get('uptime') if event.get('uptime') is not None else None)


def _where(event):
    """The hosts that saw an event, plus the host named in the log line when it is another one
    (a central syslog server holds many hosts' kernel messages)."""
    text = ', '.join(event['seen_on'][:5]) + (' +%d' % (len(event['seen_on']) - 5) if len(event['seen_on']) > 5 else '')
    log_host = event.get('host')
    if log_host and log_host not in event['seen_on'] and log_host.split('.')[0] not in event['seen_on']:
        text += ' (log: %s)' % log_host
    return text


def _kills_table(table_id, events, evidence=True):
    rows = []
    for e in events:
        row = [h(e['id']), h(_when(e)), h(_where(e)), '<span class="mono">%s</span>' % h(e.get('killed_comm')),
               h(e.get('killed_pid')), h(e.get('cause')), '<span class="mono">%s</span>' % h(e.get('memcg') or e.get('task_memcg')),
               h(e.get('anon_rss_kb')), '<span class="mono">%s</span>' % h(e.get('invoker'))]
        if evidence:
            lines = e.get('evidence') or []
            row.append('<details><summary>%d line(s)</summary><ul class="evidence">%s</ul></details>' % (
                len(lines), ''.join('<li>%s</li>' % h(v) for v in lines)) if lines else '-')
        rows.append(row)
    headers = ('id', 'time', 'host', 'killed', 'pid', 'cause', 'cgroup', 'anon-rss kB', 'invoker') + (
        ('evidence',) if evidence else ())
    return _table(table_id, headers, rows, numeric=(4, 7))


def _overview(report):
    fleet = report['fleet']
    out = ['<h2 id="overview">Fleet overview</h2>', '<h3>Kills per day, by cause</h3>',
           '<div class="legend">%s</div>' % ''.join(
               '<span><i style="background:%s"></i>%s</span>' % (_colour(c), h(c)) for c in CAUSES),
           kills_by_day_svg(fleet)]
    if fleet['kills_undated']:
        out.append('<p class="muted">%d kill(s) without a wall-clock time are not drawn.</p>' % fleet['kills_undated'])
    out.append('<div class="tops">')
    for key, label in (('top_processes', 'Most killed processes'), ('top_units', 'Most killed units'),
                       ('top_cgroups', 'Cgroups with most kills')):
        out.append('<div><h3>%s</h3>%s</div>' % (h(label), _table(
            key.replace('_', '-'), ('name', 'kills', 'hosts'),
            [('<span class="mono">%s</span>' % h(e['name']), h(e['kills']), h(e['hosts'])) for e in fleet[key]],
            numeric=(1, 2)) if fleet[key] else '<p class="muted">none</p>'))
    out.append('</div>')
    out.append('<h3>Hosts ranked by kills</h3>')
    if fleet['hosts_ranked']:
        out.append(_table('hosts-ranked', ('host', 'groups', 'kills', 'findings', 'worst'),
                          [(h(r['name']), _chips(r['groups']), h(r['kills']), h(r['findings']), _sev(r['worst']))
                           for r in fleet['hosts_ranked']], numeric=(2, 3)))
    else:
        out.append('<p class="muted">No host has a kill or a finding.</p>')
    out.append('<h3>Inventory groups</h3>')
    if fleet.get('all_kills_in_groups'):
        out.append('<p id="all-kills-in-group"><b>All kills are in group %s.</b></p>'
                   % ' and in group '.join(h(g) for g in fleet['all_kills_in_groups']))
    out.append(_table('groups', ('group', 'hosts', 'diagnosed', 'with kills', 'kills', 'share of kills', 'kills by cause'),
                      [(h(g['name']), h(g['hosts']), h(g['hosts_ok']), h(g['hosts_with_kills']), h(g['kills']),
                        h('%s%%' % g['kills_share_percent']),
                        ', '.join('%s %d' % (h(c), n) for c, n in g['kills_by_cause'].items()) or '-')
                       for g in fleet['groups'][:50]], numeric=(1, 2, 3, 4, 5)))
    if len(fleet['groups']) > 50:
        out.append('<p class="muted">The 50 groups with most kills of %d; report.json has all.</p>' % len(fleet['groups']))
    return out


def _findings(report):
    out = ['<h2 id="findings-title">Findings</h2>']
    if not report['findings']:
        return out + ['<p>No finding.</p>']
    rows = []
    for f in report['findings']:
        hosts = f['hosts']
        shown = ', '.join(h(x) for x in hosts[:MAX_FINDING_HOSTS])
        if len(hosts) > MAX_FINDING_HOSTS:
            shown += (' <details><summary>and %d more</summary>%s</details>'
                      % (len(hosts) - MAX_FINDING_HOSTS, h(', '.join(hosts[MAX_FINDING_HOSTS:]))))
        when = h(f['first']) if f['first'] == f['last'] else '%s<br>%s' % (h(f['first']), h(f['last']))
        more = ('<details class="more"><summary>evidence and what to do</summary><p><b>What to do:</b> %s</p>'
                '<ul class="evidence">%s</ul></details>' % (
                    h(f['recommendation']), ''.join('<li>%s</li>' % h(e) for e in f['evidence'])))
        rows.append((h(f['id']), _sev(f['severity']), '<b>%s</b><br>%s%s' % (h(f['title']), h(f['detail']), more),
                     '<b>%d</b>: %s' % (f['hosts_count'], shown),
                     ' '.join('<span class="chip">%s %d</span>' % (h(g), n) for g, n in f['groups'].items()) or '-',
                     when))
    out.append(_table('findings', ('id', 'severity', 'finding', 'hosts', 'groups', 'first / last'), rows))
    return out


MAX_PROPOSAL_ROWS = 200


def _value_html(value):
    if isinstance(value, dict):
        return '<br>'.join('<code>%s: %s</code>' % (h(k), h(v)) for k, v in value.items())
    return '<code>%s</code>' % h(value)


def _proposal(report):
    """The hardening proposal: each item with its hosts, value, evidence and confidence, then the host groups
    that share one proposal, then what was not proposed and why."""
    proposal = report.get('proposal')
    out = ['<h2 id="proposal-title">Hardening proposal</h2>']
    if not proposal:
        return out + ['<p>No proposal in this report (a partial report: the merge makes it).</p>']
    out.append('<p>In <code>proposal.yml</code> next to this file, variable <code>hardening_proposal</code> (keyed by '
               'inventory host): review it, then <code>ansible-playbook oomkit.linux.harden -e @proposal.yml --check '
               '--diff</code>. Nothing has been changed on any host.</p>')
    if proposal['items']:
        rows = []
        for item in proposal['items'][:MAX_PROPOSAL_ROWS]:
            hosts = item['hosts']
            shown = ', '.join(h(x) for x in hosts[:MAX_FINDING_HOSTS])
            if len(hosts) > MAX_FINDING_HOSTS:
                shown += (' <details><summary>and %d more</summary>%s</details>'
                          % (len(hosts) - MAX_FINDING_HOSTS, h(', '.join(hosts[MAX_FINDING_HOSTS:]))))
            evidence = '<ul class="evidence">%s</ul>' % ''.join('<li>%s</li>' % h(e) for e in item['evidence'])
            rows.append((h(item['id']), h(item['confidence']), '<b>%s</b>%s' % (h(item['title']), evidence),
                         '<code>%s</code><br>%s' % (h(item['variable']), _value_html(item['value'])),
                         '<b>%d</b>: %s' % (item['hosts_count'], shown),
                         h(', '.join(item['event_ids']) or None) + (' (%s)' % h(item['finding']) if item['finding'] else '')))
        out.append(_table('proposal', ('id', 'confidence', 'proposal', 'variable', 'hosts', 'events'), rows))
        if len(proposal['items']) > MAX_PROPOSAL_ROWS:
            out.append('<p class="muted">The first %d of %d proposals; report.json has all.</p>'
                       % (MAX_PROPOSAL_ROWS, len(proposal['items'])))
        groups = proposal['groups']
        out.append('<p>%d host(s) in %d group(s) with the same proposal: %s</p>' % (
            proposal['summary']['hosts_with_proposal'], len(groups), '; '.join(
                '%s%s' % (', '.join(h(x) for x in g['hosts'][:MAX_FINDING_HOSTS]),
                          ' and %d more' % (len(g['hosts']) - MAX_FINDING_HOSTS) if len(g['hosts']) > MAX_FINDING_HOSTS else '')
                for g in groups[:20])))
    else:
        out.append('<p>No proposal.</p>')
    if proposal['not_proposed']:
        out.append('<h3>Not proposed</h3><ul id="not-proposed">')
        for entry in proposal['not_proposed'][:MAX_PROPOSAL_ROWS]:
            out.append('<li><b>%s</b> on %d host(s) (%s): %s%s</li>' % (
                h(entry['subject']), entry['hosts_count'], h(', '.join(entry['hosts'][:MAX_FINDING_HOSTS])),
                h(entry['reason']), ' [%s]' % h(', '.join(entry['event_ids'])) if entry['event_ids'] else ''))
        out.append('</ul>')
    return out


def _host_section(record, events):
    sysctl = record.get('sysctl') or {}
    summary = '%s <span class="muted">%s, %d kill(s)%s, %d finding(s)</span> %s' % (
        h(record['name']), h(record['status']), record['events'],
        ', %d userspace kill(s)' % record['userspace_total'] if record.get('userspace_total') else '',
        len(record['findings']), _chips(record['groups']))
    body = ['<p>kernel %s; vm.panic_on_oom=%s, vm.oom_dump_tasks=%s; containers: %s; last kill %s%s</p>' % (
        h(record.get('kernel')), h(sysctl.get('vm.panic_on_oom')), h(sysctl.get('vm.oom_dump_tasks')),
        h(', '.join(record.get('container_runtimes') or []) or ('no' if record.get('runs_containers') is False else None)),
        h(record.get('last_kill')), ('; <span class="unreachable">%s</span>' % h(record['message'])) if record.get('message') else '')]
    if record['findings']:
        body.append('<p>Findings: %s</p>' % ', '.join(
            '%s (%s, %s)' % (h(f['id']), h(f['rule']), h(f['severity'])) for f in record['findings']))
    if events:
        shown = events[-MAX_HOST_KILLS:]
        body.append(_kills_table('kills-%s' % h(record['name']), shown))
        if len(shown) < record['events']:
            body.append('<p class="muted">The newest %d of this host\'s %d kills in the report.</p>' % (len(shown), record['events']))
    return '<details class="host"><summary>%s</summary>%s</details>' % (summary, ''.join(body))


def _userspace(report):
    """Kills by userspace OOM killers: a section of their own, never mixed with the kernel's kills."""
    s = report['summary']
    out = ['<h2 id="userspace-title">Userspace OOM killers</h2>']
    if not s.get('userspace_kills_total'):
        return out + ['<p>No kill by systemd-oomd, earlyoom or nohang found.</p>']
    userspace = report['fleet']['userspace']
    out.append('<p>%d kill(s) on %d host(s) by %s. These daemons kill on their own rules (memory pressure, '
               'free memory and swap) before the kernel would: they are not kernel OOM kills and take no part in '
               'the causes and findings above.</p>' % (
                   s['userspace_kills_total'], s['hosts_with_userspace_kills'],
                   ', '.join('%s (%d)' % (h(k), v) for k, v in userspace['kills_by_killer'].items())))
    if userspace['top_victims']:
        out.append(_table('userspace-victims', ('killed unit or process', 'kills', 'hosts'),
                          [('<span class="mono">%s</span>' % h(e['name']), h(e['kills']), h(e['hosts']))
                           for e in userspace['top_victims']], numeric=(1, 2)))
    newest = report.get('userspace_events', [])[-MAX_NEWEST_KILLS:]
    out.append(_table('userspace-events', ('time', 'host', 'killer', 'killed', 'pid', 'unit or cgroup', 'reason', 'signal'),
                      [(h(u.get('time')), h(u['inventory_host']), h(u.get('killer')),
                        '<span class="mono">%s</span>' % h(u.get('victim_comm')), h(u.get('victim_pid')),
                        '<span class="mono">%s</span>' % h(u.get('unit') or u.get('cgroup')), h(u.get('reason')),
                        h(u.get('signal'))) for u in newest], numeric=(4,)))
    if len(newest) < s['userspace_kills_total']:
        out.append('<p class="muted">The newest %d of %d; report.json has the newest %d each host sent.</p>' % (
            len(newest), s['userspace_kills_total'], len(report.get('userspace_events', []))))
    return out


def _hosts(report):
    out = ['<h2 id="hosts-title">Hosts</h2>']
    events_of = {}
    for event in report['events']:
        for host in event['seen_on']:
            events_of.setdefault(host, []).append(event)
    records = report['hosts']
    sections = [records[i:i + HOSTS_PER_SECTION] for i in range(0, len(records), HOSTS_PER_SECTION)]
    out.append('<div id="hosts">')
    for chunk in sections:
        if len(sections) > 1:
            with_kills = len([r for r in chunk if r['events']])
            out.append('<details class="section"><summary>%s &hellip; %s <span class="muted">(%d hosts, %d with kills, '
                       '%d not diagnosed)</span></summary>' % (
                           h(chunk[0]['name']), h(chunk[-1]['name']), len(chunk), with_kills,
                           len([r for r in chunk if r['status'] != 'ok'])))
        out.extend(_host_section(r, events_of.get(r['name'], [])) for r in chunk)
        if len(sections) > 1:
            out.append('</details>')
    out.append('</div>')
    return out


def render_html(report):
    """Self-contained HTML page: no external asset, no script, every value escaped."""
    s = report['summary']
    partial = report.get('partial')
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           # No script may run in this page, whatever a log line contains.
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
           'img-src data:">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="oomkit.linux.diagnosis %s v%s">' % (
               h(report['schema']), h(report['schema_version'])),
           '<title>%s</title>' % h(report['title']), '<style>%s</style>' % _CSS, '</head>', '<body>',
           '<h1>%s</h1>' % h(report['title']),
           '<p>Generated %s. Schema <code>%s</code> version %s.%s</p>' % (
               h(report['generated_at']), h(report['schema']), h(report['schema_version']),
               ' <b>Partial report</b> (run %s, part %s): merge the parts with oomkit.linux.diagnose_merge.' % (
                   h(partial['run']), h(partial['part'])) if partial else ''),
           '<div class="cards" id="summary">']
    for label, value in (('hosts', s['hosts_total']), ('groups', s['groups_total']), ('with kills', s['hosts_with_kills']),
                         ('unreachable', s['hosts_unreachable']), ('failed', s['hosts_failed']),
                         ('OOM kills', s['events_total']), ('userspace kills', s.get('userspace_kills_total', 0)),
                         ('findings', s['findings_total']),
                         ('worst', s['worst_severity'] or 'none')):
        out.append('<div class="card"><b>%s</b>%s</div>' % (h(value), h(label)))
    out.append('</div>')
    out += _overview(report)
    out += _findings(report)
    out += _proposal(report)

    out.append('<h2 id="kills-title">Newest kills</h2>')
    if report['events']:
        newest = report['events'][-MAX_NEWEST_KILLS:]
        out.append(_kills_table('events', newest, evidence=False))
        total = s['events_total']
        if len(newest) < total:
            out.append('<p class="muted">The newest %d of %d kills; each host\'s section below lists its own%s.</p>' % (
                len(newest), total, ' (report.json keeps the newest %d)' % len(report['events'])
                if report.get('events_truncated') else ''))
    else:
        out.append('<p>No OOM kill found.</p>')

    out += _userspace(report)
    out += _hosts(report)
    if report['unreachable_hosts'] or report['failed_hosts']:
        out.append('<h2>Hosts not diagnosed</h2><ul id="not-diagnosed">')
        for x in report['unreachable_hosts'][:200]:
            out.append('<li class="unreachable">%s: unreachable (%s)</li>' % (h(x['name']), h(x['message'])))
        for x in report['failed_hosts'][:200]:
            out.append('<li class="unreachable">%s: failed (%s)</li>' % (h(x['name']), h(x['message'])))
        out.append('</ul>')
    out += ['</body>', '</html>', '']
    return '\n'.join(out)
