"""Parliamentary units inside documents: moties, amendementen, toezeggingen and stemmingen.

The officielebekendmakingen XML marks motions (``<motie id="M-12345-67">``, the dictum as ``<al>``, the
chair's ``<motie-info>`` with the indieners and the number); that structure is read first
(:func:`units_from_xml`). What the markup does not mark (votes, motions in ParlaMint or PDF text, motions
held over or withdrawn, commitments) is read from the document's paragraphs by the text patterns the
chair and the Kamerstukken use (:func:`complete_units`). A motion and the vote on it are usually in
different documents; they are joined by Kamerstuk id at ingest (``index/units.py``).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from corpus.models import Document, ParliamentaryUnit

# "12345-08, nr. 70, was nr. 61" / "12345, nr. 67" (the form used in stemmingen and lists).
_DOSSIER = r"(?P<dossier>\d{5}(?:\s*-\s*[A-Z0-9]{1,6})?)"
_REF = re.compile(
    rf"\(\s*{_DOSSIER}\s*,\s*nr\.\s*(?P<nr>\d{{1,4}})(?:\s*,\s*was\s+nr\.\s*(?P<was>\d{{1,4}}))?\s*\)"
)
# The chair's line under a motion: "Zij krijgt nr. 70, was nr. 61 (12345-08)."
_KRIJGT = re.compile(
    r"(?:Zij|Hij|Het)\s+krijgt\s+nr\.\s*(?P<nr>\d{1,4})\s*(?:,\s*was\s+nr\.\s*(?P<was>\d{1,4})\s*)?"
    rf"\(\s*{_DOSSIER}\s*\)"
)
_PROPOSED = re.compile(
    r"voorgesteld\s+door\s+(?:de\s+leden|het\s+lid)\s+(?P<names>[^.]+?)\.(?:\s|$)", re.IGNORECASE
)
_IN_STEMMING = re.compile(
    r"In\s+stemming\s+komt\s+(?:de|het)\s+(?P<changed>gewijzigde\s+)?(?P<kind>motie|amendement)-?"
    r"(?P<names>[^(]*?)\s*(?P<ref>\([^)]*\))"
)
_OUTCOME = re.compile(
    r"zodat\s+(?:zij|hij|het)\s+(?:is|zijn)\s+(?P<status>aangenomen|verworpen)", re.IGNORECASE
)
_UNANIMOUS = re.compile(r"met\s+algemene\s+stemmen\s+(?:is\s+)?(?P<status>aangenomen|verworpen)", re.I)
_VOOR = re.compile(
    r"de\s+leden\s+van\s+de\s+fracties?\s+van\s+(?P<voor>.+?)\s+voor\s+(?:deze|dit|het)\b", re.IGNORECASE
)
_TEGEN_REST = re.compile(r"de\s+leden\s+van\s+de\s+overige\s+fracties\s+ertegen", re.IGNORECASE)
_TEGEN = re.compile(r"de\s+leden\s+van\s+de\s+fracties?\s+van\s+(?P<tegen>.+?)\s+ertegen", re.IGNORECASE)
# "Ik deel mee dat de volgende aangehouden moties zijn vervallen: 12345-42; 12346-25."
_LAPSED = re.compile(r"aangehouden\s+moties?\s+(?:zijn|is)\s+vervallen\s*:\s*(?P<ids>[\d\-;,\s en]+)", re.I)
_DASH_ID = re.compile(r"(\d{5}(?:-[A-Z0-9]{1,6})?)-(\d{1,4})\b")
_HELD = re.compile(
    r"(?:stel\s+ik\s+voor|verzoek)[^.]*?(?:motie|amendement)\s*(?P<ref>\([^)]*\))[^.]*?aan\s+te\s+houden"
    r"[^.]*\.\s*(?:Daartoe\s+wordt\s+besloten)",
    re.IGNORECASE,
)
_WITHDRAWN = re.compile(
    r"(?:motie|amendement)[-\w/ ]*?\s*(?P<ref>\([^)]*\))\s+(?:is|wordt)\s+ingetrokken", re.IGNORECASE
)
# A motion's text in prose: "De Kamer, gehoord de beraadslaging, ... en gaat over tot de orde van de dag."
_MOTION_TEXT = re.compile(
    r"De\s+Kamer,\s*\n?\s*gehoord\s+de\s+beraadslaging,.*?en\s+gaat\s+over\s+tot\s+de\s+orde\s+van\s+de\s+dag\.",
    re.DOTALL,
)
_DICTUM_START = re.compile(
    r"^(?:verzoekt|spreekt\s+(?:zich\s+)?uit|roept|draagt|besluit|vraagt|dringt|keurt|betreurt|stelt)\b",
    re.IGNORECASE,
)
_CLOSING = re.compile(r"^en\s+gaat\s+over\s+tot\s+de\s+orde\s+van\s+de\s+dag\.?$", re.IGNORECASE)
_COMMITMENT = re.compile(
    r"\b(?:zeg(?:t|gen)?\s+(?:ik|wij|we)\s+(?:u\s+|de\s+Kamer\s+)?(?:\w+\s+){0,3}?toe\b|toezegging(?:en)?\b|"
    r"zegde\s+(?:\w+\s+)?toe\b|(?:wil|kan)\s+ik\s+(?:\w+\s+){0,3}?toezeggen\b)",
    re.IGNORECASE,
)
# A sentence that asks for a commitment or talks about commitments in general does not record one.
_NOT_COMMITMENT = re.compile(
    r"\?\s*$|\b(?:vra(?:ag|gen|agt)|wil)\s+(?:ik\s+|wij\s+|we\s+)?(?:graag\s+)?(?:aan|van|om|u)\b[^.]*\btoezegging",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"\s*,\s*|\s+en\s+")
_SPEAKER = re.compile(r"^(?:De\s+heer|Mevrouw|Het\s+lid)?\s*(?P<name>.+?)\s*\((?P<party>[^)]+)\)\s*$")


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def canonical(dossier: str, nr: str) -> str:
    return "".join(dossier.split()) + f"-{int(nr)}"


def _ref_id(ref: str) -> tuple[str | None, str | None]:
    """('12345-08-70', '12345-08-61') from "(12345-08, nr. 70, was nr. 61)"."""
    m = _REF.search(ref)
    if not m:
        return None, None
    dossier = m.group("dossier")
    was = canonical(dossier, m.group("was")) if m.group("was") else None
    return canonical(dossier, m.group("nr")), was


def split_names(names: str) -> list[str]:
    """'Van den Berg, Jansen en De Vries' -> three names; 'Jansen/Pieters' -> two; 'c.s.' is dropped."""
    names = re.sub(r"\bc\.\s?s\.?", "", names.replace("/", ", "), flags=re.IGNORECASE)
    return [n.strip(" .,") for n in _NAME_SPLIT.split(_clean(names)) if n.strip(" .,")]


def names_with_fracties(indieners: list[str], fractie_van: dict[str, str]) -> str:
    """'Jansen (PvdB), Pieters en De Vries (Groenen)': the indieners as a sentence names them."""
    named = [f"{n} ({fractie_van[n]})" if n in fractie_van else n for n in indieners]
    return ", ".join(named[:-1]) + " en " + named[-1] if len(named) > 1 else "".join(named)


def mentioned(text: str, names: set[str], min_len: int = 2) -> list[str]:
    """The names that stand in ``text`` as words, any case ("PVV-moties" mentions PVV); shorter names than
    ``min_len`` are never taken for a mention."""
    return sorted(
        n
        for n in names
        if len(n) >= min_len and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.IGNORECASE)
    )


def _parties(fracties: str) -> list[str]:
    """'de SP, de PvdA, GroenLinks en 50PLUS' -> ['SP', 'PvdA', 'GroenLinks', '50PLUS']."""
    return [re.sub(r"^(?:de|het)\s+", "", p, flags=re.I) for p in split_names(fracties)]


def party_of_speakers(doc: Document) -> dict[str, str]:
    """Surname (lower case) -> fractie, from the document's speaker labels ("De heer Jansen (PvdB)")."""
    out: dict[str, str] = {}
    for s in doc.sections:
        m = _SPEAKER.match(s.speaker or "")
        if m:
            out[m.group("name").strip().lower()] = m.group("party").strip()
    return out


