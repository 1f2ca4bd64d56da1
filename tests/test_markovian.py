"""MarkovianThinking (Delethink): chunked episodes with a bounded, token-exact carryover."""

import subprocess
import sys
import warnings

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym
from thinkgym.envs.markovian import (
    PRESETS,
    CharTokenizer,
    MarkovianThinking,
    make_markovian,
    make_markovian_math,
    make_markovian_sat,
    training_rows,
)
from thinkgym.envs.registration import ENVS

CHAR = CharTokenizer()
EOS = CharTokenizer.eos_token


def text(start: int, n: int) -> str:
    """n distinct characters, so every slice of a chunk can be told apart."""
    return "".join(chr(start + i) for i in range(n))


@pytest.fixture
def tiny_sat():
    return make_markovian_sat(preset="tiny", level=1)


@pytest.fixture(scope="module")
def hf_tokenizer():
    pytest.importorskip("transformers")
    from thinkgym.agents.models import build_tiny_tokenizer

    return build_tiny_tokenizer()


def test_carryover_keeps_head_and_tail_drops_the_middle_and_truncates(tiny_sat):
    query, info = tiny_sat.reset(seed=0)
    assert info["max_new_tokens"] == 64 and info["thinking_budget"] == 64 + 3 * (64 - 32)
    assert info["query_ids"] == CHAR.encode(query) and info["chunks"] == []
    chunks = [text(0x4E00, 64), text(0x4F00, 32), text(0x5000, 32), text(0x5100, 32)]
    sizes = []
    for i, chunk in enumerate(chunks[:3]):
        obs, reward, terminated, truncated, info = tiny_sat.step(chunk)
        assert (reward, terminated, truncated) == (0.0, False, False)
        assert obs == query + chunks[0][:8] + chunk[-24:]
        assert chunks[0][8:40] not in obs and chunk[:8] not in obs[len(query) + 8 :], "the middle is gone"
        if i:
            assert chunks[i - 1][-24:] not in obs, "the previous chunk's tail is gone"
        assert info["max_new_tokens"] == 32 and info["carryover_ids"] == CHAR.encode(obs[len(query) :])
        sizes.append(len(obs))
    assert sizes == [len(query) + 32] * 3, "the observation does not grow"
    obs, reward, terminated, truncated, info = tiny_sat.step(chunks[3])
    assert (obs, terminated, truncated, info["finish_reason"]) == ("", False, True, "max_chunks")
    assert reward == -1.0 and info["verdict"]["reason"] == "no_answer"  # SATURN: no answer read
    assert len(info["chunks"]) == 4 and info["trace_length"] == 64 + 3 * 32
    # every chunk's prompt is the query plus the carryover it was shown
    assert info["chunks"][1]["prompt_ids"] == CHAR.encode(query + chunks[0][:8] + chunks[0][-24:])
    assert info["chunks"][3]["prompt_ids"] == CHAR.encode(query + chunks[0][:8] + chunks[2][-24:])
    with pytest.raises(gymnasium.error.ResetNeeded):
        tiny_sat.step("more")


def test_correct_boxed_answer_in_chunk_two_ends_the_episode_with_reward(tiny_sat):
    _, info = tiny_sat.reset(seed=3)
    answer = info["problem"]["answer"]
    tiny_sat.step("Let me think about clause one. " + "x" * 33)
    obs, reward, terminated, truncated, info = tiny_sat.step("So \\boxed{" + answer + "}")
    assert (obs, reward, terminated, truncated) == ("", 1.0, True, False)
    assert info["finish_reason"] == "answer" and info["verdict"]["correct"] and len(info["chunks"]) == 2


def test_answer_is_read_from_carryover_plus_last_chunk(tiny_sat):
    _, info = tiny_sat.reset(seed=3)
    answer = info["problem"]["answer"]
    tiny_sat.step("t" * 64)
    opening = "\\boxed{" + answer[:2]
    _, _, terminated, _, info = tiny_sat.step("u" * (32 - len(opening)) + opening)
    assert not terminated, "an unclosed box is no answer yet"
    _, reward, terminated, _, info = tiny_sat.step(answer[2:] + "} done")
    assert terminated and reward == 1.0 and info["verdict"]["correct"]


def test_wrong_final_answer_ends_the_episode_with_the_inner_reward(tiny_sat):
    _, info = tiny_sat.reset(seed=3)
    wrong = "".join("10"[int(c)] for c in info["problem"]["answer"])
    _, reward, terminated, _, info = tiny_sat.step("\\boxed{" + wrong + "}")
    assert terminated and info["finish_reason"] == "answer" and not info["verdict"]["correct"]
    assert reward == 0.0  # SATURN: a readable wrong answer scores 0


