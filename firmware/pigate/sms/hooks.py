"""The SMS notifications' sender: posts the durably queued IncomingSMS and SMSDeliveryReport webhooks with
retries and backoff, hands each answer on, and runs the service's timed upkeep between posts."""

from __future__ import annotations

import logging
import time
from typing import Callable, Mapping, Protocol

from pigate.errors import ApiError, NotifyError
from pigate.notify import BadUrl, ForbiddenTarget
from pigate.retry import RetryPolicy
from pigate.workers import WakeableLoop
from pigate.store.sms import Hook, SmsStore

log = logging.getLogger(__name__)


class Poster(Protocol):
    """pigate.notify.Notifier: post form fields, return the answer's text; raises NotifyError."""

    def post(self, url: str, fields: Mapping[str, str]) -> str: ...


def _permanent(exc: Exception) -> bool:
    """Errors another attempt cannot fix: a refused address, a malformed URL, a 4xx answer."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
        return True
    return isinstance(exc, (ApiError, BadUrl, ForbiddenTarget))


class HookWorker:
    """One thread. `upkeep(now)` runs before each round and returns when it next wants to run."""

    def __init__(self, *, store: SmsStore, poster: Poster | None, policy: RetryPolicy,
                 on_answer: Callable[[Hook, str], None], upkeep: Callable[[float], float | None],
                 clock: Callable[[], float] = time.time) -> None:
        self._store, self._poster, self._policy = store, poster, policy
        self._on_answer, self._upkeep, self._clock = on_answer, upkeep, clock
        self._loop = WakeableLoop(name="sms-hooks", step=self._round)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._loop.stop(timeout)

    def wake(self) -> None:
        self._loop.wake()

    def _round(self) -> float:
        now = self._clock()
        deadlines = [self._upkeep(now)]
        for hook in self._store.due_hooks(now=now):
            if self._loop.stopping:
                return 0.0
            self._post(hook)
        deadlines.append(self._store.next_hook_due())
        due = [t for t in deadlines if t is not None]
        return max(0.0, min(min(due) - self._clock(), 30.0)) if due else 30.0

    def _post(self, hook: Hook) -> None:
        if self._poster is None:
            self._store.hook_failed(hook.id, error="no webhook client configured")
            return
        try:
            answer = self._poster.post(hook.url, hook.fields)
        except (NotifyError, ApiError) as exc:
            tries = hook.attempts + 1
            if _permanent(exc) or self._policy.exhausted(tries):
                log.warning("%s %s to %s failed for good: %s", hook.kind, hook.subject, hook.url, exc)
                self._store.hook_failed(hook.id, error=str(exc))
            else:
                delay = self._policy.delay(tries)
                log.info("%s %s to %s failed (%s); retry in %.0f s", hook.kind, hook.subject, hook.url, exc, delay)
                self._store.hook_retry(hook.id, at=self._clock() + delay, error=str(exc))
            return
        # The answer is acted on before the hook is marked done: a crash in between posts it again (at least
        # once), and what the answer asks for is idempotent (SendSms carries a reference derived from the hook).
        try:
            self._on_answer(hook, answer)
        except Exception:
            log.exception("acting on the answer to %s %s failed", hook.kind, hook.subject)
        self._store.hook_done(hook.id, answer=answer)
