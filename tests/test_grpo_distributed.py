"""Data-parallel GRPO learners (thinkgym.agents.grpo.distributed) on a local Ray cluster, CPU,
gloo: an update on two learners (DDP, and FSDP2 with ``shard``) leaves the parameters of the
in-process update, for every loss normalisation; groups stay whole on one learner; a
``--num-learners 2`` run resumed logs what an uninterrupted one-learner run logs; a sharded
(``--shard``) checkpoint holds one DCP file per rank and resumes exactly with 2 or 3 sharded
learners, 2 DDP learners or the in-process one; ``--learner-rollouts`` samples what as many Ray
rollout workers sample."""

import argparse
import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")
pytest.importorskip("transformers")

from thinkgym.agents.grpo.cli import add_commands  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.distributed import LearnerGroup, shard_rows, split_groups  # noqa: E402
from thinkgym.agents.grpo.loss import collate  # noqa: E402
from thinkgym.agents.grpo.update import update  # noqa: E402
from thinkgym.agents.models import load_model  # noqa: E402

SAT = ["--env", "Saturn-SAT-v0", "--env-kwargs", '{"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"}']


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def random_batch(seed, group_sizes, vocab):
    """Rows of random prompts and completions of random lengths (one episode of two rows, to
    check that an episode's rows stay together), with random advantages."""
    rng = np.random.default_rng(seed)
    rows, adv, episodes = [], [], []
    for index in range(sum(group_sizes)):
        for _ in range(1 + (index % 5 == 0)):
            completion = rng.integers(0, vocab, rng.integers(1, 9)).tolist()
            mask = [int(m) for m in rng.random(len(completion)) < 0.8]
            mask[0] = 1
            rows.append((rng.integers(0, vocab, rng.integers(2, 7)).tolist(), completion, mask))
            episodes.append(index)
        adv += [float(rng.normal())] * (1 + (index % 5 == 0))
    return collate(rows, adv, episodes, pad_id=0)


def params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_shards_keep_groups_whole_and_balance_tokens():
    sizes = [3, 3, 2, 3, 3]
    batch = random_batch(0, sizes, 50)
    ranges = shard_rows(batch, sizes, 2)
    assert ranges[0][0] == 0 and ranges[-1][1] == batch.mask.shape[0] and ranges[0][1] == ranges[1][0]
    group_of_episode = np.repeat(np.arange(len(sizes)), sizes)
    for (a, b), (c, d) in zip(ranges, ranges[1:], strict=False):  # no group on both sides of a cut
        assert not set(group_of_episode[batch.episode[a:b]]) & set(group_of_episode[batch.episode[c:d]])
    assert all(b > a for a, b in shard_rows(batch, sizes, 5))  # as many learners as groups: none empty
    small = random_batch(1, [2], 50)
    assert [b - a for a, b in shard_rows(small, [2], 3)].count(0) == 2  # fewer groups: empty shards


