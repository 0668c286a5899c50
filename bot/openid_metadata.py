"""Bot Framework's token-signing keys, fetched off the event loop with a timeout, with the last good copy kept.

botbuilder 4.17 reads the OpenID metadata and its key set (JWKS) with blocking ``requests.get`` and no
timeout, on the event loop, in ``botframework.connector.auth.jwt_token_extractor._OpenIdMetadata``: a
metadata endpoint that hangs froze the whole bot (``/healthz`` took 19 s). Every token check gets its
metadata object from ``JwtTokenExtractor.get_open_id_metadata(url)`` (one object per URL, process-wide),
which is the seam: ``use_cached_openid_metadata()`` has it hand out ``CachedOpenIdMetadata`` instead.

- The fetch runs in its own thread with a socket timeout; a token check waits for it at most
  ``timeout`` seconds, and only when there is no key to check against (the first request, or a key id
  not seen before, at most once an hour as botbuilder does).
- Keys older than a day are refreshed in the background while checks go on with the last good copy.
- One fetch at a time per URL; after a failed fetch the next waits ``retry_after_failure`` seconds, so a
  hanging endpoint costs one thread, not one per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import requests
from botframework.connector.auth import JwtTokenExtractor
from botframework.connector.auth.jwt_token_extractor import _OpenIdConfig, _OpenIdMetadata
from jwt.algorithms import RSAAlgorithm

logger = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(days=1)
"""How old the keys may get before a background refresh (botbuilder's own period)."""
UNKNOWN_KEY_REFRESH = timedelta(hours=1)
"""How often an unknown key id may make a check wait for a fresh key set (botbuilder's own rule)."""


class CachedOpenIdMetadata(_OpenIdMetadata):
    """One metadata URL's signing keys: fetched in a thread with a timeout; the last good copy is kept."""

    timeout: float = 5.0
    """Seconds for each HTTP call of a fetch, and the longest a token check waits for one."""
    retry_after_failure: float = 60.0
    """Seconds after a failed fetch before another is tried."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.keys: list[Any] = []
        self.last_updated: datetime = datetime.min
        self._lock = threading.Lock()
        self._fetching: Future[None] | None = None
        self._failed_at: float | None = None

    async def get(self, key_id: str) -> _OpenIdConfig:
        """The signing key with this id; raises PermissionError when there is none (the token is refused)."""
        now = datetime.now()
        if not self.keys:
            await self._wait_for_fetch()
        elif self.last_updated < now - REFRESH_EVERY:
            self._start_fetch()  # in the background: checks go on with the last good copy meanwhile
        key = self._find(key_id)
        if key is None and self.keys and self.last_updated < now - UNKNOWN_KEY_REFRESH:
            await self._wait_for_fetch()  # the keys may have rotated
            key = self._find(key_id)
        if key is None:
            raise PermissionError("no Bot Framework signing key with this key id")
        return key

    def _find(self, key_id: str) -> _OpenIdConfig | None:
        for key in self.keys:
            if isinstance(key, dict) and key.get("kid") == key_id:
                return _OpenIdConfig(RSAAlgorithm.from_jwk(json.dumps(key)), key.get("endorsements", []))
        return None

    async def _wait_for_fetch(self) -> None:
        """Fetch (or join the fetch under way) and wait for it, at most ``timeout`` seconds."""
        fetching = self._start_fetch()
        if fetching is None:
            return
        try:
            await asyncio.wait_for(asyncio.wrap_future(fetching), self.timeout)
        except TimeoutError:
            logger.warning("OpenID metadata from %s did not arrive within %.1f s", self._host, self.timeout)
        except Exception:  # logged by the fetch itself
            pass

    def _start_fetch(self) -> Future[None] | None:
        """The fetch under way, a new one, or None while backing off after a failure."""
        with self._lock:
            if self._fetching is not None and not self._fetching.done():
                return self._fetching
            if self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_after_failure:
                return None
            fetching: Future[None] = Future()
            fetching.set_running_or_notify_cancel()
            self._fetching = fetching
        threading.Thread(target=self._fetch, args=(fetching,), name="openid-metadata", daemon=True).start()
        return fetching

    def _fetch(self, fetching: Future[None]) -> None:
        """Read the metadata and its key set (in a thread); keep them only when both are good."""
        try:
            metadata = requests.get(self.url, timeout=self.timeout)
            metadata.raise_for_status()
            keys_url = metadata.json()["jwks_uri"]
            answer = requests.get(keys_url, timeout=self.timeout)
            answer.raise_for_status()
            keys: Any = answer.json()["keys"]
            if not isinstance(keys, list) or not keys:
                raise ValueError("the key set has no keys")
        except Exception as error:
            with self._lock:
                self._failed_at = time.monotonic()
            logger.warning(
                "could not fetch the OpenID metadata from %s (%s); keeping the last good keys (%d)",
                self._host,
                type(error).__name__,
                len(self.keys),
            )
            fetching.set_exception(error)
            return
        with self._lock:
            self.keys = keys
            self.last_updated = datetime.now()
            self._failed_at = None
        fetching.set_result(None)

    @property
    def _host(self) -> str:
        return urlparse(self.url).netloc


def use_cached_openid_metadata() -> None:
    """Have every botbuilder token check read its signing keys through CachedOpenIdMetadata (process-wide)."""

    def get_open_id_metadata(metadata_url: str) -> CachedOpenIdMetadata:
        metadata = JwtTokenExtractor.metadataCache.get(metadata_url)
        if not isinstance(metadata, CachedOpenIdMetadata):
            metadata = CachedOpenIdMetadata(metadata_url)
            JwtTokenExtractor.metadataCache[metadata_url] = metadata
        return metadata

    JwtTokenExtractor.get_open_id_metadata = staticmethod(get_open_id_metadata)
