"""Limits per token and per client address, on top of the per-socket ones in ``hub``.

A greedy client can open many sockets, each under the per-socket rate; these limits count
across all sockets of one token (connections, frames per second) and one address
(connections, failed authentication attempts), so that one client cannot crowd out the rest.
Everything here runs on the event loop (no locks).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assist.core.settings import Settings
from assist.core.vocabulary import CLOSE_TOO_MANY

MAX_TRACKED_ADDRESSES = 10_000  # failed-auth buckets kept; the fullest are forgotten first


class TokenBucket:
    """``rate`` events per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def allow(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def empty(self) -> bool:
        """No event would be allowed now (without taking one)."""
        self._refill()
        return self.tokens < 1

    def full(self) -> bool:
        self._refill()
        return self.tokens >= self.burst

    def retry_after(self) -> float:
        """Seconds until one event is allowed again."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)


@dataclass(frozen=True)
class Refusal:
    """Why a connection was refused: the websocket close code and a reason."""

    code: int
    reason: str




class AuthThrottle:
    """Failed authentication attempts per client address: a burst, then ``rate`` per second.

    While an address has no attempts left, every attempt from it is refused (429 / close 4429)
    without looking at the token, so guessing tokens gets no faster by also holding a good one.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}

    def blocked(self, address: str) -> float | None:
        """Seconds to wait when ``address`` may not try now, else None."""
        bucket = self._buckets.get(address)
        if bucket is None or not bucket.empty():
            return None
        return max(1.0, bucket.retry_after())

    def failed(self, address: str) -> None:
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
                self._forget_recovered()
            bucket = self._buckets[address] = TokenBucket(self.rate, self.burst)
        bucket.allow()

    def _forget_recovered(self) -> None:
        for address in [a for a, b in self._buckets.items() if b.full()]:
            del self._buckets[address]
        while len(self._buckets) >= MAX_TRACKED_ADDRESSES:  # all still throttled: oldest first
            del self._buckets[next(iter(self._buckets))]


class Quotas:
    """Connections per token and per address, frames per second per token."""

    def __init__(self, settings: Settings) -> None:
        self.per_token = settings.max_connections_per_token
        self.per_address = settings.max_connections_per_address
        self.token_rate, self.token_burst = settings.token_rate_per_s, settings.token_rate_burst
        self.connections_by_token: Counter[str] = Counter()
        self.connections_by_address: Counter[str] = Counter()
        self._frames: dict[str, TokenBucket] = {}
        self.auth = AuthThrottle(settings.auth_fail_per_s, settings.auth_fail_burst)

    def admit(self, token: str, address: str) -> Refusal | None:
        """Count a new connection in, or say why not."""
        if self.connections_by_token[token] >= self.per_token:
            return Refusal(CLOSE_TOO_MANY, f"too many connections for this token (at most {self.per_token})")
        if self.connections_by_address[address] >= self.per_address:
            return Refusal(CLOSE_TOO_MANY, f"too many connections from this address "
                                           f"(at most {self.per_address})")
        self.connections_by_token[token] += 1
        self.connections_by_address[address] += 1
        return None

    def release(self, token: str, address: str) -> None:
        for counter, key in ((self.connections_by_token, token), (self.connections_by_address, address)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]
        # The token's frame bucket stays (tokens are a configured, finite set): reconnecting
        # must not refill it.

    def frame_allowed(self, token: str) -> bool:
        """One frame of ``token`` (any of its sockets) against the token's rate."""
        bucket = self._frames.get(token)
        if bucket is None:
            bucket = self._frames[token] = TokenBucket(self.token_rate, self.token_burst)
        return bucket.allow()


def client_address(scope: Mapping[str, Any]) -> str:
    """The peer's address as uvicorn reports it: the TCP peer, or the X-Forwarded-For client when
    the peer is a trusted proxy (uvicorn's ``forwarded_allow_ips``, 127.0.0.1 by default); from
    anyone else the header is ignored, since a client can write anything there."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
