"""XML files: decoded like any text, parsed ONLY through defusedxml, dispatched by their root element."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from corpus.encoding import decode_bytes
from corpus.models import Document, Section
from corpus.readers.common import UnreadableError, clean_inline, detect_language, humanise_stem, require_text
from corpus.readers.officiele import blocks, is_official_root, local, read_official
from corpus.readers.parlamint import is_tei_root, read_tei

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
MAX_SECTION_CHARS = 4000


def parse_xml(data: bytes) -> Element:
    m = _DECLARED.match(data[:200].lstrip(b"\xef\xbb\xbf"))
    text = decode_bytes(data, declared=m.group(1).decode("ascii") if m else None)
    # The prolog names the bytes' encoding; we hand the parser a str, so drop it.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    if not text.strip():
        raise UnreadableError("empty XML file")
    try:
        return SafeET.fromstring(text)
    except ParseError as e:
        raise UnreadableError(f"not valid XML ({e})") from e
    except DefusedXmlException as e:
        raise UnreadableError(f"XML refused for safety ({type(e).__name__}: {e})") from e


def read_generic_xml(path: Path, root: Element) -> Document:
    """XML of a kind we do not know: its text, in paragraphs."""
    paragraphs = [p for p in blocks(root, []) if p]
    sections: list[Section] = []
    buf: list[str] = []
    for p in paragraphs:
        if buf and sum(len(b) for b in buf) + len(p) > MAX_SECTION_CHARS:
            sections.append(Section(text="\n\n".join(buf)))
            buf = []
        buf.append(p)
    if buf:
        sections.append(Section(text="\n\n".join(buf)))
    sections = require_text(sections, path)
    title_el = next((e for e in root.iter() if local(e.tag) in ("title", "titel")), None)
    title = clean_inline("".join(title_el.itertext())) if title_el is not None else ""
    text = "\n\n".join(s.text for s in sections)
    return Document(
        id=path.stem,
        path=str(path),
        title=title or humanise_stem(path.stem),
        language=detect_language(text),
        sections=sections,
        metadata={"format": f"xml <{local(root.tag)}>"},
    )


def read_xml(path: Path, data: bytes) -> Document:
    root = parse_xml(data)
    if is_official_root(root):
        return read_official(path, root)
    if is_tei_root(root):
        return read_tei(path, root)
    return read_generic_xml(path, root)
