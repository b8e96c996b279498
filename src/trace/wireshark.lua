-- smq.lua: an SMQ (Simple Message Queues) dissector for Wireshark and tshark.
-- Written by `smqctl hook wireshark`; the protocol is Real Time Logic's SMQ, the
-- pub/sub protocol of Mako Server and the Barracuda App Server.
--
-- Install: copy this file to ~/.local/lib/wireshark/plugins/smq.lua and
-- restart Wireshark (Help > About > Plugins lists it), or load it for one run:
--     tshark -X lua_script:smq.lua -r capture.pcap -Y smq
--
-- What it decodes:
--   * the raw transport: a TCP stream that starts with the HTTP bootstrap
--     (a request with a `SimpleMQ` header, an optional `200` answer), then SMQ
--     packets, each behind a 2-byte big-endian length that counts itself;
--   * WebSocket: one SMQ packet per binary message, behind Wireshark's own
--     WebSocket dissector (after the HTTP upgrade it saw), or, on the port
--     below, frames it reads itself;
--   * every packet type of the protocol, with named fields (smq.type, smq.tid,
--     smq.ptid, smq.subtid, smq.uid, smq.payload, ...). smq.topic and
--     smq.subtopic on a Publish are the names the same connection learned
--     earlier from a Suback/Createack/Createsuback.
-- Where it looks: TCP streams that start with the bootstrap and WebSocket
-- messages that look like SMQ (heuristics named "smq" on "tcp" and "ws", in
-- Analyze > Enabled Protocols), the TCP port below, and any port you pick
-- with Decode As (TCP port -> SMQ).
-- Malformed packets (bad length, truncated fields, reserved types) get expert
-- info: filter with `smq.malformed || _ws.expert.severity >= warning`.
-- Credentials in a Connect show only their length unless the preference
-- "Show credentials" is on.

local SMQ_PORT = 0 -- smqctl hook wireshark --port N writes N here (0: no port)

local smq = Proto("smq", "SMQ (Simple Message Queues)")

local TYPE = {
    INIT = 1, CONNECT = 2, CONNACK = 3, SUBSCRIBE = 4, SUBACK = 5, CREATE = 6,
    CREATEACK = 7, PUBLISH = 8, UNSUBSCRIBE = 9, DISCONNECT = 11, PING = 12,
    PONG = 13, OBSERVE = 14, UNOBSERVE = 15, CHANGE = 16, CREATESUB = 17,
    CREATESUBACK = 18, PUBFRAG = 19,
}

local TYPE_NAMES = {
    [1] = "Init", [2] = "Connect", [3] = "Connack", [4] = "Subscribe",
    [5] = "Suback", [6] = "Create", [7] = "Createack", [8] = "Publish",
    [9] = "Unsubscribe", [11] = "Disconnect", [12] = "Ping", [13] = "Pong",
    [14] = "Observe", [15] = "Unobserve", [16] = "Change", [17] = "Createsub",
    [18] = "Createsuback", [19] = "PubFrag",
}

local CONNACK_CODES = {
    [0] = "accepted",
    [1] = "bad protocol version or UID",
    [2] = "server unavailable",
    [3] = "bad credentials",
    [4] = "client certificate required",
    [5] = "client certificate not accepted",
    [6] = "access denied",
}

