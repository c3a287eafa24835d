#!/usr/bin/env python3
"""A cloudphone vGPU ring consumer in plain Python 3 (stdlib only).

It maps a ring created by the Go owner (core/ring.Create) from /dev/shm,
attaches as its one consumer, fetches command descriptors from the
submission ring, "runs" each one (sha256 or uppercase of the payload) and
puts a completion on the completion ring. docs/ring.md is the layout it
follows; every offset below is from there.

    python3 consumer.py --ring /dev/shm/cloudphone-slice-a --op sha256

It prints "ready" once attached, and exits when the owner closes the ring,
when the owner evicts it, or on SIGTERM/SIGINT (detaching cleanly, so the
owner re-offers or fails whatever it held).

Memory ordering: the 8-byte protocol words are read and written through
ctypes as single aligned loads and stores, and x86-64 keeps stores in
program order (TSO), so "descriptor bytes, then sequence word" is seen in
that order by the other side. A port to a weakly ordered CPU must use
acquire loads and release stores (C11 atomics) for the sequence, head and
tail words.
"""

import argparse
import ctypes
import hashlib
import mmap
import os
import signal
import struct
import sys
import time

# Header (docs/ring.md, "Header").
MAGIC, VERSION, DESC_SIZE, HEADER_SIZE = 0x47525043, 1, 64, 4096
OFF_ENTRIES, OFF_ARENA_BYTES, OFF_CHUNK = 8, 16, 24
OFF_SQ, OFF_CQ, OFF_ARENA = 32, 40, 48
OFF_SQ_HEAD, OFF_CQ_TAIL = 128, 192
OFF_SQ_BELL, OFF_SQ_WAITERS = 320, 324
OFF_CQ_BELL, OFF_CQ_WAITERS = 384, 388
OFF_STATE, OFF_PID, OFF_HEARTBEAT, OFF_EPOCH, OFF_PIDNS = 448, 452, 456, 464, 472
OFF_CLOSED = 516
STATE_NONE, STATE_ATTACHED, STATE_DETACHED = 0, 1, 3

# Descriptor body after the 8-byte sequence word (docs/ring.md,
# "Descriptor"): magic u16, version u8, kind u8, flags u32, id u64,
# slice u32, model u32, deadline i64, tag u32, status u32, offset u32,
# length u32, reserved u64.
BODY = struct.Struct("<HBBIQIIqIIIIQ")
DESC_MAGIC, DESC_VERSION = 0x5243, 1
KIND_COMMAND, KIND_COMPLETION = 1, 2
KNOWN_FLAGS = 0b11  # batchable, requeued
STATUS_OK, STATUS_FAILED, STATUS_MALFORMED = 0, 1, 2

