"""`hotline serve`: one Starlette app with /sms, /telegram and /healthz, plus the outbox worker,
the retention purge, the case-timer hook and content hot reload, so one process is a complete
deployment. This module only wires the parts together; the channels adapt, the core decides.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from anyio import CapacityLimiter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels import log_failure
from bot.config import Config
from bot.content import Content
from bot.errors import ConfigError, DeliveryError, StorageUnavailable
from bot.models import Channel
from bot.outbox import OutboxPolicy, OutboxWorker, Sender
from bot.service import Escalations, Hotline
from bot.storage import open_store, purge_periodically
from bot.storage.base import (
    Case,
    CounterTotal,
    OutboxItem,
    PurgeResult,
    Store,
    Transaction,
    UnmatchedSample,
)

if TYPE_CHECKING:  # the channel modules import their SDKs: only when enabled
    from bot.channels.sms import SmsChannel
    from bot.channels.telegram import TelegramApp, TelegramChannel, VolunteerDesk
    from bot.handoff import Desk

logger = logging.getLogger(__name__)

CASE_TIMER_INTERVAL_S = 15.0
CORE_THREADS_SQLITE = 4
CORE_THREADS_PG = 8
OUTBOX_IDLE_S = 1.0  # poll for items queued by other processes; our own wake the worker
# once woken, let the replies of other messages handled meanwhile be queued too, so one
# claim (a transaction) takes several
OUTBOX_GATHER_S = 0.01
SHUTDOWN_GRACE_S = 10.0
GIL_SWITCH_INTERVAL_S = 0.001  # see cmd_serve
# Loggers that would print request URLs (with the bot token) or payloads at INFO/DEBUG.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "hpack", "watchfiles")


@dataclass(frozen=True, slots=True)
class Job:
    """Periodic work the server runs next to the outbox (`run(now)` every `interval_s`)."""

    name: str
    interval_s: float
    run: Callable[[datetime], Awaitable[None]]


class SerialStore:
    """A Store whose writes queue on a lock in this process: SQLite takes one writer at a time,
    and writers waiting in SQLite's busy handler sleep in steps of up to 100 ms, which under
    load turns into seconds of latency. Reads (pings, reports) pass straight through."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.RLock()

    @property
    def inner(self) -> Store:
        return self._store

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock, self._store.transaction() as tx:
            yield tx

    def claim_outbox(self, now: datetime, limit: int = 20, lease_s: float = 60) -> list[OutboxItem]:
        with self._lock:
            return self._store.claim_outbox(now, limit, lease_s)

    def mark_sent(self, item_id: int, now: datetime) -> None:
        with self._lock:
            self._store.mark_sent(item_id, now)

    def mark_sent_many(self, item_ids: Sequence[int], now: datetime) -> None:
        with self._lock:
            self._store.mark_sent_many(item_ids, now)

    def mark_retry(self, item_id: int, retry_at: datetime, error: str) -> None:
        with self._lock:
            self._store.mark_retry(item_id, retry_at, error)

    def mark_failed(self, item_id: int, error: str) -> None:
        with self._lock:
            self._store.mark_failed(item_id, error)

    def release(self, item_id: int, retry_at: datetime) -> None:
        with self._lock:
            self._store.release(item_id, retry_at)

    def purge(self, older_than: datetime, *, now: datetime | None = None) -> PurgeResult:
        with self._lock:
            return self._store.purge(older_than, now=now)

    def counter_totals(self, since: datetime) -> list[CounterTotal]:
        return self._store.counter_totals(since)

    def unmatched_samples(self, since: datetime) -> list[UnmatchedSample]:
        return self._store.unmatched_samples(since)

    def cases_opened(self, since: datetime) -> list[Case]:
        return self._store.cases_opened(since)

    def ping(self) -> bool:
        return self._store.ping()

    def close(self) -> None:
        self._store.close()


class ChannelSenders:
    """One `Sender` for the outbox worker that hands each item to its channel's sender."""

    def __init__(self, senders: Mapping[Channel, Sender]) -> None:
        self._senders = dict(senders)

    async def send(self, item: OutboxItem) -> None:
        sender = self._senders.get(item.channel)
        if sender is None:  # configured in another process, perhaps: retry later
            raise DeliveryError(f"channel {item.channel.value} is not enabled here")
        await sender.send(item)


