"""ParlaMint-NL: TEI XML (speaker turns ``<u who=...>``) and plain text (utterance-id TAB text).

A ``STEM-meta.tsv`` beside the files is not a document: it maps utterance ids to speakers and gives the
session title. ParlaMint is CC BY 4.0, so these records are ``openbaar``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from xml.etree.ElementTree import Element

from corpus.encoding import decode_bytes
from corpus.models import DEBAT, Document, Section
from corpus.readers.common import (
    MONTHS_NL,
    UnreadableError,
    clean_inline,
    drop_repeated_sections,
    require_text,
)

TEI_NS = "http://www.tei-c.org/ns/1.0"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_UTTERANCE_LINE = re.compile(r"^[\w.-]+\.u\d+\t")
_MONTH_NAMES = {v: k for k, v in MONTHS_NL.items()}


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def is_tei_root(root: Element) -> bool:
    return _local(root.tag) in ("TEI", "teiCorpus")


def is_parlamint_txt(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    return bool(lines) and sum(bool(_UTTERANCE_LINE.match(ln)) for ln in lines) / len(lines) >= 0.8


def meta_tsv_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}-meta.tsv")


def _session_facts(stem: str) -> dict[str, str | None]:
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", stem)
    date = m.group(0) if m else None
    low = stem.lower()
    kamer = "I" if "eerstekamer" in low else "II" if "tweedekamer" in low else None
    return {"date": date, "kamer": kamer}


def _citation(kamer: str | None, date: str | None) -> str:
    house = {"I": "Eerste Kamer", "II": "Tweede Kamer"}.get(kamer or "", "Staten-Generaal")
    when = ""
    if date:
        y, mo, d = date.split("-")
        when = f", vergadering van {int(d)} {_MONTH_NAMES[int(mo)]} {y}"
    return f"{house}{when} (ParlaMint-NL)"


def _speaker_from_row(row: dict[str, str]) -> str | None:
    raw = (row.get("Speaker_name") or "").strip()
    if not raw or raw == "-":
        return None
    last, _, first = raw.partition(",")
    name = f"{first.strip()} {last.strip()}".strip()
    party = (row.get("Speaker_party") or "").strip()
    if (row.get("Speaker_role") or "").lower() in ("voorzitter", "chair"):
        return f"De voorzitter ({name})"
    if (row.get("Speaker_minister") or "").lower().startswith("minister"):
        return f"Minister {name}"
    return f"{name} ({party})" if party and party != "-" else name


def read_meta_tsv(path: Path) -> tuple[dict[str, str], str | None]:
    """Utterance id → speaker display name, and the session title, from a ParlaMint ``-meta.tsv``."""
    if not path.is_file():
        return {}, None
    try:
        text = decode_bytes(path.read_bytes())
    except (OSError, ValueError):
        return {}, None  # the TSV only enriches; a broken one must not cost us the debate itself
    speakers: dict[str, str] = {}
    title: str | None = None
    for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        uid = (row.get("ID") or "").strip()
        title = title or (row.get("Title") or "").strip() or None
        speaker = _speaker_from_row(row)
        if uid and speaker:
            speakers[uid] = speaker
    return speakers, title


def _document(path: Path, title: str, sections: list[Section], fmt: str) -> Document:
    facts = _session_facts(path.stem)
    sections = require_text(drop_repeated_sections(sections), path)
    speakers = list(dict.fromkeys(s.speaker for s in sections if s.speaker))
    meta = {"format": fmt, "license": "CC BY 4.0 (ParlaMint)"}
    if speakers:
        meta["speakers"] = "; ".join(speakers)
    return Document(
        id=path.stem,
        path=str(path),
        kind=DEBAT,
        title=title,
        date=facts["date"],
        access="openbaar",
        language="nl",
        sections=sections,
        kamer=facts["kamer"],  # type: ignore[arg-type]
        citation=_citation(facts["kamer"], facts["date"]),
        metadata=meta,
    )


def _default_title(path: Path) -> str:
    facts = _session_facts(path.stem)
    house = {"I": "Eerste Kamer", "II": "Tweede Kamer"}.get(facts["kamer"] or "", "Parlement")
    return f"{house}, vergadering {facts['date'] or path.stem}"


def read_parlamint_txt(path: Path, text: str) -> Document:
    speakers, tsv_title = read_meta_tsv(meta_tsv_for(path))
    sections: list[Section] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        uid, sep, utterance = line.partition("\t")
        if not sep:
            raise UnreadableError(f"not a ParlaMint text line (no TAB): {line[:60]!r}")
        utterance = utterance.strip()
        if utterance:
            sections.append(Section(text=utterance, speaker=speakers.get(uid.strip())))
    return _document(path, tsv_title or _default_title(path), sections, "parlamint-txt")


def _who_name(who: str | None) -> str | None:
    if not who:
        return None
    name = who.lstrip("#")
    return re.sub(r"(?<=[a-zà-ÿ])(?=[A-Z])", " ", name) or None


def read_tei(path: Path, root: Element) -> Document:
    speakers, tsv_title = read_meta_tsv(meta_tsv_for(path))
    heads: list[str] = []
    sections: list[Section] = []
    pending_speaker: str | None = None
    heading: str | None = None
    body = next((e for e in root.iter() if _local(e.tag) == "body"), None)
    if body is None:
        raise UnreadableError("TEI file without <body>")
    divs = [d for d in body.iter() if _local(d.tag) == "div"] or [body]
    for e in (child for d in divs for child in d):
        tag = _local(e.tag)
        if tag == "head":
            heading = clean_inline("".join(e.itertext())) or heading
            if heading:
                heads.append(heading)
        elif tag == "note" and e.get("type") == "speaker":
            pending_speaker = clean_inline("".join(e.itertext())) or None
        elif tag == "note":
            # Procedural remarks ("De beraadslaging wordt gesloten.") belong to no speaker.
            text = clean_inline("".join(e.itertext()))
            if text:
                sections.append(Section(text=text, heading=heading))
        elif tag == "u":
            segs = [clean_inline("".join(s.itertext())) for s in e if _local(s.tag) == "seg"]
            if not segs:
                segs = [clean_inline("".join(e.itertext()))]
            speaker = pending_speaker or speakers.get(e.get(_XML_ID, "")) or _who_name(e.get("who"))
            pending_speaker = None
            sections.append(Section(text="\n\n".join(s for s in segs if s), speaker=speaker, heading=heading))
    title = "; ".join(dict.fromkeys(heads)) or tsv_title or _tei_title(root) or _default_title(path)
    return _document(path, title, sections, "parlamint-tei")


def _tei_title(root: Element) -> str | None:
    for e in root.iter(f"{{{TEI_NS}}}title"):
        if e.get("type") == "sub" and e.get(_XML_LANG) == "nl":
            return clean_inline("".join(e.itertext()))
    return None
