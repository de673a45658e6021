"""``record(rank, name)``: note a passed check in this rank's results file (and print it).

The files, not stdout, are what the tests read: mpiexec may interleave the ranks' output mid-line.
"""
import os


def record(rank: int, name: str, detail: str = "") -> None:
    line = f"rank {rank} PASS {name}"
    folder = os.environ.get("TT_DIST_RESULTS")
    if folder:
        with open(os.path.join(folder, f"rank{rank}.txt"), "a") as f:
            f.write(line + "\n")
    print(line + (f": {detail}" if detail else ""), flush=True)
