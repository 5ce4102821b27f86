"""Fetch official publications (Kamerstukken, Handelingen, Aanhangsels) by identifier.

The XML that zoek.officielebekendmakingen.nl serves for ``{identifier}.xml`` is what the XML reader reads.
Fetched files land in a folder that `briefing ingest` then indexes; nothing is indexed from the network
directly, so a bad download can never damage the store.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_BASE_URL = "https://zoek.officielebekendmakingen.nl"
_IDENTIFIER = re.compile(r"^(kst|h|ah|blg|stcrt|stb|trb|gmb|prb|wsb)-[a-z0-9-]+$", re.IGNORECASE)


class FetchError(Exception):
    """A publication could not be fetched; the message names the identifier and the reason."""


def normalise_identifier(value: str) -> str:
    """Accept an identifier, or a Kamerstuk reference in any form the citation parser knows."""
    value = value.strip()
    if _IDENTIFIER.match(value):
        return value.lower()
    from corpus.citations import normalise_id

    canonical = normalise_id(value)
    if canonical is None:
        raise FetchError(f"{value!r}: not an official identifier or a Kamerstuk reference")
    return canonical if canonical.startswith(("h-", "ah-")) else f"kst-{canonical}"


def fetch_publication(
    identifier: str, dest: Path, base_url: str = DEFAULT_BASE_URL, timeout: float = 30.0
) -> Path:
    ident = normalise_identifier(identifier)
    url = f"{base_url.rstrip('/')}/{ident}.xml"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https base by default
            body = resp.read()
    except urllib.error.HTTPError as e:
        raise FetchError(f"{ident}: {url} answered HTTP {e.code}") from e
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise FetchError(f"{ident}: {url} could not be reached ({e})") from e
    # Validate before writing: an HTML error page with status 200 must not become a "document".
    head = body[:4096].decode("utf-8", errors="replace")
    if "<officiele-publicatie" not in head and "<officiele-publicatie" not in body.decode("utf-8", "replace"):
        raise FetchError(f"{ident}: {url} did not return an officiele-publicatie XML document")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{ident}.xml"
    tmp = target.with_suffix(".xml.part")
    tmp.write_bytes(body)
    tmp.replace(target)
    return target
