"""Time from `fsd -nc` to ready, and `fsd -stop`, on a temporary base directory.

Prints the median and max of N runs.  Target (issue 2): under 1.5 s on this machine.
The event socket listens on an ephemeral port (fsd.testing.prepare_base), so this never
touches 8021.  Baseline in the same run: a bare `python -c pass` start."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

from fsd.testing import ALL_MODULES, prepare_base


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return dt


def main(runs: int = 5) -> None:
    base_py = [timed([sys.executable, "-c", "pass"]) for _ in range(runs)]
    starts, stops = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            prepare_base(d, ALL_MODULES)
            starts.append(timed([sys.executable, "-m", "fsd.cli", "-nc", "-base", d]))
            stops.append(timed([sys.executable, "-m", "fsd.cli", "-stop", "-base", d]))
    print(f"python interpreter start (baseline): median {statistics.median(base_py) * 1000:.0f} ms")
    print(f"fsd -nc to ready, all bundled modules: median {statistics.median(starts) * 1000:.0f} ms, "
          f"max {max(starts) * 1000:.0f} ms (target < 1500 ms) over {runs} runs")
    print(f"fsd -stop until the process is gone: median {statistics.median(stops) * 1000:.0f} ms")
    print(f"ratio start/baseline: {statistics.median(starts) / statistics.median(base_py):.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
