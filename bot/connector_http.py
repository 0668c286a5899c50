"""How the bot's calls to the Bot Connector (Teams) go out: no retries or sleeps inside a call, socket
timeouts, and a bounded number of calls in flight per host.

botbuilder makes a msrest ``ConnectorClient`` per turn and per proactive send, and msrest sends with
blocking ``requests`` in a thread. Left as they are:

- urllib3's ``Retry`` (msrest's ``ClientRetryPolicy``: 3 retries, every status but a few) retries a
  ``PUT`` answered 429 or 503 after sleeping its ``Retry-After``, inside the call: a large
  ``Retry-After`` held a card press for minutes. Here a call is tried once; the status comes back at
  once and the caller decides (the outbox retries, honouring ``Retry-After`` up to its own maximum).
- msrest's timeout is 100 s, so a host that accepts and never answers held a thread that long, and a
  handful of such hosts took every thread of the pool. Here each call has a connect and a read
  timeout, and ``HostSlots`` bounds the calls in flight per host (scheme, host and port) and, among
  hosts that have not answered lately, all together: tarpit service URLs wait for a slot without a
  thread, and the hosts that answer (Teams) keep theirs.

``BoundedConnectorFactory`` wraps botbuilder's connector factory so that every client it makes is set
up this way (installed by ``bot/adapter.py``).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory
from msrest.exceptions import ClientRequestError, raise_with_traceback
from msrest.pipeline import AsyncHTTPPolicy, AsyncPipeline, SansIOHTTPPolicy
from msrest.pipeline.async_requests import AsyncPipelineRequestsHTTPSender, AsyncRequestsCredentialsPolicy
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_requests import AsyncRequestsClientResponse, AsyncRequestsHTTPSender
from urllib3 import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection to the connector."""
READ_TIMEOUT = 10.0
"""Seconds the connector may stay silent while answering (Teams shows "Unable to reach app" after 10-15 s)."""
PER_HOST = 8
"""Connector calls in flight at once to one host."""
UNPROVEN_CALLS = 16
"""Connector calls in flight at once, all together, to hosts that have not answered since their last failure."""
ANSWERING_HOSTS_KEPT = 256
"""How many hosts that answered are remembered (the most recent): the memory stays bounded."""


def origin_of(url: str) -> str:
    """scheme://host:port of a URL, lower case: the unit the slots are counted in."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{(parsed.hostname or '').lower()}:{port}"


class HostSlots:
    """Bounds the connector calls in flight per host; a call holds its slot until its thread is done.

    A host "answers" once a call to it got an HTTP response, until a call to it fails without one
    (timeout, refused connection). Hosts that do not answer share ``unproven`` slots between them, so
    tarpits cannot take the threads that the hosts which answer need.
    """

    def __init__(self, executor: Executor, *, per_host: int = PER_HOST, unproven: int = UNPROVEN_CALLS) -> None:
        self._executor = executor
        self._per_host = per_host
        self._unproven = unproven
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._answering: collections.OrderedDict[str, None] = collections.OrderedDict()  # most recent last
        self._waiting: list[asyncio.Future[None]] = []

    def in_flight(self, origin: str | None = None) -> int:
        """Calls holding a slot (to one origin, or all together)."""
        return self._in_flight[origin] if origin is not None else sum(self._in_flight.values())

    def _unproven_in_flight(self) -> int:
        return sum(count for origin, count in self._in_flight.items() if origin not in self._answering)

    def _may_start(self, origin: str) -> bool:
        if self._in_flight[origin] >= self._per_host:
            return False
        return origin in self._answering or self._unproven_in_flight() < self._unproven

    async def call(self, origin: str, blocking: Callable[[], T]) -> T:
        """Run ``blocking`` in the executor once a slot for ``origin`` is free; the slot is freed when it returns."""
        loop = asyncio.get_running_loop()
        while not self._may_start(origin):
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
        self._in_flight[origin] += 1
        try:
            future = self._executor.submit(blocking)
        except BaseException:
            self._release(origin, None)
            raise

        def done(finished: Future[T]) -> None:  # in the worker thread, or at once when cancelled
            try:
                loop.call_soon_threadsafe(self._release, origin, finished)
            except RuntimeError:  # the loop is closed: nobody is left to wait for a slot
                pass

        future.add_done_callback(done)
        return await asyncio.wrap_future(future)

    def _release(self, origin: str, finished: Future[Any] | None) -> None:
        self._in_flight[origin] -= 1
        if self._in_flight[origin] <= 0:
            del self._in_flight[origin]
        if finished is not None and not finished.cancelled():
            if finished.exception() is None:
                self._answering[origin] = None
                self._answering.move_to_end(origin)
                while len(self._answering) > ANSWERING_HOSTS_KEPT:
                    self._answering.popitem(last=False)
            elif isinstance(finished.exception(), requests.RequestException) and origin in self._answering:
                del self._answering[origin]
                logger.warning("connector host %s stopped answering (%s)", origin, type(finished.exception()).__name__)
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:  # each checks again whether it may start
            if not waiter.done():
                waiter.set_result(None)


def _no_retries() -> Retry:
    """urllib3 retry settings for connector calls: none, and never a sleep on Retry-After."""
    return Retry(total=0, connect=0, read=False, redirect=0, status=0, respect_retry_after_header=False)


class _BoundedRequestsSender(AsyncRequestsHTTPSender):
    """msrest's requests sender, with the blocking call run through HostSlots (msrest runs it in the default executor)."""

    def __init__(self, config: Any, slots: HostSlots) -> None:
        super().__init__(config)
        self._slots = slots

    async def send(self, request: ClientRequest, **kwargs: Any) -> AsyncRequestsClientResponse:  # type: ignore[override]
        """Send the request once, in a slot of its host."""
        requests_kwargs = self._configure_send(request, **kwargs)
        session = requests_kwargs.pop("session", self.session)
        blocking = functools.partial(session.request, request.method, request.url, **requests_kwargs)
        try:
            response = await self._slots.call(origin_of(request.url), blocking)
        except requests.RequestException as error:
            raise_with_traceback(ClientRequestError, "Error occurred in request.", error)
        return AsyncRequestsClientResponse(request, response)


def bound(client: ConnectorClient, slots: HostSlots) -> ConnectorClient:
    """Set up a connector client: no in-client retries, socket timeouts, calls through HostSlots."""
    config = client.config
    config.retry_policy = _no_retries  # read when the client's requests session is made, at its first call
    config.connection.timeout = (CONNECT_TIMEOUT, READ_TIMEOUT)
    # the pipeline msrest's ServiceClientAsync builds by default, with the sender above at its end
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    credentials = config.credentials
    if credentials:
        if isinstance(credentials, (AsyncHTTPPolicy, SansIOHTTPPolicy)):
            policies.insert(1, credentials)
        else:
            policies.insert(1, AsyncRequestsCredentialsPolicy(credentials))
    config.pipeline = AsyncPipeline(policies, AsyncPipelineRequestsHTTPSender(_BoundedRequestsSender(config, slots)))
    return client


class BoundedConnectorFactory(ConnectorFactory):
    """botbuilder's connector factory, whose clients are set up by ``bound``."""

    def __init__(self, inner: ConnectorFactory, slots: HostSlots) -> None:
        self._inner = inner
        self._slots = slots

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        """A connector client for this service URL."""
        return bound(await self._inner.create(service_url, audience), self._slots)