def _title(kind: str, indieners: list[str]) -> str:
    if not indieners:
        return kind
    return f"{kind}-{indieners[0]}" + (" c.s." if len(indieners) > 1 else "")


def _dictum(paragraphs: list[str]) -> str:
    """The operative part: from 'verzoekt de regering ...' (or 'spreekt uit ...') up to the closing line."""
    out: list[str] = []
    for p in paragraphs:
        if _CLOSING.match(p.strip()):
            break
        if out or _DICTUM_START.match(p.strip()):
            out.append(p.strip())
    return _clean(" ".join(out))


# --- from the XML structure ------------------------------------------------------------------------------


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(e: Element) -> str:
    return _clean("".join(e.itertext()))


def units_from_xml(body: Element) -> list[ParliamentaryUnit]:
    """Every ``<motie>`` (and ``<amendement>``) element of an officielebekendmakingen body, in order.

    Indieners and numbers come from ``<motie-info>``, or, where a changed motion has none, from the chair's
    lines that follow it ("Zij krijgt nr. 70, was nr. 61 (12345-08)") and precede it ("De
    motie-Jansen (12345-08, nr. 61) is in die zin gewijzigd")."""
    parent = {c: p for p in body.iter() for c in p}
    units: list[ParliamentaryUnit] = []
    for elem in body.iter():
        kind = _local(elem.tag)
        if kind not in ("motie", "amendement"):
            continue
        paragraphs = [_text(c) for c in elem if _local(c.tag) == "al"]
        info = " ".join(_text(c) for c in elem if _local(c.tag) == f"{kind}-info")
        # Lines of the chair after the element (within the same parent), and the one just before it.
        siblings = list(parent.get(elem, []))
        pos = siblings.index(elem) if elem in siblings else -1
        after = " ".join(_text(s) for s in siblings[pos + 1 : pos + 4]) if pos >= 0 else ""
        before = _text(siblings[pos - 1]) if pos > 0 else ""
        uid = None
        attr = elem.get("id") or ""
        if m := re.match(r"^[MA]-(.+)-(\d+)$", attr):
            uid = canonical(m.group(1), m.group(2))
        was = None
        for source in (info, after):
            if k := _KRIJGT.search(source):
                uid = uid or canonical(k.group("dossier"), k.group("nr"))
                if k.group("was"):
                    was = canonical(k.group("dossier"), k.group("was"))
                break
        if uid is None:
            refs = [r.get("doc", "") for r in elem.iter() if _local(r.tag) == "extref"]
            uid = next((r[4:] for r in refs if r.startswith("kst-")), None)
        if uid is None:
            continue  # a motion without a number cannot be cited; its text stays in the chunks
        indieners: list[str] = []
        if p := _PROPOSED.search(info) or _PROPOSED.search(after):
            indieners = split_names(p.group("names"))
        elif m := re.search(rf"{kind}-(?P<names>[^(]+?)\s*\(", before):
            indieners = split_names(m.group("names"))
        units.append(
            ParliamentaryUnit(
                kind=kind,  # type: ignore[arg-type]
                id=uid,
                was=was,
                indieners=indieners,
                dictum=_dictum(paragraphs),
                text=_clean(" ".join(paragraphs)),
            )
        )
    return units


