"""A loopback webhook receiver that accepts only what Slack and Discord document, and counts messages.

Slack (incoming webhooks, Block Kit reference): a JSON object with a `text` fallback and/or at
most 50 `blocks`; a `header` holds plain text of at most 150 characters, a `section` a text
object of at most 3000 characters (or at most 10 fields of 2000), a `context` 1 to 10 elements.
It answers 200 `ok`, or 400 `invalid_blocks` / `no_text` / `invalid_payload`.

Discord (Execute Webhook, Embed limits): `content` at most 2000 characters, at most 10 embeds
without `video` or `provider`, a `title` at most 256, a `description` at most 4096, at most 25
fields (256 / 1024), a footer at most 2048, 6000 characters across the embeds, a colour in
0..0xFFFFFF; `allowed_mentions.parse` may not name `users` (or `roles`) while also listing ids.
It answers 204, or 400 with a JSON error.

Answers can be scripted per path (`script("/slack", 500, 200)`), and a 429 carries both the
`Retry-After` header and Discord's `retry_after` body.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLACK_TOP_LEVEL = {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links", "unfurl_media", "username", "icon_emoji", "icon_url", "channel"}
SLACK_BLOCKS = {"header", "section", "context", "divider", "actions", "image", "rich_text", "markdown"}
DISCORD_TOP_LEVEL = {"content", "username", "avatar_url", "tts", "embeds", "allowed_mentions", "components", "flags", "thread_name", "applied_tags", "poll"}
DISCORD_EMBED_KEYS = {"title", "type", "description", "url", "timestamp", "color", "footer", "image", "thumbnail", "author", "fields"}


class Invalid(ValueError):
    pass


def _text_object(value: Any, limit: int, where: str, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> None:
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise Invalid(f"{where}: not a text object of {kinds}")
    text = value.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        raise Invalid(f"{where}: text of {len(text) if isinstance(text, str) else '?'} characters (1..{limit})")


def check_slack(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise Invalid("invalid_payload")
    if set(payload) - SLACK_TOP_LEVEL:
        raise Invalid(f"invalid_payload: unknown fields {sorted(set(payload) - SLACK_TOP_LEVEL)}")
    text, blocks = payload.get("text"), payload.get("blocks")
    if not (isinstance(text, str) and text.strip()) and not blocks:
        raise Invalid("no_text")
    if blocks is None:
        return
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        raise Invalid(f"invalid_blocks: {len(blocks) if isinstance(blocks, list) else '?'} blocks (1..50)")
    for index, block in enumerate(blocks):
        where = f"invalid_blocks: block {index}"
        if not isinstance(block, dict) or block.get("type") not in SLACK_BLOCKS:
            raise Invalid(f"{where}: unknown type")
        kind = block["type"]
        if kind == "header":
            _text_object(block.get("text"), 150, where, ("plain_text",))
        elif kind == "section":
            if "text" in block:
                _text_object(block["text"], 3000, where)
            elif isinstance(block.get("fields"), list) and 1 <= len(block["fields"]) <= 10:
                for field_object in block["fields"]:
                    _text_object(field_object, 2000, where)
            else:
                raise Invalid(f"{where}: a section needs text or fields")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                raise Invalid(f"{where}: 1..10 context elements")
            for element in elements:
                _text_object(element, 3000, where)


def check_discord(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise Invalid("Invalid JSON body")
    if set(payload) - DISCORD_TOP_LEVEL:
        raise Invalid(f"unknown fields {sorted(set(payload) - DISCORD_TOP_LEVEL)}")
    content, embeds = payload.get("content"), payload.get("embeds")
    if not content and not embeds:
        raise Invalid("Cannot send an empty message")
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        raise Invalid("content: must be 2000 or fewer in length")
    username = payload.get("username")
    if username is not None and (not isinstance(username, str) or not 1 <= len(username) <= 80 or "discord" in username.lower() or "clyde" in username.lower()):
        raise Invalid("username: invalid")
    total = 0
    if embeds is not None:
        if not isinstance(embeds, list) or len(embeds) > 10:
            raise Invalid("embeds: at most 10")
        for embed in embeds:
            if not isinstance(embed, dict) or set(embed) - DISCORD_EMBED_KEYS:
                raise Invalid(f"embed: unknown fields {sorted(set(embed) - DISCORD_EMBED_KEYS) if isinstance(embed, dict) else embed}")
            total += _embed_chars(embed)
    if total > 6000:
        raise Invalid(f"embeds: {total} characters, at most 6000")
    mentions = payload.get("allowed_mentions")
    if mentions is not None:
        parse = mentions.get("parse", [])
        if not set(parse) <= {"roles", "users", "everyone"}:
            raise Invalid("allowed_mentions.parse: unknown type")
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                raise Invalid(f"allowed_mentions: parse:[{kind}] and {kind}: [ids] are mutually exclusive")
            if len(mentions.get(kind, [])) > 100:
                raise Invalid(f"allowed_mentions.{kind}: at most 100")


def _embed_chars(embed: dict[str, Any]) -> int:
    limits = {"title": 256, "description": 4096}
    total = 0
    for key, limit in limits.items():
        value = embed.get(key)
        if value is not None:
            if not isinstance(value, str) or len(value) > limit:
                raise Invalid(f"embed.{key}: at most {limit}")
            total += len(value)
    color = embed.get("color")
    if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
        raise Invalid("embed.color: 0..16777215")
    fields = embed.get("fields", [])
    if len(fields) > 25:
        raise Invalid("embed.fields: at most 25")
    for item in fields:
        if len(item.get("name", "")) > 256 or len(item.get("value", "")) > 1024:
            raise Invalid("embed.fields: name 256, value 1024")
        total += len(item.get("name", "")) + len(item.get("value", ""))
    footer = (embed.get("footer") or {}).get("text", "")
    if len(footer) > 2048:
        raise Invalid("embed.footer.text: at most 2048")
    return total + len(footer) + len((embed.get("author") or {}).get("name", ""))


@dataclass
class Received:
    path: str
    status: int
    payload: Any
    content_type: str
    error: str = ""
    """Why a payload was refused (what the service would answer)."""


@dataclass
class WebhookReceiver:
    """Serves on 127.0.0.1; `url("/slack/T0/B0/secret")` is a webhook URL for the client."""

    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, deque[int]] = field(default_factory=dict)
    retry_after_s: float = 2.0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status, body, headers = receiver._answer(self.path, raw, self.headers.get("Content-Type", ""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def script(self, prefix: str, *statuses: int) -> None:
        """The next answers to posts under `prefix`, before the valid ones go back to 200/204."""
        self.scripts[prefix] = deque(statuses)

    def accepted(self, prefix: str = "") -> list[Any]:
        """Payloads of the messages the service would have shown."""
        return [item.payload for item in self.requests if item.path.startswith(prefix) and item.status in (200, 204)]

    def _answer(self, path: str, raw: bytes, content_type: str) -> tuple[int, bytes, dict[str, str]]:
        service = "discord" if path.startswith("/discord") else "slack"
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        with self._lock:
            scripted = next((queue for prefix, queue in self.scripts.items() if path.startswith(prefix) and queue), None)
            status: int | str = scripted.popleft() if scripted is not None else 0
            if not status:
                status = self._validate(service, payload, content_type)
            refused = status if isinstance(status, str) else ""
            self.requests.append(Received(path, 400 if refused else int(status), payload, content_type, refused))
        if isinstance(status, str):
            return 400, status.encode(), {"Content-Type": "text/plain"}
        if status == 429:
            body = json.dumps({"message": "You are being rate limited.", "retry_after": self.retry_after_s, "global": False}).encode()
            return 429, body, {"Retry-After": str(self.retry_after_s), "Content-Type": "application/json"}
        if status >= 400:
            return status, b"server_error" if status >= 500 else b"no_service", {"Content-Type": "text/plain"}
        if service == "discord":
            return 204, b"", {}
        return 200, b"ok", {"Content-Type": "text/plain"}

    def _validate(self, service: str, payload: Any, content_type: str) -> int | str:
        """The success status, or the refusal's text."""
        if not content_type.startswith("application/json"):
            return "invalid_payload: not JSON"
        try:
            (check_discord if service == "discord" else check_slack)(payload)
        except Invalid as error:
            return str(error)
        return 204 if service == "discord" else 200
