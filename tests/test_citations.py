"""Citation parsing: every reference form we know, the near-misses that must stay silent, and the real texts
of the shared corpus (expected ids below were read off the documents by eye, not produced by the parser)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import defusedxml.ElementTree as ET
import pytest
from click.testing import CliRunner

from assistant.cli import main
from corpus.citations import (
    canonical_ids,
    display_for,
    find_citations,
    identity_from_identifier,
    normalise_id,
    normalise_vergaderjaar,
)

# --- hand-made cases ----------------------------------------------------------------------------------

# (text, expected id, the exact text the citation must span)
POSITIVE = [
    ("Kamerstukken II 2017–2018, 33763, nr. 141", "33763-141", "Kamerstukken II 2017–2018, 33763, nr. 141"),
    ("Kamerstukken II 2017-2018, 33763, nr. 141", "33763-141", "Kamerstukken II 2017-2018, 33763, nr. 141"),
    ("Kamerstukken II 2017/2018, 33763, nr. 141", "33763-141", "Kamerstukken II 2017/2018, 33763, nr. 141"),
    ("Kamerstukken II 2017/18, 33763, nr. 141", "33763-141", "Kamerstukken II 2017/18, 33763, nr. 141"),
    ("Kamerstukken II 2017-18, 33763, nr. 141", "33763-141", "Kamerstukken II 2017-18, 33763, nr. 141"),
    (
        "zie (Kamerstukken II 2021-2022, 30821, nr. 153).",
        "30821-153",
        "Kamerstukken II 2021-2022, 30821, nr. 153",
    ),
    ("Kamerstukken II 2020-2021, 35570, nr. 17", "35570-17", "Kamerstukken II 2020-2021, 35570, nr. 17"),
    ("Zie Kamerstuk 33763-141 voor de reactie.", "33763-141", "Kamerstuk 33763-141"),
    ("zoek.officielebekendmakingen.nl/kst-33763-141.html", "33763-141", "kst-33763-141"),
    ("de brief (33 763, nr. 141) stelt", "33763-141", "33 763, nr. 141"),
    ("kamerstuk 30 821, nr. 153", "30821-153", "kamerstuk 30 821, nr. 153"),
    ("Kamerstuk 21501-02-1855", "21501-02-1855", "Kamerstuk 21501-02-1855"),
    (
        "Kamerstukken II 2019/20, 35570 XVII, nr. 12",
        "35570-XVII-12",
        "Kamerstukken II 2019/20, 35570 XVII, nr. 12",
    ),
    ("de begroting 35570 XVII, nr. 12 noemt", "35570-XVII-12", "35570 XVII, nr. 12"),
    ("Kamerstuk 35570-XVII-12", "35570-XVII-12", "Kamerstuk 35570-XVII-12"),
    ("Kamerstukken I 2009/10, 31700 VI, D", "31700-VI-D", "Kamerstukken I 2009/10, 31700 VI, D"),
    ("het verslag 31700 VI, D van de Eerste Kamer", "31700-VI-D", "31700 VI, D"),
    ("Zij krijgt nr. 313 (31765).", "31765-313", "krijgt nr. 313 (31765)"),
    ("Zij krijgt nr. 313 ( 31765 ). Dank u wel.", "31765-313", "krijgt nr. 313 ( 31765 )"),
    (
        "Zij krijgt nr. 726 , was nr. 719 ( 21501-08 ).",
        "21501-08-726",
        "krijgt nr. 726 , was nr. 719 ( 21501-08 )",
    ),
    ("de motie-Kröger ( 21501-08 , nr. 724 ).", "21501-08-724", "21501-08 , nr. 724"),
    (
        "Aanvulling geannoteerde agenda Raad Algemene Zaken van 20 maart 2018 - 21501-02-1855\n",
        "21501-02-1855",
        "21501-02-1855",
    ),
    ("Het Resultaat Telt particuliere klinieken 2016 - 34775-XVI-129\n", "34775-XVI-129", "34775-XVI-129"),
    ("GenX concentraties Zeeland - 28089-75", "28089-75", "28089-75"),
    (
        "Handelingen II 2017/18, nr. 70, item 12",
        "h-tk-20172018-70-12",
        "Handelingen II 2017/18, nr. 70, item 12",
    ),
    ("Handelingen II 2017/18, nr. 70", "h-tk-20172018-70", "Handelingen II 2017/18, nr. 70"),
    ("Handelingen I 2009/10, nr. 3, item 5", "h-ek-20092010-3-5", "Handelingen I 2009/10, nr. 3, item 5"),
    (
        "Aanhangsel Handelingen II 2014/15, nr. 1241",
        "ah-tk-20142015-1241",
        "Aanhangsel Handelingen II 2014/15, nr. 1241",
    ),
    ("bron: h-tk-20172018-70-12.xml", "h-tk-20172018-70-12", "h-tk-20172018-70-12"),
    ("bron: ah-tk-20142015-1241", "ah-tk-20142015-1241", "ah-tk-20142015-1241"),
    ("TK 33763-141", "33763-141", "TK 33763-141"),
    (
        "Parliamentary Papers II 2022/23, 30821, No. 165.",
        "30821-165",
        "Parliamentary Papers II 2022/23, 30821, No. 165",
    ),
    (
        "Parliamentary Papers, 2018/2019, 3147 7, No. 28.",
        "31477-28",
        "Parliamentary Papers, 2018/2019, 3147 7, No. 28",
    ),
    (
        "Parliamentary Papers II 2022/23, 21501-02,\nNo. 2537.",
        "21501-02-2537",
        "Parliamentary Papers II 2022/23, 21501-02,\nNo. 2537",
    ),
]


@pytest.mark.parametrize(("text", "cid", "spanned"), POSITIVE)
def test_reference_forms(text: str, cid: str, spanned: str) -> None:
    found = find_citations(text)
    assert [c.id for c in found] == [cid]
    start, end = found[0].span
    assert text[start:end] == spanned


NEAR_MISSES = [
    "Op 20-09-2021 is de Kamer geïnformeerd.",
    "het vergaderjaar 2017-2018",
    "het vergaderjaar 2017–2018 en 2017/18",
    "op 5 april 2018",
    "datum 2023-12-22",
    "bel 070-3707000 of 06-12345678",
    "bel +31 70 370 7000",
    "€ 125 miljoen en 1.250.000 en 35 570 euro",
    "Turfmarkt 147, 2511 DP Den Haag, Postbus 16950, 2500 BZ Den Haag",
    "Ons kenmerk 4730561",
    "artikel 3, lid 2",
    "om 10.15 uur",
    "de motie op stuk nr. 5",
    "nr. 5",
    "Emancipatienota 2018-2021: Principes in praktijk",
    "in de jaren 2018-2022 - 2018Z05896",
    "plain number 33763 and 12345-67 and 12345-678",
    "code 12345-67 staat los",
    "€ 35 570, nr. 3",
    "Kamerstukken 2017/18",
    "www.rijksoverheid.nl/documenten/kamerstukken/2022/11/28/tk-aanpak-statelijke-dreigingen",
    "Handelingen II 2017/18, blz. 1234",
    "telefoon 0800 - 0235327",
    "WRR-rapport nr. 98",
    "h-tk-20172019-70-12",  # not two consecutive years
    "Kamerstuk 33763, EU-beleid",
    "Kamerstukken II 2017/18, 33763, A",  # Tweede Kamer stukken are numbered, not lettered
    "zie 31700 VI, EU-zaken",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_do_not_match(text: str) -> None:
    assert find_citations(text) == []


DISPLAYS = [
    ("Kamerstukken II 2017–2018, 33763, nr. 141", "Kamerstukken II 2017/18, 33763, nr. 141"),
    ("Kamerstuk 33763-141", "Kamerstukken 33763, nr. 141"),
    ("Kamerstukken I 2009/10, 31700 VI, D", "Kamerstukken I 2009/10, 31700 VI, D"),
    ("Kamerstuk 21501-02-1855", "Kamerstukken 21501-02, nr. 1855"),
    ("35570 XVII, nr. 12", "Kamerstukken 35570 XVII, nr. 12"),
    ("Kamerstukken II 1999/2000, 26800, nr. 5", "Kamerstukken II 1999/2000, 26800, nr. 5"),
    ("Handelingen II 2017/18, nr. 70, item 12", "Handelingen II 2017/18, nr. 70, item 12"),
    ("Aanhangsel Handelingen II 2014/15, nr. 1241", "Aanhangsel Handelingen II 2014/15, nr. 1241"),
    ("Parliamentary Papers 2017/2018, 26643, No. 536", "Kamerstukken 2017/18, 26643, nr. 536"),
]


@pytest.mark.parametrize(("text", "display"), DISPLAYS)
def test_display_forms(text: str, display: str) -> None:
    (c,) = find_citations(text)
    assert c.display == display


def test_citation_fields() -> None:
    (c,) = find_citations("Kamerstukken I 2009–2010, 31700 VI, D")
    assert (c.kind, c.dossier, c.ondernummer, c.vergaderjaar, c.kamer) == (
        "kamerstuk",
        "31700-VI",
        "D",
        "2009-2010",
        "I",
    )
    (h,) = find_citations("Handelingen II 2017/18, nr. 70, item 12")
    assert (h.kind, h.dossier, h.vergaderjaar, h.kamer) == ("handelingen", None, "2017-2018", "II")
    (a,) = find_citations("Aanhangsel Handelingen II 2014/15, nr. 1241")
    assert a.kind == "aanhangsel"


def test_order_overlap_and_lists() -> None:
    text = (
        "Zie Handelingen II 2017/18, nr. 70, item 12 en (Kamerstukken II 2017/18, 33763, nrs. 141 en 142); "
        "de volgende aangehouden moties zijn vervallen: 34775-42; 34734-25."
    )
    found = find_citations(text)
    assert [c.id for c in found] == ["h-tk-20172018-70-12", "33763-141", "33763-142", "34775-42", "34734-25"]
    assert [c.span for c in found] == sorted(c.span for c in found)
    # The long form wins over the "33763, nr. 141" inside it.
    assert text[found[1].span[0] : found[1].span[1]].startswith("Kamerstukken II")
    assert found[2].vergaderjaar == "2017-2018" and text[found[2].span[0] : found[2].span[1]] == "142"
    assert canonical_ids(text) == sorted({c.id for c in found})
    assert canonical_ids(text + " Kamerstuk 33763-141") == canonical_ids(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017–2018", "2017-2018"),
        ("2017-2018", "2017-2018"),
        ("2017/2018", "2017-2018"),
        ("2017/18", "2017-2018"),
        ("2017-18", "2017-2018"),
        ("20172018", "2017-2018"),
        ("1999/00", "1999-2000"),
        ("2017-2019", None),
        ("2018", None),
        (None, None),
    ],
)
def test_vergaderjaar(raw: str | None, expected: str | None) -> None:
    assert normalise_vergaderjaar(raw) == expected


def test_display_for() -> None:
    assert display_for("33763-141", "2017–2018", "II") == "Kamerstukken II 2017/18, 33763, nr. 141"
    assert display_for("33763-141") == "Kamerstukken 33763, nr. 141"
    assert display_for("31700-VI-D", "2009/10", "I") == "Kamerstukken I 2009/10, 31700 VI, D"
    assert display_for("21501-02-1855", "2017/18", "TK") == "Kamerstukken II 2017/18, 21501-02, nr. 1855"
    assert display_for("35570-XVII-12", "2019-2020", "II") == "Kamerstukken II 2019/20, 35570 XVII, nr. 12"
    assert display_for("h-tk-20172018-70-12") == "Handelingen II 2017/18, nr. 70, item 12"
    assert display_for("h-tk-20172018-70") == "Handelingen II 2017/18, nr. 70"
    assert display_for("ah-tk-20142015-1241") == "Aanhangsel Handelingen II 2014/15, nr. 1241"
    assert display_for("nota-4730561") == "nota-4730561"


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        (
            "kst-33763-141",
            ("33763-141", "Kamerstukken 33763, nr. 141", "Kamerstuk", "33763", "141", None, None),
        ),
        (
            "kst-21501-02-1855",
            ("21501-02-1855", "Kamerstukken 21501-02, nr. 1855", "Kamerstuk", "21501-02", "1855", None, None),
        ),
        (
            "kst-31700-VI-D",
            ("31700-VI-D", "Kamerstukken 31700 VI, D", "Kamerstuk", "31700-VI", "D", None, None),
        ),
        (
            "h-tk-20172018-70-12",
            (
                "h-tk-20172018-70-12",
                "Handelingen II 2017/18, nr. 70, item 12",
                "Handelingen",
                None,
                None,
                "2017-2018",
                "II",
            ),
        ),
        (
            "ah-tk-20142015-1241",
            (
                "ah-tk-20142015-1241",
                "Aanhangsel Handelingen II 2014/15, nr. 1241",
                "Aanhangsel Handelingen",
                None,
                None,
                "2014-2015",
                "II",
            ),
        ),
        (
            "h-ek-20092010-3-5",
            (
                "h-ek-20092010-3-5",
                "Handelingen I 2009/10, nr. 3, item 5",
                "Handelingen",
                None,
                None,
                "2009-2010",
                "I",
            ),
        ),
    ],
)
def test_identity_from_identifier(identifier: str, expected: tuple) -> None:
    ident = identity_from_identifier(identifier)
    assert ident is not None
    keys = ("kamerstuk_id", "citation", "kind", "dossier", "ondernummer", "vergaderjaar", "kamer")
    assert tuple(ident[k] for k in keys) == expected


@pytest.mark.parametrize(
    "identifier",
    [
        "nota-4730561",
        "33763-141",
        "h-tk-20172019-70-12",
        "ah-tk-20142015-12-3",
        "blg-123456",
        "",
        "kst-2017-2018",
    ],
)
def test_identity_from_identifier_rejects(identifier: str) -> None:
    assert identity_from_identifier(identifier) is None


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("33763-141", "33763-141"),
        ("kst-33763-141", "33763-141"),
        ("KST-33763-141", "33763-141"),
        ("Kamerstukken II 2017–2018, 33763, nr. 141", "33763-141"),
        ("Kamerstukken II 2017/18, 33 763, nr. 141", "33763-141"),
        ("33 763, nr. 141", "33763-141"),
        ("kst-35570-xvii-12", "35570-XVII-12"),
        ("35570 XVII, nr. 12", "35570-XVII-12"),
        ("21501-02-1855", "21501-02-1855"),
        ("Kamerstukken I 2009/10, 31700 VI, D", "31700-VI-D"),
        ("h-tk-20172018-70-12", "h-tk-20172018-70-12"),
        ("Handelingen II 2017/18, nr. 70, item 12", "h-tk-20172018-70-12"),
        ("ah-tk-20142015-1241", "ah-tk-20142015-1241"),
        ("nota-4730561", None),
        ("Kamerstuk 33763-141 en 35570-17", None),  # two references, not one
        ("", None),
        ("2017-2018", None),
    ],
)
def test_normalise_id(ref: str, expected: str | None) -> None:
    assert normalise_id(ref) == expected


# --- the real texts -------------------------------------------------------------------------------------


def _spans_ok(text: str, found) -> None:
    for c in found:
        piece = text[c.span[0] : c.span[1]]
        digits = re.sub(r"\D", "", piece)
        if c.kind == "kamerstuk":
            assert c.dossier and re.sub(r"\D", "", c.dossier.split("-")[0]) in digits, (c, piece)
            if c.ondernummer and c.ondernummer.isdigit():
                assert c.ondernummer in digits, (c, piece)


def test_nota_yields_exactly_its_three_kamerstukken(shared_corpus: Path) -> None:
    text = (shared_corpus / "notas" / "nota-4730561.txt").read_text(encoding="utf-8")
    found = find_citations(text)
    assert {c.id for c in found} == {"33763-141", "35570-17", "30821-153"}
    assert len(found) == 3
    assert [c.display for c in found] == [
        "Kamerstukken II 2017/18, 33763, nr. 141",
        "Kamerstukken II 2020/21, 35570, nr. 17",
        "Kamerstukken II 2021/22, 30821, nr. 153",
    ]
    _spans_ok(text, found)


def _xml_text(path: Path) -> str:
    return "".join(ET.parse(path).getroot().itertext())


def _r(dossier: str, lo: int, hi: int) -> set[str]:
    return {f"{dossier}-{n}" for n in range(lo, hi + 1)}


# Read off the documents: motions ("Zij krijgt nr. N (dossier)"), the votes list of item 6, the lapsed
# motions of item 8 and every Kamerstuk number in the list of ingekomen stukken (item 14).
HANDELINGEN_EXPECTED = {
    "h-tk-20172018-50-1": set(),
    "h-tk-20172018-61-10": _r("31311", 199, 204),
    "h-tk-20172018-70-1": set(),
    "h-tk-20172018-70-2": set(),
    "h-tk-20172018-70-3": _r("34104", 210, 216),
    "h-tk-20172018-70-4": _r("29538", 253, 257),
    "h-tk-20172018-70-5": _r("31765", 313, 315),
    "h-tk-20172018-70-6": {f"21501-08-{n}" for n in (719, 721, 722, 724, 726)},
    "h-tk-20172018-70-7": set(),
    "h-tk-20172018-70-8": {"34775-42", "34734-25", "30234-172", "28844-139", "28844-142"},
    "h-tk-20172018-70-9": _r("32847", 346, 357),
    "h-tk-20172018-70-10": _r("29453", 469, 473),
    "h-tk-20172018-70-11": _r("32637", 305, 307),
    "h-tk-20172018-70-12": _r("23987", 232, 239),
    "h-tk-20172018-70-13": set(),
    "h-tk-20172018-70-14": {
        "21501-02-1855",
        "21501-07-1502",
        "21501-08-725",
        "21501-20-1318",
        "21501-20-1319",
        "21501-30-428",
        "21501-31-479",
        "22112-2531",
        "28089-75",
        "29279-418",
        "29338-159",
        "29477-477",
        "29544-821",
        "29826-97",
        "29911-194",
        "30111-108",  # "(Kamerstuk 30111-108)" inside a title
        "30111-109",
        "30420-270",
        "31288-620",
        "31765-312",
        "32013-170",
        "32013-171",
        "32013-172",
        "32201-89",
        "32404-84",
        "32847-335",  # "t.v.v. die gedrukt onder Kamerstuk 32847-335"
        "32847-343",
        "32847-345",
        "32852-54",
        "33043-76",  # "(Kamerstuk 33043-76)"
        "32861-30",
        "33037-281",
        "34361-13",
        "34775-XVI-129",
    },
}


def test_every_handelingen_item(shared_corpus: Path) -> None:
    files = sorted((shared_corpus / "handelingen").glob("*.xml"))
    assert {f.stem for f in files} == set(HANDELINGEN_EXPECTED)
    for f in files:
        text = _xml_text(f)
        found = find_citations(text)
        assert {c.id for c in found} == HANDELINGEN_EXPECTED[f.stem], f.stem
        _spans_ok(text, found)
        assert all(c.kind == "kamerstuk" for c in found)


def test_ingekomen_stukken_details(shared_corpus: Path) -> None:
    text = _xml_text(shared_corpus / "handelingen" / "h-tk-20172018-70-14.xml")
    found = find_citations(text)
    by_id = {c.id: c for c in found}
    c = by_id["21501-02-1855"]
    assert (c.dossier, c.ondernummer) == ("21501-02", "1855")
    assert c.display == "Kamerstukken 21501-02, nr. 1855"
    assert by_id["34775-XVI-129"].dossier == "34775-XVI"
    # Zaak numbers ("2018Z05896") and the year range in "Emancipatienota 2018-2021" are not Kamerstukken.
    assert not any(c.id.startswith("2018") for c in found)


def test_motions_resolve_to_their_dossier(shared_corpus: Path) -> None:
    text = _xml_text(shared_corpus / "handelingen" / "h-tk-20172018-70-5.xml")
    (first, *_) = [c for c in find_citations(text) if c.id == "31765-313"]
    # The XML puts every token in its own element, so the naive text has line breaks inside the motion form.
    assert " ".join(text[first.span[0] : first.span[1]].split()) == "krijgt nr. 313 ( 31765 )"


def test_strategies_yield_only_real_references(shared_corpus: Path) -> None:
    """The English strategies cite Kamerstukken as "Parliamentary Papers II 2022/23, 30821, No. 165" and in
    URLs ("kst-32605-217.pdf"); nothing else in them (dates, page ranges, amounts) may turn into a citation."""
    seen: set[str] = set()
    for f in sorted((shared_corpus / "strategies-en").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        found = find_citations(text)
        _spans_ok(text, found)
        for c in found:
            piece = " ".join(text[c.span[0] : c.span[1]].split())
            assert c.kind == "kamerstuk", (f.name, piece)
            assert piece.lower().startswith(("parliamentary papers", "parliamentary documents", "kst-")), (
                piece
            )
            if c.vergaderjaar:
                assert 2005 <= int(c.vergaderjaar[:4]) <= 2023, piece
        seen |= {c.id for c in found}
    # A sample verified against the text, including PDF noise ("3147 7", "[" after a line break).
    assert {
        "30821-165",
        "26643-536",
        "31477-28",
        "21501-02-2537",
        "36200-V-72",
        "30566-3",
        "26643-540",
    } <= seen


def test_parlamint_samples_have_no_citations(shared_corpus: Path) -> None:
    for f in sorted((shared_corpus / "parlamint-nl").glob("*.txt")):
        assert find_citations(f.read_text(encoding="utf-8")) == [], f.name


# --- CLI ----------------------------------------------------------------------------------------------


def test_cli_cite_json(tmp_path: Path) -> None:
    text = "Kamerstukken II 2017–2018, 33763, nr. 141"
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "cite", "--json", text])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"id": "33763-141", "display": "Kamerstukken II 2017/18, 33763, nr. 141", "span": [0, len(text)]}
    ]


def test_cli_cite_text(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path), "cite", "Zij krijgt nr. 313 (31765) en 2017-2018"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("31765-313") and "Kamerstukken 31765, nr. 313" in lines[0]
