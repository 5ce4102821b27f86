"""Moties, amendementen, stemmingen and toezeggingen as units (issue 10).

The expected values are read from the XML here, independently of the reader: the ``<motie id>`` attribute,
the chair's "voorgesteld door" line and the "verzoekt" paragraph; every "zodat zij is aangenomen/verworpen"
line of the shared Handelingen. The join of a motion with a vote in another document is checked on small
documents the tests write (invented numbers), ingested in separate runs with the real model and store.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from corpus.loader import load_paths, read_file
from corpus.models import Document
from corpus.settings import Settings


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(e: ET.Element) -> str:
    return re.sub(r"\s+", " ", "".join(e.itertext())).strip()


def _expected_motions(path: Path) -> list[dict]:
    """Each <motie> of a file as the XML states it: id from the attribute, indieners from the chair's
    line inside or right after it, the first operative paragraph."""
    root = ET.parse(path).getroot()
    parent = {c: p for p in root.iter() for c in p}
    out = []
    for m in root.iter():
        if _local(m.tag) != "motie":
            continue
        dossier, nr = re.match(r"M-(.+)-(\d+)$", m.get("id", "")).groups()
        siblings = list(parent[m])
        around = " ".join(_text(x) for x in [m, *siblings[siblings.index(m) + 1 : siblings.index(m) + 3]])
        names = re.search(r"voorgesteld door (?:de leden|het lid) ([^.]+)\.", around)
        dictum = next(
            (
                _text(a)
                for a in m
                if _local(a.tag) == "al" and re.match(r"(verzoekt|roept|spreekt)", _text(a))
            ),
            "",
        )
        out.append(
            {
                "id": f"{dossier}-{int(nr)}",
                "indieners": re.split(r", | en ", names.group(1)) if names else None,
                "dictum": dictum,
            }
        )
    return out


@pytest.fixture(scope="module")
def handelingen(shared_corpus: Path) -> dict[str, Document]:
    docs = [d for d in load_paths([shared_corpus / "handelingen"]) if isinstance(d, Document)]
    return {Path(d.path).name: d for d in docs}


def test_every_motie_in_the_shared_handelingen_is_a_unit(shared_corpus: Path, handelingen) -> None:
    total = 0
    for path in sorted((shared_corpus / "handelingen").glob("*.xml")):
        expected = _expected_motions(path)
        got = [u for u in handelingen[path.name].units if u.kind == "motie"]
        assert [u.id for u in got] == [e["id"] for e in expected], path.name
        for u, e in zip(got, expected, strict=True):
            if e["indieners"] is not None:
                assert u.indieners == e["indieners"], (path.name, u.id)
            else:  # a changed motion: the chair names it "motie-Naam" before its new text
                assert u.indieners, (path.name, u.id)
            assert u.dictum.startswith(e["dictum"][:60]), (path.name, u.id)
            assert u.citation.startswith("Kamerstukken II 2017/18, "), u.citation
            assert u.section is not None and u.document_id
        total += len(expected)
    assert total >= 40  # the shared files hold some fifty motions


def test_every_vote_is_tied_to_its_motion(shared_corpus: Path, handelingen) -> None:
    lines = 0
    for path in sorted((shared_corpus / "handelingen").glob("*.xml")):
        flat = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
        outcomes = re.findall(r"zodat zij is (aangenomen|verworpen)", flat)
        subjects = [
            f"{d.replace(' ', '')}-{n}"
            for d, n in re.findall(
                r"In stemming komt de (?:gewijzigde )?motie-[^(]*\( ?([\d\- ]+?) ?, nr\. (\d+)", flat
            )
        ]
        votes = [
            u
            for u in handelingen[path.name].units
            if u.kind == "stemming" and u.status in ("aangenomen", "verworpen")
        ]
        assert [v.status for v in votes] == outcomes, path.name
        assert [v.id for v in votes] == subjects, path.name
        assert all(v.voor for v in votes), path.name
        lines += len(outcomes)
    assert lines >= 4


def test_a_handelingen_item_without_motions(shared_corpus: Path) -> None:
    doc = read_file(shared_corpus / "handelingen" / "h-tk-20172018-70-1.xml")
    assert isinstance(doc, Document)
    assert not [u for u in doc.units if u.kind in ("motie", "amendement", "stemming")]


KAMERSTUK_MOTIE = """<?xml version="1.0" encoding="UTF-8"?>
<officiele-publicatie>
  <metadata><meta name="DC.identifier" content="kst-99001-17"/></metadata>
  <kamerstuk>
    <kamerstukkop>
      <kamer nummer="2">Tweede Kamer der Staten-Generaal</kamer>
      <vergaderjaar>Vergaderjaar 2019–2020</vergaderjaar>
    </kamerstukkop>
    <dossier>
      <dossiernummer><dossiernr>99001</dossiernr></dossiernummer>
      <titel>Verzonnen dossier over proefvoorzieningen</titel>
    </dossier>
    <stuk>
      <stuknr><ondernummer>17</ondernummer></stuknr>
      <titel>MOTIE VAN HET LID JANSEN C.S.</titel>
      <datum isodatum="2020-01-15">Voorgesteld 15 januari 2020</datum>
      <motie>
        <al>De Kamer,</al>
        <al>gehoord de beraadslaging,</al>
        <al>constaterende dat proefvoorzieningen in kleine gemeenten ontbreken;</al>
        <al>verzoekt de regering een fonds voor proefvoorzieningen in te stellen,</al>
        <al>en gaat over tot de orde van de dag.</al>
        <ondertekening><al>Jansen</al><al>De Vries</al></ondertekening>
      </motie>
    </stuk>
  </kamerstuk>
