"""``ChatFormat``: text <-> token ids for the policy, built once from a tokenizer.

* The prompt is the env's observation as one user message rendered with the tokenizer's chat
  template (with the generation prompt), or the raw observation when the tokenizer has none. An
  ``info["prefill"]`` (e.g. :class:`thinkgym.envs.thinking.ThinkingMode`) is appended: it is the
  start of the assistant turn.
* A turn ends at the template's end-of-turn token (``<|im_end|>`` for ChatML), found by rendering
  a dummy assistant message, or at the tokenizer's EOS.
* Multi-turn: an env's reply is tokenised once, on its own, and appended after the ids the model
  generated; earlier turns are never re-rendered, so the training context is exactly the
  generation context (the re-tokenisation drift of peers.md (c)2 cannot happen).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ChatFormat"]

_USER, _ASSISTANT = "\x00user\x00", "\x00assistant\x00"


class ChatFormat:
    """Prompt, end-of-turn and env-turn token ids for ``tokenizer`` (a Hugging Face tokenizer)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.has_template = bool(getattr(tokenizer, "chat_template", None))
        eos = tokenizer.eos_token_id
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos or 0)
        self._closer = ""  # text the template puts after an assistant message
        if self.has_template:
            base = self._render([{"role": "user", "content": _USER}, {"role": "assistant", "content": _ASSISTANT}])
            self._closer = base[base.rindex(_ASSISTANT) + len(_ASSISTANT) :]
        closer_ids = self.encode(self._closer)
        if not closer_ids and eos is None:
            raise ValueError("the tokenizer has neither a chat template that closes turns nor an EOS token")
        # the token that ends a model turn: the template's closer (<|im_end|> for ChatML), else EOS
        self.end_id = int(closer_ids[0] if closer_ids else eos)
        self.stop_ids = {self.end_id} | ({int(eos)} if eos is not None else set())

    def _render(self, messages: list[dict[str, str]], generation_prompt: bool = False) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: list[int], keep_end: bool = False) -> str:
        """The text of generated ids, without a final end-of-turn token unless ``keep_end``; other
        special tokens (``<think>``) are kept, since verifiers read them."""
        if ids and ids[-1] in self.stop_ids and not keep_end:
            ids = ids[:-1]
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    @property
    def end_text(self) -> str:
        """The text of the end-of-turn token (e.g. ``<|im_end|>``)."""
        return self.tokenizer.decode([self.end_id], skip_special_tokens=False)

    def prompt_ids(self, observation: str, info: dict[str, Any] | None = None) -> list[int]:
        """Token ids of the first prompt of an episode."""
        prefill = (info or {}).get("prefill", "")
        if not self.has_template:
            return self.encode(observation)
        if prefill and observation.endswith(prefill):  # ThinkingMode also appends it to the observation
            observation = observation[: -len(prefill)].rstrip("\n")
        return self.encode(self._render([{"role": "user", "content": observation}], True) + prefill)

    def env_turn_ids(self, observation: str, last_token: int | None) -> list[int]:
        """Token ids that follow the model's turn (whose last generated id is ``last_token``) when
        the env replies with ``observation`` as a new user message: the rest of the template's
        closer (all of it unless the model ended its turn with the closer's first token), the user
        message and the next generation prompt."""
        if not self.has_template:
            return self.encode(observation)
        dialogue = [{"role": "user", "content": _USER}, {"role": "assistant", "content": _ASSISTANT}]
        before = self._render(dialogue)
        after = self._render([*dialogue, {"role": "user", "content": observation}], True)
        if not after.startswith(before):
            raise ValueError("the chat template rewrites earlier turns; multi-turn rollouts need an append-only one")
        closer_ids = self.encode(self._closer)
        rest = closer_ids[1:] if closer_ids and last_token == closer_ids[0] else closer_ids
        return rest + self.encode(after[len(before) :])
