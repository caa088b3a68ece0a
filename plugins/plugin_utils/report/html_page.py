# -*- coding: utf-8 -*-
# Copyright: DLEGATE network engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report as one self-contained HTML page.

No external script, style sheet, font or image: the page is the file, so it can
be attached to a change ticket and opened offline. The rows are rendered here,
not by script, so the page reads without JavaScript; a few lines of inline
script sort and filter the table. Every number taken from the report carries
``data-metric`` (and ``data-site`` for a site's numbers), so a test can compare
the page with the JSON.
"""

from __future__ import annotations

from html import escape

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report.model import NO_VERDICT, STATES, VERDICTS

HOST_STATES_SHOWN = ("compliant", "drifted", "changed", "error", "ok", "skipped")
MAX_QUALITY_ROWS = 6
BAR_WIDTH = 360
COLORS = {"compliant": "#1a7f37", "ok": "#1a7f37", "drifted": "#bc4c00", "changed": "#0969da", "error": "#cf222e",
          "skipped": "#8c959f", "PASS": "#1a7f37", "DEGRADED": "#bc4c00", "FAIL": "#cf222e", NO_VERDICT: "#8c959f"}

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 2em 2em;color:#1b1f24}
h1{font-size:1.5em;margin:.8em 0 .2em}h2{font-size:1.15em;margin:1.2em 0 .4em}
.meta{color:#57606a;margin:0}.cards{display:flex;flex-wrap:wrap;gap:.5em}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.4em .8em;min-width:6em}
.card .num{display:block;font-size:1.6em;font-weight:600}.card .label{color:#57606a}
.card{border-left:6px solid var(--c,#d0d7de)}
.badge{display:inline-block;border-radius:4px;padding:0 .35em;margin:0 .2em .2em 0;color:#fff;
background:var(--c,#8c959f);font-size:.85em;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin-top:.5em}
th,td{border-bottom:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th[data-sort]{cursor:pointer;user-select:none}th[data-sort]:after{content:" \\2195";color:#8c959f}
tbody tr:nth-child(even){background:#f6f8fa}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.5em;overflow:auto;max-height:24em;font-size:12px}
details summary{cursor:pointer}.toolbar{display:flex;gap:.6em;align-items:center;flex-wrap:wrap}
.toolbar input{min-width:22em}ul{margin:.2em 0;padding-left:1.2em}.muted{color:#8c959f}
svg text{font:12px system-ui,sans-serif}
"""

SCRIPT = """
(function(){
  var body=document.getElementById('host-rows'),rows=Array.prototype.slice.call(body.rows);
  var text=document.getElementById('filter-text'),state=document.getElementById('filter-state'),
      site=document.getElementById('filter-site'),shown=document.getElementById('shown');
  function apply(){
    var q=text.value.trim().toLowerCase(),s=state.value,t=site.value,n=0;
    rows.forEach(function(r){
      var ok=(!q||r.getAttribute('data-text').indexOf(q)>=0)&&(!s||r.getAttribute('data-state')===s)
             &&(!t||r.getAttribute('data-site')===t);
      r.hidden=!ok;if(ok){n++;}
    });
    shown.textContent=n;
  }
  var order={};
  Array.prototype.forEach.call(document.querySelectorAll('th[data-sort]'),function(th){
    th.addEventListener('click',function(){
      var key=th.getAttribute('data-sort'),dir=order[key]=-(order[key]||-1),num=th.hasAttribute('data-numeric');
      rows.sort(function(a,b){
        var x=a.getAttribute('data-'+key),y=b.getAttribute('data-'+key);
        if(num){x=parseFloat(x);y=parseFloat(y);return dir*((x>y)-(x<y));}
        return dir*x.localeCompare(y);
      });
      var frag=document.createDocumentFragment();rows.forEach(function(r){frag.appendChild(r);});
      body.appendChild(frag);
    });
  });
  [text,state,site].forEach(function(el){el.addEventListener('input',apply);});
  apply();document.body.setAttribute('data-ready','1');
})();
"""


def _e(value):
    return escape(str(value), quote=True)


def _number(value, metric, site=None, tag="span", css="num"):
    site_attr = ' data-site="%s"' % _e(site) if site is not None else ""
    return '<%s class="%s" data-metric="%s"%s>%s</%s>' % (tag, css, _e(metric), site_attr, _e(value), tag)


def _card(value, metric, label, css):
    return '<div class="card %s">%s<span class="label">%s</span></div>' % (css, _number(value, metric), _e(label))


def _fleet_cards(totals):
    cards = [_card(totals["hosts"], "totals.hosts", "hosts", "")]
    cards += [_card(totals["host_states"][state], "totals.host_states." + state, "hosts " + state, "s-" + state)
              for state in HOST_STATES_SHOWN]
    cards += [_card(totals["readiness"][verdict], "totals.readiness." + verdict,
                    "readiness " + verdict if verdict != NO_VERDICT else "no readiness verdict", "v-" + verdict)
              for verdict in VERDICTS + (NO_VERDICT,)]
    return '<div class="cards">%s</div>' % "".join(cards)


def _bar(x, y, counts, keys, metric, site):
    """One stacked bar of a site's counts, with each count written on its segment."""
    total = sum(counts[key] for key in keys) or 1
    parts, offset = [], x
    for key in keys:
        if not counts[key]:
            continue
        width = max(BAR_WIDTH * counts[key] / total, 18)
        parts.append('<g><rect x="%.1f" y="%d" width="%.1f" height="18" fill="%s"><title>%s %s</title></rect>'
                     % (offset, y, width, COLORS[key], _e(counts[key]), _e(key)))
        parts.append('<text x="%.1f" y="%d" fill="#fff" data-metric="%s.%s" data-site="%s">%s</text></g>'
                     % (offset + 4, y + 13, _e(metric), _e(key), _e(site), _e(counts[key])))
        offset += width
    return "".join(parts)


def _sites_svg(sites):
    row_height, label_width = 48, 180
    height = max(row_height * len(sites) + 30, 60)
    width = label_width + 2 * BAR_WIDTH + 80
    out = ['<svg role="img" aria-label="Sites: host states and readiness" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (width, height, width, height),
           '<text x="%d" y="14">host states</text><text x="%d" y="14">readiness</text>'
           % (label_width, label_width + BAR_WIDTH + 40)]
    for index, site in enumerate(sites):
        y = 24 + index * row_height
        out.append('<text x="0" y="%d"><tspan>%s</tspan> (%s hosts)</text>'
                   % (y + 13, _e(site["name"][:24]), _number(site["hosts"], "sites.hosts", site["name"], "tspan")))
        out.append(_bar(label_width, y, site["host_states"], STATES, "sites.host_states", site["name"]))
        out.append(_bar(label_width + BAR_WIDTH + 40, y, site["readiness"], VERDICTS + (NO_VERDICT,),
                        "sites.readiness", site["name"]))
    out.append("</svg>")
    return "".join(out)


def _sites_table(sites):
    """Every count of every site, zeros included, beside the picture."""
    columns = [("host_states", state) for state in HOST_STATES_SHOWN] + [("readiness", v) for v in VERDICTS + (NO_VERDICT,)]
    head = "".join("<th>%s</th>" % _e(key if group == "host_states" else "readiness " + key) for group, key in columns)
    rows = []
    for site in sites:
        cells = "".join("<td>%s</td>" % _number(site[group][key], "sites.%s.%s" % (group, key), site["name"])
                        for group, key in columns)
        hosts = _number(site["hosts"], "sites.hosts", site["name"])
        rows.append("<tr><td>%s</td><td>%s</td>%s</tr>" % (_e(site["name"]), hosts, cells))
    return '<table id="site-table"><thead><tr><th>Site</th><th>hosts</th>%s</tr></thead><tbody>%s</tbody></table>' % (
        head, "".join(rows))


def _badge(text, css, title=""):
    title_attr = ' title="%s"' % _e(title) if title else ""
    return '<span class="badge %s"%s>%s</span>' % (css, title_attr, _e(text))


def _differences(items):
    if not items:
        return ""
    return "<ul>%s</ul>" % "".join("<li><code>%s</code></li>" % _e(item) for item in items[:50])


def _control_cell(host):
    out = []
    for control in host["controls"]:
        history = " \u2192 ".join("%s: %s" % (step["play"], step["state"]) for step in control["history"])
        out.append(_badge("%s %s" % (control["id"], control["state"]), "s-" + control["state"], history))
    for control in host["controls"]:
        if control["diff"] or control["differences"]:
            out.append('<details class="diff" data-control="%s"><summary>%s diff (%s)</summary>%s<pre>%s</pre></details>'
                       % (_e(control["id"]), _e(control["id"]), _e(control["state"]),
                          _differences(control["differences"]), _e(control["diff"])))
        for message in control["messages"]:
            out.append('<div>%s: %s</div>' % (_e(control["id"]), _e(message)))
    for error in host["errors"]:
        out.append('<div class="s-error">%s: %s</div>' % (_e(error["task"]), _e(error["message"])))
    return "".join(out) or '<span class="muted">no control ran</span>'


def _findings_cell(host):
    findings = host["readiness"]["findings"] if host["readiness"] else []
    items = ["<li>%s <b>%s</b> %s<br><i>%s</i></li>"
             % (_badge(f["severity"], "v-FAIL" if f["severity"] == "error" else "v-none"),
                _e(f["id"]), _e(f["summary"]), _e(f["remediation"]))
             for f in findings]
    items += ["<li>%s</li>" % _e(text) for text in host["remediation"] if text not in [f["remediation"] for f in findings]]
    return "<ul>%s</ul>" % "".join(items) if items else '<span class="muted">none</span>'


def _quality_cell(readiness):
    rows = (readiness or {}).get("quality") or []
    if not rows:
        return '<span class="muted">not measured</span>'
    width, half = 300, 45
    height = 16 * min(len(rows), MAX_QUALITY_ROWS)
    out = ['<svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="quality against thresholds">'
           % (width, height, width, height)]
    for index, row in enumerate(rows[:MAX_QUALITY_ROWS]):
        y = index * 16
        scaled = min(row["value"] / row["threshold"], 2.0) if row["threshold"] else 2.0
        color = "#1a7f37" if row["within"] else "#cf222e"
        out.append('<rect x="0" y="%d" width="%.1f" height="10" fill="%s"><title>%s %s %s%s</title></rect>'
                   % (y + 2, half * scaled, color, _e(row["check"]), _e(row["metric"]), _e(row["value"]), _e(row["unit"])))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#1b1f24"/>' % (half, y, half, y + 14))
        out.append('<text x="%d" y="%d">%s %s %g%s / %g%s</text>'
                   % (2 * half + 6, y + 11, _e(row["check"]), _e(row["metric"].split("_")[0]), row["value"],
                      _e(row["unit"]), row["threshold"], _e(row["unit"])))
    out.append("</svg>")
    return "".join(out)


def _plan_cell(plan):
    if not plan:
        return '<span class="muted">none</span>', "-1"
    up, down = plan.get("upstream_kbps"), plan.get("downstream_kbps")
    warnings = "".join("<div class=\"s-drifted\">%s</div>" % _e(w) for w in plan["warnings"])
    return "\u2191 %s \u2193 %s%s" % (_e("%g" % up if up is not None else "-"), _e("%g" % down if down is not None else "-"),
                                      warnings), "%g" % (up or 0)


def _row(host):
    verdict = host["readiness"]["verdict"] if host["readiness"] else NO_VERDICT
    plan_html, plan_sort = _plan_cell(host["bandwidth_plan"])
    findings = host["readiness"]["findings"] if host["readiness"] else []
    search = " ".join([host["name"], host["site"], host["state"], verdict]
                      + ["%s %s" % (c["id"], c["state"]) for c in host["controls"]] + [f["id"] for f in findings])
    attrs = {"name": host["name"], "site": host["site"], "state": host["state"],
             "rank": STATES.index(host["state"]), "verdict": verdict,
             "vrank": (VERDICTS + (NO_VERDICT,)).index(verdict), "plan": plan_sort, "text": search.lower()}
    cells = [_e(host["name"]), _e(host["site"]), _badge(host["state"], "s-" + host["state"]),
             _badge(verdict, "v-" + verdict), _control_cell(host), _findings_cell(host),
             _quality_cell(host["readiness"]), plan_html]
    return "<tr %s>%s</tr>" % (" ".join('data-%s="%s"' % (key, _e(value)) for key, value in attrs.items()),
                               "".join("<td>%s</td>" % cell for cell in cells))


def _options(values, label):
    options = "".join('<option value="%s">%s</option>' % (_e(value), _e(value)) for value in values)
    return '<option value="">%s</option>%s' % (_e(label), options)


def _hosts_section(report):
    sites = [site["name"] for site in report["sites"]]
    toolbar = ('<div class="toolbar"><input id="filter-text" type="search" placeholder="Filter: host, site, control, finding">'
               '<select id="filter-state">%s</select><select id="filter-site">%s</select>'
               '<span><span id="shown">%d</span> of %s hosts shown</span></div>'
               % (_options(STATES, "any state"), _options(sites, "any site"), len(report["hosts"]),
                  _number(report["totals"]["hosts"], "totals.hosts")))
    head = ('<thead><tr><th data-sort="name">Host</th><th data-sort="site">Site</th><th data-sort="rank" data-numeric>'
            'State</th><th data-sort="vrank" data-numeric>Readiness</th><th>Controls</th>'
            '<th>Findings and remediation</th><th>Quality against thresholds</th>'
            '<th data-sort="plan" data-numeric>Bandwidth plan (kbit/s)</th></tr></thead>')
    rows = "".join(_row(host) for host in report["hosts"])
    return '<section id="hosts"><h2>Hosts</h2>%s<table id="host-table">%s<tbody id="host-rows">%s</tbody></table></section>' % (
        toolbar, head, rows)


def _state_css():
    return "".join(".%s-%s{--c:%s}" % ("v" if key in VERDICTS + (NO_VERDICT,) else "s", key, color)
                   for key, color in sorted(COLORS.items()))


def render_html(report):
    """The HTML page (a string) of a report."""
    run = report["run"]
    title = "DLEGATE compliance report: %s" % (", ".join(run["playbooks"]) or "run")
    header = ('<h1>%s</h1><p class="meta">mode <b>%s</b>; generated %s; controls %s; schema %s %s</p>'
              % (_e(title), _e(run["mode"]), _e(report.get("generated_at") or ""), _e(", ".join(report["controls"]) or "none"),
                 _e(report["schema"]), _e(report["schema_version"])))
    fleet = '<section id="fleet"><h2>Fleet</h2>%s<h2>Sites</h2>%s</section>' % (
        _fleet_cards(report["totals"]), _sites_svg(report["sites"]) + _sites_table(report["sites"]))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title><style>%s</style></head>'
            '<body>%s%s%s<script>%s</script></body></html>\n'
            % (_e(title), STYLE + _state_css(), header, fleet, _hosts_section(report), SCRIPT))
