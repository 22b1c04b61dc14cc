"""Run every ``bench/bench_*.py`` in turn (``--quick`` and other flags are
passed on).  Exit status: the number of benches that failed to run."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    failed = 0
    for path in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        print(f"\n##### {os.path.basename(path)}", flush=True)
        rc = subprocess.call([sys.executable, path, *argv])
        if rc != 0:
            print(f"##### {os.path.basename(path)} exited {rc}", flush=True)
            failed += 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
