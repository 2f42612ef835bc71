"""Where a sweep's points run: a local process pool, or a Dask distributed cluster.

Both yield each point's ``Outcome`` as it completes (in any order); the caller sorts rows
into grid order, so the CSV does not depend on the executor or the number of workers.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from accelsim.children import die_with_parent
from accelsim.errors import AccelsimError
from accelsim.sweep.worker import Outcome, Task, run_task

EXECUTORS = ("local", "dask")
_INSTALL_HINT = "pip install 'accelsim[cluster]'"


def _worker_signals(parent_pid: int) -> None:
    """Pool processes leave Ctrl-C to the parent (which stops the pool), die quietly on
    SIGTERM when the pool is terminated, and die with the parent if it is killed."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_local(tasks: Sequence[Task], jobs: int) -> Iterator[Outcome]:
    """``jobs`` processes (one: in this process). A worker that dies (killed, out of memory)
    ends the sweep with a one-line error; the points already written stay."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_task(task)
        return
    pool = ProcessPoolExecutor(min(jobs, len(tasks)), initializer=_worker_signals,
                              initargs=(os.getpid(),))
    finished = False
    try:
        pending = [pool.submit(run_task, task) for task in tasks]
        for future in as_completed(pending):
            yield future.result()
        finished = True
    except BrokenProcessPool:
        raise AccelsimError("a worker process died (killed, or out of memory?); rerun the "
                            "same command to resume", key="sweep") from None
    finally:
        # On Ctrl-C, SIGTERM or an error, stop the points still running: there is no public
        # way to end a pool's processes before Python 3.14's terminate_workers().
        running = [] if finished else list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=finished, cancel_futures=True)
        for process in running:
            process.terminate()


def run_dask(tasks: Sequence[Task], scheduler: str) -> Iterator[Outcome]:
    """On the cluster whose scheduler listens at ``scheduler`` (``tcp://host:8786``). The
    workers need accelsim installed and the trace files at the same paths."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AccelsimError(f"the dask executor needs the 'distributed' package: "
                            f"{_INSTALL_HINT}", key="--executor") from None
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise AccelsimError(f"cannot reach the Dask scheduler at {scheduler}: {err}",
                            key="--scheduler") from None
    return _dask_outcomes(client, as_completed, tasks)


def _dask_outcomes(client, as_completed, tasks: Sequence[Task]) -> Iterator[Outcome]:
    futures = []
    try:
        futures = client.map(run_task, list(tasks), pure=False)
        index = {future.key: task.index for future, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures, loop=client.loop):
            try:
                yield future.result()
            except Exception as err:  # the cluster lost the task (a worker died, …)
                message = " ".join(f"dask: {type(err).__name__}: {err}".split())
                yield Outcome(index[future.key], None, (), message, 0.0)
    finally:
        client.cancel(futures)
        client.close()


def outcomes(tasks: Sequence[Task], *, executor: str, jobs: int,
             scheduler: str | None) -> Iterator[Outcome]:
    """Dispatch to the chosen executor (argument checks are the caller's)."""
    if executor == "dask":
        if not scheduler:
            raise AccelsimError("--executor dask needs --scheduler ADDRESS", key="--scheduler")
        return run_dask(tasks, scheduler)
    if scheduler:
        raise AccelsimError("--scheduler applies only with --executor dask", key="--scheduler")
    return run_local(tasks, jobs)
