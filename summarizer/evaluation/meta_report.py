"""meta_eval.json, meta_eval.md and a self-contained meta_eval.html (heatmaps with intervals)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from summarizer.evaluation.meta_eval import LEVEL_TITLES, LEVELS


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _cell_text(cell: dict[str, Any]) -> str:
    if cell["value"] is None:
        return "—"
    return f"{cell['value']:.3f} [{_fmt(cell['low'], 2)}, {_fmt(cell['high'], 2)}]"


def markdown_report(report: dict[str, Any], command: str) -> str:
    config = report["config"]
    boot = config["bootstrap"]
    dimensions = config["dimensions"]
    lines = [
        f"# Meta-evaluation: {Path(config['dataset']).name}", "",
        f"Produced by: `{command}`", "",
        f"{config['documents']} documents × {len(config['systems'])} systems ({', '.join(config['systems'])}); "
        f"human dimensions: {', '.join(dimensions)}. References per document: "
        f"{', '.join(map(str, config['references_per_document']))}, reference set `{config['reference_set']}`, "
        f"combined by {config['multi_reference_combine']}. {boot['confidence']:.0%} intervals: "
        f"{boot['resamples']} bootstrap resamples of systems and documents jointly (seed {boot['seed']}). "
        f"Dataset sha256 {config['dataset_sha256'][:16]}.", "",
    ]
    for level in LEVELS:
        lines += [f"## {LEVEL_TITLES[level]}", "", "| metric | " + " | ".join(dimensions) + " |",
                  "|---|" + "---|" * len(dimensions)]
        for key, cells in report["correlations"].items():
            lines.append(f"| {key} | " + " | ".join(_cell_text(cells[d][level]) for d in dimensions) + " |")
        lines.append("")
    if report.get("published"):
        published = report["published"]
        level_title = LEVEL_TITLES[published["level"]]
        lines += [f"## Ours beside the published {level_title}", "", f"Source: {published['source']}", "",
                  f"Their setup: {published['setup']}", "",
                  "| published metric | ours | dimension | published | ours [95% CI] | Δ (ours − published) "
                  "| published inside our CI | note |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in published["rows"]:
            inside = {True: "yes", False: "**no**", None: "—"}[row.get("inside_interval")]
            lines.append(f"| {row['published']} | {row['ours']} | {row['dimension']} | {row['theirs']:.4f} "
                         f"| {_fmt(row['value'], 4)} [{_fmt(row.get('low'), 2)}, {_fmt(row.get('high'), 2)}] "
                         f"| {_fmt(row['difference'], 4)} | {inside} | {row['note']} |")
        lines.append("")
    lines += ["## Is the best metric better than the others? (paired tests)", "",
              "For each dimension and level, the metric with the highest correlation against each other one: the "
              "difference of correlations, its bootstrap interval, and the permutation p-value.", "",
              "| dimension | level | best | other | Δ | 95% CI | p (permutation) |", "|---|---|---|---|---|---|---|"]
    for test in report["paired_tests"]:
        lines.append(f"| {test['dimension']} | {LEVEL_TITLES[test['level']]} | {test['a']} | {test['b']} "
                     f"| {test['difference']:+.3f} | [{_fmt(test['low'], 2)}, {_fmt(test['high'], 2)}] "
                     f"| {_fmt(test['p_permutation'], 4)} |")
    lines.append("")
    if report["missing_values"]:
        lines += ["## Missing values", "", "Scores a metric could not produce (left out of the correlations, "
                  "never counted as 0):", ""]
        for key, per_system in report["missing_values"].items():
            lines.append(f"- {key}: " + ", ".join(f"{system} {count}" for system, count in per_system.items()))
        lines.append("")
    return "\n".join(lines)


def _color(value: float | None) -> str:
    """Diverging scale: -1 blue, 0 white, +1 red."""
    if value is None:
        return "#eeeeee"
    strength = max(-1.0, min(1.0, value))
    if strength >= 0:
        other = int(255 - 180 * strength)
        return f"rgb(255,{other},{other})"
    other = int(255 + 180 * strength)
    return f"rgb({other},{other},255)"


def html_report(report: dict[str, Any], command: str) -> str:
    config = report["config"]
    dimensions = config["dimensions"]
    sections = []
    for level in LEVELS:
        rows = []
        for key, cells in report["correlations"].items():
            tds = []
            for dimension in dimensions:
                cell = cells[dimension][level]
                interval = ("" if cell["value"] is None
                            else f"<br><small>[{_fmt(cell['low'], 2)}, {_fmt(cell['high'], 2)}]</small>")
                tds.append(f'<td class="heat" style="background:{_color(cell["value"])}" '
                           f'data-metric="{html.escape(key)}" data-dimension="{html.escape(dimension)}">'
                           f'{_fmt(cell["value"])}{interval}</td>')
            rows.append(f"<tr><th>{html.escape(key)}</th>{''.join(tds)}</tr>")
        header = "".join(f"<th>{html.escape(d)}</th>" for d in dimensions)
        sections.append(f'<h2>{LEVEL_TITLES[level]}</h2><table class="heatmap" id="{level}">'
                        f"<tr><th>metric</th>{header}</tr>{''.join(rows)}</table>")
    published_html = ""
    if report.get("published"):
        published = report["published"]
        rows = "".join(
            f"<tr><td>{html.escape(r['published'])}</td><td>{html.escape(r['ours'])}</td>"
            f"<td>{html.escape(r['dimension'])}</td><td>{r['theirs']:.4f}</td><td>{_fmt(r['value'], 4)}</td>"
            f"<td>{_fmt(r['difference'], 4)}</td><td>{html.escape(r['note'])}</td></tr>" for r in published["rows"])
        published_html = (f"<h2>Ours beside the published {LEVEL_TITLES[published['level']]}</h2>"
                          f"<p>Source: {html.escape(published['source'])}</p><p>{html.escape(published['setup'])}</p>"
                          '<table id="published"><tr><th>published metric</th><th>ours</th><th>dimension</th>'
                          "<th>published</th><th>ours</th><th>Δ</th><th>note</th></tr>" + rows + "</table>")
    tests = "".join(
        f"<tr><td>{html.escape(t['dimension'])}</td><td>{LEVEL_TITLES[t['level']]}</td><td>{html.escape(t['a'])}</td>"
        f"<td>{html.escape(t['b'])}</td><td>{t['difference']:+.3f}</td><td>[{_fmt(t['low'], 2)}, {_fmt(t['high'], 2)}]"
        f"</td><td>{_fmt(t['p_permutation'], 4)}</td></tr>" for t in report["paired_tests"])
    name = html.escape(Path(config["dataset"]).name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meta-evaluation: {name}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}}table{{border-collapse:collapse;font-size:13px;margin-bottom:16px}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:center}}th{{background:#f3f3f3}}td.heat{{min-width:110px}}
code{{background:#f6f6f6;padding:2px 4px}}</style></head><body>
<h1>How well do metrics agree with human judgments? ({name})</h1>
<p>Command: <code>{html.escape(command)}</code></p>
<p>{config['documents']} documents × {len(config['systems'])} systems. Cells: correlation and its
{config['bootstrap']['confidence']:.0%} bootstrap interval (systems and documents resampled jointly,
{config['bootstrap']['resamples']} resamples, seed {config['bootstrap']['seed']}).
Red: agrees with humans; blue: disagrees.</p>
{''.join(sections)}
{published_html}
<h2>Paired tests: the best metric against each other</h2>
<table id="paired"><tr><th>dimension</th><th>level</th><th>best</th><th>other</th><th>Δ</th><th>95% CI</th>
<th>p (permutation)</th></tr>
{tests}</table>
<h2>Configuration</h2><pre>{html.escape(json.dumps(config, indent=2, ensure_ascii=False))}</pre>
</body></html>
"""


def write_meta_eval(report: dict[str, Any], out_dir: Path, command: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "meta_eval.json", out_dir / "meta_eval.md", out_dir / "meta_eval.html"]
    payload = {"command": command, **report}
    paths[0].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown_report(report, command), encoding="utf-8")
    paths[2].write_text(html_report(report, command), encoding="utf-8")
    return paths
