"""The generative engine: any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, Azure
OpenAI, ...) through llama-index's ``OpenAILike``.

This module only talks to the model. It returns raw text with markers; whether the text may be shown is
decided afterwards by ``assistant.support`` (every sentence checked against the passage it cites), exactly
as for the extractive engine. Transport failures (HTTP errors, timeouts, no endpoint configured) raise
``LLMError`` so the caller can fall back to the extractive engine instead of showing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from assistant.prompts import answer_messages, draft_messages
from corpus.settings import Settings
from index.search import SearchHit


class LLMError(RuntimeError):
    """The language model could not be reached or answered with an error."""


class LLMEngine:
    def __init__(self, settings: Settings, llm: Any | None = None) -> None:
        self.settings = settings
        self._llm = llm

    @property
    def configured(self) -> bool:
        return self._llm is not None or bool(self.settings.llm_url and self.settings.llm_model)

    @property
    def llm(self) -> Any:
        if self._llm is None:
            if not self.configured:
                raise LLMError("geen taalmodel ingesteld (BRIEFING_LLM_URL en BRIEFING_LLM_MODEL)")
            from llama_index.llms.openai_like import OpenAILike

            self._llm = OpenAILike(
                model=self.settings.llm_model,
                api_base=self.settings.llm_url,
                # Local servers need no key, but the OpenAI client refuses to start without one.
                api_key=self.settings.llm_api_key or "geen-sleutel",
                is_chat_model=True,
                is_function_calling_model=False,
                context_window=8192,
                temperature=0.0,
                max_tokens=700,
                timeout=self.settings.llm_timeout,
                # Retries would multiply the timeout and hide a broken endpoint; the caller falls back instead.
                max_retries=0,
            )
        return self._llm

    @staticmethod
    def _messages(pairs: Sequence[tuple[str, str]]) -> list[Any]:
        from llama_index.core.llms import ChatMessage, MessageRole

        roles = {"system": MessageRole.SYSTEM, "user": MessageRole.USER, "assistant": MessageRole.ASSISTANT}
        return [ChatMessage(role=roles[r], content=c) for r, c in pairs]

    def _chat(self, pairs: Sequence[tuple[str, str]]) -> str:
        try:
            resp = self.llm.chat(self._messages(pairs))
        except LLMError:
            raise
        except Exception as e:  # openai.APIError, httpx timeouts, connection errors
            raise LLMError(f"taalmodel gaf een fout: {type(e).__name__}: {e}") from e
        return resp.message.content or ""

    def _stream(self, pairs: Sequence[tuple[str, str]]) -> Iterator[str]:
        try:
            for chunk in self.llm.stream_chat(self._messages(pairs)):
                if chunk.delta:
                    yield chunk.delta
        except LLMError:
            raise
        except Exception as e:
            raise LLMError(f"taalmodel gaf een fout: {type(e).__name__}: {e}") from e

    def answer(self, question: str, hits: Sequence[SearchHit]) -> str:
        return self._chat(answer_messages(question, hits))

    def answer_stream(self, question: str, hits: Sequence[SearchHit]) -> Iterator[str]:
        return self._stream(answer_messages(question, hits))

    def draft_section(self, topic: str, section: str, instruction: str, hits: Sequence[SearchHit]) -> str:
        return self._chat(draft_messages(topic, section, instruction, hits))