</officiele-publicatie>
"""


def test_a_kamerstuk_that_is_a_motion_is_a_unit_in_inspect(tmp_path: Path) -> None:
    path = tmp_path / "kst-99001-17.xml"
    path.write_text(KAMERSTUK_MOTIE, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path / "home"), "corpus", "inspect", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    (unit,) = record["units"]
    assert unit["kind"] == "motie" and unit["id"] == "99001-17"
    assert unit["indieners"] == ["Jansen", "De Vries"]
    assert unit["dictum"].startswith("verzoekt de regering een fonds")
    assert unit["citation"] == "Kamerstukken II 2019/20, 99001, nr. 17"


DEBATE = """<?xml version="1.0" encoding="UTF-8"?>
<officiele-publicatie>
  <metadata><meta name="DC.identifier" content="h-tk-20192020-40-7"/></metadata>
  <handelingen>
    <agendapunt>
      <item-titel>Proefvoorzieningen in kleine gemeenten</item-titel>
      <spreekbeurt nieuw="ja">
        <spreker><voorvoegsels>De heer</voorvoegsels><naam><achternaam>Jansen</achternaam></naam> (<politiek>PvdB</politiek>):</spreker>
        <tekst status="goed">
          <al-groep><al>Voorzitter. Kleine gemeenten missen proefvoorzieningen voor jonge boeren. Daarom de volgende motie.</al></al-groep>
          <motie id="M-99002-{nr}">
            <kop><titel status="officieel">Motie</titel></kop>
            <al>De Kamer,</al>
            <al>gehoord de beraadslaging,</al>
            <al>constaterende dat jonge boeren in kleine gemeenten geen proefvoorziening kunnen huren;</al>
            <al>verzoekt de regering een regeling voor gedeelde proefvoorzieningen op te stellen,</al>
            <al>en gaat over tot de orde van de dag.</al>
            <motie-info>
              <spreker><voorvoegsels>De</voorvoegsels><naam><achternaam>voorzitter</achternaam></naam>:</spreker>
              <al>Deze motie is voorgesteld door de leden Jansen en Pieters. Naar mij blijkt, wordt de indiening ervan voldoende ondersteund.</al>
              <al>Zij krijgt nr. <extref doc="kst-99002-{nr}">{nr}</extref> (<extref doc="kst-99002-{nr}">99002</extref>).</al>
            </motie-info>
          </motie>
        </tekst>
      </spreekbeurt>
    </agendapunt>
  </handelingen>
