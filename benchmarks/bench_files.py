"""asv suite: reading a libsvm file (the data of ``python -m fastgd bench --read``,
``fastgd.bench.reading``): fastgd's reader at 1 and 2 threads next to scikit-learn's
``load_svmlight_file``, and ``fastgd train`` on the file (read into memory and fit,
or streamed in blocks with ``partial_fit``)."""
import os
import shutil
import tempfile

from fastgd.bench import reading
from fastgd._files.readers import DataFile


class ReadLibsvm:
    params = (["fastgd 1 thread", "fastgd 2 threads", "scikit-learn"],)
    param_names = ["reader"]
    timeout = 300

    def setup(self, reader):
        self.folder = tempfile.mkdtemp()
        self.path, _ = reading.write_files(self.folder, 100_000, 1000, 0.03)

    def teardown(self, reader):
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_read(self, reader):
        if reader == "scikit-learn":
            from sklearn.datasets import load_svmlight_file

            load_svmlight_file(self.path)
        else:
            DataFile(self.path, chunk_bytes=1 << 40,
                     n_threads=int(reader.split()[1])).read_all()


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
        from fastgd._cli import commands

        with open(os.devnull, "w") as quiet:
            commands.train([self.path, "--chunk-mb", self.chunk_mb, "-q", "-o",
                        os.path.join(self.folder, "model"), "--max-iter", "5",
                        "--tol", "none", "--passes", "5"], out=quiet)
