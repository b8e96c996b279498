--[[ smqctl trace hook for Mako Server / BAS SMQ brokers (smq.hub).

Written out by `smqctl hook lua`. It wraps the option table an app passes to
smq.hub.create, calls the app's own onpublish/ondrop/onconnect/onclose/
permittop/permitsubtop/authenticate and keeps their decisions, and streams
trace events (JSON, schema version 2; version 1 to a tracer asking for it) to tracers such as `smqctl trace` and
`smqctl tui` that attach by publishing to the broker's ETID with the sub-topic
"$smqctl.trace.attach".

Install (Mako Server): save this file as the app's .lua/smqctl/trace.lua and, in
the app's .preload, let require find modules in the app's .lua/ (without
this line a .preload's require does not look there, and the app fails to load):

   mako.createloader(io)                        -- once, before any require of the app's own modules
   local smqtrace = require"smqctl.trace"
   local smq = smqtrace.create(op)              -- instead of require"smq.hub".create(op)
   -- or, with options:
   local smq = smqtrace.create(op, {
      authorize = function(peer, ip) return ip == "10.0.0.5" end, -- default: loopback only
      preview = 256,                                              -- largest preview a tracer gets
      maxpayload = 65520,       -- largest payload `smqctl record` gets (0: previews only)
   })

Costs: with no tracer attached every hook does one table check and calls the
app's hook. Trace messages go straight to the tracer's socket with pubon
(skipping onpublish/ondrop), and every message whose sub-topic starts with
"$smqctl.trace" is left out of the trace, so the hook never traces itself.
Notes: installing ondrop makes Mako stop logging drops itself (the app's own
ondrop, if any, is still called). The hook also wraps the hub's `log` (the
app's own op.log, or Mako's default log line, still gets every line) to turn
the drops Mako only logs ("socket queue full", "Queue full", "Server
dropping") into drop events.
What it cannot see, because smq.hub calls no app hook for it: unsubscribe, a
createsub of a sub-topic that already exists, observe/unobserve, and the
app's own server-side subscribe/create/createsub calls. Timestamps are whole
seconds (os.date).
]]

local M = {}

local PREFIX = "$smqctl.trace"
local SUB_EVENTS = "$smqctl.trace"
local SUB_ATTACH = "$smqctl.trace.attach"
local SUB_DETACH = "$smqctl.trace.detach"
local MAX_PREVIEW = 32768
local MAX_MESSAGE = 0xFFF0 -- one SMQ message's payload: a full-payload tracer's limit
local VERSION = 2 -- schema version: in 2 a json payload is the value, in 1 a string

local function isloopback(ip)
   if not ip then return false end
   ip = ip:gsub("^::ffff:", "")
   return ip:find("^127%.") ~= nil or ip == "::1"
end

-- The peer's IP address (nil for the server's own pseudo socket).
local function peerip(peer)
   local sock = peer and peer.sock
   if not sock then return nil end
   local ok, ip, port = pcall(function() return sock:peername() end)
   if ok and type(ip) == "string" then return ip, port end
   return nil
end

local function addrof(peer)
   local ip, port = peerip(peer)
   if not ip then return nil end
   if ip:find(":", 1, true) then ip = "[" .. ip .. "]" end
   return port and (ip .. ":" .. tostring(port)) or ip
end

local function now()
   return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

-- Payload preview as the schema wants it: json / text / base64.
local function preview(e, data, limit)
   e.size = #data
   if #data <= limit then
      local ok, v = pcall(ba.json.decode, data)
      if ok and v ~= nil then
         e.encoding, e.payload = "json", data
         return e
      end
   end
   if utf8.len(data) then
      local cut = data
      if #data > limit then
         -- back up to the start of the character that crosses the limit
         local stop = limit + 1
         while stop > 1 and (data:byte(stop) or 0) & 0xC0 == 0x80 do stop = stop - 1 end
         cut = data:sub(1, stop - 1)
         e.truncated = true
      end
      e.encoding, e.payload = "text", cut
      return e
   end
   e.encoding, e.payload = "base64", ba.b64encode(data:sub(1, limit))
   if #data > limit then e.truncated = true end
   return e
end

