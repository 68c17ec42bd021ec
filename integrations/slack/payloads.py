"""What reaches /slack/events before bolt sees it: the signature checked over the raw bytes, the
body decoded and parsed once, and its shape checked, so a request Slack would never send is a
short 4xx instead of an exception inside bolt or a listener.

bolt's own parsing guesses a form body holds `payload=` when the word appears anywhere in it (a
slash command whose text says "payload" then parses as an empty body), so the body parsed here
is the one the listeners get."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

# Slack's rule: a request signed more than five minutes ago is refused (a replay).
MAX_AGE_SECONDS = 300


class BadRequest(ValueError):
    """A request that is signed but malformed; the message is short and safe to answer."""


def signed(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw bytes, made within the last five minutes."""
    if not timestamp or not signature or len(timestamp) > 12:  # int() refuses 4,300 digits
        return False
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _object(raw: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{what} is not a JSON object")
    return data


def _form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeError):
        raise BadRequest("the form body is malformed") from None
    return dict(pairs)


def parse(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """(text, payload) of a signed request; raises BadRequest for what Slack never sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    if not text:
        raise BadRequest("the body is empty")
    if content_type == "application/json" or text.startswith("{"):
        payload = _object(text, "the body")
    else:
        form = _form(text)
        if "payload" in form:
            payload = _object(form["payload"], "payload")
        elif "ssl_check" in form:
            return text, form
        else:
            payload = dict(form)
    check(payload)
    return text, payload


def _need(data: dict[str, Any], key: str, kind: type, *, optional: bool = False) -> None:
    value = data.get(key)
    if value is None and optional:
        return
    if not isinstance(value, kind) or (isinstance(value, str) and not value and not optional):
        raise BadRequest(f"`{key}` is missing or has the wrong type")


def check(payload: dict[str, Any]) -> None:
    """The fields the listeners read have the types Slack gives them."""
    kind = payload.get("type")
    if "command" in payload:
        for key in ("command", "user_id", "trigger_id"):
            _need(payload, key, str)
        return
    if kind == "url_verification":
        _need(payload, "challenge", str)
    elif kind == "event_callback":
        _need(payload, "event", dict)
        _need(payload, "event_id", str, optional=True)
        _need(payload, "team_id", str, optional=True)
    elif kind in ("block_actions", "view_submission", "view_closed"):
        _user_and_team(payload)
        if kind == "block_actions":
            _actions(payload)
        else:
            _view(payload)
    elif not isinstance(kind, str):
        raise BadRequest("`type` is missing or has the wrong type")


def _user_and_team(payload: dict[str, Any]) -> None:
    _need(payload, "user", dict)
    _need(payload["user"], "id", str)
    for key in ("team", "channel", "container"):
        _need(payload, key, dict, optional=True)
    _need(payload, "trigger_id", str, optional=True)
    _need(payload, "response_url", str, optional=True)


def _actions(payload: dict[str, Any]) -> None:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise BadRequest("`actions` is missing or has the wrong type")
    for action in actions:
        if not isinstance(action, dict):
            raise BadRequest("an action is not an object")
        _need(action, "action_id", str)
        _need(action, "value", str, optional=True)


def _view(payload: dict[str, Any]) -> None:
    _need(payload, "view", dict)
    view = payload["view"]
    _need(view, "private_metadata", str, optional=True)
    _need(view, "title", dict, optional=True)
    _need(view, "blocks", list, optional=True)
    if not all(isinstance(b, dict) for b in view.get("blocks") or []):
        raise BadRequest("`view.blocks` has the wrong shape")
    state = view.get("state")
    if state is None:
        return
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(actions, dict) and all(isinstance(a, dict) for a in actions.values())
        for actions in values.values()
    ):
        raise BadRequest("`view.state` has the wrong shape")
