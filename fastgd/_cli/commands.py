"""``fastgd train`` and ``fastgd predict``: the estimators on data files.

``train`` reads a libsvm, CSV or Parquet file (``_files.readers.DataFile``).  Every
option is checked first (``_cli.params``, ``_files.atomic.check_output``): a misspelt
setting or an output that would overwrite an input fails before the file is read.
A file of one block (``--chunk-mb``, 256 MB by default) is read into memory and
``fit``, with every stopping rule and solver of the Python API.  A larger file is
streamed: a first pass finds the rows, the features and the labels (and, with
``--standardize``, each column's mean and spread, ``_cli.standardize``), then
``fit_stream`` (``_files.streaming``) reads the file again each pass and calls
``partial_fit`` on each block, so memory holds one block and the model.  Which
estimator the labels ask for is said before training (``pick_estimator``).  Every
``--holdout-fraction``-th row (a fixed stride, the same in every pass,
``_files.holdout``) is kept out of training and scored at the end, beside the
constant model: a model worse than the constant one is not written (exit 1) unless
``--keep-bad-model``.  The model goes to a safe model file (``save_model``) with how
the file was read and the standardization, which ``predict`` applies again.

Progress (rows, elapsed time, rows per second, the running objective) goes to
standard error (``_files.progress``); the summary and the predictions to standard
output or a file.  Files are written whole or not at all (``_files.atomic``).
"""
import argparse
import contextlib
import math
import sys
import time

import numpy as np
import scipy.sparse as sp

from fastgd._cli.params import (
    KINDS, MAX_CLASSES, add_parameter_options, check_parameters, given_parameters,
    pick_estimator)
from fastgd._cli.standardize import ColumnMoments, Standardizer
from fastgd._config import effective_n_threads
from fastgd._files.atomic import atomic_output, check_output
from fastgd._files.formats import FORMATS
from fastgd._files.holdout import (ConstantModel, HoldoutScore, held_out_count,
                                   holdout_rows, holdout_stride)
from fastgd._files.progress import Progress
from fastgd._files.readers import DataFile
from fastgd._files.streaming import fit_stream


def plain_text(doc):
    """A docstring for the terminal: without reStructuredText's double backticks."""
    return doc.replace("``", "")


def _data_options(parser):
    parser.add_argument("data", help="the data file")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="the file's format (default: from its content; the "
                             "suffix .csv, .parquet/.pq, .svm breaks a tie)")
    parser.add_argument("--label-column", default=None,
                        help="CSV and Parquet: the labels' column, a name or an "
                             "index (default 0, the first)")
    parser.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                        help="CSV: whether the first line names the columns (default "
                             "auto: when its fields are names, not numbers)")
    parser.add_argument("--chunk-mb", type=float, default=256.0,
                        help="read the file in blocks of about this many MB; a "
                             "larger file is streamed (default 256); libsvm is "
                             "parsed with --n-jobs threads")


def _header(choice):
    return {"auto": None, "yes": True, "no": False}[choice]


def _checked_fraction(fraction):
    if not 0 <= fraction <= 0.5:
        raise ValueError(f"--holdout-fraction must be in [0, 0.5]; got {fraction}.")
    return fraction


TRAIN_HELP = """\
Fit an estimator on a libsvm, CSV or Parquet file and write a model file.

Every option is checked before the file is read. A file of up to --chunk-mb is read
into memory and fit (every solver and stopping rule); a larger one is streamed:
a first pass finds the rows, features and labels (and the standardization), then
--passes passes of partial_fit over its blocks. The estimator the labels ask for is
named before training. Every 1/--holdout-fraction-th row is kept out and scored at
the end beside the constant model; a model worse than the constant one is not
written (exit 1) unless --keep-bad-model. Progress goes to standard error."""

PREDICT_HELP = """\
Predictions of a model file (fastgd train, fastgd.save_model) on a data file:
labels, --proba or --decision, one row per line, to standard output or --output.

The data is read as the model's training file was (label column, index base,
standardization), its format from its content unless --format says. When the file
has labels, the score is printed on standard error."""


