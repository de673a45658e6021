"""Rank 1 fails (an exception, sys.exit(code), or SIGKILL) while rank 0 waits in a collective: the job must end."""
import os
import signal
import sys
import time

import tinytorch as torch
import tinytorch.distributed as dist

dist.init_process_group("gloo")
mode = sys.argv[1] if len(sys.argv) > 1 else "raise"
if dist.get_rank() == 1:
    time.sleep(0.5)
    if mode == "exit":
        sys.exit(7)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError("rank 1 broke on purpose")
dist.all_reduce(torch.ones(3))  # never completes: rank 1 is gone
print("rank 0 UNREACHABLE", flush=True)
