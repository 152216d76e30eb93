"""A model file's ``.npz`` archive read as hostile input, within bounds set in advance.

``model_file.load_model`` says what a model holds; this module reads it without
trusting the file.  Every failure is an ``Unreadable`` (a ``ValueError`` that
``load_model`` completes with the file's name), whatever ``zipfile``, ``zlib`` or
NumPy raised (``archive_errors``).  The archive is read with ``zipfile``, not
``np.load``, so nothing is inflated before it is checked:

* the first bytes must be a zip archive's (``opened_archive``; otherwise the error
  says what the file looks like: empty, a pickle, a ``.npy``, text);
* the member names, their number, encryption and compression method are checked
  against the names a model may hold (``member_infos``);
* a member's ``.npy`` header is read alone (at most NumPy's own 10,000 bytes), must
  describe no Python objects, and must agree with the member's declared size
  (``npy_header``);
* a member is read only once its declared size is within what its ``Slot`` (the
  shapes and dtypes the model allows) implies, then inflated a chunk at a time to
  exactly the size its header gives (``read_exact``: a member that inflates to more
  or less is refused);
* JSON is measured for nesting depth without recursion before Python's parser (which
  would recurse as deep) reads it (``parsed_json``), and its entries' types are
  checked against a table (``check_types``).
"""
import contextlib
import json
import math
import re
import reprlib
import struct
import zipfile
import zlib

import numpy as np

_NPY_HEADER_MAX = 10_000        # NumPy's own limit on an .npy header
_READ_CHUNK = 2**20             # bytes inflated at a time
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\f\b\x1b"
# the errors zipfile, zlib and reading the file raise on a damaged archive
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
                   OSError, NotImplementedError, RuntimeError, struct.error,
                   ValueError, OverflowError)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = np.frombuffer(b"[]{}", dtype=np.uint8)

#: how an error quotes a value read from the file: short, whatever it held
short = reprlib.Repr()
short.maxstring = short.maxother = 60
short.maxlevel = 2


class Unreadable(ValueError):
    """What is wrong with a model file; ``load_model`` adds the file's name."""


@contextlib.contextmanager
def archive_errors(what):
    """Turn the errors of reading ``what`` from a damaged zip into ``Unreadable``."""
    try:
        yield
    except Unreadable:
        raise
    except _ARCHIVE_ERRORS as error:
        raise Unreadable(f"{what} is damaged ({error})") from None


def _what_it_is(head):
    """Why a file that starts with ``head`` is not an ``.npz`` archive."""
    if not head:
        return "it is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an .npz archive (save_model)"
    if head[:1] == b"\x80":
        return ("it is a pickle, not an .npz archive: it holds Python objects, which "
                "load only by running code")
    if not head.translate(None, _TEXT_BYTES):
        return ("not an .npz file: it looks like a text file, not a model (a zip "
                "archive written by save_model or fastgd train): did you swap the "
                "model and the data?")
    return "not an .npz file: it is not a zip archive"


@contextlib.contextmanager
def opened_archive(path):
    """The zip archive of ``path`` (a name or a binary file object), once its first
    bytes say it is one.

    Parameters
    ----------
    path : str, path-like or file object
        A file object is read from where it stands and left open.

    Yields
    ------
    zipfile.ZipFile

    Raises
    ------
    Unreadable
        The file is not a zip archive (what it looks like instead), or a damaged one.
    OSError
        The file cannot be opened.
    """
    if hasattr(path, "read"):
        stream, owned = path, False
    else:
        stream, owned = open(path, "rb"), True
    try:
        start = stream.tell()
        head = stream.read(1024)
        stream.seek(start)
        if not head.startswith(_ZIP_MAGIC):
            raise Unreadable(_what_it_is(head))
        with archive_errors("not an .npz file: its zip archive"):
            archive = zipfile.ZipFile(stream)
        with archive:
            yield archive
    finally:
        if owned:
            stream.close()