SYS_FUTEX = 202  # x86-64
FUTEX_WAIT, FUTEX_WAKE = 0, 1


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Ring:
    def __init__(self, path):
        fd = os.open(path, os.O_RDWR)
        try:
            self.mm = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        magic, version = struct.unpack_from("<II", self.mm, 0)
        if magic != MAGIC or version != VERSION:
            raise SystemExit(f"{path}: not a version-{VERSION} ring (magic {magic:#x}, version {version})")
        if struct.unpack_from("<I", self.mm, 12)[0] != DESC_SIZE:
            raise SystemExit(f"{path}: descriptor size is not {DESC_SIZE}")
        self.entries = self.u32(OFF_ENTRIES).value
        self.arena_bytes = self.u64(OFF_ARENA_BYTES).value
        self.chunk = self.u32(OFF_CHUNK).value
        self.sq = self.u64(OFF_SQ).value
        self.cq = self.u64(OFF_CQ).value
        self.arena = self.u64(OFF_ARENA).value
        self.mask = self.entries - 1
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.held = set()  # tags fetched and not completed

    # Aligned 4- and 8-byte words of the mapping.
    def u32(self, off):
        return ctypes.c_uint32.from_buffer(self.mm, off)

    def u64(self, off):
        return ctypes.c_uint64.from_buffer(self.mm, off)

    def futex(self, off, op, val, timeout=None):
        addr = ctypes.addressof(self.u32(off))
        ts = None
        if timeout is not None:
            ts = ctypes.byref(Timespec(int(timeout), int((timeout % 1) * 1e9)))
        self.libc.syscall(SYS_FUTEX, ctypes.c_void_p(addr), op, val, ts, None, 0)

    def attach(self):
        state = self.u32(OFF_STATE)
        deadline = time.monotonic() + 5
        while state.value != STATE_NONE:  # the owner is recovering a previous consumer
            if time.monotonic() > deadline:
                raise SystemExit(f"ring busy: consumer pid {self.u32(OFF_PID).value} attached")
            time.sleep(0.01)
        self.u32(OFF_PID).value = os.getpid()
        try:
            self.u64(OFF_PIDNS).value = os.stat("/proc/self/ns/pid").st_ino
        except OSError:
            self.u64(OFF_PIDNS).value = 0  # unknown: the owner goes by the heartbeat
        self.u64(OFF_HEARTBEAT).value += 1
        self.epoch = self.u32(OFF_EPOCH).value + 1
        self.u32(OFF_EPOCH).value = self.epoch
        state.value = STATE_ATTACHED

    def detach(self):
        if self.attached():
            self.u32(OFF_STATE).value = STATE_DETACHED

    def attached(self):
        return self.u32(OFF_STATE).value == STATE_ATTACHED and self.u32(OFF_EPOCH).value == self.epoch

    def closed(self):
        return self.u32(OFF_CLOSED).value != 0

    def beat(self):
        self.u64(OFF_HEARTBEAT).value += 1

    def fetch(self):
        """Returns (tag, id, model, flags, payload) of the next command, an
        error string for a malformed one, or None when the SQ is empty."""
        head = self.u64(OFF_SQ_HEAD)
        pos = head.value
        slot = self.sq + (pos & self.mask) * DESC_SIZE
        seq = self.u64(slot)
        if seq.value != pos + 1:
            return None
        (magic, version, kind, flags, cid, _slice, model, _deadline,
         tag, status, off, length, reserved) = BODY.unpack_from(self.mm, slot + 8)
        head.value = pos + 1                 # consumed ...
        seq.value = pos + self.entries       # ... and the slot is free for the next lap
        err = None
        if magic != DESC_MAGIC or version != DESC_VERSION or reserved != 0:
            err = f"bad magic {magic:#x} / version {version} / reserved word"
        elif kind != KIND_COMMAND:
            err = f"kind {kind} in the submission ring"
        elif flags & ~KNOWN_FLAGS:
            err = f"unknown flags {flags & ~KNOWN_FLAGS:#x}"
        elif tag >= self.entries or tag in self.held:
            err = f"tag {tag} out of range or already held"
        elif status != 0:
            err = f"command carries status {status}"
        elif off != tag * self.chunk or length > self.chunk:
            err = f"payload [{off}, +{length}) is not inside tag {tag}'s request chunk"
        if err is not None:
            return (tag, cid, err)
        self.held.add(tag)
        start = self.arena + off
        return (tag, cid, model, flags, bytes(self.mm[start:start + length]))

    def complete(self, tag, cid, status, result, held=True):
        """Puts one completion on the CQ (this process is its only producer).
        held is False for a rejected descriptor: its tag may belong to a
        command this consumer holds, whose result chunk must stay intact."""
        tail = self.u64(OFF_CQ_TAIL)
        pos = tail.value
        slot = self.cq + (pos & self.mask) * DESC_SIZE
        seq = self.u64(slot)
        while seq.value != pos:  # the owner has not reaped that slot's last lap yet
            time.sleep(0)
        off, length = 0, 0
        if tag < self.entries and (held or tag not in self.held):
            off = (self.entries + tag) * self.chunk
            result = result[:self.chunk]
            start = self.arena + off
            self.mm[start:start + len(result)] = result
            length = len(result)
        if held:
            self.held.discard(tag)
        BODY.pack_into(self.mm, slot + 8, DESC_MAGIC, DESC_VERSION, KIND_COMPLETION, 0,
                       cid, 0, 0, 0, tag, status, off, length, 0)
        tail.value = pos + 1
        seq.value = pos + 1  # published
        if self.u32(OFF_CQ_WAITERS).value:  # the owner sleeps: ring its bell
            self.u32(OFF_CQ_BELL).value += 1
            self.futex(OFF_CQ_BELL, FUTEX_WAKE, 0x7FFFFFFF)

    def sleep(self, timeout):
        """Sleeps on the SQ doorbell until a producer rings it (or timeout)."""
        waiters = self.u32(OFF_SQ_WAITERS)
        waiters.value += 1  # not atomic: fine while this is the only sleeper
        try:
            bell = self.u32(OFF_SQ_BELL).value
            pos = self.u64(OFF_SQ_HEAD).value
            if self.u64(self.sq + (pos & self.mask) * DESC_SIZE).value == pos + 1:
                return
            self.futex(OFF_SQ_BELL, FUTEX_WAIT, bell, timeout)
        finally:
            waiters.value -= 1


def run(op, payload):
    if op == "sha256":
        return hashlib.sha256(payload).digest()
    return payload.upper()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring", required=True, help="the ring's file under /dev/shm")
    ap.add_argument("--op", choices=["sha256", "upper"], default="sha256")
    ap.add_argument("--wait", choices=["poll", "sleep"], default="poll")
    args = ap.parse_args()

    ring = Ring(args.ring)
    ring.attach()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print("ready", flush=True)
    last_beat, idle = time.monotonic(), 0
    try:
        while not stop:
            now = time.monotonic()
            if now - last_beat > 0.02:
                ring.beat()
                last_beat = now
                if ring.closed() or not ring.attached():
                    break
            cmd = ring.fetch()
            if cmd is None:
                idle += 1
                if args.wait == "sleep" and idle > 100:
                    ring.sleep(0.05)
                elif idle > 1000:
                    time.sleep(0.0001)
                continue
            idle = 0
            if len(cmd) == 3:
                tag, cid, err = cmd
                print(f"rejected command {cid}: {err}", file=sys.stderr)
                ring.complete(tag, cid, STATUS_MALFORMED, err.encode(), held=False)
                continue
            tag, cid, _model, _flags, payload = cmd
            ring.complete(tag, cid, STATUS_OK, run(args.op, payload))
    finally:
        ring.detach()


if __name__ == "__main__":
    main()
