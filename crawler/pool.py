"""The extraction process pool: started off the reactor, warm from the start, shared by crawls.

Extraction (trafilatura, ~10 ms a page) must not run in the reactor. Workers come from a fork
server (``TGWATCH_EXTRACT_START_METHOD``): forking the crawling process itself, which has threads,
is unsafe. The fork server imports the extractor once and every worker is forked from it already
warm. One pool per process serves the crawls running in it at once (``tgwatch crawl`` of several
sites); its workers end when the last of them gives it back (``return_pool``), and a later crawl
(the demo's next site) gets new ones from the fork server. ``tgwatch reextract``'s pool lasts to
the exit. Workers exit with the process, however it ends (``crawler.lifeline``: a crawl killed
with SIGKILL leaves none behind).
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
_crawls: dict[tuple[int, str], int] = {}  # crawls using each pool now (``borrow_pool``)
_kept: set[tuple[int, str]] = set()  # pools asked for without a borrow: kept to the process's exit


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


def extraction_pool(workers: int, start_method: str, *, borrowed: bool = False) -> ProcessPoolExecutor:
    """One pool per process and size, shared by every crawler of the process.

    Crawls running at once (``tgwatch crawl`` of several sites) share its workers; a crawl borrows
    it (``borrowed``) and gives it back at its end (``return_pool``), and the pool's workers end
    when no crawl uses it any more, before the crawl's closing work (its listings judged, a peak
    of the crawl's memory) so the two do not add up; the next crawl starts new workers from the
    fork server, which stays. Asked for otherwise (``tgwatch reextract``), it is kept to the exit.
    """
    key = (workers, start_method)
    with _pools_lock:
        if borrowed:
            _crawls[key] = _crawls.get(key, 0) + 1
        else:
            _kept.add(key)
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


def return_pool(pool: ProcessPoolExecutor) -> None:
    """A crawl is done with ``pool`` (from ``extraction_pool(..., borrowed=True)``): the last
    crawl using it ends its workers (waiting for them: their memory is back when this returns)."""
    with _pools_lock:
        key = next((key for key, known in _pools.items() if known is pool), None)
        if key is None:  # discarded meanwhile (a worker died): nothing of ours to end
            return
        _crawls[key] = max(0, _crawls.get(key, 0) - 1)
        if _crawls[key] > 0 or key in _kept:
            return
        del _pools[key]
    pool.shutdown(wait=True)


def discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool (a worker died) so the next ``extraction_pool`` call starts a new one."""
    with _pools_lock:
        for key, known in list(_pools.items()):
            if known is pool:
                del _pools[key]
                _crawls.pop(key, None)  # each crawl that goes on borrows the new pool again
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
