"""Generator-discriminator reranking and the discriminator's soft score from model logits (a tiny
random-weight Llama and a locally trained tokenizer: no downloads)."""

import random

import pytest

from thinkgym.agents.policies import Policy
from thinkgym.agents.sql_rerank import (
    PREFILL,
    HFDiscriminator,
    OracleDiscriminator,
    binary_score,
    rerank,
    rerank_eval,
    soft_score,
)
from thinkgym.envs.sql import Text2SQLEnv
from thinkgym.generators import sql as gen

# The paper's TEMP_REASONING_EVAL_SCHEMA (arXiv 2505.03786 code, utils/constants.py), verbatim.
PAPER_TEMPLATE = (
    "Determine whether the SQL query is correct or not for the given question. Provide final answer in JSON format "
    "with the key 'correct'.\n For this task do the following:\n- First, break down the query step by step. Use the "
    "Schema for this.\n- Then, determine if the query provides the answer to the given question.\nYou only need to "
    "determine in terms of correctness, if query is correct or not. Do not generate alternative query.\n\n"
    "### Schema:\n{}\n### Question:\n{}\n### SQL query:\n{}\n\n<think>\nOkay,"
)


def fenced(sql):
    return f"```sql\n{sql}\n```"


class Sampler(Policy):
    """A stand-in generator: each sample is the gold query (p=0.3), a corruption that changes the
    result, and optionally a query that does not run or a response without SQL."""

    name = "sampler"

    def __init__(self, seed=0, broken=True):
        self.rng, self.broken, self.wrong = random.Random(seed), broken, {}

    def wrong_queries(self, problem):
        if problem["id"] not in self.wrong:
            inst = gen.build_instance(problem["params"], random.Random(problem["metadata"]["seed"]))
            assert inst.gold == problem["answer"]
            self.wrong[problem["id"]] = [q for qs in gen.candidates(inst)[False].values() for q in qs]
        return self.wrong[problem["id"]]

    def act(self, observation, info):
        problem, r = info["problem"], self.rng.random()
        if r < 0.3:
            return fenced(problem["answer"])
        if self.broken and r < 0.4:
            return fenced("SELECT FROM WHERE")
        if self.broken and r < 0.5:
            return "I am not sure."
        return fenced(self.rng.choice(self.wrong_queries(problem)))


def test_soft_and_binary_scores_follow_the_paper():
    assert soft_score(True, 0.8) == 0.8
    assert soft_score(False, 0.8) == pytest.approx(0.2)
    assert soft_score(None, 0.8) == 0.5
    assert (binary_score(True), binary_score(False), binary_score(None)) == (1.0, 0.0, 0.5)


def test_rerank_prefers_executable_then_higher_score_then_earlier():
    assert rerank([0.2, 0.9, 0.9]) == 1
    assert rerank([0.2, 0.9, 0.5], executable=[True, False, True]) == 2
    assert rerank([0.5, 0.5]) == 0
    assert rerank([0.9, 0.1], executable=[False, False]) == 0


def test_oracle_reranking_reaches_best_of_n():
    oracle = OracleDiscriminator()
    rows = rerank_eval(Text2SQLEnv(), [1, 5, 7], Sampler(seed=1), oracle, n=4, episodes=8, seed=10)
    for row in rows:
        assert row["reranked_acc"] == row["best_of_n"], row
        assert row["best_of_n"] > row["mean_acc"], row
        assert row["disc_accuracy"] == 1.0 and row["no_sql_rate"] < 1
    assert sum(row["no_sql_rate"] for row in rows) > 0, "responses without SQL were sampled and ranked last"
    worst = rerank_eval(
        Text2SQLEnv(), [5], Sampler(seed=1), lambda p, s: [1 - x for x in oracle(p, s)], n=4, episodes=8, seed=10
    )[0]
    assert worst["reranked_acc"] <= worst["mean_acc"] and worst["disc_accuracy"] == 0.0


def test_uninformative_discriminator_keeps_the_first_sample():
    rows = rerank_eval(
        Text2SQLEnv(), [3], Sampler(seed=2, broken=False), lambda p, s: [0.5] * len(s), n=4, episodes=10, seed=0
    )
    assert rows[0]["reranked_acc"] == rows[0]["first_acc"]
    with pytest.raises(ValueError, match="n and episodes"):
        rerank_eval(Text2SQLEnv(), [1], Sampler(), OracleDiscriminator(), n=0)


