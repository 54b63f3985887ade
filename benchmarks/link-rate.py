#!/usr/bin/env python3
"""The shaped link's own rate: raw TCP streams, no HTTP, no disk, for the `link` tool of
`benchmarks/bench shaped`.

  link-rate.py send PORT BYTES STREAMS   listens on PORT, sends BYTES in all over STREAMS connections
  link-rate.py recv HOST PORT STREAMS    connects STREAMS times (retrying while the sender starts),
                                         reads each to its end, prints the bytes received

Run the sender behind the link (in its network namespace) and the receiver on this side: the time
the pair takes is what the link allows any client, before requests, latency and disks.
"""
import socket
import sys
import threading
import time

CHUNK = bytes(1 << 20)


def send(port, total, streams):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(streams)
    share = [total // streams + (1 if i < total % streams else 0) for i in range(streams)]

    def one(conn, n):
        with conn:
            view = memoryview(CHUNK)
            while n > 0:
                k = min(n, len(CHUNK))
                conn.sendall(view[:k])
                n -= k

    threads = []
    for n in share:
        conn, _ = server.accept()
        t = threading.Thread(target=one, args=(conn, n))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    server.close()


def recv(host, port, streams):
    got = [0] * streams

    def one(i):
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = socket.create_connection((host, port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        with conn:
            buf = bytearray(1 << 20)
            while True:
                n = conn.recv_into(buf)
                if n == 0:
                    return
                got[i] += n

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(got))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "send":
        send(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "recv":
        recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
