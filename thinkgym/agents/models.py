"""Language models for the agents: the offline ``tiny`` model, and any Hugging Face causal LM
from a local path. Needs the ``train`` extra (torch, transformers); nothing is downloaded.

``tiny`` is a 2-layer Qwen2-style decoder with random weights and a byte-level tokenizer built
locally (256 byte symbols, no merges, plus ChatML and think-tag special tokens): every string,
unicode included, round-trips exactly, so it serves tests, the CPU demo and examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TINY_SPECIAL_TOKENS", "build_tiny_tokenizer", "build_tiny_model", "load_model"]

TINY_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_tokenizer() -> Any:
    """A byte-level BPE tokenizer with no merges (one token per UTF-8 byte), built offline."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=TINY_SPECIAL_TOKENS[1:],
    )
    fast.add_special_tokens({"eos_token": "<|endoftext|>"})
    fast.chat_template = _CHAT_TEMPLATE
    return fast


def build_tiny_model(
    vocab_size: int,
    *,
    seed: int = 0,
    hidden_size: int = 64,
    num_layers: int = 2,
    max_positions: int = 32768,
    **overrides: Any,
) -> Any:
    """A Qwen2-style causal LM with random weights (about 0.1M parameters at the defaults).
    ``overrides`` set other ``Qwen2Config`` fields (e.g. ``initializer_range``)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    settings = dict(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
    )
    config = Qwen2Config(**{**settings, **overrides})
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config)


def load_model(spec: str | Path, *, seed: int = 0, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) for ``"tiny"`` or a local Hugging Face model folder (never a hub id:
    ``local_files_only``, so a typo is a clear error, not a download attempt)."""
    if str(spec) == "tiny":
        tokenizer = build_tiny_tokenizer()
        return build_tiny_model(len(tokenizer), seed=seed), tokenizer
    path = Path(spec)
    if not path.is_dir():
        raise ValueError(f"model must be 'tiny' or a local model folder; {str(spec)!r} is not a folder")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
    return model, tokenizer
