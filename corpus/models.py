"""The typed records that flow from ``corpus`` to ``index``: documents, their sections, read errors."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

Access = Literal["openbaar", "intern"]

# Document kinds, in Dutch because users filter on them in the app.
KAMERSTUK = "Kamerstuk"
HANDELINGEN = "Handelingen"
AANHANGSEL = "Aanhangsel Handelingen"
NOTA = "nota"
STRATEGIE = "strategie"
DEBAT = "debat"  # other parliamentary transcripts (ParlaMint)
DOCUMENT = "document"  # anything we cannot classify better


class Section(BaseModel):
    """A structural unit of a document: a paragraph group, a speaker turn, a PDF page's text."""

    text: str
    heading: str | None = None
    page: int | None = None  # 1-based page number for paginated sources
    speaker: str | None = None  # Handelingen/debates: "De heer Paternotte (D66)"


UnitKind = Literal["motie", "amendement", "toezegging", "stemming"]
UNIT_KINDS: tuple[str, ...] = ("motie", "amendement", "toezegging", "stemming")
# The outcomes a stemming or a chair's announcement can give a motion or amendment.
STATUSES: tuple[str, ...] = ("aangenomen", "verworpen", "aangehouden", "ingetrokken", "vervallen")


class ParliamentaryUnit(BaseModel):
    """A motion, amendment, commitment or vote found inside a document (see ``corpus/units.py``).

    ``id`` is the Kamerstuk the unit is (a motion: ``12345-67``) or is about (a stemming: the motion voted
    on); a toezegging has no Kamerstuk of its own and is identified by its document and position."""

    kind: UnitKind
    id: str
    was: str | None = None  # the earlier number of a renumbered (changed) motion: "12345-60"
    title: str = ""  # "motie-Jansen c.s."
    indieners: list[str] = Field(default_factory=list)
    fracties: list[str] = Field(default_factory=list)  # of the indieners, where the document says it
    fractie_van: dict[str, str] = Field(default_factory=dict)  # indiener -> fractie, where known
    dictum: str = ""  # "verzoekt de regering ..."
    onderwerp: str = ""  # what it is about, where the document says so ("over één emissie-eis voor ...")
    text: str = ""  # the whole unit as it stands in the document
    status: str | None = None  # one of STATUSES, for a stemming and (joined at ingest) for a motion
    voor: list[str] = Field(default_factory=list)  # stemming: fracties that voted for
    tegen: list[str] = Field(default_factory=list)
    speaker: str | None = None  # toezegging: who made it
    document_id: str = ""
    section: int | None = None  # index of the document section the unit stands in
    date: str | None = None
    debate: str | None = None  # title of the debate (Handelingen item) it was submitted or voted in
    citation: str = ""  # official display form of ``id``


class Document(BaseModel):
    id: str
    path: str
    kind: str = DOCUMENT
    title: str = ""
    date: str | None = None  # ISO yyyy-mm-dd, or yyyy / yyyy-mm when that is all we know
    access: Access = "intern"
    language: str = "nl"
    sections: list[Section] = Field(default_factory=list)
    # Parliamentary identity, where the document has one.
    dossier: str | None = None  # "33763", "21501-02", "35570-XVII"
    ondernummer: str | None = None  # "141", "D"
    vergaderjaar: str | None = None  # "2017-2018"
    kamer: Literal["I", "II"] | None = None
    kamerstuk_id: str | None = None  # canonical id of the document itself: "33763-141", "h-tk-20172018-70-12"
    citation: str | None = None  # display form of the document itself
    pages: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    units: list[ParliamentaryUnit] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    @property
    def content_hash(self) -> str:
        """Hash of what ends up in the index: text plus the metadata that goes into every chunk payload."""
        h = hashlib.sha256()
        meta = self.model_dump(exclude={"sections", "path"})
        h.update(repr(sorted(meta.items())).encode())
        for s in self.sections:
            h.update(b"\x00" + repr((s.heading, s.page, s.speaker)).encode() + b"\x01" + s.text.encode())
        return h.hexdigest()

    @property
    def display_citation(self) -> str:
        return self.citation or self.title or self.id


class ReadError(BaseModel):
    """A file that could not be read. It never becomes a half-read document."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
