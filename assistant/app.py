"""The web app (Gradio): chat with sources, drafting, documents, feedback, status. Dutch interface.

A thin layer: every handler finds the caller's access levels from ``gr.Request.username`` (never from page
state, since every Gradio event is also callable through its HTTP API) and forwards to ``assistant.service``.
All document text that reaches HTML is escaped here; the chat's markdown is sanitised by Gradio.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import ipaddress
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Set before gradio is imported: no telemetry from a government workstation.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from assistant import auth, service  # noqa: E402
from assistant.feedback import FeedbackError, record_feedback  # noqa: E402
from assistant.web_security import HostOriginGuard, PrivateFiles  # noqa: E402
from corpus.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from index.progress import IngestProgress

log = logging.getLogger(__name__)

CSS_PATH = Path(__file__).with_name("app.css")
CONCURRENCY = 4  # answers served at once; more queue (the model is shared, 2 cores are the real limit)

ALL_KINDS = "alle"
NO_USERS_NOTICE = (
    "Geen gebruikers geconfigureerd: de app draait voor één gebruiker met volledige toegang "
    "(ook interne documenten) en is alleen bereikbaar op deze computer (127.0.0.1)."
)
ABSTAIN_TEXT = (
    "**Geen direct antwoord.** De geïndexeerde stukken gaan over dit onderwerp, maar geven geen direct "
    "antwoord op deze vraag. Hiernaast staan de passages die er het dichtst bij komen."
)
NONE_TEXT = "**Niets gevonden.** Geen van de stukken waartoe u toegang hebt gaat over deze vraag."
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_MARKER = re.compile(r"\[(\d+)\]")

# Clicking an answer marker [n] opens and highlights the matching source card instead of navigating.
MARKER_JS = """
<script>
document.addEventListener('click', function (ev) {
  const a = ev.target.closest && ev.target.closest('a[href*="#bron-"]');
  if (!a) return;
  const id = a.getAttribute('href').split('#').pop();
  const card = document.getElementById(id);
  ev.preventDefault();
  ev.stopPropagation();
  if (!card) return;
  let p = card;
  while (p) { if (p.tagName === 'DETAILS') p.open = true; p = p.parentElement; }
  document.querySelectorAll('.bron.actief').forEach(function (c) { c.classList.remove('actief'); });
  card.classList.add('actief');
  card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
}, true);
</script>
"""


# --- rendering (pure functions: easy to test, no Gradio) ------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _support_spans(passage: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Where each answer sentence sits in the passage: verbatim (whitespace and case aside), else the
    passage sentence sharing most of its words (a paraphrase by the language model)."""
    from corpus.dutch import words
    from corpus.sentences import split_sentences

    spans: list[tuple[int, int]] = []
    candidates = None
    for s in sentences:
        ws = s.strip().rstrip(".:;").split()
        if len(ws) < 3:
            continue
        m = re.search(r"\s+".join(re.escape(w) for w in ws), passage, flags=re.IGNORECASE)
        if m:
            spans.append((m.start(), m.end()))
            continue
        if candidates is None:
            candidates = split_sentences(passage)
        mine = {w.lower() for w in words(s) if len(w) > 3}
        best, best_overlap = None, 0.5
        for c in candidates:
            theirs = {w.lower() for w in words(c.text) if len(w) > 3}
            overlap = len(mine & theirs) / max(1, len(mine))
            if overlap > best_overlap:
                best, best_overlap = c, overlap
        if best is not None:
            spans.append((best.start, best.end))
    return sorted(spans)


def _highlight(passage: str, sentences: list[str]) -> str:
    """The passage, escaped, with each supporting sentence wrapped in <mark>."""
    out: list[str] = []
    pos = 0
    for start, end in _support_spans(passage, sentences):
        if start < pos:
            continue
        out.append(_esc(passage[pos:start]))
        out.append(f"<mark>{_esc(passage[start:end])}</mark>")
        pos = end
    out.append(_esc(passage[pos:]))
    return "".join(out)


def _supports_by_source(answer: dict[str, Any]) -> dict[int, list[str]]:
    """Answer sentences per source number, for highlighting (only those the support check accepted)."""
    out: dict[int, list[str]] = {}
    for s in answer.get("sentences") or []:
        n = s.get("source")
        support = s.get("support") or {}
        if n is None or (isinstance(support, dict) and support.get("supported") is False):
            continue
        out.setdefault(int(n), []).append(s.get("text") or "")
    return out


def _cited_display(answer: dict[str, Any]) -> dict[str, str]:
    """Canonical Kamerstuk id -> official display form, for every id the sources mention."""
    display = dict(answer.get("cited_display") or {})
    missing = {
        k for s in answer.get("sources") or [] for k in s.get("kamerstukken") or [] if k not in display
    }
    if missing:
        try:
            from corpus.citations import display_for
        except ImportError:
            return display
        for k in missing:
            try:
                display[k] = display_for(k) or k
            except Exception:  # an id the citation module cannot format is shown as is
                display[k] = k
    return display


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|#~])")