@pytest.mark.parametrize("shard", [False, True], ids=["ddp", "fsdp2"])
def test_two_learners_match_one_learner_update(local_ray, shard):
    """Three updates, one per loss normalisation (grpo, dapo, dr_grpo); micro-batches of 3 rows,
    so the two shards have different numbers of micro-batches (zero-weight fillers)."""
    cfg = GRPOConfig(lr=1e-3, micro_batch_size=3, max_new_tokens=8, entropy_coef=0.01, num_learners=2, shard=shard)
    one, tokenizer = load_model("tiny", seed=3)
    two = load_model("tiny", seed=3)[0]
    opt_one = torch.optim.AdamW(one.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    opt_two = torch.optim.AdamW(two.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    learners = LearnerGroup(cfg, two, opt_two)
    try:
        assert learners.backend == "gloo"
        for step, loss_type in enumerate(["grpo", "dapo", "dr_grpo"]):
            sizes = [4, 4, 3, 4]
            batch = random_batch(step, sizes, len(tokenizer))
            learners.cfg = one_cfg = GRPOConfig(**{**cfg.to_dict(), "loss_type": loss_type})
            expected = update(one, None, opt_one, batch, sum(sizes), one_cfg, torch.device("cpu"))
            got = learners.update(two, batch, sizes)
            moved = (params(one) - params(load_model("tiny", seed=3)[0])).norm()
            assert moved > 1e-3  # the update did change the weights
            rel = float((params(one) - params(two)).norm() / params(one).norm())
            assert rel < 1e-5, (loss_type, rel)
            for key in ("loss", "grad_norm", "entropy", "clip_fraction"):
                assert got[key] == pytest.approx(expected[key], rel=1e-4, abs=1e-7), key
        # the optimiser state comes back in torch.optim form, equal to the in-process one
        state = learners.optimizer_state()
        for index, entry in opt_one.state_dict()["state"].items():
            torch.testing.assert_close(state["state"][index]["exp_avg_sq"], entry["exp_avg_sq"], rtol=1e-4, atol=1e-12)
    finally:
        learners.close()


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="thinkgym")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def read_metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_resume_with_two_learners_logs_what_one_learner_logs(local_ray, tmp_path):
    common = [*SAT, "--model", "tiny", "--group-size", "3", "--prompts-per-step", "2", "--max-new-tokens", "6"]
    # the tiny model's answers all fail (equal rewards, advantages 0), so an entropy bonus makes
    # the loss and the updates non-zero: the weights, and so the samples, change every step; the
    # LR warms up over 4 steps, so the checkpoint must keep the LR of the step after it
    common += ["--lr", "3e-3", "--warmup-steps", "4", "--entropy-coef", "0.05", "--eval-every", "0"]
    common += ["--save-every", "2", "--no-progress"]
    two, one = tmp_path / "two", tmp_path / "one"
    assert run_cli(["train", *common, "--out", str(two), "--num-learners", "2", "--steps", "3"]) == 0
    assert run_cli(["train", *common, "--out", str(two), "--num-learners", "2", "--steps", "5", "--resume"]) == 0
    assert run_cli(["train", *common, "--out", str(one), "--steps", "5"]) == 0
    got, expected = read_metrics(two), read_metrics(one)
    assert [m["step"] for m in got] == [1, 2, 3, 4, 5]
    assert [m["reward_mean"] for m in got] == [m["reward_mean"] for m in expected]
    assert [m["loss"] for m in got] == pytest.approx([m["loss"] for m in expected], rel=1e-4, abs=1e-7)
    assert len({m["loss"] for m in expected}) > 1  # the runs did learn something step to step


SHARD_ARGS = [*SAT, "--model", "tiny", "--group-size", "3", "--prompts-per-step", "2", "--max-new-tokens", "6"]
# LR warmup over 4 steps: a resumed run must get the LR of the step after the checkpoint
SHARD_ARGS += ["--lr", "3e-3", "--warmup-steps", "4", "--entropy-coef", "0.05", "--eval-every", "0"]
SHARD_ARGS += ["--save-every", "3", "--no-progress"]


@pytest.fixture(scope="module")
def sharded_run(local_ray, tmp_path_factory):
    """(folder of a 3-step ``--num-learners 2 --shard`` run, metrics of the uninterrupted 5-step
    sharded run)."""
    tmp = tmp_path_factory.mktemp("sharded")
    sharded = ["--num-learners", "2", "--shard"]
    assert run_cli(["train", *SHARD_ARGS, *sharded, "--out", str(tmp / "whole"), "--steps", "5"]) == 0
    assert run_cli(["train", *SHARD_ARGS, *sharded, "--out", str(tmp / "two"), "--steps", "3"]) == 0
    expected = read_metrics(tmp / "whole")
    assert len({m["loss"] for m in expected}) > 1  # the run learned something step to step
    return tmp / "two", expected


def resume_sharded(sharded_run, out, learners):
    """Resumes a copy of the 3-step sharded run to step 5 with ``learners``; asserts it logs what
    the uninterrupted run logs."""
    two, expected = sharded_run
    shutil.copytree(two, out)
    assert run_cli(["train", *SHARD_ARGS, *learners, "--out", str(out), "--steps", "5", "--resume"]) == 0
    got = read_metrics(out)
    assert [m["step"] for m in got] == [1, 2, 3, 4, 5]
    assert [m["reward_mean"] for m in got] == [m["reward_mean"] for m in expected]
    assert [m["lr"] for m in got] == pytest.approx([m["lr"] for m in expected], rel=1e-12)
    assert [m["loss"] for m in got] == pytest.approx([m["loss"] for m in expected], rel=1e-4, abs=1e-7)


def test_sharded_checkpoint_is_per_rank_and_resumes_exactly(sharded_run, tmp_path):
    """FSDP2 over 2 learners for 3 steps: the checkpoint holds one DCP file per rank and no
    gathered optimiser state; resumed to step 5 with 2 sharded learners, and with the in-process
    learner (one process reads both shards), each logs what an uninterrupted run logs."""
    checkpoint = sharded_run[0] / "checkpoints" / "step-000003"
    shards = sorted(p.name for p in (checkpoint / "shards").iterdir())
    assert shards == [".metadata", "__0_0.distcp", "__1_0.distcp"]  # one file per rank, nothing gathered
    state = torch.load(checkpoint / "state.pt", weights_only=False)
    assert state["optimizer"] is None and state["sharded"]["num_learners"] == 2
    resume_sharded(sharded_run, tmp_path / "two", ["--num-learners", "2", "--shard"])
    resume_sharded(sharded_run, tmp_path / "one", ["--num-learners", "1"])


def test_sharded_checkpoint_resumes_on_three_sharded_and_two_ddp_learners(sharded_run, tmp_path):
    """DCP reshards the 2 ranks' files to 3 sharded learners; DDP learners get the state the driver
    reads from both shards."""
    resume_sharded(sharded_run, tmp_path / "three", ["--num-learners", "3", "--learner-cpus", "0.5", "--shard"])
    resume_sharded(sharded_run, tmp_path / "ddp", ["--num-learners", "2"])


def test_split_groups_keeps_groups_whole():
    seeds = [7, 7, 7, 9, 9, 9, 4, 4, 4]
    assert split_groups(seeds, 2) == [[7, 7, 7, 9, 9, 9], [4, 4, 4]]
    assert split_groups(seeds, 3) == [[7, 7, 7], [9, 9, 9], [4, 4, 4]]
    assert split_groups([5, 6], 3) == [[5], [6], []]  # fewer groups than learners: one idles


def test_learner_rollouts_sample_what_rollout_workers_sample(local_ray, tmp_path):
    """``--learner-rollouts`` with 2 DDP learners logs what the in-process learner logs with 2 Ray
    rollout workers: both cut the step's 2 groups into the same two chunks and sample chunk r with
    step_seed(seed, r). The final checkpoint's weights agree too: the driver's copy, which lags
    the learners between checkpoints, is fetched before saving."""
    common = [*SAT, "--model", "tiny", "--group-size", "3", "--prompts-per-step", "2", "--max-new-tokens", "6"]
    common += ["--lr", "3e-3", "--entropy-coef", "0.05", "--eval-every", "0", "--no-progress", "--steps", "4"]
    learners, workers = tmp_path / "learners", tmp_path / "workers"
    assert run_cli(["train", *common, "--num-learners", "2", "--learner-rollouts", "--out", str(learners)]) == 0
    assert run_cli(["train", *common, "--num-rollout-workers", "2", "--out", str(workers)]) == 0
    got, expected = read_metrics(learners), read_metrics(workers)
    assert [m["step"] for m in got] == [1, 2, 3, 4]
    assert [m["reward_mean"] for m in got] == [m["reward_mean"] for m in expected]
    assert [m["response_length"] for m in got] == [m["response_length"] for m in expected]
    assert [m["loss"] for m in got] == pytest.approx([m["loss"] for m in expected], rel=1e-4, abs=1e-7)
    assert len({m["response_length"] for m in expected}) > 1  # the samples did change step to step
    final = [load_model(out / "checkpoints" / "step-000004" / "model")[0] for out in (learners, workers)]
    start = params(load_model("tiny")[0])
    assert (params(final[1]) - start).norm() > 1e-3  # four updates moved the weights
    assert float((params(final[0]) - params(final[1])).norm() / params(final[1]).norm()) < 1e-5


def test_bad_learner_settings_are_refused_with_the_fix(local_ray):
    with pytest.raises(ValueError, match="shard .* needs num_learners > 1"):
        GRPOConfig(shard=True)
    with pytest.raises(ValueError, match="learner_rollouts .* needs num_learners > 1 and DDP"):
        GRPOConfig(num_learners=2, shard=True, learner_rollouts=True)
    with pytest.raises(ValueError, match="learner_rollouts: .* drop --num-rollout-workers"):
        GRPOConfig(num_learners=2, learner_rollouts=True, num_rollout_workers=1)
    with pytest.raises(ValueError, match="num_learners must be >= 1, got 0"):
        GRPOConfig(num_learners=0)
    model = load_model("tiny")[0]
    optimizer = torch.optim.AdamW(model.parameters())
    with pytest.raises(ValueError, match=r"need 3 CPUs, but the Ray cluster has 2; use fewer learners"):
        LearnerGroup(GRPOConfig(num_learners=3), model, optimizer)