def member_infos(archive, allowed, required):
    """The archive's members by array name, once their names, methods and number
    are those of a model file.

    Parameters
    ----------
    archive : zipfile.ZipFile
    allowed : set of str
        The array names a member may have (each stored as ``NAME.npy``).
    required : sequence of str
        The names that must be there.

    Returns
    -------
    dict of str to zipfile.ZipInfo
    """
    infos = {}
    for info in archive.infolist():
        name = info.filename[:-len(".npy")]
        if not info.filename.endswith(".npy") or name not in allowed:
            raise Unreadable(f"unexpected member {short.repr(info.filename)}")
        if name in infos:
            raise Unreadable(f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise Unreadable(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Unreadable(f"member {name!r} is compressed by method "
                             f"{info.compress_type}; model files are stored or "
                             f"deflated")
        infos[name] = info
    for name in required:
        if name not in infos:
            raise Unreadable(f"no {name!r} member")
    return infos


def dtype_text(dtype):
    """A dtype for a message: a record's fields are not listed."""
    return str(dtype) if dtype.names is None else f"a record of {len(dtype)} fields"


def npy_header(stream, name, info):
    """Shape, Fortran order and dtype of the ``.npy`` member ``name`` (``stream`` at
    its start), checked against the member's declared size."""
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f".npy version {version[0]}.{version[1]} is not read")
        shape, fortran_order, dtype = read_header(stream,
                                                  max_header_size=_NPY_HEADER_MAX)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError,
            OverflowError) as error:
        raise Unreadable(f"member {name!r} is damaged: its .npy header cannot be "
                         f"read ({short.repr(str(error))})") from None
    if dtype.hasobject:
        raise Unreadable(f"member {name!r} holds Python objects, which load only by "
                         f"running code")
    if any(d < 0 for d in shape):
        raise Unreadable(f"member {name!r} is damaged: its .npy header gives the "
                         f"shape {short.repr(shape)}")
    n_bytes = math.prod(shape) * dtype.itemsize
    held = info.file_size - stream.tell()
    if n_bytes != held:
        raise Unreadable(f"member {name!r} is damaged: its .npy header gives shape "
                         f"{short.repr(shape)} of {dtype_text(dtype)} "
                         f"({n_bytes:,} bytes), but the member holds {held:,} bytes")
    return shape, fortran_order, dtype


def peek_shape(archive, info, name):
    """The shape in the ``.npy`` header of member ``name``, reading only the
    header."""
    with archive_errors(f"member {name!r}"), archive.open(info) as stream:
        shape, _, _ = npy_header(stream, name, info)
    return shape


def read_exact(stream, n_bytes, name):
    """Exactly ``n_bytes`` from ``stream``, inflated a chunk at a time, and nothing
    after them."""
    data = bytearray(n_bytes)
    view = memoryview(data)
    filled = 0
    while filled < n_bytes:
        piece = stream.read(min(_READ_CHUNK, n_bytes - filled))
        if not piece:
            raise Unreadable(f"member {name!r} is damaged: it ends after {filled:,} "
                             f"of {n_bytes:,} bytes")
        view[filled:filled + len(piece)] = piece
        filled += len(piece)
    if stream.read(1):
        raise Unreadable(f"member {name!r} is damaged: it holds more than the "
                         f"{n_bytes:,} bytes it declares")
    return data


def read_text(archive, info, name, most_bytes, what):
    """The bytes of member ``name``, a text stored as a vector of uint8.

    Parameters
    ----------
    archive : zipfile.ZipFile
    info : zipfile.ZipInfo
    name : str
    most_bytes : int
        The most the text may take (beside its ``.npy`` header).
    what : str
        Why at most ``most_bytes``, for the message (``"a model of 3 features"``).

    Returns
    -------
    bytes
    """
    if info.file_size > most_bytes + _NPY_HEADER_MAX:
        raise Unreadable(f"member {name!r} declares {info.file_size:,} bytes; "
                         f"{what} keeps at most {most_bytes:,}")
    with archive_errors(f"member {name!r}"), archive.open(info) as stream:
        shape, _, dtype = npy_header(stream, name, info)
        if dtype != np.uint8 or len(shape) != 1:
            raise Unreadable(f"member {name!r} has shape {short.repr(shape)} and "
                             f"dtype {dtype_text(dtype)}, not the bytes of a text")
        return bytes(read_exact(stream, shape[0], name))