</officiele-publicatie>
"""

VOTES = """<?xml version="1.0" encoding="UTF-8"?>
<officiele-publicatie>
  <metadata><meta name="DC.identifier" content="h-tk-20192020-42-9"/></metadata>
  <handelingen>
    <agendapunt>
      <item-titel>Stemmingen moties Proefvoorzieningen</item-titel>
      <tekst status="goed"><al-groep><al>Aan de orde zijn de stemmingen over moties ingediend bij het debat over proefvoorzieningen.</al></al-groep></tekst>
      <tekst status="goed"><al-groep><al>In stemming komt de motie-Jansen/Pieters (<extref doc="kst-99002-{nr}">99002</extref>, nr. <extref doc="kst-99002-{nr}">{nr}</extref>).</al></al-groep></tekst>
      <spreekbeurt nieuw="nee">
        <spreker><voorvoegsels>De</voorvoegsels><naam><achternaam>voorzitter</achternaam></naam>:</spreker>
        <tekst status="goed"><al-groep><al>Ik constateer dat de leden van de fracties van de PvdB, de Groenen en de Boerenpartij voor deze motie hebben gestemd en de leden van de overige fracties ertegen, zodat zij is {outcome}.</al></al-groep></tekst>
      </spreekbeurt>
    </agendapunt>
  </handelingen>
