"""Files written whole or not at all, and outputs that cannot clobber an input.

A file is written to a temporary file in the target's folder and renamed onto the
target (``os.replace``, atomic on one file system) only once it is complete: a write
that fails part way (a full disk, a file size limit, Ctrl-C) removes the temporary
file and leaves whatever was at the target as it was.  ``check_output`` is run before
any work, so that a command refuses an output that is a folder, lies in a folder that
does not exist, or is one of its own inputs (by name or through a link) before it
reads anything.
"""
import contextlib
import os
import tempfile


def _mode_for(path):
    """The permission bits a new file at ``path`` gets: those of the file it replaces,
    else the ones ``open`` would give (0o666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path, mode="w"):
    """Open a temporary file beside ``path``; on a clean exit, rename it to ``path``.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    mode : {"w", "wb"}, default="w"

    Yields
    ------
    file object
        Its ``name`` is the temporary file's path.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(  # a short name: the target's may be long
        dir=folder, prefix=".fastgd-", suffix=".partial")
    try:
        with os.fdopen(handle, mode) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())  # on disk before the name points at it
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def check_output(path, option, inputs=()):
    """Raise a ``ValueError`` naming ``option`` when ``path`` cannot be an output.

    Parameters
    ----------
    path : str or path-like
        The file a command will write.
    option : str
        The command-line option that named it (for the message).
    inputs : sequence of str or path-like
        The files the command reads: the output may be none of them, by name or
        through a link.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{option} {path!r} is a folder; give a file name.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        why = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise ValueError(f"{option} {path!r}: {folder!r} {why}.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path!r}: the folder {folder!r} is not "
                         f"writable.")
    for source in inputs:
        if _same_file(path, source):
            raise ValueError(f"{option} {path!r} is the input {os.fspath(source)!r} "
                             "(or a link to it): writing there would destroy it; "
                             "choose another name.")


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return os.path.realpath(a) == os.path.realpath(b)
