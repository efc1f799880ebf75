"""The per-article explorer of report.html: which article sentences each model's bullets and each
reference bullet draw on, novel words, unsupported numbers and names, two models side by side, and the
articles where they differ most on a chosen metric.

Alignment: each bullet is matched to the article sentences it most likely comes from by the similarity
and threshold bullet_metrics uses to align bullets (ROUGE-1 F >= ROUGE_MATCH_THRESHOLD, calibrated on
each CNN/DM highlight and its most similar article sentence); a bullet keeps its best sentences above
the threshold (fused bullets draw on two). Generated bullets are also tied to the reference bullet the
harness aligned them with (one-to-one, Hungarian). Unsupported claims come from faithfulness.unsupported_items.

The data is embedded as JSON in a <script type="application/json"> block with every "<" escaped, and
rendered by a little vanilla JS through textContent only: article text can never become markup.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from summarizer.evaluation.bullet_metrics import ROUGE_MATCH_THRESHOLD, max_weight_assignment
from summarizer.evaluation.faithfulness import unsupported_items
from summarizer.text import split_sentences

# A bullet rarely fuses more than two article sentences; more would highlight noise.
MAX_SOURCES_PER_BULLET = 2
# Articles listed as "where the two models differ most".
DIFFERENCE_LIST_LENGTH = 12
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _unigram_f(a: Counter, b: Counter) -> float:
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(b.values()), overlap / sum(a.values())
    return 2 * precision * recall / (precision + recall)


class Aligner:
    """Bullets -> article sentence indices, with the harness's ROUGE-1 tokenizer (stemmed)."""

    def __init__(self, tokenizer):
        self.tokenize = tokenizer.tokenize

    def sources(self, sentence_counts: list[Counter], bullet: str) -> list[int]:
        counts = Counter(self.tokenize(bullet))
        if not counts:
            return []
        scored = sorted(((_unigram_f(sentence, counts), index) for index, sentence in enumerate(sentence_counts)),
                        reverse=True)
        return [index for score, index in scored[:MAX_SOURCES_PER_BULLET] if score >= ROUGE_MATCH_THRESHOLD]

    def reference_matches(self, bullets: list[str], reference: list[str]) -> list[int | None]:
        """For each generated bullet, the reference bullet it is aligned with (or None)."""
        if not bullets or not reference:
            return [None] * len(bullets)
        reference_counts = [Counter(self.tokenize(text)) for text in reference]
        bullet_counts = [Counter(self.tokenize(text)) for text in bullets]
        weights = [[_unigram_f(ref, gen) for gen in bullet_counts] for ref in reference_counts]
        matches: list[int | None] = [None] * len(bullets)
        for ref_index, gen_index in max_weight_assignment(weights):
            if weights[ref_index][gen_index] >= ROUGE_MATCH_THRESHOLD:
                matches[gen_index] = ref_index
        return matches


def marked_segments(bullet: str, article_words: set[str], unsupported: list[str]) -> list[list[str]]:
    """[text, kind] pieces of a bullet; kind is "unsupported" (a number or name the article lacks),
    "novel" (a word the article never uses) or ""."""
    flagged = {word.casefold() for item in unsupported for word in _WORD.findall(item)}
    segments: list[list[str]] = []
    position = 0
    for match in _WORD.finditer(bullet):
        if match.start() > position:
            segments.append([bullet[position:match.start()], ""])
        word = match.group(0)
        key = word.casefold()
        kind = "unsupported" if key in flagged else ("novel" if key not in article_words else "")
        if segments and segments[-1][1] == kind and kind and match.start() == position:
            segments[-1][0] += word
        else:
            segments.append([word, kind])
        position = match.end()
    if position < len(bullet):
        segments.append([bullet[position:], ""])
    return segments


def explorer_data(comparison, tokenizer) -> dict[str, Any]:
    """Everything the explorer shows, for every article and every system of a comparison."""
    aligner = Aligner(tokenizer)
    references = comparison.references
    columns = [column for column in _columns(comparison)]
    articles = []
    for doc_id, reference in references.items():
        sentences = split_sentences(reference.article) if reference.article else []
        sentence_counts = [Counter(aligner.tokenize(sentence)) for sentence in sentences]
        article_words = {word.casefold() for word in _WORD.findall(reference.article)}
        first_reference = reference.references[0] if reference.references else []
        entry: dict[str, Any] = {
            "id": doc_id, "sentences": sentences,
            "reference": [{"text": bullet, "sources": aligner.sources(sentence_counts, bullet)}
                          for bullet in first_reference],
            "systems": {},
        }
        for system in comparison.systems:
            prediction = system.predictions.get(doc_id)
            bullets = prediction.bullets if prediction else []
            unsupported = unsupported_items(bullets, reference.article) if bullets and reference.article else None
            matches = aligner.reference_matches(bullets, first_reference)
            row = system.rows.get(doc_id, {})
            entry["systems"][system.name] = {
                "bullets": [{
                    "segments": marked_segments(bullet, article_words, (
                        unsupported["unsupported_numbers"][i] + unsupported["unsupported_entities"][i])
                        if unsupported else []),
                    "sources": aligner.sources(sentence_counts, bullet),
                    "reference": matches[i],
                } for i, bullet in enumerate(bullets)],
                "missing": prediction is None,
                "scores": {column["key"]: row[column["key"]] for column in columns if column["key"] in row},
            }
        articles.append(entry)
    return {"systems": [system.name for system in comparison.systems], "metrics": columns, "articles": articles,
            "threshold": ROUGE_MATCH_THRESHOLD, "list_length": DIFFERENCE_LIST_LENGTH}


