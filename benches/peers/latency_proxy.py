"""A TCP proxy that adds a first-byte latency to every request: each chunk a client sends
(an HTTP request's head, on a kept-alive connection too) waits `latency` seconds before it is
forwarded upstream. Put in front of the moto S3 server, it gives ailake and LanceDB the same
S3-like round trip over a real S3 protocol. Used by objstore_compare.py."""
import asyncio
import threading


class LatencyProxy:
    def __init__(self, upstream_host, upstream_port, latency_s):
        self.upstream = (upstream_host, upstream_port)
        self.latency = latency_s
        self.requests = 0
        self.port = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _pump(self, reader, writer, delay):
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    break
                if delay:
                    self.requests += 1
                    await asyncio.sleep(self.latency)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _client(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        await asyncio.gather(self._pump(reader, up_writer, True), self._pump(up_reader, writer, False))

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def start(self):
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
