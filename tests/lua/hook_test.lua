--[[ Tests the smqctl trace hook (src/trace/hook.lua) against the fake hub.
Run from the repository root: lua5.4 tests/lua/hook_test.lua [EVENTS.ndjson]
Every trace event the hook sends is written to EVENTS.ndjson (when given) so
the Rust test can check that each one parses as the schema's Event. ]]

package.path = "tests/lua/?.lua;" .. package.path
local fake = require"fake_hub"
local hook = dofile("src/trace/hook.lua")

local out = arg[1] and assert(io.open(arg[1], "w"))
local failures, checks = 0, 0

local function check(cond, what)
   checks = checks + 1
   if not cond then
      failures = failures + 1
      io.stderr:write("FAIL: " .. what .. "\n")
   end
end

-- ----- an app with opinions of its own -----
local app = {published = 0, dropped = 0, connected = 0, closed = 0}
local op = {
   onpublish = function(data, ptid, tid, stid, peer)
      app.published = app.published + 1
      return data ~= "forbidden"
   end,
   ondrop = function() app.dropped = app.dropped + 1 end,
   onconnect = function() app.connected = app.connected + 1 end,
   onclose = function() app.closed = app.closed + 1 end,
   permittop = function(topic) return topic:sub(1, 6) ~= "Secret" end,
   authenticate = function(credentials, info)
      if credentials == "wrong-secret" then return 3, "bad password" end
      return 0
   end,
}
local smq, tracer = hook.create(op, nil, fake)

-- Trace events a peer received (decoded), and every other message it got.
local evstid = smq:subtopic2tid("$smqctl.trace")
local function take(peer)
   local events, others = {}, {}
   for _, m in ipairs(peer.inbox) do
      if m.stid == evstid then
         local e = assert(ba.json.decode(m.data), "trace event is JSON: " .. m.data)
         events[#events + 1] = e
         if out then out:write(m.data, "\n") end
      else
         others[#others + 1] = m
      end
   end
   peer.inbox = {}
   return events, others
end

local function attach(peer, preview)
   local stid = smq:client_createsub(peer, "$smqctl.trace.attach")
   smq:client_publish(peer, smq:gettid(), stid, string.format('{"v":1,"preview":%d}', preview or 256))
end

-- ----- nothing is sent while no tracer is attached -----
local a = smq:connect("publisher-a", "sensor hall 2", "10.0.0.5")
local b = smq:connect("subscriber-b", "", "10.0.0.6")
local dstid = smq:client_createsub(a, "SetCharger")
local dev = smq:client_subscribe(b, "DeviceState")
smq:client_publish(a, dev, dstid, '{"On":true}')
local ev, got = take(b)
check(#ev == 0 and #got == 1, "no tracer: b gets the message and no trace event")
check(app.published == 1 and app.connected == 2, "the app's own hooks still run")

-- ----- an unauthorised tracer is refused -----
local far = smq:connect("far-tracer", "", "192.0.2.9")
attach(far)
ev = take(far)
check(#ev == 1 and ev[1].kind == "error" and ev[1].reason == "not authorized",
   "a non-loopback tracer gets one error event")
check(next(tracer.tracers) == nil, "and is not attached")

-- ----- an authorised tracer gets a snapshot -----
local t = smq:connect("tracer-01", "", "127.0.0.1")
attach(t, 4)
ev = take(t)
check(#ev == 1 and ev[1].kind == "snapshot", "snapshot on attach")
local snap = ev[1].snapshot or {}
check(snap.server_etid == 1, "snapshot names the server ETID")
local names = {}
for _, x in ipairs(snap.topics or {}) do names[x.name] = x.subscribers end
check(names.DeviceState == 1, "snapshot topics with subscriber counts")
local uids = {}
for _, c in ipairs(snap.clients or {}) do uids[c.uid] = c.addr end
check(uids["publisher-a"] and uids["publisher-a"]:find("^10%.0%.0%.5:"), "snapshot clients with addresses")
check(uids["SMQ server client"] == nil, "the server is not listed as a client")
for _, s in ipairs(snap.subtopics or {}) do
   check(s.name:sub(1, 7) ~= "$smqctl", "no tracing sub-topics in the snapshot")
end

-- ----- events with names resolved -----
smq:client_publish(a, dev, dstid, '{"On":true}')
ev = take(t)
local _, bgot = take(b)
check(#bgot == 1, "b still receives the message")
check(#ev == 1 and ev[1].kind == "publish", "one publish event")
local e = ev[1] or {}
check(e.from and e.from.uid == "publisher-a" and e.from.info == "sensor hall 2", "from: uid and info")
check(e.to and e.to.type == "topic" and e.to.name == "DeviceState", "to: topic name")
check(e.subtopic == "SetCharger" and e.subtid == dstid, "sub-topic name")
check(e.verdict == true and e.receivers == 1 and e.size == 11, "verdict, receivers, size")
check(e.encoding == "text" and e.payload == '{"On' and e.truncated == true, "preview cut to what the tracer asked")

-- ----- the app's refusal is kept and traced -----
smq:client_publish(a, dev, 0, "forbidden")
ev = take(t)
_, bgot = take(b)
check(#bgot == 0, "a false onpublish stays false: nothing delivered")
check(#ev == 1 and ev[1].kind == "deny" and ev[1].verdict == false, "deny event with verdict false")

-- ----- a drop -----
local lonely = smq:create("Nobody")
local drops = app.dropped
smq:client_publish(a, lonely, 0, "hello")
ev = take(t)
check(app.dropped == drops + 1, "the app's ondrop still runs")
check(#ev == 1 and ev[1].kind == "drop" and ev[1].reason == "no subscribers"
   and ev[1].to.name == "Nobody", "drop event with reason and topic name")
smq:client_publish(a, b.tid, 0, "direct")
ev = take(t)
check(#ev == 1 and ev[1].kind == "publish" and ev[1].to.type == "client"
   and ev[1].to.uid == "subscriber-b", "a direct message names the receiving client")

-- ----- permittop, permitsubtop, authenticate -----
check(smq:client_subscribe(b, "SecretPlans") == nil, "permittop refusal kept")
ev = take(t)
check(#ev == 1 and ev[1].kind == "deny" and ev[1].to.name == "SecretPlans", "deny event for permittop")
smq:client_subscribe(b, "Other")
smq:client_createsub(b, "Greeting")
ev = take(t)
check(#ev == 2 and ev[1].kind == "subscribe" and ev[2].kind == "createsub"
   and ev[2].subtopic == "Greeting", "subscribe and createsub events")
check(smq:connect("intruder-1", "", "10.0.0.7", "wrong-secret") == nil, "authenticate refusal kept")
ev = take(t)
check(#ev == 1 and ev[1].kind == "deny" and ev[1].from.uid == "intruder-1", "deny event for authenticate")
local raw = ba.json.encode(ev[1] or {})
check(not raw:find("wrong%-secret"), "credentials never appear in events")

-- ----- connect and close -----
local c = smq:connect("client-c", "", "127.0.0.1")
smq:close(c, "socket closed")
ev = take(t)
check(#ev == 2 and ev[1].kind == "connect" and ev[1].from.uid == "client-c"
   and ev[2].kind == "close" and ev[2].reason == "socket closed", "connect and close events")

-- ----- no self-tracing -----
-- A server-side publish to the tracer on the events sub-topic (the path used
-- where pubon is missing) goes through onpublish: it must not be traced.
local published = app.published
smq:publish('{"v":1,"ts":"2026-01-01T00:00:00Z","kind":"notice"}', t.tid, "$smqctl.trace")
ev = take(t)
check(#ev == 1 and ev[1].kind == "notice", "the server's own trace message arrives")
check(app.published == published, "the app's onpublish never sees trace messages")
local second = smq:connect("tracer-02", "", "::1")
attach(second)
ev = take(t)
check(#ev == 1 and ev[1].kind == "connect", "another tracer's attach is not traced (only its connect)")
take(second)

-- ----- a slow tracer loses events, then hears how many -----
take(b)
t.sock.full = true
smq:client_publish(a, dev, 0, "one")
smq:client_publish(a, dev, 0, "two")
t.sock.full = nil
smq:client_publish(a, dev, 0, "three")
ev = take(t)
_, bgot = take(b)
check(#bgot == 3, "a slow tracer never holds up delivery (b got " .. #bgot .. ")")
check(#ev == 2 and ev[1].kind == "notice" and ev[1].skipped == 2
   and ev[2].kind == "publish" and ev[2].payload == "thre", "skipped events are counted in a notice")
take(second)

-- ----- detach and close forget tracers -----
smq:client_publish(second, smq:gettid(), smq:client_createsub(second, "$smqctl.trace.detach"), "")
smq:close(t, 0)
check(next(tracer.tracers) == nil, "detach and close forget tracers")
smq:client_publish(a, dev, 0, "after")
check(#second.inbox == 0, "nothing sent once no tracer is attached")

if out then out:close() end
if failures > 0 then
   io.stderr:write(string.format("%d of %d checks failed\n", failures, checks))
   os.exit(1)
end
print(string.format("ok: %d checks", checks))
