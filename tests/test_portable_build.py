"""The end-to-end tests again, on the portable llama.cpp build and other thread counts.

Users' CPUs differ: some have AVX-512, many only AVX2, and llama.cpp's numerics differ
between its builds and thread counts, so a greedy answer may be worded differently. No
end-to-end question may depend on that. `scripts/setup.sh --test` builds a second,
portable (AVX2) llama-cpp-python into `.llama-portable/`; these tests run tests/test_e2e.py
in a subprocess with it first on the path, and with the machine's own build at 1 thread
(the main run uses all cores). The run summary lists each build and its result.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PORTABLE = REPO / ".llama-portable"
pytestmark = pytest.mark.e2e


def _build_of(env: dict) -> str:
    probe = "import tests.conftest as c; print(c.llama_build())"
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO, text=True,
                          capture_output=True, timeout=120)
    return done.stdout.strip() or done.stderr.strip()[-200:]


@pytest.mark.parametrize("build,threads", [("portable", 1), ("portable", 2), ("native", 1)])
def test_end_to_end_answers_hold_on_every_build_and_thread_count(build, threads, request):
    env = {**os.environ, "RAG_THREADS": str(threads)}
    if build == "portable":
        if not (PORTABLE / "llama_cpp").is_dir():
            message = "no portable llama.cpp build in .llama-portable/: run scripts/setup.sh --test"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        env["PYTHONPATH"] = os.pathsep.join([str(PORTABLE), str(REPO)])
    which = _build_of(env)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_e2e.py"], env=env, cwd=REPO, text=True,
                          capture_output=True, timeout=3600)
    result = (re.findall(r"^=*\s*(\d+ \w+.*) in [\d.]+s", done.stdout, re.M) or ["?"])[-1]
    request.config.build_runs.append(f"tests/test_e2e.py on {build} build ({which}), {threads} thread(s): "
                      f"{result}")
    assert done.returncode == 0, done.stdout[-6000:]
    if build == "portable":
        assert "AVX512" not in which.split(":")[-1], which
