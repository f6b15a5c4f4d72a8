"""A redirect's body is drained (up to 64 KiB) so its connection can carry the next hop; a larger one
is not read to the end, and its connection is closed instead of reused. Real sockets, the scripted
server of test_http_client.py."""

from __future__ import annotations

from typing import Any

import pytest
import test_http_client as scripted
from test_http_client import Reply, client, path_of

from pipeline.fetch.http import ERROR_BODY_BYTES

serve, run = scripted.serve, scripted.run  # the fixtures: a scripted server, each event loop

pytestmark = pytest.mark.integration


def _redirect_with_body(size: int) -> bytes:
    head = f"HTTP/1.1 302 Found\r\nLocation: /target\r\nContent-Length: {size}\r\n\r\n".encode()
    return head + b"m" * size


@pytest.mark.parametrize(("size", "connections"), [
    (40 * 1024, 1),  # drained: the redirect's connection fetches the target and the next page
    (4 * 1024 * 1024, 2),  # not worth draining: a new connection for the target, kept for the next page
])
def test_redirect_bodies_are_drained_up_to_a_limit(serve, run, size, connections):
    assert 40 * 1024 < ERROR_BODY_BYTES < 4 * 1024 * 1024

    def reply(n: int, i: int, head: bytes) -> Reply:
        if path_of(head) == "/start":
            return Reply(_redirect_with_body(size))
        return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")

    server = serve(reply)

    async def main() -> list[Any]:
        async with client() as http:
            first = await http.get(server.url("/start"))
            second = await http.get(server.url("/again"))
            return [first, second]

    first, second = run(main())
    assert (first.body, first.redirects, second.body) == (b"done", [server.url("/start")], b"done")
    assert server.accepted == connections
    assert [path_of(head) for _, head in server.requests] == ["/start", "/target", "/again"]
