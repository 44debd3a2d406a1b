"""RingLog: order across the wrap, overflow counting, no allocation, concurrent producer and consumer; the flusher."""

import logging
import sys
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from exohub.control import RingLog, RingLogFlusher
from exohub.exceptions import ValidationError

COLUMNS = ("i", "twice", "minus")


def row(i: int) -> list[float]:
    return [float(i), 2.0 * i, -float(i)]


def rows(start: int, stop: int) -> np.ndarray:
    return np.array([row(i) for i in range(start, stop)]).reshape(-1, len(COLUMNS))


def test_rows_come_back_in_order_across_the_wrap() -> None:
    log = RingLog(5, COLUMNS)
    for i in range(3):
        log.append(row(i))
    assert_array_equal(log.drain(), rows(0, 3))
    for i in range(3, 7):  # rows 5 and 6 land at the start of the buffer again
        log.append(np.array(row(i)))
    assert log.n_pending == 4
    assert_array_equal(log.drain(), rows(3, 7))
    assert log.drain().shape == (0, 3)
    assert (log.n_appended, log.n_overwritten, log.n_pending) == (7, 0, 0)


def test_a_full_log_overwrites_the_oldest_rows_and_counts_them() -> None:
    log = RingLog(4, COLUMNS)
    for i in range(10):
        log.append(row(i))
    assert log.n_overwritten == 6
    assert_array_equal(log.drain(), rows(6, 10))
    for i in range(10, 13):
        log.append(row(i))
    assert_array_equal(log.drain(), rows(10, 13))
    assert log.n_overwritten == 6


def test_a_row_of_the_wrong_length_is_refused_naming_the_columns() -> None:
    log = RingLog(4, COLUMNS)
    with pytest.raises(ValidationError, match=r"one value per column \('i', 'twice', 'minus'\), got 2"):
        log.append([1.0, 2.0])
    assert log.n_appended == 0


@pytest.mark.parametrize(
    ("n_rows", "columns", "match"),
    [
        (0, COLUMNS, "n_rows must be a positive integer, got 0"),
        (2.5, COLUMNS, "n_rows must be a positive integer"),
        (4, (), "columns must be a non-empty sequence"),
        (4, ("a", ""), "columns must be a non-empty sequence of non-empty names"),
        (4, ("a", "b", "a"), r"repeated: \['a'\]"),
    ],
)
def test_bad_ringlog_settings_are_refused(n_rows, columns, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RingLog(n_rows, columns)


def test_append_allocates_nothing_that_survives() -> None:
    log = RingLog(64, COLUMNS)
    values = np.zeros(len(COLUMNS))
    blocks = np.zeros(5000, dtype=np.int64)
    for i in range(5000):
        values[0] = i
        log.append(values)
        blocks[i] = sys.getallocatedblocks()
    assert np.ptp(blocks[1000:]) == 0  # after warm-up (small-int cache passed, the interpreter's own caches made)


def test_concurrent_producer_and_consumer_lose_and_repeat_no_row() -> None:
    n_total, log = 20_000, RingLog(256, COLUMNS)
    received: list[np.ndarray] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set():
            received.append(log.drain())
        received.append(log.drain())

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(n_total):
        while log.n_pending >= 192:  # the test keeps the producer from overflowing; the loop never waits
            time.sleep(1e-5)
        log.append(row(i))
    done.set()
    consumer.join()
    assert log.n_overwritten == 0
    assert_array_equal(np.concatenate(received), rows(0, n_total))


def test_an_overflowing_consumer_gets_whole_rows_in_order_and_the_rest_is_counted() -> None:
    n_total, log = 50_000, RingLog(16, COLUMNS)
    received: list[np.ndarray] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set():
            received.append(log.drain())
            time.sleep(1e-4)
        received.append(log.drain())

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(n_total):
        log.append(row(i))
    done.set()
    consumer.join()
    got = np.concatenate(received)
    assert log.n_overwritten > 0
    assert len(got) + log.n_overwritten == n_total  # each row either read once or counted as overwritten
    assert np.all(np.diff(got[:, 0]) > 0)  # in order, no duplicate
    assert_array_equal(got, np.column_stack([got[:, 0], 2 * got[:, 0], -got[:, 0]]))  # no torn row
    assert got[-1, 0] == n_total - 1


def test_the_flusher_hands_every_row_to_the_sink_off_the_producer_thread() -> None:
    log = RingLog(1024, COLUMNS)
    blocks: list[np.ndarray] = []
    threads: set[str] = set()

    def sink(block: np.ndarray) -> None:
        threads.add(threading.current_thread().name)
        blocks.append(block)

    with RingLogFlusher(log, sink, period_s=0.002) as flusher:
        assert flusher.running
        for i in range(3000):
            log.append(row(i))
            if i % 100 == 0:
                time.sleep(0.001)
    assert not flusher.running
    assert threads == {"exohub-ringlog-flusher"}
    assert len(blocks) > 1
    assert_array_equal(np.concatenate(blocks), rows(0, 3000))
    assert flusher.n_flushed_rows == 3000


def test_a_failing_sink_is_logged_and_raised_by_stop(caplog: pytest.LogCaptureFixture) -> None:
    log = RingLog(8, COLUMNS)
    log.append(row(0))

    def sink(block: np.ndarray) -> None:
        raise OSError("disk full")

    flusher = RingLogFlusher(log, sink, period_s=0.001).start()
    with caplog.at_level(logging.ERROR, logger="exohub.control.ringlog"):
        deadline = time.monotonic() + 5.0
        while flusher.running and time.monotonic() < deadline:
            time.sleep(0.001)
    assert "rows are no longer flushed" in caplog.text
    for i in range(1, 20):  # the producer goes on; rows are overwritten, never blocked on
        log.append(row(i))
    assert log.n_overwritten > 0
    with pytest.raises(OSError, match="disk full"):
        flusher.stop()


def test_flusher_arguments_and_double_start_are_refused() -> None:
    log = RingLog(8, COLUMNS)
    with pytest.raises(TypeError, match="ringlog must be a RingLog"):
        RingLogFlusher([], list.append)
    with pytest.raises(TypeError, match="sink must be callable"):
        RingLogFlusher(log, None)
    with pytest.raises(ValueError, match="period_s must be a finite positive number"):
        RingLogFlusher(log, print, period_s=0)
    flusher = RingLogFlusher(log, lambda block: None).start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            flusher.start()
    finally:
        flusher.stop()
