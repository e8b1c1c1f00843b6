#!/usr/bin/env python3
"""Servers and clients of the layer-7 lab test (tests/tests/lab_l7.rs).

serve --name sN --index N --vip4 A --vip6 A [--cert C --key K]
    In a server namespace, bound to the VIPs (direct server return: the
    answers leave from the address the client asked):
    - DNS on UDP 53 (VIP4, VIP6): A -> 198.18.200.N, AAAA ->
      2001:db8:200::N, any other type -> TXT "sN" (the answer names the
      server);
    - a server-speaks-first banner on TCP 25 (every address): "220 sN ESMTP
      slb-lab" at accept, then it reads until the client closes;
    - with --cert/--key, QUIC on UDP 443 (VIP4; aioquic: run it with the
      venv's python, scripts/setup makes /opt/slb-aioquic): ALPN
      "slb-lab"; a stream's data is answered with "sN" on that stream.
    Prints "ready" once everything is bound.

quic-client HOST [--port 443] --sni NAME... [--pad-sni NAME...]
    One QUIC connection per --sni (and per --pad-sni, whose ClientHello
    carries a long ALPN list so that it spans two Initial datagrams), each
    from its own socket (a new session at slbd); one JSON line each: sni,
    name (the server's answer), cert (its certificate's CN), sent (sizes of
    the datagrams sent before the first one received), error.

banner-client HOST PORT [--send TEXT]
    Connects, sends TEXT if given (nothing otherwise), prints
    "<ms from connect to the first line> <first line>".
"""

import argparse
import asyncio
import json
import socket
import ssl
import struct
import sys
import time

# ---------------------------------------------------------------- DNS


