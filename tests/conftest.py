import os
import sys

from hypothesis import HealthCheck, settings

# the naive reference lives next to the tests
sys.path.insert(0, os.path.dirname(__file__))

# Hypothesis profiles, by name for every fuzz test: "ci" (a few hundred examples, the
# default) and "long" (thousands); HYPOTHESIS_PROFILE picks the one loaded.
settings.register_profile("ci", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
