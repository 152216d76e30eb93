"""Which format a data file is in: libsvm, CSV or Parquet, from its first bytes.

The content decides (``sniff_format``): Parquet's magic bytes, ``index:value``
tokens (libsvm) or commas (CSV) on the first line of data.  An archive (a model's
``.npz``, a compressed file, a ``.npy`` array) is refused with what it looks like and
what to do.  The suffix only breaks a tie (``guess_format``).  A format given that the
content plainly contradicts is refused with the format the file looks like
(``checked_format``).  Every reader's error is a ``FileFormatError``.
"""
import os
import re

from fastgd._files.lines import BOM, content

FORMATS = ("libsvm", "csv", "parquet")
_SUFFIXES = {".svm": "libsvm", ".libsvm": "libsvm", ".svmlight": "libsvm",
             ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: what the start of a file that is not data looks like, and what to do about it
_NOT_DATA = (
    (b"PK\x03\x04", "a zip archive (a fastgd model file, .npz?)",
     "fastgd reads libsvm, CSV and Parquet files"),
    (b"PK\x05\x06", "an empty zip archive",
     "fastgd reads libsvm, CSV and Parquet files"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz)"),
    (b"\x93NUMPY", "a NumPy .npy file", "fastgd reads libsvm, CSV and Parquet files"),
)
_PARQUET_MAGIC = b"PAR1"
_INDEX_VALUE = re.compile(rb"^\d+:")


class FileFormatError(ValueError):
    """A data file that does not parse: names the file and the line."""


def guess_format(path):
    """The format of ``path`` from its suffix (``.csv``, ``.parquet``/``.pq``;
    anything else is read as libsvm, the format of ``.svm``, ``.txt`` and
    ``.libsvm`` files)."""
    return _SUFFIXES.get(os.path.splitext(str(path))[1].lower(), "libsvm")


def _first_data_line(head, complete):
    """The first line of ``head`` that is not blank or a comment (its number and its
    content), or ``(None, None)``; the last line counts only when ``complete``."""
    if head.startswith(BOM):
        head = head[len(BOM):]
    lines = head.split(b"\n")
    if not complete:
        lines = lines[:-1]
    for number, line in enumerate(lines, 1):
        text = content(line)
        if text:
            return number, text
    return None, None


def sniff_format(path, sample_bytes=1 << 16):
    """What the start of ``path`` says its format is.

    Parameters
    ----------
    path : str
    sample_bytes : int, default=65536
        How much of the file is read.

    Returns
    -------
    (format, evidence) : (str, str) or (None, None)
        The format and what shows it, or None where the content does not tell
        (an empty file, one column of numbers, neither or both of commas and
        ``index:value`` tokens).

    Raises
    ------
    FileFormatError
        An archive or other binary file that is not Parquet.
    """
    with open(path, "rb") as f:
        head = f.read(sample_bytes)
        complete = not f.read(1)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet", "Parquet's magic bytes PAR1 at its start"
    for magic, what, advice in _NOT_DATA:
        if head.startswith(magic):
            raise FileFormatError(f"{path} looks like {what}, not a data file; "
                                  f"{advice}.")
    number, text = _first_data_line(head, complete)
    if text is None:
        return None, None
    pairs = any(_INDEX_VALUE.match(token) for token in text.split()[1:])
    commas = b"," in text
    if pairs and not commas:
        return "libsvm", f"index:value tokens on line {number}"
    if commas and not pairs:
        return "csv", f"commas on line {number}"
    return None, None


def detect_format(path):
    """The format of the data file ``path``, from its content (``sniff_format``);
    the suffix (``guess_format``) only where the content does not tell.

    Parameters
    ----------
    path : str

    Returns
    -------
    {"libsvm", "csv", "parquet"}

    Raises
    ------
    FileFormatError
        An archive (such as a model's ``.npz``) or a compressed file.
    """
    found, _ = sniff_format(path)
    return found or guess_format(path)


def checked_format(path, file_format):
    """``file_format`` (None: ``detect_format``), refused where the content plainly
    says another format.

    Parameters
    ----------
    path : str
    file_format : {"libsvm", "csv", "parquet"} or None

    Returns
    -------
    {"libsvm", "csv", "parquet"}

    Raises
    ------
    ValueError
        ``file_format`` is not one of ``FORMATS``.
    FileFormatError
        The content says another format, or an archive.
    """
    found, evidence = sniff_format(path)
    if file_format is None:
        return found or guess_format(path)
    if file_format not in FORMATS:
        raise ValueError(f"The file format must be one of {FORMATS}; got "
                         f"{file_format!r}.")
    if found is not None and found != file_format:
        raise FileFormatError(
            f"{path} looks like a {found} file ({evidence}), not a {file_format} "
            f"file; read it with --format {found} (file_format={found!r}) or leave "
            f"the format out.")
    if file_format == "parquet" and found is None:
        raise FileFormatError(f"{path} is not a Parquet file: it does not start with "
                              f"Parquet's magic bytes PAR1.")
    return file_format