local F = {
    length = ProtoField.uint16("smq.length", "Length", base.DEC, nil, nil,
        "Raw transport length prefix (counts its own 2 bytes)"),
    type = ProtoField.uint8("smq.type", "Type", base.DEC, TYPE_NAMES),
    type_name = ProtoField.string("smq.type_name", "Type name"),
    transport = ProtoField.string("smq.transport", "Transport"),
    direction = ProtoField.string("smq.direction", "Direction (C->B: client to broker)"),
    version = ProtoField.uint8("smq.version", "Version"),
    seed = ProtoField.uint32("smq.seed", "Seed", base.HEX),
    client_ip = ProtoField.string("smq.client_ip", "Client IP"),
    max_packet = ProtoField.uint16("smq.max_packet", "Max packet size (0: none)"),
    uid_len = ProtoField.uint8("smq.uid_len", "UID length"),
    uid = ProtoField.string("smq.uid", "UID"),
    cred_len = ProtoField.uint8("smq.cred_len", "Credentials length"),
    credentials = ProtoField.bytes("smq.credentials", "Credentials"),
    info = ProtoField.string("smq.info", "Info"),
    code = ProtoField.uint8("smq.code", "Code", base.DEC, CONNACK_CODES),
    etid = ProtoField.uint32("smq.etid", "ETID"),
    reason = ProtoField.string("smq.reason", "Reason"),
    status = ProtoField.uint8("smq.status", "Status", base.DEC, { [0] = "accepted", [1] = "denied" }),
    tid = ProtoField.uint32("smq.tid", "TID"),
    ptid = ProtoField.uint32("smq.ptid", "Publisher ETID (ptid)"),
    subtid = ProtoField.uint32("smq.subtid", "Sub-topic ID"),
    topic = ProtoField.string("smq.topic", "Topic"),
    subtopic = ProtoField.string("smq.subtopic", "Sub-topic"),
    payload = ProtoField.bytes("smq.payload", "Payload"),
    payload_len = ProtoField.uint32("smq.payload_len", "Payload length"),
    count = ProtoField.uint32("smq.count", "Subscribers"),
    frag = ProtoField.string("smq.frag", "Fragment"),
    frag_count = ProtoField.uint32("smq.frag.count", "Fragments joined"),
    frag_total = ProtoField.uint32("smq.frag.total", "Joined payload length"),
    frag_payload = ProtoField.bytes("smq.frag.payload", "Joined payload"),
    bootstrap = ProtoField.string("smq.bootstrap", "Bootstrap line"),
    ws_opcode = ProtoField.uint8("smq.ws.opcode", "WebSocket opcode"),
    ws_len = ProtoField.uint32("smq.ws.len", "WebSocket payload length"),
    malformed = ProtoField.bool("smq.malformed", "Malformed"),
    summary = ProtoField.string("smq.summary", "Summary"),
}
smq.fields = {
    F.length, F.type, F.type_name, F.transport, F.direction, F.version, F.seed, F.client_ip,
    F.max_packet, F.uid_len, F.uid, F.cred_len, F.credentials, F.info, F.code,
    F.etid, F.reason, F.status, F.tid, F.ptid, F.subtid, F.topic, F.subtopic,
    F.payload, F.payload_len, F.count, F.frag, F.frag_count, F.frag_total,
    F.frag_payload, F.bootstrap, F.ws_opcode, F.ws_len, F.malformed, F.summary,
}

local E = {
    bad_length = ProtoExpert.new("smq.bad_length.expert", "SMQ length field below 3",
        expert.group.MALFORMED, expert.severity.ERROR),
    truncated = ProtoExpert.new("smq.truncated.expert", "SMQ packet ends before its fields",
        expert.group.MALFORMED, expert.severity.ERROR),
    unknown_type = ProtoExpert.new("smq.unknown_type.expert",
        "Unknown or reserved SMQ packet type (the broker closes the connection)",
        expert.group.PROTOCOL, expert.severity.WARN),
    extra = ProtoExpert.new("smq.extra.expert", "Bytes after the packet's fields",
        expert.group.PROTOCOL, expert.severity.WARN),
    version = ProtoExpert.new("smq.version.expert", "Unknown SMQ protocol version",
        expert.group.PROTOCOL, expert.severity.WARN),
    raw_only = ProtoExpert.new("smq.pubfrag_ws.expert",
        "PubFrag on WebSocket (raw transport only: the broker closes the connection)",
        expert.group.PROTOCOL, expert.severity.WARN),
    refused = ProtoExpert.new("smq.refused.expert", "Connection refused",
        expert.group.RESPONSE_CODE, expert.severity.NOTE),
    denied = ProtoExpert.new("smq.denied.expert", "Denied by the broker",
        expert.group.RESPONSE_CODE, expert.severity.NOTE),
    bootstrap = ProtoExpert.new("smq.bootstrap.expert", "HTTP head without the SMQ bootstrap header",
        expert.group.PROTOCOL, expert.severity.WARN),
}
smq.experts = {
    E.bad_length, E.truncated, E.unknown_type, E.extra, E.version, E.raw_only,
    E.refused, E.denied, E.bootstrap,
}

smq.prefs.show_credentials = Pref.bool("Show credentials", false,
    "Show the credentials of a Connect (off: only their length)")

-- What each connection learned so far, by TCP stream: names from acks, the
-- client's ETID, PubFrag chunks waiting for their last fragment, WebSocket
-- fragments. Filled on the first pass; later passes (Wireshark re-dissects a
-- frame when it is clicked) read `memo`, what the first pass found in that frame.
local streams = {}
local memo = {}

