#!/usr/bin/env python3
"""Hostile clients for tests/cluster/slow_clients.sh: N TLS connections to nginx that
trickle, from 10 loopback addresses (127.0.0.2-11): half send their request head one
header line every 2 s and never finish it, half send a complete head announcing a 1 MB
upload and then its body one byte a second. A connection the server closes is opened
again at once, so N are held open for the whole run.

    slow_clients.py HOST PORT CAFILE N SECONDS

Prints one line at the end: opened=<connections made> closed_by_server=<count> held=<open at the end>
"""
import asyncio
import ssl
import sys

host, port, cafile, count, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
ctx = ssl.create_default_context(cafile=cafile)
stats = {"opened": 0, "closed": 0, "open": 0}


async def alive(reader, writer, seconds):
    """Send what was written, wait up to seconds; False once the server closed."""
    await writer.drain()
    try:
        data = await asyncio.wait_for(reader.read(4096), seconds)
    except asyncio.TimeoutError:
        return True
    return bool(data) and not reader.at_eof()


async def one(i, stop):
    local = ("127.0.0.%d" % (2 + i % 10), 0)
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost", local_addr=local)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        stats["opened"] += 1
        stats["open"] += 1
        try:
            if i % 2 == 0:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                while not stop.is_set() and await alive(reader, writer, 2):
                    writer.write(b"X-Slow: 1\r\n")
            else:
                writer.write(b"POST /api/v1/devices/00000000-0000-4000-8000-000000000000/events HTTP/1.1\r\n"
                             b"Host: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
                while not stop.is_set() and await alive(reader, writer, 1):
                    writer.write(b"{")
            if not stop.is_set():
                stats["closed"] += 1
        except (OSError, ssl.SSLError, ConnectionError):
            if not stop.is_set():
                stats["closed"] += 1
        finally:
            stats["open"] -= 1
            try:
                writer.close()
            except (OSError, ssl.SSLError, RuntimeError):
                pass


async def main():
    stop = asyncio.Event()
    tasks = [asyncio.create_task(one(i, stop)) for i in range(count)]
    await asyncio.sleep(seconds)
    held = stats["open"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print("opened=%d closed_by_server=%d held=%d" % (stats["opened"], stats["closed"], held), flush=True)


asyncio.run(main())
