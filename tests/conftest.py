import os
import sys

# the naive reference lives next to the tests
sys.path.insert(0, os.path.dirname(__file__))
