--[[ A stand-in for Mako's smq.hub (BAS-Resources src/core/.lua/smq/hub.lua,
Mako Server 4.3), for testing the smqctl trace hook on an embedded Lua 5.4.

It was written from reading the real hub and keeps what the hook depends on:
  * the order of the app hooks: authenticate(credentials, info) before the
    peer exists, onconnect(tid, info, peer) after it is registered;
    permittop(topic, issub, peer) BEFORE the hub creates a new topic (so the
    topic has no TID yet); permitsubtop(name, peer) only for a sub-topic that
    does not exist yet; onpublish(data, ptid, tid, stid, peer) before routing,
    ondrop(...) after it when no receiver took the message; onclose(tid, sock,
    peer, err) before the peer leaves the tables; no hook at all for
    unsubscribe, a duplicate subscribe or an existing sub-topic;
  * the drops the hub only logs, through op.log(sock, line) (default: Mako's
    tracep(false, 8, "SMQ:HUB:"..line)): "Dropping message: socket queue full"
    with the receiver's socket, "Queue full: dropping tid %X" for the server
    publish queue, "Server dropping: ptid=%d, tid=%d, subtid=%d" from the
    default server onmsg;
  * the server's publish path: inside a socket context (ba.socket.getsock())
    it routes at once; outside (an LSP page, a timer, onconnect of a new
    connection) it goes through a ring queue of op.queuesize (200) whose
    dispatcher cosocket runs at once when created (ba.socket.event does that
    on Mako 4.3) and when enabled; `hub.stalled = true` models that
    dispatcher blocked in a write, so the queue fills;
  * tidT values: a socket, a plain table of sockets, or true; the server's
    pseudo socket is a table with a metatable and an `onmsg` field;
  * pubon(data, totid, fromtid, stid): only between client sockets, and on
    a write error it hands the error path `to.sock` (nil for a socket), as
    the real one does; a non-number error then raises.
Sockets are tables (Lua has no userdata of its own); `sock.full = true` makes
writes fail with a number (a full queue), `sock.dead = true` with "closed".
Every message a client socket receives is appended to sock.inbox as
{tid, ptid, stid, data}.

Test drivers (not part of smq.hub): hub:connect(uid, info, ip, credentials),
hub:client_subscribe(peer, topic), hub:client_create(peer, topic),
hub:client_createsub(peer, name), hub:client_unsubscribe(peer, tid),
hub:client_publish(peer, tid, stid, data), hub:client_disconnect(peer),
hub:close(peer, err), hub:unstall(). M.tracelog holds every tracep line.

Also defines the globals `ba` (json, b64encode, rnds, socket.getsock) and
`tracep`.
]]

local M = {tracelog = {}}
local fmt = string.format

-- ----- ba.json / ba.b64encode stand-ins -----
local json = {}

local function esc(s)
   return (s:gsub('[%c"\\]', function(c)
      local map = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
      return map[c] or string.format("\\u%04x", c:byte())
   end))
end

