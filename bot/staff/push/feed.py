"""The live feed: one reader of new events per staff-app process, fanned out to open pages.

A background thread, started when the first live page opens a stream and ended a while after the
last one closed, follows Rasa's events table by id (`bot.staff.push.tail`): one read every `POLL`
seconds, whatever the number of pages. What it holds (`bot.staff.push.follower`) is touched by
that thread only: pages open, close and forget through commands on a queue, and their frames are
handed to them with `Deliver` (thread-safe). When the database fails, every page is told the
feed is down and let go: the page polls meanwhile and opens a new stream after a growing pause.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.db.session import make_engine
from bot.staff.push.follower import Follower
from bot.staff.push.subscribers import Deliver, Opening, PushUnavailableError, Subscriber, Ticket

log = logging.getLogger("bot.staff.push")

POLL = 0.25  # seconds between reads of the events table while pages are open
OPEN_SECONDS = 10.0  # how long opening a stream waits for the feed's thread
THREAD_NAME = "staff-live-feed"

Work = Callable[[Follower, Session], Any]


class LiveFeed:
    """Pushes new chat lines and takeover state to the open live pages of one process."""

    def __init__(self, database_url: str, poll: float = POLL) -> None:
        """Follow the events table at `database_url`, reading every `poll` seconds."""
        self.database_url = database_url
        self.poll = poll
        self.reads = 0  # reads of the events table so far (for operators and tests)
        self._lock = threading.Lock()
        self._commands: queue.Queue[tuple[Work, Future | None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        """Whether the feed's thread is running."""
        with self._lock:
            return self._thread is not None

    def open(self, ticket: Ticket, deliver: Deliver) -> Opening:
        """Follow a conversation for a page (blocking); PushUnavailableError if it cannot."""
        future: Future[Opening] = Future()
        self._submit(partial(Follower.open, ticket=ticket, deliver=deliver), future)
        try:
            return future.result(timeout=OPEN_SECONDS)
        except FutureTimeout as error:
            if not future.cancel():  # it runs now: let the page go once it has opened
                self.close(future.result().subscriber)
            raise PushUnavailableError("the live feed did not answer in time") from error
        except PushUnavailableError:
            raise
        except Exception as error:  # the database failed while the feed read for this page
            raise PushUnavailableError(type(error).__name__) from error

    def figures(self) -> dict[str, int]:
        """How many pages and conversations are followed now, and the reads so far (counts)."""
        future: Future[dict[str, int]] = Future()
        with contextlib.suppress(PushUnavailableError):
            if self._submit(lambda follower, _: follower.figures(), future, start=False):
                return {**future.result(timeout=OPEN_SECONDS), "reads": self.reads}
        return {"pages": 0, "conversations": 0, "reads": self.reads}

    def close(self, subscriber: Subscriber) -> None:
        """A page has gone (its stream ended)."""
        self._submit(lambda follower, _: follower.close(subscriber), start=False)

    def forget(self, conversation_id: str) -> None:
        """Stop following a conversation at once (it was erased): its pages reconnect."""
        self._submit(lambda follower, _: follower.forget(conversation_id), start=False)

    def stop(self, timeout: float = 5.0) -> None:
        """End every stream and the thread (the app is shutting down)."""
        with self._lock:
            self._stopping.set()
            thread = self._thread
            self._commands.put((lambda *_: None, None))  # wakes the thread
        if thread is not None:
            thread.join(timeout)

    def _submit(self, work: Work, future: Future | None = None, *, start: bool = True) -> bool:
        """Queue work for the thread, starting it if needed (`start`); whether it was queued."""
        with self._lock:
            if self._stopping.is_set():
                if future is None:
                    return False
                raise PushUnavailableError("the staff app is stopping")
            if self._thread is None and not start:
                return False  # nothing is followed: nothing to change
            self._commands.put((work, future))
            if self._thread is None:
                self._start_thread()
            return True

    def _start_thread(self) -> None:
        """Start the thread (the caller holds the lock)."""
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """The thread: serve commands and read new events until nothing is followed."""
        engine = make_engine(self.database_url, immediate=False)  # SQLite: no write lock taken
        follower = Follower(sessionmaker(bind=engine, future=True, expire_on_commit=False))
        try:
            while self._step(follower):
                pass
        finally:
            follower.end()
            engine.dispose()
            self._finish()

    def _step(self, follower: Follower) -> bool:
        """One round: commands, then a read; False when the thread should end."""
        self._serve(follower)
        now = time.monotonic()
        if self._stopping.is_set() or not self._needed(follower, now):
            return False
        before = follower.reads
        follower.read(now)
        self.reads += follower.reads - before
        return True

    def _needed(self, follower: Follower, now: float) -> bool:
        """Whether the thread still has work; if not, it lets go under the lock."""
        if follower.linger(now):
            return True
        with self._lock:
            if not self._commands.empty():
                return True
            self._thread = None  # a page opening from now on starts a new thread
            return False

    def _finish(self) -> None:
        """After the thread's last round: refuse what waits if stopping, else hand it over."""
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None  # ended by an error: the next command starts a new one
                if not self._stopping.is_set() and not self._commands.empty():
                    self._start_thread()
            if not self._stopping.is_set():
                return
        while True:
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future is not None and future.set_running_or_notify_cancel():
                future.set_exception(PushUnavailableError("the staff app is stopping"))

    def _serve(self, follower: Follower) -> None:
        """Run the queued commands (waiting up to `poll` seconds for the first)."""
        try:
            batch = [self._commands.get(timeout=self.poll)]
        except queue.Empty:
            return
        while True:
            try:
                batch.append(self._commands.get_nowait())
            except queue.Empty:
                break
        with follower.sessions() as session:
            for work, future in batch:
                run_command(follower, session, work, future)


def run_command(follower: Follower, session: Session, work: Work, future: Future | None) -> None:
    """Run one command and hand its result (or its error) to whoever waits."""
    if future is not None and not future.set_running_or_notify_cancel():
        return  # whoever asked gave up waiting
    try:
        result = work(follower, session)
    except Exception as error:
        with contextlib.suppress(Exception):
            session.rollback()
        if future is not None:
            future.set_exception(error)
        else:
            log.warning("live feed: a command failed (%s)", type(error).__name__)
        return
    if future is not None:
        future.set_result(result)
