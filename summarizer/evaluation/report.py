"""Leaderboard files (Markdown, CSV, JSON) and a self-contained HTML report with inline SVG plots.

Inline SVG keeps the report one file with no JavaScript or network fetches: it opens anywhere,
including offline newsrooms and CI's headless browser.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from summarizer.evaluation.compare import SIGNIFICANCE_METRICS, Comparison, SystemResult
from summarizer.evaluation.registry import Column, display_scale, headline_columns

PLOT_METRICS = ("rouge1_f", "rouge2_f", "rougeLsum_f")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _scaled(key: str, value: float) -> float:
    return value * display_scale(key)


# The meta-evaluation whose numbers tell a leaderboard reader how far to trust each column.
DEFAULT_META_EVAL = Path(__file__).resolve().parents[2] / "eval" / "meta" / "summeval" / "meta_eval.json"


def trust_lines(comparison: Comparison, meta_eval: Path | None) -> list[str]:
    """Markdown: how well each leaderboard column agrees with human judgments (system-level Kendall τ from a
    meta-eval run), so a reader knows how far to trust it; nothing when no meta-eval file is there."""
    path = meta_eval if meta_eval is not None else DEFAULT_META_EVAL
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        correlations, config = report["correlations"], report["config"]
    except (OSError, ValueError, KeyError):
        return []
    columns = [c for c in leaderboard_columns(comparison) if c.key in correlations]
    if not columns:
        return []
    dimensions = config["dimensions"]
    lines = [f"How far to trust each column: system-level Kendall τ with expert judgments on "
             f"{Path(config['dataset']).name} ({config['documents']} documents × {len(config['systems'])} systems, "
             f"95% bootstrap intervals in [{Path(path).name.replace('.json', '.md')}]({_relative(path)})). "
             "Intervals that include 0 mean the column does not reliably rank systems the way people do.", "",
             "| column | " + " | ".join(dimensions) + " |", "|---|" + "---|" * len(dimensions)]
    for column in columns:
        cells = []
        for dimension in dimensions:
            cell = correlations[column.key][dimension]["system_kendall"]
            cells.append("—" if cell["value"] is None
                         else f"{cell['value']:.2f} [{cell['low']:.2f}, {cell['high']:.2f}]")
        lines.append(f"| {column.label} | " + " | ".join(cells) + " |")
    return lines + [""]


def _relative(path: Path) -> str:
    md = Path(path).with_suffix(".md")
    try:
        return str(md.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(md)


def leaderboard_columns(comparison: Comparison) -> list[Column]:
    """The headline columns of every metric family the comparison ran (from the metric registry)."""
    return headline_columns(comparison.config.get("metric_families", []))


def ranked(comparison: Comparison, key: str = "rougeLsum_f") -> list[SystemResult]:
    return sorted(comparison.systems, key=lambda s: s.result.aggregates.get(key, {}).get("mean", 0.0), reverse=True)


def leaderboard_rows(comparison: Comparison) -> list[dict[str, Any]]:
    rows = []
    for system in ranked(comparison):
        row: dict[str, Any] = {"system": system.name, "kind": system.kind}
        for key in (column.key for column in leaderboard_columns(comparison)):
            agg = system.result.aggregates.get(key)
            if agg:
                row[key] = round(_scaled(key, agg["mean"]), 3)
                row[f"{key}_low"] = round(_scaled(key, agg["low"]), 3)
                row[f"{key}_high"] = round(_scaled(key, agg["high"]), 3)
        for key, test in system.significance.items():
            row[f"{key}_diff_vs_baseline"] = round(_scaled(key, test["diff"]), 3)
            row[f"{key}_p_vs_baseline"] = round(test["p_permutation"], 4)
        row["articles_per_s"] = system.run.get("articles_per_s")
        row["failed"] = system.result.counts.get("failed_predictions", 0) + system.result.counts.get(
            "missing_predictions", 0)
        rows.append(row)
    return rows


def rouge_description(rouge: dict[str, Any]) -> str:
    stemmer = "Porter stemming" if rouge.get("use_stemmer") else "no stemming"
    return (f"`{rouge.get('mode')}` mode of {rouge.get('implementation')} {rouge.get('version')} "
            f"(reproduces {rouge.get('reproduces')}), {stemmer}, tokenizer {rouge.get('tokenizer')}, "
            f"ROUGE-Lsum over {rouge.get('rougeLsum_sentences')} bullets")


def markdown_leaderboard(comparison: Comparison, command: str, meta_eval: Path | None = None,
                         with_trust: bool = True) -> str:
    base = comparison.baseline or "—"
    config, boot = comparison.config, comparison.config["bootstrap"]
    columns = leaderboard_columns(comparison)
    lines = [
        f"# Leaderboard: {Path(comparison.dataset).name}", "",
        f"Produced by: `{command}`", "",
        f"ROUGE: {rouge_description(config['rouge'])}; references: {config['multi_reference']}; "
        f"{boot['confidence']:.0%} bootstrap intervals ({boot['resamples']} resamples, seed {boot['seed']}); "
        f"dataset sha256 {config['dataset_sha256'][:16]}; bullets per article {config['bullets']}.",
        "",
        f"Δ and p are against the baseline **{base}** (paired bootstrap interval of the difference; "
        "p from a paired permutation test, 10,000 sign flips).", "",
        *(trust_lines(comparison, meta_eval) if with_trust else []),
        "| system | kind | " + " | ".join(column.label for column in columns)
        + " | ΔR-2 vs base [95% CI] | p (R-2) | ΔR-Lsum vs base [95% CI] | p (R-Lsum) | articles/s |",
        "|" + "---|" * (len(columns) + 7),
    ]
    for system in ranked(comparison):
        agg = system.result.aggregates

        def cell(key: str, aggregates: dict = agg) -> str:
            if key not in aggregates:
                return "—"
            a = aggregates[key]
            return f"{_scaled(key, a['mean']):.2f} [{_scaled(key, a['low']):.2f}, {_scaled(key, a['high']):.2f}]"

        def sig(key: str, system: SystemResult = system) -> tuple[str, str]:
            test = system.significance.get(key)
            if not test:
                return ("—", "—")
            return (f"{_scaled(key, test['diff']):+.2f} [{_scaled(key, test['low']):+.2f}, "
                    f"{_scaled(key, test['high']):+.2f}]", f"{test['p_permutation']:.4f}")

        d2, p2 = sig("rouge2_f")
        dl, pl = sig("rougeLsum_f")
        rate = system.run.get("articles_per_s")
        metric_cells = " | ".join(cell(column.key) for column in columns)
        lines.append(f"| {system.name} | {system.kind} | {metric_cells} | {d2} | {p2} | {dl} | {pl} "
                     f"| {rate if rate is not None else '—'} |")
    return "\n".join(lines) + "\n"


def write_leaderboard(comparison: Comparison, out_dir: Path, command: str, meta_eval: Path | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = leaderboard_rows(comparison)
    paths = [out_dir / name for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "report.html")]
    paths[0].write_text(markdown_leaderboard(comparison, command, meta_eval), encoding="utf-8")
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(paths[1], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    payload = {
        "command": command, "config": comparison.config, "baseline": comparison.baseline,
        "systems": [{"name": s.name, "kind": s.kind, "metrics": s.result.aggregates, "counts": s.result.counts,
                     "run": s.run, "significance_vs_baseline": s.significance} for s in ranked(comparison)],
    }
    paths[2].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[3].write_text(html_report(comparison, command, meta_eval), encoding="utf-8")
    return paths


# --- HTML + SVG -----------------------------------------------------------------------------------
def _svg_bars_with_intervals(systems: list[SystemResult]) -> str:
    width, row_h, left = 860, 18, 190
    groups = [(s, [s.result.aggregates.get(m) for m in PLOT_METRICS]) for s in systems]
    height = 40 + len(groups) * (row_h * len(PLOT_METRICS) + 10)
    top = max((_scaled(m, a["high"]) for _, aggs in groups for m, a in zip(PLOT_METRICS, aggs) if a),
              default=1.0) * 1.05 or 1.0
    scale = (width - left - 20) / top
    parts = [f'<svg class="plot" id="metric-bars" width="{width}" height="{height}" role="img" '
             'aria-label="ROUGE means with 95% intervals">']
    y = 30
    for i, metric in enumerate(PLOT_METRICS):
        parts.append(f'<rect x="{left + i * 120}" y="6" width="12" height="12" fill="{PALETTE[i]}"/>'
                     f'<text x="{left + i * 120 + 16}" y="16" font-size="12">{metric}</text>')
    for system, aggs in groups:
        parts.append(f'<text x="{left - 8}" y="{y + row_h * 1.6}" font-size="12" text-anchor="end">'
                     f'{html.escape(system.name)}</text>')
        for i, (metric, agg) in enumerate(zip(PLOT_METRICS, aggs)):
            if agg:
                mean, low, high = (_scaled(metric, agg[k]) for k in ("mean", "low", "high"))
                parts.append(
                    f'<rect class="bar" x="{left}" y="{y}" width="{mean * scale:.1f}" height="{row_h - 4}" '
                    f'fill="{PALETTE[i]}"><title>{html.escape(system.name)} {metric}: {mean:.2f} '
                    f'[{low:.2f}, {high:.2f}]</title></rect>'
                    f'<line x1="{left + low * scale:.1f}" x2="{left + high * scale:.1f}" y1="{y + (row_h - 4) / 2}" '
                    f'y2="{y + (row_h - 4) / 2}" stroke="#000" stroke-width="1.5"/>'
                    f'<text x="{left + high * scale + 4:.1f}" y="{y + row_h - 6}" font-size="10">{mean:.2f}</text>')
            y += row_h
        y += 10
    parts.append("</svg>")
    return "".join(parts)


def _svg_scatter(a: SystemResult, b: SystemResult, metric: str = "rougeLsum_f") -> str:
    size, pad = 420, 50
    rows_b = {row["id"]: row for row in b.result.per_article}
    points = [(row[metric], rows_b[row["id"]][metric]) for row in a.result.per_article
              if row["id"] in rows_b and metric in row and metric in rows_b[row["id"]]]
    span = size - 2 * pad
    parts = [f'<svg class="plot" id="scatter" width="{size}" height="{size}" role="img" '
             f'aria-label="per-article {metric}: {html.escape(a.name)} vs {html.escape(b.name)}">',
             f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#999"/>',
             f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>',
             f'<text x="{size / 2}" y="{size - 12}" font-size="12" text-anchor="middle">{html.escape(a.name)} '
             f'{metric}</text>',
             f'<text x="14" y="{size / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {size / 2})">'
             f'{html.escape(b.name)} {metric}</text>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = pad + tick * span, size - pad - tick * span
        parts.append(f'<text x="{x:.0f}" y="{size - pad + 14}" font-size="10" text-anchor="middle">{tick:g}</text>'
                     f'<text x="{pad - 6}" y="{y + 3:.0f}" font-size="10" text-anchor="end">{tick:g}</text>')
    for x, y in points:
        parts.append(f'<circle class="point" cx="{pad + x * span:.1f}" cy="{size - pad - y * span:.1f}" r="3" '
                     f'fill="{PALETTE[0]}" fill-opacity="0.6"/>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_throughput(systems: list[SystemResult]) -> str:
    measured = [(s.name, s.run["articles_per_s"]) for s in systems if s.run.get("articles_per_s")]
    if not measured:
        return "<p>No throughput measured (all systems were published outputs).</p>"
    width, row_h, left = 700, 22, 190
    top = max(rate for _, rate in measured) * 1.15
    parts = [f'<svg class="plot" id="throughput" width="{width}" height="{20 + row_h * len(measured)}" role="img" '
             'aria-label="articles per second">']
    for i, (name, rate) in enumerate(measured):
        y = 10 + i * row_h
        w = (width - left - 60) * rate / top
        parts.append(f'<text x="{left - 8}" y="{y + 14}" font-size="12" text-anchor="end">{html.escape(name)}</text>'
                     f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{PALETTE[2]}"/>'
                     f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{rate:.2f}/s</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(comparison: Comparison, command: str, meta_eval: Path | None = None) -> str:
    systems = ranked(comparison)
    models = [s for s in systems if s.kind == "model"] or systems
    top_two = models[:2] if len(models) >= 2 else systems[:2]
    scatter = _svg_scatter(*top_two) if len(top_two) == 2 else "<p>Need two systems for a scatter plot.</p>"
    sig_rows = []
    for system in systems:
        for metric in SIGNIFICANCE_METRICS:
            test = system.significance.get(metric)
            if test:
                sig_rows.append(
                    f"<tr><td>{html.escape(system.name)}</td><td>{metric}</td>"
                    f"<td>{_scaled(metric, test['diff']):+.2f}</td><td>[{_scaled(metric, test['low']):+.2f}, "
                    f"{_scaled(metric, test['high']):+.2f}]</td><td>{test['p_bootstrap']:.4f}</td>"
                    f"<td>{test['p_permutation']:.4f}</td></tr>")
    leaderboard_html = markdown_table_to_html(markdown_leaderboard(comparison, command, with_trust=False))
    trust = trust_lines(comparison, meta_eval)
    trust_html = (f"<h2>How far to trust each column</h2><p>{html.escape(trust[0])}</p>"
                  + markdown_table_to_html("\n".join(trust[2:])).replace('id="leaderboard"', 'id="trust"')
                  if trust else "")
    dataset_name = html.escape(Path(comparison.dataset).name)
    scatter_title = " vs ".join(html.escape(s.name) for s in top_two)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>summarizer report: {dataset_name}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px}}th{{background:#f3f3f3}}code{{background:#f6f6f6;padding:2px 4px}}</style>
</head><body>
<h1>Model comparison on {dataset_name}</h1>
<p>Command: <code>{html.escape(command)}</code></p>
<h2>ROUGE with 95% intervals</h2>
{_svg_bars_with_intervals(systems)}
<h2>Per-article ROUGE-Lsum: {scatter_title}</h2>
{scatter}
<h2>Significance against the baseline ({html.escape(comparison.baseline or 'none')})</h2>
<table id="significance"><tr><th>system</th><th>metric</th><th>Δ mean</th><th>95% CI</th><th>p (paired bootstrap)</th>
<th>p (permutation)</th></tr>{''.join(sig_rows)}</table>
<h2>Throughput (articles per second, this machine)</h2>
{_svg_throughput(systems)}
<h2>Leaderboard</h2>
{leaderboard_html}
{trust_html}
{_explorer(comparison)}
<h2>Configuration</h2>
<pre>{html.escape(json.dumps(comparison.config, indent=2, ensure_ascii=False))}</pre>
<script>
// Records what the browser actually laid out, so automated checks (and curious readers) can see that
// every plot rendered with non-zero size.
window.addEventListener("load", () => {{
  const plots = [...document.querySelectorAll("svg.plot")];
  const drawn = plots.filter(svg => {{ const box = svg.getBBox(); return box.width > 0 && box.height > 0; }});
  const marks = [...document.querySelectorAll("svg.plot rect.bar, svg.plot circle.point")]
    .filter(el => {{ const box = el.getBBox(); return box.width > 0 && box.height > 0; }});
  document.body.dataset.plots = plots.length;
  document.body.dataset.plotsRendered = drawn.length;
  document.body.dataset.marksRendered = marks.length;
}});
</script>
</body></html>
"""


def _explorer(comparison: Comparison) -> str:
    if not comparison.references:
        return ""
    from summarizer.evaluation.explorer import explorer_section
    from summarizer.evaluation.tokenize import DefaultTokenizer

    return explorer_section(comparison, comparison.tokenizer or DefaultTokenizer(use_stemmer=True))


def markdown_table_to_html(markdown: str) -> str:
    rows = [line for line in markdown.splitlines() if line.startswith("|") and not line.startswith("|---")]
    out = ['<table id="leaderboard">']
    for index, line in enumerate(rows):
        tag = "th" if index == 0 else "td"
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)
