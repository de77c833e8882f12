"""The HTML page's Jinja2 template (kept in Python so a wheel needs no package data).

The charts are embedded by one script at the end; it records what it drew in
``window.salReport`` (``rendered``, ``failed``) so a browser test can wait for it.
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SAL report: {{ window }}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: #212121; margin: 0 auto; max-width: 860px; padding: 24px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 19px; margin: 32px 0 4px; border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; }
  .meta, .note { color: #616161; margin: 4px 0; }
  .kpis { display: flex; gap: 12px; flex-wrap: wrap; margin: 20px 0 8px; }
  .kpi { border: 1px solid #e0e0e0; border-radius: 8px; padding: 10px 16px; min-width: 110px; }
  .kpi b { display: block; font-size: 24px; }
  .kpi span { color: #616161; font-size: 13px; }
  .assessment { margin: 8px 0; }
  .advice { background: #fff8e1; border-left: 4px solid #f9a825; padding: 8px 12px; }
  .chart { margin: 12px 0; min-height: 40px; }
  .empty { color: #757575; font-style: italic; }
  table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
  th, td { border-bottom: 1px solid #e0e0e0; padding: 6px 10px; text-align: left;
           vertical-align: top; }
  th { background: #fafafa; }
</style>
<script>{{ bundle | safe }}</script>
</head>
<body>
<header>
  <h1>SAL report</h1>
  <p class="meta">{{ window | capitalize }}; generated {{ report.generated_at[:16] }} UTC.</p>
  <p class="meta">{{ counting }}</p>
</header>
<section class="kpis" id="kpis">
  <div class="kpi"><b>{{ s.mqls }}</b><span>MQLs evaluated</span></div>
  <div class="kpi"><b>{{ s.sals }}</b><span>SALs</span></div>
  <div class="kpi"><b>{{ "n/a" if s.rate_pct is none else "%.1f %%" | format(s.rate_pct) }}</b>
    <span>MQL→SAL rate</span></div>
  <div class="kpi"><b>{{ s.review }}</b><span>in review</span></div>
  <div class="kpi"><b>{{ s.rejected }}</b><span>rejected</span></div>
</section>
<p class="assessment">The rate is {{ s.assessment }}. {{ bands }}.</p>
{% if s.advice %}
<p class="advice"><b>What to look at first:</b> {{ s.advice }}</p>
{% endif %}
{% for block in blocks %}
<section id="{{ block.id }}">
  <h2>{{ block.title }}</h2>
  {% if block.note %}<p class="note">{{ block.note }}</p>{% endif %}
  {% if block.chart %}
  <div class="chart" id="chart-{{ block.id }}" data-marks="{{ block.marks }}"></div>
  {% elif block.empty %}
  <p class="empty">{{ block.empty }}</p>
  {% endif %}
  {% if block.table %}
  <table>
    <tr>{% for cell in block.table[0] %}<th>{{ cell }}</th>{% endfor %}</tr>
    {% for row in block.table[1:] %}
    <tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
    {% endfor %}
  </table>
  {% endif %}
</section>
{% endfor %}
<script type="application/json" id="sal-charts">{{ specs | safe }}</script>
<script>
  window.salReport = { rendered: [], failed: [] };
  const specs = JSON.parse(document.getElementById("sal-charts").textContent);
  const done = Object.entries(specs).map(([id, spec]) =>
    vegaEmbed("#chart-" + id, spec, { actions: false, renderer: "svg" })
      .then(() => window.salReport.rendered.push(id))
      .catch((error) => { window.salReport.failed.push(id); console.error(error); }));
  Promise.allSettled(done).then(() => { window.salReport.done = true; });
</script>
</body>
</html>
"""