function smq.init()
    streams = {}
    memo = {}
end

local tcp_stream_field = Field.new("tcp.stream")

local function stream_key(pinfo)
    local fi = tcp_stream_field()
    if fi then
        return "tcp" .. tostring(fi.value)
    end
    local a = tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
    local b = tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
    if a < b then return a .. "|" .. b end
    return b .. "|" .. a
end

local function stream_state(pinfo)
    local key = stream_key(pinfo)
    local st = streams[key]
    if not st then
        st = { topics = {}, subtopics = {}, etid = nil, frags = {}, ws = nil, wsfrag = {} }
        streams[key] = st
    end
    return st
end

-- A value computed on the first pass of a frame, read back on later passes.
-- `key` tells apart the places in one frame that ask (a frame can hold
-- several packets, and TCP may hand over a reassembled buffer and the rest).
local function remember(pinfo, key, compute)
    local k = tostring(pinfo.number) .. "/" .. key
    if pinfo.visited then
        local v = memo[k]
        if v == false then return nil end
        return v
    end
    local v = compute()
    if v == nil then memo[k] = false else memo[k] = v end
    return v
end

-- XOR of two bytes (WebSocket unmasking): Lua 5.2's bit32, Wireshark's bit,
-- or arithmetic where a Lua has neither.
local function xor8(a, b)
    local r, p = 0, 1
    for _ = 1, 8 do
        local x, y = a % 2, b % 2
        if x ~= y then r = r + p end
        a, b, p = math.floor(a / 2), math.floor(b / 2), p * 2
    end
    return r
end
local bxor = (bit32 and bit32.bxor) or (bit and bit.bxor) or xor8

-- Where in a frame a packet is, for `remember`: the buffer's length, the
-- offset and the first bytes there.
local function place(tvb, off)
    local n = math.min(tvb:len() - off, 24)
    local head = ""
    if n > 0 then head = tvb:raw(off, n) end
    return tostring(tvb:len()) .. "/" .. tostring(off) .. "/" .. head
end

local function printable(s)
    return (s:gsub("[^\32-\126]", function(c) return string.format("\\x%02x", c:byte()) end))
end

local function set_columns(pinfo, text)
    local proto = tostring(pinfo.cols.protocol)
    if proto ~= "SMQ" then
        pinfo.cols.protocol:set("SMQ")
        pinfo.cols.info:set(text)
    else
        pinfo.cols.info:append(", " .. text)
    end
end

