"""officielebekendmakingen XML (``<officiele-publicatie>``, OP-XSD): Handelingen, Kamerstukken, Aanhangsels.

Handelingen become one section per ``spreekbeurt`` (with its speaker), per loose ``tekst`` and per
entry of a stukkenlijst; Kamerstukken one section per ``divisie`` with its heading. Elements this reader
does not know are not dropped: their text is kept as paragraphs.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from corpus.models import AANHANGSEL, DOCUMENT, HANDELINGEN, KAMERSTUK, Document, Section
from corpus.readers.common import (
    clean_inline,
    drop_repeated_sections,
    parse_dutch_date,
    require_text,
    sentence_case_if_shouting,
)

ROOT_TAGS = {"officiele-publicatie"}
# Bodies that may also arrive without the <officiele-publicatie> wrapper.
BODY_KINDS = {"handelingen": HANDELINGEN, "kamerstuk": KAMERSTUK, "aanhangsel": AANHANGSEL}

_IDENT_IN_URL = re.compile(r"/([a-z]{1,6}(?:-[A-Za-z0-9]+)+)/metadata\.xml")
_IDENT = re.compile(r"^(?:kst|h|ah|blg|kv|stb|stcrt|trb)-[A-Za-z0-9-]+$")
# Elements whose content is structure, not running text.
_STRUCTURAL = {"al", "al-groep", "lijst", "li", "kop", "titel", "divisie", "tekst", "motie", "row", "tgroup"}
_SKIP = {"metadata", "meta", "nr", "li.nr", "noot"}


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def is_official_root(root: Element) -> bool:
    tag = local(root.tag)
    return tag in ROOT_TAGS or tag in BODY_KINDS


# --- text extraction -------------------------------------------------------------------------------------


def inline_text(elem: Element, notes: list[str] | None = None) -> str:
    """The running text of ``elem``; footnotes (``noot``) go to ``notes`` instead of mid-sentence."""
    parts: list[str] = []

    def walk(e: Element) -> None:
        if e.text:
            parts.append(e.text)
        for child in e:
            if local(child.tag) == "noot":
                if notes is not None:
                    # <noot.nr>1</noot.nr><noot.al>…</noot.al>: separate number and text.
                    note = clean_inline(" ".join("".join(n.itertext()) for n in child) or (child.text or ""))
                    if note:
                        notes.append(note)
            else:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(elem)
    return clean_inline("".join(parts))


def kop_text(kop: Element) -> str:
    """'1. Aanleiding' from <kop><nr>1.</nr><titel>Aanleiding</titel></kop>."""
    parts = [inline_text(c) for c in kop]
    return clean_inline(" ".join(p for p in parts if p)) if len(kop) else inline_text(kop)


def _has_structure(elem: Element) -> bool:
    return any(local(c.tag) in _STRUCTURAL or len(c) and _has_structure(c) for c in elem)


def _list_lines(lijst: Element, notes: list[str], depth: int = 0) -> list[str]:
    lines: list[str] = []
    for li in lijst:
        if local(li.tag) != "li":
            continue
        marker = ""
        body: list[str] = []
        nested: list[str] = []
        for c in li:
            tag = local(c.tag)
            if tag == "li.nr":
                marker = clean_inline("".join(c.itertext()))
            elif tag == "lijst":
                nested.extend(_list_lines(c, notes, depth + 1))
            else:
                body.extend(blocks(c, notes))
        if li.text and li.text.strip():
            body.insert(0, clean_inline(li.text))
        text = " ".join(body)
        lines.append("  " * depth + (f"{marker} {text}" if marker else f"- {text}").strip())
        lines.extend(nested)
    return lines


def blocks(elem: Element, notes: list[str]) -> list[str]:
    """Paragraph-level blocks of ``elem``: one per ``al`` / ``al-groep`` / list / heading / table row."""
    tag = local(elem.tag)
    if tag in _SKIP:
        return []
    if tag == "kop":
        text = kop_text(elem)
        return [text] if text else []
    if tag in ("al", "titel", "item-titel", "tussenkop", "spreker"):
        text = inline_text(elem, notes)
        return [text] if text else []
    if tag in ("al-groep", "motie", "motie-info", "vergadering"):
        lines = [b for c in elem for b in blocks(c, notes)]
        joined = "\n".join(lines) if tag != "vergadering" else ", ".join(lines)
        return [joined] if joined else []
    if tag == "lijst":
        lines = _list_lines(elem, notes)
        return ["\n".join(lines)] if lines else []
    if tag == "row":
        cells = [inline_text(c, notes) for c in elem]
        row = " | ".join(c for c in cells if c)
        return [row] if row else []
    if not _has_structure(elem):
        # An element we do not know that holds only running text: keep that text.
        text = inline_text(elem, notes)
        return [text] if text else []
    out: list[str] = []
    if elem.text and elem.text.strip():
        out.append(clean_inline(elem.text))
    for c in elem:
        out.extend(blocks(c, notes))
        if c.tail and c.tail.strip():
            out.append(clean_inline(c.tail))
    return out


def _section(parts: list[str], notes: list[str], **kw: object) -> Section | None:
    text = "\n\n".join(p for p in parts if p)
    if notes:
        text += "\n\n" + "\n".join(f"Noot: {n}" for n in notes)
    text = text.strip()
    return Section(text=text, **kw) if text else None  # type: ignore[arg-type]


# --- identity ----------------------------------------------------------------------------------------------


def identifier_of(root: Element) -> str | None:
    for meta in root.iter():
        if local(meta.tag) != "meta":
            continue
        content = meta.get("content") or ""
        m = _IDENT_IN_URL.search(content)
        if m:
            return m.group(1)
        name = (meta.get("name") or "").lower()
        if name in ("dc.identifier", "overheid.identifier", "dcterms.identifier") and _IDENT.match(content):
            return content
    return None


def _identity(identifier: str | None) -> dict | None:
    if not identifier:
        return None
    from corpus.citations import identity_from_identifier

    return identity_from_identifier(identifier)


def _first(root: Element, name: str) -> Element | None:
    for e in root.iter():
        if local(e.tag) == name:
            return e
    return None


# --- Handelingen -----------------------------------------------------------------------------------------


def speaker_of(spreker: Element) -> str:
    """'De heer Paternotte (D66)', 'Minister Wiebes', 'De voorzitter'."""
    return inline_text(spreker).rstrip(":").strip()


def _handelingen_sections(body: Element, state: dict) -> list[Section]:
    sections: list[Section] = []
    for item in body:
        if local(item.tag) == "vergadering":
            state["vergadering"] = blocks(item, [])
            datum = _first(item, "vergaderdatum")
            if datum is not None:
                state["date"] = parse_dutch_date(inline_text(datum))
            s = _section(state["vergadering"], [])
            if s:
                sections.append(s)
            continue
        if local(item.tag) == "opening":
            state.setdefault("kind_of_item", "opening")
        sections.extend(_item_sections(item, state))
    return sections


def _item_sections(item: Element, state: dict) -> list[Section]:
    sections: list[Section] = []
    for child in item:
        tag = local(child.tag)
        notes: list[str] = []
        if tag in ("nr", "metadata"):
            continue
        if tag == "item-titel":
            state.setdefault("title", inline_text(child))
            continue
        if tag == "spreekbeurt":
            spreker = _first(child, "spreker")
            speaker = speaker_of(spreker) if spreker is not None else None
            parts = [b for c in child if local(c.tag) != "spreker" for b in blocks(c, notes)]
            s = _section(parts, notes, speaker=speaker or None, heading=state.get("title"))
            if speaker:
                state.setdefault("speakers", []).append(speaker)
        elif tag == "divisie":
            sections.extend(_divisie_entries(child, state))
            continue
        elif tag in ("agendapunt", "opening", "handeling_bijlage", "handeling"):
            sections.extend(_item_sections(child, state))
            continue
        else:
            s = _section(blocks(child, notes), notes, heading=state.get("title"))
        if s:
            sections.append(s)
    return sections


def _divisie_entries(divisie: Element, state: dict) -> list[Section]:
    """A stukkenlijst divisie: one section per entry (``al-groep``), headed by the divisie's title."""
    kop = next((c for c in divisie if local(c.tag) == "kop"), None)
    heading = kop_text(kop) if kop is not None else None
    sections: list[Section] = []
    for c in divisie:
        tag = local(c.tag)
        if tag == "kop":
            continue
        if tag == "divisie":
            sections.extend(_divisie_entries(c, state))
            continue
        notes: list[str] = []
        s = _section(blocks(c, notes), notes, heading=heading or state.get("title"))
        if s:
            sections.append(s)
    if not sections and heading:
        sections.append(Section(text=heading, heading=heading))
    return sections


