"""The benchmarks' tables (``fastgd.bench.tables``) and the tables each benchmark
builds with them, on rows made up here: the cells, the alignment of the demo's
columns, the ratios against the peers, and the Markdown file."""
import numpy as np

from fastgd.bench import cluster, compare, demo, tables
from fastgd.bench import time_to_gap as tta


def test_cells():
    assert tables.times(2.5) == "2.50x"
    assert tables.times(2.46, digits=1) == "2.5x"
    assert tables.times(None) == ""
    assert tables.times(float("nan"), missing="-") == "-"
    assert tables.time_to_goal((0.12345, 5, 1e-3), "it") == "0.123s (5it)"
    assert tables.time_to_goal((1.5, 2), "ep", digits=2) == "1.50s (2ep)"
    assert tables.time_to_goal((0.3, 1), "") == "0.300s (1)"
    assert tables.time_to_goal(None, "it") == "not reached"


def test_markdown_table_and_file(tmp_path, capsys):
    lines = tables.markdown_table(("a", "b"), [("1", "2"), ("3", "")])
    assert lines == ["| a | b |", "|---|---|", "| 1 | 2 |", "| 3 |  |"]
    path = tmp_path / "table.md"
    tables.show(lines, str(path))
    assert capsys.readouterr().out == "\n".join(lines) + "\n"
    assert path.read_text() == "\n".join(lines) + "\n"


def test_the_demos_columns_keep_their_widths():
    # the header and a row of ``python -m fastgd`` as the demo printed them before
    # the table code moved to ``tables``
    assert tables.aligned_row(demo.COLUMNS, demo.WIDTHS) == (
        f"{'case':40s} {'n x d':>16s} {'fastgd':>9s} {'sklearn':>9s} "
        f"{'speedup':>8s} {'score fastgd':>13s} {'score sklearn':>14s}")
    t_ours, t_theirs, s_ours, s_theirs = 0.04, 0.0591, 0.99991, 0.5
    row = tables.aligned_row(("dense regression", "20000 x 100", f"{t_ours:.3f}s",
                              f"{t_theirs:.3f}s", tables.times(t_theirs / t_ours),
                              f"{s_ours:.4f}", f"{s_theirs:.4f}"), demo.WIDTHS)
    assert row == (f"{'dense regression':40s} {'20000 x 100':>16s} {t_ours:8.3f}s "
                   f"{t_theirs:8.3f}s {t_theirs / t_ours:7.2f}x {s_ours:13.4f} "
                   f"{s_theirs:14.4f}")
    assert len(row) == sum(demo.WIDTHS) + len(demo.WIDTHS) - 1


def test_compare_table_leaves_the_floor_without_ratio_or_score():
    rows = [("dense", "fastgd (1 thread)", 0.5, 2.0, 0.9),
            ("dense", "scikit-learn", 1.0, 1.0, 0.8),
            ("dense", "numpy reads X once (floor)", 0.01, np.nan, np.nan)]
    assert compare.table(rows) == [
        "| case | contender | median time (s) | vs scikit-learn | score |",
        "|---|---|---|---|---|",
        "| dense | fastgd (1 thread) | 0.500 | 2.00x | 0.9000 |",
        "| dense | scikit-learn | 1.000 | 1.00x | 0.8000 |",
        "| dense | numpy reads X once (floor) | 0.010 | - | - |"]


def test_time_to_gap_ratios_are_the_fastest_cpu_peer_over_fastgd():
    g1, g2 = tta.GAPS
    rows = [("p", 1, "fastgd lbfgs", "it", {g1: (0.1, 5, 0), g2: (0.2, 10, 0)}),
            ("p", 1, "sklearn lbfgs", "it", {g1: (0.3, 5, 0), g2: (0.5, 12, 0)}),
            ("p", 1, "sklearn saga", "ep", {g1: (0.25, 3, 0), g2: None}),
            # the GPU is no CPU peer, and the other thread count is another race
            ("p", 1, "pytorch lbfgs (GPU)", "it", {g1: (0.01, 5, 0),
                                                    g2: (0.01, 5, 0)}),
            ("p", 2, "sklearn lbfgs", "it", {g1: (0.02, 5, 0), g2: (0.02, 5, 0)})]
    lines = tta.table(rows, 100)
    assert lines[0] == (
        "| problem (100 rows) | threads | contender | to 0.01 | to 0.0001 "
        "| best CPU peer / it, to 0.01 | best CPU peer / it, to 0.0001 |")
    assert lines[2] == ("| p | 1 | fastgd lbfgs | 0.100s (5it) | 0.200s (10it) "
                        "| 2.50x | 2.50x |")
    assert lines[4] == "| p | 1 | sklearn saga | 0.250s (3ep) | not reached |  |  |"
    assert lines[-2] == ""


def test_cluster_table_rows():
    g1, g2, g3 = cluster.GAPS
    traffic = dict(round_trips_per_epoch=1.5, bytes_sent_per_epoch=2048,
                   bytes_received_per_epoch=4096)
    rows = [("p", "fastgd lbfgs, in memory, 2 threads", "it", {g1: (0.25, 10)},
             (1e-3, 0.91, None, 0.25, 10)),
            ("p", "fastgd lbfgs, Dask", "it", {g1: (0.5, 10)},
             (1e-3, 0.91, traffic, 0.5, 10)),
            ("p", "peak worker memory after fastgd's Dask fits: 100 MiB", "", None,
             None),
            ("p", "dask-ml lbfgs", "it", {g1: (1.0, 5), g2: (2.0, 40)},
             (1e-5, 0.9, None, 2.0, 40)),
            ("p", "dask-ml admm", "it", {}, "ValueError: bad")]
    lines = cluster.table(rows)
    assert lines[0].count("|") == 15 and lines[1] == "|" + "---|" * 14
    assert lines[2] == (
        "| p | fastgd lbfgs, in memory, 2 threads | 0.25s (10it) | not reached "
        "| not reached | 4.0x |  |  |  |  |  | 1.00e-03 (10it, 0.25s) | 0.9100 "
        "|  |")
    assert lines[3] == (
        "| p | fastgd lbfgs, Dask | 0.50s (10it) | not reached | not reached | 2.0x "
        "|  |  | 2.00x |  |  | 1.00e-03 (10it, 0.50s) | 0.9100 "
        "| 1.50 round trips, 2.0 KiB sent, 4.0 KiB back |")
    assert lines[4] == ("| p | peak worker memory after fastgd's Dask fits: 100 MiB |"
                        + "  |" * 12)
    assert lines[5] == ("| p | dask-ml lbfgs | 1.00s (5it) | 2.00s (40it) "
                        "| not reached |  |  |  |  |  |  | 1.00e-05 (40it, 2.00s) "
                        "| 0.9000 |  |")
    assert lines[6] == ("| p | dask-ml admm | not reached | not reached "
                        "| not reached |  |  |  |  |  |  | ValueError: bad |  |  |")
    assert lines[-3] == (
        "p, to 0.01: best dask-ml dask-ml lbfgs 1.00s; best fastgd on Dask fastgd "
        "lbfgs, Dask 0.50s; best fastgd in memory fastgd lbfgs, in memory, 2 threads "
        "0.25s; dask-ml / fastgd on Dask 2.0x; fastgd on Dask / in memory 2.00x")
    assert lines[-2].startswith("p, to 0.0001: best dask-ml dask-ml lbfgs 2.00s; "
                                "best fastgd on Dask not reached")
    assert lines[-2].endswith("dask-ml / fastgd on Dask -; fastgd on Dask / in "
                              "memory -")
    assert cluster.line(rows[1], rows) == lines[3]
