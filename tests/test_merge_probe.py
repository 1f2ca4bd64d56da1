"""VibeThinker's checkpoint tools (issue 22): ``thinkgym sft --save-every`` keeps loadable
checkpoints, ``thinkgym merge`` is the exact weighted average and refuses mismatched models, and
``thinkgym probe`` picks per sub-domain the checkpoint with the highest measured pass@k.

The probe test uses checkpoints of genuinely different skill: the untrained tiny model (it cannot
even write ``\\boxed{}``) and the same model after a short SFT on number_theory (gcds and divisor
counts, a few distinct answers), probed on held-out problems of number_theory and linear_system.
"""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from thinkgym.agents.merge import merge_models  # noqa: E402
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer, load_model  # noqa: E402
from thinkgym.cli import main  # noqa: E402
from thinkgym.experiments.probe import best_checkpoints, paired_difference, probe_problems  # noqa: E402
from thinkgym.metrics import pass_at_k  # noqa: E402

PROBE_ENV = ["--env", "Math-RLVR-v0", "--env-kwargs", '{"mixture": {"number_theory": 1, "linear_system": 1}}']


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def save_tiny(folder, *, seed=0, tokenizer=None, **overrides):
    tokenizer = tokenizer or build_tiny_tokenizer()
    build_tiny_model(len(tokenizer), seed=seed, **overrides).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def state(folder):
    return load_model(folder)[0].state_dict()


# ---- merge -----------------------------------------------------------------------------


def test_merged_weights_are_the_normalised_weighted_average(tmp_path, capsys):
    a, b, c = (save_tiny(tmp_path / name, seed=seed) for name, seed in (("a", 0), ("b", 1), ("c", 2)))
    assert main(["merge", str(a), str(b), str(c), "--weights", "1,2,5", "--out", str(tmp_path / "m")]) == 0
    assert "weights [0.125, 0.25, 0.625]" in capsys.readouterr().out
    merged, sa, sb, sc = state(tmp_path / "m"), state(a), state(b), state(c)
    assert set(merged) == set(sa)
    for name, tensor in merged.items():
        expected = (0.125 * sa[name].double() + 0.25 * sb[name].double() + 0.625 * sc[name].double()).float()
        assert torch.equal(tensor, expected), name
    assert not torch.equal(merged["model.embed_tokens.weight"], sa["model.embed_tokens.weight"])
    recorded = json.loads((tmp_path / "m" / "merge.json").read_text())
    assert recorded["weights"] == [0.125, 0.25, 0.625] and len(recorded["sources"]) == 3

    merge_models([a, b], tmp_path / "equal")  # no weights: equal ones
    sm = state(tmp_path / "equal")
    for name, tensor in sm.items():
        assert torch.equal(tensor, (0.5 * sa[name].double() + 0.5 * sb[name].double()).float()), name


@pytest.mark.parametrize(
    ("make_b", "message"),
    [
        (lambda d: save_tiny(d, hidden_size=32), "config key 'hidden_size' is 32"),
        (lambda d: save_tiny(d, num_layers=3), "config key 'num_hidden_layers' is 3"),
        (lambda d: save_tiny(d, tokenizer=_other_template()), "tokenizer of"),
        (lambda d: save_tiny(d, tokenizer=_other_eos()), "tokenizer of"),
    ],
    ids=["hidden-size", "layers", "chat-template", "special-tokens"],
)
def test_merge_refuses_mismatched_models_with_one_line(tmp_path, capsys, make_b, message):
    a = save_tiny(tmp_path / "a")
    b = make_b(tmp_path / "b")
    capsys.readouterr()  # drop what saving the models printed
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("thinkgym merge: error: cannot merge: ") and message in err and "\n" not in err
    assert not (tmp_path / "m").exists()


def _other_template():
    tok = build_tiny_tokenizer()
    tok.chat_template = tok.chat_template.replace("<|im_start|>assistant", "<|im_start|>model")
    return tok


def _other_eos():
    tok = build_tiny_tokenizer()
    tok.eos_token = "<|im_end|>"  # same vocabulary and config, another end-of-sequence token
    return tok


