"""A text data file in blocks of whole lines, and the line helpers its readers share.

``line_blocks`` reads a file about ``chunk_bytes`` at a time and cuts each read at its
last ``\\n``, so that a block holds whole lines (a longer line makes a longer block)
and a file larger than memory is never held whole; each block comes with the number
of its first line, which the readers' error messages cite.  The helpers take a line
or a block as bytes: a line without its ``#`` comment (``content``), a token as an
error message quotes it (``shown``), a block's line range (``span``), one line of a
block (``line_at``), a block without its first lines (``drop_lines``).
"""
import os

#: a UTF-8 byte-order mark, dropped at the start of a file
BOM = b"\xef\xbb\xbf"


def line_blocks(path, chunk_bytes):
    """Yield ``(first line number, bytes)``: the file in blocks of whole lines of
    about ``chunk_bytes`` each (a longer line makes a longer block).

    Parameters
    ----------
    path : str
    chunk_bytes : int
        About how many bytes a block holds (at least 1).

    Yields
    ------
    (int, bytes)
        The number of the block's first line (from 1) and the block, which ends
        with ``\\n`` unless it is the file's last line without one.
    """
    with open(path, "rb") as f:
        # read() allocates what it is asked for: not more than the file
        chunk_bytes = max(1, min(chunk_bytes, os.fstat(f.fileno()).st_size + 1))
        line, rest = 1, b""
        while True:
            data = f.read(chunk_bytes)
            if not data:
                if rest.strip():
                    yield line, rest
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no line ends in it yet
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")


def content(line):
    """A line without its comment and surrounding blanks."""
    return line.split(b"#", 1)[0].strip()


def shown(token):
    """A token of a line as an error message quotes it."""
    return token.decode("utf-8", errors="backslashreplace")


def line_at(block, start):
    """The line of ``block`` that starts at ``start``, without its end."""
    end = block.find(b"\n", start)
    return block[start:] if end < 0 else block[start:end]


def span(path, first_line, block):
    """``"path, lines a-b"`` of a block."""
    newlines = block.count(b"\n")
    return f"{path}, lines {first_line}-{first_line + max(newlines - 1, 0)}"


def drop_lines(block, n_lines):
    """``block`` after its first ``n_lines`` lines (empty if it has no more)."""
    start = 0
    for _ in range(n_lines):
        start = block.find(b"\n", start) + 1
        if start == 0:
            return b""
    return block[start:]
