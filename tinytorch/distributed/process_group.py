"""Process groups: the world's state, ``init_process_group`` and the rank/size queries.

A ``ProcessGroup`` pairs an MPI communicator (always: it carries rendezvous, barriers, object
collectives and the cross-rank argument checks) with the engine that moves tensors: MPI itself for
CPU tensors ("mpi", and "gloo" which MPI serves), NCCL through CuPy for CUDA tensors ("nccl").
"""
from __future__ import annotations

import datetime
import importlib.util
import os
import sys
from .._arrays.nccl import nccl_importable
import traceback
from .. import _arrays as _be
from ._mpi import MpiEngine
from ._nccl import NcclEngine

__all__ = ["Backend", "GroupMember", "group", "ProcessGroup", "is_available", "is_mpi_available",
           "is_gloo_available", "is_nccl_available", "is_backend_available", "is_initialized",
           "is_torchelastic_launched", "init_process_group", "destroy_process_group", "new_group",
           "get_rank", "get_world_size", "get_backend", "get_global_rank", "get_group_rank", "get_node_local_rank",
           "get_process_group_ranks", "default_pg_timeout"]

default_pg_timeout = datetime.timedelta(minutes=30)  # torch's default for CPU backends

_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."


class Backend(str):
    """Backend names, as torch spells them: ``Backend("GLOO") == "gloo"``."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, got {name!r}")
        return str.__new__(cls, name.lower())


class GroupMember:
    """``GroupMember.WORLD`` (the default group once initialized) and the non-member sentinel."""

    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember  # torch.distributed.group.WORLD


def is_available() -> bool:
    """True when an engine is installed: mpi4py (CPU collectives and rendezvous for every backend)."""
    return is_mpi_available()


def is_mpi_available() -> bool:
    return importlib.util.find_spec("mpi4py") is not None


def is_gloo_available() -> bool:
    """"gloo" is accepted for torch scripts and served by MPI, so it is available when MPI is."""
    return is_mpi_available()


def is_nccl_available() -> bool:
    """True when CuPy's NCCL bindings import (a GPU is needed to use them)."""
    return is_mpi_available() and nccl_importable()


def is_backend_available(backend: str) -> bool:
    return {"mpi": is_mpi_available, "gloo": is_gloo_available, "nccl": is_nccl_available}.get(
        str(backend).lower(), lambda: False)()