--- Wraps `op` (the app's smq.hub.create options); returns the new option
--- table and a tracer object whose `install(smq)` must be called with the
--- hub created from it. `cfg.authorize(peer, ip)` decides who may attach.
function M.wrap(op, cfg)
   op = op or {}
   cfg = cfg or {}
   local authorize = cfg.authorize or function(_, ip) return isloopback(ip) end
   local maxpreview = math.min(cfg.preview or MAX_PREVIEW, MAX_PREVIEW)
   -- What a recorder asking for full payloads gets (0: none beyond previews).
   local maxfull = math.min(cfg.maxpayload or MAX_MESSAGE, MAX_MESSAGE)
   local tracers = {}      -- etid -> {preview=n, skipped=n}
   local reserved = {}     -- sub-topic ID -> whether its name starts with "$smqctl.trace"
   local smq, evstid
   local T = {tracers = tracers}
   -- While the hook sends to a tracer: hub log lines are about that send.
   local insend = false
   -- The message being routed (set by onpublish while tracers are attached),
   -- for the drops the hub only logs while routing it.
   local current

   -- Sub-topic IDs are never reused for another name, so the answer is
   -- cached either way: one table lookup per message after the first.
   local function isreserved(stid)
      if stid == 0 or stid == nil then return false end
      local r = reserved[stid]
      if r ~= nil then return r end
      local name = smq and smq:tid2subtopic(stid)
      if not name then return false end
      r = name:sub(1, #PREFIX) == PREFIX
      reserved[stid] = r
      return r
   end

   local function client(etid, peer)
      peer = peer or smq:etid2peer(etid)
      local c = {etid = etid}
      if etid == smq:gettid() then c.server = true end
      if peer then
         c.uid = peer.uid
         if peer.info and peer.info ~= "" then c.info = peer.info end
      end
      return c
   end

   local function dest(tid)
      local name = smq:tid2topic(tid)
      if name then return {tid = tid, type = "topic", name = name} end
      if tid == smq:gettid() then return {tid = tid, type = "server"} end
      local peer = smq:etid2peer(tid)
      if peer then return {tid = tid, type = "client", uid = peer.uid} end
      return {tid = tid, type = "unknown"}
   end

   -- Receivers a publish to `tid` will reach, read from the hub's own table
   -- (nil when the hub does not expose it).
   local function receivers(tid)
      local tidT = rawget(smq, "tidT")
      if type(tidT) ~= "table" then return nil end
      local x = tidT[tid]
      if x == nil or x == true then return 0 end
      -- Mako's own test (istab): a plain table is a set of sockets; the
      -- server's pseudo socket is a table too, but with a metatable.
      if type(x) == "table" and getmetatable(x) == nil then
         local n = 0
         for _ in pairs(x) do n = n + 1 end
         return n
      end
      return 1
   end

   -- The JSON text of `e` for tracer `t` (nil if it does not encode).
   local function encode(t, e)
      local v = t and t.v or VERSION
      e.v = v
      local raw = v >= 2 and e.encoding == "json" and e.payload or nil
      if raw then e.payload = nil end
      local ok, json = pcall(ba.json.encode, e)
      if raw then
         e.payload = raw
         -- The payload is valid JSON (preview checked it): splice it in as
         -- the value itself, exactly as sent (an encoded event ends in "}").
         if ok and json then json = json:sub(1, -2) .. ',"payload":' .. raw .. "}" end
      end
      if not ok then return nil end
      return json
   end

   -- Sends one event to one tracer, straight to its socket.
   local function sendto(etid, t, e)
      local json = encode(t, e)
      if not json then return false end
      local ok
      insend = true
      -- pcall: the hub's pubon error path can raise (it hands its write-error
      -- handler a field of the socket); a tracer's trouble must never reach
      -- the publisher whose message is being traced.
      local sent
      if smq.pubon then
         ok, sent = pcall(smq.pubon, smq, json, etid, etid, evstid)
      else
         ok, sent = pcall(smq.publish, smq, json, etid, evstid)
         sent = ok
      end
      insend = false
      return ok and sent or false
   end

   local function deliver(etid, t, e)
      if t.skipped > 0 then
         local n = {v = VERSION, ts = e.ts, kind = "notice", skipped = t.skipped,
            reason = t.skipped .. " event(s) skipped: this tracer did not keep up"}
         if not sendto(etid, t, n) then t.skipped = t.skipped + 1 return end
         t.skipped = 0
      end
      if not sendto(etid, t, e) then t.skipped = t.skipped + 1 end
   end

   -- Sends `e` to every tracer; `data` (a payload) is cut to each one's preview.
   local function emit(e, data)
      e.v, e.ts = VERSION, e.ts or now()
      for etid, t in pairs(tracers) do
         local x = e
         if data then
            local limit = t.preview
            while true do
               x = {}
               for k, v in pairs(e) do x[k] = v end
               preview(x, data, limit)
               -- A full-payload tracer (smqctl record) gets as much as fits
               -- in one SMQ message: cut further, marked truncated.
               if not t.full or limit == 0 then break end
               local json = encode(t, x)
               if json and #json <= MAX_MESSAGE then break end
               limit = limit // 2
            end
         end
         deliver(etid, t, x)
      end
   end

   local function setsub(e, stid)
      if stid and stid ~= 0 then
         e.subtid = stid
         e.subtopic = smq:tid2subtopic(stid)
      end
   end

   local function snapshot()
      local topics, subtopics, clients = {}, {}, {}
      for tid, name in smq:topics() do
         topics[#topics + 1] = {tid = tid, name = name, subscribers = receivers(tid)}
      end
      for stid, name in smq:subtopics() do
         if name:sub(1, #PREFIX) ~= PREFIX then
            subtopics[#subtopics + 1] = {subtid = stid, name = name}
         end
      end
      local server = smq:gettid()
      local etidof = {} -- socket -> ETID
      for sock, peer in smq:peers() do
         etidof[sock] = peer.tid
         if peer.tid ~= server then
            local c = client(peer.tid, peer)
            c.addr = addrof(peer)
            clients[#clients + 1] = c
         end
      end
      -- Who is subscribed to what (so `smqctl record` can bring the
      -- subscribers back on replay), read from the hub's own tidT: a topic's
      -- entry is one socket, a plain table (set) of sockets, or true.
      local subscriptions = {}
      local tidT = rawget(smq, "tidT")
      if type(tidT) == "table" then
         for tid, name in smq:topics() do
            local x, socks = tidT[tid], {}
            if type(x) == "table" and getmetatable(x) == nil then
               for sock in pairs(x) do socks[#socks + 1] = sock end
            elseif x ~= nil and x ~= true then
               socks[1] = x
            end
            for _, sock in ipairs(socks) do
               local etid = etidof[sock]
               if etid and etid ~= server then
                  subscriptions[#subscriptions + 1] = {etid = etid, topic = name}
               end
            end
         end
      end
      -- Empty lists are left out: a JSON encoder cannot tell [] from {}.
      return {server_etid = server,
         topics = #topics > 0 and topics or nil,
         subtopics = #subtopics > 0 and subtopics or nil,
         clients = #clients > 0 and clients or nil,
         subscriptions = #subscriptions > 0 and subscriptions or nil}
   end

   -- The broker-side end of the attach protocol (messages to the server ETID).
   local function onattach(data, ptid)
      local peer = smq:etid2peer(ptid)
      if not peer then return end
      local ip = peerip(peer)
      if not authorize(peer, ip) then
         sendto(ptid, nil, {v = VERSION, ts = now(), kind = "error", reason = "not authorized"})
         return
      end
      local ok, req = pcall(ba.json.decode, data)
      local want = ok and type(req) == "table" and tonumber(req.preview) or 256
      -- A version-1 tracer (an older smqctl) reads a json payload as a string.
      local v = ok and type(req) == "table" and tonumber(req.v) or VERSION
      -- `full` (smqctl record): whole payloads, up to what fits in one message.
      local full = ok and type(req) == "table" and req.full == true and maxfull > 0
      local t = {preview = math.max(0, math.min(want, full and maxfull or maxpreview)),
         full = full or nil, skipped = 0,
         v = math.max(1, math.min(math.floor(v), VERSION))}
      tracers[ptid] = t
      deliver(ptid, t, {v = VERSION, ts = now(), kind = "snapshot", snapshot = snapshot()})
   end

   local function ondetach(_, ptid) tracers[ptid] = nil end

   -- ----- the app's hooks, wrapped -----
   local new = {}
   for k, v in pairs(op) do new[k] = v end

   local app_onpublish = op.onpublish
   new.onpublish = function(data, ptid, tid, stid, peer)
      if isreserved(stid) then
         -- The tracing machinery's own messages: never the app's business,
         -- never traced (server publishes to a tracer land here too).
         return true
      end
      local verdict = true
      if app_onpublish then verdict = app_onpublish(data, ptid, tid, stid, peer) and true or false end
      if next(tracers) == nil then return verdict end
      current = verdict and {data = data, ptid = ptid, tid = tid, stid = stid, peer = peer, logged = 0} or nil
      local n = verdict and receivers(tid) or nil
      if verdict and n == 0 then return verdict end -- ondrop reports it
      local e = {kind = verdict and "publish" or "deny", from = client(ptid, peer),
         to = dest(tid), verdict = verdict, receivers = n}
      if not verdict then e.reason = "onpublish refused the message" end
      setsub(e, stid)
      emit(e, data)
      return verdict
   end

   local app_ondrop = op.ondrop
   new.ondrop = function(data, ptid, tid, stid, peer)
      if isreserved(stid) then return end
      if app_ondrop then app_ondrop(data, ptid, tid, stid, peer) end
      if next(tracers) == nil then return end
      local c = current
      if c and c.logged > 0 and c.data == data and c.ptid == ptid and c.tid == tid then
         return -- every receiver's "socket queue full" is already a drop event
      end
      local to = dest(tid)
      local reason = (to.type == "topic" and "no subscribers")
         or (to.type == "client" and "the receiver could not take it")
         or (to.type == "server" and "the server has no handler for it")
         or "unknown tid"
      local e = {kind = "drop", from = client(ptid, peer), to = to, reason = reason}
      setsub(e, stid)
      emit(e, data)
   end

   local app_onconnect = op.onconnect
   new.onconnect = function(etid, info, peer)
      -- The connect first: whatever the app sends from its own onconnect
      -- comes after it (a first server publish is routed at once).
      if next(tracers) ~= nil then
         local c = client(etid, peer)
         c.addr = addrof(peer)
         emit({kind = "connect", from = c})
      end
      if app_onconnect then app_onconnect(etid, info, peer) end
   end

   local app_onclose = op.onclose
   new.onclose = function(etid, sock, peer, err)
      tracers[etid] = nil
      -- The close first, then what the app sends about it.
      if next(tracers) ~= nil then
         emit({kind = "close", from = client(etid, peer),
            reason = (err == nil or err == 0) and "closed" or tostring(err)})
      end
      if app_onclose then app_onclose(etid, sock, peer, err) end
   end

   local app_permittop = op.permittop
   new.permittop = function(topic, issub, peer)
      local ok = true
      if app_permittop then ok = app_permittop(topic, issub, peer) and true or false end
      if next(tracers) == nil or not peer then return ok end
      -- permittop runs before the hub creates a new topic, which it does
      -- right after a yes: create it here (the same call, the same table) so
      -- the event carries the topic's real TID.
      local tid = ok and smq:create(topic) or smq:topic2tid(topic) or 0
      local to = {tid = tid, type = "topic", name = topic}
      if ok then
         emit({kind = issub and "subscribe" or "create", from = client(peer.tid, peer), to = to})
      else
         emit({kind = "deny", from = client(peer.tid, peer), to = to,
            reason = "permittop refused " .. (issub and "Subscribe" or "Create") .. " of topic " .. topic})
      end
      return ok
   end

   local app_permitsubtop = op.permitsubtop
   new.permitsubtop = function(subtopic, peer)
      local ok = true
      if app_permitsubtop then ok = app_permitsubtop(subtopic, peer) and true or false end
      if next(tracers) == nil or not peer or subtopic:sub(1, #PREFIX) == PREFIX then return ok end
      local e = {kind = ok and "createsub" or "deny", from = client(peer.tid, peer), subtopic = subtopic}
      if not ok then e.reason = "permitsubtop refused sub-topic " .. subtopic end
      emit(e)
      return ok
   end

   -- The hub logs some drops and calls no hook for them: a receiver that
   -- cannot take a message ("Dropping message: socket queue full", the
   -- receiver's socket), the server's publish queue ("Queue full: dropping
   -- tid %X") and a message to the server that no handler takes ("Server
   -- dropping: ptid=%d, tid=%d, subtid=%d"). The line still goes where it
   -- went (the app's log, or Mako's default), and becomes a drop event.
   local app_log = op.log
   local function logdrop(sock, msg)
      local c = current
      if msg:find("socket queue full", 1, true) then
         if insend or not sock then return end -- the hook's own send, or a pubon: no routing
         local peer = smq:sock2peer(sock)
         if not peer then return end
         local e = {kind = "drop", reason = "socket queue full: " .. tostring(peer.uid or "a client")
            .. " (etid " .. tostring(peer.tid) .. ") did not keep up"}
         local x = c and rawget(smq, "tidT") and smq.tidT[c.tid]
         if x == sock or (type(x) == "table" and getmetatable(x) == nil and x[sock]) then
            c.logged = c.logged + 1
            e.from, e.to = client(c.ptid, c.peer), dest(c.tid)
            setsub(e, c.stid)
            emit(e, c.data)
         else
            e.to = {tid = peer.tid, type = "client", uid = peer.uid}
            emit(e)
         end
         return
      end
      local qtid = msg:match("^Queue full: dropping tid (%x+)")
      if qtid then
         local opq = op.queuesize or 200
         emit({kind = "drop", from = client(smq:gettid()), to = dest(tonumber(qtid, 16)),
            reason = "the server's publish queue is full (queuesize " .. tostring(opq) .. ")"})
         return
      end
      local ptid, tid, stid = msg:match("^Server dropping: ptid=(%d+), tid=(%d+), subtid=(%d+)")
      if ptid then
         ptid, tid, stid = tonumber(ptid), tonumber(tid), tonumber(stid)
         local e = {kind = "drop", from = client(ptid), to = dest(tid),
            reason = "the server has no handler for it"}
         setsub(e, stid)
         if c and c.ptid == ptid and c.tid == tid and c.stid == stid then
            e.from = client(ptid, c.peer)
            emit(e, c.data)
         else
            emit(e)
         end
      end
   end
   new.log = function(sock, msg)
      if app_log then
         app_log(sock, msg)
      elseif tracep then
         tracep(false, 8, "SMQ:HUB:" .. tostring(msg)) -- what smq.hub logs by default
      end
      if next(tracers) ~= nil and type(msg) == "string" then
         local ok, err = pcall(logdrop, sock, msg)
         if not ok and tracep then tracep(false, 1, "smqctl.trace: " .. tostring(err)) end
      end
   end

   local app_authenticate = op.authenticate
   new.authenticate = function(credentials, info)
      local ecode, reason = 0, nil
      if app_authenticate then ecode, reason = app_authenticate(credentials, info) end
      if ecode ~= 0 and next(tracers) ~= nil then
         -- Who and why, never the credentials.
         local c = {etid = 0, uid = info and info.uid}
         if info and info.sock then c.addr = addrof(info) end
         emit({kind = "deny", from = c,
            reason = "connection refused: authenticate answered " .. tostring(ecode)
               .. (reason and reason ~= "" and (" (" .. reason .. ")") or "")})
      end
      return ecode, reason
   end

   --- Connects the tracer to the hub made from the wrapped options.
   function T.install(hub)
      smq = hub
      evstid = smq:createsub(SUB_EVENTS)
      for _, name in ipairs({SUB_EVENTS, SUB_ATTACH, SUB_DETACH}) do
         reserved[smq:createsub(name)] = true
      end
      smq:subscribe("self", {subtopic = SUB_ATTACH, onmsg = onattach})
      smq:subscribe("self", {subtopic = SUB_DETACH, onmsg = ondetach})
      return smq
   end

   return new, T
end

--- Creates the hub with tracing: `smq.hub.create(op)` with the hooks wrapped.
function M.create(op, cfg, hub)
   local new, T = M.wrap(op, cfg)
   hub = hub or require"smq.hub"
   return T.install(hub.create(new)), T
end

return M