def units_from_kamerstuk(doc: Document, body: Element, stuk_title: str) -> list[ParliamentaryUnit]:
    """A Kamerstuk that is itself a motion or amendment ("MOTIE VAN HET LID JANSEN C.S.")."""
    title = stuk_title or doc.title or ""
    m = re.search(
        r"\b(?P<changed>GEWIJZIGDE\s+)?(?P<kind>MOTIE|AMENDEMENT)\s+VAN\s+(?:HET\s+LID|DE\s+LEDEN)\s+(?P<names>.+)$",
        title,
        re.IGNORECASE,
    )
    if not m or not doc.kamerstuk_id:
        return []
    kind = m.group("kind").lower()
    inner = [e for e in body.iter() if _local(e.tag) in ("motie", "amendement")]
    scope = inner[0] if inner else body
    paragraphs = [_text(c) for c in scope.iter() if _local(c.tag) == "al"]
    indieners = [n.title() if n.isupper() else n for n in split_names(m.group("names"))]
    signed = [
        _text(part)
        for e in body.iter()
        if _local(e.tag) == "ondertekening"
        for part in (list(e) or [e])
        if _text(part)
    ]
    if len(indieners) <= 1 and signed:
        names = [n for s in signed for n in split_names(s) if n]
        indieners = list(dict.fromkeys([*indieners, *names]))
    return [
        ParliamentaryUnit(
            kind=kind,  # type: ignore[arg-type]
            id=doc.kamerstuk_id,
            indieners=indieners,
            dictum=_dictum(paragraphs) if kind == "motie" else "",
            text=_clean(" ".join(p for p in paragraphs if p)),
        )
    ]


