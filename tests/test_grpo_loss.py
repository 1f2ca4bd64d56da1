"""The GRPO-family losses against a direct, loop-by-loop computation of the paper equations
(objectives.md §10), value and gradient, on a fixed batch; the group shapers; and gradient
accumulation over micro-batches."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from thinkgym.agents.grpo.advantages import episode_advantages, has_variance, resolve_shaper  # noqa: E402
from thinkgym.agents.grpo.loss import collate, k3_kl, policy_loss, row_weights, token_logprobs  # noqa: E402
from thinkgym.agents.grpo.rollout import Episode, Segment  # noqa: E402

# A group of G = 4 episodes, one row each, of lengths 3, 5, 2, 4 tokens (padded to T = 5).
LENGTHS = [3, 5, 2, 4]
ADV = [1.3, -0.7, 0.4, -1.0]
L_MAX = 8  # Dr. GRPO's constant (max_new_tokens)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (len(LENGTHS), max(LENGTHS))
    mask = torch.zeros(shape)
    for i, n in enumerate(LENGTHS):
        mask[i, :n] = 1
    old = -torch.rand(shape, generator=g) * 2 - 0.1
    # ratios spread over [0.6, 1.45], so both clip edges are crossed for both signs of A
    log_ratio = torch.log(0.6 + 0.85 * torch.rand(shape, generator=g))
    logp = (old + log_ratio).requires_grad_(True)
    ref = old + 0.3 * torch.randn(shape, generator=g)
    entropy = (torch.rand(shape, generator=g) * 3).requires_grad_(True)
    return logp, old, ref, entropy, mask


def _surrogate(rho, a, eps_low, eps_high):
    return torch.minimum(rho * a, torch.clamp(rho, 1 - eps_low, 1 + eps_high) * a)


def _k3(lp, ref_lp):  # pi_ref/pi - log(pi_ref/pi) - 1, from the probabilities themselves
    p, p_ref = torch.exp(lp), torch.exp(ref_lp)
    return p_ref / p - torch.log(p_ref / p) - 1


def _direct(variant, logp, old, ref, entropy, *, eps_low, eps_high, beta=0.0, c_h=0.0):
    """-J of the papers, one token at a time."""
    G = len(LENGTHS)
    total_tokens = sum(LENGTHS)
    j = 0
    for i in range(G):
        inner = 0
        for t in range(LENGTHS[i]):
            rho = torch.exp(logp[i, t] - old[i, t])
            term = _surrogate(rho, ADV[i], eps_low, eps_high) - beta * _k3(logp[i, t], ref[i, t]) + c_h * entropy[i, t]
            inner = inner + term
        if variant == "grpo":  # DeepSeekMath Eq. 3: (1/G) sum_i (1/|o_i|) sum_t
            j = j + inner / (G * LENGTHS[i])
        elif variant == "dr_grpo":  # (1/G) sum_i sum_t / L_max
            j = j + inner / (G * L_MAX)
        else:  # DAPO: 1/sum|o_i| sum_i sum_t
            j = j + inner / total_tokens
    return -j


def _ours(variant, logp, old, ref, entropy, mask, **kw):
    weights = row_weights(mask, torch.arange(len(LENGTHS)), len(LENGTHS), variant, L_MAX)
    loss, _ = policy_loss(logp, old, torch.tensor(ADV), mask, weights, ref_logp=ref, entropy=entropy, **kw)
    return loss


CASES = [
    ("grpo", dict(eps_low=0.2, eps_high=0.2)),
    ("grpo", dict(eps_low=0.2, eps_high=0.2, beta=0.04)),
    ("dr_grpo", dict(eps_low=0.2, eps_high=0.2)),
    ("dapo", dict(eps_low=0.2, eps_high=0.28)),
    ("dapo", dict(eps_low=0.2, eps_high=0.28, beta=0.001, entropy_coef=0.001)),
    ("grpo", dict(eps_low=0.1, eps_high=0.3, entropy_coef=0.01)),
]


@pytest.mark.parametrize("variant,kw", CASES)
def test_loss_and_gradient_match_the_equations(variant, kw):
    logp, old, ref, entropy, mask = _batch()
    ours = _ours(variant, logp, old, ref, entropy, mask, **kw)
    grads_ours = torch.autograd.grad(ours, [logp, entropy], allow_unused=True)
    direct = _direct(
        variant,
        logp,
        old,
        ref,
        entropy,
        eps_low=kw["eps_low"],
        eps_high=kw["eps_high"],
        beta=kw.get("beta", 0.0),
        c_h=kw.get("entropy_coef", 0.0),
    )
    grads_direct = torch.autograd.grad(direct, [logp, entropy], allow_unused=True)
    assert ours.item() == pytest.approx(direct.item(), rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grads_ours[0] * mask, grads_direct[0] * mask, rtol=1e-5, atol=1e-7)
    if kw.get("entropy_coef"):
        torch.testing.assert_close(grads_ours[1] * mask, grads_direct[1] * mask, rtol=1e-5, atol=1e-7)
    # padding never gets a gradient
    assert torch.all(grads_ours[0][mask == 0] == 0)


def test_the_variants_differ_on_this_batch():
    logp, old, ref, entropy, mask = _batch()
    values = {
        v: _ours(v, logp, old, ref, entropy, mask, eps_low=0.2, eps_high=0.2).item()
        for v in ("grpo", "dr_grpo", "dapo")
    }
    assert len({round(v, 6) for v in values.values()}) == 3


def test_clip_higher_zeroes_the_gradient_exactly_where_the_clip_binds():
    logp, old, ref, entropy, mask = _batch(seed=3)
    loss = _ours("dapo", logp, old, ref, entropy, mask, eps_low=0.2, eps_high=0.28)
    (grad,) = torch.autograd.grad(loss, [logp])
    rho = torch.exp(logp - old).detach()
    adv = torch.tensor(ADV).unsqueeze(-1).expand_as(rho)
    binds = ((adv > 0) & (rho > 1.28)) | ((adv < 0) & (rho < 0.8))
    assert binds[mask == 1].any() and (~binds)[mask == 1].any()
    assert torch.all(grad[binds & (mask == 1)] == 0)
    assert torch.all(grad[~binds & (mask == 1)] != 0)


def test_k3_is_the_formula_nonnegative_and_zero_at_equality():
    logp = torch.log(torch.tensor([0.1, 0.5, 0.9]))
    ref = torch.log(torch.tensor([0.3, 0.5, 0.2]))
    expected = [0.3 / 0.1 - math.log(3) - 1, 0.0, 0.2 / 0.9 - math.log(0.2 / 0.9) - 1]
    assert k3_kl(logp, ref).tolist() == pytest.approx(expected, abs=1e-6)
    assert torch.all(k3_kl(torch.randn(100), torch.randn(100)) >= 0)


def test_beta_needs_a_reference():
    logp, old, _, _, mask = _batch()
    w = row_weights(mask, torch.arange(4), 4, "grpo", L_MAX)
    with pytest.raises(ValueError, match="ref_logp"):
        policy_loss(logp, old, torch.tensor(ADV), mask, w, eps_low=0.2, eps_high=0.2, beta=0.1)


def test_grpo_weights_average_over_an_episodes_rows_together():
    """A Markovian episode split into chunk rows counts as one o_i: |o_i| sums its rows."""
    mask = torch.tensor([[1.0, 1, 0], [1, 0, 0], [1, 1, 0]])
    episode = torch.tensor([0, 0, 1])  # rows 0 and 1: chunks of episode 0 (3 tokens); row 2: episode 1 (2 tokens)
    w = row_weights(mask, episode, 2, "grpo", 10)
    assert w.tolist() == pytest.approx([1 / 6, 1 / 6, 1 / 4])
    assert (mask * row_weights(mask, episode, 2, "dapo", 10).unsqueeze(-1)).sum().item() == pytest.approx(1.0)
    assert (mask * row_weights(mask, episode, 2, "dr_grpo", 10).unsqueeze(-1)).sum().item() == pytest.approx(5 / 20)
    with pytest.raises(ValueError, match="loss_type"):
        row_weights(mask, episode, 2, "ppo", 10)


def test_micro_batches_accumulate_to_the_full_batch_gradient():
    from thinkgym.agents.models import load_model

    model, _ = load_model("tiny", seed=1)
    model.eval()
    g = torch.Generator().manual_seed(0)
    rows = [
        (
            torch.randint(0, 256, (5,), generator=g).tolist(),
            torch.randint(0, 256, (n,), generator=g).tolist(),
            [1] * (n - 1) + [0],
        )
        for n in (3, 6, 4, 7, 2)
    ]
    batch = collate(rows, [0.5, -1.0, 1.5, 0.2, -0.3], [0, 1, 1, 2, 3], pad_id=0)
    weights = row_weights(batch.mask, batch.episode, 4, "grpo", 8)

    def grads(splits):
        model.zero_grad()
        for start, stop in splits:
            mb = batch.rows(start, stop)
            logp, entropy = token_logprobs(model, mb)
            loss, _ = policy_loss(
                logp,
                (logp - 0.1).detach(),
                mb.advantages,
                mb.mask,
                weights[start:stop],
                eps_low=0.2,
                eps_high=0.28,
                entropy=entropy,
                entropy_coef=0.01,
            )
            loss.backward()
        return [p.grad.clone() for p in model.parameters()]

    full, split = grads([(0, 5)]), grads([(0, 2), (2, 3), (3, 5)])
    for a, b in zip(full, split, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_collate_masks_exactly_the_trained_completion_tokens():
    batch = collate([([10, 11], [20, 21, 22], [1, 0, 1]), ([12], [23], [1])], [1.0, 2.0], [0, 1], pad_id=0)
    # prompts left-padded, completions right-padded: completion token j sits at column P + j
    assert batch.input_ids.tolist() == [[10, 11, 20, 21, 22], [0, 12, 23, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1, 1], [0, 1, 1, 0, 0]]
    # row 0 trains on 20 and 22, not on 21 (env-written); row 1 on 23
    assert batch.mask.tolist() == [[1, 0, 1], [1, 0, 0]]
    # a micro-batch drops the padding columns none of its rows uses
    second = batch.rows(1, 2)
    assert second.input_ids.tolist() == [[12, 23]] and second.mask.tolist() == [[1]]


def test_logprobs_are_those_of_the_unpadded_sequence():
    from thinkgym.agents.models import load_model

    model, _ = load_model("tiny", seed=2)
    model.eval()
    rows = [([5, 6, 7, 8], [9, 10], [1, 1]), ([11], [12, 13, 14], [1, 0, 1])]
    batch = collate(rows, [1.0, 1.0], [0, 1], pad_id=0)
    logp, entropy = token_logprobs(model, batch, temperature=0.7)
    for r, (prompt, completion, _) in enumerate(rows):
        with torch.no_grad():
            alone = torch.log_softmax(model(torch.tensor([prompt + completion])).logits[0] / 0.7, -1)
        for j, token in enumerate(completion):
            expected = alone[len(prompt) - 1 + j, token]
            assert logp[r, j].item() == pytest.approx(expected.item(), abs=1e-5)
            probs = alone[len(prompt) - 1 + j].exp()
            assert entropy[r, j].item() == pytest.approx(-(probs * probs.log()).sum().item(), abs=1e-4)


# ---- group shapers ---------------------------------------------------------------------


def _group(rewards, correct=None):
    correct = correct or [r > 0 for r in rewards]
    return [
        Episode(0, "p", "", [Segment([1], [2, 3], [1, 1])], reward=r, correct=c)
        for r, c in zip(rewards, correct, strict=True)
    ]


def test_builtin_shapers_follow_their_papers():
    rewards = [1.0, 0.0, 0.0, -1.0]
    grpo = episode_advantages([_group(rewards)], resolve_shaper(None, "grpo"))[0]
    r = np.array(rewards)
    assert grpo == pytest.approx((r - r.mean()) / (r.std(ddof=1) + 1e-6))
    dr = episode_advantages([_group(rewards)], resolve_shaper(None, "dr_grpo"))[0]
    assert dr == pytest.approx(r - r.mean())
    assert resolve_shaper(None, "dapo") is resolve_shaper("grpo", "grpo")
    mgpo = episode_advantages([_group(rewards)], resolve_shaper("mgpo", "grpo"), lam=1.0)[0]
    p = 0.25  # one correct in four
    weight = math.exp(-(p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)))
    assert mgpo == pytest.approx(weight * grpo)


def test_a_custom_shaper_gets_the_group_information():
    seen = {}

    def shaper(rewards, *, correct, lengths, episodes, scale):
        seen.update(correct=correct.tolist(), lengths=lengths.tolist(), n=len(episodes))
        return scale * rewards

    adv = episode_advantages([_group([1.0, 0.0])], shaper, scale=3.0)[0]
    assert adv.tolist() == [3.0, 0.0]
    assert seen == {"correct": [True, False], "lengths": [2, 2], "n": 2}
    with pytest.raises(ValueError, match="shape"):
        episode_advantages([_group([1.0, 0.0])], lambda rewards, **_: rewards[:1])


def test_shaper_by_import_path_and_bad_names():
    assert resolve_shaper("thinkgym.rewards.group:dr_grpo_advantages", "grpo")([1.0, 3.0]).tolist() == [-1.0, 1.0]
    with pytest.raises(ValueError, match="advantage"):
        resolve_shaper("nonsense", "grpo")


def test_zero_variance_groups_are_recognised():
    assert not has_variance(_group([1.0, 1.0, 1.0]))
    assert not has_variance(_group([-1.0, -1.0]))
    assert has_variance(_group([0.0, 1.0]))
