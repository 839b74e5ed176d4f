"""Content-Encoding undone in bounded steps: no layer of a response ever decodes past a size limit.

httpx decodes a whole network chunk at once, so ``Content-Encoding: gzip, gzip`` (16 KB on the wire,
10 GiB decoded) took 21 GB of memory before ``tgwatch scrape`` noticed its 10 MB limit. Here every
layer (``gzip``, ``deflate``, ``br``, ``zstd``, in the reverse order of the header) decodes at most
``STEP`` bytes per call, and the bytes each layer puts out are counted against the limit, so memory
stays at the limit plus a few steps whatever the ratio and the number of layers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Protocol

STEP = 64 * 1024
"""Most bytes one layer decodes per call."""


class TooLarge(Exception):
    """A layer decoded more than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes once decoded")
        self.limit = limit


class UnknownEncoding(Exception):
    """A Content-Encoding this module cannot undo."""


class Layer(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def end(self) -> Iterator[bytes]: ...


class Zlib:
    """gzip (``wbits`` 31, members one after another) or deflate (zlib, else raw deflate)."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.started = False
        self.inflater: Any = zlib.decompressobj(31 if gzip else 15)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self.inflater.decompress(data, STEP)
            except zlib.error:
                if self.gzip or self.started:
                    raise
                self.inflater = zlib.decompressobj(-15)  # raw deflate, as some servers send it
                out = self.inflater.decompress(data, STEP)
            self.started = True
            if out:
                yield out
            data = self.inflater.unconsumed_tail
            if self.inflater.eof:
                rest = self.inflater.unused_data
                if not self.gzip or not rest.strip(b"\0"):
                    return
                self.inflater = zlib.decompressobj(31)  # another gzip member
                data = rest

    def end(self) -> Iterator[bytes]:
        out = self.inflater.flush()
        if out:
            yield out


class Brotli:
    """br with Google's ``brotli`` bindings (``process`` with an output limit); absent otherwise."""

    def __init__(self) -> None:
        import brotli

        self.decoder = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self.decoder.process(data, output_buffer_limit=STEP)
        while out:  # the limit is a hint (brotli 1.2 may return a ring buffer's worth more): STEP pieces
            for start in range(0, len(out), STEP):
                yield out[start:start + STEP]
            if self.decoder.is_finished():
                return
            out = self.decoder.process(b"", output_buffer_limit=STEP)

    def end(self) -> Iterator[bytes]:
        return iter(())


class Zstd:
    def __init__(self) -> None:
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        self.decoder = zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self.decoder.eof:
            out = self.decoder.decompress(data, STEP)
            data = b""
            if out:
                yield out
            if self.decoder.needs_input:
                return

    def end(self) -> Iterator[bytes]:
        return iter(())


def bounded_brotli() -> bool:
    """Google's ``brotli`` with output limits is importable (``brotlipy``, which takes its name when
    both are installed, decodes without a limit: ``br`` is then neither asked for nor accepted)."""
    try:
        import brotli
    except ImportError:
        return False
    return hasattr(brotli.Decompressor, "process")


def accepted() -> str:
    """The Accept-Encoding value of a bounded client."""
    return ", ".join(["gzip", "deflate", *(["br"] if bounded_brotli() else []), "zstd"])


def layer(encoding: str) -> Layer | None:
    """The decoder of one Content-Encoding token (None for ``identity``)."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return Zlib(gzip=True)
    if name == "deflate":
        return Zlib(gzip=False)
    if name == "br" and bounded_brotli():
        return Brotli()
    if name == "zstd":
        return Zstd()
    raise UnknownEncoding(name)


class Inflater:
    """Undo a response's Content-Encoding layers chunk by chunk; every layer's output is bounded."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        tokens = [t for t in content_encoding.split(",") if t.strip()]
        self.layers = [found for found in (layer(t) for t in reversed(tokens)) if found is not None]
        self.limit = limit
        self.sizes = [0] * len(self.layers)

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decoded bytes of one raw chunk, in pieces of at most ``STEP`` bytes."""
        return self._through(0, [chunk], ending=False)

    def end(self) -> Iterator[bytes]:
        """What the layers still hold once the raw body has ended."""
        return self._through(0, [], ending=True)

    def _through(self, index: int, pieces: list[bytes] | Iterator[bytes], *, ending: bool) -> Iterator[bytes]:
        if index == len(self.layers):
            yield from pieces
            return
        current = self.layers[index]

        def outputs() -> Iterator[bytes]:
            for piece in pieces:
                yield from self._counted(index, current.feed(piece))
            if ending:
                yield from self._counted(index, current.end())

        yield from self._through(index + 1, outputs(), ending=ending)

    def _counted(self, index: int, outputs: Iterator[bytes]) -> Iterator[bytes]:
        for out in outputs:
            self.sizes[index] += len(out)
            if self.sizes[index] > self.limit:
                raise TooLarge(self.limit)
            yield out
