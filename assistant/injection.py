"""Passages that speak to the assistant or hold secrets: flagged, never obeyed.

The extractive engine cannot be instructed (it only quotes); the LLM engine gets passages as quoted data
with the instruction to treat their content as text (``prompts.py``). Beyond that an official expects to
be warned: a passage that addresses the assistant ("negeer alle eerdere instructies ...") or that holds
something that looks like a credential (a password, a key, a bcrypt hash) is flagged in the sources panel
and in ``sources[].flags`` of ``ask --json``, so that nobody copies it into a Kamerbrief unread.
"""

from __future__ import annotations

import re

INSTRUCTION = "instructie"  # the passage gives orders to an assistant or a language model
CREDENTIAL = "geheim"  # the passage holds what looks like a password, key or token

_INSTRUCTION = re.compile(
    r"\b(?:negeer|vergeet|ignore|disregard|forget)\b[^.\n]{0,40}\b(?:instructies?|opdrachten|regels|"
    r"instructions?|prompts?|rules)\b"
    r"|\b(?:systeemprompt|system\s+prompt|jailbreak)\b"
    r"|\b(?:je|jij|u)\s+(?:bent|is)\s+(?:nu|vanaf\s+nu)\b"
    r"|\byou\s+are\s+now\b"
    r"|\b(?:als|as\s+an?)\s+(?:ai|taalmodel|language\s+model|assistent|assistant)\b[^.\n]{0,40}\b(?:moet|must|should|zal|will)\b"
    r"|\b(?:beantwoord|antwoord|answer|respond)\s+(?:altijd|voortaan|always|only)\b"
    r"|\b(?:assistent|assistant|chatbot|taalmodel)\s*[:,]\s*(?:negeer|zeg|geef|antwoord|ignore|say|tell)\b",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(
    # "het wachtwoord van de schijf is Zomer2024!": a word that looks like a password (a digit or a sign in it)
    r"\b(?:wachtwoord|password|passwd|pwd|inlogcode|pincode)\b[^.\n:=]{0,40}?(?:\bis\b|\bluidt\b|[:=])\s*"
    r"(?=\S*[\d!@#$%^&*+?])\S{6,}"
    r"|\b(?:api[\s_-]?key|secret|token|bearer)\b\s*(?:is|[:=])\s*[A-Za-z0-9_\-./+]{12,}"
    r"|\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}"  # a bcrypt hash
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bAKIA[0-9A-Z]{16}\b"  # an AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b"  # a GitHub token
    r"|\bsk-[A-Za-z0-9]{20,}\b",  # an API secret in the common "sk-" form
    re.IGNORECASE,
)


def flags(text: str) -> list[str]:
    """The warnings for a passage: ``instructie`` and/or ``geheim`` (empty for an ordinary passage)."""
    out = []
    if _INSTRUCTION.search(text or ""):
        out.append(INSTRUCTION)
    if _CREDENTIAL.search(text or ""):
        out.append(CREDENTIAL)
    return out
