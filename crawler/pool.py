"""The extraction process pool: started once per process, off the reactor, warm from the start.

Extraction (trafilatura, ~10 ms a page) must not run in the reactor. Workers come from a fork
server (``TGWATCH_EXTRACT_START_METHOD``): forking the crawling process itself, which has threads,
is unsafe. The fork server imports the extractor once and every worker is forked from it already
warm. One pool per process serves every crawler of the process (``tgwatch crawl`` of several sites,
the demo's three crawls, ``tgwatch reextract``) until the process exits, and its workers exit with
the process, however it ends (``crawler.lifeline``: a crawl killed with SIGKILL leaves none behind).
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from scrapy.utils.asyncio import is_asyncio_available, run_in_thread

from crawler.worker import start_worker, warm_up
from storage.shingles import quiet_blas

T = TypeVar("T")

_pools: dict[tuple[int, str], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def forkserver_preload() -> list[str]:
    """Modules the fork server imports once, so that each worker forked from it starts warm.

    Workers re-run the main module (multiprocessing's rule); with it preloaded that costs nothing.
    (numpy, for the echo signatures the workers compute, is imported by each worker: preloaded, it
    would add its pages to the fork server too.)
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    named = [spec.name] if spec is not None and spec.name and not spec.name.endswith("__main__") else []
    return ["__main__", *named, "crawler.worker", "crawler.extract", "storage.derived"]


def extraction_pool(workers: int, start_method: str) -> ProcessPoolExecutor:
    """One pool per process and size, shared by every crawler of the process and kept to its exit.

    A ``tgwatch crawl`` of several sites, or the demo's three crawls, then start the workers (and
    import trafilatura in them) once.
    """
    key = (workers, start_method)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            context = multiprocessing.get_context(start_method)
            if start_method == "forkserver":
                quiet_blas()  # the fork server inherits the environment and preloads numpy
                context.set_forkserver_preload(forkserver_preload())
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker,
                                       initargs=(os.getpid(),))
            for _ in range(workers):  # start the workers now, while the first pages download
                pool.submit(warm_up)
            _pools[key] = pool
        return pool


def discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool (a worker died) so the next ``extraction_pool`` call starts a new one."""
    with _pools_lock:
        for key, known in list(_pools.items()):
            if known is pool:
                del _pools[key]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shutdown_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


async def wait_for(future: Future[T]) -> T:
    """Await a ``concurrent.futures`` future from the reactor, asyncio or not."""
    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    return await run_in_thread(future.result)