# --- Kamerstukken and everything else ----------------------------------------------------------------


def _divided_sections(elem: Element, heading: str | None, skip: set[str]) -> list[Section]:
    """Sections split at every element with a ``kop`` (divisie, hoofdstuk, paragraaf, artikel…)."""
    sections: list[Section] = []
    parts: list[str] = []
    notes: list[str] = []

    def flush() -> None:
        nonlocal parts, notes
        s = _section(parts, notes, heading=heading)
        if s:
            sections.append(s)
        parts, notes = [], []

    for c in elem:
        tag = local(c.tag)
        if tag in skip:
            continue
        kop = next((k for k in c if local(k.tag) == "kop"), None)
        if kop is not None and tag not in ("motie", "tabel", "table"):
            flush()
            sub_heading = kop_text(kop) or heading
            sections.extend(_divided_sections(c, sub_heading, skip | {"kop"}))
        elif tag in ("algemeen", "vrije-tekst", "tekst", "brief", "stuk", "wijziging", "wetsvoorstel") or (
            len(c) and _has_structure(c) and any(local(k.tag) in ("divisie", "kop") for k in c.iter())
        ):
            flush()
            sections.extend(_divided_sections(c, heading, skip))
        else:
            parts.extend(blocks(c, notes))
            if c.tail and c.tail.strip():
                parts.append(clean_inline(c.tail))
    flush()
    return sections


