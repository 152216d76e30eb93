"""Models stay bit-for-bit what they were: the hashes of a fixed matrix of fits (every
loss x penalty x batch size x optimizer, multinomial with hard and soft labels,
averaged SGD, one-vs-rest, the schedules, partial_fit and the fit options; each dense
and CSR, float64 and float32, n_jobs 1 and 2).  See ``golden.py``.

Where ``golden_models.json`` holds a table for this machine's platform signature, the
release build must reproduce it.  On every machine and both builds, the fits that hash
the same in every recorded table (of one layout and dtype) must hash the same here,
and the fits that split a reduction over threads must give the same bits twice.  The
matrix is fitted once per run (about half a minute on two cores, release or debug
build)."""
import shutil

import pytest

import golden
from fastgd._kernels._structs import DEBUG_BUILD

RECORDED = golden.load_recorded()
TABLES = [table["hashes"] for table in RECORDED["recorded"]]
CASES = {key: (est, params, target, fit)
         for key, est, params, target, fit in golden.cases()}
GROUPS = golden.equal_groups(TABLES)
GROUPS_OF_CASE = {key: [] for key in CASES}
for group in GROUPS:
    for key in sorted({key for key, _ in group}):
        GROUPS_OF_CASE[key].append(group)
THREADED = golden.threaded_fits(TABLES)


@pytest.fixture(scope="module")
def data():
    return golden.make_data()


@pytest.fixture(scope="module")
def here(data):
    """The hashes of the whole matrix on this build, ``{(case, variant): hash}``."""
    return golden.fits(golden.all_hashes(data))


def test_the_matrix_is_the_recorded_one():
    assert RECORDED["variants"] == golden.VARIANT_NAMES
    for table in RECORDED["recorded"]:
        assert sorted(table["hashes"]) == sorted(CASES), table["platform"]
        lengths = {len(line.split()) for line in table["hashes"].values()}
        assert lengths == {len(golden.VARIANTS)}, table["platform"]


def test_the_tables_are_of_distinct_platforms():
    platforms = [table["platform"] for table in RECORDED["recorded"]]
    assert all(platforms.count(platform) == 1 for platform in platforms)


def test_the_portable_checks_cover_the_matrix():
    # numbers of the recorded tables: a change of them says what the checks lost.
    # Since issue 20 no fit depends on n_jobs (sums in blocks of rows, added in
    # block order): every fit is in a group, none is "threaded"
    assert len(GROUPS) == 3764
    assert sum(map(len, GROUPS)) == 8256
    assert len(THREADED) == 0


@pytest.mark.parametrize("key", sorted(CASES))
def test_model_is_bit_for_bit_the_recorded_one(key, here):
    if DEBUG_BUILD:
        pytest.skip("a debug build (bounds checks) compiles the arithmetic differently")
    platform = golden.platform_signature()
    want = golden.table_for(RECORDED, platform)
    if want is None:
        pytest.skip(f"no table recorded on {platform} (other vector instructions or "
                    "another BLAS kernel round differently): record one with "
                    "`python tests/golden.py --record`")
    changed = [variant for variant, h in zip(golden.VARIANT_NAMES, want[key].split())
               if here[(key, variant)] != h]
    assert not changed, f"{key}: the model changed in {changed}"


@pytest.mark.parametrize("key", sorted(CASES))
def test_fits_recorded_equal_are_equal_here(key, here):
    broken = golden.unequal_groups(GROUPS_OF_CASE[key], here)
    assert not broken, (
        f"{key}: fits that hash the same in every recorded table differ here: " +
        "; ".join(", ".join(f"{k} {v} = {here[(k, v)]}" for k, v in group)
                  for group in broken))


@pytest.mark.parametrize("key, variant", THREADED)
def test_a_threaded_fit_gives_the_same_bits_twice(key, variant, data, here):
    again = golden.refit_hash(CASES[key], variant, data)
    assert again == here[(key, variant)], (
        f"{key} {variant}: fitted twice, hashes {here[(key, variant)]} then {again}")


# the checks themselves, on made-up tables

def _table(*hashes):
    """A table of one case, its eight variants hashed ``hashes``."""
    return {"case": " ".join(hashes)}


N1, N2 = "dense/f64/1", "dense/f64/2"
SAME_N_JOBS = _table("a", "a", "b", "c", "d", "d", "e", "e")


