"""The side-by-side comparison with the peers; the same as ``python -m fastgd bench``
(arguments: --n-samples, --n-jobs, --repeat, --markdown FILE, --plot FILE)."""
import sys

from fastgd.bench.cli import bench

if __name__ == "__main__":
    bench(sys.argv[1:])
