#!/usr/bin/python3
"""Sets and gets a key on every memcached given as host:port; prints one line per server
and exits non-zero when any fails. The same check for the Ansible play and the client charm."""
import socket, sys, time

def check(addr: str) -> str:
    host, port = addr.rsplit(':', 1)
    key, value = 'peer-bench', str(time.time_ns())
    with socket.create_connection((host, int(port)), timeout=5) as s:
        f = s.makefile('rwb')
        f.write(f'set {key} 0 60 {len(value)}\r\n{value}\r\n'.encode()); f.flush()
        if f.readline().strip() != b'STORED':
            raise RuntimeError('set not stored')
        f.write(f'get {key}\r\n'.encode()); f.flush()
        if f.readline().split()[:2] != [b'VALUE', key.encode()] or f.readline().strip() != value.encode():
            raise RuntimeError('get returned another value')
    return 'ok'

failed = 0
for a in sys.argv[1:]:
    try:
        print(a, check(a))
    except Exception as e:  # noqa: BLE001 - every failure is reported per server
        failed += 1
        print(a, 'FAILED', e)
sys.exit(1 if failed or not sys.argv[1:] else 0)