def test_eos_ends_the_episode(tiny_sat):
    tiny_sat.reset(seed=1)
    tiny_sat.step("a" * 64)
    _, reward, terminated, truncated, info = tiny_sat.step("I am done." + EOS)
    assert (terminated, truncated, info["finish_reason"]) == (True, False, "eos")
    assert reward == -1.0, "EOS without an answer scores as no answer"
    assert info["chunks"][-1]["completion_ids"][-1] == CharTokenizer.eos_token_id
    # the EOS text elsewhere in a chunk is no stop, and another stop text can be named
    custom = make_markovian_sat(preset="tiny", eos_token="<|im_end|>")
    custom.reset(seed=1)
    assert not custom.step("I am done." + EOS)[2]
    assert custom.step("<|im_end|>")[4]["finish_reason"] == "eos"


def test_chunk_over_budget_is_a_value_error_naming_the_limit(tiny_sat):
    tiny_sat.reset(seed=0)
    with pytest.raises(ValueError, match="chunk 1 has 65 tokens; the limit is 64 tokens"):
        tiny_sat.step("a" * 65)
    tiny_sat.step("a" * 64)  # the failed step left the episode as it was
    with pytest.raises(ValueError, match="chunk 2 has 33 tokens; the limit is 32 tokens"):
        tiny_sat.step("b" * 33)
    assert tiny_sat.step("b" * 32)[0].endswith("b" * 24)


def test_bad_actions_and_arguments_get_clear_errors(tiny_sat):
    tiny_sat.reset(seed=0)
    with pytest.raises(TypeError, match="action must be a str"):
        tiny_sat.step(b"bytes")
    with pytest.raises(TypeError, match="action must be a str"):
        tiny_sat.step(["a"])
    fresh = make_markovian_sat(preset="tiny")
    with pytest.raises(gymnasium.error.ResetNeeded):
        fresh.step("x")
    sat = thinkgym.SaturnSATEnv()
    for kwargs, match in [
        ({"carryover": 64}, r"carryover must be an int in 1\.\.63"),
        ({"head": 32}, r"head must be an int in 0\.\.31"),
        ({"max_chunks": 0}, r"max_chunks must be an int >= 1"),
        ({"chunk_size": 1.5}, "chunk_size must be an int"),
        ({"eos_token": ""}, "eos_token"),
    ]:
        with pytest.raises(ValueError, match=match):
            MarkovianThinking(sat, CHAR, **{**PRESETS["tiny"], **kwargs})
    with pytest.raises(TypeError, match="encode"):
        MarkovianThinking(sat, object())
    with pytest.raises(ValueError, match="preset must be one of"):
        make_markovian_sat(preset="huge")
    with pytest.raises(ValueError, match="not a registered thinkgym env"):
        make_markovian("No-Such-v0")


def test_chunk_token_ids_concatenate_back_to_the_chunk_texts(hf_tokenizer):
    chunks = ["Thinking: ∑√2 → 中文 " + "z" * 30, "still thinking, αβγ é!", "\\boxed{00000}"]
    for tokenizer in (CHAR, hf_tokenizer):
        env = make_markovian_sat(preset="tiny", tokenizer=tokenizer)
        query, _ = env.reset(seed=0)
        info = {}
        for chunk in chunks:
            info = env.step(chunk)[4]
        assert info["finish_reason"] == "answer"
        completions = [c["completion_ids"] for c in info["chunks"]]
        assert [tokenizer.decode(ids) for ids in completions] == chunks
        assert tokenizer.decode([i for ids in completions for i in ids]) == "".join(chunks)
        query_ids = info["chunks"][0]["prompt_ids"]
        assert tokenizer.decode(query_ids) == query
        assert all(c["prompt_ids"][: len(query_ids)] == query_ids for c in info["chunks"])


def test_token_exact_carryover_with_a_byte_level_tokenizer(hf_tokenizer):
    env = make_markovian_sat(preset="tiny", tokenizer=hf_tokenizer)
    query, info = env.reset(seed=0)
    query_ids = hf_tokenizer.encode(query, add_special_tokens=False)
    assert info["query_ids"] == query_ids
    chunk1 = "中文思考αβγ∑" * 3 + "!"  # 64 bytes = 64 tokens; cuts at 8 and -24 split characters
    ids1 = hf_tokenizer.encode(chunk1, add_special_tokens=False)
    assert len(ids1) == 64
    obs, _, _, _, info = env.step(chunk1)
    carry = ids1[:8] + ids1[-24:]
    assert info["carryover_ids"] == carry
    assert obs == query + hf_tokenizer.decode(carry) and "\ufffd" in obs, "a split character decodes lossily"
    chunk2 = "ü→" * 6 + "ab"  # 32 bytes
    ids2 = hf_tokenizer.encode(chunk2, add_special_tokens=False)
    obs, _, _, _, info = env.step(chunk2)
    assert info["chunks"][1]["prompt_ids"] == query_ids + carry, "the prompt is the ids, not a re-encoding"
    assert info["carryover_ids"] == ids1[:8] + ids2[-24:]
    # EOS is one special token at the end of the chunk and ends the episode
    _, _, terminated, _, info = env.step("fin" + hf_tokenizer.eos_token)
    assert terminated and info["finish_reason"] == "eos"
    assert info["chunks"][-1]["completion_ids"][-1] == hf_tokenizer.eos_token_id


