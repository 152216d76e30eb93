"""Parquet files read in batches of rows, by pyarrow (an optional dependency).

The columns must be of a number type (integer, float, boolean or decimal) without
nulls: a missing value is refused with its row and column, not read as NaN, as CSV
refuses an empty field.  A batch holds about ``chunk_bytes`` of float64 values.  The
file is opened when it is first read, so a ``DataFile`` of a file pyarrow does not
read fails when it is read, with pyarrow's reason.  ``ParquetFile.tables`` yields every
column, labels included: ``DataFile`` splits the label column off.
"""
import numpy as np

from fastgd._files.formats import FileFormatError


class ParquetFile:
    """A Parquet file's column names and its batches of rows as tables of numbers.

    Parameters
    ----------
    path : str
    chunk_bytes : int
        About how many bytes of float64 values one batch holds.
    dtype : numpy dtype
    """

    def __init__(self, path, chunk_bytes, dtype):
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.dtype = dtype

    def _opened(self):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError("Reading Parquet files needs pyarrow: pip install "
                              "pyarrow.") from None
        try:
            return pq.ParquetFile(self.path)
        except Exception as error:  # pyarrow's ArrowInvalid, OSError...
            raise FileFormatError(f"{self.path} is not a Parquet file that pyarrow "
                                  f"reads: {error}") from None

    def names(self):
        """The columns' names, from the file's schema."""
        return list(self._opened().schema_arrow.names)

    def _check_types(self, schema):
        """Refuse a column that is not of a number type."""
        import pyarrow.types as types

        for column in schema:
            kind = column.type
            if not (types.is_integer(kind) or types.is_floating(kind)
                    or types.is_boolean(kind) or types.is_decimal(kind)):
                raise FileFormatError(
                    f"{self.path}: column {column.name!r} is of type {kind}; "
                    f"expected numbers (integer, float, boolean or decimal "
                    f"columns).")

    def _check_nulls(self, batch, first_row):
        """Refuse a missing value (a null), naming the column and the row (counted
        from 1)."""
        for name, column in zip(batch.schema.names, batch.columns):
            if column.null_count:
                row = first_row + 1 + int(np.flatnonzero(
                    column.is_null().to_numpy(zero_copy_only=False))[0])
                raise FileFormatError(
                    f"{self.path}, row {row}, column {name!r}: a missing value "
                    f"(null); expected a number.")

    def tables(self):
        """Yield each batch's rows as a 2-D array of every column, in file order.

        Raises
        ------
        FileFormatError
            A file pyarrow does not read, a column not of numbers, or a null.
        """
        parquet = self._opened()
        self._check_types(parquet.schema_arrow)
        n_columns = len(parquet.schema_arrow.names)
        rows = max(1, self.chunk_bytes // (8 * max(n_columns, 1)))
        first_row = 0
        for batch in parquet.iter_batches(batch_size=rows):
            self._check_nulls(batch, first_row)
            yield np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False),
                                              dtype=self.dtype)
                                   for c in batch.columns])
            first_row += batch.num_rows
