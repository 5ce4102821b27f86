"""Bytes to clean text: encoding detection, mojibake repair, BOM removal.

Real files arrive as UTF-8, Windows-1252, UTF-16 with a BOM, or UTF-8 that was decoded as Latin-1 and
encoded again ("KrÃ¶ger"), sometimes with a stray BOM line on top. Every reader goes through
``decode_bytes`` so that all of them see the same clean ``str``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer
import ftfy

# Dutch and English documents: try the Western code pages first. Unrestricted detection happily calls
# Windows-1252 Dutch "mac_latin2" and turns "één" into "ťťn".
_WESTERN = ["cp1252", "iso8859_15", "latin_1"]

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),  # the BOM stays for fix_text, which also drops a BOM-only first line
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

# Only the encoding repair of ftfy: its other fixes (uncurling quotes, HTML unescaping, width folding)
# would change correct text, and unescaping would corrupt XML entities before parsing.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ALLOWED_CONTROLS = {"\n", "\r", "\t", "\f"}


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we accept (binary content, or noise)."""


def _bom_encoding(data: bytes) -> str | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    return None


def _detect(data: bytes, declared: str | None) -> str:
    bom = _bom_encoding(data)
    if bom:
        return data.decode(bom)
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; fall through to detection
    if b"\x00" in data:
        raise UndecodableError("binary content (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_WESTERN).best()
    if best is None:
        best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UndecodableError("binary content or unknown text encoding")
    return str(best)


def looks_binary(text: str) -> bool:
    """True when too many characters are control characters or replacement marks to be real text."""
    if not text:
        return False
    sample = text[:20000]
    bad = sum(
        1
        for ch in sample
        # C1 controls (U+0080-U+009F) are left out: they are what mojibake looks like, and ftfy repairs it.
        if ch == "\ufffd"
        or (unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS and ch < "\x80")
    )
    return bad / len(sample) > 0.02


def fix_text(text: str) -> str:
    """Repair double-encoded UTF-8, drop BOMs (also BOM-only lines) and normalise line ends."""
    text = ftfy.fix_text(text, _FTFY)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A BOM that survived as the only content of a line leaves an empty line behind: drop both.
    text = re.sub(r"(?m)^\ufeff+\n", "", text)
    text = text.replace("\f", "\n\n")
    # Control characters PDF extraction leaves behind (BEL as a bullet, for one) are never content.
    return _CONTROL.sub("", text.replace("\ufeff", ""))


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` to clean text. ``declared`` is an encoding named by the file itself (XML prolog).

    Raises ``UndecodableError`` for binary content.
    """
    text = _detect(data, declared)
    if looks_binary(text):
        raise UndecodableError("binary content, not text")
    return fix_text(text)
