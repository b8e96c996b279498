#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets into fuzz/corpus/<target>/.

Sources: the byte-exact real-broker transcript (../shared/captures/
mako-raw-transcript.txt, or the path given as the first argument) and the
project's own fixtures (the built-in scenario and handler TOML). Run it from
anywhere; libFuzzer then grows the corpus and `cargo fuzz cmin` shrinks it.
"""
import hashlib, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
transcript = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    root, "..", "..", "shared", "captures", "mako-raw-transcript.txt")
if not os.path.exists(transcript):
    transcript = "/work/shared/captures/mako-raw-transcript.txt"

def put(target, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# --- parse the transcript: per connection, what the client sent, in order ---
lines = open(transcript, encoding="utf-8").read().splitlines()
sent = []          # (conn, kind, bytes) in transcript order; kind http|frame
frames_all = []    # every frame (both directions), with length prefix
i = 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"\[(\w+)\] (C->B|B->C) (.*?): ?([0-9a-f ]*)$", line)
    if m and "HTTP request" in m.group(3):
        head = []
        i += 1
        while i < len(lines) and lines[i].startswith("    "):
            head.append(lines[i].strip().replace("\\r\\n", "\r\n"))
            i += 1
        sent.append((m.group(1), "http", "".join(head).encode()))
        continue
    if m and m.group(4).strip() and m.group(1):
        data = bytes.fromhex(m.group(4))
        frames_all.append(data)
        if m.group(2) == "C->B":
            sent.append((m.group(1), "frame", data))
    i += 1

# packet_decode: every body (without the length prefix); raw_framing: frames,
# each client's whole stream, and everything back to back.
streams = {}
for f in frames_all:
    put("packet_decode", f[2:])
    put("raw_framing", f)
for conn, kind, data in sent:
    if kind == "frame":
        streams[conn] = streams.get(conn, b"") + data
for s in streams.values():
    put("raw_framing", s)
put("raw_framing", b"".join(frames_all))

# http_head: each request head, followed by that client's first frames.
for conn, kind, data in sent:
    if kind == "http":
        put("http_head", data)
        put("http_head", data + streams.get(conn, b"")[:64])
put("http_head", b"GET /smq/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n")
put("http_head", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")

# broker_session: byte 0 = transports (bit set: raw), then records
# [selector][len][bytes]; the transcript's connections in groups of up to four.
groups = [["A", "B"], ["C"], ["D"], ["E", "E2"], ["F"], ["G"], ["H"], ["A", "B", "H", "G"]]
for group in groups:
    for raw in (True, False):
        out = bytearray([0x0F if raw else 0x00])
        for conn, kind, data in sent:
            if kind != "frame" or conn not in group:
                continue
            slot = group.index(conn)
            chunk = data if raw else data[2:]
            out += bytes([slot, len(chunk)]) + chunk
        put("broker_session", bytes(out))

# config_toml and template: the built-in scenarios and handler files, and
# every quoted string holding a {{placeholder}} in them.
builtin = os.path.join(root, "src", "commands", "simulate", "builtin")
for name in sorted(os.listdir(builtin)):
    text = open(os.path.join(builtin, name), "rb").read()
    put("config_toml", text)
    for tpl in set(re.findall(rb"'([^'\n]*\{\{[^'\n]*)'", text)):
        put("template", tpl + b'\n{"uid":"sim-1","index":3,"On":true,"a":{"b":[1,2]}}')
put("template", b"{{$rand:1..100}} {{$randf:0.5..2.5}} {{$choice:a|b}} {{$ptid:08x}} {{$n}}\n05")
put("template", b"{{a.b.1}} {{$request}} {{missing}}\nnot json")