def _md_text(text: str) -> str:
    """Text from a document, safe inside the chat's Markdown: HTML escaped, Markdown syntax neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render_answer_markdown(answer: dict[str, Any], turn: int) -> str:
    """The chat message for a final answer: the direct answer stands out, the supporting points follow as a
    list; markers become links to the source cards of this turn."""
    text = answer.get("answer") or ""

    def link(t: str) -> str:
        # Document text is text: escape it (an <img> or a [link](...) in a passage must not render), then
        # turn the markers into links to this turn's source cards.
        out, pos = [], 0
        for m in _MARKER.finditer(t):
            out.append(_md_text(t[pos : m.start()]))
            out.append(f"[\\[{m.group(1)}\\]](#bron-{turn}-{m.group(1)})")
            pos = m.end()
        out.append(_md_text(t[pos:]))
        return "".join(out)

    linked = link(text)
    if answer.get("abstained"):
        # The engine's own text is then a stock sentence; keep it only if it points at passages.
        head = NONE_TEXT if answer.get("outcome") == "none" else ABSTAIN_TEXT
        return head + ("\n\n" + linked if _MARKER.search(text) else "")
    if answer.get("direct"):
        points = answer.get("points") or []
        linked = f"**{link(answer['direct'])}**"
        if points:
            linked += "\n\n**Onderbouwing**\n\n" + "\n".join(f"- {link(p)}" for p in points)
    cited = answer.get("cited_kamerstukken") or []
    if cited:
        display = answer.get("cited_display") or {}
        linked += "\n\n**Aangehaalde Kamerstukken:** " + "; ".join(_md_text(display.get(k, k)) for k in cited)
    unsupported = answer.get("unsupported") or []
    if unsupported:
        linked += "\n\n*Let op: niet elke zin kon in de bronnen worden teruggevonden; controleer de bronnen.*"
    return linked


_STATUS_TEXT = {None: "uitslag niet in de geïndexeerde stukken"}


def _motion_card(u: dict[str, Any]) -> str:
    """A motion the passage holds: number, indieners, dictum and outcome (all escaped: document text)."""
    names = ", ".join(u.get("indieners") or [])
    parties = ", ".join(u.get("fracties") or [])
    status = u.get("status")
    votes = ""
    if u.get("voor"):
        votes = f" (voor: {', '.join(u['voor'])}" + (
            f"; tegen: {', '.join(u['tegen'])})" if u.get("tegen") else ")"
        )
    return (
        f'<div class="bron-motie" data-id="{_esc(u.get("id") or "")}">'
        f'<div class="bron-motie-kop">{_esc((u.get("title") or "motie").capitalize())}: {_esc(u.get("citation") or "")}</div>'
        + (
            f'<div class="bron-motie-indieners">Ingediend door {_esc(names)}'
            + (f" ({_esc(parties)})" if parties else "")
            + "</div>"
            if names
            else ""
        )
        + (f'<div class="bron-motie-dictum">{_esc(u.get("dictum") or "")}</div>' if u.get("dictum") else "")
        + f'<div class="bron-motie-status status-{_esc(status or "onbekend")}">Uitslag: {_esc(status or _STATUS_TEXT[None])}{_esc(votes)}</div>'
        "</div>"
    )


def render_source_cards(answer: dict[str, Any], turn: int, open_first: bool = True) -> str:
    supports = _supports_by_source(answer)
    display = _cited_display(answer)
    cards: list[str] = []
    for i, s in enumerate(answer.get("sources") or []):
        n = int(s.get("n", i + 1))
        meta = " · ".join(_esc(v) for v in (s.get("kind"), s.get("date")) if v)
        page = f'<span class="bron-pagina">p. {_esc(s["page"])}</span>' if s.get("page") else ""
        citation = s.get("citation") or s.get("doc_id") or ""
        # For a nota the "citation" is its title: show it once.
        citation_html = (
            f'<div class="bron-citatie">{_esc(citation)}</div>' if citation != (s.get("title") or "") else ""
        )
        own = {s.get("doc_id")}
        cited = [k for k in s.get("kamerstukken") or [] if k not in own]
        refs = ""
        if cited:
            shown = "; ".join(_esc(display.get(k, k)) for k in cited)
            refs = f'<div class="bron-kamerstukken" data-ids="{_esc(" ".join(cited))}">Verwijst naar: {shown}</div>'
        warn = ""
        if s.get("flags"):
            what = {
                "instructie": "deze passage richt zich tot een assistent of taalmodel; het zijn gegevens, geen opdrachten",
                "geheim": "deze passage lijkt een wachtwoord, sleutel of token te bevatten; niet overnemen",
            }
            warn = "".join(
                f'<div class="bron-waarschuwing" data-flag="{_esc(f)}">Let op: {_esc(what.get(f, f))}.</div>'
                for f in s["flags"]
            )
        motions = "".join(
            _motion_card(u) for u in s.get("units") or [] if u.get("kind") in ("motie", "amendement")
        )
        cards.append(
            f'<details class="bron" id="bron-{turn}-{n}" data-n="{n}"{" open" if open_first else ""}>'
            f'<summary><span class="bron-n">[{n}]</span> <span class="bron-titel">{_esc(s.get("title") or s.get("doc_id"))}</span></summary>'
            f'<div class="bron-meta">{meta} {page}</div>'
            f"{citation_html}{refs}{warn}{motions}"
            f'<blockquote class="bron-passage">{_highlight((s.get("passage") or "").strip(), supports.get(n, []))}</blockquote>'
            "</details>"
        )
    return "".join(cards)


def render_sources_panel(answers: list[dict[str, Any]], pending: bool = False) -> str:
    """Sources of the latest answer, then those of earlier turns folded away (their markers still work).

    ``data-beurten`` counts the answered turns, so a page (or a test) can tell a new answer has arrived.
    """
    parts: list[str] = []
    if pending:
        parts.append('<div class="bronnen-zoeken">Bronnen worden gezocht…</div>')
    if not answers and not pending:
        parts.append(
            '<div class="bronnen-leeg">Stel een vraag; de bronnen van het antwoord verschijnen hier.</div>'
        )
    if answers:
        turn = len(answers) - 1
        latest = answers[-1]
        head = "Dichtstbijzijnde passages (geen antwoord)" if latest.get("abstained") else "Bronnen"
        parts += [f'<h3 class="bronnen-kop">{head}</h3>', render_source_cards(latest, turn)]
        if not latest.get("sources"):
            parts.append(
                '<div class="bronnen-leeg">Geen passages gevonden binnen uw filters en toegang.</div>'
            )
        for t in range(turn - 1, -1, -1):
            a = answers[t]
            parts.append(
                f'<details class="bronnen-eerder"><summary>Bronnen bij vraag {t + 1}: {_esc(a.get("question"))}'
                f"</summary>{render_source_cards(a, t, open_first=False)}</details>"
            )
    state = " bezig" if pending else ""
    return f'<div class="bronnen-paneel{state}" data-beurten="{len(answers)}">{"".join(parts)}</div>'


def render_status(settings: Settings, visible_docs: int) -> str:
    try:
        st = service.status(settings)
        store = f"{st.get('store')} ({st.get('collection')})"
        model = st.get("model")
    except Exception as e:  # status must never take the page down
        log.warning("status failed: %s", e)
        store, model = settings.store, settings.embedding_model
    if settings.engine == "llm":
        engine = f"taalmodel {settings.llm_model or '?'}"
    else:
        engine = "extractief (zinnen uit de bronnen, geen taalmodel)"
    return (
        f"**Antwoordmachine:** {_esc(engine)} · **Embeddingmodel:** {_esc(model)} · "
        f"**Opslag:** {_esc(store)} · **Documenten:** {visible_docs}"
    )


def render_upload_results(results: list[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="upload-{_esc(r["status"])}"><td>{_esc(r["file"])}</td><td class="upload-status">'
        f"{_esc(r['status'])}</td><td>{_esc(r.get('reason', ''))}</td>"
        f"<td>{_esc(', '.join(r.get('doc_ids', [])))}</td></tr>"
        for r in results
    )
    return (
        '<table class="upload-tabel"><thead><tr><th>Bestand</th><th>Resultaat</th><th>Reden</th>'
        f"<th>Document-id</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Dutch thousands separator


def time_left_text(seconds: float) -> str:
    """The estimate in words, rounded so that it does not flicker with every report."""
    if seconds < 10:
        return "nog enkele seconden"
    if seconds < 55:
        return f"nog ongeveer {round(seconds / 10) * 10} seconden"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"nog ongeveer {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"nog ongeveer {hours} uur" + (f" {minutes} min" if minutes else "")


def upload_progress_text(name: str, progress: IngestProgress, file_no: int = 1, files: int = 1) -> str:
    """'Indexeren: nota.pdf — 120 van 340 fragmenten, nog ongeveer 2 min' (the estimate is for this file:
    the files after it are not read yet)."""
    head = f"Indexeren: {name}" + (f" (bestand {file_no} van {files})" if files > 1 else "")
    if not progress.units_total:
        return head
    counts = f"{_number(progress.units_done)} van {_number(progress.units_total)} fragmenten"
    if progress.finished:
        state = "klaar"
    elif progress.units_done >= progress.units_total:
        state = "opslaan in de index"
    elif progress.eta_seconds is None:
        state = "resterende tijd wordt geschat"
    else:
        state = time_left_text(progress.eta_seconds)
    return f"{head} — {counts}, {state}"


def documents_table(docs: list[Any]) -> list[list[Any]]:
    return [[d.doc_id, d.title, d.kind, d.access, d.date or "", d.chunks] for d in docs]


# --- request helpers ----------------------------------------------------------------------------------------


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) if request is not None else None


def _access(settings: Settings, request: gr.Request | None) -> list[str]:
    return auth.access_for(settings, _user(request))


def _filters(
    kind: str | None, dossier: str | None, date_from: str | None, date_to: str | None
) -> dict[str, str]:
    out: dict[str, str] = {}
    if kind and kind != ALL_KINDS:
        out["kind"] = kind
    if dossier and dossier.strip():
        out["dossier"] = dossier.strip()
    for key, value in (("date_from", date_from), ("date_to", date_to)):
        v = (value or "").strip()
        if not v:
            continue
        if not _DATE.match(v):
            raise gr.Error(f"Ongeldige datum {v!r}: gebruik JJJJ-MM-DD, JJJJ-MM of JJJJ.")
        out[key] = v
    return out


def _kind_choices(docs: list[Any]) -> list[tuple[str, str]]:
    kinds = sorted({d.kind for d in docs if d.kind})
    return [("Alle soorten", ALL_KINDS)] + [(k, k) for k in kinds]


def _new_conversation(owner: str | None = None) -> dict[str, Any]:
    """Per-session state. The Conversation resolves follow-ups ("en wat vond de Kamer daarvan?") against
    earlier turns; ``Assistant.ask`` records each turn in it. ``owner``: the user it belongs to (set on the
    first request that uses it)."""
    from assistant.conversation import Conversation

    return {"conversation": Conversation(), "answers": [], "message_turn": {}, "filters": {}, "owner": owner}


def _owned(state: dict[str, Any] | None, request: gr.Request | None) -> dict[str, Any]:
    """The session's state if it belongs to the requesting user (claiming it when unclaimed).

    Gradio keys session state by a session id that travels with every request; a user who sends someone
    else's id would otherwise read that user's answers and sources. The state remembers its user."""
    user = _user(request) or ""
    state = state if state is not None else _new_conversation()
    owner = state.get("owner")
    if owner is None:
        return {**state, "owner": user}
    if owner != user:
        log.warning("session state of %r requested by %r: refused", owner, user)
        raise gr.Error("Deze sessie hoort bij een andere gebruiker; laad de pagina opnieuw.")
    return state


# --- the app --------------------------------------------------------------------------------------------------


def build_app(settings: Settings) -> gr.Blocks:
    users_on = auth.users_configured(settings)

    # delete_cache: Gradio's own cache of served files is cleaned hourly of files older than a working day.
    with gr.Blocks(
        title="Briefingassistent", analytics_enabled=False, delete_cache=(3600, DOCX_KEEP_S)
    ) as demo:
        conv = gr.State(_new_conversation())
        letter_state = gr.State(None)

        with gr.Row(elem_id="kop"):
            gr.Markdown(
                "# Briefingassistent\nAntwoorden uit Kamerstukken, Handelingen en notas, met bronvermelding."
            )
            user_md = gr.Markdown("", elem_id="gebruiker")
        gr.Markdown(NO_USERS_NOTICE if not users_on else "", elem_id="melding", visible=not users_on)
        status_md = gr.Markdown("", elem_id="status")

        with gr.Tabs():
            with gr.Tab("Vragen", id="vragen"), gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Gesprek",
                        elem_id="gesprek",
                        height=460,
                        feedback_options=("Like", "Dislike"),
                        placeholder="Stel een vraag over de geïndexeerde stukken.",
                    )
                    # One line that grows: Enter sends the question, Shift+Enter starts a new line.
                    question = gr.Textbox(
                        label="Vraag",
                        placeholder="Stel een vraag (Enter verstuurt, Shift+Enter voor een nieuwe regel)",
                        elem_id="vraag",
                        lines=1,
                        max_lines=6,
                    )
                    with gr.Row():
                        ask_btn = gr.Button("Vraag stellen", variant="primary", elem_id="vraag-knop")
                        new_btn = gr.Button("Nieuw gesprek", elem_id="nieuw-gesprek")
                    if settings.examples:
                        gr.Examples(
                            examples=[[q] for q in settings.examples],
                            inputs=[question],
                            label="Voorbeeldvragen",
                        )
                    with gr.Accordion("Filters voor dit gesprek", open=False, elem_id="filters"):
                        with gr.Row():
                            kind = gr.Dropdown(
                                choices=[("Alle soorten", ALL_KINDS)],
                                value=ALL_KINDS,
                                label="Soort document",
                                elem_id="filter-soort",
                            )
                            dossier = gr.Textbox(label="Dossier (bijv. 12345)", elem_id="filter-dossier")
                        with gr.Row():
                            date_from = gr.Textbox(label="Datum vanaf (JJJJ-MM-DD)", elem_id="filter-van")
                            date_to = gr.Textbox(label="Datum tot en met (JJJJ-MM-DD)", elem_id="filter-tot")
                    with gr.Group(elem_id="feedback"):
                        gr.Markdown("**Was het laatste antwoord bruikbaar?**")
                        with gr.Row():
                            fb_up = gr.Button("✓ Bruikbaar", elem_id="fb-op", size="sm")
                            fb_down = gr.Button("✗ Niet bruikbaar", elem_id="fb-neer", size="sm")
                        fb_remark = gr.Textbox(
                            label="Opmerking (optioneel)",
                            placeholder="Wat ontbrak of klopte niet?",
                            elem_id="fb-opmerking",
                        )
                        fb_status = gr.Markdown("", elem_id="fb-status")
                with gr.Column(scale=2):
                    sources = gr.HTML(render_sources_panel([]), elem_id="bronnen")

            with gr.Tab("Kamerbrief opstellen", id="concept"):
                gr.Markdown(
                    "Een eerste opzet van een Kamerbrief, opgebouwd uit de gevonden passages. "
                    "Pas de tekst aan; de DOCX volgt uw bewerkingen."
                )
                topic = gr.Textbox(
                    label="Onderwerp",
                    elem_id="onderwerp",
                    placeholder="Bijv. het onderwerp van een toezegging of motie",
                )
                draft_btn = gr.Button("Concept maken", variant="primary", elem_id="concept-knop")
                draft_text = gr.Textbox(label="Concepttekst", lines=22, interactive=True, elem_id="concept")
                download = gr.DownloadButton("Download DOCX", visible=False, elem_id="docx-download")
                docx_status = gr.Markdown("", elem_id="docx-status")

            with gr.Tab("Documenten", id="documenten"):
                with gr.Group(visible=True, elem_id="upload-groep") as upload_group:
                    gr.Markdown(
                        "**Documenten toevoegen** — PDF, DOCX, XML of tekst; maximaal "
                        f"{settings.upload_max_mb} MB per bestand."
                    )
                    files = gr.File(
                        file_count="multiple",
                        file_types=list(service.ALLOWED_SUFFIXES),
                        label="Bestanden",
                        elem_id="upload",
                    )
                    upload_access = gr.Radio(
                        choices=[("Intern", "intern"), ("Openbaar", "openbaar")],
                        value="intern",
                        label="Toegang voor deze bestanden",
                        elem_id="upload-toegang",
                    )
                    # Only offered to users who may delete: replacing is deleting the old text. Without it an
                    # upload whose name matches an indexed document gets a new id (``-2``), never its place.
                    upload_replace = gr.Checkbox(
                        value=False,
                        label="Vervang een bestaand document met dezelfde naam (wordt gelogd)",
                        visible=False,
                        elem_id="upload-vervang",
                    )
                    upload_btn = gr.Button("Uploaden en indexeren", variant="primary", elem_id="upload-knop")
                    upload_result = gr.HTML("", elem_id="upload-resultaat")
                upload_denied = gr.Markdown(
                    "Uploaden is voorbehouden aan gebruikers met de rol *intern*.",
                    visible=False,
                    elem_id="upload-geweigerd",
                )
                docs_df = gr.Dataframe(
                    headers=["Id", "Titel", "Soort", "Toegang", "Datum", "Fragmenten"],
                    value=[],
                    interactive=False,
                    label="Geïndexeerde documenten",
                    elem_id="documenten",
                )
                refresh_btn = gr.Button("Lijst vernieuwen", size="sm", elem_id="vernieuwen")
                with gr.Group(visible=True, elem_id="verwijder-groep") as delete_group:
                    delete_ids = gr.Dropdown(
                        choices=[],
                        multiselect=True,
                        label="Documenten verwijderen",
                        elem_id="verwijder-keuze",
                    )
                    delete_btn = gr.Button("Verwijderen", variant="stop", elem_id="verwijder-knop")
                    delete_result = gr.Markdown("", elem_id="verwijder-resultaat")

        # --- handlers ---------------------------------------------------------------------------------------

        def _docs_outputs(request: gr.Request) -> tuple[Any, ...]:
            docs = service.list_documents(settings, _access(settings, request))
            ids = [(f"{d.doc_id} — {d.title[:60]}", d.doc_id) for d in docs]
            return (
                documents_table(docs),
                gr.update(choices=ids, value=[]),
                gr.update(choices=_kind_choices(docs)),
                render_status(settings, len(docs)),
            )

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            name = _user(request)
            if users_on:
                user = auth.find_user(settings, name)
                role = user.role if user else "geen toegang"
                banner = f"Aangemeld als **{_esc(name)}** (rol: {role}) · [Afmelden](/logout)"
            else:
                banner = "Eén gebruiker, volledige toegang"
            may_upload = auth.can_upload(settings, name)
            may_delete = auth.can_delete(settings, name)
            return (
                banner,
                gr.update(visible=may_upload),
                gr.update(visible=not may_upload),
                gr.update(visible=may_delete),
                gr.update(visible=may_delete, value=False),
                *_docs_outputs(request),
            )

        docs_outputs = [docs_df, delete_ids, kind, status_md]
        demo.load(
            on_load,
            None,
            [user_md, upload_group, upload_denied, delete_group, upload_replace, *docs_outputs],
            queue=False,
        )

        def on_ask(q, chat, state, k, dos, dfrom, dto, request: gr.Request):
            state = _owned(state, request)
            q = (q or "").strip()
            if not q:
                raise gr.Error("Typ eerst een vraag.")
            if len(q) > settings.max_question_chars:
                raise gr.Error(
                    f"De vraag is {len(q)} tekens lang; stel een kortere vraag "
                    f"(hoogstens {settings.max_question_chars} tekens)."
                )
            access = _access(settings, request)
            if not access:
                raise gr.Error("Geen toegang.")
            filters = _filters(k, dos, dfrom, dto)
            chat = list(chat or []) + [{"role": "user", "content": q}, {"role": "assistant", "content": "…"}]
            pending = render_sources_panel(state["answers"], pending=True)
            yield chat, pending, "", state, ""
            text = ""
            answer = None
            try:
                for item in service.ask_stream(
                    settings, q, access=access, filters=filters, history=state["conversation"]
                ):
                    if isinstance(item, str):
                        text += item
                        chat[-1] = {"role": "assistant", "content": text}
                        yield chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    else:
                        answer = item
            except Exception:
                log.exception("answering failed")
                answer = None
            if answer is None:
                chat[-1] = {
                    "role": "assistant",
                    "content": "*Er ging iets mis bij het beantwoorden; probeer het opnieuw.*",
                }
                yield chat, render_sources_panel(state["answers"]), q, state, ""
                return
            aj = answer.to_json()
            turn = len(state["answers"])
            state = {
                "conversation": state["conversation"],  # the Assistant appended this turn to it
                "answers": [*state["answers"], aj],
                "message_turn": {**state["message_turn"], str(len(chat) - 1): turn},
                "filters": filters,
                "owner": state["owner"],
            }
            chat[-1] = {"role": "assistant", "content": render_answer_markdown(aj, turn)}
            yield chat, render_sources_panel(state["answers"]), "", state, ""

        ask_inputs = [question, chatbot, conv, kind, dossier, date_from, date_to]
        ask_outputs = [chatbot, sources, question, conv, fb_status]
        ask_btn.click(on_ask, ask_inputs, ask_outputs)
        question.submit(on_ask, ask_inputs, ask_outputs)

        def on_new(state, request: gr.Request):
            _owned(state, request)
            return (
                [],
                render_sources_panel([]),
                "",
                _new_conversation(_user(request) or ""),
                ALL_KINDS,
                "",
                "",
                "",
                "",
                "",
            )

        new_outputs = [
            chatbot,
            sources,
            question,
            conv,
            kind,
            dossier,
            date_from,
            date_to,
            fb_remark,
            fb_status,
        ]
        new_btn.click(on_new, [conv], new_outputs, queue=False)
        # The chat's own bin icon starts a new conversation too, so answers and messages stay paired.
        chatbot.clear(on_new, [conv], new_outputs, queue=False)

        def _feedback(
            rating: str, answer: dict[str, Any] | None, remark: str, state, request: gr.Request
        ) -> str:
            if answer is None:
                return "Er is nog geen antwoord om te beoordelen."
            try:
                record_feedback(
                    settings,
                    rating=rating,
                    answer=answer,
                    remark=remark or "",
                    user=_user(request),
                    filters=state.get("filters"),
                )
            except FeedbackError as e:
                return f"Feedback niet opgeslagen: {_esc(e)}"
            return (
                "Dank u, uw feedback is opgeslagen."
                if rating == "up"
                else "Dank u, uw feedback is opgeslagen; we kijken ernaar."
            )

        def on_fb(rating: str):
            def handler(remark, state, request: gr.Request):
                state = _owned(state, request)
                answer = state["answers"][-1] if state["answers"] else None
                return _feedback(rating, answer, remark, state, request), ""

            return handler

        fb_up.click(on_fb("up"), [fb_remark, conv], [fb_status, fb_remark])
        fb_down.click(on_fb("down"), [fb_remark, conv], [fb_status, fb_remark])

        def on_like(data: gr.LikeData, remark, state, request: gr.Request):
            state = _owned(state, request)
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = state["message_turn"].get(str(index))
            if turn is None or data.liked is None:
                return gr.skip(), gr.skip()
            return _feedback(
                "up" if data.liked else "down", state["answers"][turn], remark, state, request
            ), ""

        chatbot.like(on_like, [fb_remark, conv], [fb_status, fb_remark])

        def on_draft(t, k, dos, dfrom, dto, request: gr.Request):
            t = (t or "").strip()
            if not t:
                raise gr.Error("Geef een onderwerp op.")
            access = _access(settings, request)
            if not access:
                raise gr.Error("Geen toegang.")
            letter = service.draft(settings, t, access=access, filters=_filters(k, dos, dfrom, dto))
            text = letter.render_markdown()
            user = _user(request) or ""
            path = _docx_for(letter, t, user)
            # The letter is kept with its user: an edit from another session id never rebuilds it.
            kept = {"owner": user, "letter": letter}
            return text, gr.update(value=str(path), visible=True), kept, "DOCX gemaakt van het concept."

        draft_btn.click(
            on_draft,
            [topic, kind, dossier, date_from, date_to],
            [draft_text, download, letter_state, docx_status],
        )
        topic.submit(
            on_draft,
            [topic, kind, dossier, date_from, date_to],
            [draft_text, download, letter_state, docx_status],
        )

        def on_edit(text, kept, request: gr.Request):
            # The DOCX is rebuilt from what the user sees, so edits are never lost on download. Only the
            # user's own text and the letter drafted for them (with their access) go into it.
            if kept is None:
                return gr.skip(), gr.skip()
            user = _user(request) or ""
            if kept.get("owner") != user:
                raise gr.Error("Dit concept hoort bij een andere gebruiker; laad de pagina opnieuw.")
            letter = kept["letter"]
            if not (text or "").strip() or text == letter.render_markdown():
                return gr.skip(), gr.skip()
            path = _docx_for(service.letter_from_markdown(text, letter), letter.topic, user)
            stamp = datetime.now().strftime("%H:%M:%S")
            return gr.update(value=str(path), visible=True), f"DOCX bijgewerkt met uw bewerkingen ({stamp})."

        # .change, not .input: pasting or dictation software must update the DOCX too.
        draft_text.change(
            on_edit, [draft_text, letter_state], [download, docx_status], trigger_mode="always_last"
        )

        def on_upload(paths, level, replace, request: gr.Request, progress=gr.Progress()):  # noqa: B008
            from index.progress import reporting_progress

            name = _user(request)
            if not auth.can_upload(settings, name):
                raise gr.Error("Uploaden is voorbehouden aan gebruikers met de rol intern.")
            if replace and not auth.can_delete(settings, name):
                # The box is hidden from these users; a crafted request still gets no replacement.
                raise gr.Error("Vervangen mag alleen een gebruiker met verwijderrecht.")
            if level not in auth.access_for(settings, name):
                raise gr.Error("Ongeldig toegangsniveau.")
            if not paths:
                raise gr.Error("Kies eerst een of meer bestanden.")
            files_in = [(Path(p), Path(p).name) for p in paths]
            file_name, file_no = "", 0

            def on_file(i: int, n: int, fname: str) -> None:
                nonlocal file_name, file_no
                file_name, file_no = fname, i + 1
                head = f"Indexeren: {fname}" + (f" (bestand {i + 1} van {n})" if n > 1 else "")
                progress((i, n), desc=head, unit="bestanden")

            def on_ingest(p: IngestProgress) -> None:
                # Reported within a file too (per slice of texts embedded): a large PDF takes minutes.
                if p.units_total:
                    text = upload_progress_text(file_name, p, file_no, len(files_in))
                    progress((p.units_done, p.units_total), desc=text, unit="fragmenten")

            with reporting_progress(on_ingest):
                results = service.upload_and_ingest(
                    files_in, settings, level, user=name, on_file=on_file, replace=bool(replace)
                )
            # Gradio's copies of the uploaded files: the service kept what it accepted in uploads/; nothing
            # may stay servable under the temp dir after its document is deleted.
            for p, _ in files_in:
                with contextlib.suppress(OSError):
                    p.unlink()
            progress((len(files_in), len(files_in)), desc="Klaar", unit="bestanden")
            return (render_upload_results(results), None, False, *_docs_outputs(request))

        upload_btn.click(
            on_upload,
            [files, upload_access, upload_replace],
            [upload_result, files, upload_replace, *docs_outputs],
        )

        def on_delete(ids, request: gr.Request):
            name = _user(request)
            if not auth.can_delete(settings, name):
                raise gr.Error("U mag geen documenten verwijderen.")
            if not ids:
                raise gr.Error("Kies eerst een of meer documenten.")
            result = service.delete_documents(settings, list(ids), _access(settings, request), user=name)
            done = ", ".join(f"{_esc(i)} ({n} fragmenten)" for i, n in result["deleted"].items()) or "niets"
            msg = f"Verwijderd: {done}."
            if result["not_found"]:
                msg += f" Niet gevonden: {_esc(', '.join(result['not_found']))}."
            return (msg, *_docs_outputs(request))

        delete_btn.click(on_delete, [delete_ids], [delete_result, *docs_outputs])
        refresh_btn.click(_docs_outputs, None, docs_outputs, queue=False)

    # Gradio embeds the description of every public endpoint in the page it serves before login; the app's
    # endpoints stay callable (the page and logged-in clients use them) but are left out of that description.
    for fn in demo.fns.values():
        if fn.api_visibility == "public":
            fn.api_visibility = "undocumented"
    return demo


# --- DOCX -------------------------------------------------------------------------------------------------------


_DOCX_ROOT: Path | None = None
DOCX_KEEP_S = 8 * 3600  # a draft's DOCX is kept this long (a working day), then removed


def _docx_dir() -> Path:
    """One folder per process under the system temp dir (which Gradio serves from), removed at exit; drafts
    older than ``DOCX_KEEP_S`` are removed whenever a new one is made, so copies never pile up."""
    global _DOCX_ROOT
    if _DOCX_ROOT is None or not _DOCX_ROOT.is_dir():
        _DOCX_ROOT = Path(tempfile.mkdtemp(prefix="briefing-docx-"))
        atexit.register(shutil.rmtree, _DOCX_ROOT, True)
    cutoff = time.time() - DOCX_KEEP_S
    for old in _DOCX_ROOT.glob("*.docx"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()
    return _DOCX_ROOT


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "concept"


# Drafts are served to the user they were made for only (``web_security.HostOriginGuard``).
PRIVATE_FILES = PrivateFiles()


def _docx_for(letter: Any, topic: str, user: str = "") -> Path:
    # A unique file name per draft: the guard knows files by name.
    path = service.write_docx(letter, _docx_dir() / f"kamerbrief-{_slug(topic)}-{uuid.uuid4().hex[:12]}.docx")
    PRIVATE_FILES.register(path, user)
    return path


# --- serving ----------------------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


def launch_kwargs(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "server_name": host,
        "server_port": port,
        "auth": auth.make_auth(settings),
        "auth_message": "Briefingassistent — meld u aan met uw gebruikersnaam en wachtwoord.",
        "max_file_size": f"{settings.upload_max_mb}mb",
        "footer_links": [],
        "show_error": True,
        "ssr_mode": False,
        "css_paths": [CSS_PATH] if CSS_PATH.exists() else None,
        "head": MARKER_JS,
        # System fonts: the default theme fetches Google Fonts, which an offline network cannot reach.
        "theme": gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        # Host/Origin checks, the login throttle's client address, drafts served to their user only.
        "app_kwargs": {
            "openapi_url": None,  # FastAPI's route list, served without login otherwise
            "middleware": [
                Middleware(
                    HostOriginGuard,
                    single_user=not auth.users_configured(settings),
                    private=PRIVATE_FILES,
                )
            ],
        },
    }


def resolve_host(settings: Settings, host: str | None) -> str:
    """Without users the app is single-user with full access: only ever on the loopback interface."""
    chosen = host or settings.host
    if not auth.users_configured(settings) and not _is_loopback(chosen):
        raise SystemExit(
            f"Refusing to listen on {chosen}: without configured users the app gives full access and only "
            "listens on 127.0.0.1. Configure users (docs/app.md) to serve it on a network."
        )
    return chosen


def _warm_up(settings: Settings) -> None:
    try:
        service.get_assistant(settings).embedder.embed_query("opwarmen")
    except Exception as e:  # a missing model shows up on the first question, with its real error
        log.warning("warm-up failed: %s", e)


def start(
    settings: Settings, host: str | None = None, port: int | None = None, block: bool = True
) -> gr.Blocks:
    """Build, queue and launch. ``block=False`` returns once the server is up (tests, embedding).

    The app holds the store for its whole life: it is opened (and locked) here, before anything listens,
    waiting while an ingest holds it. The CLI then reaches the store through the app's local admin API
    (``assistant/local_api.py``), announced in ``<home>/serve.json`` while the app runs.
    """
    from assistant import local_api

    chosen_host = resolve_host(settings, host)
    local_api.hold_store(settings)
    token = local_api.new_token()
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    # Load the embedding model while the server starts, not on the first user's question.
    threading.Thread(target=_warm_up, args=(settings,), daemon=True, name="warm-up").start()
    kwargs = launch_kwargs(settings, chosen_host, port or settings.port)
    # Passed to the FastAPI constructor: the /local routes exist before the server answers anything, and
    # ahead of Gradio's own routes. Merged, so that other app_kwargs (middleware, ...) keep working.
    app_kwargs = dict(kwargs.get("app_kwargs") or {})
    app_kwargs["routes"] = [*local_api.routes(settings, token), *app_kwargs.get("routes", [])]
    kwargs["app_kwargs"] = app_kwargs
    demo.launch(prevent_thread_lock=True, **kwargs)
    url = local_api.app_url(chosen_host, int(demo.server_port or 0))
    if url is None:
        log.warning(
            "listening on %s only: the CLI cannot reach this app on loopback, so its commands wait for the "
            "store until the app stops",
            chosen_host,
        )
        announced = None
    else:
        announced = local_api.write_serve_file(settings, url, token)
        import atexit

        atexit.register(local_api.remove_serve_file, settings, announced)
        close = demo.close

        def close_and_withdraw(verbose: bool = True) -> None:
            local_api.remove_serve_file(settings, announced)
            close(verbose)

        demo.close = close_and_withdraw  # type: ignore[method-assign]
    if block:
        try:
            demo.block_thread()
        finally:
            if announced is not None:
                local_api.remove_serve_file(settings, announced)
    return demo


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import contextlib
    import signal

    def on_term(signum: int, frame: object) -> None:
        # SIGTERM (kill, systemd) ends the app like Ctrl-C: the server stops, serve.json is withdrawn and the
        # store is flushed and unlocked at exit, instead of the process vanishing mid-write.
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, on_term)
    start(settings, host=host, port=port, block=True)
