"""A policy backed by an OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp server, ...).

``OpenAIPolicy("http://localhost:8000/v1", model="Qwen/Qwen3-8B")`` posts each prompt as one user
message to ``/chat/completions`` (or as ``prompt`` to ``/completions`` with ``chat=False``), with
``concurrency`` requests in flight, a per-request ``timeout``, and ``retries`` with exponential
backoff and jitter on connection errors, timeouts, 429 and 5xx answers (a ``Retry-After`` header is
honoured). Token usage of every answer is kept in ``usage`` (prompt and completion tokens, as the
server reports them). Standard library only: ``urllib`` and a thread pool.

A request that still fails after the retries raises :class:`EndpointError` naming the URL and the
last error: a sweep must not mistake a dead server for a wrong answer. Before any of that, the
constructor probes ``/models`` once with a short timeout (``probe_timeout``) and no retries, so a
server that is not there (a typo in the URL, a server not started) fails in seconds.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from thinkgym.agents.policies import Policy

__all__ = ["OpenAIPolicy", "EndpointError"]

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class EndpointError(RuntimeError):
    """The endpoint could not answer a request after all retries."""


class OpenAIPolicy(Policy):
    """Args:
    base_url: the API root, e.g. ``http://localhost:8000/v1``.
    model: the served model name (default: the first one ``/models`` lists).
    api_key: sent as a bearer token (default: ``$OPENAI_API_KEY``, else none).
    chat: use ``/chat/completions`` with the prompt as a user message (default) or ``/completions``.
    max_tokens, temperature, top_p, stop, seed: sampling parameters, sent as given.
    system: an optional system message for chat requests.
    concurrency: requests in flight at once in ``act_batch``.
    timeout: seconds per request. retries: extra attempts after the first. backoff: first wait (s).
    probe_timeout: seconds for the one ``/models`` request that checks the server is there.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        chat: bool = True,
        max_tokens: int = 4096,
        temperature: float = 0.6,
        top_p: float = 0.95,
        stop: list[str] | None = None,
        seed: int | None = None,
        system: str | None = None,
        concurrency: int = 8,
        timeout: float = 600.0,
        retries: int = 4,
        backoff: float = 1.0,
        probe_timeout: float = 5.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.chat, self.system = chat, system
        self.sampling: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p}
        if stop:
            self.sampling["stop"] = list(stop)
        if seed is not None:
            self.sampling["seed"] = seed
        self.concurrency, self.timeout, self.retries, self.backoff = concurrency, timeout, retries, backoff
        self.usage: list[dict[str, int]] = []
        self.model = self._probe(model, min(timeout, probe_timeout))

    # -- HTTP ------------------------------------------------------------------------------
    def _request(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url + path
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt * (0.5 + random.random())
            try:
                req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                body = exc.read()[:500].decode(errors="replace")
                last = f"HTTP {exc.code}: {body}"
                if exc.code not in _RETRY_STATUS:
                    break
                retry_after = exc.headers.get("Retry-After")
                if retry_after and retry_after.replace(".", "", 1).isdigit():
                    wait = float(retry_after)
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                time.sleep(wait)
        raise EndpointError(f"{url} failed after {self.retries + 1} attempt(s): {last}")

    def _probe(self, model: str | None, timeout: float) -> str:
        """One GET of ``/models``: fails fast when nothing answers; the model (given, else the
        first one the server lists)."""
        url = self.base_url + "/models"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
                listing = json.loads(resp.read())
        except urllib.error.HTTPError:  # something answers; it may be busy or list no models
            listing = None if model else self._request("/models")
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise EndpointError(
                f"cannot reach {self.base_url} ({type(exc).__name__}: {exc}, one try with a {timeout:g} s "
                "timeout); start the server or fix the URL"
            ) from None
        except json.JSONDecodeError:
            listing = None
        if model:
            return model
        models = (listing or {}).get("data") or []
        if not models:
            raise EndpointError(f"{url} lists no model; name it: openai:URL#MODEL (or model=)")
        return models[0]["id"]

    def complete(self, prompt: str) -> tuple[str, dict[str, int]]:
        """(response text, usage) for one prompt."""
        if self.chat:
            messages = ([{"role": "system", "content": self.system}] if self.system else []) + [
                {"role": "user", "content": prompt}
            ]
            out = self._request("/chat/completions", {"model": self.model, "messages": messages, **self.sampling})
            text = out["choices"][0]["message"].get("content") or ""
            reasoning = out["choices"][0]["message"].get("reasoning_content")
            if reasoning:  # servers that split the thinking out (vLLM reasoning parsers)
                text = f"<think>{reasoning}</think>{text}"
        else:
            out = self._request("/completions", {"model": self.model, "prompt": prompt, **self.sampling})
            text = out["choices"][0].get("text") or ""
        usage = out.get("usage") or {}
        return text, {k: int(usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")}

    # -- Policy ------------------------------------------------------------------------------
    def act(self, observation: str, info: dict[str, Any]) -> str:
        return self.act_batch([observation], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(observations)))) as pool:
            results = list(pool.map(self.complete, observations))
        self.last_usage = [u for _, u in results]
        self.usage.extend(self.last_usage)
        return [text for text, _ in results]
