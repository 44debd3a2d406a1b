"""The recording store: a session's recording, read in any format the signals module reads, kept as Parquet.

An upload is streamed to ``<DATA_DIR>/incoming/`` (:func:`exohub.web.uploads.receive_file`), read and
analysed there, then written to ``<DATA_DIR>/recordings/<organisation id>/<key>.parquet`` with an atomic
rename, and only then recorded in the database. If anything fails the incoming file and any written
recording are removed, and the transaction rolls back, so there is never a session pointing at half a file
(a process killed mid-upload leaves at most an incoming file, which
:func:`exohub.web.uploads.sweep_incoming` removes).
"""

import hashlib
import uuid
from pathlib import Path

from starlette.datastructures import UploadFile

from exohub.exceptions import ExohubError
from exohub.signals import Recording
from exohub.signals.io import read_recording, readable_suffixes, write_parquet
from exohub.web.errors import InvalidInputError
from exohub.web.uploads import FILE_FIELD, StoredFile, check_size

_COPY_CHUNK_BYTES = 1024 * 1024
_FIELD = f"body.{FILE_FIELD}"


def recording_path(data_dir: Path, organisation_id: int, key: str) -> Path:
    """Where the Parquet recording ``key`` of ``organisation_id`` lives."""
    return data_dir / "recordings" / str(organisation_id) / f"{key}.parquet"


def new_key() -> str:
    """A fresh, unguessable recording key."""
    return uuid.uuid4().hex


def check_suffix(filename: str) -> str:
    """The recording format that ``filename`` names (its suffix), or an error listing the readable ones."""
    suffix = Path(filename).suffix.lower()
    if suffix not in readable_suffixes():
        shown = filename or "the upload (it has no file name)"
        raise InvalidInputError(
            f"{shown}: exohub reads recordings ending in {', '.join(readable_suffixes())}; "
            "name the file with its format's suffix.",
            field=_FIELD,
        )
    return suffix


def read_upload(path: Path, filename: str) -> Recording:
    """Read an uploaded recording saved at ``path``; a file that cannot be read is invalid input, with the reason."""
    suffix = check_suffix(filename)
    readable = path.with_name(f"{path.stem}{suffix}")
    path.rename(readable)
    try:
        return read_recording(readable)
    except ExohubError as err:
        reason = str(err).replace(str(readable), filename)  # the server's paths stay on the server
        raise InvalidInputError(f"{filename} is not a valid recording: {reason}", field=_FIELD) from err
    except Exception as err:  # third-party readers of an untrusted file: whatever they raise means "unreadable"
        reason = str(err).replace(str(readable), filename)
        raise InvalidInputError(
            f"{filename} could not be read as {suffix} ({type(err).__name__}: {reason}); it may be truncated or "
            "in another format.",
            field=_FIELD,
        ) from err
    finally:
        readable.rename(path)


def store(recording: Recording, path: Path, *, upload: Path, filename: str) -> None:
    """Put ``recording`` in the store as Parquet at ``path`` (atomically: a reader sees no file or the whole file).

    An upload that already is an exohub Parquet recording (:func:`read_upload` read it) is moved into place as
    it came; any other format is written anew.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if check_suffix(filename) == ".parquet":
        upload.replace(path)
    else:
        write_parquet(recording, path)


async def save_upload_file(upload: UploadFile, destination: Path, *, max_bytes: int) -> StoredFile:
    """Copy a file a page form sent (already spooled by the form parser) to ``destination``, hashing it."""
    digest = hashlib.sha256()
    size_bytes = 0
    with destination.open("wb") as out:
        while chunk := await upload.read(_COPY_CHUNK_BYTES):
            size_bytes = check_size(size_bytes + len(chunk), max_bytes, what="the recording")
            digest.update(chunk)
            out.write(chunk)
    return StoredFile(sha256=digest.hexdigest(), size_bytes=size_bytes, filename=upload.filename or "")
