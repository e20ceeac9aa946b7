"""Local fakes of the Telegram Bot API and the Twilio REST API that record every call.

Each is a small Starlette app served by uvicorn on 127.0.0.1 (random port) in a background
thread, so the real clients (python-telegram-bot's HTTPXRequest, our httpx TwilioSender) talk
to them over real HTTP. They can be told to fail: an HTTP error, a 429 with retry_after, or a
delay longer than the client's timeout. Used by the tests and by scripts/bench_serve.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-token-for-the-fake-bot-api"
BOT_ID = 123456
BOT_USERNAME = "hotline_test_bot"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"

# Bot API parameters that python-telegram-bot sends JSON-encoded inside the form.
_JSON_PARAMS = frozenset(
    {"reply_markup", "link_preview_options", "allowed_updates", "commands", "entities"}
)
_INT_PARAMS = frozenset({"chat_id", "message_thread_id", "offset", "timeout", "limit"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    auth: tuple[str, str] | None = None


@dataclass(slots=True)
class Failure:
    """What to answer instead of success, `times` times."""

    status: int = 500
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep first (longer than the client's timeout = a timeout)
    times: int = 1


class _Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._changed = threading.Condition(self._lock)

    def record(self, call: Call) -> Failure | None:
        with self._lock:
            self._calls.append(call)
            self._changed.notify_all()
            queue = self._failures.get(call.method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            return failure

    def add_failure(self, method: str, failure: Failure) -> None:
        with self._lock:
            self._failures.setdefault(method, deque()).append(failure)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] = bool,
    ) -> list[Call]:
        """The calls to `method` (matching `where`) once there are `count`; AssertionError
        after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self._calls if c.method == method and where(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} call(s) to {method}, got {len(found)}: "
                        f"{[c.method for c in self._calls]}"
                    )
                self._changed.wait(left)

    async def until(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] = bool,
    ) -> list[Call]:
        """`wait_for` for async tests: polls, so the event loop (and the app) keep running."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls if c.method == method and where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} call(s) to {method}, got {len(found)}: "
                    f"{[c.method for c in self.calls]}"
                )
            await asyncio.sleep(0.01)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
            self._failures.clear()


class FakeTelegram(_Recorder):
    """The Bot API methods the hotline uses: getMe, sendMessage, answerCallbackQuery,
    setWebhook, deleteWebhook, setMyCommands, getUpdates (fed by `push_update`)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self._message_ids = itertools.count(1000)
        self._updates: deque[dict[str, Any]] = deque()
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        delay_s: float = 0.0,
        times: int = 1,
    ) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.add_failure(method, Failure(status, body, delay_s=delay_s, times=times))

    def push_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in self.calls_to("sendMessage")
            if chat_id is None or c.params.get("chat_id") == chat_id
        ]

    async def _endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        if token != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        params = _telegram_params(await request.body(), request.headers.get("content-type", ""))
        failure = self.record(Call(method, params))
        if failure is not None:
            if failure.delay_s:
                await asyncio.sleep(failure.delay_s)
            return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            with self._lock:
                while self._updates and self._updates[0].get("update_id", 0) < offset:
                    self._updates.popleft()
                ready = [u for u in self._updates if u.get("update_id", 0) >= offset]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Hotline",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "sendMessage":
            chat_id = params.get("chat_id")
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {
                    "id": chat_id,
                    "type": "private" if int(chat_id or 0) > 0 else "supergroup",
                },
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hotline"},
                "text": params.get("text", ""),
            }
            if params.get("message_thread_id") is not None:
                message["message_thread_id"] = params["message_thread_id"]
            return message
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, setMyCommands ...


def _telegram_params(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return dict(data) if isinstance(data, dict) else {}
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key in _JSON_PARAMS:
            params[key] = json.loads(value)
        elif key in _INT_PARAMS:
            try:
                params[key] = int(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


class FakeTwilio(_Recorder):
    """POST /2010-04-01/Accounts/{sid}/Messages.json, with HTTP basic auth checked."""

    def __init__(self, sid: str = TWILIO_SID, token: str = TWILIO_TOKEN) -> None:
        super().__init__()
        self.sid = sid
        self.token = token
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._endpoint, methods=["POST"])
            ]
        )

    def fail(
        self,
        status: int = 500,
        *,
        code: int | None = None,
        retry_after: str | None = None,
        delay_s: float = 0.0,
        times: int = 1,
    ) -> None:
        body = {"code": code or 20500, "message": "fake failure", "status": status}
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.add_failure("Messages", Failure(status, body, headers, delay_s=delay_s, times=times))

    async def _endpoint(self, request: Request) -> Response:
        auth = _basic_auth(request.headers.get("authorization", ""))
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        failure = self.record(Call("Messages", params, auth=auth))
        if auth != (self.sid, self.token) or request.path_params["sid"] != self.sid:
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        if failure is not None:
            if failure.delay_s:
                await asyncio.sleep(failure.delay_s)
            return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
        return JSONResponse(
            {"sid": f"SM{next(self._ids):032d}", "status": "queued", "to": params.get("To")},
            status_code=201,
        )


def _basic_auth(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port in a background thread; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="none",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake API server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
