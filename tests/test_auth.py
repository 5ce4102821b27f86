"""Passwords, roles and upload-name safety. No model needed: these run in milliseconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest

from assistant import auth
from assistant.service import UploadError, safe_upload_name, save_upload
from corpus.settings import Settings, User

REPO = Path(__file__).resolve().parents[1]


def _hash(pw: str) -> str:
    # rounds=4: the cost factor does not change what is checked, only how slowly.
    return auth.hash_password(pw, rounds=4)


@pytest.fixture
def two_users(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        users=[
            User(name="intern", password_hash=_hash("geheim-intern"), role="intern", can_delete=True),
            User(name="publiek", password_hash=_hash("geheim-publiek"), role="openbaar"),
        ],
    )


def test_hash_is_bcrypt_and_verifies_only_the_right_password() -> None:
    h = _hash("correct horse")
    assert h.startswith("$2") and "correct horse" not in h
    assert auth.verify_password("correct horse", h)
    assert not auth.verify_password("correct hors", h)
    assert not auth.verify_password("", h)
    # Two hashes of one password differ (salted) and both verify.
    h2 = _hash("correct horse")
    assert h2 != h and auth.verify_password("correct horse", h2)


def test_malformed_hash_and_overlong_password_fail_closed() -> None:
    assert not auth.verify_password("x", "not-a-bcrypt-hash")
    with pytest.raises(auth.PasswordError):
        auth.hash_password("a" * 73)
    with pytest.raises(auth.PasswordError):
        auth.hash_password("")
    # A 72-byte prefix of a longer password must not log in as that password would under silent truncation.
    h = _hash("b" * 72)
    assert not auth.verify_password("b" * 80, h)


def test_authenticate_by_configured_users(two_users: Settings) -> None:
    import asyncio

    login = auth.make_auth(two_users)
    assert login is not None

    def check(name: str, password: str) -> bool:
        return asyncio.run(login(name, password))

    assert check("intern", "geheim-intern")
    assert check("publiek", "geheim-publiek")
    assert not check("publiek", "geheim-intern")
    assert not check("onbekend", "geheim-intern")
    assert not check("Intern", "geheim-intern")  # names are exact


def test_roles_map_to_store_access(two_users: Settings) -> None:
    assert auth.access_for(two_users, "intern") == ["openbaar", "intern"]
    assert auth.access_for(two_users, "publiek") == ["openbaar"]
    # Unknown or anonymous requests with users configured see nothing, never everything.
    assert auth.access_for(two_users, None) == []
    assert auth.access_for(two_users, "mallory") == []
    assert auth.can_delete(two_users, "intern") and not auth.can_delete(two_users, "publiek")
    assert auth.can_upload(two_users, "intern") and not auth.can_upload(two_users, "publiek")


def test_without_users_single_user_full_access(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "home")
    assert auth.make_auth(s) is None
    assert set(auth.access_for(s, None)) == {"openbaar", "intern"}
    assert auth.can_delete(s, None) and auth.can_upload(s, None)


def test_users_from_toml_with_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = _hash("uit-toml")
    cfg = tmp_path / "briefing.toml"
    cfg.write_text(
        f'[[users]]\nname = "anna"\npassword_hash = "{h}"\nrole = "intern"\ncan_delete = true\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BRIEFING_CONFIG", str(cfg))
    s = Settings(home=tmp_path / "home")
    assert auth.authenticate(s, "anna", "uit-toml")
    assert auth.access_for(s, "anna") == ["openbaar", "intern"]


def test_hash_command_reads_stdin_and_prints_a_verifiable_hash() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.auth", "hash"],
        input="wacht woord \n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.strip()
    assert "wacht" not in printed
    assert bcrypt.checkpw(b"wacht woord ", printed.encode())
    bad = subprocess.run([sys.executable, "-m", "assistant.auth"], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("Nota 2024 (concept).docx", "Nota_2024_concept.docx"),
        ("brief\x00.pdf", "brief.pdf"),
        ("Kamerbrief über veiligheid.PDF", "Kamerbrief_uber_veiligheid.pdf"),
        (".verborgen.txt", "verborgen.txt"),
    ],
)
def test_upload_names_are_sanitised(given: str, expected: str) -> None:
    assert safe_upload_name(given) == expected


@pytest.mark.parametrize("name", ["script.sh", "archive.zip", "noextension", "...", "x.pdf.exe"])
def test_upload_types_outside_the_allowed_list_are_refused(name: str) -> None:
    with pytest.raises(UploadError):
        safe_upload_name(name)


def test_saved_uploads_stay_inside_uploads_path_and_respect_the_size_limit(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "home", upload_max_mb=1)
    src = tmp_path / "in.txt"
    src.write_text("Een korte notitie.", encoding="utf-8")
    saved = save_upload(src, "../../../buiten.txt", s)
    assert (
        saved.parent == s.uploads_path.resolve() and saved.read_text(encoding="utf-8") == "Een korte notitie."
    )
    # A second upload with the same name is a new version of that file: it replaces it, in the same place.
    src.write_text("Tweede versie.", encoding="utf-8")
    again = save_upload(src, "buiten.txt", s)
    assert again == saved and again.read_text(encoding="utf-8") == "Tweede versie."
    assert [p.name for p in s.uploads_path.iterdir()] == ["buiten.txt"]  # no temp file left behind
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(UploadError):
        save_upload(big, "big.txt", s)
