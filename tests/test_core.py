import hashlib
import json

import pytest

from thinkgym.core import Problem, Verdict, stable_id
from thinkgym.metrics import pass_at_k


def test_problem_round_trips_through_json():
    p = Problem(prompt="q", answer="a", params={"x": 1}, difficulty=2.5, family="demo", metadata={"m": [1, 2]})
    back = Problem.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p
    assert back.id == p.id and p.id.startswith("demo-")


def test_id_is_a_content_hash():
    a = Problem(prompt="q", answer="a", family="demo")
    assert a.id == Problem(prompt="q", answer="a", family="demo", difficulty=9).id
    assert a.id != Problem(prompt="q", answer="b", family="demo").id
    # the hash is of canonical JSON, so dict order does not matter and the value is fixed forever
    assert stable_id("f", {"b": 1, "a": 2}) == stable_id("f", {"a": 2, "b": 1})
    expected = hashlib.sha256(b'["f",{"a":2,"b":1}]').hexdigest()[:24]
    assert stable_id("f", {"a": 2, "b": 1}) == f"f-{expected}"


def test_from_dict_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown Problem field"):
        Problem.from_dict({"prompt": "q", "answer": "a", "family": "f", "bogus": 1})
    with pytest.raises(ValueError, match="lacks required"):
        Problem.from_dict({"prompt": "q"})
    with pytest.raises(TypeError):
        Problem.from_dict("not a dict")


def test_verdict_round_trip():
    v = Verdict(False, True, 0.0, "wrong_length", {"length": 3})
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict()))) == v


def _pass_at_k_by_enumeration(n, c, k):
    from itertools import combinations

    subsets = list(combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 1, 1), (5, 2, 3), (8, 3, 2), (12, 1, 10), (6, 6, 6), (7, 2, 6)])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_by_enumeration(n, c, k))


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="c"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="k must be"):
        pass_at_k(3, 1, 4)