def is_torchelastic_launched() -> bool:
    """True inside a worker started by ``python -m tinytorch.distributed.run`` (torchrun's test)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


class ProcessGroup:
    """A set of ranks that run collectives together.

    ``ranks`` are global ranks in group order; ``rank()``/``size()`` are this process's group rank and
    the group size. ``comm`` is the MPI communicator; ``engines`` maps a device type ("cpu", "cuda") to
    the object that runs collectives on arrays of that device.
    """

    def __init__(self, comm, ranks, backend: str, engines: dict, timeout: datetime.timedelta):
        self.comm = comm
        self.ranks = list(ranks)
        self.backend = backend
        self.engines = engines
        self.timeout = timeout
        self.checks = os.environ.get("TINYTORCH_DISTRIBUTED_CHECKS", "1") != "0"  # cross-rank argument checks

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def engine_for(self, device_type: str, op: str):
        eng = self.engines.get(device_type)
        if eng is None:
            raise RuntimeError(f"{op}: no backend for {device_type} tensors in this process group "
                               f"(backend {self.backend!r}); use 'gloo'/'mpi' for CPU tensors, 'nccl' for CUDA "
                               "tensors, or 'cpu:gloo,cuda:nccl' for both")
        return eng

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class _World:
    default: ProcessGroup | None = None
    groups: list = []
    excepthook = None  # the hook _abort_job replaced while a multi-rank group exists


def _abort_job(exc_type, exc, tb):
    """An uncaught exception on one rank ends the whole job (MPI_Abort) instead of leaving the others
    blocked in their next collective -- what ``python -m mpi4py`` does, installed by init_process_group."""
    MPI = _mpi()
    rank = MPI.COMM_WORLD.Get_rank()
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {rank}] {text}[rank {rank}] uncaught {exc_type.__name__}: aborting the job\n")
    sys.stderr.flush()
    if exc_type is SystemExit:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 1
    MPI.COMM_WORLD.Abort(code or 1)


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError("tinytorch.distributed needs mpi4py and an MPI library: "
                           f"pip install 'tinytorch[distributed]' ({e})") from e
    return MPI


def _default_backend() -> str:
    return "cpu:gloo,cuda:nccl" if _be.cuda_available() else "gloo"


def _parse_backend(backend) -> dict:
    """``"gloo"`` -> {"cpu": "mpi", "cuda": "mpi"}; ``"cpu:gloo,cuda:nccl"`` -> per-device engines."""
    if backend is None:
        backend = _default_backend()
    if not isinstance(backend, str):
        raise TypeError(f"init_process_group: backend must be a string, got {type(backend).__name__}")
    name = backend.lower()
    supported = ("mpi", "gloo", "nccl")
    if ":" not in name:
        if name not in supported:
            raise ValueError(f"init_process_group: unsupported backend {backend!r}; tinytorch supports 'mpi', "
                             "'gloo' (served by MPI), 'nccl' (NCCL through CuPy) and 'cpu:gloo,cuda:nccl'")
        # MPI handles CUDA tensors too, by staging them through host memory
        return {"cuda": "nccl"} if name == "nccl" else {"cpu": "mpi", "cuda": "mpi"}
    out = {}
    for part in name.split(","):
        dev, _, b = part.partition(":")
        if dev not in ("cpu", "cuda") or b not in supported:
            raise ValueError(f"init_process_group: cannot parse backend {backend!r}: expected entries like "
                             "'cpu:gloo' or 'cuda:nccl'")
        if dev == "cpu" and b == "nccl":
            raise ValueError(f"init_process_group: backend {backend!r}: NCCL cannot serve CPU tensors")
        out[dev] = "nccl" if b == "nccl" else "mpi"
    return out


def _env_int(name):
    v = os.environ.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"init_process_group: environment variable {name}={v!r} is not an integer") from None


def _make_group(comm, ranks, backend_name, timeout, device_id=None):
    engines = {}
    for dev, kind in _parse_backend(backend_name).items():
        if kind == "mpi":
            engines[dev] = engines.get("cpu") if isinstance(engines.get("cpu"), MpiEngine) else MpiEngine(comm)
        else:
            engines[dev] = NcclEngine.create(comm, device_id)
    return ProcessGroup(comm, ranks, str(backend_name or _default_backend()).lower(), engines, timeout)


def _check_timeout(timeout, fn):
    if timeout is None:
        return default_pg_timeout
    if isinstance(timeout, (int, float)):
        timeout = datetime.timedelta(seconds=timeout)
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{fn}: timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"{fn}: timeout must be positive, got {timeout}")
    return timeout


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the job's default process group.

    The ranks are MPI's (``mpiexec -n N`` or ``python -m tinytorch.distributed.run``): ``rank``,
    ``world_size`` and the ``RANK``/``WORLD_SIZE`` variables of ``env://`` are checked against them, and
    ``MASTER_ADDR``/``MASTER_PORT`` are not needed (MPI does the rendezvous). Backends: ``"mpi"``,
    ``"gloo"`` (torch scripts' CPU backend: served by MPI here), ``"nccl"`` (CUDA tensors, NCCL through
    CuPy, its unique id broadcast over MPI) and ``"cpu:gloo,cuda:nccl"``.

    Args:
        backend: see above; None picks "cpu:gloo,cuda:nccl" when CUDA is usable, else "gloo".
        init_method: "env://" (default), or "tcp://..."/"file://..." (accepted; MPI still does the rendezvous).
        timeout: how long a collective may wait for the other ranks before raising (default 30 min).
        world_size, rank: optional; must agree with MPI when given.
        device_id: the CUDA device for "nccl" (default: the current CuPy device).
    """
    if _World.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise RuntimeError("init_process_group: store= is not supported: tinytorch's rendezvous is done by MPI")
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError(f"init_process_group: init_method must be a string, got {type(init_method).__name__}")
    if init_method is not None and init_method.split("://")[0] not in ("env", "tcp", "file", "mpi"):
        raise ValueError(f"init_process_group: unsupported init_method {init_method!r}; use 'env://'")
    timeout = _check_timeout(timeout, "init_process_group")
    _parse_backend(backend)  # fail on a bad name before touching MPI
    MPI = _mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    if init_method in (None, "env://"):
        env_size, env_rank = _env_int("WORLD_SIZE"), _env_int("RANK")
    else:
        env_size = env_rank = None
    for what, given, actual in (("world_size", world_size, size), ("WORLD_SIZE", env_size, size),
                                ("rank", rank, me), ("RANK", env_rank, me)):
        if given is not None and given != -1 and given != actual:
            raise RuntimeError(
                f"init_process_group: {what}={given} but MPI says this process is rank {me} of {size}. tinytorch's "
                "ranks come from MPI: start the job with 'python -m tinytorch.distributed.run --nproc_per_node=N "
                "script.py' or 'mpiexec -n N python script.py'")
    comm = world.Dup()  # our own context: a script's direct MPI traffic cannot match our messages
    try:
        pg = _make_group(comm, range(size), backend, timeout, device_id)
    except BaseException:
        comm.Free()
        raise
    _World.default = pg
    _World.groups = [pg]
    GroupMember.WORLD = pg
    if size > 1 and _World.excepthook is None:
        _World.excepthook = sys.excepthook
        sys.excepthook = _abort_job


