"""The OpenAI-compatible endpoint policy against a real local HTTP server (127.0.0.1 only).

The server stands in for vLLM/SGLang: it implements /v1/models and /v1/chat/completions, and
"answers" a SAT prompt by parsing the instance out of the prompt text and solving it with pysat,
so a correct verdict proves the prompt went over the wire and the answer came back intact.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from thinkgym.agents.openai_policy import EndpointError, OpenAIPolicy
from thinkgym.experiments.sweep import sweep
from thinkgym.generators.sat import solve

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _answer(prompt: str) -> str:
    instance = json.loads(prompt.rstrip().splitlines()[-1])
    clauses = []
    for clause in instance["clause"].split(" & "):
        lits, neg = [], False
        for ch in clause:
            if ch == "!":
                neg = True
            else:
                lits.append(-(LETTERS.index(ch) + 1) if neg else LETTERS.index(ch) + 1)
                neg = False
        clauses.append(lits)
    return f"<think>solving</think> \\boxed{{{solve(clauses, instance['k'])}}}"


class Server:
    def __init__(self, fail_first: int = 0, status: int = 503):
        self.requests, self.fail_first, self.status = [], fail_first, status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"data": [{"id": "stand-in-model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self._send(outer.status, {"error": "busy"}, [("Retry-After", "0")])
                    return
                text = _answer(body["messages"][-1]["content"])
                self._send(
                    200,
                    {
                        "choices": [{"message": {"role": "assistant", "content": text}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": len(text)},
                    },
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def test_sweep_against_a_local_endpoint(server, tmp_path):
    policy = OpenAIPolicy(server.url, api_key="secret", concurrency=4, max_tokens=64, temperature=0.0)
    assert policy.model == "stand-in-model"  # discovered from /models
    rows = sweep("Saturn-SAT-v0", [1, 4], policy, k=2, episodes=5, progress=False, journal=tmp_path / "j.jsonl")
    assert [r["pass@1"] for r in rows] == [1.0, 1.0]
    assert all(r["mean_response_tokens"] > 0 for r in rows), "token usage is recorded"
    assert len(server.requests) == 2 * 5 * 2
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer secret"
    assert req["body"]["model"] == "stand-in-model" and req["body"]["max_tokens"] == 64
    assert len(policy.usage) == 20 and policy.usage[0]["prompt_tokens"] == 100


def test_retries_with_backoff_then_succeeds():
    s = Server(fail_first=2, status=503)
    try:
        policy = OpenAIPolicy(s.url, model="m", retries=3, backoff=0.01)
        text = policy.complete(_prompt())[0]
        assert "\\boxed{" in text and len(s.requests) == 3
    finally:
        s.close()


def test_gives_up_with_a_clear_error():
    s = Server(fail_first=10, status=503)
    try:
        policy = OpenAIPolicy(s.url, model="m", retries=1, backoff=0.01)
        with pytest.raises(EndpointError, match="failed after 2 attempt"):
            policy.complete(_prompt())
    finally:
        s.close()
    s = Server(fail_first=10, status=400)  # a client error is not retried
    try:
        with pytest.raises(EndpointError, match="HTTP 400"):
            OpenAIPolicy(s.url, model="m", retries=3, backoff=0.01).complete(_prompt())
        assert len(s.requests) == 1
    finally:
        s.close()


def test_unreachable_server_and_bad_url():
    with pytest.raises(EndpointError, match="URLError|ConnectionRefused"):
        OpenAIPolicy("http://127.0.0.1:9/v1", model="m", retries=0, timeout=2).complete("hi")
    with pytest.raises(ValueError, match="http"):
        OpenAIPolicy("localhost:8000", model="m")


def _prompt():
    import gymnasium

    import thinkgym  # noqa: F401

    return gymnasium.make("Saturn-SAT-v0").reset(seed=0)[0]
