"""A preallocated ring buffer the loop logs rows into, and a background thread that empties it into a sink."""

import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

import numpy as np

from exohub._utils._checks import check_positive
from exohub.exceptions import ValidationError

logger = logging.getLogger(__name__)


class RingLog:
    """Rows of float64 values in a ring buffer allocated once: the loop appends, another thread drains.

    :meth:`append` copies one row into the buffer without allocating and never blocks for longer than an index
    update: if the consumer falls behind, the oldest unread rows are overwritten and counted
    (:attr:`n_overwritten`). :meth:`drain` returns, in order, every row appended since the last drain that was not
    overwritten; no row is returned twice.

    Parameters
    ----------
    n_rows
        Rows the buffer holds (e.g. ``rate_hz`` x the longest flush interval x a margin).
    columns
        One name per value in a row.

    Notes
    -----
    One producer (the loop) and any number of consumers. A lock guards the read and write positions only; the
    rows themselves are copied outside it. A drain that races an overwrite checks the read position again after
    its copy and discards the rows that may have been overwritten meanwhile (they were already counted).
    """

    def __init__(self, n_rows: int, columns: Sequence[str]) -> None:
        if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 1:
            raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}.")
        names = tuple(columns) if not isinstance(columns, str) else (columns,)
        if not names or not all(isinstance(name, str) and name for name in names):
            raise ValueError(f"columns must be a non-empty sequence of non-empty names, got {columns!r}.")
        if len(set(names)) != len(names):
            repeated = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"columns must be unique; repeated: {repeated}.")
        self.n_rows = int(n_rows)
        self.columns = names
        self._buffer = np.zeros((self.n_rows, len(names)))
        self._n_columns = len(names)
        self._head = 0  # rows ever appended (only the producer writes it)
        self._tail = 0  # rows ever consumed or overwritten
        self._n_overwritten = 0
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RingLog(n_rows={self.n_rows}, columns={self.columns!r}, n_pending={self.n_pending})"

    @property
    def n_appended(self) -> int:
        """Rows appended since the log was made."""
        return self._head

    @property
    def n_overwritten(self) -> int:
        """Rows overwritten before a drain could read them."""
        return self._n_overwritten

    @property
    def n_pending(self) -> int:
        """Rows waiting for the next drain."""
        with self._lock:
            return self._head - self._tail

    def append(self, values: Sequence[float] | np.ndarray) -> None:
        """Copy one row (``len(columns)`` values) into the buffer; overwrite the oldest unread row when full."""
        if len(values) != self._n_columns:
            raise ValidationError(f"a RingLog row needs one value per column {self.columns}, got {len(values)}.")
        head = self._head
        if head - self._tail >= self.n_rows:  # maybe full (a stale tail only errs towards "full"): make room
            with self._lock:
                lost = head - self._tail - self.n_rows + 1
                if lost > 0:
                    self._tail += lost
                    self._n_overwritten += lost
        self._buffer[head % self.n_rows] = values
        with self._lock:
            self._head = head + 1

    def drain(self) -> np.ndarray:
        """Return the rows appended since the last drain, oldest first, as a new ``(n, len(columns))`` array."""
        with self._drain_lock:
            with self._lock:
                tail, head = self._tail, self._head
            rows = self._copy(tail, head)
            with self._lock:
                moved = self._tail  # the producer moved it if it overwrote rows during the copy
                self._tail = max(moved, head)
            return rows[max(moved - tail, 0) :]

    def _copy(self, tail: int, head: int) -> np.ndarray:
        first = tail % self.n_rows
        stop = first + head - tail
        if stop <= self.n_rows:
            return self._buffer[first:stop].copy()
        return np.concatenate((self._buffer[first:], self._buffer[: stop - self.n_rows]))


class RingLogFlusher:
    """A background thread that drains a :class:`RingLog` every ``period_s`` and hands the rows to ``sink``.

    Use it as a context manager (or :meth:`start` / :meth:`stop`) around the loop. The sink runs in this thread,
    never in the loop; it receives one ``(n, len(columns))`` array per non-empty drain (a list's ``append``, a
    session-log writer). On :meth:`stop` the log is drained a last time. If the sink raises, the thread logs the
    error and stops flushing (the loop is unaffected; later rows are overwritten and counted), and :meth:`stop`
    raises it.

    Parameters
    ----------
    ringlog
        The log to drain.
    sink
        Called with each drained block of rows.
    period_s
        Time between drains (s).
    """

    def __init__(self, ringlog: RingLog, sink: Callable[[np.ndarray], object], period_s: float = 0.1) -> None:
        if not isinstance(ringlog, RingLog):
            raise TypeError(f"ringlog must be a RingLog, got {type(ringlog).__name__}.")
        if not callable(sink):
            raise TypeError(f"sink must be callable with an array of rows, got {type(sink).__name__}.")
        self.ringlog = ringlog
        self.sink = sink
        self.period_s = check_positive("period_s", period_s)
        self.n_flushed_rows = 0
        self.error: Exception | None = None
        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"RingLogFlusher(ringlog={self.ringlog!r}, period_s={self.period_s!r}, running={self.running})"

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start the thread; returns self."""
        if self.running:
            raise RuntimeError("this RingLogFlusher is already running; call stop() first.")
        self._stop_requested.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run, name="exohub-ringlog-flusher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Drain a last time, stop the thread, and raise the sink's error if it failed."""
        if self._thread is not None:
            self._stop_requested.set()
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                raise RuntimeError(f"the RingLog flusher did not stop within {timeout_s} s; is the sink blocked?")
            self._thread = None
        if self.error is not None:
            raise self.error

    def flush(self) -> int:
        """Drain once and hand the rows to the sink (if any); return how many rows."""
        rows = self.ringlog.drain()
        if len(rows):
            self.sink(rows)
            self.n_flushed_rows += len(rows)
        return len(rows)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            while not self._stop_requested.wait(self.period_s):
                self.flush()
            self.flush()
        except Exception as err:
            logger.exception("The RingLog sink %r failed; rows are no longer flushed.", self.sink)
            self.error = err