# --- from the text ---------------------------------------------------------------------------------------


def _paragraphs(doc: Document) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for i, s in enumerate(doc.sections):
        out.extend((i, _clean(p)) for p in re.split(r"\n\s*\n", s.text) if p.strip())
    return out


def _motions_in_text(doc: Document) -> list[ParliamentaryUnit]:
    """Motions in prose (ParlaMint, PDF, text): the motion's text followed by the chair's number line."""
    units: list[ParliamentaryUnit] = []
    for i, s in enumerate(doc.sections):
        for m in _MOTION_TEXT.finditer(s.text):
            tail = s.text[m.end() : m.end() + 600]
            k = _KRIJGT.search(tail)
            if not k:
                continue
            lines = [ln.strip() for ln in m.group(0).splitlines() if ln.strip()]
            if len(lines) <= 2:  # one running paragraph: split it at the clauses
                lines = [c.strip() for c in re.split(r"(?<=[;,:])\s+(?=[a-z])", _clean(m.group(0)))]
            p = _PROPOSED.search(tail)
            units.append(
                ParliamentaryUnit(
                    kind="motie",
                    id=canonical(k.group("dossier"), k.group("nr")),
                    was=canonical(k.group("dossier"), k.group("was")) if k.group("was") else None,
                    indieners=split_names(p.group("names")) if p else [],
                    dictum=_dictum(lines),
                    text=_clean(m.group(0)),
                    section=i,
                )
            )
    return units


def _stemmingen(doc: Document) -> list[ParliamentaryUnit]:
    """Vote outcomes tied to what was voted on, and the chair's announcements of held-over, withdrawn and
    lapsed motions."""
    units: list[ParliamentaryUnit] = []
    subject: tuple[str, str, str | None, list[str], str] | None = None  # kind, id, was, names, text
    for i, p in _paragraphs(doc):
        if m := _IN_STEMMING.search(p):
            uid, was = _ref_id(m.group("ref"))
            subject = (m.group("kind"), uid, was, split_names(m.group("names")), p) if uid else None
            continue
        outcome = _OUTCOME.search(p) or _UNANIMOUS.search(p)
        if outcome and subject is not None:
            kind, uid, was, names, intro = subject
            voor = _VOOR.search(p)
            tegen = _TEGEN.search(p)
            units.append(
                ParliamentaryUnit(
                    kind="stemming",
                    id=uid,
                    was=was,
                    title=_title(kind, names),
                    indieners=names,
                    status=outcome.group("status").lower(),
                    voor=_parties(voor.group("voor"))
                    if voor
                    else (["alle fracties"] if _UNANIMOUS.search(p) else []),
                    tegen=(
                        ["overige fracties"]
                        if _TEGEN_REST.search(p)
                        else (_parties(tegen.group("tegen")) if tegen else [])
                    ),
                    text=_clean(f"{intro} {p}"),
                    section=i,
                )
            )
            subject = None
            continue
        for pattern, status in ((_HELD, "aangehouden"), (_WITHDRAWN, "ingetrokken")):
            for h in pattern.finditer(p):
                uid, was = _ref_id(h.group("ref"))
                if uid:
                    units.append(
                        ParliamentaryUnit(
                            kind="stemming", id=uid, status=status, text=_clean(h.group(0)), section=i
                        )
                    )
        if lapsed := _LAPSED.search(p):
            for d in _DASH_ID.finditer(lapsed.group("ids")):
                units.append(
                    ParliamentaryUnit(
                        kind="stemming",
                        id=canonical(d.group(1), d.group(2)),
                        status="vervallen",
                        text=_clean(lapsed.group(0)),
                        section=i,
                    )
                )
    return units


