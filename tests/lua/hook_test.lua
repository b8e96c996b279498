--[[ Tests of the smqctl trace hook (src/trace/hook.lua) against the stand-in
for Mako's smq.hub (fake_hub.lua). tests/mako_hook.rs runs each case on an
embedded Lua 5.4 (mlua), in a fresh state, with the global ROOT set to the
repository root. This chunk returns the cases by name; a case raises on the
first failed check and returns every trace event the tracers received (JSON
text, one string each), which the Rust side parses as the schema's Event. ]]

package.path = ROOT .. "/tests/lua/?.lua;" .. package.path
local fake = require"fake_hub"
package.loaded["smq.hub"] = fake -- what the hook's create(op) requires

local cases = {}
local seen -- every event any tracer took, as JSON text

local function check(cond, what)
   if not cond then error("FAIL: " .. what, 2) end
end

local function hook() return dofile(ROOT .. "/src/trace/hook.lua") end

-- Trace events a peer received (decoded), and every other message it got.
local function taker(smq)
   return function(peer)
      local evstid = smq:subtopic2tid("$smqctl.trace")
      local events, others = {}, {}
      for _, m in ipairs(peer.sock.inbox) do
         if m.stid == evstid then
            local e = assert(ba.json.decode(m.data), "trace event is JSON: " .. m.data)
            events[#events + 1] = e
            seen[#seen + 1] = m.data
         else
            others[#others + 1] = m
         end
      end
      peer.sock.inbox = {}
      return events, others
   end
end

local function attach(smq, peer, preview, version)
   local stid = smq:client_createsub(peer, "$smqctl.trace.attach")
   smq:client_publish(peer, smq:gettid(), stid,
      string.format('{"v":%d,"preview":%d}', version or 1, preview or 256))
end

-- A loopback tracer attached to `smq`.
local function tracer_on(smq)
   local take = taker(smq)
   local t = smq:connect("tracer-01", "", "127.0.0.1")
   attach(smq, t)
   local ev = take(t)
   check(#ev == 1 and ev[1].kind == "snapshot", "the tracer attaches")
   return t, take
end

-- A hub made with the hook from `op`, and an attached loopback tracer.
local function traced(op)
   local smq, tracer = hook().create(op or {})
   local t, take = tracer_on(smq)
   return smq, tracer, t, take
end

local function kinds(ev)
   local k = {}
   for i, e in ipairs(ev) do k[i] = e.kind end
   return table.concat(k, ",")
end

local function hublog(pattern)
   for _, l in ipairs(fake.tracelog) do
      if l.line:find(pattern, 1, true) then return true end
   end
   return false
end

-- What the hook did before issue 11, and still must.
function cases.basics()
   local app = {published = 0, dropped = 0, connected = 0, closed = 0}
   local op = {
      onpublish = function(data)
         app.published = app.published + 1
         return data ~= "forbidden"
      end,
      ondrop = function() app.dropped = app.dropped + 1 end,
      onconnect = function() app.connected = app.connected + 1 end,
      onclose = function() app.closed = app.closed + 1 end,
      permittop = function(topic) return topic:sub(1, 6) ~= "Secret" end,
      authenticate = function(credentials)
         if credentials == "wrong-secret" then return 3, "bad password" end
         return 0
      end,
   }
   local smq, tracer = hook().create(op)
   local take = taker(smq)

   -- nothing is sent while no tracer is attached
   local a = smq:connect("publisher-a", "sensor hall 2", "10.0.0.5")
   local b = smq:connect("subscriber-b", "", "10.0.0.6")
   local dstid = smq:client_createsub(a, "SetCharger")
   local dev = smq:client_subscribe(b, "DeviceState")
   smq:client_publish(a, dev, dstid, '{"On":true}')
   local ev, got = take(b)
   check(#ev == 0 and #got == 1, "no tracer: b gets the message and no trace event")
   check(app.published == 1 and app.connected == 2, "the app's own hooks still run")

   -- an unauthorised tracer is refused
   local far = smq:connect("far-tracer", "", "192.0.2.9")
   attach(smq, far)
   ev = take(far)
   check(#ev == 1 and ev[1].kind == "error" and ev[1].reason == "not authorized",
      "a non-loopback tracer gets one error event")
   check(next(tracer.tracers) == nil, "and is not attached")

   -- an authorised tracer gets a snapshot
   local t = smq:connect("tracer-01", "", "127.0.0.1")
   attach(smq, t, 4)
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

   -- events with names resolved
   smq:client_publish(a, dev, dstid, '{"On":true}')
   ev = take(t)
   local _, bgot = take(b)
   check(#bgot == 1, "b still receives the message")
   check(#ev == 1 and ev[1].kind == "publish", "one publish event")
   local e = ev[1] or {}
   check(e.from and e.from.uid == "publisher-a" and e.from.info == "sensor hall 2", "from: uid and info")
   check(e.to and e.to.type == "topic" and e.to.name == "DeviceState" and e.to.tid == dev, "to: topic name and TID")
   check(e.subtopic == "SetCharger" and e.subtid == dstid, "sub-topic name")
   check(e.verdict == true and e.receivers == 1 and e.size == 11, "verdict, receivers, size")
   check(e.encoding == "text" and e.payload == '{"On' and e.truncated == true, "preview cut to what the tracer asked")

   -- the app's refusal is kept and traced
   smq:client_publish(a, dev, 0, "forbidden")
   ev = take(t)
   _, bgot = take(b)
   check(#bgot == 0, "a false onpublish stays false: nothing delivered")
   check(#ev == 1 and ev[1].kind == "deny" and ev[1].verdict == false, "deny event with verdict false")

   -- a drop
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
   smq:client_publish(a, 0x0bad0bad, 0, "stale")
   ev = take(t)
   check(#ev == 1 and ev[1].kind == "drop" and ev[1].reason == "unknown tid", "a stale ETID is a drop")

   -- permittop, permitsubtop, authenticate
   check(smq:client_subscribe(b, "SecretPlans") == nil, "permittop refusal kept")
   ev = take(t)
   check(#ev == 1 and ev[1].kind == "deny" and ev[1].to.name == "SecretPlans", "deny event for permittop")
   check(smq:topic2tid("SecretPlans") == nil, "a refused topic is not created")
   smq:client_subscribe(b, "Other")
   smq:client_createsub(b, "Greeting")
   ev = take(t)
   check(kinds(ev) == "subscribe,createsub" and ev[2].subtopic == "Greeting", "subscribe and createsub events")
   check(smq:connect("intruder-1", "", "10.0.0.7", "wrong-secret") == nil, "authenticate refusal kept")
   ev = take(t)
   check(#ev == 1 and ev[1].kind == "deny" and ev[1].from.uid == "intruder-1", "deny event for authenticate")
   local raw = ba.json.encode(ev[1] or {})
   check(not raw:find("wrong%-secret"), "credentials never appear in events")

   -- connect and close
   local c = smq:connect("client-c", "", "127.0.0.1")
   smq:close(c, "socket closed")
   ev = take(t)
   check(kinds(ev) == "connect,close" and ev[1].from.uid == "client-c"
      and ev[2].reason == "socket closed", "connect and close events")
   local d = smq:connect("client-d", "", "127.0.0.1")
   smq:client_disconnect(d)
   ev = take(t)
   check(kinds(ev) == "connect,close" and ev[2].reason == "closed", "a Disconnect closes with reason closed")

   -- no self-tracing
   local published = app.published
   smq:publish('{"v":1,"ts":"2026-01-01T00:00:00Z","kind":"notice"}', t.tid, "$smqctl.trace")
   ev = take(t)
   check(#ev == 1 and ev[1].kind == "notice", "the server's own trace message arrives")
   check(app.published == published, "the app's onpublish never sees trace messages")
   local second = smq:connect("tracer-02", "", "::1")
   attach(smq, second)
   ev = take(t)
   check(kinds(ev) == "connect", "another tracer's attach is not traced (only its connect)")
   take(second)

   -- a slow tracer loses events, then hears how many; its full queue is not a drop
   take(b)
   t.sock.full = true
   smq:client_publish(a, dev, 0, "one")
   smq:client_publish(a, dev, 0, "two")
   t.sock.full = nil
   smq:client_publish(a, dev, 0, "three")
   ev = take(t)
   _, bgot = take(b)
   check(#bgot == 3, "a slow tracer never holds up delivery (b got " .. #bgot .. ")")
   check(kinds(ev) == "notice,publish" and ev[1].skipped == 2 and ev[2].payload == "thre",
      "skipped events are counted in a notice: " .. kinds(ev))
   ev = take(second)
   check(kinds(ev) == "publish,publish,publish", "the other tracer sees no drop for a tracer's full queue: " .. kinds(ev))

   -- detach and close forget tracers
   smq:client_publish(second, smq:gettid(), smq:client_createsub(second, "$smqctl.trace.detach"), "")
   smq:close(t, 0)
   check(next(tracer.tracers) == nil, "detach and close forget tracers")
   smq:client_publish(a, dev, 0, "after")
   check(#second.sock.inbox == 0, "nothing sent once no tracer is attached")
   check(app.closed == 3, "the app's onclose ran for every close")
   return seen
end

-- Issue 11: a message the app published from its own onconnect was traced
-- before the client's connect event (a first server publish outside a socket
-- context is routed at once, inside onconnect).
function cases.connect_comes_before_what_the_app_sends_in_onconnect()
   local smq
   local op = {
      onconnect = function(_, _, peer) smq:publish('{"hello":"' .. peer.uid .. '"}', "Welcome") end,
      onclose = function(_, _, peer) smq:publish('{"bye":"' .. peer.uid .. '"}', "Welcome") end,
   }
   smq = hook().create(op)
   local t, take = tracer_on(smq)
   local w = smq:connect("watcher-1", "", "127.0.0.1")
   smq:client_subscribe(w, "Welcome")
   local ev = take(t)
   -- the tracer's own onconnect welcome was before it attached: untraced
   check(kinds(ev) == "connect,drop,subscribe", "watcher: connect, its welcome (nobody yet), subscribe: " .. kinds(ev))
   check(ev[1].from.uid == "watcher-1" and ev[2].from.server, "the welcome comes from the server")
   local c = smq:connect("client-c", "", "127.0.0.1")
   smq:client_disconnect(c)
   ev = take(t)
   check(kinds(ev) == "connect,publish,close,publish", "connect first, close first: " .. kinds(ev))
   check(ev[1].from.uid == "client-c" and ev[2].payload == '{"hello":"client-c"}'
      and ev[3].from.uid == "client-c" and ev[4].payload == '{"bye":"client-c"}', "in that order")
   local _, got = take(w)
   check(#got == 2, "the watcher got both messages")
   return seen
end

-- Issue 11: the first subscriber's subscribe event said tid 0, because the
-- hook emitted inside permittop, before the hub creates the topic.
function cases.subscribe_and_create_events_carry_the_new_topics_real_tid()
   local smq, _, t, take = traced()
   local a = smq:connect("sub-a", "", "10.0.0.5")
   local b = smq:connect("sub-b", "", "10.0.0.6")
   take(t)
   local tid = smq:client_subscribe(a, "Fresh")
   check(tid and tid ~= 0, "the hub gave the topic a TID")
   check(smq:client_subscribe(b, "Fresh") == tid, "the second subscriber gets the same TID")
   local made = smq:client_create(b, "Made")
   local ev = take(t)
   check(kinds(ev) == "subscribe,subscribe,create", kinds(ev))
   check(ev[1].to.tid == tid and ev[1].to.name == "Fresh" and ev[1].from.uid == "sub-a",
      "the first subscriber's event has the real TID (" .. tostring(ev[1].to.tid) .. " vs " .. tid .. ")")
   check(ev[2].to.tid == tid, "so has the second's")
   check(ev[3].to.tid == made and made ~= 0, "a create event has the real TID")
   -- a duplicate subscribe calls no hook and is not traced again
   smq:client_subscribe(a, "Fresh")
   ev = take(t)
   check(#ev == 0, "a duplicate subscribe is not an event")
   -- an existing sub-topic calls no permitsubtop: invisible (documented)
   smq:client_createsub(a, "Known")
   smq:client_createsub(b, "Known")
   ev = take(t)
   check(kinds(ev) == "createsub", "only the first createsub of a name is seen: " .. kinds(ev))
   return seen
end

-- Issue 11: drops that only reached the hub's log are drop events.
function cases.drops_mako_only_logs_become_drop_events()
   local applog = {}
   local ondrops = 0
   local smq, _, t, take = traced({
      log = function(_, line) applog[#applog + 1] = line end,
      ondrop = function() ondrops = ondrops + 1 end,
      queuesize = 4,
   })
   local pub = smq:connect("pub-1", "", "10.0.0.5")
   local fast = smq:connect("fast-1", "", "10.0.0.6")
   local slow = smq:connect("slow-1", "", "10.0.0.7")
   local tid = smq:client_subscribe(fast, "Telemetry")
   smq:client_subscribe(slow, "Telemetry")
   take(t)

   -- one of two receivers cannot take it
   slow.sock.full = true
   smq:client_publish(pub, tid, 0, "reading-1")
   local ev = take(t)
   check(kinds(ev) == "publish,drop", "publish, then the slow receiver's drop: " .. kinds(ev))
   local d = ev[2]
   check(d.reason:find("socket queue full", 1, true) and d.reason:find("slow-1", 1, true),
      "the reason says socket queue full and names the receiver: " .. tostring(d.reason))
   check(d.from.uid == "pub-1" and d.to.tid == tid and d.to.name == "Telemetry" and d.payload == "reading-1",
      "the drop names the publisher, the topic and the message")
   check(applog[#applog] == "Dropping message: socket queue full", "the app's log still gets the line")
   check(ondrops == 0, "one receiver took it: no ondrop")

   -- the only receiver cannot take it: one drop, not two
   smq:client_unsubscribe(fast, tid)
   smq:client_publish(pub, tid, 0, "reading-2")
   ev = take(t)
   check(kinds(ev) == "publish,drop" and ev[2].reason:find("socket queue full", 1, true),
      "one drop with the queue-full reason (not also 'no subscribers'): " .. kinds(ev))
   check(ondrops == 1, "the app's ondrop still runs")
   -- a direct message to a client that cannot take it
   smq:client_publish(pub, slow.tid, 0, "direct")
   ev = take(t)
   check(kinds(ev) == "publish,drop" and ev[2].to.type == "client" and ev[2].to.uid == "slow-1", kinds(ev))
   slow.sock.full = nil

   -- the server's publish queue is full (its dispatcher is blocked in a write)
   smq.stalled = true
   for i = 1, 4 do smq:publish("tick " .. i, "Telemetry") end
   ev = take(t)
   check(kinds(ev) == "drop" and ev[1].from.server and ev[1].to.name == "Telemetry"
      and ev[1].reason:find("publish queue is full", 1, true),
      "the fourth server publish (queuesize 4) is a drop: " .. kinds(ev))
   check(applog[#applog] == string.format("Queue full: dropping tid %X", tid), "logged as Mako logs it")
   smq:unstall()
   ev = take(t)
   check(kinds(ev) == "publish,publish,publish", "the queued three go out: " .. kinds(ev))

   -- a message to the server that no handler takes
   local stid = smq:client_createsub(pub, "FirmwareUpdateReq")
   take(t)
   smq:client_publish(pub, smq:gettid(), stid, '{"v":2}')
   ev = take(t)
   check(kinds(ev) == "publish,drop", kinds(ev))
   check(ev[2].to.type == "server" and ev[2].subtopic == "FirmwareUpdateReq"
      and ev[2].reason == "the server has no handler for it" and ev[2].from.uid == "pub-1"
      and ev[2].payload == '{"v":2}', "a server drop with the reason and the message")
   return seen
end

function cases.mako_default_log_line_is_kept_and_a_dying_tracer_breaks_nothing()
   local smq, _, t, take = traced()
   local pub = smq:connect("pub-1", "", "10.0.0.5")
   local slow = smq:connect("slow-1", "", "10.0.0.7")
   local tid = smq:client_subscribe(slow, "T")
   take(t)
   slow.sock.full = true
   smq:client_publish(pub, tid, 0, "x")
   check(hublog("SMQ:HUB:Dropping message: socket queue full"), "Mako's own log line is still written")
   check(kinds((take(t))) == "publish,drop", "and traced")
   slow.sock.full = nil
   -- a tracer whose socket died under it: the hub's pubon error path raises;
   -- the publisher's message must still be delivered
   t.sock.dead = true
   smq:client_publish(pub, tid, 0, "y")
   local _, got = take(slow)
   check(#got == 1, "delivery goes on while a tracer's socket is dead")
   return seen
end

-- The install the README and `smqctl hook lua --output` describe, on a model
-- of how Mako starts an app: the app's .preload runs in the app's
-- environment (`io` is the app's I/O), and require finds modules in the
-- app's .lua/ only through a loader that mako.createloader(io) appends to
-- package.searchers (BAS-Resources src/mako/.config). `dir` is an app made
-- with the real binary. Returns the error text when the app does not load.
function cases.install(dir)
   local function appio(root)
      return {
         stat = function(_, p) local f = io.open(root .. "/" .. p) if f then f:close() return {} end end,
         loadfile = function(_, p, env)
            if env then return loadfile(root .. "/" .. p, "bt", env) end
            return loadfile(root .. "/" .. p) -- no env: the global one, as Mako's
         end,
      }
   end
   local saved = package.path
   package.path = "/nonexistent/?.lua" -- the system paths know no app module
   package.loaded["smqctl.trace"] = nil
   mako = {createloader = function(io)
      local function loader(name)
         local lname = ".lua/" .. name:gsub("%.", "/") .. ".lua"
         if not io:stat(lname) then return nil end
         return io:loadfile(lname)
      end
      table.insert(package.searchers, loader)
      return loader
   end}
   local appenv = setmetatable({io = appio(dir)}, {__index = _G})
   appenv.app = appenv
   local f, err = appenv.io:loadfile(".preload", appenv)
   local ok = f ~= nil
   if f then ok, err = pcall(f) end
   package.path = saved
   if not ok then return {"did not load: " .. tostring(err)} end
   local smq = rawget(appenv, "smq")
   check(smq and smq.gettid, "the .preload made the hub (app.smq)")
   local take = taker(smq)
   local t = smq:connect("tracer-01", "", "127.0.0.1")
   attach(smq, t)
   local ev = take(t)
   check(kinds(ev) == "snapshot", "a tracer attaches to the installed hook: " .. kinds(ev))
   local a = smq:connect("client-a", "", "127.0.0.1")
   local tid = smq:client_subscribe(a, "T")
   smq:client_publish(a, tid, 0, "hi")
   ev = take(t)
   check(kinds(ev) == "connect,subscribe,publish", kinds(ev))
   return seen
end

-- Schema version 2: a json payload is the value itself; a tracer that asks
-- for version 1 (an older smqctl) still gets it as a string.
function cases.json_payload_is_the_value_for_a_version_2_tracer()
   local smq = hook().create({})
   local take = taker(smq)
   local old = smq:connect("tracer-v1", "", "127.0.0.1")
   attach(smq, old, 256, 1)
   check(kinds(take(old)) == "snapshot", "a v1 attach gets a snapshot")
   local newer = smq:connect("tracer-v2", "", "127.0.0.1")
   attach(smq, newer, 256, 2)
   check(kinds(take(newer)) == "snapshot", "a v2 attach gets a snapshot")
   take(old)
   local a = smq:connect("client-a", "", "127.0.0.1")
   local tid = smq:client_subscribe(a, "T")
   take(old) take(newer)
   smq:client_publish(a, tid, 0, '{"On": true, "n": [1, 2]}')
   smq:client_publish(a, tid, 0, "plain")
   local e1, e2 = take(old), take(newer)
   check(#e1 == 2 and #e2 == 2, "both tracers get both publishes")
   check(e1[1].v == 1 and e1[1].encoding == "json" and e1[1].payload == '{"On": true, "n": [1, 2]}',
      "version 1: the json payload is a string")
   check(e2[1].v == 2 and e2[1].encoding == "json" and type(e2[1].payload) == "table"
      and e2[1].payload.On == true and #e2[1].payload.n == 2, "version 2: the json payload is the value")
   check(e2[2].encoding == "text" and e2[2].payload == "plain", "text stays a string in version 2")
   return seen
end

-- `smqctl record` attaches asking for full payloads: it gets them whole up to
-- one SMQ message (an ordinary tracer stays capped at 32 KiB), and a payload
-- whose event cannot fit one message is cut to fit and marked truncated.
function cases.full_payloads_for_a_tracer_that_asks()
   local smq = hook().create({})
   local take = taker(smq)
   -- Subscribed before the recorder attaches: its snapshot lists them.
   local early = smq:connect("dashboard-1", "", "127.0.0.1")
   smq:client_subscribe(early, "State")
   smq:client_subscribe(early, "Alarms")
   local other = smq:connect("dashboard-2", "", "127.0.0.1")
   smq:client_subscribe(other, "State")
   local rec = smq:connect("recorder-1", "", "127.0.0.1")
   local stid = smq:client_createsub(rec, "$smqctl.trace.attach")
   smq:client_publish(rec, smq:gettid(), stid, '{"v":2,"preview":65520,"full":true}')
   local snap = take(rec)
   check(kinds(snap) == "snapshot", "a full attach gets a snapshot")
   local subs = {}
   for _, x in ipairs(snap[1].snapshot.subscriptions or {}) do
      local peer = smq:etid2peer(x.etid)
      subs[#subs + 1] = (peer and peer.uid or "?") .. " " .. x.topic
   end
   table.sort(subs)
   check(table.concat(subs, ", ") == "dashboard-1 Alarms, dashboard-1 State, dashboard-2 State",
      "the snapshot lists who subscribed to what: " .. table.concat(subs, ", "))
   local plain = smq:connect("tracer-02", "", "127.0.0.1")
   attach(smq, plain, 65520, 2)
   check(kinds(take(plain)) == "snapshot", "an ordinary attach gets a snapshot")
   take(rec)
   local a = smq:connect("client-a", "", "127.0.0.1")
   local tid = smq:client_subscribe(a, "T")
   take(rec) take(plain)
   smq:client_publish(a, tid, 0, string.rep("a", 40000))
   smq:client_publish(a, tid, 0, string.rep("\255", 60000))
   local r, p = take(rec), take(plain)
   check(#r == 2 and #p == 2, "both tracers get both publishes: " .. kinds(r) .. " / " .. kinds(p))
   check(#r[1].payload == 40000 and not r[1].truncated, "the full tracer gets 40000 bytes whole")
   check(#p[1].payload == 32768 and p[1].truncated, "the ordinary one is capped at 32 KiB")
   check(r[2].encoding == "base64" and r[2].truncated and r[2].size == 60000,
      "60000 binary bytes do not fit one event: cut, marked, full size said")
   return seen
end

return setmetatable({}, {__index = function(_, name)
   local case = cases[name]
   if not case then error("no Lua case " .. tostring(name)) end
   return function(...)
      seen = {}
      return case(...)
   end
end})