def _nesting(text):
    """How deep the lists and mappings of the JSON ``text`` nest (counted without
    recursion: Python's parser would recurse as deep)."""
    bare = np.frombuffer(_JSON_STRING.sub(b"", text), dtype=np.uint8)
    brackets = bare[np.isin(bare, _BRACKETS)]
    opens = (brackets == ord("[")) | (brackets == ord("{"))
    return int(np.cumsum(np.where(opens, 1, -1), dtype=np.int32).max(initial=0))


def parsed_json(text, name, max_depth):
    """The JSON ``text`` of member ``name``, once it nests at most ``max_depth``
    levels."""
    depth = _nesting(text)
    if depth > max_depth:
        raise Unreadable(f"its {name!r} member nests {depth} levels deep (at most "
                         f"{max_depth})")
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unreadable(f"its {name!r} member is not JSON ({error})") from None


def is_int(value):
    """Whether a JSON value is an integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    """Whether a JSON value is a number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_numbers(value):
    """Whether a JSON value is a list of numbers."""
    return isinstance(value, list) and all(is_number(v) for v in value)


def check_types(mapping, types, where, required):
    """Raise unless every entry of ``mapping`` is one of ``types`` (a type or a
    test, and its description) and the ``required`` ones are there."""
    unknown = sorted(set(mapping) - set(types))
    if unknown:
        raise Unreadable(f"unexpected {where} {short.repr(unknown[0])}")
    for name in required:
        if name not in mapping:
            raise Unreadable(f"its {where} {name!r} is missing")
    for name, value in mapping.items():
        test, description = types[name]
        ok = isinstance(value, test) if isinstance(test, type) else test(value)
        if not ok:
            raise Unreadable(f"its {where} {name!r} must be {description}; got "
                             f"{short.repr(value)}")


class Slot:
    """What one member must hold: one of ``shapes``, of a dtype ``fits`` accepts.

    Parameters
    ----------
    shapes : list of tuple
    dtypes : sequence of numpy dtype or None
        The dtypes accepted (in native byte order or not); None: ``fits`` decides.
    fits : callable or None
        ``fits(dtype)``, where ``dtypes`` is None.
    description : str or None
        The dtypes for a message (default: ``dtypes`` listed).
    itemsize : int or None
        Where ``dtypes`` is None: the largest item ``fits`` accepts.
    """

    def __init__(self, shapes, dtypes=None, fits=None, description=None,
                 itemsize=None):
        self.shapes = shapes
        self.fits = fits if fits is not None else (
            lambda dtype: dtype.newbyteorder("=") in dtypes)
        self.description = description or " or ".join(str(d) for d in dtypes)
        self.most_bytes = max(math.prod(shape) for shape in shapes) * (
            itemsize if dtypes is None else max(d.itemsize for d in dtypes))


def read_array(archive, info, name, slot):
    """The array in member ``name``, once its declared size and its header fit
    ``slot``; in native byte order."""
    if info.file_size > slot.most_bytes + _NPY_HEADER_MAX:
        raise Unreadable(f"member {name!r} declares {info.file_size:,} bytes, more "
                         f"than the {slot.most_bytes:,} of its largest shape and a "
                         f"header")
    with archive_errors(f"member {name!r}"), archive.open(info) as stream:
        shape, fortran_order, dtype = npy_header(stream, name, info)
        if shape not in slot.shapes or not slot.fits(dtype):
            expected = " or ".join(str(s) for s in slot.shapes[:3])
            raise Unreadable(f"{name} has shape {short.repr(shape)} and dtype "
                             f"{dtype_text(dtype)}; this model needs shape "
                             f"{expected} and dtype {slot.description}")
        data = read_exact(stream, math.prod(shape) * dtype.itemsize, name)
    array = np.frombuffer(data, dtype=dtype)
    if fortran_order:
        array = array.reshape(shape[::-1]).T
    array = array.reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)
