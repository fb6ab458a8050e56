#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora under test/fuzz/corpus/ (run once; outputs are checked in).

Layouts follow ipc/ipc.h, bpf/proc.h and bpf/l7.h, little-endian (the
records are host byte order and the agent runs on x86-64 and arm64).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = 86400 * 10**9  # a day after boot


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 4096, (target, name)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ipc(mtype, payload, seq=0):
    return struct.pack("<IHHII", 0x46575042, 1, mtype, len(payload), seq) + payload


def ipc_seeds():
    put("fuzz_ipc", "hello", ipc(1, struct.pack("<II", 4242, 0)))
    put("fuzz_ipc", "welcome", ipc(2, struct.pack("<II", 3, 4241) + bytes(range(32))))
    put("fuzz_ipc", "fd_ringbuf", ipc(3, struct.pack("<IIQII", 1, 0, 262144, 0, 0), 1))
    put("fuzz_ipc", "fd_stats", ipc(3, struct.pack("<IIQII", 2, 15, 120, 8, 0), 2))
    put("fuzz_ipc", "fd_l7", ipc(3, struct.pack("<IIQII", 3, 0, 8 << 20, 0, 0), 3))
    put("fuzz_ipc", "ready", ipc(4, b"", 4))
    put("fuzz_ipc", "stop", ipc(6, b"", 5))
    put("fuzz_ipc", "error", ipc(5, struct.pack("<i", 13) + b"no scope given\0\0"))


def comm(name):
    return name.encode().ljust(16, b"\0")


def proc_hdr(kind, flags=0, exit_code=0, name="bash"):
    return struct.pack("<IIQQQIIIIIi", kind, flags, BOOT + 5 * 10**9, BOOT, 4321,
                       1000, 1000, 999, 1000, 1000, exit_code) + comm(name)


def exec_rec(filename, args, flags=0):
    fn = filename.encode()
    a = b"".join(x.encode() + b"\0" for x in args)
    return (proc_hdr(1, flags, name=os.path.basename(filename)) +
            struct.pack("<II", len(fn), len(a)) + fn.ljust(256, b"\0") + a.ljust(1024, b"\0"))


def events_seeds():
    put("fuzz_events", "exec", exec_rec("/usr/bin/ls", ["ls", "-l", "/tmp"]))
    put("fuzz_events", "exec_secrets", exec_rec(
        "/usr/bin/mysql", ["mysql", "-uroot", "-psecret", "--password=x", "--token", "t",
                           "PGPASSWORD=y", "https://u:p@db.example/x", "caf\xe9"], 1))
    put("fuzz_events", "exec_bad_utf8",
        exec_rec("/bin/sh", ["sh", "-c", "echo"])[:-1024] + b"sh\0\xff\xc0\x80\xed\xa0\x80\0".ljust(1024, b"\0"))
    put("fuzz_events", "exit", proc_hdr(2, exit_code=(3 << 8)))
    put("fuzz_events", "exit_signal", proc_hdr(2, exit_code=9))


def l7_hdr(kind, flags=0, cookie=77, name="curl"):
    return struct.pack("<IIQQQII", kind, flags, BOOT + 10**9, cookie, 4321, 1234, 0) + comm(name)


def tuple4(lport, rport):
    return (bytes([10, 0, 0, 1]).ljust(16, b"\0") + bytes([93, 184, 216, 34]).ljust(16, b"\0") +
            struct.pack("<HHHH", lport, rport, 2, 0))


def tuple6(lport, rport):
    return ((b"\0" * 15 + b"\1") + bytes([0x20, 0x01, 0x0d, 0xb8]).ljust(16, b"\0") +
            struct.pack("<HHHH", lport, rport, 10, 0))


def l7_seeds():
    put("fuzz_l7", "conn_open", l7_hdr(1) + tuple4(40000, 80) + struct.pack("<IIQQQ", 1, 0, BOOT, 0, 0))
    put("fuzz_l7", "conn_close_v6", l7_hdr(2, 2) + tuple6(443, 51000) +
        struct.pack("<IIQQQ", 2, 0, BOOT, 1500, 300))
    body = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
    put("fuzz_l7", "data", l7_hdr(3) + tuple4(40000, 80) +
        struct.pack("<IIII", 0, 1000, len(body), len(body)) + body)
    put("fuzz_l7", "data_truncated", l7_hdr(3, 1) + tuple4(40000, 80) +
        struct.pack("<IIII", 1, 5000, 9000, 16) + b"HTTP/1.1 200 OK\r")
    # Found by fuzz_l7: l7_account() took what l7_decode() refused (direction 2).
    put("fuzz_l7", "data_bad_dir", l7_hdr(3) + tuple4(40000, 80) +
        struct.pack("<IIII", 2, 1000, 4, 4) + b"GET ")
    put("fuzz_l7", "tls", l7_hdr(4, 0, 0) + struct.pack("<QIIII", 0x55550000a0, 0, 64, 8, 1235) +
        b"GET / HT")


