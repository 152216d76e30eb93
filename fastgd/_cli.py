"""``fastgd train`` and ``fastgd predict``: the estimators on data files.

``train`` reads a libsvm, CSV or Parquet file (``_files``).  A file of one block
(``--chunk-mb``, 256 MB by default) is read into memory and ``fit``, with every
stopping rule and solver of the Python API.  A larger file is streamed: a first pass
finds the rows, the features and the labels, then each pass reads the file again and
calls ``partial_fit`` on each block, so memory holds one block and the model.  Every
``--holdout-fraction``-th row (a fixed stride, the same in every pass) is kept out of
training and scored at the end.  Every parameter of the estimators is an option
(``--alpha 1e-5 --loss log_loss``).  The model goes to a safe model file
(``save_model``) with how the file was read, which ``predict`` reuses.

Progress (rows, elapsed time, rows per second, the running objective) goes to
standard error; the summary and the predictions to standard output or a file.
"""
import argparse
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from fastgd._config import effective_n_threads
from fastgd._files import FORMATS, DataFile

ESTIMATORS = ("auto", "classifier", "regressor", "oneclass")


def _estimator_classes():
    from fastgd._estimators import SGDClassifier, SGDOneClassSVM, SGDRegressor

    return {"classifier": SGDClassifier, "regressor": SGDRegressor,
            "oneclass": SGDOneClassSVM}


def parameter_value(text):
    """An option's value as a parameter: None, a bool, an int, a float, a JSON
    mapping (``class_weight``), or the string itself."""
    lowered = text.strip().lower()
    if lowered == "none":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.strip().startswith("{"):
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as error:
            raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
        return {parameter_value(str(k)): v for k, v in mapping.items()}
    return text


def _parameter_names():
    names = set()
    for cls in _estimator_classes().values():
        names |= set(cls().get_params(deep=False))
    return sorted(names)


def _add_parameters(parser):
    group = parser.add_argument_group(
        "estimator parameters", "any parameter of SGDClassifier / SGDRegressor / "
        "SGDOneClassSVM, "
        "as in Python (--alpha 1e-5, --loss log_loss, --penalty none, "
        "--class-weight balanced or a JSON mapping)")
    for name in _parameter_names():
        group.add_argument("--" + name.replace("_", "-"), dest="param_" + name,
                           type=parameter_value, default=argparse.SUPPRESS,
                           metavar="VALUE")


def _given_parameters(args):
    return {k[len("param_"):]: v for k, v in vars(args).items()
            if k.startswith("param_")}


def _data_options(parser):
    parser.add_argument("data", help="the data file")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="the file's format (default: from its suffix: .csv, "
                             ".parquet/.pq, anything else libsvm)")
    parser.add_argument("--label-column", default=None,
                        help="CSV and Parquet: the labels' column, a name or an "
                             "index (default 0, the first)")
    parser.add_argument("--chunk-mb", type=float, default=256.0,
                        help="read the file in blocks of about this many MB; a "
                             "larger file is streamed (default 256); libsvm is "
                             "parsed with --n-jobs threads")


def make_estimator(kind, labels, params):
    """The estimator of ``kind`` (``auto``: a classifier when every label is an
    integer, else a regressor) with ``params`` set (scikit-learn's error for an
    unknown one)."""
    classes = _estimator_classes()
    if kind == "auto":
        integral = labels.size and np.all(np.asarray(labels) == np.round(labels))
        kind = "classifier" if integral else "regressor"
    estimator = classes[kind]()
    unknown = set(params) - set(estimator.get_params(deep=False))
    if unknown:
        raise ValueError(f"{type(estimator).__name__} has no parameter "
                         f"{sorted(unknown)[0]!r}.")
    return estimator.set_params(**params)


def holdout_stride(fraction):
    """Every how many rows one is held out for ``fraction`` (> 0)."""
    return max(int(round(1.0 / fraction)), 2)


