"""The embedder on the real EmbeddingGemma model: Dutch paraphrase ranking, prompts, cache, dims, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.settings import Settings
from index.embeddings import CachedEmbedder, Embedder, EmbeddingCache, cpu_has_bf16, get_embedder
from index.models_install import ModelNotAvailableError

# Eight passages on neighbouring subjects (written for this test, after the nota on the Planbureau voor de
# Veiligheid and the Handelingen), so a query must be matched on meaning, not on a shared topic word.
PASSAGES: list[tuple[str, str]] = [
    (
        "Nota Planbureau voor de Veiligheid",
        "De oprichting van de Nationale Veiligheidsraad leidt niet tot een heroverweging van het eerdere "
        "besluit om geen Planbureau voor de Veiligheid op te richten; de bestaande kennisinfrastructuur volstaat.",
    ),
    (
        "Nota Planbureau voor de Veiligheid",
        "ABD Topconsult concludeerde in 2021 dat een planbureau schade zou doen aan het netwerk van "
        "veiligheidsanalyses en dat het jaren zou duren voordat het gezag zou opbouwen.",
    ),
    (
        "Nota Planbureau voor de Veiligheid",
        "De brief is interdepartementaal afgestemd met de ministeries van Algemene Zaken, Buitenlandse Zaken "
        "en Defensie; op ambtelijk niveau kunnen deze departementen met de conceptbrief instemmen.",
    ),
    (
        "Nota Planbureau voor de Veiligheid",
        "De persoonsgegevens van de ambtenaren worden niet openbaar gemaakt ter bescherming van de "
        "persoonlijke levenssfeer.",
    ),
    (
        "Handelingen Tweede Kamer, vergadering 70",
        "De Kamer stemt in met het wetsvoorstel over de vergoeding van zorgkosten; de fracties van de SP en "
        "de PVV stemmen tegen.",
    ),
    (
        "Handelingen Tweede Kamer, vergadering 70",
        "De voorzitter deelt mee dat de vergadering wordt geschorst tot half acht voor de dinerpauze.",
    ),
    (
        "Veiligheidsstrategie voor het Koninkrijk",
        "Het kabinet wil de band tussen wetenschap en strategische besluitvorming versterken met een nog op "
        "te richten kenniskring, zodat beter op veranderende dreigingen kan worden geanticipeerd.",
    ),
    (
        "Handelingen Tweede Kamer, vergadering 61",
        "Het lid Van der Staaij vraagt de minister om meer agenten op straat in kleine gemeenten en om "
        "extra geld voor de wijkagent.",
    ),
]

# (query, index of the passage that answers it): paraphrases, few words shared with the passage.
QUERIES: list[tuple[str, int]] = [
    ("Waarom is er geen planbureau voor de veiligheid?", 0),
    (
        "Welk adviesbureau waarschuwde dat een nieuw instituut het bestaande analysenetwerk zou beschadigen?",
        1,
    ),
    ("Met welke departementen is de tekst vooraf besproken?", 2),
    ("Waarom zijn namen van medewerkers weggelakt?", 3),
    ("Welke partijen waren tegen de wet over het terugbetalen van medische kosten?", 4),
    ("Wanneer wordt de zitting onderbroken om te eten?", 5),
    ("Hoe wil de regering kennis uit onderzoek beter laten doorwerken in beleid?", 6),
    ("Wie wil meer politie in dorpen?", 7),
]


def ranking(emb: Embedder | CachedEmbedder, *, titles: bool = False) -> list[int]:
    """Top-1 passage index for each query (cosine = dot on normalised vectors)."""
    texts = [p for _, p in PASSAGES]
    docs = np.array(emb.embed_documents(texts, [t for t, _ in PASSAGES] if titles else None))
    queries = np.array([emb.embed_query(q) for q, _ in QUERIES])
    return (queries @ docs.T).argmax(axis=1).tolist()


@pytest.fixture(scope="module")
def top1(embedder: Embedder) -> list[int]:
    return ranking(embedder)


@pytest.mark.slow
def test_dutch_paraphrases_rank_the_right_passage_first(top1: list[int]) -> None:
    expected = [i for _, i in QUERIES]
    wrong = [(QUERIES[q][0], PASSAGES[got][1][:60]) for q, got in enumerate(top1) if got != expected[q]]
    assert not wrong, wrong


@pytest.mark.slow
def test_identity_dims_and_prompts(embedder: Embedder) -> None:
    assert embedder.dim == 768 and embedder.truncate_dim is None
    # model_id names the verified weights (Google's published model.safetensors hash).
    assert embedder.model_id == "embeddinggemma-300m@cbf5a78393b6"
    assert embedder.document_prompt() == embedder.model.prompts["document"] == "title: none | text: "
    assert embedder.query_prompt() == embedder.model.prompts["query"]
    v = np.array(embedder.embed_documents(["De Tweede Kamer vergadert op dinsdag."]))
    assert v.shape == (1, 768) and v.dtype == np.float64
    assert abs(np.linalg.norm(v[0]) - 1.0) < 1e-6
    # Our prompt handling gives what the model's own encode_document gives.
    ref = embedder.model.encode_document(["De Tweede Kamer vergadert op dinsdag."], normalize_embeddings=True)
    assert float(v[0] @ ref[0] / np.linalg.norm(ref[0])) > 0.9999


@pytest.mark.slow
def test_matryoshka_truncation_keeps_the_ranking(models_dir, embedder: Embedder, top1: list[int]) -> None:
    small = Embedder(Settings(models=models_dir, embedding_dim=256))
    assert small.model is embedder.model  # same loaded model, truncation is per call
    assert small.dim == 256 and small.model_id.endswith("/d256")
    q = small.embed_query(QUERIES[0][0])
    assert len(q) == 256 and abs(np.linalg.norm(q) - 1.0) < 1e-6
    # Leading dims of the full vector, renormalised, are the truncated vector (up to bf16 rounding).
    full = np.array(embedder.embed_query(QUERIES[0][0]))[:256]
    assert float(full @ q) / np.linalg.norm(full) > 0.9999
    assert ranking(small) == top1


@pytest.mark.slow
def test_cache_round_trip(tmp_path, embedder: Embedder) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    cached = CachedEmbedder(embedder, cache)
    texts = [p for _, p in PASSAGES[:3]]
    first = cached.embed_documents([*texts, texts[0]])  # a duplicate is embedded once
    q1 = cached.embed_query(QUERIES[0][0])
    assert (cached.misses, cached.hits) == (4, 1)
    assert first[0] == first[3]

    # A fresh process view on the same file: everything comes from SQLite, bit-identical.
    again = CachedEmbedder(embedder, EmbeddingCache(tmp_path / "emb.sqlite"))
    second = again.embed_documents([*texts, texts[0]])
    q2 = again.embed_query(QUERIES[0][0])
    assert again.misses == 0 and again.hits == 5
    assert second == first and q2 == q1
    # A query and a document with the same text are different prompts, hence different entries.
    same_text = again.embed_query(texts[0])
    assert again.misses == 1 and same_text != first[0]
    assert cache.count(embedder.model_id) == 5


def test_missing_model_says_how_to_install(tmp_path) -> None:
    emb = Embedder(Settings(home=tmp_path / "h", models=tmp_path / "models"))
    with pytest.raises(ModelNotAvailableError, match="briefing models install"):
        emb.embed_query("vraag")


def test_cache_keys_are_per_model_and_prompt(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    k = EmbeddingCache.key("title: none | text: ", "tekst")
    assert k != EmbeddingCache.key("task: search result | query: ", "tekst")
    cache.put_many("m@1", {k: np.array([0.6, 0.8], dtype=np.float32)})
    assert cache.get_many("m@2", [k]) == {}
    got = cache.get_many("m@1", [k, k])
    assert list(got) == [k] and got[k].tolist() == pytest.approx([0.6, 0.8])


@pytest.mark.slow
def test_bf16_and_fp32_agree_on_top1(models_dir, embedder: Embedder, top1: list[int]) -> None:
    assert embedder.dtype == ("bfloat16" if cpu_has_bf16() else "float32")  # what "auto" must pick
    fp32 = Embedder(Settings(models=models_dir, embedding_dtype="float32"))
    assert fp32.model_id == embedder.model_id  # one vector space: caches and stores are shared
    assert ranking(fp32) == top1
    a = np.array(fp32.embed_query(QUERIES[0][0]))
    b = np.array(embedder.embed_query(QUERIES[0][0]))
    assert float(a @ b) > 0.98
    if embedder.dtype == "bfloat16":
        assert float(a @ b) < 1.0 - 1e-7  # really computed in two precisions


@pytest.mark.slow
def test_get_embedder_memoises(settings: Settings, embedder: Embedder) -> None:
    a = get_embedder(settings)
    assert get_embedder(settings) is a
    assert a.embedder.model is embedder.model  # no second load of the same (path, dtype)
    assert (settings.cache_path / "embeddings.sqlite").exists()