def is_initialized() -> bool:
    return _World.default is not None


def _default_group() -> ProcessGroup:
    if _World.default is None:
        raise ValueError(_NOT_INIT)
    return _World.default


def resolve(group) -> ProcessGroup | None:
    """The group a call means: the default for None, None for a non-member (collectives then do nothing)."""
    if group is None:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        _default_group()
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"expected a ProcessGroup from new_group (or None), got {type(group).__name__}")
    if group not in _World.groups:
        raise ValueError(f"{group!r} was destroyed or belongs to an earlier init_process_group")
    return group


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free ``group`` (default: every group, after which ``init_process_group`` may be called again)."""
    if group is None:
        _default_group()
        for g in _World.groups:
            _free(g)
        _World.default = None
        _World.groups = []
        GroupMember.WORLD = None
        if _World.excepthook is not None:
            sys.excepthook, _World.excepthook = _World.excepthook, None
        return
    g = resolve(group)
    if g is None:
        return
    _free(g)
    _World.groups.remove(g)
    if g is _World.default:
        _World.default = None
        GroupMember.WORLD = None


def _free(g):
    for eng in set(map(id, g.engines.values())):
        e = next(v for v in g.engines.values() if id(v) == eng)
        e.close()
    MPI = _mpi()
    if g.comm != MPI.COMM_NULL and not MPI.Is_finalized():
        g.comm.Free()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks: bool = True):
    """A group of the given global ranks (all of them when None); every rank of the world must call it.

    Returns the group on its members and ``GroupMember.NON_GROUP_MEMBER`` elsewhere, as torch does.
    """
    world = _default_group()
    n = world.size()
    ranks = list(range(n)) if ranks is None else [int(r) for r in ranks]
    bad = [r for r in ranks if not 0 <= r < n]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct and in [0, {n - 1}], got {ranks}")
    if sort_ranks:
        ranks = sorted(ranks)
    timeout = _check_timeout(timeout, "new_group") if timeout is not None else world.timeout
    me = world.rank()
    MPI = _mpi()
    color = 0 if me in ranks else MPI.UNDEFINED
    key = ranks.index(me) if me in ranks else 0
    comm = world.comm.Split(color, key)  # collective over the world, like torch's new_group
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = _make_group(comm, ranks, backend or world.backend, timeout, device_id)
    _World.groups.append(pg)
    return pg


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the world); -1 when it is not a member."""
    g = resolve(group)
    return -1 if g is None else g.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in ``group``; -1 when this process is not a member."""
    g = resolve(group)
    return -1 if g is None else g.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    g = resolve(group)
    if g is None:
        raise ValueError("get_backend: this process is not a member of the group")
    return Backend(g.backend)


def get_process_group_ranks(group: ProcessGroup | None) -> list:
    g = resolve(group)
    if g is None:
        raise ValueError("get_process_group_ranks: this process is not a member of the group")
    return list(g.ranks)


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its node: ``LOCAL_RANK`` (set by the launcher), else ``fallback_rank``."""
    v = os.environ.get("LOCAL_RANK")
    if v is not None:
        return int(v)
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not set: start the job with python -m tinytorch.distributed.run, or pass "
                       "fallback_rank")


def get_global_rank(group: ProcessGroup | None, group_rank: int) -> int:
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"get_global_rank: group rank {group_rank} is not in a group of {len(ranks)} ranks")
    return ranks[group_rank]


def get_group_rank(group: ProcessGroup | None, global_rank: int) -> int:
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"get_group_rank: global rank {global_rank} is not part of the group {ranks}")
    return ranks.index(global_rank)