def test_training_rows_share_the_advantage_and_normalise_by_trace_length(tiny_sat):
    tiny_sat.reset(seed=0)
    for chunk in ["a" * 64, "b" * 32, "c" * 10 + EOS]:
        info = tiny_sat.step(chunk)[4]
    rows = training_rows(info["chunks"], advantage=0.75)
    assert len(rows) == 3 and {r["advantage"] for r in rows} == {0.75}
    assert info["trace_length"] == 64 + 32 + 11
    assert {r["loss_weight"] for r in rows} == {1 / 107}
    # a per-trajectory token mean: the weights of all generated tokens sum to one
    assert sum(r["loss_weight"] * len(r["completion_ids"]) for r in rows) == pytest.approx(1.0)
    assert [r["prompt_ids"] for r in rows] == [c["prompt_ids"] for c in info["chunks"]]
    assert training_rows([], 1.0) == []
    # a chat policy's own query ids replace the plain query; the carryover ids stay
    query_len = len(info["chunks"][0]["prompt_ids"])
    templated = training_rows(info["chunks"], advantage=0.75, query_ids=[7, 8, 9])
    assert templated[0]["prompt_ids"] == [7, 8, 9]
    assert templated[2]["prompt_ids"] == [7, 8, 9] + info["chunks"][2]["prompt_ids"][query_len:]
    assert len(templated[2]["prompt_ids"]) == 3 + 32


def test_defaults_are_delethinks_and_presets_apply():
    env = make_markovian_sat()
    assert (env.chunk_size, env.carryover, env.head, env.max_chunks) == (8192, 4096, 100, 5)
    assert env.thinking_budget == 24_576 and isinstance(env.tokenizer, CharTokenizer)
    assert make_markovian_sat(max_chunks=23).thinking_budget == 98_304  # "96K"
    tiny = make_markovian_sat(preset="tiny", head=4, level=2)
    assert (tiny.chunk_size, tiny.carryover, tiny.head, tiny.max_chunks) == (64, 32, 4, 4)
    assert tiny.unwrapped.level == 2


def test_check_env_passes_on_the_wrapped_env():
    env = make_markovian_sat()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    expected = ("different from the unwrapped version", "alternative render modes")
    assert all(any(e in str(w.message) for e in expected) for w in caught), [str(w.message) for w in caught]
    assert isinstance(env.observation_space, thinkgym.spaces.UnicodeText)
    assert isinstance(env.action_space, thinkgym.spaces.UnicodeText)
    a, b = make_markovian_sat(), make_markovian_sat()
    assert a.reset(seed=5) == b.reset(seed=5)
    assert a.step("abc") == b.step("abc")


def test_render_shows_the_latest_chunk():
    env = make_markovian_sat(preset="tiny", render_mode="ansi")
    query, _ = env.reset(seed=0)
    assert env.render() == query
    env.step("first chunk")
    assert env.render() == "first chunk"


@pytest.mark.parametrize("env_id", ["Markovian-SAT-v0", "Markovian-Math-v0"])
def test_registered_env_makes_and_passes_check_env(env_id):
    assert env_id in ENVS
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped)
    assert env.reset(seed=0)[1]["thinking_budget"] == 24_576


def test_markovian_math_correct_answer_in_chunk_two():
    env = make_markovian_math(preset="tiny")
    _, info = env.reset(seed=0)
    answer = info["problem"]["answer"]
    env.step("w" * 64)
    _, reward, terminated, _, info = env.step("\\boxed{" + answer + "}")
    assert terminated and reward > 0 and info["verdict"]["correct"]


def test_module_does_not_import_torch():
    code = (
        "import sys, thinkgym.envs.markovian; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_undecodable_bytes_count_as_the_single_tokens_sampled():
    """A byte-level model can sample bytes that are not UTF-8; they decode to U+FFFD, which
    re-encodes as three tokens. The chunk is measured as sampled, not as re-encoded."""
    pytest.importorskip("transformers")
    from thinkgym.agents.models import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    env = MarkovianThinking(
        thinkgym.SaturnSATEnv(level=1), tok, chunk_size=64, carryover=32, head=8, max_chunks=4, eos_token=None
    )
    env.reset(seed=0)
    invalid = next(i for i in range(256) if tok.decode([i]) == "\ufffd")  # e.g. a lone continuation byte
    chunk = tok.decode([invalid] * 64)
    assert chunk == "\ufffd" * 64 and len(tok.encode(chunk, add_special_tokens=False)) > 64
    _, _, terminated, truncated, info = env.step(chunk)  # 64 sampled tokens: within chunk 1's budget
    assert not terminated and not truncated
    with pytest.raises(ValueError, match="limit is 32 tokens"):
        env.step("x" * 33)