# An agenda or list entry: "de motie-Jansen/Pieters over proefvoorzieningen (12345, nr. 67)".
_LISTED = re.compile(
    r"(?:motie|amendement)-[^()\n;]*?\s+over\s+(?P<topic>[^()\n;]+?)\s*(?P<ref>\(\s*\d{5}[^)]*\))"
)


def _topics(doc: Document) -> dict[str, str]:
    """Kamerstuk id -> what the document says the motion is about, from its agenda lines."""
    out: dict[str, str] = {}
    for _, p in _paragraphs(doc):
        for m in _LISTED.finditer(p):
            uid, _ = _ref_id(m.group("ref"))
            if uid:
                out.setdefault(uid, _clean(m.group("topic")))
    return out


def _toezeggingen(doc: Document) -> list[ParliamentaryUnit]:
    """Sentences in which a commitment is made or recorded ("dat zeg ik toe", "een toezegging")."""
    from corpus.sentences import split_sentences

    units: list[ParliamentaryUnit] = []
    for i, s in enumerate(doc.sections):
        if not _COMMITMENT.search(s.text):
            continue
        for sentence in (x.text for x in split_sentences(s.text)):
            if _COMMITMENT.search(sentence) and not _NOT_COMMITMENT.search(sentence):
                n = len(units) + 1
                units.append(
                    ParliamentaryUnit(
                        kind="toezegging",
                        id=f"{doc.id}#toezegging-{n}",
                        text=_clean(sentence),
                        dictum=_clean(sentence),
                        speaker=s.speaker,
                        indieners=[s.speaker] if s.speaker else [],
                        section=i,
                    )
                )
    return units


def _section_of(doc: Document, text: str) -> int | None:
    probe = _clean(text)[:80]
    if not probe:
        return None
    for i, s in enumerate(doc.sections):
        if probe in _clean(s.text):
            return i
    return None


def complete_units(doc: Document) -> Document:
    """The document with all its units: those its reader found in the markup, the ones only the text shows,
    each with its position, fracties, debate, date and official citation."""
    from corpus.citations import display_for

    units = list(doc.units)
    if not any(u.kind in ("motie", "amendement") for u in units):
        units.extend(_motions_in_text(doc))
    topics = _topics(doc)
    units.extend(
        u.model_copy(update={"onderwerp": topics.get(u.id) or topics.get(u.was or "", "")})
        for u in _stemmingen(doc)
    )
    if doc.kind in ("Handelingen", "debat"):
        units.extend(_toezeggingen(doc))
    if not units:
        return doc
    parties = party_of_speakers(doc)
    debate = doc.title or None
    done: list[ParliamentaryUnit] = []
    for u in units:
        section = u.section if u.section is not None else _section_of(doc, u.dictum or u.text)
        fractie_van = u.fractie_van or {n: parties[n.lower()] for n in u.indieners if n.lower() in parties}
        fracties = u.fracties or [fractie_van[n] for n in u.indieners if n in fractie_van]
        citation = (
            doc.citation or doc.title
            if u.kind == "toezegging"
            else display_for(
                u.id, doc.vergaderjaar, doc.kamer or ("II" if doc.kind == "Handelingen" else None)
            )
        )
        done.append(
            u.model_copy(
                update={
                    "title": u.title or _title(u.kind, u.indieners),
                    "fracties": list(dict.fromkeys(fracties)),
                    "fractie_van": fractie_van,
                    "document_id": doc.id,
                    "section": section,
                    "date": u.date or doc.date,
                    "debate": u.debate or debate,
                    "citation": citation or u.id,
                }
            )
        )
    return doc.model_copy(update={"units": done})
