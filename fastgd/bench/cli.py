"""``fastgd bench``: benchmarks against the peers, its options and which benchmark
they run.

With no flag, the side-by-side table with every installed peer (``compare``);
``--tta``: time to an objective gap (``time_to_gap``); ``--dask``: the same on a
Dask cluster (``cluster``); ``--read``: reading a libsvm file (``reading``).
"""
import argparse
import os

from fastgd._cli.commands import plain_text


def bench(argv):
    """``fastgd bench``: the side-by-side table with every installed peer, or (its
    flags) time to gap, Dask, or reading a file."""
    from fastgd.bench import compare

    parser = argparse.ArgumentParser(
        prog="fastgd bench", description=plain_text(compare.__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", help="write the table to this Markdown file")
    parser.add_argument("--plot", help="write a chart to this image (matplotlib)")
    parser.add_argument("--tta", action="store_true",
                        help="time to relative objective gaps 1e-2 and 1e-4 instead "
                             "(fastgd.bench.time_to_gap), at --threads")
    parser.add_argument("--threads", default="1,2,all",
                        help="--tta: comma-separated thread counts ('all': every core)")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="--tta, --dask: stop growing a contender's budget past a "
                             "fit this long")
    parser.add_argument("--dask", action="store_true",
                        help="time to gap on a Dask LocalCluster, fastgd next to "
                             "dask-ml (fastgd.bench.cluster); --n-samples rows of dense "
                             "data (default 2,000,000) and --sparse-samples of sparse")
    parser.add_argument("--sparse-samples", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2,
                        help="--dask: worker processes (1 thread each)")
    parser.add_argument("--chunk-rows", type=int, default=125_000)
    parser.add_argument("--read", action="store_true",
                        help="reading a libsvm file: fastgd next to scikit-learn and "
                             "Vowpal Wabbit (fastgd.bench.reading); --n-samples rows")
    parser.add_argument("--read-features", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.read:
        from fastgd.bench import reading

        cores = os.cpu_count() or 1
        reading.run(args.n_samples, args.read_features,
                        sorted({1, cores}), args.repeat, args.markdown)
        return
    if args.dask:
        from fastgd.bench import cluster

        n = args.n_samples if "--n-samples" in argv else 2_000_000
        cluster.run(n, args.sparse_samples, args.workers, args.chunk_rows,
                        args.max_seconds, args.markdown)
        return
    if args.tta:
        from fastgd.bench import time_to_gap

        cores = os.cpu_count() or 1
        threads = sorted({cores if t == "all" else int(t)
                          for t in args.threads.split(",")})
        time_to_gap.run(args.n_samples, threads, args.markdown, args.plot,
                         args.max_seconds)
        return
    compare.run(args.n_samples, args.n_jobs, args.repeat, args.markdown, args.plot)
