"""End-to-end tests of the web app in a real Chromium, driven by Playwright.

One app is started in-process (background server thread) on a free port, against a throw-away home into
which only the demo nota (intern) and one public Handelingen item are ingested: small, because the machine
is shared. Two users: ``intern`` (role intern, may delete) and ``publiek`` (role openbaar).

Without Chromium these tests are skipped with the reason, except under CI (``CI=true``), where a missing
browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.settings import Settings, User
from tests.conftest import DEMO, REPO, TEST_CACHE, TEST_OUTPUT

CHROMIUM = Path(os.environ.get("BRIEFING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PUBLIC_ITEM = "handelingen/h-tk-20172018-70-6.xml"
SHOTS = TEST_OUTPUT / "screenshots"
PLANBUREAU = "Waarom is er geen Planbureau voor de Veiligheid opgericht?"
INTERNAL_DOC = "nota-4730561"
PASSWORDS = {"intern": "intern-wachtwoord-1", "publiek": "publiek-wachtwoord-1"}
# Answers load the model on first use and run on 2 shared cores: be patient, but not forever.
ANSWER_TIMEOUT_MS = 180_000


def _require_browser() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests cannot run under CI: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory, shared_corpus: Path, models_dir: Path) -> Settings:
    _require_browser()
    from assistant.auth import hash_password
    from index.ingest import ingest_paths

    home = tmp_path_factory.mktemp("app-home")
    s = Settings(
        home=home,
        models=models_dir,
        embedding_cache=TEST_CACHE / "embeddings.sqlite",
        users=[
            User(
                name="intern",
                password_hash=hash_password(PASSWORDS["intern"], rounds=4),
                role="intern",
                can_delete=True,
            ),
            User(
                name="publiek", password_hash=hash_password(PASSWORDS["publiek"], rounds=4), role="openbaar"
            ),
        ],
    )
    summary = ingest_paths([DEMO, shared_corpus / PUBLIC_ITEM], s, progress=False)
    assert summary.documents == 2 and not summary.skipped, summary.to_json()
    from index.search import get_index

    access = {d.doc_id: d.access for d in get_index(s).store.list_documents()}
    # The test is only meaningful if the fixture really holds one internal and one public document.
    assert access.get(INTERNAL_DOC) == "intern", access
    assert "openbaar" in access.values(), access
    return s


@pytest.fixture(scope="module")
def app_url(app_settings: Settings) -> Iterator[str]:
    from assistant.app import start

    port = _free_port()
    demo = start(app_settings, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _login(browser, app_url: str, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.locator("input[type=password]").wait_for()
    page.locator("input[type=text], input:not([type])").first.fill(user)
    page.locator("input[type=password]").fill(PASSWORDS[user])
    page.locator("button", has_text="Login").click()
    page.locator("#gebruiker", has_text=f"Aangemeld als {user}").wait_for()
    return page


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _ask(page, question: str) -> None:
    panel = page.locator("#bronnen .bronnen-paneel")
    turns = int(panel.get_attribute("data-beurten") or 0)
    page.locator("#vraag textarea").fill(question)
    page.locator("#vraag-knop").click()
    # The final answer replaces the streamed preview and the sources panel counts one more answered turn.
    page.locator(f'#bronnen .bronnen-paneel[data-beurten="{turns + 1}"]:not(.bezig)').wait_for(
        timeout=ANSWER_TIMEOUT_MS
    )


def _source_cards(page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#bronnen h3.bronnen-kop ~ details.bron",
        """els => els.map(e => {
            const txt = sel => { const x = e.querySelector(sel); return x ? x.innerText : ''; };
            const refs = e.querySelector('.bron-kamerstukken');
            return {id: e.id, title: txt('.bron-titel'), meta: txt('.bron-meta'),
                    citation: txt('.bron-citatie') || txt('.bron-titel'), passage: txt('.bron-passage'),
                    refs: refs ? refs.dataset.ids.split(' ') : [], refs_text: txt('.bron-kamerstukken'),
                    marked: Array.from(e.querySelectorAll('mark')).map(m => m.innerText)};
        })""",
    )


def _bot_text(page) -> str:
    return page.locator("#gesprek").inner_text()


def _no_answer(text: str) -> bool:
    """The chat says there is no answer: "geen direct antwoord" (closest passages) or "niets gevonden"."""
    return "Geen direct antwoord" in text or "Niets gevonden" in text


# --- tests ----------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_login_is_required_and_wrong_password_refused(browser, app_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url)
    page.locator("input[type=password]").wait_for(timeout=30_000)
    assert page.locator("#vraag").count() == 0
    page.locator("input[type=text], input:not([type])").first.fill("intern")
    page.locator("input[type=password]").fill("fout-wachtwoord")
    page.locator("button", has_text="Login").click()
    page.get_by_text("Incorrect Credentials", exact=False).wait_for(timeout=30_000)
    assert page.locator("#vraag").count() == 0
    _shot(page, "01-login")
    context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_intern_asks_planbureau_question_and_opens_a_source(
    browser, app_url: str, app_settings: Settings
) -> None:
    page = _login(browser, app_url, "intern")
    assert "extractief" in page.locator("#status").inner_text()
    # Shift+Enter starts a new line in the question box; Enter sends the question.
    box = page.locator("#vraag textarea")
    box.fill("Waarom is er geen")
    box.press("Shift+Enter")
    assert box.input_value() == "Waarom is er geen\n"
    box.fill(PLANBUREAU)
    box.press("Enter")
    page.locator('#bronnen .bronnen-paneel[data-beurten="1"]:not(.bezig)').wait_for(timeout=ANSWER_TIMEOUT_MS)
    answer = _bot_text(page)
    assert not _no_answer(answer), answer
    # The direct answer stands out; the supporting points follow under their own heading.
    assert page.locator("#gesprek strong").first.inner_text().strip()
    assert "Onderbouwing" in answer
    cards = _source_cards(page)
    assert cards, "no source cards"
    # The Kamerbrief of 28 March 2018 is cited in official form beside the passage that mentions it.
    with_ref = [c for c in cards if "33763-141" in c["refs"]]
    assert with_ref, cards
    assert "Kamerstukken II 2017/18, 33763, nr. 141" in with_ref[0]["refs_text"]
    assert "Kamerstukken II 2017/18, 33763, nr. 141" in _bot_text(page)
    assert any(c["marked"] for c in cards), "no supporting sentence highlighted"
    # The highlighted sentence is part of the answer shown in the chat.
    marked = next(m for c in cards for m in c["marked"])
    assert " ".join(marked.split()[:5]).lower() in " ".join(answer.split()).lower()
    shot = _shot(page, "02-antwoord-met-bronnen")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":  # tests never change tracked files unless asked to
        shutil.copyfile(shot, REPO / "docs" / "screenshot.png")

    # Clicking a marker in the answer opens and highlights its source card.
    markers = page.locator("#gesprek a[href*='#bron-']")
    assert markers.count() > 0
    href = markers.last.get_attribute("href")
    target = href.split("#")[-1]
    page.evaluate("document.querySelectorAll('#bronnen details').forEach(d => d.open = false)")
    markers.last.click()
    card = page.locator(f"#{target}")
    page.wait_for_function(f"document.getElementById('{target}').classList.contains('actief')")
    assert card.evaluate("e => e.open") is True
    assert page.url.rstrip("/") == app_url  # no navigation away from the chat
    _shot(page, "03-bron-geopend")

    # Feedback with a remark lands in the JSONL with the question, the answer and its sources.
    page.locator("#fb-opmerking textarea").fill("Goed antwoord, bron klopt.")
    page.locator("#fb-op").click()
    page.locator("#fb-status", has_text="opgeslagen").wait_for()
    records = [
        json.loads(line) for line in app_settings.feedback_path.read_text(encoding="utf-8").splitlines()
    ]
    last = records[-1]
    assert last["question"] == PLANBUREAU and last["rating"] == "up" and last["user"] == "intern"
    assert last["remark"] == "Goed antwoord, bron klopt." and last["sources"]
    # The thumbs on the chat message itself record feedback for that answer too.
    page.locator("#gesprek button[aria-label='Dislike']").last.click()
    page.locator("#fb-status", has_text="we kijken ernaar").wait_for()
    lines = app_settings.feedback_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(records) + 1
    assert json.loads(lines[-1])["rating"] == "down" and json.loads(lines[-1])["question"] == PLANBUREAU

    # A follow-up keeps the conversation's context: it is resolved against the previous question.
    _ask(page, "En wat vond de Kamer daarvan?")
    assert page.locator("#bronnen details.bronnen-eerder").count() == 1
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_filter_by_kind_and_new_conversation(browser, app_url: str) -> None:
    page = _login(browser, app_url, "intern")
    page.locator("#filters").get_by_text("Filters voor dit gesprek").click()
    page.locator("#filter-soort input").click()
    page.get_by_role("option", name="Handelingen").click()
    # A question both kinds of document speak to (the nota about a motie, the Handelingen item about the
    # stemmingen over moties): with the filter, only the Handelingen may answer.
    _ask(page, "Over welke moties is er gestemd?")
    cards = _source_cards(page)
    assert cards and all(c["meta"].startswith("Handelingen") for c in cards), cards
    assert not any(INTERNAL_DOC in c["citation"] for c in cards)
    _shot(page, "04-filter-handelingen")
    page.locator("#nieuw-gesprek").click()
    page.locator("#bronnen .bronnen-leeg").wait_for()
    assert page.locator("#filter-soort input").input_value() in ("Alle soorten", "alle")
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_draft_and_download_docx(browser, app_url: str, tmp_path: Path) -> None:
    from docx import Document as Docx

    page = _login(browser, app_url, "intern")
    page.get_by_role("tab", name="Kamerbrief opstellen").click()
    page.locator("#onderwerp textarea, #onderwerp input").first.fill("Planbureau voor de Veiligheid")
    page.locator("#concept-knop").click()
    page.locator("#docx-download").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    text = page.locator("#concept textarea").input_value()
    assert "Planbureau" in text and len(text) > 200
    # Edit the draft; the download must carry the edit.
    edit = "Deze alinea is in de app toegevoegd door de beleidsmedewerker."
    page.locator("#concept textarea").fill(text.replace("## Aanleiding\n", f"## Aanleiding\n\n{edit}\n", 1))
    # The edit rebuilds the DOCX on the server, which says so when done.
    page.locator("#docx-status", has_text="bijgewerkt").wait_for(timeout=60_000)
    _shot(page, "05-concept")
    with page.expect_download() as dl:
        page.locator("#docx-download").click()
    target = tmp_path / "brief.docx"
    dl.value.save_as(target)
    paragraphs = [(p.style.name, p.text) for p in Docx(str(target)).paragraphs]
    body = "\n".join(t for _, t in paragraphs)
    assert "Kamerbrief over Planbureau voor de Veiligheid" in body
    # The edit sits in its section, and the letter keeps its structure (headings, notes in official form).
    headings = [t for style, t in paragraphs if style.startswith("Heading")]
    assert headings[:2] == ["Aanleiding", "Eerdere besluitvorming"], headings
    at = [t for _, t in paragraphs].index(edit)
    assert [t for _, t in paragraphs][at - 1] == "Aanleiding"
    assert "Noten" in headings and "Kamerstukken II" in body
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_upload_pdf_then_ask_about_its_fact(
    browser, app_url: str, app_settings: Settings, tmp_path: Path
) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "Notitie kustwacht drones (concept).pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    lines = [
        "Notitie proef met drones voor de Kustwacht",
        "De proef met onbemande drones boven de Waddenzee start op 1 maart 2027.",
        "Het ministerie trekt voor de proef met drones een bedrag van 4,7 miljoen euro uit.",
        "De Kustwacht evalueert de proef met drones na achttien maanden.",
    ]
    for i, line in enumerate(lines):
        c.drawString(72, 780 - 20 * i, line)
    c.save()

    page = _login(browser, app_url, "intern")
    page.get_by_role("tab", name="Documenten").click()
    page.locator("#upload input[type=file]").set_input_files(str(pdf))
    page.locator("#upload-knop").click()
    result = page.locator("#upload-resultaat")
    result.locator("td.upload-status").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert result.locator("td.upload-status").all_inner_texts() == ["geïndexeerd"], result.inner_text()
    assert "Notitie_kustwacht_drones_concept.pdf" in result.inner_text()
    saved = app_settings.uploads_path / "Notitie_kustwacht_drones_concept.pdf"
    assert saved.read_bytes() == pdf.read_bytes()
    assert 'access = "intern"' in saved.with_name(saved.name + ".meta.toml").read_text(encoding="utf-8")
    page.locator("#documenten", has_text="intern").wait_for()
    _shot(page, "06-upload")

    page.get_by_role("tab", name="Vragen").click()
    _ask(page, "Hoeveel geld trekt het ministerie uit voor de proef met drones?")
    assert "4,7 miljoen" in _bot_text(page)
    cards = _source_cards(page)
    assert any("drones" in c["passage"] for c in cards)

    # An intern user with can_delete removes the upload again; it leaves the list and the answers.
    page.get_by_role("tab", name="Documenten").click()
    page.locator("#verwijder-keuze input").click()
    page.get_by_role("option", name="Notitie_kustwacht_drones_concept", exact=False).click()
    page.locator("#verwijder-knop").click()
    page.locator("#verwijder-resultaat", has_text="Verwijderd: Notitie_kustwacht_drones_concept").wait_for()
    page.wait_for_function("!document.querySelector('#documenten').innerText.includes('Notitie_kustwacht')")
    assert not list(app_settings.uploads_path.glob("Notitie_kustwacht*")), "the uploaded file was left behind"
    page.get_by_role("tab", name="Vragen").click()
    _ask(page, "Hoeveel geld trekt het ministerie uit voor de proef met drones?")
    assert "4,7 miljoen" not in _bot_text(page).split("proef met drones?")[-1]
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_upload_replaces_only_when_asked_and_the_replacement_is_audited(
    browser, app_url: str, app_settings: Settings, tmp_path: Path
) -> None:
    """Issue 11, point 5: a same-named upload gets a new id unless a user with the right ticks "vervang"."""
    from assistant import service
    from tests.test_ingest import _points

    doc = tmp_path / "vervang-notitie.txt"

    def upload(text: str, replace: bool, expect: str) -> str:
        doc.write_text(text, encoding="utf-8")
        page.locator("#upload input[type=file]").set_input_files(str(doc))
        box = page.locator("#upload-vervang input[type=checkbox]")
        if box.is_checked() != replace:
            box.click()
        page.locator("#upload-knop").click()
        # The table of the previous upload stays until this one's replaces it, and the progress text shows
        # in the same place (it names the file): wait for a result table that says what this one must.
        result = page.locator("#upload-resultaat table", has_text=expect)
        result.wait_for(timeout=ANSWER_TIMEOUT_MS)
        out = result.inner_text()
        assert result.locator("td.upload-status").all_inner_texts() == ["geïndexeerd"], out
        page.locator("#upload-knop").wait_for()  # the handler has returned: the box is reset
        assert not box.is_checked()
        return out

    page = _login(browser, app_url, "intern")
    page.get_by_role("tab", name="Documenten").click()
    assert page.locator("#upload-vervang").is_visible()
    upload("De pilot met vervangende dijkwachten duurt zes maanden.\n", False, "vervang-notitie")
    second = upload("De pilot met vervangende dijkwachten duurt twee jaar.\n", False, "bestond al")
    assert "opgeslagen als vervang-notitie-2" in second, second
    third = upload("De pilot met vervangende dijkwachten duurt negen maanden.\n", True, "vervangt het")
    assert "vervangt het bestaande document vervang-notitie" in third, third

    from index.search import get_index

    texts = {
        d.doc_id: " ".join(p["text"] for p in _points(app_settings, d.doc_id).values())
        for d in get_index(app_settings).store.list_documents()
        if d.doc_id.startswith("vervang-notitie")
    }
    assert set(texts) == {"vervang-notitie", "vervang-notitie-2"}, texts
    assert "negen maanden" in texts["vervang-notitie"] and "zes maanden" not in texts["vervang-notitie"]
    assert "twee jaar" in texts["vervang-notitie-2"]
    replaced = [a for a in service.read_audit(app_settings) if a["action"] == "replace"]
    assert [(a["user"], a["status"]) for a in replaced] == [("intern", "geïndexeerd")], replaced

    # Leave the module's store as it was.
    page.locator("#verwijder-keuze input").click()
    page.get_by_role("option", name="vervang-notitie —", exact=False).click()
    page.locator("#verwijder-keuze input").click()
    page.get_by_role("option", name="vervang-notitie-2", exact=False).click()
    page.locator("#verwijder-knop").click()
    page.locator("#verwijder-resultaat", has_text="Verwijderd").wait_for()
    page.wait_for_function("!document.querySelector('#documenten').innerText.includes('vervang-notitie')")
    page.context.close()


# Every text the upload's progress bars show (one per output component), in the order they first appear,
# recorded as the page changes them (a MutationObserver runs before the next paint): what the user saw,
# without sampling it at some moment.
RECORD_PROGRESS_JS = """
() => {
  window.__progress = [];
  const seen = () => document.querySelectorAll('.progress-level-inner').forEach((el) => {
    const text = el.textContent.replace(/\\s+/g, ' ').trim();
    if (text && !window.__progress.includes(text)) window.__progress.push(text);
  });
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


@pytest.mark.browser
@pytest.mark.slow
def test_upload_shows_progress_within_the_file_with_time_left(
    browser, app_url: str, app_settings: Settings, tmp_path: Path
) -> None:
    """Issue 12: while one file is indexed the bar says how far it is and about how long it still takes."""
    import random

    from tests.test_ingest_progress import nota_text

    # Random amounts: no vector is in the shared cache, so the model really works. Nine sections are two
    # slices of the model (64 texts each): the estimate made after the first shows while the second runs.
    doc = tmp_path / "voortgang-nota.txt"
    doc.write_text(nota_text(random.Random(), 9), encoding="utf-8")

    page = _login(browser, app_url, "intern")
    page.get_by_role("tab", name="Documenten").click()
    page.evaluate(RECORD_PROGRESS_JS)
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.locator("#upload-knop").click()
    result = page.locator("#upload-resultaat")
    result.locator("td.upload-status").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert result.locator("td.upload-status").all_inner_texts() == ["geïndexeerd"], result.inner_text()

    seen: list[str] = page.evaluate("window.__progress")
    # The bar's text is the description, then Gradio's " - 45.0%".
    counts = re.compile(r"Indexeren: voortgang-nota\.txt — (\d+) van (\d+) fragmenten, (.+?)(?: - [\d.]+%)?$")
    steps = [(int(m[1]), int(m[2]), m[3]) for t in seen if (m := counts.search(t))]
    assert steps, seen
    assert len({total for _, total, _ in steps}) == 1, seen
    assert [done for done, _, _ in steps] == sorted(done for done, _, _ in steps), seen
    # Within the file: part of its texts done, with the time left in words. (The final state is the result
    # table above: the last reports follow each other too fast to be sure each is drawn.)
    during = [state for done, total, state in steps if 0 < done < total]
    time_left = re.compile(r"nog (ongeveer \d+ (seconden|min)|ongeveer \d+ uur( \d+ min)?|enkele seconden)")
    assert any(time_left.fullmatch(s) for s in during), seen

    # Leave the module's store as it was for the tests after this one.
    page.locator("#verwijder-keuze input").click()
    page.get_by_role("option", name="voortgang-nota", exact=False).click()
    page.locator("#verwijder-knop").click()
    page.locator("#verwijder-resultaat", has_text="Verwijderd: voortgang-nota").wait_for()
    assert not list(app_settings.uploads_path.glob("voortgang-nota*"))
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_public_user_cannot_see_internal_documents(browser, app_url: str) -> None:
    page = _login(browser, app_url, "publiek")
    page.get_by_role("tab", name="Documenten").click()
    listing = page.locator("#documenten").inner_text()
    assert "h-tk-20172018-70-6" in listing
    assert INTERNAL_DOC not in listing and "intern" not in listing.split("Toegang", 1)[-1]
    assert not page.locator("#upload-knop").is_visible()
    assert page.locator("#upload-geweigerd").is_visible()
    assert not page.locator("#verwijder-knop").is_visible()
    assert not page.locator("#upload-vervang").is_visible()
    _shot(page, "07-publiek-documenten")

    page.get_by_role("tab", name="Vragen").click()
    _ask(page, PLANBUREAU)
    cards = _source_cards(page)
    panel = page.locator("#bronnen").inner_text()
    # Only the public Handelingen item is visible, which does not answer this: no answer, and whatever
    # passages are shown are none of them from the internal nota.
    assert _no_answer(_bot_text(page))
    assert panel.lstrip().startswith("Dichtstbijzijnde passages") or not cards
    assert "4730561" not in panel and "nota" not in [c["meta"].split(" ·")[0] for c in cards]
    _shot(page, "08-publiek-antwoord")
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_public_user_draft_holds_no_internal_text(browser, app_url: str) -> None:
    page = _login(browser, app_url, "publiek")
    page.get_by_role("tab", name="Kamerbrief opstellen").click()
    page.locator("#onderwerp textarea, #onderwerp input").first.fill("Planbureau voor de Veiligheid")
    page.locator("#concept-knop").click()
    page.locator("#docx-download").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    assert "4730561" not in page.locator("#concept textarea").input_value()
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_without_users_the_page_says_so_and_needs_no_login(browser, app_settings: Settings) -> None:
    from assistant.app import start

    single = app_settings.model_copy(update={"users": []})
    port = _free_port()
    demo = start(single, host="127.0.0.1", port=port, block=False)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        page.locator("#melding", has_text="Geen gebruikers geconfigureerd").wait_for(timeout=30_000)
        assert page.locator("input[type=password]").count() == 0
        page.locator("#gebruiker", has_text="volledige toegang").wait_for()
        # Full access: the internal nota is listed, and upload and delete are offered.
        page.get_by_role("tab", name="Documenten").click()
        page.locator("#documenten", has_text=INTERNAL_DOC).wait_for()
        assert page.locator("#upload-knop").is_visible() and page.locator("#verwijder-knop").is_visible()
        page.close()
    finally:
        demo.close()


# --- without a browser: host binding, rendering, the edited draft ------------------------------------------


def test_without_users_only_loopback_is_allowed(tmp_path: Path) -> None:
    from assistant.app import resolve_host
    from assistant.auth import hash_password

    alone = Settings(home=tmp_path / "h")
    assert resolve_host(alone, None) == "127.0.0.1"
    assert resolve_host(alone, "localhost") == "localhost"
    with pytest.raises(SystemExit, match="127.0.0.1"):
        resolve_host(alone, "0.0.0.0")
    with_users = Settings(
        home=tmp_path / "h", users=[User(name="a", password_hash=hash_password("x", rounds=4))]
    )
    assert resolve_host(with_users, "0.0.0.0") == "0.0.0.0"


def test_source_cards_escape_document_text_and_mark_the_supporting_sentence() -> None:
    from assistant.app import render_answer_markdown, render_sources_panel

    passage = (
        "Inleiding <script>alert(1)</script>.\nHet kabinet  achtte een Planbureau\nniet wenselijk. Slot."
    )
    answer = {
        "question": "Waarom niet?",
        "answer": "Het kabinet achtte een Planbureau niet wenselijk. [1]",
        "abstained": False,
        "sources": [
            {
                "n": 1,
                "doc_id": "d1",
                "title": "T <b>",
                "kind": "nota",
                "date": "2023-12-22",
                "page": 3,
                "citation": "Nota 1",
                "kamerstukken": ["d1", "33763-141"],
                "passage": passage,
            }
        ],
        "cited_kamerstukken": ["33763-141"],
        "cited_display": {"33763-141": "Kamerstukken II 2017/18, 33763, nr. 141"},
        "sentences": [
            {
                "text": "Het kabinet achtte een Planbureau niet wenselijk.",
                "source": 1,
                "support": {"supported": True},
            }
        ],
    }
    html_out = render_sources_panel([answer])
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out and "T &lt;b&gt;" in html_out
    assert "<mark>Het kabinet  achtte een Planbureau\nniet wenselijk</mark>" in html_out
    assert 'id="bron-0-1"' in html_out and 'data-ids="33763-141"' in html_out and "p. 3" in html_out
    md = render_answer_markdown(answer, 0)
    assert "[\\[1\\]](#bron-0-1)" in md and "Kamerstukken II 2017/18, 33763, nr. 141" in md
    abstained = render_answer_markdown({**answer, "abstained": True, "answer": ""}, 0)
    assert abstained.startswith("**Geen direct antwoord.**")
    nothing = render_answer_markdown({**answer, "abstained": True, "answer": "", "outcome": "none"}, 0)
    assert nothing.startswith("**Niets gevonden.**")
    direct = render_answer_markdown(
        {**answer, "answer": "A [1]\n\n- B [1]", "direct": "A [1]", "points": ["B [1]"]}, 0
    )
    assert direct.startswith("**A [\\[1\\]](#bron-0-1)**") and "**Onderbouwing**\n\n- B" in direct
    assert "Dichtstbijzijnde passages" in render_sources_panel([{**answer, "abstained": True}])


def test_edited_draft_reads_back_into_a_letter() -> None:
    from assistant.draft import Letter, LetterSection, Paragraph
    from assistant.service import letter_from_markdown

    letter = Letter(
        topic="Planbureau",
        mode="bouwstenen",
        engine="extractive",
        sections=[
            LetterSection("Aanleiding", [Paragraph("Een motie vroeg erom.", [1])]),
            LetterSection("Conclusie", []),
        ],
        notes=["Kamerstukken II 2020/21, 35570, nr. 17"],
        sources=[{"display": "Nota 4730561", "cited_in": ["x"]}],
    )
    md = letter.render_markdown()
    assert letter_from_markdown(md, letter).render_markdown() == md  # unedited: the same letter
    edited = md.replace(
        "- Een motie vroeg erom.[^1]", "De Kamer vroeg erom in een motie.[^1]\n\nTweede alinea."
    )
    back = letter_from_markdown(edited, letter)
    assert back.mode == "tekst"  # prose now, not bullet points
    assert [p.text for p in back.sections[0].paragraphs] == [
        "De Kamer vroeg erom in een motie.",
        "Tweede alinea.",
    ]
    assert back.sections[0].paragraphs[0].notes == [1]
    assert back.notes == letter.notes and back.sources == letter.sources


@pytest.mark.browser
@pytest.mark.slow
def test_two_users_asking_at_once_each_get_their_own_answer(browser, app_url: str) -> None:
    intern = _login(browser, app_url, "intern")
    publiek = _login(browser, app_url, "publiek")
    for page in (intern, publiek):
        page.locator("#vraag textarea").fill(PLANBUREAU)
    # Both questions are in the queue together; neither waits for the other's page.
    intern.locator("#vraag-knop").click()
    publiek.locator("#vraag-knop").click()
    for page in (intern, publiek):
        page.locator('#bronnen .bronnen-paneel[data-beurten="1"]:not(.bezig)').wait_for(
            timeout=ANSWER_TIMEOUT_MS
        )
    assert any(INTERNAL_DOC in c["id"] or "Planbureau" in c["title"] for c in _source_cards(intern))
    assert not _no_answer(_bot_text(intern))
    assert "4730561" not in publiek.locator("#bronnen").inner_text()
    assert _no_answer(_bot_text(publiek))
    intern.context.close()
    publiek.context.close()


# --- issue 11: the running app against another user's session id and another site ---------------------------


def test_another_users_session_id_gets_nothing(app_url: str) -> None:
    """A public user who sends an internal user's session id (it travels in the queue's requests) is
    refused; on the code before issue 11 the call returned the internal user's sources."""
    from gradio_client import Client

    intern = Client(app_url, auth=("intern", PASSWORDS["intern"]), verbose=False)
    chat, sources, *_ = intern.predict(
        "Waarom is er geen Planbureau voor de Veiligheid opgericht?",
        [],
        "alle",
        "",
        "",
        "",
        api_name="/on_ask",
    )
    assert "nota" in sources.lower() or "4730561" in sources, sources[:500]

    publiek = Client(app_url, auth=("publiek", PASSWORDS["publiek"]), verbose=False)
    publiek.session_hash = intern.session_hash
    with pytest.raises(Exception, match="andere gebruiker"):
        publiek.predict("en verder?", [], "alle", "", "", "", api_name="/on_ask")


def test_cross_site_requests_are_refused_by_the_running_app(app_url: str) -> None:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        app_url + "/gradio_api/queue/join",
        data=b"{}",
        headers={"Origin": "https://evil.example", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403


def test_the_page_before_login_describes_no_endpoints(app_url: str) -> None:
    import urllib.error
    import urllib.request

    for path in ("/", "/?all_endpoints=true"):
        body = urllib.request.urlopen(app_url + path, timeout=20).read().decode("utf-8", "replace")
        assert "on_ask" not in body and "on_upload" not in body, path
    for path in ("/openapi.json", "/gradio_api/info", "/config"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(app_url + path, timeout=20)
        assert e.value.code in (401, 404), path