def _columns(comparison) -> list[dict[str, Any]]:
    from summarizer.evaluation.registry import headline_columns

    return [{"key": c.key, "label": c.label, "scale": c.scale}
            for c in headline_columns(comparison.config.get("metric_families", []))]


def embed_json(data: Any) -> str:
    """JSON for a <script type="application/json"> block: "<" escaped so no "</script>" can end it early."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


EXPLORER_CSS = """
body.explorer-focus > *:not(#explorer){display:none}
#explorer .controls{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin-bottom:8px}
#explorer .layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px}
#explorer .article p.sentence{margin:2px 0;padding:2px 6px;border-left:6px solid transparent;
  border-right:6px solid transparent;font-size:13px}
#explorer p.sentence.src-ref{background:#fff3b0}
#explorer p.sentence.src-a{border-left-color:#1f77b4}
#explorer p.sentence.src-b{border-right-color:#ff7f0e}
#explorer .bullets h4{margin:8px 0 4px}
#explorer .bullets li{font-size:13px;margin-bottom:4px}
#explorer .model-a h4{color:#1f77b4}#explorer .model-b h4{color:#ff7f0e}
#explorer span.novel{text-decoration:underline dotted #555;background:#eef}
#explorer span.unsupported{background:#ffb3b3;font-weight:bold}
#explorer .legend span{padding:1px 6px;margin-right:8px;font-size:12px}
#explorer table.differ td,#explorer table.differ th{font-size:12px}
#explorer table.differ tr{cursor:pointer}#explorer table.differ tr.current{background:#e8f0ff}
"""

EXPLORER_JS = r"""
(() => {
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const byId = new Map(data.articles.map(a => [a.id, a]));
  const $ = id => document.getElementById(id);
  const state = {article: data.articles.length ? data.articles[0].id : null,
                 a: data.systems[0], b: data.systems[1] || data.systems[0],
                 metric: data.metrics.length ? data.metrics[0].key : null, focus: "0"};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    const [key, value] = part.split("=").map(decodeURIComponent);
    if (key in state && value !== undefined) state[key] = value;
  }
  function option(select, value, label) {
    const o = document.createElement("option"); o.value = value; o.textContent = label; select.appendChild(o);
  }
  data.systems.forEach(s => { option($("explorer-a"), s, s); option($("explorer-b"), s, s); });
  data.metrics.forEach(m => option($("explorer-metric"), m.key, m.label));
  data.articles.forEach(a => option($("explorer-article"), a.id, a.id));
  function score(article, system) {
    const entry = article.systems[system];
    return entry && state.metric in entry.scores ? entry.scores[state.metric] : null;
  }
  function bulletList(container, title, cls, bullets, missing) {
    const box = document.createElement("div"); box.className = "bullets " + cls;
    const h = document.createElement("h4"); h.textContent = title; box.appendChild(h);
    const list = document.createElement("ol");
    if (missing) { const li = document.createElement("li"); li.textContent = "(no prediction)"; list.appendChild(li); }
    bullets.forEach(bullet => {
      const li = document.createElement("li"); li.className = "bullet";
      if (bullet.segments) {
        bullet.segments.forEach(([text, kind]) => {
          const span = document.createElement("span"); span.textContent = text;
          if (kind) { span.className = kind; span.title = kind === "novel" ? "not in the article"
            : "number or name the article does not contain"; }
          li.appendChild(span);
        });
      } else { li.textContent = bullet.text; }
      const where = document.createElement("small");
      const parts = [];
      if (bullet.sources.length) parts.push("sentences " + bullet.sources.map(i => i + 1).join(", "));
      if (bullet.reference !== undefined && bullet.reference !== null) {
        parts.push("matches reference " + (bullet.reference + 1));
      }
      where.textContent = parts.length ? "  (" + parts.join("; ") + ")" : "  (no source sentence)";
      li.appendChild(where); list.appendChild(li);
    });
    box.appendChild(list); container.appendChild(box);
  }
  function render() {
    const article = byId.get(state.article);
    $("explorer-article").value = state.article; $("explorer-a").value = state.a;
    $("explorer-b").value = state.b; $("explorer-metric").value = state.metric;
    const text = $("explorer-sentences"); text.replaceChildren();
    const side = $("explorer-bullets"); side.replaceChildren();
    if (!article) return;
    const marks = article.sentences.map(() => new Set());
    const entryA = article.systems[state.a] || {bullets: [], missing: true};
    const entryB = article.systems[state.b] || {bullets: [], missing: true};
    article.reference.forEach(b => b.sources.forEach(i => marks[i].add("src-ref")));
    entryA.bullets.forEach(b => b.sources.forEach(i => marks[i].add("src-a")));
    entryB.bullets.forEach(b => b.sources.forEach(i => marks[i].add("src-b")));
    article.sentences.forEach((sentence, i) => {
      const p = document.createElement("p");
      p.className = ["sentence", ...marks[i]].join(" "); p.dataset.index = i;
      p.textContent = (i + 1) + ". " + sentence; text.appendChild(p);
    });
    const fmt = (system) => {
      const value = score(article, system); const metric = data.metrics.find(m => m.key === state.metric);
      return value === null ? "—" : (value * (metric ? metric.scale : 1)).toFixed(2);
    };
    bulletList(side, state.a + " (" + fmt(state.a) + ")", "model-a", entryA.bullets, entryA.missing);
    bulletList(side, state.b + " (" + fmt(state.b) + ")", "model-b", entryB.bullets, entryB.missing);
    bulletList(side, "reference", "reference", article.reference, false);
    const highlighted = text.querySelectorAll("p.src-a, p.src-b, p.src-ref").length;
    document.body.dataset.explorerArticle = state.article;
    document.body.dataset.explorerHighlighted = highlighted;
    document.body.dataset.explorerBulletsA = side.querySelectorAll(".model-a li.bullet").length;
    document.body.dataset.explorerBulletsB = side.querySelectorAll(".model-b li.bullet").length;
    renderDifferences();
  }
  function renderDifferences() {
    const rows = data.articles.map(a => {
      const x = score(a, state.a), y = score(a, state.b);
      return x === null || y === null ? null : {id: a.id, x, y, d: x - y};
    }).filter(Boolean).sort((p, q) => Math.abs(q.d) - Math.abs(p.d)).slice(0, data.list_length);
    const table = $("explorer-differ"); table.replaceChildren();
    const head = document.createElement("tr");
    ["article", state.a, state.b, "difference"].forEach(t => {
      const th = document.createElement("th"); th.textContent = t; head.appendChild(th); });
    table.appendChild(head);
    const metric = data.metrics.find(m => m.key === state.metric); const scale = metric ? metric.scale : 1;
    rows.forEach(r => {
      const tr = document.createElement("tr"); if (r.id === state.article) tr.className = "current";
      [r.id, (r.x * scale).toFixed(2), (r.y * scale).toFixed(2), (r.d * scale).toFixed(2)].forEach(t => {
        const td = document.createElement("td"); td.textContent = t; tr.appendChild(td); });
      tr.addEventListener("click", () => { state.article = r.id; render(); });
      table.appendChild(tr);
    });
  }
  $("explorer-article").addEventListener("change", e => { state.article = e.target.value; render(); });
  $("explorer-a").addEventListener("change", e => { state.a = e.target.value; render(); });
  $("explorer-b").addEventListener("change", e => { state.b = e.target.value; render(); });
  $("explorer-metric").addEventListener("change", e => { state.metric = e.target.value; render(); });
  render();
  // A link that names an article opens the page at the explorer; with focus=1 it shows the explorer alone
  // (a link to one article's view, for a colleague or a screenshot).
  if (/(^#|&)focus=1(&|$)/.test(location.hash)) document.body.classList.add("explorer-focus");
  else if (location.hash.includes("article=")) document.getElementById("explorer").scrollIntoView();
})();
"""


def explorer_section(comparison, tokenizer) -> str:
    data = explorer_data(comparison, tokenizer)
    return f"""<section id="explorer"><h2>Explorer: one article, two systems</h2>
<style>{EXPLORER_CSS}</style>
<div class="controls">
<label>article <select id="explorer-article"></select></label>
<label>system A <select id="explorer-a"></select></label>
<label>system B <select id="explorer-b"></select></label>
<label>metric <select id="explorer-metric"></select></label>
</div>
<p class="legend"><span style="border-left:6px solid #1f77b4">sentence system A draws on</span>
<span style="border-right:6px solid #ff7f0e">system B draws on</span><span style="background:#fff3b0">a reference
bullet draws on</span><span class="novel" style="background:#eef">word not in the article</span>
<span style="background:#ffb3b3">number or name the article does not contain</span></p>
<div class="layout"><div class="article" id="explorer-sentences"></div><div id="explorer-bullets"></div></div>
<h3>Articles where A and B differ most on the chosen metric</h3>
<table class="differ" id="explorer-differ"></table>
<script type="application/json" id="explorer-data">{embed_json(data)}</script>
<script>{EXPLORER_JS}</script>
</section>"""
