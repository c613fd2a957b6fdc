#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that adds round-trip time, for make bench:

    delayproxy.py DELAY_MS PORTFILE TARGET_PORT...

For each TARGET_PORT it listens on a free port of 127.0.0.1 and writes
"TARGET_PORT LISTEN_PORT" lines to PORTFILE (renamed into place once all
listen).  Every byte is passed on DELAY_MS after it arrived, in order, in
both directions: DELAY_MS 20 gives a 40 ms round trip (this kernel has no
sch_netem).  Chunks are forwarded as they come, with TCP_NODELAY on both
sides, so the proxy adds no coalescing of its own.  Runs until SIGTERM.
Only 127.0.0.1 is ever contacted.  Standard library only."""
import asyncio
import os
import signal
import socket
import sys


async def pump(reader, writer, delay):
    """Read chunks and write each DELAY seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(1 << 16)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        writer.close()


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def serve(target, delay):
    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cwriter.close()
            return
        nodelay(cwriter)
        nodelay(uwriter)
        await asyncio.gather(pump(creader, uwriter, delay), pump(ureader, cwriter, delay),
                             return_exceptions=True)
    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def main():
    delay = int(sys.argv[1]) / 1000.0
    portfile, targets = sys.argv[2], [int(p) for p in sys.argv[3:]]
    servers = [await serve(t, delay) for t in targets]
    with open(portfile + ".tmp", "w") as f:
        for t, s in zip(targets, servers):
            f.write("%d %d\n" % (t, s.sockets[0].getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


asyncio.run(main())
