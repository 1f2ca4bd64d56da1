"""``UnicodeText``: a :class:`gymnasium.spaces.Text` that holds real model text.

Gymnasium's ``Text`` accepts only characters from a fixed charset (ASCII letters and digits by
default), which rejects ordinary model output (spaces, ``\\``, ``{``, any non-ASCII). This
subclass accepts any ``str`` within the length bounds, samples from printable ASCII plus a few
non-ASCII characters, and teaches Gymnasium's vector shared memory to carry arbitrary unicode
(one int32 code point per character), so ``make_vec(..., vectorization_mode="async")`` works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import shared_memory as _shm

__all__ = ["UnicodeText", "MAX_TEXT_LENGTH"]

MAX_TEXT_LENGTH = 1 << 20  # 1,048,576 characters: a 32k-token response is ~130k characters.
_SAMPLE_CHARSET = "".join(chr(c) for c in range(32, 127)) + "\n\tαβγ∑√≤≥→é中"


class UnicodeText(spaces.Text):
    """Any Python string of ``min_length..max_length`` characters (unicode included)."""

    def __init__(self, max_length: int = MAX_TEXT_LENGTH, *, min_length: int = 0, seed: Any = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string of length up to ``min(max_length, 256)``: a full-width sample would be
        a megabyte of noise that tells a checker nothing more."""
        if mask is None and probability is None:
            length = int(self.np_random.integers(self.min_length, max(self.min_length, min(self.max_length, 256)) + 1))
            idx = self.np_random.integers(0, len(self.character_list), size=length)
            return "".join(self.character_list[i] for i in idx)
        return super().sample(mask=mask, probability=probability)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


@_shm.create_shared_memory.register(UnicodeText)
def _create(space: UnicodeText, n: int = 1, ctx: Any = None):
    import multiprocessing as mp

    return (ctx or mp).Array(np.dtype(np.int32).char, n * (space.max_length + 1))


class SharedTexts(Sequence):
    """The batch of strings in a vector env's shared memory, decoded when read.

    ``AsyncVectorEnv`` calls ``read_from_shared_memory`` once, at construction, and hands the
    result out after every step (deep-copied by default): for arrays that is a live view, but
    Gymnasium's own ``Text`` reader returns a tuple of the strings present at construction, so
    every later observation would be stale. This view decodes the current contents on access and
    deep-copies to a plain tuple of ``str``.
    """

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        row = self._data[index]
        return row[1 : 1 + row[0]].tobytes().decode("utf-32-le")

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: Any) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return repr(tuple(self))


@_shm.read_from_shared_memory.register(UnicodeText)
def _read(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length + 1)))


@_shm.write_to_shared_memory.register(UnicodeText)
def _write(space: UnicodeText, index: int, values: str, shared_memory: Any) -> None:
    size = space.max_length + 1
    dest = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    codes = np.frombuffer(values.encode("utf-32-le"), dtype=np.int32)
    dest[index * size] = len(codes)
    dest[index * size + 1 : index * size + 1 + len(codes)] = codes
