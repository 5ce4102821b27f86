"""Find references to parliamentary papers in text and normalise them to one canonical id.

Canonical ids (what the index, the eval and the app compare):
  Kamerstuk             "33763-141", "35570-XVII-12", "21501-02-1855", "31700-VI-D"
  Handelingen item      "h-tk-20172018-70-12"; whole vergadering "h-tk-20172018-70"
  Aanhangsel            "ah-tk-20142015-1241"

Display strings follow Aanwijzing 3.43 voor de regelgeving ("Kamerstukken II 2017/18, 33763, nr. 141").

The parser is deliberately conservative: a bare "12345-67" is only a Kamerstuk in a context that says so
(a "Kamerstuk" or "kst-" prefix, the " - 21501-02-1855" tail of an ingekomen-stukken line, or a list
introduced by "moties ...:"), because dates, phone numbers and amounts look much the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Citation",
    "canonical_ids",
    "display_for",
    "find_citations",
    "identity_from_identifier",
    "normalise_id",
    "normalise_vergaderjaar",
]

KIND_KAMERSTUK = "kamerstuk"
KIND_HANDELINGEN = "handelingen"
KIND_AANHANGSEL = "aanhangsel"


@dataclass(frozen=True)
class Citation:
    id: str
    display: str
    span: tuple[int, int]
    kind: str  # "kamerstuk" | "handelingen" | "aanhangsel"
    dossier: str | None = None
    ondernummer: str | None = None
    vergaderjaar: str | None = None  # "2017-2018"
    kamer: str | None = None  # "I" | "II"


# --- building blocks ------------------------------------------------------------------------------------

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014"  # hyphen, (non-breaking) hyphen, figure dash, en dash, em dash
_D = f"[{_DASH}]"
_SP = "[ \u00a0]"  # a space inside a number ("33 763"), never a newline
# Budget chapters and similar dossier suffixes: I..XXXIX plus L. C/D/M are left out on purpose: they are
# far more likely Eerste Kamer letters ("31700 VI, C") than Roman numerals in a dossier number.
_ROMAN = r"(?=[IVXL])L?X{0,3}(?:IX|IV|V?I{0,3})"
_YEAR = rf"(?<!\d)(?:19|20)\d{{2}}\s?[{_DASH}/]\s?(?:(?:19|20)\d{{2}}|\d{{2}})(?!\d)"
_KAMER = r"(?:II|I|TK|EK)(?![\w])"

# A dossier number with an optional suffix: "33763", "33 763", "21501-02", "35570-XVII", "35570 XVII",
# "36200 A" (letter suffix only when an explicit "nr." follows; see below).
_DOSSIER_TAIL = (
    rf"(?:{_SP}*{_D}{_SP}*|{_SP}+)(?P<roman>{_ROMAN})(?![\w{_DASH}])"
    rf"|{_D}(?P<sub>\d{{1,3}})(?![\d{_DASH}])"
    rf"|(?:{_SP}*{_D}{_SP}*|{_SP}+)(?P<lettersuf>[A-Z])(?=\s*,\s*(?i:nrs?|no)\b)"
)
# Inside an explicit citation ("Kamerstukken II ...", "Parliamentary Papers ...") a PDF may have split the
# number anywhere ("3147 7"); elsewhere only the usual "33 763" spacing is accepted.
_DOSSIER_LOOSE = rf"(?P<dn>[1-9](?:{_SP}?\d){{4}})(?!{_SP}?\d)(?:{_DOSSIER_TAIL})?"
_DOSSIER_STRICT = rf"(?P<dn>[1-9]\d{_SP}?\d{{3}})(?!\d)(?:{_DOSSIER_TAIL})?"

# Text extracted from PDFs with links sometimes has a stray "[" after a line break inside a reference.
_GAP = r"\s*,?\s*(?:\[\s*)?"
_NR_WORD = r"(?P<nrw>(?i:nrs?|nos?|nummers?))(?:\.\s*|\s+)"
_ONDERNUMMER = (
    rf"(?:{_GAP}{_NR_WORD}\[?(?P<nr>\d{{1,4}})(?!\d)"
    rf"|\s*,\s*\[?(?P<letter>[A-Z]{{1,2}})(?![\w'’{_DASH}]))"
)
_NR_ONLY = r"\s*,\s*(?P<nrw>(?i:nrs?))\.?\s*(?P<nr>\d{1,4})(?!\d)"
# The rest of "nrs. 12, 13 en 14": each further number is a stuk of the same dossier.
_RE_MORE_NRS = re.compile(r"(?:\s*,\s*|\s+(?:en|and)\s+|\s*&\s*)(?P<nr>\d{1,4})(?![\d\w.,]\d)(?![\d\w])")

_PREFIX = (
    r"(?i:kamerstukken|kamerstuk|kst\.)"
    r"|Parliamentary\s+(?:[Pp]apers|[Dd]ocuments)"
    r"|(?:TK|EK)(?=\s+\d)"
)

# Form A: "Kamerstukken II 2017–2018, 33763, nr. 141", "Kamerstukken I 2009/10, 31700 VI, D",
# "kamerstuk 30 821, nr. 153", "Parliamentary Papers II 2022/23, 30821, No. 165".
_RE_FULL = re.compile(
    rf"(?<![\w/])(?P<prefix>{_PREFIX})"
    rf"(?:(?:\s*,?\s+|\s*\[)(?P<kamer>{_KAMER}))?"
    rf"(?:{_GAP}(?P<year>{_YEAR}))?"
    rf"{_GAP}{_DOSSIER_LOOSE}"
    rf"{_ONDERNUMMER}"
)

# Form B: no prefix, but an explicit "nr.": "33 763, nr. 141", "35570 XVII, nr. 12", "( 21501-08 , nr. 719 )";
# Eerste Kamer letters only after a Roman suffix: "31700 VI, D".
_RE_BARE_NR = re.compile(rf"(?<![\w.,/€$£{_DASH}]){_DOSSIER_STRICT}{_NR_ONLY}")
_RE_BARE_EK = re.compile(
    rf"(?<![\w.,/€$£{_DASH}])(?P<dn>[1-9]\d{_SP}?\d{{3}})(?:{_SP}*{_D}{_SP}*|{_SP}+)(?P<roman>{_ROMAN})"
    rf"\s*,\s*(?P<letter>[A-Z]{{1,2}})(?![\w'’{_DASH}])"
)

# Form C: dash-joined ids "33763-141", "21501-02-1855", "34775-XVI-129", "31700-VI-D", in a clear context.
_DASH_ID = (
    rf"(?P<dn>[1-9]\d{{4}})(?:{_D}(?P<sub>\d{{1,3}}|{_ROMAN}|[A-Z]))??{_D}(?P<nr>\d{{1,4}}|[A-Z]{{1,2}})"
    rf"(?![\w{_DASH}])"
)
_RE_DASH_ID = re.compile(rf"(?:(?<=kst-)|(?<=KST-)|(?<=Kst-)|(?<![\w{_DASH}.,/])){_DASH_ID}")
_LIST_SEP = re.compile(r"\s*[;,]\s*(?:en\s+|and\s+)?|\s+(?:en|and)\s+")
_RE_DASH_PREFIX = re.compile(
    rf"(?:(?<![\w/])(?i:kamerstukken|kamerstuk|kst\.?)(?:\s+(?P<kamer>{_KAMER}))?\s+"
    r"|(?<![\w-])(?i:kst)-"
    r"|(?<![\w/])(?P<tk>TK|EK)\s+)$"
)
# " - 21501-02-1855" closing an item of the list of ingekomen stukken (Handelingen, "Ingekomen stukken").
_RE_INGEKOMEN = re.compile(rf"\S\s+{_D}\s+$")
# "de volgende aangehouden moties zijn vervallen: 34775-42; 34734-25; ..."
_RE_LIST_INTRO = re.compile(
    r"(?i:\b(?:moties?|amendementen|amendement|stukken|kamerstukken|kamerstuk))\b[^.:;\n]{0,120}:\s*$"
)

# Form D: motions in Handelingen: "Zij krijgt nr. 313 ( 31765 )", "Zij krijgt nr. 726 , was nr. 719 ( 21501-08 )".
_RE_KRIJGT = re.compile(
    r"\b(?i:krijgt|kreeg)\s+(?i:nr)\.?\s*(?P<nr>\d{1,4})(?:\s*,\s*was\s+nr\.?\s*\d{1,4})?"
    rf"\s*\(\s*{_DOSSIER_STRICT}\s*\)"
)

# Form E: Handelingen and Aanhangsel: "Handelingen II 2017/18, nr. 70, item 12", "Aanhangsel Handelingen II
# 2014/15, nr. 1241".
_RE_HANDELINGEN = re.compile(
    r"(?<![\w])(?P<aanh>(?i:aanhangsel)\s+(?:(?i:van\s+de)\s+)?(?i:handelingen)|(?i:aanh\.)\s*(?i:handelingen)"
    r"|(?i:handelingen))"
    rf"\s+(?P<kamer>{_KAMER})\s*,?\s*(?P<year>{_YEAR})\s*,\s*(?:(?i:nr)\.?\s*)?(?P<nr>\d{{1,5}})(?!\d)"
    r"(?:\s*,\s*(?i:item)\s+(?P<item>\d{1,3})(?!\d))?"
)

# Form F: official identifiers in running text or URLs.
_RE_H_ID = re.compile(
    r"(?<![\w-])(?P<a>a)?h-(?P<k>tk|ek)-(?P<y>\d{8})-(?P<n>\d{1,5})(?:-(?P<i>\d{1,3}))?(?![\w-])"
)

# Words right before a bare number that make it something else (an amount, an article, a kenmerk).
_BAD_LEFT = re.compile(
    r"(?i:€|eur|euro|artikel|art\.|lid|postbus|kenmerk|tel\.?|telefoon|fax|kvk|nummer|bsn)\s*[:.]?\s*$"
)


# --- normalisation helpers ------------------------------------------------------------------------------


def normalise_vergaderjaar(s: str | None) -> str | None:
    """'2017–2018', '2017/18', '2017-18', '20172018' -> '2017-2018'; None when not two consecutive years."""
    if not s:
        return None
    m = re.fullmatch(rf"\s*((?:19|20)\d{{2}})\s?[{_DASH}/]?\s?(\d{{4}}|\d{{2}})\s*", s)
    if not m:
        return None
    y1 = int(m.group(1))
    tail = m.group(2)
    if len(tail) == 4:
        y2 = int(tail)
    else:
        y2 = (y1 // 100) * 100 + int(tail)
        if y2 < y1:  # "1999/00"
            y2 += 100
    if y2 != y1 + 1:
        return None
    return f"{y1}-{y2}"


def _short_year(vergaderjaar: str) -> str:
    y1, y2 = vergaderjaar.split("-")
    # Aanwijzing 3.43 writes "2017/18" but "1999/2000" across a century.
    return f"{y1}/{y2[2:]}" if y1[:2] == y2[:2] else f"{y1}/{y2}"


def _kamer(s: str | None) -> str | None:
    if not s:
        return None
    s = s.upper()
    if s in ("II", "TK"):
        return "II"
    if s in ("I", "EK"):
        return "I"
    return None


def _dossier(dn: str, roman: str | None = None, sub: str | None = None, letter: str | None = None) -> str:
    base = re.sub(r"\s", "", dn)
    suffix = roman or sub or letter
    return f"{base}-{suffix}" if suffix else base


def _dossier_display(dossier: str) -> str:
    # Official style: numbered sub-dossiers keep the hyphen ("21501-02"), chapters take a space ("35570 XVII").
    base, _, suffix = dossier.partition("-")
    if not suffix:
        return base
    return f"{base}-{suffix}" if suffix.isdigit() else f"{base} {suffix}"


def _kamerstuk_display(dossier: str, ondernummer: str, vergaderjaar: str | None, kamer: str | None) -> str:
    head = "Kamerstukken"
    if kamer:
        head += f" {kamer}"
    if vergaderjaar:
        head += f" {_short_year(vergaderjaar)},"
    nr = f"nr. {ondernummer}" if ondernummer.isdigit() else ondernummer
    return f"{head} {_dossier_display(dossier)}, {nr}"


def _handelingen_display(kind: str, kamer: str, vergaderjaar: str, nr: str, item: str | None) -> str:
    head = "Aanhangsel Handelingen" if kind == KIND_AANHANGSEL else "Handelingen"
    out = f"{head} {kamer} {_short_year(vergaderjaar)}, nr. {nr}"
    return f"{out}, item {item}" if item else out


def _kamerstuk(
    span: tuple[int, int], dossier: str, ondernummer: str, vergaderjaar: str | None, kamer: str | None
) -> Citation:
    ondernummer = (ondernummer.lstrip("0") or "0") if ondernummer.isdigit() else ondernummer.upper()
    return Citation(
        id=f"{dossier}-{ondernummer}",
        display=_kamerstuk_display(dossier, ondernummer, vergaderjaar, kamer),
        span=span,
        kind=KIND_KAMERSTUK,
        dossier=dossier,
        ondernummer=ondernummer,
        vergaderjaar=vergaderjaar,
        kamer=kamer,
    )


def _handelingen(
    span: tuple[int, int], aanhangsel: bool, kamer: str, vergaderjaar: str, nr: str, item: str | None
) -> Citation:
    kind = KIND_AANHANGSEL if aanhangsel else KIND_HANDELINGEN
    k = "tk" if kamer == "II" else "ek"
    years = vergaderjaar.replace("-", "")
    nr = str(int(nr))
    if aanhangsel:
        item = None
    cid = f"{'ah' if aanhangsel else 'h'}-{k}-{years}-{nr}" + (f"-{int(item)}" if item else "")
    return Citation(
        id=cid,
        display=_handelingen_display(kind, kamer, vergaderjaar, nr, str(int(item)) if item else None),
        span=span,
        kind=kind,
        vergaderjaar=vergaderjaar,
        kamer=kamer,
    )


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _bad_left(text: str, start: int) -> bool:
    return bool(_BAD_LEFT.search(text[max(0, start - 20) : start]))


# --- finders --------------------------------------------------------------------------------------------


def _more_nrs(
    text: str, m: re.Match[str], dossier: str, jaar: str | None, kamer: str | None
) -> list[Citation]:
    """Further numbers after a plural "nrs." ("nrs. 12 en 13"); each keeps its own span."""
    word = (_group(m, "nrw") or "").lower()
    if not word.endswith("s"):
        return []
    out = []
    pos = m.end()
    while more := _RE_MORE_NRS.match(text, pos):
        out.append(_kamerstuk(more.span("nr"), dossier, more.group("nr"), jaar, kamer))
        pos = more.end()
    return out


def _find_full(text: str) -> list[Citation]:
    out = []
    for m in _RE_FULL.finditer(text):
        prefix = m.group("prefix")
        kamer = _kamer(m.group("kamer")) or _kamer(prefix if prefix in ("TK", "EK") else None)
        dossier = _dossier(m.group("dn"), m.group("roman"), m.group("sub"), m.group("lettersuf"))
        onder = m.group("nr") or m.group("letter")
        if m.group("letter") and kamer == "II":
            continue  # lettered stukken are the Eerste Kamer's; "Kamerstukken II ..., A" is something else
        jaar = normalise_vergaderjaar(m.group("year"))
        out.append(_kamerstuk(m.span(), dossier, onder, jaar, kamer))
        out += _more_nrs(text, m, dossier, jaar, kamer)
    return out


def _find_bare(text: str) -> list[Citation]:
    out = []
    for rx in (_RE_BARE_NR, _RE_BARE_EK):
        for m in rx.finditer(text):
            if _bad_left(text, m.start()):
                continue
            dossier = _dossier(m.group("dn"), _group(m, "roman"), _group(m, "sub"), _group(m, "lettersuf"))
            onder = _group(m, "nr") or _group(m, "letter")
            out.append(_kamerstuk(m.span(), dossier, onder, None, None))
            out += _more_nrs(text, m, dossier, None, None)
    return out


def _find_krijgt(text: str) -> list[Citation]:
    out = []
    for m in _RE_KRIJGT.finditer(text):
        dossier = _dossier(m.group("dn"), m.group("roman"), m.group("sub"), m.group("lettersuf"))
        out.append(_kamerstuk(m.span(), dossier, m.group("nr"), None, None))
    return out


def _dash_runs(text: str) -> list[list[re.Match[str]]]:
    """Dash ids grouped into lists ("34775-42; 34734-25 en 30234-172")."""
    runs: list[list[re.Match[str]]] = []
    for m in _RE_DASH_ID.finditer(text):
        if runs:
            prev = runs[-1][-1]
            if _LIST_SEP.fullmatch(text[prev.end() : m.start()]):
                runs[-1].append(m)
                continue
        runs.append([m])
    return runs


def _dash_id_citation(m: re.Match[str], start: int, kamer: str | None) -> Citation | None:
    sub = m.group("sub")
    dossier = _dossier(m.group("dn"), sub=sub)
    return _kamerstuk((start, m.end()), dossier, m.group("nr"), None, kamer)


def _find_dash(text: str) -> list[Citation]:
    out = []
    for run in _dash_runs(text):
        first = run[0]
        left = text[max(0, first.start() - 160) : first.start()]
        pm = _RE_DASH_PREFIX.search(left)
        if pm:
            kamer = _kamer(pm.group("kamer") or pm.group("tk"))
            start = first.start() - (len(left) - pm.start())
            for i, m in enumerate(run):
                c = _dash_id_citation(m, start if i == 0 else m.start(), kamer)
                if c:
                    out.append(c)
            continue
        ingekomen = len(run) == 1 and _RE_INGEKOMEN.search(left)
        if ingekomen or _RE_LIST_INTRO.search(left):
            for m in run:
                c = _dash_id_citation(m, m.start(), None)
                if c:
                    out.append(c)
    return out


def _find_handelingen(text: str) -> list[Citation]:
    out = []
    for m in _RE_HANDELINGEN.finditer(text):
        kamer = _kamer(m.group("kamer"))
        jaar = normalise_vergaderjaar(m.group("year"))
        if not kamer or not jaar:
            continue
        aanh = m.group("aanh").lower().startswith("aanh")
        out.append(_handelingen(m.span(), aanh, kamer, jaar, m.group("nr"), m.group("item")))
    return out


def _find_h_ids(text: str) -> list[Citation]:
    out = []
    for m in _RE_H_ID.finditer(text):
        jaar = normalise_vergaderjaar(m.group("y"))
        if not jaar:
            continue
        kamer = "II" if m.group("k") == "tk" else "I"
        aanh = bool(m.group("a"))
        if aanh and m.group("i"):
            continue  # an Aanhangsel has no items: not an identifier we know
        out.append(_handelingen(m.span(), aanh, kamer, jaar, m.group("n"), m.group("i")))
    return out


def find_citations(text: str) -> list[Citation]:
    """Every reference to a Kamerstuk, Handelingen item or Aanhangsel in TEXT, in order of appearance.

    Overlapping candidates (the same reference seen by two patterns) are resolved longest first, so
    "Kamerstukken II 2017/18, 33763, nr. 141" wins over the "33763, nr. 141" inside it.
    """
    if not text:
        return []
    candidates = (
        _find_full(text)
        + _find_handelingen(text)
        + _find_krijgt(text)
        + _find_h_ids(text)
        + _find_dash(text)
        + _find_bare(text)
    )
    candidates.sort(key=lambda c: (-(c.span[1] - c.span[0]), c.span[0]))
    taken: list[Citation] = []
    for c in candidates:
        if all(c.span[1] <= t.span[0] or c.span[0] >= t.span[1] for t in taken):
            taken.append(c)
    taken.sort(key=lambda c: c.span)
    return taken


def canonical_ids(text: str) -> list[str]:
    return sorted({c.id for c in find_citations(text)})


# --- single references ------------------------------------------------------------------------------------

_RE_CANON_KST = re.compile(
    rf"(?:kst-)?(?P<dn>[1-9]\d{{4}})(?:-(?P<sub>\d{{1,3}}|{_ROMAN}|[A-Z]))??-(?P<nr>\d{{1,4}}|[A-Z]{{1,2}})",
    re.IGNORECASE,
)
_RE_CANON_H = re.compile(
    r"(?P<a>a)?h-(?P<k>tk|ek)-(?P<y>\d{8})-(?P<n>\d{1,5})(?:-(?P<i>\d{1,3}))?", re.IGNORECASE
)
_EXTENSIONS = re.compile(r"\.(?:xml|html?|pdf|odt|txt)$", re.IGNORECASE)


def _parse_identifier(s: str) -> Citation | None:
    """An official identifier or canonical id, the whole string: 'kst-33763-141', '33763-141', 'h-tk-...'."""
    s = _EXTENSIONS.sub("", s.strip())
    m = _RE_CANON_H.fullmatch(s)
    if m:
        jaar = normalise_vergaderjaar(m.group("y"))
        aanh = bool(m.group("a"))
        if not jaar or (aanh and m.group("i")):
            return None
        kamer = "II" if m.group("k").lower() == "tk" else "I"
        return _handelingen((0, len(s)), aanh, kamer, jaar, m.group("n"), m.group("i"))
    m = _RE_CANON_KST.fullmatch(s)
    if m:
        sub = m.group("sub")
        sub = sub.upper() if sub and not sub.isdigit() else sub
        return _kamerstuk((0, len(s)), _dossier(m.group("dn"), sub=sub), m.group("nr"), None, None)
    return None


def normalise_id(s: str) -> str | None:
    """Any single reference ('kst-33763-141', 'Kamerstukken II 2017/18, 33763, nr. 141', '33763-141',
    'h-tk-20172018-70-12') -> its canonical id; None when it is not exactly one reference."""
    if not s or not s.strip():
        return None
    c = _parse_identifier(s)
    if c:
        return c.id
    ids = {c.id for c in find_citations(s)}
    return ids.pop() if len(ids) == 1 else None


def display_for(canonical_id: str, vergaderjaar: str | None = None, kamer: str | None = None) -> str:
    """Display form of a canonical id; year and Kamer are added for Kamerstukken when known."""
    c = _parse_identifier(canonical_id)
    if c is None:
        return canonical_id
    if c.kind != KIND_KAMERSTUK:
        return c.display
    return _kamerstuk_display(
        c.dossier or "", c.ondernummer or "", normalise_vergaderjaar(vergaderjaar), _kamer(kamer)
    )


_KIND_LABEL = {
    KIND_KAMERSTUK: "Kamerstuk",
    KIND_HANDELINGEN: "Handelingen",
    KIND_AANHANGSEL: "Aanhangsel Handelingen",
}


def identity_from_identifier(identifier: str) -> dict | None:
    """The parliamentary identity of a document from its official identifier ('kst-33763-141',
    'h-tk-20172018-70-12', 'ah-tk-20142015-1241'); None when the identifier is not one of those.

    Only the 'kst-' form counts for Kamerstukken here: a bare '33763-141' file name is not official.
    """
    s = _EXTENSIONS.sub("", (identifier or "").strip())
    if not re.match(r"(?i)(?:kst|a?h)-", s):
        return None
    c = _parse_identifier(s)
    if c is None:
        return None
    return {
        "kamerstuk_id": c.id,
        "citation": c.display,
        "kind": _KIND_LABEL[c.kind],
        "dossier": c.dossier,
        "ondernummer": c.ondernummer,
        "vergaderjaar": c.vergaderjaar,
        "kamer": c.kamer,
    }
