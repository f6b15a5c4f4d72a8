"""Content-Encoding decoding with a hard output limit, so a decompression bomb costs at most
`limit` bytes of memory: each step asks the decompressor for no more than what is left."""

from __future__ import annotations

import zlib

import brotli


class TooLarge(Exception):
    """The decoded body would exceed the limit."""


class DecodeError(Exception):
    """The body is not valid for its declared Content-Encoding."""


class BoundedDecoder:
    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise DecodeError(f"unsupported stacked content-encoding {content_encoding!r}")
        self.coding = codings[0] if codings else ""
        self.limit = limit
        self.size = 0
        self._zlib: zlib._Decompress | None = None
        self._brotli: brotli.Decompressor | None = None
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)
        elif self.coding == "deflate":
            self._zlib = zlib.decompressobj()
            self._raw_deflate_tried = False
        elif self.coding == "br":
            self._brotli = brotli.Decompressor()

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge
        return data

    def feed(self, data: bytes) -> bytes:
        try:
            if self._zlib is not None:
                return self._feed_zlib(data)
            if self._brotli is not None:
                return self._feed_brotli(data)
        except (zlib.error, brotli.error) as exc:
            raise DecodeError(f"invalid {self.coding} data: {exc}") from exc
        return self._count(data)

    def _feed_zlib(self, data: bytes) -> bytes:
        assert self._zlib is not None
        out: list[bytes] = []
        pending = data
        while True:
            try:
                piece = self._zlib.decompress(pending, self.limit - self.size + 1)
            except zlib.error:
                if self.coding == "deflate" and not self._raw_deflate_tried and self.size == 0:
                    # servers often send raw deflate without the zlib header
                    self._raw_deflate_tried = True
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            out.append(self._count(piece))
            pending = self._zlib.unconsumed_tail
            if not pending:
                return b"".join(out)

    def _feed_brotli(self, data: bytes) -> bytes:
        assert self._brotli is not None
        out = [self._count(self._brotli.process(data, output_buffer_limit=self.limit - self.size + 1))]
        while not self._brotli.can_accept_more_data():
            out.append(self._count(self._brotli.process(b"", output_buffer_limit=self.limit - self.size + 1)))
        return b"".join(out)

    def flush(self) -> bytes:
        if self._zlib is not None:
            try:
                return self._count(self._zlib.flush())
            except zlib.error as exc:
                raise DecodeError(f"invalid {self.coding} data: {exc}") from exc
        return b""