def seg(seq, seg_len, payload):
    return struct.pack("<IIH", seq, seg_len, len(payload)) + payload


def reasm_seeds():
    # flags: bit 0 pattern payload, bit 1 rejected twins, bits 2-7 pool chunks - 1
    put("fuzz_reasm", "in_order", bytes([7 << 2]) + seg(1000, 5, b"hello") + seg(1005, 6, b" world"))
    put("fuzz_reasm", "reordered", bytes([3 << 2]) + seg(0, 4, b"abcd") + seg(8, 4, b"ijkl") +
        seg(4, 4, b"efgh") + seg(2, 8, b"cdefghij"))
    put("fuzz_reasm", "truncated_gap", bytes([1 << 2]) + seg(0xfffffff0, 600, b"x" * 20) +
        seg(0x00000100, 700, b"y" * 700) + seg(0x40000000, 10, b"z" * 10))
    put("fuzz_reasm", "pattern_twins", bytes([(2 << 2) | 3]) + struct.pack("<IIH", 500, 1500, 1500) +
        struct.pack("<IIH", 100, 400, 300) + struct.pack("<IIH", 0, 100, 100) +
        struct.pack("<IIH", 2100, 69999, 2000))
    # Big pool, pattern: five 16 KiB segments ahead pass REASM_OOO_MAX_BYTES held.
    put("fuzz_reasm", "held_bytes_limit", bytes([(63 << 2) | 1]) + struct.pack("<IIH", 0, 10, 10) +
        b"".join(struct.pack("<IIH", 1000 + 20000 * n, 16384, 16384) for n in range(5)))
    # Seventeen empty-capture segments ahead: one more than REASM_OOO_MAX_SEGS.
    put("fuzz_reasm", "held_segs_limit", bytes([3 << 2]) + seg(0, 1, b"") +
        b"".join(seg(100 + 10 * n, 5, b"") for n in range(17)))
    # No pool: every segment ahead is delivered after an EVICTED gap.
    put("fuzz_reasm", "no_pool", bytes([62 << 2]) + seg(7, 3, b"abc") + seg(20, 5, b"fghij") +
        seg(10, 10, b"0123456789"))


def fdinfo_seeds():
    common = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
    put("fuzz_fdinfo", "ringbuf", (common + "map_type:\t27\nkey_size:\t0\nvalue_size:\t0\n"
        "max_entries:\t262144\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t270336\n"
        "map_id:\t42\nfrozen:\t0\n").encode())
    put("fuzz_fdinfo", "stats", (common + "map_type:\t2\nkey_size:\t4\nvalue_size:\t8\n"
        "max_entries:\t15\nmap_flags:\t0x400\nmap_extra:\t0x0\nmemlock:\t4096\n"
        "map_id:\t43\nfrozen:\t1").encode())
    put("fuzz_fdinfo", "odd", b"map_type:\t-1\nvalue_size: 4294967296\nfrozen:\t\nmax_entries:\t7x\n")


def args_seeds():
    def argv(*a):
        return b"\0".join(x.encode() for x in a)
    put("fuzz_args", "system_wide", argv("--system-wide"))
    put("fuzz_args", "scoped", argv("--cgroup", "/sys/fs/cgroup/web", "--cgroup=/sys/fs/cgroup/db",
                                    "--port", "443", "--comm", "nginx", "--capture-bytes=4096",
                                    "--ringbuf-l7", "16777216", "--tls-lib", "/usr/lib/libssl.so.3",
                                    "-v", "--", "--data-records"))
    put("fuzz_args", "no_l7", argv("--no-l7", "--system-wide", "--keep-pins", "--pin-dir", "/sys/fs/bpf/x",
                                   "--user", "bpfw", "--processor", "/opt/p", "--ringbuf-security",
                                   "65536"))
    put("fuzz_args", "bad", argv("-vx", "--port", "0", "--no", "stray"))
    put("fuzz_args", "help", argv("-vh"))


if __name__ == "__main__":
    ipc_seeds()
    events_seeds()
    l7_seeds()
    reasm_seeds()
    fdinfo_seeds()
    args_seeds()
