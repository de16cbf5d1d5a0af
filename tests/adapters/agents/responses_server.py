"""A tiny stand-in for the OpenAI Responses API on 127.0.0.1, replying from a script, streamed as SSE."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)

SHELL_TOOL = "exec_command"
"""The shell tool Codex 0.169 offers a model (`{"cmd": "..."}`); older builds called it `shell`."""


@dataclass
class Reply:
    """One model response: output items (message / function_call), an HTTP error, or no answer at all."""

    items: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_code: str = ""
    error_message: str = ""
    stall: bool = False


def text(words: str) -> Reply:
    return Reply([_message(words)])


def shell(command: str, words: str = "") -> Reply:
    """A shell tool call (with a short message before it when `words` is given)."""
    items = [_message(words)] if words else []
    call = {"type": "function_call", "id": f"fc_mock{next(_ids):06d}", "call_id": f"call_mock{next(_ids):06d}",
            "name": SHELL_TOOL, "arguments": json.dumps({"cmd": command}), "status": "completed"}  # fmt: skip
    return Reply([*items, call])


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status=status, error_code=code, error_message=message)


def stall() -> Reply:
    """Accept the request and never answer it (until the server shuts down)."""
    return Reply(stall=True)


def _message(words: str) -> dict[str, Any]:
    return {"type": "message", "id": f"msg_mock{next(_ids):06d}", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": words, "annotations": []}]}  # fmt: skip


def _sse(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(reply: Reply, model: str) -> Iterator[bytes]:
    """The SSE events the real API sends for one response: created, each item added/done, completed."""
    response = {"id": f"resp_mock{next(_ids):06d}", "object": "response", "model": model, "status": "in_progress", "output": []}
    yield _sse({"type": "response.created", "response": response})
    for index, item in enumerate(reply.items):
        yield _sse({"type": "response.output_item.added", "output_index": index, "item": {**item, "status": "in_progress"}})
        if item["type"] == "message":
            words = item["content"][0]["text"]
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield _sse({"type": "response.output_text.delta", **where, "delta": words})
            yield _sse({"type": "response.output_text.done", **where, "text": words})
        yield _sse({"type": "response.output_item.done", "output_index": index, "item": item})
    usage = {"input_tokens": 1500, "input_tokens_details": {"cached_tokens": 500}, "output_tokens": 40,
             "output_tokens_details": {"reasoning_tokens": 8}, "total_tokens": 1540}  # fmt: skip
    yield _sse({"type": "response.completed", "response": {**response, "status": "completed", "output": reply.items, "usage": usage}})


class ResponsesServer:
    """Answers POST /v1/responses from `script(request_body) -> Reply`; keeps every request it saw."""

    def __init__(self, script: Callable[[dict[str, Any]], Reply]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.released = threading.Event()
        """Set on shutdown: lets stalled handlers go."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                server.requests.append({"path": self.path, "headers": {key.lower(): value for key, value in self.headers.items()}, "body": body})
                if not self.path.endswith("/responses"):
                    return self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                reply = server.script(body)
                if reply.stall:
                    server.released.wait()
                    return None
                if reply.status != 200:
                    error = {"message": reply.error_message, "type": reply.error_code, "code": reply.error_code, "param": None}
                    return self._json(reply.status, {"error": error})
                payload = b"".join(stream_events(reply, body.get("model", "gpt-mock")))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("x-request-id", f"req_mock{next(_ids):06d}")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None

            def do_GET(self) -> None:  # noqa: N802
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

            def _json(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("x-request-id", f"req_mock{next(_ids):06d}")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def model_requests(self) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["path"].endswith("/responses")]


class _QuietServer(ThreadingHTTPServer):
    """Does not wait for handlers on close, and keeps clients that hung up out of the test output."""

    block_on_close = False
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def turn_of(body: dict[str, Any]) -> int:
    """Which step of a conversation a request is: the number of tool results already in its input."""
    return sum(1 for item in body.get("input", []) if item.get("type") == "function_call_output")


def user_text(body: dict[str, Any]) -> str:
    """Everything the user said in a request's input, joined (the prompt is in there)."""
    return "\n".join(
        part.get("text", "")
        for item in body.get("input", [])
        if item.get("type") == "message" and item.get("role") == "user"
        for part in item.get("content", [])
        if isinstance(part, dict)
    )


@contextmanager
def serve(script: Callable[[dict[str, Any]], Reply]) -> Iterator[ResponsesServer]:
    server = ResponsesServer(script)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.httpd.shutdown()
        server.httpd.server_close()