def holdout_rows(start, n_rows, fraction):
    """Whether each of rows ``start .. start + n_rows - 1`` of the file is held out:
    every ``holdout_stride(fraction)``-th row (none for 0)."""
    if fraction <= 0:
        return np.zeros(n_rows, dtype=bool)
    stride = holdout_stride(fraction)
    return (np.arange(start, start + n_rows) % stride) == stride - 1


class Progress:
    """A line on standard error: pass, rows, elapsed time, rows/s, running
    objective.  On a terminal it is redrawn in place (at most 5 times a second);
    otherwise one line per pass is written."""

    def __init__(self, stream=None, quiet=False):
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.phase_start = time.perf_counter()
        self.phase = None
        self.last_draw = 0.0

    def _line(self, label, rows, loss):
        if label != self.phase:  # a new phase: its own clock
            self.phase, self.phase_start = label, time.perf_counter()
        elapsed = time.perf_counter() - self.phase_start
        rate = rows / elapsed if elapsed > 0 else float("nan")
        text = f"{label}: {rows:,} rows, {elapsed:.1f} s, {rate:,.0f} rows/s"
        if loss is not None:
            text += f", objective {loss:.6g}"
        return text

    def update(self, label, rows, loss=None):
        now = time.perf_counter()
        if self.quiet or not self.live or now - self.last_draw < 0.2:
            return
        self.last_draw = now
        self.stream.write("\r" + self._line(label, rows, loss) + "\x1b[K")
        self.stream.flush()

    def begin(self, label):
        """Start the clock of a phase (``update`` and ``done`` with this label)."""
        self.phase, self.phase_start = label, time.perf_counter()

    def done(self, label, rows, loss=None):
        line = self._line(label, rows, loss)
        self.phase = None
        if self.quiet:
            return
        self.stream.write(("\r" if self.live else "") + line
                          + ("\x1b[K" if self.live else "") + "\n")
        self.stream.flush()


class HoldoutScore:
    """Accuracy (classifier), R^2 (regressor) or the share of rows inside the
    boundary (one-class) over held-out rows, block by block."""

    def __init__(self, estimator):
        self.estimator = estimator
        kind = type(estimator).__name__
        self.classify = kind == "SGDClassifier"
        self.one_class = kind == "SGDOneClassSVM"
        self.n = 0
        self.correct = 0
        self.sums = np.zeros(3)  # y, y^2, squared residuals

    def add(self, X, y):
        if X.shape[0] == 0:
            return
        prediction = self.estimator.predict(X)
        self.n += X.shape[0]
        if self.one_class:
            self.correct += int(np.sum(prediction == 1))
        elif self.classify:
            self.correct += int(np.sum(prediction == y))
        else:
            self.sums += (y.sum(), (y * y).sum(), ((y - prediction) ** 2).sum())

    @property
    def name(self):
        return ("share inside the boundary" if self.one_class else
                "accuracy" if self.classify else "R^2")

    @property
    def value(self):
        if self.n == 0:
            return float("nan")
        if self.classify or self.one_class:
            return self.correct / self.n
        total, squares, residual = self.sums
        spread = squares - total * total / self.n
        return 1.0 - residual / spread if spread > 0 else float("nan")


def _checked_fraction(fraction):
    if not 0 <= fraction <= 0.5:
        raise ValueError(f"--holdout-fraction must be in [0, 0.5]; got {fraction}.")
    return fraction


