"""Where the response cache (core.http.respcache) keeps its copies: Redis, or one process's
memory in the embedded setup. Both give the same operations:

- ``get(key)``: the copy, ``TOMBSTONE`` while the key is forgotten, or None;
- ``add(key, value, seconds)``: store unless the key holds anything (``SET NX``);
- ``add_owned(key, value, seconds, owner)``: the same for a copy that belongs to one owner
  (a user's private page), refused while that owner is forgotten;
- ``forget(keys)`` / ``forget_owners(owners)``: tombstones, for ``TOMBSTONE_SECONDS``: the
  keys, or every copy of each owner and the owner itself;
- ``clear()``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from redis import Redis

TOMBSTONE = b"\x00"
TOMBSTONE_SECONDS = 10  # longer than any read between its SELECT and its store (timeouts)
SOCKET_TIMEOUT = 0.25
MEMORY_BYTES = 32 * 2**20
OWNER_SET_EXTRA_SECONDS = 60

# KEYS: the copy, the owner's tombstone, the owner's set of copies.
# ARGV: the value, its seconds, the set's seconds (only ever extended: the set must outlive
# every copy it names, or a forget would miss one).
_ADD_OWNED = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('TTL', KEYS[3]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return 1
"""
# KEYS: pairs (owner's tombstone, owner's set). ARGV: the tombstone's seconds.
_FORGET_OWNERS = """
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[i + 1])) do redis.call('DEL', key) end
  redis.call('DEL', KEYS[i + 1])
end
return 0
"""


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = Redis.from_url(url, socket_connect_timeout=SOCKET_TIMEOUT,
                                    socket_timeout=SOCKET_TIMEOUT)
        self.prefix = prefix
        self._add_owned = self.redis.register_script(_ADD_OWNED)
        self._forget_owners = self.redis.register_script(_FORGET_OWNERS)

    def get(self, key: str) -> bytes | None:
        return self.redis.get(self.prefix + key)

    def add(self, key: str, value: bytes, seconds: int) -> None:
        self.redis.set(self.prefix + key, value, ex=seconds, nx=True)

    def add_owned(self, key: str, value: bytes, seconds: int, owner: str) -> None:
        p = self.prefix
        self._add_owned(keys=[p + key, p + "owner-tomb:" + owner, p + "owner:" + owner],
                        args=[value, seconds, seconds + OWNER_SET_EXTRA_SECONDS])

    def forget(self, keys: Iterable[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.set(self.prefix + key, TOMBSTONE, ex=TOMBSTONE_SECONDS)
        pipe.execute()

    def forget_owners(self, owners: Iterable[str]) -> None:
        """Every chunk is tried; the first error is raised after the last chunk."""
        p = self.prefix
        keys = [k for o in sorted(owners) for k in (p + "owner-tomb:" + o, p + "owner:" + o)]
        failed: Exception | None = None
        for start in range(0, len(keys), 2000):
            try:
                self._forget_owners(keys=keys[start:start + 2000], args=[TOMBSTONE_SECONDS])
            except Exception as exc:  # noqa: BLE001 - re-raised below
                failed = failed or exc
        if failed is not None:
            raise failed

    def clear(self) -> None:
        batch: list[bytes] = []
        for key in self.redis.scan_iter(self.prefix + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                self.redis.delete(*batch)
                batch = []
        if batch:
            self.redis.delete(*batch)


class MemoryStore:
    """One process's store (the embedded setup): at most ``max_bytes`` of copies, the oldest
    dropped first; tombstones kept apart, so a flood of copies cannot push one out."""

    def __init__(self, max_bytes: int = MEMORY_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.tombstones: dict[str, float] = {}
        self.owners: dict[str, set[str]] = {}
        self.owner_of: dict[str, str] = {}
        self.swept = 0.0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        now = time.monotonic()
        if self.tombstones.get(key, 0.0) > now:
            return TOMBSTONE
        entry = self.entries.get(key)
        if entry is None or entry[0] < now:
            return None
        return entry[1]

    def _drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry[1])
        owner = self.owner_of.pop(key, None)
        if owner is not None:
            keys = self.owners.get(owner)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.owners[owner]

    def _sweep(self) -> None:
        """Drop what expired (copies and tombstones), at most once a second."""
        now = time.monotonic()
        if now - self.swept < 1.0:
            return
        self.swept = now
        for key in [k for k, (until, _) in self.entries.items() if until < now]:
            self._drop(key)
        self.tombstones = {k: t for k, t in self.tombstones.items() if t > now}

    def _add(self, key: str, value: bytes, seconds: int) -> bool:
        self._sweep()
        if self.get(key) is not None or len(value) > self.max_bytes:
            return False
        self._drop(key)
        self.entries[key] = (time.monotonic() + seconds, value)
        self.size += len(value)
        while self.size > self.max_bytes:
            self._drop(next(iter(self.entries)))
        return True

    def add(self, key: str, value: bytes, seconds: int) -> None:
        with self.lock:
            self._add(key, value, seconds)

    def add_owned(self, key: str, value: bytes, seconds: int, owner: str) -> None:
        with self.lock:
            if self.get("owner:" + owner) == TOMBSTONE:
                return
            if self._add(key, value, seconds):
                self.owners.setdefault(owner, set()).add(key)
                self.owner_of[key] = owner

    def _tombstone(self, keys: Iterable[str]) -> None:
        self._sweep()
        until = time.monotonic() + TOMBSTONE_SECONDS
        for key in keys:
            self._drop(key)
            self.tombstones[key] = until

    def forget(self, keys: Iterable[str]) -> None:
        with self.lock:
            self._tombstone(keys)

    def forget_owners(self, owners: Iterable[str]) -> None:
        with self.lock:
            owners = list(owners)
            for owner in owners:
                for key in list(self.owners.get(owner, ())):
                    self._drop(key)
            self._tombstone(["owner:" + owner for owner in owners])

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.tombstones.clear()
            self.owners.clear()
            self.owner_of.clear()
            self.size = 0