function json.encode(v)
   local t = type(v)
   if t == "nil" then return "null" end
   if t == "boolean" then return tostring(v) end
   if t == "number" then
      if math.type(v) == "integer" then return string.format("%d", v) end
      if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%d", math.floor(v)) end
      return string.format("%.14g", v)
   end
   if t == "string" then return '"' .. esc(v) .. '"' end
   if t == "table" then
      local out = {}
      if #v > 0 then
         for i = 1, #v do out[i] = json.encode(v[i]) end
         return "[" .. table.concat(out, ",") .. "]"
      end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for _, k in ipairs(keys) do out[#out + 1] = '"' .. esc(k) .. '":' .. json.encode(v[k]) end
      return "{" .. table.concat(out, ",") .. "}"
   end
   error("cannot encode " .. t)
end

function json.decode(s)
   local pos = 1
   local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
   local value
   local function str()
      local out = {}
      pos = pos + 1
      while true do
         local c = s:sub(pos, pos)
         if c == "" then error("unterminated string") end
         if c == '"' then pos = pos + 1 return table.concat(out) end
         if c == "\\" then
            local n = s:sub(pos + 1, pos + 1)
            local map = {n = "\n", r = "\r", t = "\t", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\", ["/"] = "/"}
            if n == "u" then
               out[#out + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16))
               pos = pos + 6
            else
               out[#out + 1] = map[n] or error("bad escape")
               pos = pos + 2
            end
         else
            out[#out + 1] = c
            pos = pos + 1
         end
      end
   end
   function value()
      ws()
      local c = s:sub(pos, pos)
      if c == "{" then
         local t = {}
         pos = pos + 1
         ws()
         if s:sub(pos, pos) == "}" then pos = pos + 1 return t end
         while true do
            ws()
            if s:sub(pos, pos) ~= '"' then error("key expected") end
            local k = str()
            ws()
            if s:sub(pos, pos) ~= ":" then error(": expected") end
            pos = pos + 1
            t[k] = value()
            ws()
            local d = s:sub(pos, pos)
            pos = pos + 1
            if d == "}" then return t end
            if d ~= "," then error(", expected") end
         end
      elseif c == "[" then
         local t = {}
         pos = pos + 1
         ws()
         if s:sub(pos, pos) == "]" then pos = pos + 1 return t end
         while true do
            t[#t + 1] = value()
            ws()
            local d = s:sub(pos, pos)
            pos = pos + 1
            if d == "]" then return t end
            if d ~= "," then error(", expected") end
         end
      elseif c == '"' then
         return str()
      elseif s:find("^true", pos) then pos = pos + 4 return true
      elseif s:find("^false", pos) then pos = pos + 5 return false
      elseif s:find("^null", pos) then pos = pos + 4 return nil
      else
         local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
         if not num or num == "" then error("unexpected " .. c) end
         pos = pos + #num
         return tonumber(num)
      end
   end
   local ok, v = pcall(function()
      local v = value()
      ws()
      if pos <= #s then error("trailing data") end
      return v
   end)
   if ok then return v end
   return nil, v
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64encode(data)
   return ((data:gsub(".", function(x)
      local r, b = "", x:byte()
      for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
      return r
   end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
      if #x < 6 then return "" end
      local c = 0
      for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
      return B64:sub(c + 1, c + 1)
   end) .. ({"", "==", "="})[#data % 3 + 1])
end



-- ----- Mako globals the hub uses -----
local context -- the socket whose coroutine runs now (ba.socket.getsock)
math.randomseed(20261122)
ba = {json = json, b64encode = b64encode,
   rnds = function() return math.random(1, 0x7fffffff) end,
   socket = {getsock = function() return context end}}
function tracep(_, level, ...)
   local t = {}
   for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
   M.tracelog[#M.tracelog + 1] = {level = level, line = table.concat(t, "\t")}
end

local function within(sock, f, ...)
   local saved = context
   context = sock
   local r = table.pack(pcall(f, ...))
   context = saved
   if not r[1] then error(r[2], 0) end
   return table.unpack(r, 2, r.n)
end

-- ----- sockets -----
local Sock = {}
Sock.__index = Sock
local nextport = 40000
local function newsock(ip)
   nextport = nextport + 1
   return setmetatable({ip = ip or "127.0.0.1", port = nextport, inbox = {}}, Sock)
end
function Sock:peername() return self.ip, self.port end
function Sock:websocket() return true end
function Sock:close() self.dead = true end
function Sock:write(m)
   if self.dead then return nil, "closed" end
   if self.full then return nil, 1 end -- a number: the socket's queue is full
   self.inbox[#self.inbox + 1] = m
   return true
end

-- A plain table of sockets (not a socket, not the server's pseudo socket).
local function istab(x) return type(x) == "table" and getmetatable(x) == nil end

local function createTid(t)
   local tid
   repeat tid = ba.rnds(4) until not t[tid] and tid ~= 0
   return tid
end

local function log(h, sock, ...) h.log(sock, fmt(...)) end

-- The server's pseudo socket: a write calls the server's handlers.
local PS = {}
PS.__index = PS
function PS:websocket() return true end
function PS:write(m)
   if self.recCounter > 20 then
      log(self.hub, nil, "Err: onmsg recursive call")
      return true
   end
   local t, onmsg = self.onMsgCBT[m.tid], nil
   if t then onmsg = t.subtops[m.stid] or t.onmsg end
   onmsg = onmsg or self.onmsg
   self.recCounter = self.recCounter + 1
   onmsg(m.data, m.ptid, m.tid, m.stid)
   self.recCounter = self.recCounter - 1
   return true
end

local H = {}
H.__index = H

local function send(sock, m) return sock:write(m) end

local function lookupOrCreateTid(h, topic, xtid)
   local tid = h.topic2tidT[topic]
   if tid then return tid end
   tid = (xtid and xtid ~= 0 and not h.tidT[xtid]) and xtid or createTid(h.tidT)
   h.tidT[tid] = true
   h.topic2tidT[topic] = tid
   h.tid2topicT[tid] = topic
   return tid
end

local function subscribe(h, peer, tid)
   local sock, x = peer.sock, h.tidT[tid]
   if istab(x) then
      if x[sock] then return false end
      x[sock] = sock
   elseif x == true then
      h.tidT[tid] = sock
   elseif x ~= sock then
      h.tidT[tid] = {[x] = x, [sock] = sock}
   else
      return false
   end
   peer.topics = peer.topics or {}
   peer.topics[tid] = tid
   return true
end

local function unsubscribe(h, peer, tid)
   local sock, x = peer.sock, h.tidT[tid]
   if istab(x) then
      x[sock] = nil
      local k, v = next(x)
      if not k then h.tidT[tid] = true
      elseif not next(x, k) then h.tidT[tid] = v end
   elseif x == sock then
      h.tidT[tid] = true
   else
      log(h, sock, "Unsubscribe: tid %X not registered", tid)
   end
   if peer.topics then peer.topics[tid] = nil end
end

local function terminate(h, sock, err)
   local peer = h.sockT[sock]
   if peer then
      h.onclose(peer.tid, sock, peer, err or 0)
      h.uidT[peer.uid] = nil
      h.tidT[peer.tid] = nil
      h.sockT[sock] = nil
      local tids = {}
      for tid in pairs(peer.topics or {}) do tids[#tids + 1] = tid end
      for _, tid in ipairs(tids) do unsubscribe(h, peer, tid) end
      if err and not peer.closing and err ~= "sysshutdown" then
         log(h, sock, "Unexpected socket close %s", err)
      end
   end
   sock:close() -- raises for a nil sock, as on Mako
end

local function writeErr(h, sock, err)
   if type(err) == "number" then
      log(h, sock, "Dropping message: socket queue full")
   else
      terminate(h, sock, err)
   end
end

-- managePublish
local function route(h, peer, m)
   if h.onpublish and not h.onpublish(m.data, m.ptid, m.tid, m.stid, peer) then return end
   local x, any = h.tidT[m.tid], false
   if x then
      if istab(x) then
         local errs
         for _, sock in pairs(x) do
            local ok, err = send(sock, m)
            if ok then any = true else errs = errs or {} errs[sock] = err end
         end
         for sock, err in pairs(errs or {}) do writeErr(h, sock, err) end
      elseif x ~= true then
         local ok, err = send(x, m)
         if ok then any = true else writeErr(h, x, err) end
      elseif not h.ondrop then
         log(h, peer.sock, "Publish: dropping msg for tid %X", m.tid)
      end
   elseif not h.ondrop then
      log(h, nil, "Publish: dropping msg for unknown tid %X", m.tid)
   end
   if not any and h.ondrop then h.ondrop(m.data, m.ptid, m.tid, m.stid, peer) end
end

local function dispatch(h)
   while #h.queue > 0 and not h.stalled do
      local m = table.remove(h.queue, 1)
      within(h.serverT.sock, route, h, h.serverT, m)
   end
end

function M.create(op)
   op = op or {}
   local h = setmetatable({
      tidT = {}, sockT = {}, uidT = {}, observeT = {},
      topic2tidT = {}, tid2topicT = {}, subtopic2tidT = {}, tid2subtopicT = {},
      authenticate = op.authenticate or function() return 0 end,
      authorizeTID = op.permittop or function() return true end,
      authorizeSTID = op.permitsubtop or function() return true end,
      onconnect = op.onconnect or function() end,
      onclose = op.onclose or function() end,
      log = op.log or function(_, line) tracep(false, 8, "SMQ:HUB:" .. line) end,
      onpublish = op.onpublish, ondrop = op.ondrop,
      qSize = op.queuesize or 200, queue = {}, serverT = {},
   }, H)
   assert(type(op.ondrop or print) == "function", "op.ondrop must be a function")
   assert(type(op.onpublish or print) == "function", "op.onpublish must be a function")
   assert(type(h.log) == "function", "op.log must be a function")
   local ps = setmetatable({hub = h, onMsgCBT = {}, recCounter = 0,
      onmsg = op.onmsg or function(_, ptid, tid, stid)
         log(h, nil, "Server dropping: ptid=%d, tid=%d, subtid=%d", ptid, tid, stid)
      end}, PS)
   local t = h.serverT
   t.sock, t.tid, t.uid = ps, op.rndtid and createTid(h.tidT) or 1, "SMQ server client"
   t.info = t.uid
   h.tidT[t.tid] = ps
   h.sockT[ps] = t
   return h
end

-- ----- the API for Lua server code -----
function H:gettid() return self.serverT.tid end
function H:peers() return pairs(self.sockT) end
function H:sock2peer(sock) return self.sockT[sock] end
function H:subtopic2tid(name) return self.subtopic2tidT[name] end
function H:subtopics() return pairs(self.tid2subtopicT) end
function H:tid2subtopic(tid) return self.tid2subtopicT[tid] end
function H:tid2topic(tid) return self.tid2topicT[tid] end
function H:topic2tid(name) return self.topic2tidT[name] end
function H:topics() return pairs(self.tid2topicT) end
function H:queuesize() return self.qSize - #self.queue, #self.queue end
function H:etid2peer(tid)
   local x = self.tidT[tid]
   if x then return self.sockT[x] end
end
H.create = lookupOrCreateTid
function H:createsub(name, tid)
   if not name then return 0 end
   local stid = self.subtopic2tidT[name]
   if not stid then
      stid = (tid and tid ~= 0 and not self.tid2subtopicT[tid]) and tid or createTid(self.tid2subtopicT)
      self.tid2subtopicT[stid] = name
      self.subtopic2tidT[name] = stid
   end
   return stid
end

local function getTid(h, topic, nocreate)
   if type(topic) == "number" then return topic end
   if topic == "self" then return h.serverT.tid end
   if nocreate then return h.topic2tidT[topic] end
   return lookupOrCreateTid(h, topic)
end

local function getSubTid(h, subtopic)
   if type(subtopic) == "number" then return subtopic end
   return h:createsub(subtopic)
end

function H:subscribe(topic, op)
   local tid = getTid(self, topic)
   subscribe(self, self.serverT, tid)
   op = op or {}
   if op.onmsg then
      local stid = getSubTid(self, op.subtopic)
      local ps = self.serverT.sock
      local t = ps.onMsgCBT[tid] or {subtops = {}}
      ps.onMsgCBT[tid] = t
      if stid == 0 then t.onmsg = op.onmsg else t.subtops[stid] = op.onmsg end
   end
   return tid
end

function H:unsubscribe(topic)
   local tid = getTid(self, topic, true)
   if tid then
      unsubscribe(self, self.serverT, tid)
      self.serverT.sock.onMsgCBT[tid] = nil
   end
end

function H:onmsg(f) self.serverT.sock.onmsg = f end

function H:publish(data, topic, subtopic)
   local tid, stid = getTid(self, topic), getSubTid(self, subtopic)
   if type(data) == "table" then data = ba.json.encode(data) end
   if #data > 0xFFF0 then error("Max payload: 0xFFF0", 2) end
   local m = {tid = tid, ptid = self.serverT.tid, stid = stid, data = data}
   if ba.socket.getsock() then
      route(self, self.serverT, m)
   elseif #self.queue >= self.qSize - 1 then
      log(self, nil, "Queue full: dropping tid %X", tid)
   else
      self.queue[#self.queue + 1] = m
      dispatch(self) -- the dispatcher runs at once unless it is blocked
   end
   return #self.queue
end

function H:pubon(data, totid, fromtid, stid)
   local to, from = self.tidT[totid], self.tidT[fromtid]
   if getmetatable(to) == Sock and getmetatable(from) == Sock then
      local ok, err = send(to, {tid = totid, ptid = fromtid, stid = stid, data = data})
      if ok then return true end
      writeErr(self, to.sock, err) -- `to` is the socket: to.sock is nil
   end
   return false
end

-- ----- test drivers -----
function H:unstall()
   self.stalled = false
   dispatch(self)
end

-- A client connects (the hub's connect runs in the HTTP request, outside
-- any socket context).
function H:connect(uid, info, ip, credentials)
   local sock = newsock(ip)
   local xinfo = {uid = uid, info = info or "", sock = sock}
   local ecode = self.authenticate(credentials or "", xinfo)
   if ecode ~= 0 then sock:close() return nil, ecode end
   local tid
   local old = self.uidT[uid]
   if old then
      tid = old.tid
      old.closing = true
      terminate(self, old.sock, "reconnect")
   else
      tid = createTid(self.tidT)
   end
   local peer = {uid = uid, info = info or "", sock = sock, tid = tid}
   self.uidT[uid] = peer
   self.tidT[tid] = sock
   self.sockT[sock] = peer
   within(nil, self.onconnect, tid, xinfo, peer)
   return peer
end

-- The rest run in the client's socket context, as the hub's socket thread does.
function H:client_subscribe(peer, topic)
   return within(peer.sock, function()
      local tid = self.topic2tidT[topic]
      if tid and peer.topics and peer.topics[tid] then
         log(self, peer.sock, "Duplicate subscribe for %s", topic)
         return tid
      end
      if not self.authorizeTID(topic, true, peer) then return nil end
      tid = lookupOrCreateTid(self, topic)
      subscribe(self, peer, tid)
      return tid
   end)
end

function H:client_create(peer, topic)
   return within(peer.sock, function()
      if not self.authorizeTID(topic, false, peer) then return nil end
      return lookupOrCreateTid(self, topic)
   end)
end

function H:client_createsub(peer, name)
   return within(peer.sock, function()
      local stid = self.subtopic2tidT[name]
      if not stid and self.authorizeSTID(name, peer) then
         stid = createTid(self.tid2subtopicT)
         self.tid2subtopicT[stid] = name
         self.subtopic2tidT[name] = stid
      end
      return stid
   end)
end

function H:client_unsubscribe(peer, tid)
   within(peer.sock, unsubscribe, self, peer, tid)
end

function H:client_publish(peer, tid, stid, data)
   within(peer.sock, route, self, peer, {tid = tid, ptid = peer.tid, stid = stid or 0, data = data})
end

function H:client_disconnect(peer)
   peer.closing = true
   within(peer.sock, terminate, self, peer.sock)
end

function H:close(peer, err)
   within(peer.sock, terminate, self, peer.sock, err or "closed")
end

return M
