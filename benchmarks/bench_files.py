"""asv suite: reading a libsvm file (the data and the readers of ``python -m fastgd
bench --read``, ``fastgd.bench.reading``): fastgd's reader at 1 and 2 threads next to
scikit-learn's ``load_svmlight_file``, and the ``fastgd train`` command on the file
(read into memory and fit, or streamed in blocks with ``partial_fit``)."""
import contextlib
import os
import shutil
import tempfile

from fastgd.__main__ import main as fastgd_command
from fastgd.bench import reading

# this suite's reader parameter -> the reader's name in ``reading.readers``
READERS = {"fastgd 1 thread": "fastgd DataFile, 1 thread",
           "fastgd 2 threads": "fastgd DataFile, 2 threads",
           "scikit-learn": "scikit-learn load_svmlight_file"}


class ReadLibsvm:
    params = (list(READERS),)
    param_names = ["reader"]
    timeout = 300

    def setup(self, reader):
        self.folder = tempfile.mkdtemp()
        path, _ = reading.write_files(self.folder, 100_000, 1000, 0.03)
        self.read = reading.readers(path, None, None, [1, 2])[READERS[reader]]

    def teardown(self, reader):
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_read(self, reader):
        self.read()


class TrainFromFile:
    params = (["in memory", "streamed"],)
    param_names = ["mode"]
    timeout = 300

    def setup(self, mode):
        self.folder = tempfile.mkdtemp()
        self.path, _ = reading.write_files(self.folder, 100_000, 1000, 0.03)
        size_mb = os.path.getsize(self.path) / 2**20
        self.chunk_mb = str(size_mb + 1 if mode == "in memory" else size_mb / 8)

    def teardown(self, mode):
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_train(self, mode):
        # the file's labels are random: no model beats the constant one, and the
        # command would refuse to write it (the time, not the model, is measured)
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            fastgd_command(["train", self.path, "--chunk-mb", self.chunk_mb, "-q",
                            "-o", os.path.join(self.folder, "model"), "--max-iter",
                            "5", "--tol", "none", "--passes", "5",
                            "--keep-bad-model"])