def dns_question(msg):
    """(name, qtype, end offset of the question) of a query, or None."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] < 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 or i + 1 + n > len(msg):
            return None
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[i:i + 2])[0]
    return ".".join(labels), qtype, i + 4


def dns_answer(msg, name, index):
    q = dns_question(msg)
    if q is None:
        return None
    qname, qtype, end = q
    if qtype == 1:
        rdata = bytes([198, 18, 200, index])
    elif qtype == 28:
        rdata = socket.inet_pton(socket.AF_INET6, "2001:db8:200::%x" % index)
    else:
        qtype = 16
        txt = name.encode()
        rdata = bytes([len(txt)]) + txt
    rd = msg[2] & 0x01
    header = msg[:2] + bytes([0x84 | rd, 0x00]) + struct.pack("!HHHH", 1, 1, 0, 0)
    answer = struct.pack("!HHHIH", 0xC00C, qtype, 1, 0, len(rdata)) + rdata
    print(f"dns {qname} type {q[1]}", flush=True)
    return header + msg[12:end] + answer


class Dns(asyncio.DatagramProtocol):
    def __init__(self, name, index):
        self.name, self.index = name, index

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        out = dns_answer(data, self.name, self.index)
        if out is not None:
            self.transport.sendto(out, addr)


# ---------------------------------------------------------------- banner


def banner_handler(name):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        print(f"banner {peer[0]} {peer[1]}", flush=True)
        writer.write(f"220 {name} ESMTP slb-lab\r\n".encode())
        try:
            await writer.drain()
            while await asyncio.wait_for(reader.read(4096), 30):
                pass
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()

    return handle


# ---------------------------------------------------------------- QUIC

ALPN = "slb-lab"


def quic_server_protocol(name):
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.quic.events import StreamDataReceived

    class Server(QuicConnectionProtocol):
        def quic_event_received(self, event):
            if isinstance(event, StreamDataReceived) and event.end_stream:
                print("quic stream", flush=True)
                self._quic.send_stream_data(event.stream_id, name.encode(), end_stream=True)
                self.transmit()

    return Server


async def serve(args):
    loop = asyncio.get_running_loop()
    for vip in (args.vip4, args.vip6):
        await loop.create_datagram_endpoint(lambda: Dns(args.name, args.index),
                                            local_addr=(vip, 53))
    # TCP answers from the address the client connected to by itself: the
    # banner listens on every address (slbd's health checks connect to
    # the server's own).
    await asyncio.start_server(banner_handler(args.name), None, 25, backlog=128)
    if args.cert:
        from aioquic.asyncio import serve as quic_serve
        from aioquic.quic.configuration import QuicConfiguration

        config = QuicConfiguration(is_client=False, alpn_protocols=[ALPN])
        config.load_cert_chain(args.cert, args.key)
        await quic_serve(args.vip4, 443, configuration=config,
                         create_protocol=quic_server_protocol(args.name))
    print("ready", flush=True)
    await asyncio.Event().wait()


def pad_alpn():
    """ALPN protocols enough to push a ClientHello past 1,200 bytes: eight
    of 200 bytes, then the real one (the server picks it)."""
    return ["x-slb-pad-%d-" % i + "p" * 186 for i in range(8)] + [ALPN]


async def quic_one(host, port, sni, pad):
    from aioquic.asyncio import QuicConnectionProtocol, connect
    from aioquic.quic.configuration import QuicConfiguration

    class Counting:
        def __init__(self, transport, proto):
            self._t, self._p = transport, proto

        def sendto(self, data, addr=None):
            if not self._p.answered:
                self._p.sent.append(len(data))
            return self._t.sendto(data, addr)

        def __getattr__(self, k):
            return getattr(self._t, k)

    class Client(QuicConnectionProtocol):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.answered, self.sent = False, []

        def connection_made(self, transport):
            super().connection_made(Counting(transport, self))

        def datagram_received(self, data, addr):
            self.answered = True
            super().datagram_received(data, addr)

    config = QuicConfiguration(is_client=True, alpn_protocols=pad_alpn() if pad else [ALPN],
                               server_name=sni, verify_mode=ssl.CERT_NONE)
    out = {"sni": sni, "padded": pad}
    proto = None
    try:
        async with connect(host, port, configuration=config, create_protocol=Client,
                           wait_connected=True) as proto:
            reader, writer = await proto.create_stream()
            writer.write(b"who")
            writer.write_eof()
            out["name"] = (await reader.read()).decode()
            cert = proto._quic.tls._peer_certificate
            cns = [a.value for a in cert.subject] if cert is not None else []
            out["cert"] = cns[0] if cns else ""
    except Exception as e:  # reported, the test decides
        out["error"] = f"{type(e).__name__}: {e}"
    if proto is not None:
        out["sent"] = proto.sent
    return out


async def quic_client(args):
    jobs = [(s, False) for s in args.sni] + [(s, True) for s in args.pad_sni]
    for sni, pad in jobs:
        try:
            out = await asyncio.wait_for(quic_one(args.host, args.port, sni, pad), 5)
        except asyncio.TimeoutError:
            out = {"sni": sni, "padded": pad, "error": "no connection within 5 s"}
        print(json.dumps(out), flush=True)


# ---------------------------------------------------------------- banner client


def banner_client(args):
    info = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    s = socket.socket(info[0], socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(info[4])
    t = time.monotonic()
    if args.send:
        s.sendall(args.send.encode().decode("unicode_escape").encode())
    data = b""
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ms = (time.monotonic() - t) * 1000
    s.close()
    print("%.0f %s" % (ms, data.decode(errors="replace").strip()))
    return 0 if data else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--name", required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--vip4", required=True)
    p.add_argument("--vip6", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p = sub.add_parser("quic-client")
    p.add_argument("host")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni", action="append", default=[])
    p.add_argument("--pad-sni", action="append", default=[])
    p = sub.add_parser("banner-client")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--send")
    args = ap.parse_args()
    if args.cmd == "serve":
        asyncio.run(serve(args))
    elif args.cmd == "quic-client":
        asyncio.run(quic_client(args))
    else:
        sys.exit(banner_client(args))


if __name__ == "__main__":
    main()
