"""A progress line on standard error for passes over data: rows, time, rows/s, objective.

A pass (a phase: ``"scan of data.svm"``, ``"pass 2/5"``, ``"holdout pass"``) is
started with ``begin`` and ended with ``done``, which writes its line: the rows, the
seconds since it began, the rows per second and, when given, the running objective.
On a terminal the line is redrawn in place by ``update`` (at most 5 times a second);
otherwise only ``done``'s lines are written, one per phase, so that a log stays
short.  ``quiet`` writes nothing.  ``fastgd train``, ``fastgd predict`` and
``fit_stream(..., progress=True)`` write it.
"""
import sys
import time


class Progress:
    """A line on standard error: pass, rows, elapsed time, rows/s, running
    objective.  On a terminal it is redrawn in place (at most 5 times a second);
    otherwise one line per pass is written.

    Parameters
    ----------
    stream : file object or None, default=None
        Where the lines go (None: standard error).
    quiet : bool, default=False
        Write nothing.

    Attributes
    ----------
    start : float
        When it was made (``time.perf_counter``): a command's total time.
    """

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
        """Redraw the line of phase ``label`` on a terminal: ``rows`` so far and the
        running objective ``loss`` (None: not shown)."""
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
        """End phase ``label`` with its line: ``rows`` in all and the objective
        ``loss`` (None: not shown)."""
        line = self._line(label, rows, loss)
        self.phase = None
        self.say(line)

    def say(self, line):
        """A line of its own (unless quiet)."""
        if self.quiet:
            return
        self.stream.write(("\r" if self.live else "") + line
                          + ("\x1b[K" if self.live else "") + "\n")
        self.stream.flush()
