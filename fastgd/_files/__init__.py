"""fastgd._files: data files read in blocks, streamed training, model files, ONNX.

The facade's side of files: these modules take fitted (or to-be-fitted) estimators
and data files; nothing below the facade imports them.

Data files, read a block of rows at a time:

* ``readers``    ``DataFile``: one face for the three formats; ``scan`` and
  ``read_all`` passes, the label column split off.
* ``formats``    which format a file is in, from its first bytes; ``FileFormatError``.
* ``lines``      a text file in blocks of whole lines; the line helpers of the
  readers.
* ``libsvm``     libsvm / svmlight blocks: the fast parser and the Python line
  reader that checks what it leaves out.
* ``_libsvm``    (Cython) the parallel libsvm block parser.
* ``delimited``  CSV blocks: header detection, NumPy's parse or a line-by-line one.
* ``parquet``    Parquet batches, by pyarrow.

Training on streams:

* ``streaming``  ``fit_stream``: ``partial_fit`` over blocks, pass after pass, with a
  holdout.
* ``holdout``    the held-out rows (a fixed stride) and their score beside the
  constant model.
* ``progress``   the progress line of passes on standard error.

Models:

* ``model_file``     ``save_model`` / ``load_model``: what a model file holds for
  each estimator.
* ``model_archive``  a model's ``.npz`` archive read as hostile input, within bounds.
* ``onnx``           ``to_onnx``: a fitted estimator as an ONNX graph.
* ``atomic``         files written whole or not at all; outputs that cannot clobber
  an input.
"""