# -- the soft score from a Hugging Face model -------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_lm():
    """A 2-layer, 32-wide random Llama and a byte-level BPE tokenizer trained here on a few lines."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = [
        '{"correct": true}',
        '{"correct": false}',
        "<think>\nOkay, the query is right.\n</think>",
        "SELECT name FROM customers WHERE city = 'Lyon'",
        "Determine whether the SQL query is correct",
    ] * 10
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=300, special_tokens=["<eos>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", pad_token="<pad>")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
    )
    model = transformers.LlamaForCausalLM(config).eval()
    return torch, model, tok


PROBLEM = gen.generate_discriminate(gen.check_params(gen.LEVELS[2], discriminate=True), 4)
THOUGHT = " the filter matches the question.\n</think>\n"


def test_prompt_and_prefill_reproduce_the_paper(tiny_lm):
    _, model, tok = tiny_lm
    meta = PROBLEM.metadata
    text = HFDiscriminator(model, tok).input_text(PROBLEM.prompt)
    assert text == PAPER_TEMPLATE.format(meta["schema_text"], meta["question"], meta["candidate"])


def _manual_p(torch, model, tok, prompt, response, word):
    """p of the token holding the first character of ``word`` in ``response``, by offsets."""
    context = tok(prompt + "\n" + PREFILL)["input_ids"]
    enc = tok(response, add_special_tokens=False, return_offsets_mapping=True)
    start = response.rindex(word)
    k = next(i for i, (a, b) in enumerate(enc["offset_mapping"]) if a <= start < b)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([context + enc["input_ids"]])).logits[0]
    return torch.softmax(logits[len(context) + k - 1], dim=-1)[enc["input_ids"][k]].item()


def test_soft_score_is_the_probability_of_the_judgement_token(tiny_lm):
    torch, model, tok = tiny_lm
    disc = HFDiscriminator(model, tok)
    yes, no = THOUGHT + '{"correct": true}', THOUGHT + '{"correct": false}'
    p_true = _manual_p(torch, model, tok, PROBLEM.prompt, yes, "true")
    p_false = _manual_p(torch, model, tok, PROBLEM.prompt, no, "false")
    assert 0 < p_true < 1 and 0 < p_false < 1
    assert disc.score_response(PROBLEM.prompt, yes) == pytest.approx(p_true, rel=1e-5)
    assert disc.score_response(PROBLEM.prompt, no) == pytest.approx(1 - p_false, rel=1e-5)
    assert disc.score_response(PROBLEM.prompt, THOUGHT + "It is fine.") == 0.5
    assert disc.score_response(PROBLEM.prompt, ' {"correct": true}') == 0.5, "still thinking: no answer yet"


def test_generated_judgement_scores_like_teacher_forcing(tiny_lm):
    torch, model, tok = tiny_lm
    response = THOUGHT + '{"correct": false}'
    forced = tok(response, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    width = len(tok(HFDiscriminator(model, tok).input_text(PROBLEM.prompt))["input_ids"])

    def allowed(batch_id, input_ids):
        return [forced[min(len(input_ids) - width, len(forced) - 1)]]

    disc = HFDiscriminator(model, tok, max_new_tokens=len(forced), prefix_allowed_tokens_fn=allowed)
    [(score, text)] = disc.judge([PROBLEM.prompt])
    assert text == PREFILL + response
    assert score == pytest.approx(disc.score_response(PROBLEM.prompt, response), rel=1e-4)
    assert score != 0.5
    binary = HFDiscriminator(model, tok, max_new_tokens=len(forced), prefix_allowed_tokens_fn=allowed, binary=True)
    assert binary.judge([PROBLEM.prompt])[0][0] == 0.0


def test_hf_discriminator_runs_inside_rerank_eval(tiny_lm):
    _, model, tok = tiny_lm
    disc = HFDiscriminator(model, tok, max_new_tokens=6, batch_size=3)
    scores = disc(PROBLEM, [PROBLEM.metadata["gold"], PROBLEM.metadata["candidate"], "SELECT 1"])
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    [row] = rerank_eval(Text2SQLEnv(), [1], Sampler(seed=3), disc, n=2, episodes=2)
    assert row["level"] == 1 and 0.0 <= row["reranked_acc"] <= row["best_of_n"] <= 1.0
    assert tok.padding_side == "right", "judge() restores the tokenizer's padding side"