def train(argv, out=None):
    """``fastgd train DATA``: fit an estimator on a data file, save it."""
    out = sys.stdout if out is None else out
    parser = argparse.ArgumentParser(
        prog="fastgd train", description=_doc(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(parser)
    parser.add_argument("--estimator", choices=ESTIMATORS, default="auto",
                        help="auto: a classifier when every label is an integer, "
                             "else a regressor; oneclass: SGDOneClassSVM (the labels "
                             "are ignored)")
    parser.add_argument("--model-out", "-o", default="model.npz",
                        help="the model file to write (default model.npz)")
    parser.add_argument("--holdout-fraction", type=float, default=0.1,
                        help="score the model on every 1/f-th row, kept out of "
                             "training (default 0.1; 0: none)")
    parser.add_argument("--passes", type=int, default=5,
                        help="a streamed file: passes of partial_fit (default 5)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress on standard error")
    _add_parameters(parser)
    args = parser.parse_args(argv)
    fraction = _checked_fraction(args.holdout_fraction)
    if args.passes < 1:
        raise ValueError(f"--passes must be at least 1; got {args.passes}.")
    params = _given_parameters(args)
    n_jobs = params.get("n_jobs")
    if n_jobs is not None and not isinstance(n_jobs, int):
        raise ValueError(f"--n-jobs must be an integer; got {n_jobs!r}.")
    data = DataFile(args.data, args.format, _chunk_bytes(args.chunk_mb),
                    0 if args.label_column is None else args.label_column,
                    n_threads=effective_n_threads(n_jobs))
    progress = Progress(quiet=args.quiet)
    if data.fits_one_block:
        estimator, summary, score, rows = _train_in_memory(
            data, args.estimator, params, fraction, progress)
        how = "read into memory, fit"
    else:
        estimator, summary, score, rows = _train_streamed(
            data, args.estimator, params, fraction, args.passes, progress)
        how = f"streamed in blocks of {args.chunk_mb:g} MB, {args.passes} passes"
    seconds = time.perf_counter() - progress.start
    from fastgd._model_file import save_model

    metadata = dict(data=dict(format=data.format, zero_based=summary.zero_based,
                              label_column=data.label_column,
                              feature_names=summary.feature_names))
    save_model(estimator, args.model_out, metadata=metadata)
    name = type(estimator).__name__
    print(f"{data.path}: {data.format}, {summary.n_rows:,} rows, "
          f"{summary.n_features:,} features, {how}", file=out)
    print(f"{name}: trained on {rows:,} rows in {seconds:.2f} s", file=out)
    if score.n:
        print(f"holdout (every {holdout_stride(fraction)}th row, {score.n:,} rows): "
              f"{score.name} {score.value:.4f}", file=out)
    print(f"model written to {_npz(args.model_out)}", file=out)
    return estimator


def _chunk_bytes(megabytes):
    if not megabytes > 0:
        raise ValueError(f"--chunk-mb must be positive; got {megabytes}.")
    return max(int(megabytes * 2**20), 1)


def _npz(path):
    return path if str(path).endswith(".npz") else f"{path}.npz"


def _train_in_memory(data, kind, params, fraction, progress):
    progress.begin(f"read {data.path}")
    (X, y), (X_held, y_held), summary = data.read_all(
        lambda start, n_rows: holdout_rows(start, n_rows, fraction))
    progress.done(f"read {data.path}", summary.n_rows)
    estimator = make_estimator(kind, summary.labels, params)
    progress.begin("fit")
    estimator.fit(X, y)
    progress.done("fit", X.shape[0],
                  estimator.loss_curve_[-1] if estimator.loss_curve_ else None)
    score = HoldoutScore(estimator)
    score.add(X_held, y_held)
    return estimator, summary, score, X.shape[0]


def _held_blocks(data, summary, fraction):
    """The file's blocks, as ``summary`` says to read them, each with the mask of its
    held-out rows (``holdout_rows``)."""
    start = 0
    for X, y in data.blocks(summary.zero_based, summary.n_features):
        yield X, y, holdout_rows(start, X.shape[0], fraction)
        start += X.shape[0]


def _train_streamed(data, kind, params, fraction, passes, progress):
    progress.begin(f"scan of {data.path}")
    summary = data.scan()
    progress.done(f"scan of {data.path}", summary.n_rows)
    estimator = make_estimator(kind, summary.labels, params)
    if estimator.batch_size == "full":
        raise ValueError(
            f"batch_size='full' needs the whole data in memory, and {data.path} "
            f"({data.size / 2**20:.0f} MB) is larger than --chunk-mb: raise "
            "--chunk-mb above the file's size, or train by SGD (per-sample or "
            "mini-batch), which streams.")
    classify = type(estimator).__name__ == "SGDClassifier"
    fit_args = dict(classes=summary.labels) if classify else {}
    rows = 0
    for p in range(passes):
        label = f"pass {p + 1}/{passes}"
        progress.begin(label)
        rows, weighted = 0, 0.0
        # a block's warning (steps too large for the model so far) is a passing
        # state while the step size decays: only the last pass's are repeated
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for X, y, held in _held_blocks(data, summary, fraction):
                keep = np.flatnonzero(~held)
                if keep.size == 0:
                    continue
                estimator.partial_fit(X[keep], y[keep], **fit_args)
                rows += keep.size
                weighted += estimator.loss_curve_[-1] * keep.size
                progress.update(label, rows, weighted / rows)
        progress.done(label, rows, weighted / max(rows, 1))
    for warning in caught[-1:]:
        warnings.warn(f"in the last pass, {len(caught)} block(s) warned; the last: "
                      f"{warning.message}", warning.category, stacklevel=2)
    score = HoldoutScore(estimator)
    if fraction > 0:
        progress.begin("holdout pass")
        for X, y, held in _held_blocks(data, summary, fraction):
            held = np.flatnonzero(held)
            score.add(X[held], y[held])
        progress.done("holdout pass", score.n)
    return estimator, summary, score, rows


def predict(argv, out=None):
    """``fastgd predict MODEL DATA``: predictions, one row per line."""
    from fastgd._model_file import load_model

    parser = argparse.ArgumentParser(prog="fastgd predict", description=_doc())
    parser.add_argument("model", help="a model file written by fastgd train or "
                                      "fastgd.save_model")
    _data_options(parser)
    parser.add_argument("--output", "-o", default="-",
                        help="where to write the predictions (default -: standard "
                             "output)")
    parser.add_argument("--proba", action="store_true",
                        help="class probabilities (one column per class) instead of "
                             "labels")
    parser.add_argument("--decision", action="store_true",
                        help="decision_function values instead of labels")
    parser.add_argument("--quiet", "-q", action="store_true")
    args = parser.parse_args(argv)
    estimator, metadata = load_model(args.model, with_metadata=True)
    read = metadata.get("data", {})
    label_column = (args.label_column if args.label_column is not None
                    else read.get("label_column", 0))
    data = DataFile(args.data, args.format or read.get("format"),
                    _chunk_bytes(args.chunk_mb), label_column,
                    n_threads=effective_n_threads(estimator.n_jobs))
    n_features = estimator.n_features_in_
    has_labels = data.format == "libsvm" or data.n_columns() == n_features + 1
    score = HoldoutScore(estimator)
    progress = Progress(quiet=args.quiet)
    method = _prediction_method(estimator, args)
    to_stdout = args.output == "-"
    stream = (sys.stdout if out is None else out) if to_stdout else open(
        args.output, "w")
    rows = 0
    progress.begin("predict")
    try:
        for X, y in data.blocks(read.get("zero_based"), n_features, has_labels):
            values = method(X)
            np.savetxt(stream, values, fmt="%.10g" if values.dtype.kind in "fiu"
                       else "%s", delimiter=" ")
            if y is not None:
                score.add(X, y)
            rows += X.shape[0]
            progress.update("predict", rows)
    finally:
        if not to_stdout:
            stream.close()
    progress.done("predict", rows)
    if score.n and not args.quiet:
        print(f"{score.name} on the file's labels: {score.value:.4f} "
              f"({score.n:,} rows)", file=sys.stderr)


def _prediction_method(estimator, args):
    """The estimator's method that ``--proba`` / ``--decision`` ask for."""
    if args.proba and args.decision:
        raise ValueError("--proba and --decision: choose one.")
    name = ("predict_proba" if args.proba else
            "decision_function" if args.decision else "predict")
    if not hasattr(estimator, name):  # e.g. probabilities of the hinge loss
        kind = type(estimator).__name__
        hint = ("; train with loss='log_loss' or 'modified_huber' for probabilities"
                if kind == "SGDClassifier" else "")
        raise ValueError(f"--{'proba' if args.proba else 'decision'}: this {kind} "
                         f"(loss={estimator.loss!r}) has no {name}{hint}.")
    return getattr(estimator, name)


def _doc():
    from fastgd.__main__ import plain_text

    return plain_text(__doc__)
