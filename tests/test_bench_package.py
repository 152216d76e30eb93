"""``fastgd.bench`` is apart from the library: nothing in ``fastgd`` imports it but
the command table of ``python -m fastgd``, whose commands name modules that exist, and
the package's map names every one of its modules."""
import importlib.util
import pathlib
import re

import fastgd
import fastgd.bench
from fastgd.__main__ import COMMANDS

PACKAGE = pathlib.Path(fastgd.__file__).parent
BENCH = PACKAGE / "bench"


def test_the_library_does_not_import_its_benchmarks():
    sources = [path for suffix in ("*.py", "*.pyx", "*.pxd")
               for path in PACKAGE.rglob(suffix)
               if BENCH not in path.parents and path.name != "__main__.py"]
    assert len(sources) > 20  # the library's modules were found
    importing = [str(path.relative_to(PACKAGE)) for path in sources
                 if re.search(r"fastgd\.bench|from fastgd import bench",
                              path.read_text())]
    assert importing == []


def test_the_command_table_names_modules_that_exist():
    for module, function, _ in COMMANDS.values():
        assert importlib.util.find_spec(module) is not None, module
    bench_commands = {name for name, (module, _, _) in COMMANDS.items()
                      if module.startswith("fastgd.bench.")}
    assert bench_commands == {"compare", "bench"}


def test_the_map_names_every_module():
    modules = sorted(path.stem for path in BENCH.glob("*.py")
                     if path.stem != "__init__")
    listed = re.findall(r"^  (\w+) ", fastgd.bench.__doc__, flags=re.MULTILINE)
    assert listed and sorted(listed) == modules
