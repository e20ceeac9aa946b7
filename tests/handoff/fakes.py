"""The fake Bot API with forum topics, and the fake Twilio API remembering what it accepted
(the channel's fakes in tests/fakes.py, extended for the volunteer desk)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes import Call, Failure, FakeTelegram, FakeTwilio, _telegram_params


class FakeForum(FakeTelegram):
    """The fake Bot API plus forum topics: createForumTopic, close/reopen/deleteForumTopic,
    editMessageText; a deleted topic answers "message thread not found" like Telegram."""

    def __init__(self) -> None:
        super().__init__()
        self._thread_ids = itertools.count(501)
        self.topics: dict[int, dict[str, Any]] = {}
        self.message_thread: dict[int, int] = {}  # message id -> topic
        self.create_delay_s = 0.0
        self.delivered: list[Call] = []  # calls answered with success
        self.texts: dict[int, str] = {}  # message id -> text, for messages in topics
        self.deleted_messages: set[int] = set()

    def clear(self) -> None:
        super().clear()
        self.delivered.clear()
        self.topics.clear()
        self.message_thread.clear()
        self.texts.clear()
        self.deleted_messages.clear()
        self.create_delay_s = 0.0

    def record(self, call: Call) -> Failure | None:
        failure = super().record(call)
        if failure is None and not _refused(call, self.topics):
            with self._lock:
                self.delivered.append(call)
        return failure

    def clear_failures(self) -> None:
        """The outage is over."""
        with self._lock:
            self._failures.clear()

    def delete_topic(self, thread_id: int) -> None:
        """A volunteer deletes the topic in the Telegram app."""
        self.topics[thread_id]["deleted"] = True

    def live_topics(self) -> list[int]:
        return [t for t, info in self.topics.items() if not info["deleted"]]

    def posts(self, thread_id: int) -> list[str]:
        """Texts sent into one topic."""
        return [
            str(c.params["text"])
            for c in self.delivered
            if c.method == "sendMessage" and c.params.get("message_thread_id") == thread_id
        ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts delivered (failed attempts left out)."""
        return [
            str(c.params.get("text"))
            for c in self.delivered
            if c.method == "sendMessage" and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def _endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = _telegram_params(await request.body(), request.headers.get("content-type", ""))
        thread = params.get("message_thread_id")
        if method == "editMessageText":
            thread = self.message_thread.get(int(params.get("message_id") or 0))
        if thread is not None and self.topics.get(int(thread), {}).get("deleted"):
            self.record(Call(method, params))
            description = (
                "Bad Request: message to edit not found"
                if method == "editMessageText"
                else "Bad Request: message thread not found"
            )
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": description}, status_code=400
            )
        if method == "createForumTopic" and self.create_delay_s:
            await asyncio.sleep(self.create_delay_s)
        return await super()._endpoint(request)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "createForumTopic":
            thread = next(self._thread_ids)
            color = int(params.get("icon_color") or 0)
            self.topics[thread] = {"name": params["name"], "closed": False, "deleted": False}
            return {"message_thread_id": thread, "name": params["name"], "icon_color": color}
        if method == "editForumTopic":
            self.topics[int(params["message_thread_id"])]["name"] = params["name"]
            return True
        if method in ("closeForumTopic", "reopenForumTopic", "deleteForumTopic"):
            info = self.topics[int(params["message_thread_id"])]
            info["closed"] = method == "closeForumTopic"
            info["deleted"] = info["deleted"] or method == "deleteForumTopic"
            return True
        if method == "deleteMessage":
            self.deleted_messages.add(int(params["message_id"]))
            return True
        result = super()._result(method, params)
        if method == "sendMessage" and params.get("message_thread_id") is not None:
            self.message_thread[int(result["message_id"])] = int(params["message_thread_id"])
            self.texts[int(result["message_id"])] = str(params.get("text"))
        return result

    def visible(self, thread_id: int) -> list[tuple[int, str]]:
        """(message id, text) of what is still in a topic (not deleted)."""
        return [
            (message_id, text)
            for message_id, text in self.texts.items()
            if self.message_thread.get(message_id) == thread_id
            and message_id not in self.deleted_messages
        ]


def _refused(call: Call, topics: dict[int, dict[str, Any]]) -> bool:
    thread = call.params.get("message_thread_id")
    return thread is not None and bool(topics.get(int(thread), {}).get("deleted"))


class FakeSms(FakeTwilio):
    """The fake Twilio API, remembering which messages were accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered: list[Call] = []

    def clear(self) -> None:
        super().clear()
        self.delivered.clear()

    def record(self, call: Call) -> Failure | None:
        failure = super().record(call)
        if failure is None and call.auth == (self.sid, self.token):
            with self._lock:
                self.delivered.append(call)
        return failure
