"""Where an upload's analysis stands, for the page that waits for it.

The session form sends a random token with the upload (``?progress=<token>``); the server notes each stage of
:func:`~exohub.web.clinic.sessions.prepare_recording` under it, and the page asks ``GET
/clinic/upload-progress?token=...`` while it waits. The board lives in the worker's memory: with several
workers a poll may reach another one, which answers "unknown" and the page keeps its last message. A token is
readable only by the person who sent the upload.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

STAGES = (
    "Reading the recording",
    "Analysing gait: events, strides, joint and muscle curves, signal quality",
    "Storing the recording",
    "Saving the session",
)
TOKEN_PATTERN = r"^[0-9a-f]{32}$"  # noqa: S105 - the shape of a progress token, not a secret
MAX_ENTRIES = 1024
MAX_AGE_S = 3600.0


@dataclass(frozen=True)
class Progress:
    user_id: int
    step: int
    stage: str
    updated_at_s: float


class ProgressBoard:
    """The latest stage of each upload in flight, by token (bounded: the oldest entries are dropped)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age_s: float = MAX_AGE_S) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._entries: OrderedDict[str, Progress] = OrderedDict()
        self._lock = threading.Lock()

    def report(self, token: str, user_id: int, step: int) -> None:
        """Note that the upload ``token`` of ``user_id`` reached stage ``step`` (an index of :data:`STAGES`)."""
        with self._lock:
            self._entries[token] = Progress(user_id, step, STAGES[step], time.monotonic())
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get(self, token: str, user_id: int) -> Progress | None:
        """The upload's latest stage, or None when unknown here, too old, or someone else's."""
        with self._lock:
            entry = self._entries.get(token)
        if entry is None or entry.user_id != user_id or time.monotonic() - entry.updated_at_s > self.max_age_s:
            return None
        return entry


BOARD = ProgressBoard()