def _train_parser():
    parser = argparse.ArgumentParser(
        prog="fastgd train", description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(parser)
    parser.add_argument("--estimator", choices=KINDS, default="auto",
                        help="auto (default): a classifier when the labels are few "
                             "integers (at most 100 distinct values, and at most one "
                             "per 5 rows) or the loss is a classifier's, else a "
                             "regressor; oneclass: SGDOneClassSVM (the labels are "
                             "ignored)")
    parser.add_argument("--max-classes", type=int, default=MAX_CLASSES,
                        help=f"refuse a classifier of more classes (default "
                             f"{MAX_CLASSES})")
    parser.add_argument("--standardize", action="store_true",
                        help="scale each feature to unit variance (and, for dense "
                             "data, zero mean), from the training rows, as "
                             "scikit-learn's StandardScaler (with_mean=False for "
                             "libsvm's sparse rows); kept in the model file and "
                             "applied by predict")
    parser.add_argument("--model-out", "-o", default="model.npz",
                        help="the model file to write (default model.npz)")
    parser.add_argument("--holdout-fraction", type=float, default=0.1,
                        help="score the model on every 1/f-th row, kept out of "
                             "training (default 0.1; 0: none, and no check against "
                             "the constant model)")
    parser.add_argument("--keep-bad-model", action="store_true",
                        help="write the model even when it scores worse than the "
                             "constant model on the holdout rows")
    parser.add_argument("--passes", type=int, default=5,
                        help="a streamed file: passes of partial_fit (default 5)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress on standard error")
    add_parameter_options(parser)
    return parser


def train(argv, out=None):
    """``fastgd train DATA``: fit an estimator on a data file, save it."""
    out = sys.stdout if out is None else out
    args = _train_parser().parse_args(argv)
    fraction = _checked_fraction(args.holdout_fraction)
    if args.passes < 1:
        raise ValueError(f"--passes must be at least 1; got {args.passes}.")
    if args.max_classes < 2:
        raise ValueError(f"--max-classes must be at least 2; got {args.max_classes}.")
    chunk_bytes = _chunk_bytes(args.chunk_mb)
    check_output(args.model_out, "--model-out")  # not a folder, before ".npz"
    model_path = _npz(args.model_out)
    check_output(model_path, "--model-out", [args.data])
    params = given_parameters(args)
    check_parameters(args.estimator, params, partial=False)
    data = DataFile(args.data, args.format, chunk_bytes,
                    0 if args.label_column is None else args.label_column,
                    n_threads=effective_n_threads(params.get("n_jobs")),
                    header=_header(args.header))
    streamed = not data.fits_one_block
    if streamed:
        check_parameters(args.estimator, params, partial=True)
    if streamed and params.get("batch_size") == "full":
        raise ValueError(
            f"batch_size='full' needs the whole data in memory, and {data.path} "
            f"({data.size / 2**20:.0f} MB) is larger than --chunk-mb: raise "
            "--chunk-mb above the file's size, or train by SGD (per-sample or "
            "mini-batch), which streams.")
    progress = Progress(quiet=args.quiet)
    settings = dict(kind=args.estimator, params=params, fraction=fraction,
                    standardize=args.standardize, max_classes=args.max_classes)
    if streamed:
        trained = _train_streamed(data, settings, args.passes, progress)
        how = f"streamed in blocks of {args.chunk_mb:g} MB, {args.passes} passes"
    else:
        trained = _train_in_memory(data, settings, progress)
        how = "read into memory, fit"
    estimator, summary, held, rows, standardizer = trained
    seconds = time.perf_counter() - progress.start
    name = type(estimator).__name__
    print(f"{data.path}: {data.format}, {summary.n_rows:,} rows, "
          f"{summary.n_features:,} features, {how}", file=out)
    print(f"{name}: trained on {rows:,} rows in {seconds:.2f} s", file=out)
    if held.n_rows:
        against = ("" if held.constant_score is None else
                   f" (constant model: {held.constant_score:.4f})")
        print(f"holdout (every {holdout_stride(fraction)}th row, {held.n_rows:,} "
              f"rows): {held.metric} {held.score:.4f}{against}", file=out)
        if held.worse_than_constant and not args.keep_bad_model:
            scale = "" if args.standardize else "scale the features (--standardize) or "
            raise ValueError(
                f"the model scores {held.metric} {held.score:.4g} on the holdout "
                f"rows, worse than the constant model's {held.constant_score:.4g}, "
                f"so it was not written: {scale}take smaller steps (--eta0, "
                f"--learning-rate), or pass --keep-bad-model to write it anyway.")
    from fastgd._files.model_file import save_model

    read = dict(format=data.format, zero_based=summary.zero_based,
                label_column=data.label_column, feature_names=summary.feature_names)
    if standardizer is not None:
        read["standardize"] = standardizer.to_json()
    save_model(estimator, model_path, metadata=dict(data=read))
    print(f"model written to {model_path}", file=out)
    return estimator


def _chunk_bytes(megabytes):
    if not (math.isfinite(megabytes) and megabytes > 0):
        raise ValueError(f"--chunk-mb must be a positive number of megabytes; got "
                         f"{megabytes}.")
    return max(int(min(megabytes, 2.0**40) * 2**20), 1)


def _npz(path):
    return path if str(path).endswith(".npz") else f"{path}.npz"


def _standardizer(moments, summary, sparse):
    """The standardizer of the training rows' ``moments``: libsvm's columns as
    written shifted as the file's index base says."""
    first = 0 if summary.zero_based in (None, True) else 1
    return Standardizer.from_moments(moments, summary.n_features, center=not sparse,
                                     first_column=first)


def _announce(progress, settings, labels, n_rows):
    estimator, line = pick_estimator(settings["kind"], settings["params"], labels,
                                     n_rows, settings["max_classes"])
    progress.say(line)
    return estimator


def _train_in_memory(data, settings, progress):
    """``fit`` on the whole file, its held-out rows kept apart as it is read."""
    from sklearn.base import is_classifier

    fraction = settings["fraction"]
    progress.begin(f"read {data.path}")
    (X, y), (X_held, y_held), summary = data.read_all(
        lambda start, n_rows: holdout_rows(start, n_rows, fraction))
    progress.done(f"read {data.path}", summary.n_rows)
    estimator = _announce(progress, settings, summary.labels, X.shape[0])
    standardizer = None
    if settings["standardize"]:
        moments = ColumnMoments()
        moments.add(X)
        standardizer = Standardizer.from_moments(moments, X.shape[1],
                                                 center=not sp.issparse(X))
        standardizer.apply(X)
        standardizer.apply(X_held)
    progress.begin("fit")
    estimator.fit(X, y)
    progress.done("fit", X.shape[0],
                  estimator.loss_curve_[-1] if estimator.loss_curve_ else None)
    constant = ConstantModel()
    constant.add(y)
    score = HoldoutScore(estimator, constant.prediction(is_classifier(estimator)))
    score.add(X_held, y_held)
    return estimator, summary, score.result(), X.shape[0], standardizer


def _train_streamed(data, settings, passes, progress):
    """``fit_stream`` over the file's blocks, after a first pass that finds the
    labels (which pick the estimator) and the standardization."""
    from sklearn.base import is_classifier

    fraction = settings["fraction"]
    moments = ColumnMoments() if settings["standardize"] else None

    def visit(X, y, first_row):
        moments.add(X[np.flatnonzero(~holdout_rows(first_row, X.shape[0],
                                                   fraction))])

    progress.begin(f"scan of {data.path}")
    summary = data.scan(None if moments is None else visit)
    progress.done(f"scan of {data.path}", summary.n_rows)
    estimator = _announce(progress, settings, summary.labels,
                          summary.n_rows - held_out_count(summary.n_rows, fraction))
    standardizer = (None if moments is None else
                    _standardizer(moments, summary, data.format == "libsvm"))

    def blocks():
        for X, y in data.blocks(summary.zero_based, summary.n_features):
            yield (X if standardizer is None else standardizer.apply(X)), y

    estimator, record = fit_stream(
        estimator, blocks, passes=passes, holdout=fraction,
        classes=summary.labels if is_classifier(estimator) else None,
        progress=progress, return_record=True)
    return estimator, summary, record.holdout, record.rows_per_pass, standardizer


def _predict_parser():
    parser = argparse.ArgumentParser(
        prog="fastgd predict", description=PREDICT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a model file written by fastgd train or "
                                      "fastgd.save_model")
    _data_options(parser)
    parser.add_argument("--zero-based", choices=("auto", "yes", "no"), default="auto",
                        help="libsvm: whether the indices count from 0 (default "
                             "auto: as in the model's training file, else from 1, "
                             "libsvm's convention)")
    parser.add_argument("--output", "-o", default="-",
                        help="where to write the predictions (default -: standard "
                             "output); written whole or not at all")
    parser.add_argument("--proba", action="store_true",
                        help="class probabilities, one column per class, under a "
                             "header line '# probability of class: ...'")
    parser.add_argument("--decision", action="store_true",
                        help="decision_function values instead of labels, under a "
                             "header line naming the columns")
    parser.add_argument("--quiet", "-q", action="store_true")
    return parser


def predict(argv, out=None):
    """``fastgd predict MODEL DATA``: predictions, one row per line."""
    from fastgd._files.model_file import load_model

    args = _predict_parser().parse_args(argv)
    if args.proba and args.decision:
        raise ValueError("--proba and --decision: choose one.")
    chunk_bytes = _chunk_bytes(args.chunk_mb)
    to_stdout = args.output == "-"
    if not to_stdout:
        check_output(args.output, "--output", [args.model, args.data])
    estimator, metadata = load_model(args.model, with_metadata=True)
    read = metadata.get("data")
    read = read if isinstance(read, dict) else {}  # a model file of save_model's
    method, header = _prediction_method(estimator, args)
    label_column = args.label_column
    if label_column is None:
        label_column = read.get("label_column", 0)
        label_column = label_column if isinstance(label_column, (int, str)) else 0
    data = DataFile(args.data, args.format, chunk_bytes, label_column,
                    n_threads=effective_n_threads(estimator.n_jobs),
                    header=_header(args.header))
    n_features = estimator.n_features_in_
    standardizer = (None if "standardize" not in read else Standardizer.from_json(
        read["standardize"], n_features, args.model))
    has_labels = data.format == "libsvm" or data.n_columns() == n_features + 1
    zero_based = {"yes": True, "no": False}.get(
        args.zero_based, read.get("zero_based") if read.get("format") == "libsvm"
        else False)
    score = HoldoutScore(estimator)
    progress = Progress(quiet=args.quiet)
    progress.begin("predict")
    rows = 0
    with _output(args.output, out) as stream:
        if header:
            stream.write(header + "\n")
        for X, y in data.blocks(zero_based, n_features, has_labels):
            if standardizer is not None:
                standardizer.apply(X)
            values = method(X)
            np.savetxt(stream, values, fmt="%.10g" if values.dtype.kind in "fiu"
                       else "%s", delimiter=" ")
            if y is not None:
                score.add(X, y)
            rows += X.shape[0]
            progress.update("predict", rows)
    progress.done("predict", rows)
    scored = score.result()
    if scored.n_rows and not args.quiet:
        print(f"{scored.metric} on the file's labels: {scored.score:.4f} "
              f"({scored.n_rows:,} rows)", file=sys.stderr)


def _output(path, stdout):
    """Standard output (``-``), or a file written whole or not at all."""
    if path == "-":
        return contextlib.nullcontext(sys.stdout if stdout is None else stdout)
    return atomic_output(path)


def _prediction_method(estimator, args):
    """The estimator's method that ``--proba`` / ``--decision`` ask for, and the
    header line of its columns (None for labels)."""
    name = ("predict_proba" if args.proba else
            "decision_function" if args.decision else "predict")
    if not hasattr(estimator, name):  # e.g. probabilities of the hinge loss
        from sklearn.base import is_classifier

        kind = type(estimator).__name__
        hint = ("; train with loss='log_loss' or 'modified_huber' for probabilities"
                if is_classifier(estimator) else "")
        raise ValueError(f"--{'proba' if args.proba else 'decision'}: this {kind} "
                         f"(loss={estimator.loss!r}) has no {name}{hint}.")
    classes = getattr(estimator, "classes_", None)
    shown = None if classes is None else [f"{c:g}" if isinstance(c, (float, np.floating))
                                          else str(c) for c in classes]
    if name == "predict":
        header = None
    elif name == "predict_proba":
        header = "# probability of class: " + " ".join(shown)
    elif classes is None:
        header = "# decision function (inside the boundary: > 0)"
    elif len(classes) == 2 and estimator.coef_.shape[0] == 1:
        header = f"# decision function (positive class: {shown[1]})"
    else:
        header = "# decision function of class: " + " ".join(shown)
    return getattr(estimator, name), header