async def run_outbox(
    worker: OutboxWorker, stop: asyncio.Event, wake: asyncio.Event, idle_s: float = OUTBOX_IDLE_S
) -> None:
    """Like `OutboxWorker.run_forever`, but woken at once when this process queues replies."""
    while not stop.is_set():
        wake.clear()  # before claiming: a reply queued meanwhile is not missed
        try:
            handled = await worker.run_once()
        except StorageUnavailable:
            logger.warning("outbox: the database is unavailable; retrying shortly")
            handled = 0
        except Exception as exc:
            log_failure(logger, "outbox round", exc)
            handled = 0
            await asyncio.sleep(idle_s)
        if handled == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=idle_s)
                await asyncio.sleep(OUTBOX_GATHER_S)


async def run_job(job: Job, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await job.run(datetime.now(UTC))
        except StorageUnavailable:
            logger.warning("%s skipped: the database is unavailable", job.name)
        except Exception as exc:
            log_failure(logger, job.name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=job.interval_s)


class Server:
    """Everything one `hotline serve` process runs; started and stopped by the app lifespan."""

    def __init__(
        self,
        config: Config,
        *,
        worker: bool = True,
        polling: bool = False,
        watch: bool = True,
        store: Store | None = None,
        desk: VolunteerDesk | None = None,
        escalations: Escalations | None = None,
        jobs: Sequence[Job] = (),
        outbox_policy: OutboxPolicy | None = None,
    ) -> None:
        if polling and not config.telegram_enabled:
            raise ConfigError("--polling needs TELEGRAM_BOT_TOKEN (and TELEGRAM_WEBHOOK_SECRET)")
        self.config = config
        self.worker = worker
        self.polling = polling
        self.watch = watch
        self._given_store = store
        self._desk = desk
        self.escalations = escalations
        self._jobs = tuple(jobs)
        # Telegram is paced by AIORateLimiter; Twilio long codes take about one per second.
        self._policy = outbox_policy or OutboxPolicy(
            pacing_s={Channel.SMS: 1.0, Channel.TELEGRAM: 0.0}
        )
        self.store: Store | None = None
        self.content: Content | None = None
        self.hotline: Hotline | None = None
        self.sms_channel: SmsChannel | None = None
        self.telegram_channel: TelegramChannel | None = None
        self._application: TelegramApp | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sighup = False

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        config = self.config
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        escalations = self.escalations
        self.content = await asyncio.to_thread(
            Content,
            config.faq_dir,
            config.locales_dir,
            handoff_available=lambda: escalations is not None and escalations.available(),
        )
        store: Store
        if self._given_store is not None:
            store = self._given_store
        else:
            store = await asyncio.to_thread(open_store, config)
            if config.is_sqlite:
                store = SerialStore(store)
        self.store = store
        handoff: Desk | None = None
        if config.handoff_enabled:
            # the volunteer desk (bot/handoff.py), unless the caller brought its own handoff
            from bot.handoff import Desk

            if isinstance(escalations, Desk):
                handoff = escalations
                handoff.bind(store=store)
            elif escalations is None and self._desk is None:
                handoff = Desk(config, self.content.router, store)
                escalations = self.escalations = handoff  # handoff_available() sees it too
            if handoff is not None and self._desk is None:
                self._desk = handoff
        self.hotline = Hotline(self.content.router, store, escalations=escalations)
        # Threads that run the core at once: more only queue on the database (SQLite takes one
        # writer) or fight over the GIL; fewer would leave PostgreSQL connections idle.
        limiter = CapacityLimiter(CORE_THREADS_SQLITE if config.is_sqlite else CORE_THREADS_PG)
        senders: dict[Channel, Sender] = {}
        try:
            if config.sms_enabled:
                from bot.channels.sms import SmsChannel, TwilioSender

                self.sms_channel = SmsChannel(self.hotline, config, limiter=limiter)
                twilio = TwilioSender(config)
                senders[Channel.SMS] = twilio
                self._closers.append(twilio.aclose)
            if config.telegram_enabled:
                from bot.channels.telegram import (
                    TelegramChannel,
                    TelegramSender,
                    build_application,
                )

                application = build_application(config)
                await application.initialize()  # getMe: a wrong token fails here, at start
                await application.start()
                self._application = application
                self.telegram_channel = TelegramChannel(
                    self.hotline,
                    application.bot,
                    config,
                    wake=self._wake.set,
                    desk=self._desk,
                    limiter=limiter,
                )
                telegram_sender: Sender = TelegramSender(application.bot)
                if handoff is not None:  # desk operations (topics, cards) go through the outbox
                    from bot.handoff import DeskSender

                    handoff.bind(bot=application.bot, wake=self._wake.set)
                    telegram_sender = DeskSender(handoff, application.bot, telegram_sender)
                senders[Channel.TELEGRAM] = telegram_sender
        except BaseException:
            await self._close_parts()
            raise
        self._log_summary()
        if self.worker:
            worker = OutboxWorker(store, ChannelSenders(senders), policy=self._policy)
            self._spawn(run_outbox(worker, self._stop, self._wake), "outbox")
            self._spawn(purge_periodically(store, config.retention_days, self._stop), "purge")
            if self.telegram_channel is not None:
                desk = self.telegram_channel.desk
                self._spawn(
                    run_job(
                        Job("case timers", CASE_TIMER_INTERVAL_S, desk.check_timers), self._stop
                    ),
                    "case timers",
                )
            for job in self._jobs:
                self._spawn(run_job(job, self._stop), job.name)
        if self.watch:
            self._spawn(self.content.watch(self._stop), "content watcher")
        if self.polling and self.telegram_channel is not None:
            self._spawn(self.telegram_channel.poll(self._stop), "telegram polling")
        self._install_sighup()

    def _log_summary(self) -> None:
        c = self.config
        sms = (
            "enabled"
            if self.sms_channel
            else (
                "disabled (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or "
                "TWILIO_MESSAGING_SERVICE_SID, PUBLIC_URL)"
            )
        )
        if self.telegram_channel is None:
            telegram = "disabled (set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET)"
        else:
            telegram = "enabled, " + ("polling" if self.polling else "webhook")
        volunteers = (
            "configured"
            if c.volunteer_chat_id is not None
            else "not configured (VOLUNTEER_CHAT_ID)"
        )
        assert self.content is not None
        logger.info(
            "hotline serve: SMS %s; Telegram %s; volunteer chat %s; worker %s; database %s; "
            "content version %s",
            sms,
            telegram,
            volunteers,
            "on" if self.worker else "off (--no-worker)",
            "SQLite" if c.is_sqlite else "PostgreSQL",
            self.content.version,
        )
        if not (self.sms_channel or self.telegram_channel):
            logger.warning("no channel is enabled: only /healthz will answer")

    def _install_sighup(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
            self._sighup = True
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            # not the main thread (tests), or no SIGHUP on this platform
            logger.debug("SIGHUP reload not available here")

    def _on_sighup(self) -> None:
        logger.info("SIGHUP: reloading content")
        if self.content is not None:
            self._spawn(self._reload(), "reload")

    async def _reload(self) -> None:
        assert self.content is not None
        await self.content.reload_async()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def stop(self) -> None:
        if self._sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        self._stop.set()
        self._wake.set()
        for task in self._tasks:
            if task.get_name() == "telegram polling":
                task.cancel()  # it may be inside a long poll
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        await self._close_parts()

    async def _close_parts(self) -> None:
        if self.telegram_channel is not None:
            await self.telegram_channel.aclose()
        if self._application is not None:
            with contextlib.suppress(Exception):
                if self._application.running:
                    await self._application.stop()
                await self._application.shutdown()
            self._application = None
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()
        self._closers.clear()
        if self.store is not None and self._given_store is None:
            await asyncio.to_thread(self.store.close)

    # -- routes -----------------------------------------------------------------------------

    async def sms(self, request: Request) -> Response:
        if self.sms_channel is None:
            return Response(status_code=404)
        return await self.sms_channel.webhook(request)

    async def telegram(self, request: Request) -> Response:
        if self.telegram_channel is None or self.polling:
            return Response(status_code=404)
        return await self.telegram_channel.webhook(request)

    async def healthz(self, request: Request) -> Response:
        store, content = self.store, self.content
        database = bool(store is not None and await run_in_threadpool(store.ping))
        body = {
            "status": "ok" if database and content is not None else "unavailable",
            "database": "ok" if database else "unreachable",
            "content": None
            if content is None
            else {
                "loaded": True,
                "version": content.version,
                "entries": len(content.router().faq.entries),
                "loaded_at": content.loaded_at.isoformat(timespec="seconds"),
                "last_reload_failed": content.last_error is not None,
            },
            "channels": {
                "sms": self.sms_channel is not None,
                "telegram": None
                if self.telegram_channel is None
                else ("polling" if self.polling else "webhook"),
            },
            "worker": self.worker,
        }
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


MAX_BODY_BYTES = 64 * 1024  # a Twilio form or a Telegram update is a few kB at most


class BodyLimit:
    """Refuse (413) a request body larger than `limit` before anyone parses it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        logger.warning("request body over %d bytes refused", MAX_BODY_BYTES)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"payload too large"})


def create_app(config: Config, **options: Any) -> Starlette:
    """The ASGI app; `options` go to `Server` (worker, polling, watch, store, desk, ...)."""
    server = Server(config, **options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = Starlette(
        routes=[
            Route("/sms", server.sms, methods=["POST"]),
            Route("/telegram", server.telegram, methods=["POST"]),
            Route("/healthz", server.healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit)],
    )
    app.state.server = server
    return app


# --- the command ----------------------------------------------------------------------------


def configure_logging(config: Config, verbose: bool) -> None:
    """The bot's own INFO lines (start-up summary, reloads); libraries that could print a
    token or a payload stay at WARNING even with -v."""
    logging.getLogger().setLevel(logging.DEBUG if verbose else config.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    configure_logging(config, bool(getattr(args, "verbose", False)))
    # A core thread coming back from the database (holding SQLite's write lock, or a
    # contact's row lock) waits for the GIL while the event loop thread runs, up to the
    # switch interval (5 ms by default) each time; that wait, repeated under the lock, was
    # what bounded the throughput. 1 ms costs next to nothing.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    processes = config.web_concurrency
    if processes > 1 and config.is_sqlite:
        logger.warning(
            "WEB_CONCURRENCY=%d ignored: SQLite takes one writer at a time, so one process "
            "serves (use PostgreSQL for several)",
            processes,
        )
        processes = 1
    if processes > 1 and args.polling:
        raise ConfigError("--polling needs WEB_CONCURRENCY=1: only one process may poll")
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port or config.port,
        "lifespan": "on",
        "access_log": False,  # request lines are noise here, and privacy is the default
        "ws": "none",
        "log_level": logging.getLevelName(logging.getLogger().level).lower(),
        "timeout_graceful_shutdown": int(SHUTDOWN_GRACE_S),
        # uvicorn reads WEB_CONCURRENCY itself (and wants an import string then): the
        # processes are ours, each runs one uvicorn server
        "workers": 1,
    }

    def make_app() -> Starlette:
        return create_app(config, worker=not args.no_worker, polling=args.polling)

    if processes == 1:
        uvicorn.run(make_app(), **options)
        return 0
    return serve_processes(processes, make_app, options)


def serve_processes(processes: int, make_app: Callable[[], Starlette], options: Any) -> int:
    """WEB_CONCURRENCY: `processes` complete servers (each with its outbox worker and jobs,
    as several machines would run them) on one port. One process runs the core on one CPU
    at a time (the GIL); on PostgreSQL, several share the work safely."""
    import socket

    import uvicorn

    address = (options["host"], options["port"])
    socket.create_server(address, reuse_port=True).close()  # the port is free: fail here
    children: list[int] = []
    for _ in range(processes):
        pid = os.fork()  # before any thread or event loop exists in this process
        if pid == 0:  # pragma: no cover - the child process
            code = 1
            try:
                # A socket of its own on the shared port (SO_REUSEPORT): the kernel spreads
                # new connections evenly, where one shared socket lets the busiest process
                # take most keep-alive connections.
                sock = socket.create_server(address, reuse_port=True, backlog=2048)
                uvicorn.Server(uvicorn.Config(make_app(), **options)).run(sockets=[sock])
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    logger.info("hotline serve: %d processes", processes)

    stopped: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if signum != signal.SIGHUP:
            stopped.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    # Ctrl-C reaches every process of the terminal's group: the children stop by themselves
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    failed = 0
    for child in children:
        _pid, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        # uvicorn ends by raising the signal it stopped for again: that is a clean stop
        if code != 0 and not (stopped and -code in (signal.SIGTERM, signal.SIGINT)):
            failed += 1
            forward(signal.SIGTERM, None)  # one went down: stop the others too
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `serve` to the `hotline` command."""
    p = subparsers.add_parser(
        "serve", help="run the web server: /sms, /telegram, /healthz, outbox and timers"
    )
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=None, help="port (default: PORT or 8000)")
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="serve webhooks only: no outbox worker, purge or timers (another process runs them)",
    )
    p.add_argument(
        "--polling",
        action="store_true",
        help="fetch Telegram updates by polling (local development without a public URL)",
    )
    p.set_defaults(handler=cmd_serve)
