--[[ A stand-in for Mako's smq.hub for testing the smqctl trace hook under a
plain Lua 5.4 interpreter. It follows SMQ-PROTOCOL.md §9: the hooks an app
installs (authenticate, permittop, permitsubtop, onpublish, ondrop, onconnect,
onclose) are called where smq.hub calls them, with the same arguments, and the
server-side API the hook uses (createsub, subscribe("self", {subtopic, onmsg}),
publish, pubon, gettid, peers, etid2peer, tid2topic, topic2tid, tid2subtopic,
topics, subtopics) answers like the real one, including the `tidT` table
(a socket, a plain table of sockets, or true) and the server's pseudo socket.

Test drivers (not part of smq.hub): hub:connect(uid, info, ip, credentials),
hub:client_subscribe(peer, topic), hub:client_createsub(peer, name),
hub:client_publish(peer, tid, stid, data), hub:close(peer, err). Every message
a client receives is appended to peer.inbox as {tid, ptid, stid, data}.

Also defines the global `ba` with json.encode/decode and b64encode (small,
strict enough for the test).
]]

local M = {}

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

ba = {json = json, b64encode = b64encode}

-- ----- the hub -----
local Sock = {}
Sock.__index = Sock
function Sock:peername() return self.ip, self.port end

local PS = {phantom = true} -- the server's pseudo socket (has a metatable, like Mako's)
PS.__index = PS

local H = {}
H.__index = H

local nextid = 1000
local function newtid() nextid = nextid + 7 return nextid end

function M.create(op)
   op = op or {}
   local h = setmetatable({
      op = op,
      tidT = {}, sockT = {}, uidT = {},
      topic2tidT = {}, tid2topicT = {},
      subtopic2tidT = {}, tid2subtopicT = {},
      handlers = {}, -- stid -> onmsg for subscribe("self", ...)
      log = {},
   }, H)
   local ps = setmetatable({onmsg = function() end}, PS)
   h.server = {uid = "SMQ server client", info = "SMQ server client", tid = 1, sock = ps}
   h.tidT[1] = ps
   h.sockT[ps] = h.server
   return h
end

function H:gettid() return self.server.tid end
function H:peers() return pairs(self.sockT) end
function H:etid2peer(tid)
   local x = self.tidT[tid]
   if x then return self.sockT[x] end
end
function H:tid2topic(tid) return self.tid2topicT[tid] end
function H:topic2tid(name) return self.topic2tidT[name] end
function H:tid2subtopic(tid) return self.tid2subtopicT[tid] end
function H:subtopic2tid(name) return self.subtopic2tidT[name] end
function H:topics() return pairs(self.tid2topicT) end
function H:subtopics() return pairs(self.tid2subtopicT) end

function H:create(topic)
   local tid = self.topic2tidT[topic]
   if tid then return tid end
   tid = newtid()
   self.tidT[tid] = true
   self.topic2tidT[topic] = tid
   self.tid2topicT[tid] = topic
   return tid
end

function H:createsub(name)
   local stid = self.subtopic2tidT[name]
   if not stid then
      stid = newtid()
      self.subtopic2tidT[name] = stid
      self.tid2subtopicT[stid] = name
   end
   return stid
end

function H:subscribe(topic, op)
   assert(topic == "self", "the fake hub only supports subscribe('self', ...)")
   local stid = self:createsub(op.subtopic)
   self.handlers[stid] = op.onmsg
   return self.server.tid
end

-- Sends one frame to a socket: the peer's inbox, or the server's handlers.
function H:_send(sock, tid, ptid, stid, data)
   if sock == self.server.sock then
      local f = self.handlers[stid]
      if f then f(data, ptid, tid, stid) return true end
      return false
   end
   if sock.dead or sock.full then return false end -- full: a socket queue that is full
   local peer = self.sockT[sock]
   peer.inbox[#peer.inbox + 1] = {tid = tid, ptid = ptid, stid = stid, data = data}
   return true
end

-- Mako's managePublish: onpublish, routing, ondrop.
function H:_route(peer, tid, stid, data)
   local ptid = peer.tid
   if self.op.onpublish and not self.op.onpublish(data, ptid, tid, stid, peer) then return end
   local x, any = self.tidT[tid], false
   if type(x) == "table" and getmetatable(x) == nil then
      for sock in pairs(x) do any = self:_send(sock, tid, ptid, stid, data) or any end
   elseif x ~= nil and x ~= true then
      any = self:_send(x, tid, ptid, stid, data)
   end
   if not any and self.op.ondrop then self.op.ondrop(data, ptid, tid, stid, peer) end
end

function H:publish(data, topic, subtopic)
   local tid = type(topic) == "number" and topic or (topic == "self" and 1 or self:create(topic))
   local stid = type(subtopic) == "number" and subtopic or (subtopic and self:createsub(subtopic) or 0)
   self:_route(self.server, tid, stid, data)
end

-- Direct send that skips onpublish/ondrop; both ends must be client sockets.
function H:pubon(data, totid, fromtid, stid)
   local to, from = self.tidT[totid], self.tidT[fromtid]
   if getmetatable(to) ~= Sock or getmetatable(from) ~= Sock then return false end
   return self:_send(to, totid, fromtid, stid, data)
end

-- ----- test drivers -----
function H:connect(uid, info, ip, credentials)
   local sock = setmetatable({ip = ip or "127.0.0.1", port = 40000 + nextid % 1000}, Sock)
   local xinfo = {uid = uid, info = info or "", sock = sock}
   if self.op.authenticate then
      local code = self.op.authenticate(credentials or "", xinfo)
      if code ~= 0 then return nil, code end
   end
   local tid = newtid()
   local peer = {uid = uid, info = info or "", tid = tid, sock = sock, inbox = {}}
   self.tidT[tid] = sock
   self.sockT[sock] = peer
   self.uidT[uid] = peer
   if self.op.onconnect then self.op.onconnect(tid, xinfo, peer) end
   return peer
end

function H:client_subscribe(peer, topic)
   if self.op.permittop and not self.op.permittop(topic, true, peer) then return nil end
   local tid = self:create(topic)
   local x = self.tidT[tid]
   if x == true then
      self.tidT[tid] = {[peer.sock] = peer.sock}
   else
      x[peer.sock] = peer.sock
   end
   return tid
end

function H:client_createsub(peer, name)
   if not self.subtopic2tidT[name] and self.op.permitsubtop
      and not self.op.permitsubtop(name, peer) then
      return nil
   end
   return self:createsub(name)
end

function H:client_publish(peer, tid, stid, data)
   self:_route(peer, tid, stid or 0, data)
end

function H:close(peer, err)
   if self.op.onclose then self.op.onclose(peer.tid, peer.sock, peer, err or 0) end
   peer.sock.dead = true
   self.tidT[peer.tid] = nil
   self.sockT[peer.sock] = nil
   self.uidT[peer.uid] = nil
   for _, x in pairs(self.tidT) do
      if type(x) == "table" and getmetatable(x) == nil then x[peer.sock] = nil end
   end
end

return M