-- One SMQ packet: `body` is the range from the type byte to the end of the
-- packet; `outer` is the packet's tree item (the length field, if any, is
-- already in it). Returns the one-line summary.
local function dissect_body(body, pinfo, t, st, ws, key)
    local len = body:len()
    if len < 1 then
        t:add(F.malformed, true):set_generated()
        t:add_proto_expert_info(E.bad_length, "SMQ packet without a type byte")
        return "empty packet"
    end
    local ptype = body(0, 1):uint()
    local tname = TYPE_NAMES[ptype]
    t:add(F.type, body(0, 1))
    t:add(F.type_name, tname or "Reserved"):set_generated()
    t:append_text(": " .. (tname or ("Reserved type " .. ptype)))
    local off = 1
    local bad = false

    -- Fails (with expert info) when fewer than n bytes are left.
    local function need(n, what)
        if len - off < n then
            t:add(F.malformed, true):set_generated()
            t:add_proto_expert_info(E.truncated, string.format(
                "%s: %d bytes left for %s (needs %d)", tname, len - off, what, n))
            bad = true
            return false
        end
        return true
    end
    local function rest()
        return len - off
    end
    local function extra()
        if rest() > 0 then
            t:add_proto_expert_info(E.extra, string.format("%s: %d unexpected bytes at the end",
                tname, rest()))
        end
    end
    local function topic_name(tid)
        return remember(pinfo, "topic/" .. tid .. "/" .. key, function() return st.topics[tid] end)
    end
    local function subtopic_name(subtid)
        return remember(pinfo, "subtopic/" .. subtid .. "/" .. key, function() return st.subtopics[subtid] end)
    end
    local function add_tid(field, tid_range)
        local tid = tid_range:uint()
        local item = t:add(field, tid_range)
        local name = topic_name(tid)
        if name and field == F.tid then
            item:append_text(" (" .. name .. ")")
            t:add(F.topic, name):set_generated()
        end
        return tid, name
    end
    local function named(id, name)
        if name then return id .. " (" .. name .. ")" end
        return tostring(id)
    end

    if not tname then
        t:add_proto_expert_info(E.unknown_type, string.format(
            "type %d is reserved in the SMQ specification; the broker closes the connection", ptype))
        return "Reserved type " .. ptype
    end

    if ptype == TYPE.INIT then
        if not need(5, "version and seed") then return "Init (truncated)" end
        t:add(F.version, body(1, 1))
        t:add(F.seed, body(2, 4))
        off = 6
        local ip = ""
        if rest() > 0 then
            t:add(F.client_ip, body(off, rest()))
            ip = body(off, rest()):string()
        end
        return string.format("Init version=%d seed=0x%08x client-ip=%s", body(1, 1):uint(),
            body(2, 4):uint(), printable(ip))
    elseif ptype == TYPE.CONNECT then
        if not need(1, "version") then return "Connect (truncated)" end
        local version = body(1, 1):uint()
        local vitem = t:add(F.version, body(1, 1))
        off = 2
        if version == 2 then
            if not need(2, "max packet size") then return "Connect (truncated)" end
            t:add(F.max_packet, body(off, 2))
            off = off + 2
        elseif version ~= 1 then
            vitem:add_proto_expert_info(E.version, "Connect version " .. version ..
                " (the broker knows 1 and 2); read as version 1")
        end
        if not need(1, "UID length") then return "Connect (truncated)" end
        local uid_len = body(off, 1):uint()
        t:add(F.uid_len, body(off, 1))
        off = off + 1
        if not need(uid_len, "UID") then return "Connect (truncated)" end
        local uid = ""
        if uid_len > 0 then
            t:add(F.uid, body(off, uid_len))
            uid = body(off, uid_len):string()
        end
        off = off + uid_len
        if not need(1, "credentials length") then return "Connect (truncated)" end
        local cred_len = body(off, 1):uint()
        t:add(F.cred_len, body(off, 1))
        off = off + 1
        if not need(cred_len, "credentials") then return "Connect (truncated)" end
        if cred_len > 0 then
            if smq.prefs.show_credentials then
                t:add(F.credentials, body(off, cred_len))
            else
                t:add(body(off, cred_len), string.format("Credentials: <hidden, %d bytes>", cred_len))
            end
        end
        off = off + cred_len
        local info = ""
        if rest() > 0 then
            t:add(F.info, body(off, rest()))
            info = body(off, rest()):string()
        end
        return string.format("Connect version=%d uid=\"%s\" info=\"%s\"", version, printable(uid),
            printable(info))
    elseif ptype == TYPE.CONNACK then
        if not need(5, "code and ETID") then return "Connack (truncated)" end
        local code = body(1, 1):uint()
        local citem = t:add(F.code, body(1, 1))
        t:add(F.etid, body(2, 4))
        local etid = body(2, 4):uint()
        off = 6
        local s = string.format("Connack code=%d (%s) etid=%d", code,
            CONNACK_CODES[code] or "unknown", etid)
        if rest() > 0 then
            t:add(F.reason, body(off, rest()))
            s = s .. " reason=\"" .. printable(body(off, rest()):string()) .. "\""
        end
        if code == 0 then
            if not pinfo.visited then st.etid = etid end
        else
            citem:add_proto_expert_info(E.refused, "refused: " .. (CONNACK_CODES[code] or "unknown code"))
        end
        return s
    elseif ptype == TYPE.SUBSCRIBE or ptype == TYPE.CREATE or ptype == TYPE.CREATESUB then
        local field = F.topic
        if ptype == TYPE.CREATESUB then field = F.subtopic end
        local name = ""
        if rest() > 0 then
            t:add(field, body(off, rest()))
            name = body(off, rest()):string()
        end
        return tname .. " \"" .. printable(name) .. "\""
    elseif ptype == TYPE.SUBACK or ptype == TYPE.CREATEACK or ptype == TYPE.CREATESUBACK then
        if not need(5, "status and ID") then return tname .. " (truncated)" end
        local status = body(1, 1):uint()
        local sitem = t:add(F.status, body(1, 1))
        local id = body(2, 4):uint()
        local name = ""
        if ptype == TYPE.CREATESUBACK then
            t:add(F.subtid, body(2, 4))
        else
            t:add(F.tid, body(2, 4))
        end
        off = 6
        if rest() > 0 then
            name = body(off, rest()):string()
            if ptype == TYPE.CREATESUBACK then
                t:add(F.subtopic, body(off, rest()))
            else
                t:add(F.topic, body(off, rest()))
            end
        end
        if status == 0 then
            if not pinfo.visited then
                if ptype == TYPE.CREATESUBACK then st.subtopics[id] = name else st.topics[id] = name end
            end
        else
            sitem:add_proto_expert_info(E.denied, tname .. " denied: \"" .. printable(name) .. "\"")
        end
        local verdict = "ok"
        if status ~= 0 then verdict = "DENIED" end
        return string.format("%s %s id=%d \"%s\"", tname, verdict, id, printable(name))
    elseif ptype == TYPE.PUBLISH or ptype == TYPE.PUBFRAG then
        if not need(12, "destination, publisher and sub-topic IDs") then
            return tname .. " (truncated)"
        end
        local tid, tname_ = add_tid(F.tid, body(1, 4))
        t:add(F.ptid, body(5, 4))
        local ptid = body(5, 4):uint()
        local subtid = body(9, 4):uint()
        local sitem = t:add(F.subtid, body(9, 4))
        local sname = subtopic_name(subtid)
        if sname then
            sitem:append_text(" (" .. sname .. ")")
            t:add(F.subtopic, sname):set_generated()
        end
        off = 13
        local n = rest()
        if n > 0 then
            t:add(F.payload, body(off, n))
        end
        t:add(F.payload_len, n):set_generated()
        local s = string.format("%s tid=%s ptid=%d subtid=%s %d bytes", tname, named(tid, tname_),
            ptid, named(subtid, sname), n)
        if ptype == TYPE.PUBFRAG then
            if ws then
                t:add_proto_expert_info(E.raw_only)
            end
            -- Intermediate fragments carry destination 0; the first with a
            -- destination is the last, and the joined payload is routed.
            local joined = remember(pinfo, "frag/" .. key, function()
                local parts = st.frags
                parts[#parts + 1] = body(off, n):raw()
                if tid == 0 then return nil end
                st.frags = {}
                return { count = #parts, data = table.concat(parts) }
            end)
            if tid == 0 then
                t:add(F.frag, "intermediate"):set_generated()
                s = s .. " (intermediate)"
            else
                t:add(F.frag, "final"):set_generated()
                s = s .. " (final)"
                if joined then
                    t:add(F.frag_count, joined.count):set_generated()
                    t:add(F.frag_total, #joined.data):set_generated()
                    if #joined.data > 0 then
                        local tvb = ByteArray.new(joined.data, true):tvb("Joined PubFrag payload")
                        t:add(F.frag_payload, tvb()):set_generated()
                    end
                    s = s .. string.format(", %d fragments, %d bytes joined", joined.count, #joined.data)
                end
            end
        end
        return s
    elseif ptype == TYPE.UNSUBSCRIBE or ptype == TYPE.OBSERVE or ptype == TYPE.UNOBSERVE then
        if not need(4, "TID") then return tname .. " (truncated)" end
        local tid, name = add_tid(F.tid, body(1, 4))
        off = 5
        extra()
        return string.format("%s tid=%s", tname, named(tid, name))
    elseif ptype == TYPE.CHANGE then
        if not need(8, "TID and count") then return "Change (truncated)" end
        local tid, name = add_tid(F.tid, body(1, 4))
        t:add(F.count, body(5, 4))
        off = 9
        extra()
        return string.format("Change tid=%s subscribers=%d", named(tid, name), body(5, 4):uint())
    elseif ptype == TYPE.DISCONNECT then
        if rest() > 0 then
            t:add(F.reason, body(off, rest()))
            return "Disconnect reason=\"" .. printable(body(off, rest()):string()) .. "\""
        end
        return "Disconnect"
    elseif ptype == TYPE.PING or ptype == TYPE.PONG then
        extra()
        return tname
    end
    return tname
end

-- Which way a packet goes: "C->B" (client to broker) or "B->C", from the
-- server port the stream's bootstrap (or --port) named, else from the packet
-- types only one side sends; nil while unknown.
local BROKER_SENDS = { [1] = true, [3] = true, [5] = true, [7] = true, [13] = true, [16] = true,
    [18] = true }
local CLIENT_SENDS = { [2] = true, [4] = true, [6] = true, [9] = true, [12] = true, [14] = true,
    [15] = true, [17] = true, [19] = true }

local function direction(pinfo, st, ptype)
    return remember(pinfo, "dir/" .. tostring(pinfo.src_port), function()
        if not st.server_port then
            if SMQ_PORT ~= 0 and (pinfo.src_port == SMQ_PORT or pinfo.dst_port == SMQ_PORT) then
                st.server_port = SMQ_PORT
            elseif BROKER_SENDS[ptype] then
                st.server_port = pinfo.src_port
            elseif CLIENT_SENDS[ptype] then
                st.server_port = pinfo.dst_port
            end
        end
        if not st.server_port then return nil end
        if pinfo.src_port == st.server_port then return "B->C" end
        return "C->B"
    end)
end

local function add_packet(tvb, pinfo, tree, st, off, len, raw, ws, key)
    local t = tree:add(smq, tvb(off, len))
    local transport = "raw"
    if ws then transport = "websocket" end
    t:add(F.transport, transport):set_generated()
    local body_off0 = off
    if raw then body_off0 = off + 2 end
    local ptype = nil
    if body_off0 < off + len then ptype = tvb(body_off0, 1):uint() end
    local dir = direction(pinfo, st, ptype)
    if dir then t:add(F.direction, dir):set_generated() end
    local body_off = off
    if raw then
        t:add(F.length, tvb(off, 2))
        body_off = off + 2
    end
    local summary
    if body_off >= off + len then
        t:add(F.malformed, true):set_generated()
        t:add_proto_expert_info(E.bad_length, "SMQ packet without a type byte")
        summary = "empty packet"
    else
        summary = dissect_body(tvb(body_off, off + len - body_off), pinfo, t, st, ws, key)
    end
    if dir then summary = dir .. " " .. summary end
    t:add(F.summary, summary):set_generated()
    set_columns(pinfo, summary)
end

-- "head": an HTTP head starts at off; "maybe": the data is too short to
-- tell (a prefix of "GET " or "HTTP"); nil: an SMQ packet. A raw packet never
-- starts like this: its third byte would be a type 'T' (84).
local function http_head_at(tvb, off, n)
    local s = tvb:raw(off, math.min(n, 4))
    if s == "GET " or s == "HTTP" then return "head" end
    if n < 4 and (("GET "):sub(1, n) == s or ("HTTP"):sub(1, n) == s) then return "maybe" end
    return nil
end

local MAX_HEAD = 16384

-- The HTTP bootstrap head at `off`: a subtree with its lines. Returns the
-- head's length, or nil if it does not end in this data yet.
local function dissect_head(tvb, pinfo, tree, st, off, n)
    local s = tvb:raw(off, math.min(n, MAX_HEAD))
    local e = s:find("\r\n\r\n", 1, true)
    if not e then return nil end
    local head = s:sub(1, e + 3)
    local is_request = head:sub(1, 4) == "GET "
    local what = "HTTP response"
    if is_request then what = "HTTP request" end
    local t = tree:add(smq, tvb(off, #head), "SMQ bootstrap (" .. what .. ")")
    local pos = 0
    for line in head:gmatch("(.-)\r\n") do
        if line ~= "" then
            t:add(F.bootstrap, tvb(off + pos, #line))
        end
        pos = pos + #line + 2
    end
    local lower = head:lower()
    local first = head:match("^(.-)\r\n") or ""
    if is_request then
        if lower:find("\r\nupgrade:%s*websocket") then
            st.ws = "own"
        elseif not lower:find("\r\nsimplemq:") then
            t:add_proto_expert_info(E.bootstrap, "no SimpleMQ header: not an SMQ raw bootstrap")
        end
        if not pinfo.visited and not st.server_port then st.server_port = pinfo.dst_port end
    end
    set_columns(pinfo, "Bootstrap: " .. printable(first))
    return #head
end

-- WebSocket frames read here (a stream on the SMQ port that upgraded):
-- header length and payload length at `off`, or nil when more data is needed.
local function ws_frame_lengths(tvb, off, n)
    if n < 2 then return nil end
    local b1 = tvb(off + 1, 1):uint()
    local plen = b1 % 128
    local hlen = 2
    if plen == 126 then
        if n < 4 then return nil end
        plen = tvb(off + 2, 2):uint()
        hlen = 4
    elseif plen == 127 then
        if n < 10 then return nil end
        plen = tvb(off + 2, 8):uint64():tonumber()
        hlen = 10
    end
    if b1 >= 128 then hlen = hlen + 4 end
    return hlen, plen
end

local function unmask(data, key)
    local out = {}
    for i = 1, #data do
        local k = key:byte((i - 1) % 4 + 1)
        out[i] = string.char(bxor(data:byte(i), k))
    end
    return table.concat(out)
end

local function dissect_own_ws_frame(tvb, pinfo, tree, st, off, hlen, plen)
    local b0 = tvb(off, 1):uint()
    local fin = b0 >= 128
    local opcode = b0 % 16
    local masked = tvb(off + 1, 1):uint() >= 128
    local dir = tostring(pinfo.src_port)
    local key = place(tvb, off)
    local data = remember(pinfo, "ws/" .. key, function()
        local payload = ""
        if plen > 0 then payload = tvb:raw(off + hlen, plen) end
        if masked then payload = unmask(payload, tvb:raw(off + hlen - 4, 4)) end
        if opcode >= 8 then return { opcode = opcode, data = payload } end
        local parts = st.wsfrag[dir] or {}
        parts[#parts + 1] = payload
        if not fin then
            st.wsfrag[dir] = parts
            return { opcode = opcode, partial = true }
        end
        st.wsfrag[dir] = nil
        return { opcode = opcode, data = table.concat(parts) }
    end)
    if not data then return end
    if data.opcode >= 8 or data.partial then
        local names = { [0] = "continuation", [8] = "Close", [9] = "Ping", [10] = "Pong" }
        local t = tree:add(smq, tvb(off, hlen + plen), "WebSocket " .. (names[data.opcode] or
            ("opcode " .. data.opcode)) .. " frame (not an SMQ packet)")
        t:add(F.ws_opcode, data.opcode)
        t:add(F.ws_len, plen)
        return
    end
    local mtvb = ByteArray.new(data.data, true):tvb("WebSocket message")
    if mtvb:len() == 0 then
        local t = tree:add(smq, tvb(off, hlen), "SMQ (empty WebSocket message)")
        t:add(F.malformed, true):set_generated()
        t:add_proto_expert_info(E.bad_length, "empty WebSocket message: no SMQ packet type")
        return
    end
    add_packet(mtvb, pinfo, tree, st, 0, mtvb:len(), false, true, key)
end

-- The TCP stream (raw transport, or a WebSocket stream on the SMQ port).
local function dissect_tcp(tvb, pinfo, tree)
    local total = tvb:len()
    local st = stream_state(pinfo)
    local off = 0
    while off < total do
        local n = total - off
        local head = http_head_at(tvb, off, n)
        if head == "maybe" and pinfo.can_desegment > 0 then
            pinfo.desegment_offset = off
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            return total
        elseif head == "head" then
            local hl = dissect_head(tvb, pinfo, tree, st, off, n)
            if not hl then
                if n >= MAX_HEAD or pinfo.can_desegment == 0 then
                    tree:add(smq, tvb(off, n), "SMQ bootstrap (HTTP head, incomplete)")
                    return total
                end
                pinfo.desegment_offset = off
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return total
            end
            off = off + hl
        elseif st.ws == "own" then
            local hlen, plen = ws_frame_lengths(tvb, off, n)
            if not hlen or n < hlen + plen then
                if pinfo.can_desegment == 0 then
                    tree:add(smq, tvb(off, n), "WebSocket frame (truncated)")
                    return total
                end
                pinfo.desegment_offset = off
                if hlen then
                    pinfo.desegment_len = hlen + plen - n
                else
                    pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                end
                return total
            end
            dissect_own_ws_frame(tvb, pinfo, tree, st, off, hlen, plen)
            off = off + hlen + plen
        else
            if n < 2 then
                if pinfo.can_desegment == 0 then
                    local t = tree:add(smq, tvb(off, n), "SMQ (truncated length)")
                    t:add(F.malformed, true):set_generated()
                    t:add_proto_expert_info(E.truncated, "1 byte where a 2-byte length belongs")
                    return total
                end
                pinfo.desegment_offset = off
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return total
            end
            local plen = tvb(off, 2):uint()
            if plen < 3 then
                local t = tree:add(smq, tvb(off, n), "SMQ (bad length)")
                t:add(F.length, tvb(off, 2))
                t:add(F.malformed, true):set_generated()
                t:add_proto_expert_info(E.bad_length, string.format(
                    "length %d: it counts its own 2 bytes and the type byte, so at least 3; " ..
                    "the rest of this segment cannot be framed", plen))
                set_columns(pinfo, "bad length " .. plen)
                return total
            end
            if n < plen then
                if pinfo.can_desegment == 0 then
                    -- No reassembly here: show what there is.
                    local t = tree:add(smq, tvb(off, n), "SMQ (truncated)")
                    t:add(F.length, tvb(off, 2))
                    t:add(F.malformed, true):set_generated()
                    t:add_proto_expert_info(E.truncated, string.format(
                        "length %d, %d bytes in the capture", plen, n))
                    return total
                end
                pinfo.desegment_offset = off
                pinfo.desegment_len = plen - n
                return total
            end
            add_packet(tvb, pinfo, tree, st, off, plen, true, false, place(tvb, off))
            off = off + plen
        end
    end
    return total
end

smq.dissector = dissect_tcp

-- Heuristic on TCP: the client's first bytes are the bootstrap request.
local function heur_tcp(tvb, pinfo, tree)
    local n = tvb:len()
    if n < 16 or tvb:raw(0, 4) ~= "GET " then return false end
    local head = tvb:raw(0, math.min(n, MAX_HEAD)):lower()
    local e = head:find("\r\n\r\n", 1, true) or #head
    local h = head:sub(1, e)
    if not h:find("\r\nsimplemq:", 1, true) then return false end
    if h:find("\r\nupgrade:%s*websocket") then return false end
    pinfo.conversation = smq
    dissect_tcp(tvb, pinfo, tree)
    return true
end

-- Does a WebSocket message look like an SMQ packet? Exact for the packets
-- with fixed sizes, and a known type byte for the rest.
local function looks_like_smq(tvb)
    local n = tvb:len()
    if n < 1 then return false end
    local ptype = tvb(0, 1):uint()
    if not TYPE_NAMES[ptype] then return false end
    if ptype == TYPE.INIT then return n >= 6 and tvb(1, 1):uint() == 1 end
    if ptype == TYPE.CONNECT then
        return n >= 4 and (tvb(1, 1):uint() == 1 or tvb(1, 1):uint() == 2)
    end
    if ptype == TYPE.CONNACK then return n >= 6 and tvb(1, 1):uint() <= 6 end
    if ptype == TYPE.SUBACK or ptype == TYPE.CREATEACK or ptype == TYPE.CREATESUBACK then
        return n >= 6 and tvb(1, 1):uint() <= 1
    end
    if ptype == TYPE.PUBLISH then return n >= 13 end
    if ptype == TYPE.UNSUBSCRIBE or ptype == TYPE.OBSERVE or ptype == TYPE.UNOBSERVE then
        return n == 5
    end
    if ptype == TYPE.CHANGE then return n == 9 end
    if ptype == TYPE.PING or ptype == TYPE.PONG then return n == 1 end
    -- Subscribe, Create, Createsub, Disconnect: a name or reason as text.
    local s = tvb:raw(1, n - 1)
    return not s:find("[%z\1-\31]")
end

-- One SMQ packet per WebSocket message (Wireshark's WebSocket dissector).
local function dissect_ws(tvb, pinfo, tree)
    local st = stream_state(pinfo)
    if tvb:len() == 0 then
        local t = tree:add(smq, tvb(), "SMQ (empty WebSocket message)")
        t:add(F.malformed, true):set_generated()
        t:add_proto_expert_info(E.bad_length, "empty WebSocket message: no SMQ packet type")
        return 0
    end
    add_packet(tvb, pinfo, tree, st, 0, tvb:len(), false, true, place(tvb, 0))
    return tvb:len()
end

-- Once a WebSocket stream showed an Init or a Connect it is SMQ, so later
-- messages are decoded even when malformed.
local function heur_ws(tvb, pinfo, tree)
    local st = stream_state(pinfo)
    local known = remember(pinfo, "wsknown/" .. place(tvb, 0), function()
        if st.ws_smq then return true end
        if looks_like_smq(tvb) then
            local ptype = tvb(0, 1):uint()
            if ptype == TYPE.INIT or ptype == TYPE.CONNECT then st.ws_smq = true end
            return true
        end
        return nil
    end)
    if not known then return false end
    dissect_ws(tvb, pinfo, tree)
    return true
end

smq:register_heuristic("tcp", heur_tcp)
smq:register_heuristic("ws", heur_ws)

local tcp_table = DissectorTable.get("tcp.port")
tcp_table:add_for_decode_as(smq)
if SMQ_PORT ~= 0 then
    tcp_table:add(SMQ_PORT, smq)
end
