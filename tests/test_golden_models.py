"""Models stay bit-for-bit what they were: the hashes of a fixed matrix of fits (every
loss x penalty x batch size x optimizer, multinomial with hard and soft labels,
averaged SGD, one-vs-rest, the schedules, partial_fit and the fit options; each dense
and CSR, float64 and float32, n_jobs 1 and 2), recorded from the code before the
kernels were restructured.  See ``golden.py``."""
import json
import os

import pytest

import golden
from fastgd._structs import DEBUG_BUILD

with open(os.path.join(os.path.dirname(__file__), "golden_models.json")) as f:
    GOLDEN = json.load(f)

CASES = {key: (est, params, target, fit)
         for key, est, params, target, fit in golden.cases()}


@pytest.fixture(scope="module")
def data():
    return golden.make_data()


def test_the_matrix_is_the_recorded_one():
    assert sorted(CASES) == sorted(GOLDEN["hashes"])
    assert GOLDEN["variants"] == ["/".join(map(str, v)) for v in golden.VARIANTS]


@pytest.mark.parametrize("key", sorted(CASES))
def test_model_is_bit_for_bit_the_recorded_one(key, data):
    if DEBUG_BUILD:
        pytest.skip("a debug build (bounds checks) compiles the arithmetic differently")
    here = golden.platform_signature()
    if here != GOLDEN["platform"]:
        pytest.skip(f"hashes recorded on {GOLDEN['platform']}, this machine is {here}: "
                    "other vector instructions or another BLAS kernel round "
                    "differently")
    got = golden.case_hashes(*CASES[key], data).split()
    want = GOLDEN["hashes"][key].split()
    changed = [variant for variant, a, b in zip(GOLDEN["variants"], got, want)
               if a != b]
    assert not changed, f"{key}: the model changed in {changed}"
