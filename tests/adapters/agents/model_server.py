"""A tiny stand-in for the Anthropic Messages API on 127.0.0.1, replying from a script, streamed as SSE."""

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


@dataclass
class Reply:
    """One model response: content blocks (text / tool_use) or an HTTP error."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_type: str = ""
    error_message: str = ""

    @property
    def stop_reason(self) -> str:
        return "tool_use" if any(block["type"] == "tool_use" for block in self.blocks) else "end_turn"


def text(words: str) -> Reply:
    return Reply([{"type": "text", "text": words}])


def tool(name: str, tool_input: dict[str, Any], words: str = "") -> Reply:
    blocks = [{"type": "text", "text": words}] if words else []
    blocks.append({"type": "tool_use", "id": f"toolu_mock{next(_ids):06d}", "name": name, "input": tool_input})
    return Reply(blocks)


def error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status=status, error_type=error_type, error_message=message)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(reply: Reply, model: str) -> Iterator[bytes]:
    """The SSE events the real API sends for one message, block by block."""
    message = {"id": f"msg_mock{next(_ids):06d}", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 1500, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}  # fmt: skip
    yield _sse("message_start", {"type": "message_start", "message": message})
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {**block, "input": {}}
            yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield _sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                                 "usage": {"output_tokens": 40}})  # fmt: skip
    yield _sse("message_stop", {"type": "message_stop"})


class ModelServer:
    """Answers POST /v1/messages from `script(request_body) -> Reply`; keeps every request it saw."""

    def __init__(self, script: Callable[[dict[str, Any]], Reply]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                server.requests.append({"path": self.path, "body": body})
                if not self.path.startswith("/v1/messages") or self.path.startswith("/v1/messages/count_tokens"):
                    return self._json(200, {"input_tokens": 1500})
                reply = server.script(body)
                if reply.status != 200:
                    return self._json(reply.status, {"type": "error", "error": {"type": reply.error_type, "message": reply.error_message}})
                model = body.get("model", "claude-mock")
                if not body.get("stream"):
                    return self._json(200, _collapse(reply, model))
                payload = b"".join(stream_events(reply, model))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("request-id", f"req_mock{next(_ids):06d}")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

            def _json(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", f"req_mock{next(_ids):06d}")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


class _QuietServer(ThreadingHTTPServer):
    """Does not wait for handlers on close, and keeps clients that hung up out of the test output."""

    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _collapse(reply: Reply, model: str) -> dict[str, Any]:
    return {"id": f"msg_mock{next(_ids):06d}", "type": "message", "role": "assistant", "model": model, "content": reply.blocks,
            "stop_reason": reply.stop_reason, "usage": {"input_tokens": 1500, "output_tokens": 40}}  # fmt: skip


def turn_of(body: dict[str, Any]) -> int:
    """Which step of a conversation a request is: the number of assistant messages already in it."""
    return sum(1 for message in body.get("messages", []) if message.get("role") == "assistant")


@contextmanager
def serve(script: Callable[[dict[str, Any]], Reply]) -> Iterator[ModelServer]:
    server = ModelServer(script)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