def _kamerstuk_meta(body: Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    kop = _first(body, "kamerstukkop")
    if kop is not None:
        for e in kop.iter():
            tag, text = local(e.tag), inline_text(e)
            inhoud = e.get("inhoud", "")
            if (inhoud == "vergaderjaar" or tag == "vergaderjaar") and (
                m := re.search(r"(\d{4})\D+(\d{4})", text)
            ):
                meta["vergaderjaar"] = f"{m.group(1)}-{m.group(2)}"
            if inhoud == "kameraanduiding" or tag == "kamer":
                nummer = e.get("nummer")
                if nummer in ("1", "2"):
                    meta["kamer"] = "I" if nummer == "1" else "II"
                elif "eerste kamer" in text.lower():
                    meta["kamer"] = "I"
                elif "tweede kamer" in text.lower():
                    meta["kamer"] = "II"
    dossier = _first(body, "dossier")
    if dossier is not None:
        nr = _first(dossier, "dossiernr")
        if nr is None:
            nr = _first(dossier, "dossiernummer")
        if nr is not None:
            meta["dossier"] = re.sub(r"\s+", "", inline_text(nr)).replace("–", "-")
        titel = next((c for c in dossier if local(c.tag) in ("titel", "dossiertitel")), None)
        if titel is not None:
            meta["dossier_title"] = inline_text(titel)
    stuk = _first(body, "stuk")
    if stuk is not None:
        onder = _first(stuk, "ondernummer")
        if onder is not None:
            meta["ondernummer"] = re.sub(r"\s+", "", inline_text(onder))
        titel = next((c for c in stuk if local(c.tag) == "titel"), None)
        if titel is not None:
            meta["stuk_title"] = inline_text(titel)
        datum = _first(stuk, "datum")
        if datum is not None:
            meta["date"] = datum.get("isodatum") or parse_dutch_date(inline_text(datum)) or ""
    return {k: v for k, v in meta.items() if v}


# --- entry point -----------------------------------------------------------------------------------------


def read_official(path: Path, root: Element) -> Document:
    body = root
    if local(root.tag) in ROOT_TAGS:
        body = next((c for c in root if local(c.tag) not in ("metadata", "meta")), root)
    body_tag = local(body.tag)
    identifier = identifier_of(root)
    identity = _identity(identifier) or _identity(path.stem)
    if identifier is None and identity is not None:
        identifier = path.stem

    state: dict = {}
    extra: dict[str, str] = {}
    if body_tag == "handelingen":
        kind = HANDELINGEN
        sections = _handelingen_sections(body, state)
        title = state.get("title")
        if not title and state.get("kind_of_item") == "opening":
            title = "Opening / presentielijst" if "Aanwezig zijn" in "".join(body.itertext()) else "Opening"
        date = state.get("date")
        speakers = list(dict.fromkeys(state.get("speakers", [])))
        if speakers:
            extra["speakers"] = "; ".join(speakers)
    else:
        kind = BODY_KINDS.get(body_tag, DOCUMENT)
        meta = _kamerstuk_meta(body) if body_tag == "kamerstuk" else {}
        if body_tag == "kamerstuk" and identity is None and meta.get("dossier") and meta.get("ondernummer"):
            identifier = f"kst-{meta['dossier']}-{meta['ondernummer']}"
            identity = _identity(identifier)
        skip = {"kamerstukkop", "dossier", "stuknr", "stuknummer", "metadata"}
        stuk_title = meta.get("stuk_title")
        sections = _divided_sections(
            body, sentence_case_if_shouting(stuk_title) if stuk_title else None, skip
        )
        parts = [meta.get("dossier_title"), sentence_case_if_shouting(stuk_title) if stuk_title else None]
        title = "; ".join(p for p in parts if p)
        if not title:
            for name in ("item-titel", "titel", "onderwerp"):
                e = _first(body, name)
                if e is not None and (title := inline_text(e)):
                    break
        date = meta.get("date")
        state["stuk_title"] = stuk_title
        for key in ("dossier", "ondernummer", "vergaderjaar", "kamer"):
            if meta.get(key):
                state[key] = meta[key]
        if meta.get("dossier_title"):
            extra["dossier_title"] = meta["dossier_title"]

    if kind == DOCUMENT and identity is not None:
        kind = _kind_from_identity(identity.get("kind"), kind)
    sections = require_text(drop_repeated_sections(sections), path)
    ident = dict(identity or {})
    for key in ("vergaderjaar", "kamer"):
        ident[key] = ident.get(key) or state.get(key)
    if ident.get("kamerstuk_id") and kind == KAMERSTUK and (ident.get("vergaderjaar") or ident.get("kamer")):
        from corpus.citations import display_for

        # The identifier has no year or Kamer; the stuk's own kop does ("Kamerstukken II 2021/22, ...").
        ident["citation"] = display_for(ident["kamerstuk_id"], ident.get("vergaderjaar"), ident.get("kamer"))
    doc = Document(
        id=identifier or path.stem,
        path=str(path),
        kind=kind,
        title=title or ident.get("citation") or path.stem,
        date=date or None,
        access="openbaar",
        sections=sections,
        dossier=ident.get("dossier") or state.get("dossier"),
        ondernummer=ident.get("ondernummer") or state.get("ondernummer"),
        vergaderjaar=ident.get("vergaderjaar"),
        kamer=ident.get("kamer"),
        kamerstuk_id=ident.get("kamerstuk_id"),
        citation=ident.get("citation"),
        metadata={"format": "officiele-publicatie", **extra},
    )
    from corpus.units import units_from_kamerstuk, units_from_xml

    if kind == KAMERSTUK:
        units = units_from_kamerstuk(doc, body, state.get("stuk_title") or "")
    else:
        units = units_from_xml(body)
    return doc.model_copy(update={"units": units}) if units else doc


def _kind_from_identity(value: object, default: str) -> str:
    v = str(value or "").lower()
    if "aanhangsel" in v:
        return AANHANGSEL
    if "handeling" in v:
        return HANDELINGEN
    if "kamerstuk" in v or v in ("kst", "motie", "brief"):
        return KAMERSTUK
    return default