</officiele-publicatie>
"""


def _motions(settings: Settings) -> dict[str, dict]:
    from index.units import list_motions

    return {u.id: u.to_json() for u in list_motions(settings)}


def test_a_vote_ingested_later_sets_the_status_of_the_motion(tmp_path: Path, settings: Settings) -> None:
    from index.ingest import delete_documents, ingest_paths
    from index.search import Searcher

    debate, votes = tmp_path / "debat", tmp_path / "stemmingen"
    debate.mkdir()
    votes.mkdir()
    (debate / "h-tk-20192020-40-7.xml").write_text(DEBATE.replace("{nr}", "12"), encoding="utf-8")
    (votes / "h-tk-20192020-42-9.xml").write_text(
        VOTES.replace("{nr}", "12").replace("{outcome}", "aangenomen"), encoding="utf-8"
    )

    first = ingest_paths([debate], settings, progress=False)
    assert first.units >= 1
    motion = _motions(settings)["99002-12"]
    assert motion["status"] is None and motion["indieners"] == ["Jansen", "Pieters"]
    assert motion["fracties"] == ["PvdB"]

    second = ingest_paths([votes], settings, progress=False)
    assert second.joined == ["99002-12"]
    motion = _motions(settings)["99002-12"]
    assert motion["status"] == "aangenomen"
    assert motion["voor"] == ["PvdB", "Groenen", "Boerenpartij"]
    # The motion's own point carries the status: the store filters on it.
    found = Searcher(settings).units("proefvoorzieningen", filters={"status": "aangenomen"})
    assert [u.id for u in found] == ["99002-12"]
    assert Searcher(settings).units("proefvoorzieningen", filters={"status": "verworpen"}) == []

    # Idempotent: a rerun over both folders changes nothing.
    again = ingest_paths([debate, votes], settings, progress=False)
    assert again.unchanged == 2 and again.joined == [] and again.embedded == 0

    # The vote's document is gone: so is the status it gave.
    delete_documents(["h-tk-20192020-42-9"], settings)
    assert _motions(settings)["99002-12"]["status"] is None


def test_moties_cli_lists_filters_and_answers_cite_the_motion(tmp_path: Path, settings: Settings) -> None:
    from assistant.answer import Assistant
    from index.ingest import ingest_paths

    folder = tmp_path / "stukken"
    folder.mkdir()
    (folder / "h-tk-20192020-40-7.xml").write_text(DEBATE.replace("{nr}", "12"), encoding="utf-8")
    (folder / "h-tk-20192020-42-9.xml").write_text(
        VOTES.replace("{nr}", "12").replace("{outcome}", "verworpen"), encoding="utf-8"
    )
    ingest_paths([folder], settings, progress=False)

    def moties(*args: str) -> list[dict]:
        result = CliRunner().invoke(main, ["--home", str(settings.home), "moties", "--json", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    (record,) = moties()
    assert record["id"] == "99002-12" and record["status"] == "verworpen"
    assert record["citation"] == "Kamerstukken II 2019/20, 99002, nr. 12"
    assert record["handelingen"].startswith("Handelingen II 2019/20")
    assert moties("--status", "aangenomen") == []
    assert [r["id"] for r in moties("--dossier", "99002", "--indiener", "Pieters")] == ["99002-12"]

    answer = Assistant(settings).ask(
        "Is de motie over gedeelde proefvoorzieningen voor jonge boeren aangenomen?"
    )
    assert answer.outcome == "answer", answer.abstention
    assert "99002-12" in answer.cited_kamerstukken
    assert "verworpen" in answer.direct
    assert answer.cited_display["99002-12"] == "Kamerstukken II 2019/20, 99002, nr. 12"
    assert any(u["id"] == "99002-12" for s in answer.sources for u in s.units)

    # The same question in an official's words, "voorstel" for the motion: the motion comes close enough.
    answer = Assistant(settings).ask(
        "Is het voorstel over gedeelde proefvoorzieningen voor jonge boeren aangenomen?"
    )
    assert "99002-12" in answer.cited_kamerstukken, answer.answer
    assert "verworpen" in answer.direct


def test_voorstel_may_mean_a_motion_but_a_wetsvoorstel_never_does() -> None:
    from assistant.motions import asks_list, speaks_of_proposal

    assert speaks_of_proposal("Welke partijen steunden het voorstel van Kops?")
    assert speaks_of_proposal("Welke voorstellen deed de SP in het debat?")
    assert asks_list("Welke voorstellen deed de SP in het debat?")
    assert not speaks_of_proposal("Is het wetsvoorstel over de huurtoeslag aangenomen?")
    assert not speaks_of_proposal("Wat zei de minister over het initiatiefwetsvoorstel?")
    assert not speaks_of_proposal("Is de motie-Kops over het voorstel aangenomen?")  # already about motions


_MOTION_WORDS = re.compile(r"(?<!e)(?<!pro)moties?\b|amendement(en)?\b", re.IGNORECASE)


def test_questions_about_motions_cite_the_motion_number(indexed_settings: Settings) -> None:
    """The gold questions that ask about a motion (its text, indieners, number, outcome) name it in
    ``cited_kamerstukken``. Must-cite recall over the dev questions must reach the issue's 0.9; over the
    test questions it is measured and reported by ``make eval`` (docs/units.md), and guarded here against
    falling below what it was when the units were introduced."""
    from assistant.answer import Assistant
    from eval.gold import load_gold
    from eval.metrics import citation_scores

    repo = Path(__file__).resolve().parents[1]
    items = [
        i
        for i in load_gold(repo / "eval" / "qa")
        if i.answerable
        and i.must_cite
        and not getattr(i, "paraphrase_of", None)
        and any(s.startswith("h-tk-") for s in i.sources)
        and _MOTION_WORDS.search(i.question)
    ]
    dev = [i for i in items if getattr(i, "split", "") == "dev"]
    assert len(dev) >= 20, len(dev)
    assistant = Assistant(indexed_settings)
    recall: dict[str, float] = {}
    for item in items:
        answer = assistant.ask(item.question)
        recall[item.id] = citation_scores(answer.cited_kamerstukken, item.must_cite)[1] or 0.0
    on_dev = sum(recall[i.id] for i in dev) / len(dev)
    overall = sum(recall.values()) / len(recall)
    missed = sorted(i.id for i in dev if recall[i.id] < 1.0)
    assert on_dev >= 0.9, f"must-cite recall {on_dev:.2f} on {len(dev)} dev motion questions; missed {missed}"
    assert overall >= 0.85, f"must-cite recall {overall:.2f} on all {len(items)} motion questions"