def test_equal_groups_are_of_one_layout_and_dtype():
    # dense/f64 n_jobs 1 = 2, csr/f64 1 = 2, csr/f32 1 = 2; dense/f32 1 != 2;
    # csr/f64 = csr/f32 ("d" = "e" in the second table) is across dtypes: left out
    other = _table("p", "p", "q", "r", "s", "s", "s", "s")
    assert golden.equal_groups([SAME_N_JOBS, other]) == [
        [("case", N1), ("case", N2)],
        [("case", "csr/f64/1"), ("case", "csr/f64/2")],
        [("case", "csr/f32/1"), ("case", "csr/f32/2")]]


def test_an_equality_must_hold_in_every_table():
    other = _table("p", "x", "q", "r", "s", "s", "t", "t")
    assert [("case", N1), ("case", N2)] not in golden.equal_groups([SAME_N_JOBS, other])


def test_equalities_across_cases_are_kept():
    two_cases = {"one": "a b c d e f g h", "two": "a x c y e z g w"}
    assert golden.equal_groups([two_cases]) == [
        [("one", v), ("two", v)] for v in ("dense/f64/1", "dense/f32/1", "csr/f64/1",
                                           "csr/f32/1")]


def test_a_model_that_depends_on_n_jobs_breaks_its_group():
    groups = golden.equal_groups([SAME_N_JOBS])
    here = golden.fits(_table("a", "Z", "b", "c", "d", "d", "e", "e"))
    assert golden.unequal_groups(groups, here) == [[("case", N1), ("case", N2)]]
    assert golden.unequal_groups(groups, golden.fits(SAME_N_JOBS)) == []


def test_threaded_fits_are_the_n_jobs_2_fits_that_differ_in_some_table():
    other = _table("p", "p", "q", "q", "s", "s", "t", "u")
    assert golden.threaded_fits([SAME_N_JOBS, other]) == [
        ("case", "csr/f32/2"), ("case", "dense/f32/2")]


def test_a_table_is_recorded_in_place_of_its_platform_or_added():
    recorded = {"variants": golden.VARIANT_NAMES,
                "recorded": [{"platform": "A", "hashes": {"case": "1"}},
                             {"platform": "B", "hashes": {"case": "2"}}]}
    replaced = golden.with_table(recorded, "A", {"case": "3"})
    assert replaced["recorded"] == [{"platform": "A", "hashes": {"case": "3"}},
                                    {"platform": "B", "hashes": {"case": "2"}}]
    added = golden.with_table(recorded, "C", {"case": "4"})
    assert [t["platform"] for t in added["recorded"]] == ["A", "B", "C"]
    alone = golden.with_table(recorded, "B", {"case": "5"}, forget_others=True)
    assert alone["recorded"] == [{"platform": "B", "hashes": {"case": "5"}}]
    assert golden.table_for(alone, "B") == {"case": "5"}
    assert golden.table_for(alone, "A") is None


def test_changed_fits_lists_each_fit_whose_bits_differ():
    before = {"one": "a b c d e f g h", "two": "a b c d e f g h"}
    after = {"one": "a b c d e f g h", "two": "a b X d e f g Y"}
    assert golden.changed_fits(before, after) == [
        ("two", "csr/f32/2", "h", "Y"), ("two", "dense/f32/1", "c", "X")]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_compare_says_which_revision_git_cannot_export(tmp_path):
    with pytest.raises(golden.CompareError,
                       match="^git cannot export revision 'no-such-revision': "):
        golden.export_revision("no-such-revision", str(tmp_path))


def test_forget_others_goes_with_record(capsys):
    with pytest.raises(SystemExit) as exit_:
        golden.parse_args(["--forget-others"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.endswith("golden.py: error: --forget-others goes with --record\n")


def test_record_refuses_the_debug_build(monkeypatch):
    monkeypatch.setattr(golden, "this_build", lambda: {"fastgd": "", "debug": True})
    monkeypatch.setattr(golden, "write_recorded", pytest.fail)
    with pytest.raises(SystemExit, match=(
            r"^golden.py --record: this fastgd is a debug build \(FASTGD_DEBUG=1\), "
            "whose arithmetic differs; record from the release build$")):
        golden.record(forget_others=False)