@pytest.mark.parametrize(
    ("weights", "message"), [("1,-1", "finite and >= 0"), ("1", "1 value(s) for 2"), ("0,0", "positive sum")]
)
def test_merge_refuses_bad_weights(tmp_path, capsys, weights, message):
    a, b = save_tiny(tmp_path / "a"), save_tiny(tmp_path / "b", seed=1)
    assert main(["merge", str(a), str(b), "--weights", weights, "--out", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # not numbers: argparse's usage error
        main(["merge", str(a), str(b), "--weights", "a,b", "--out", str(tmp_path / "m")])
    assert "0.5,0.5" in capsys.readouterr().err


def test_merge_refuses_a_non_model_folder_and_a_full_out(tmp_path, capsys):
    a = save_tiny(tmp_path / "a")
    (tmp_path / "empty").mkdir()
    assert main(["merge", str(a), str(tmp_path / "empty"), "--out", str(tmp_path / "m")]) == 2
    assert "is not a model folder" in capsys.readouterr().err
    assert main(["merge", str(a), str(a), "--out", str(a)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err


# ---- sft --save-every, then probe ------------------------------------------------------


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory):
    """60 SFT steps on number_theory with a checkpoint every 30, plus the untrained model as
    step 0 (the SFT's own initial weights: the tiny model of seed 0)."""
    out = tmp_path_factory.mktemp("sft")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    argv = ["sft", "--env", "Math-RLVR-v0", "--env-kwargs", '{"family": "number_theory"}', "--steps", "60"]
    argv += ["--batch-size", "16", "--lr", "3e-3", "--warmup-steps", "10", "--save-every", "30"]
    argv += ["--eval-problems", "100", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    torch.set_num_threads(threads)
    model, tokenizer = load_model("tiny", seed=0)
    model.save_pretrained(out / "checkpoints" / "step-000000")
    tokenizer.save_pretrained(out / "checkpoints" / "step-000000")
    return out


def test_sft_save_every_writes_loadable_checkpoints(sft_run):
    names = sorted(p.name for p in (sft_run / "checkpoints").iterdir())
    assert names == ["step-000000", "step-000030", "step-000060"]
    final = state(sft_run / "model")
    mid, last = state(sft_run / "checkpoints" / "step-000030"), state(sft_run / "checkpoints" / "step-000060")
    assert all(torch.equal(last[n], final[n]) for n in final)  # the last checkpoint is the final model
    assert not torch.equal(mid["model.embed_tokens.weight"], final["model.embed_tokens.weight"])
    tokenizer = load_model(sft_run / "checkpoints" / "step-000030")[1]
    assert tokenizer.decode(tokenizer("\\boxed{12}")["input_ids"]) == "\\boxed{12}"


def test_probe_picks_the_checkpoint_with_the_highest_measured_pass_at_k(sft_run, tmp_path, capsys):
    out = tmp_path / "probe"
    argv = ["probe", "--checkpoints", str(sft_run), *PROBE_ENV, "--by", "family", "--k", "2", "--samples", "4"]
    argv += ["--problems", "12", "--max-new-tokens", "12", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "probe.json").read_text())
    rows = result["rows"]
    assert {(r["checkpoint"], r["subdomain"]) for r in rows} == {
        (c, d) for c in ("step-000000", "step-000030", "step-000060") for d in ("linear_system", "number_theory")
    }
    for domain in ("linear_system", "number_theory"):
        mine = [r for r in rows if r["subdomain"] == domain]
        top = max(r["pass@2"] for r in mine)
        leaders = [r for r in mine if r["pass@2"] == top]
        top1 = max(r["pass@1"] for r in leaders)
        expected = min((r for r in leaders if r["pass@1"] == top1), key=lambda r: r["step"])["checkpoint"]
        assert result["best"][domain]["checkpoint"] == expected
        assert f"- {domain}: {expected}" in printed
    # genuinely different skill: SFT beats the untrained model on number_theory ...
    by = {(r["checkpoint"], r["subdomain"]): r for r in rows}
    assert by[("step-000000", "number_theory")]["pass@2"] == 0.0
    assert result["best"]["number_theory"]["checkpoint"] != "step-000000"
    assert by[(result["best"]["number_theory"]["checkpoint"], "number_theory")]["pass@2"] > 0.0
    # ... while no checkpoint solves a linear system (tuples), so the tie goes to the earliest
    assert all(r["pass@2"] == 0.0 for r in rows if r["subdomain"] == "linear_system")
    assert result["best"]["linear_system"]["checkpoint"] == "step-000000"
    for r in rows:  # the Wilson interval holds the estimate
        assert r["pass@2_lo"] <= r["pass@2"] <= r["pass@2_hi"]
    assert (out / "probe.png").stat().st_size > 0 and (out / "probe.csv").exists()
    # the problems are held out: 12 per family from the first `scanned` held-out seeds, within
    # the 100 the SFT run skipped
    assert result["scanned"] <= 100 and all(len(s) == 12 for s in result["seeds"].values())


def test_probe_refuses_problems_the_run_may_have_trained_on(sft_run, tmp_path, capsys):
    argv = ["probe", "--checkpoints", str(sft_run), *PROBE_ENV, "--problems", "80", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "eval_problems=100" in capsys.readouterr().err


def test_best_checkpoints_tie_breaks():
    rows = [
        {"checkpoint": "step-000010", "step": 10, "subdomain": "x", "pass@4": 0.5, "pass@1": 0.2},
        {"checkpoint": "step-000020", "step": 20, "subdomain": "x", "pass@4": 0.5, "pass@1": 0.3},
        {"checkpoint": "step-000030", "step": 30, "subdomain": "x", "pass@4": 0.4, "pass@1": 0.4},
        {"checkpoint": "step-000010", "step": 10, "subdomain": "y", "pass@4": 0.7, "pass@1": 0.1},
        {"checkpoint": "step-000020", "step": 20, "subdomain": "y", "pass@4": 0.7, "pass@1": 0.1},
        {"checkpoint": "step-000030", "step": 30, "subdomain": "y", "pass@4": 0.6, "pass@1": 0.3},
    ]
    best = best_checkpoints(rows, 4)
    assert best["x"]["checkpoint"] == "step-000020"  # pass@k tie: higher pass@1
    assert best["y"]["checkpoint"] == "step-000010"  # full tie: the earlier checkpoint
    assert best_checkpoints(list(reversed(rows)), 4) == best  # independent of row order


def test_probe_problems_are_held_out_and_split_by_family():
    groups, scanned = probe_problems(["Math-RLVR-v0"], {"mixture": {"counting": 1, "fractions": 1}}, "family", 5)
    assert sorted(groups) == ["counting", "fractions"] and all(len(s) == 5 for _, s in groups.values())
    seeds = sorted(s for _, group in groups.values() for s in group)
    assert seeds[0] >= 2**62 and seeds[-1] == 2**62 + scanned - 1
    later, _ = probe_problems(["Math-RLVR-v0"], {"mixture": {"counting": 1, "fractions": 1}}, "family", 5, skip=scanned)
    assert not set(seeds) & {s for _, group in later.values() for s in group}
    assert pass_at_k(4, 1, 2) == 0.5  # the estimator the rows use (1 - C(3,2)/C(4,2))
    by_env, reach = probe_problems(["Math-RLVR-v0", "Saturn-SAT-v0"], None, "env", 3, skip=2)
    assert by_env == {e: (e, [2**62 + 2, 2**62 + 3, 2**62 + 4]) for e in ("Math-RLVR-v0", "Saturn-SAT-v0")}
    assert reach == 5
    with pytest.raises(ValueError, match="--by family splits one env"):
        probe_problems(["Math-RLVR-v0", "Saturn-SAT-v0"], None, "family", 3)


def test_paired_difference_is_the_mean_per_problem_change():
    # pass@2 from 4 samples of counts 0..4 is 0, 1/2, 5/6, 1, 1
    mean, lo, hi = paired_difference([0, 1, 2, 4], [1, 1, 4, 4], samples=4, k=2)
    diffs = [0.5, 0.0, 1 / 6, 0.0]
    assert mean == pytest.approx(sum(diffs) / 4) and lo < mean < hi
    assert paired_difference([1, 2], [1, 2], samples=4, k=2) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same non-empty problems"):
        paired_difference([1], [1, 2], samples=4, k=2)
