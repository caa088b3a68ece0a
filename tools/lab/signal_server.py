#!/usr/bin/env python3
"""Lab stand-in for the DLEGATE signalling service (runs inside the lab's
signal container, with the image's python3-websockets 10.x).

HTTPS on TCP 443:
  GET /            -> 200, small JSON body
  GET /bytes/N     -> 200, N bytes of payload (throughput probes, N <= 50 MB)
  GET /ws (Upgrade: websocket) -> secure WebSocket that echoes every message

Usage: signal_server.py CERT KEY [ADDRESS] [PORT]
"""

import asyncio
import http
import json
import ssl
import sys

import websockets

MAX_BYTES = 50 * 1000 * 1000


def http_response(status, body, ctype):
    headers = [("Content-Type", ctype), ("Content-Length", str(len(body))),
               ("Connection", "close")]
    return status, headers, body


async def process_request(path, request_headers):
    """Plain HTTPS requests are answered here; WebSocket upgrades go on."""
    if request_headers.get("Upgrade", "").lower() == "websocket":
        return None
    route = path.split("?", 1)[0]
    if route.startswith("/bytes/"):
        try:
            size = min(int(route[len("/bytes/"):]), MAX_BYTES)
        except ValueError:
            return http_response(http.HTTPStatus.BAD_REQUEST, b"bad size\n", "text/plain")
        return http_response(http.HTTPStatus.OK, b"x" * size, "application/octet-stream")
    body = json.dumps({"service": "dlegate-signal", "status": "ok", "path": route})
    return http_response(http.HTTPStatus.OK, body.encode() + b"\n", "application/json")


async def echo(websocket, path=None):
    async for message in websocket:
        await websocket.send(message)


async def main(cert, key, address, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with websockets.serve(echo, address, port, ssl=ctx,
                                process_request=process_request):
        print(f"signal server on {address}:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    asyncio.run(main(args[0], args[1], args[2] if len(args) > 2 else "0.0.0.0",
                     int(args[3]) if len(args) > 3 else 443))
