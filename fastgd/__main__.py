"""The ``fastgd`` command: ``fastgd COMMAND [OPTIONS]``.

Commands (each has ``--help``):

  compare   fastgd and scikit-learn side by side on generated data (fastgd.bench.demo);
            what ``python -m fastgd`` runs when no command is given
  train     fit an estimator on a libsvm, CSV or Parquet file (fastgd._cli.commands)
  predict   predictions of a model file on a data file (fastgd._cli.commands)
  bench     benchmarks against the peers: every installed peer, time to gap
            (--tta), Dask (--dask), reading a file (--read) (fastgd.bench.cli)

Here the commands' errors and warnings become one line each in the command's own
words (``fastgd train: error: ...``), Ctrl-C ends with "interrupted" and exit status
130, and a closed pipe (``| head``) ends quietly.  Each command imports what it needs
when it runs, so ``fastgd --help`` does not import scikit-learn.
"""
import difflib
import os
import sys
import warnings

# command -> (module, function, what it does)
COMMANDS = {
    "compare": ("fastgd.bench.demo", "compare",
                "fastgd and scikit-learn side by side on generated data (what "
                "python -m fastgd runs when no command is given)"),
    "train": ("fastgd._cli.commands", "train",
              "fit an estimator on a libsvm, CSV or Parquet file, write a model file"),
    "predict": ("fastgd._cli.commands", "predict",
                "predictions of a model file on a data file"),
    "bench": ("fastgd.bench.cli", "bench",
              "benchmarks against the peers (--tta, --dask, --read)"),
}
USAGE = (f"usage: fastgd [-h] [--version] {{{','.join(COMMANDS)}}} ...\n\n"
         "Gradient-descent training of linear models.\n\ncommands:\n"
         + "".join(f"  {name:9s} {text}\n" for name, (_, _, text) in COMMANDS.items())
         + "\nfastgd COMMAND --help tells more of each.\n")


def _one_line_warnings(command):
    """Print each warning as ``fastgd COMMAND: warning: text`` on one line."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"fastgd {command}: warning: {text}", file=sys.stderr)

    warnings.showwarning = show


def _run(command, argv):
    """Run ``command`` on ``argv``; user errors and interrupts end it in one line."""
    import importlib

    module, name, _ = COMMANDS[command]
    _one_line_warnings(command)
    try:
        getattr(importlib.import_module(module), name)(argv)
    except KeyboardInterrupt:
        print(f"\nfastgd {command}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except (ValueError, OSError, ImportError, MemoryError) as error:
        text = str(error) or type(error).__name__
        if isinstance(error, OSError) and error.filename and \
                error.filename not in text:
            text = f"{error.filename}: {error.strerror or text}"
        print(f"fastgd {command}: error: {' '.join(text.split())}", file=sys.stderr)
        sys.exit(1)


def main(argv=None, default="compare"):
    """The ``fastgd`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (default: ``sys.argv[1:]``).
    default : str or None, default="compare"
        The command run when none is given (``python -m fastgd``); None: print the
        usage instead (the ``fastgd`` console script).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv else None
    if first in ("-h", "--help") or (first is None and default is None):
        print(USAGE, end="")
        return
    if first == "--version":
        from fastgd import __version__

        print(f"fastgd {__version__}")
        return
    if first in COMMANDS:
        return _run(first, argv[1:])
    if first is None or first.startswith("-"):  # the default command's options
        if default is None:
            print("fastgd: error: give a command first; see fastgd --help",
                  file=sys.stderr)
            sys.exit(2)
        return _run(default, argv)
    near = difflib.get_close_matches(first, COMMANDS, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    print(f"{USAGE.splitlines()[0]}\n"
          f"fastgd: error: unknown command {first!r}{hint} (see fastgd --help)",
          file=sys.stderr)
    sys.exit(2)


def console_script():
    """The ``fastgd`` console script: with no command, it prints the usage."""
    main(default=None)


if __name__ == "__main__":
    main()
