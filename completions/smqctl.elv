
use builtin;
use str;

set edit:completion:arg-completer[smqctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'smqctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'smqctl'= {
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sub 'Subscribe to topics (or `self`) and print what arrives'
            cand pub 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID'
            cand rpc 'Call a broker or peer handler: named request/response or correlated $RpcReq'
            cand serve 'Answer requests (static, templated, echo or from a command), like `nats reply`'
            cand broker 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
            cand demo 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI'
            cand trace 'Show what a broker does: publishes, drops, denials, connects, closes (live)'
            cand tui 'Watch broker trace events live: table, detail, filters, stats, export'
            cand shell 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script'
            cand bench 'Measure a broker: message throughput and latency, cost of idle connections'
            cand simulate 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)'
            cand hook 'Write the broker-side trace hook (Lua, for Mako Server / BAS apps)'
            cand profile 'Manage connection profiles (config.toml): list, show, add, remove'
            cand completions 'Print a shell completion script'
            cand man 'Write man pages (smqctl.1 and one per subcommand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;sub'= {
            cand --subtopic 'Only show messages with this sub-topic (repeatable)'
            cand --resolve-subtopic 'Sub-topic names to show by name without filtering on them (repeatable); SMQ has no reverse lookup, so a client only knows names it registered'
            cand --datatype 'How to read payloads: auto (JSON if it parses, text if UTF-8, else binary)'
            cand -F 'Output format (default: pretty on a terminal, json otherwise)'
            cand --format 'Output format (default: pretty on a terminal, json otherwise)'
            cand -C 'Exit after this many messages'
            cand --count 'Exit after this many messages'
            cand -W 'Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time'
            cand --timeout 'Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --observe 'Also print subscriber-count changes of the topics'
            cand -N 'With --format raw: no newline after each payload'
            cand --no-newline 'With --format raw: no newline after each payload'
            cand --no-reconnect 'Exit when the connection drops instead of reconnecting'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;pub'= {
            cand --to-etid 'Send straight to this client ETID (or any numeric TID) instead of a topic'
            cand --subtopic 'Sub-topic name to send with the message (e.g. a message type)'
            cand -f 'Read the payload from a file'
            cand --file 'Read the payload from a file'
            cand -C 'Send the message this many times'
            cand --count 'Send the message this many times'
            cand --interval 'Wait this long between messages'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --json 'Payload must be valid JSON (checked before connecting)'
            cand --text 'Payload is text (the default)'
            cand --binary 'Payload is sent byte for byte (for files and stdin)'
            cand --hex 'Payload is written in hex ("01 02 ff" or "0102ff")'
            cand --stdin 'Read the whole of stdin as one payload'
            cand --stdin-lines 'Send one message per line of stdin'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;rpc'= {
            cand --call 'Correlated RPC: call this function on $RpcReq and await its $RpcResp'
            cand --args 'Arguments of --call as one JSON array (instead of ARGS)'
            cand --server-etid 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)'
            cand --to 'Send to this client ETID (number) or topic (name) instead of the broker'
            cand --resp 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)'
            cand --rpc-req 'Request sub-topic for --call'
            cand --rpc-resp 'Reply sub-topic for --call'
            cand --id-field 'Put a unique ID into this field of the request JSON and match replies by it'
            cand -W 'How long to wait for a reply'
            cand --timeout 'How long to wait for a reply'
            cand --responses 'Gather this many replies (e.g. from several peers) before exiting'
            cand --collect 'Gather replies for this long, then exit (discovery)'
            cand -C 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)'
            cand --count 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)'
            cand -c 'Load mode: calls in flight at once'
            cand --concurrency 'Load mode: calls in flight at once'
            cand --rate 'Load mode: at most this many calls per second'
            cand -F 'Output (default: pretty on a terminal, json otherwise)'
            cand --format 'Output (default: pretty on a terminal, json otherwise)'
            cand --html 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --args-text 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;serve'= {
            cand --reply 'Answer with this payload (a template)'
            cand --exec 'Answer with the stdout of this shell command (request on its stdin)'
            cand --rpc-exec 'Answer $RpcReq calls with this command ({name,args} on stdin, result JSON on stdout)'
            cand --rpc-req 'Request sub-topic for --rpc-exec'
            cand --rpc-resp 'Reply sub-topic for --rpc-exec'
            cand --resp 'Reply sub-topic (default: REQUEST with Req -> Resp)'
            cand --topic 'Listen on this topic instead of `self`'
            cand --delay 'Wait this long before answering'
            cand --exec-timeout 'Kill --exec/--rpc-exec commands that run longer than this'
            cand -C 'Exit after answering this many requests'
            cand --count 'Exit after answering this many requests'
            cand -F 'How requests are printed (default: pretty on a terminal, json otherwise)'
            cand --format 'How requests are printed (default: pretty on a terminal, json otherwise)'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --echo 'Answer with the request payload itself'
            cand --no-reconnect 'Exit when the connection drops instead of reconnecting'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;broker'= {
            cand --listen 'Address to listen on (loopback unless told otherwise; port 0 picks one)'
            cand --tls-cert 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://'
            cand --tls-key 'TLS private key (PEM) for --tls-cert'
            cand --tls-client-ca 'Require client certificates signed by a CA in this PEM file (mutual TLS)'
            cand --auth 'Accept only clients listed in FILE (`uid-or-user:secret` per line)'
            cand --handlers 'Answer requests at the broker''s ETID from this TOML file ([[request]], [[rpc]], [[event]] rules; see the README)'
            cand --deny-topic 'Refuse Subscribe/Create of this topic (exact name, or a prefix ending in *); for testing how clients handle denial (repeatable)'
            cand --credentials 'Accept only clients presenting this shared secret as credentials'
            cand --trace-allow 'Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or addresses/CIDR ranges, comma-separated (loopback stays allowed)'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --rndtid 'Give the broker''s own client a random ETID instead of 1 (smq.create{rndtid=true})'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;demo'= {
            cand -n 'Charger devices in the simulated fleet'
            cand --devices 'Charger devices in the simulated fleet'
            cand --listen 'Address of the embedded broker (port 0 picks a free one)'
            cand --every 'Time between two operator actions (e.g. 700ms, 2s)'
            cand -d 'With --no-tui: stop after this long (default: until Ctrl-C)'
            cand --duration 'With --no-tui: stop after this long (default: until Ctrl-C)'
            cand -F 'With --no-tui: pretty lines or the trace schema''s JSON (default: pretty on a terminal)'
            cand --format 'With --no-tui: pretty lines or the trace schema''s JSON (default: pretty on a terminal)'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --no-tui 'Print trace lines instead of opening the TUI (the default when not on a terminal)'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;trace'= {
            cand --server-etid 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)'
            cand --preview 'Payload bytes kept in each event''s preview (at most 32768)'
            cand --attach-timeout 'How long to wait for the broker''s tracer to answer before falling back'
            cand --fallback-topic 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)'
            cand -f 'Read the events from this NDJSON file (`trace --format json` output, a TUI export) instead of a broker; the same filters, --count and --format apply'
            cand --file 'Read the events from this NDJSON file (`trace --format json` output, a TUI export) instead of a broker; the same filters, --count and --format apply'
            cand --kind 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error'
            cand --exclude 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)'
            cand --grep 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)'
            cand --topic 'Only events whose topic matches this pattern (`*` wildcard; repeatable)'
            cand -C 'Exit after this many events (snapshots and notices do not count)'
            cand --count 'Exit after this many events (snapshots and notices do not count)'
            cand -W 'Stop after this long; exit 5 if --count events (without --count: any event) did not arrive'
            cand --timeout 'Stop after this long; exit 5 if --count events (without --count: any event) did not arrive'
            cand -F 'Output format (default: pretty on a terminal, json otherwise)'
            cand --format 'Output format (default: pretty on a terminal, json otherwise)'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --drops 'Only drops (same as --kind drop)'
            cand --expect-none 'Success is no event: exit 0 when none matched within --timeout, 1 at the first that does (CI: `--drops -W 10s --expect-none`); implies --no-fallback'
            cand --no-fallback 'When no tracer answers: exit 4 instead of falling back'
            cand --no-reconnect 'Exit when the connection drops instead of reconnecting'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;tui'= {
            cand -f 'Replay trace events from an NDJSON file (one event per line) instead of a broker'
            cand --file 'Replay trace events from an NDJSON file (one event per line) instead of a broker'
            cand --replay-rate 'With --file: events per second (default: as fast as the TUI takes them)'
            cand --buffer 'Events kept for scrolling, detail and export (totals are exact regardless)'
            cand --server-etid 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)'
            cand --preview 'Payload bytes kept in each event''s preview (at most 32768)'
            cand --attach-timeout 'How long to wait for the broker''s tracer to answer before falling back'
            cand --fallback-topic 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)'
            cand --kind 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error'
            cand --exclude 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)'
            cand --grep 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)'
            cand --topic 'Old name of --fallback-topic (kept so scripts still work)'
            cand --stats-file 'Write the loop''s own timings as JSON to this file on exit (performance tests)'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --follow 'With --file: keep reading as the file grows, like `tail -f`'
            cand --drops 'Only drops (same as --kind drop)'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;shell'= {
            cand --script 'Run the commands in FILE (`-` for stdin) instead of prompting'
            cand -F 'How messages print (default: pretty at a prompt or terminal, json otherwise)'
            cand --format 'How messages print (default: pretty at a prompt or terminal, json otherwise)'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --no-reconnect 'End the session (exit 6) when the connection drops instead of reconnecting'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;bench'= {
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand pubsub 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
            cand rpc 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
            cand connections 'Open many idle connections and report the broker''s memory per connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;bench;pubsub'= {
            cand --pubs 'Number of publishing connections'
            cand --subs 'Number of subscribing connections'
            cand -C 'Messages per publisher'
            cand --count 'Messages per publisher'
            cand -d 'Publish for this long instead of --count messages'
            cand --duration 'Publish for this long instead of --count messages'
            cand --rate 'At most this many messages per second per publisher (latency under a given load; without it publishers go flat out)'
            cand --size 'Payload size in bytes'
            cand --topic 'Topic to use (default: a fresh random one)'
            cand --idle-timeout 'Give up waiting for missing messages after this long without one'
            cand -F 'Output (default: pretty on a terminal, json otherwise)'
            cand --format 'Output (default: pretty on a terminal, json otherwise)'
            cand --html 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --embedded 'Start a broker inside this process on 127.0.0.1:0 and use it (the --url scheme still picks the transport: ws:// or http://)'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;bench;rpc'= {
            cand --call 'Correlated RPC: call this function on $RpcReq and await its $RpcResp'
            cand --args 'Arguments of --call as one JSON array (instead of ARGS)'
            cand --server-etid 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)'
            cand --to 'Send to this client ETID (number) or topic (name) instead of the broker'
            cand --resp 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)'
            cand --rpc-req 'Request sub-topic for --call'
            cand --rpc-resp 'Reply sub-topic for --call'
            cand --id-field 'Put a unique ID into this field of the request JSON and match replies by it'
            cand -W 'How long to wait for a reply'
            cand --timeout 'How long to wait for a reply'
            cand --responses 'Gather this many replies (e.g. from several peers) before exiting'
            cand --collect 'Gather replies for this long, then exit (discovery)'
            cand -C 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)'
            cand --count 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)'
            cand -c 'Load mode: calls in flight at once'
            cand --concurrency 'Load mode: calls in flight at once'
            cand --rate 'Load mode: at most this many calls per second'
            cand -F 'Output (default: pretty on a terminal, json otherwise)'
            cand --format 'Output (default: pretty on a terminal, json otherwise)'
            cand --html 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --args-text 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;bench;connections'= {
            cand --connections 'Connections to open (`--count` and `-n` are old spellings, kept hidden)'
            cand --parallel 'Connections opened at the same time'
            cand --broker-pid 'PID of the broker process, to read its memory (Linux)'
            cand --hold 'Keep the connections open this long after the measurement'
            cand -F 'Output (default: pretty on a terminal, json otherwise)'
            cand --format 'Output (default: pretty on a terminal, json otherwise)'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;bench;help'= {
            cand pubsub 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
            cand rpc 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
            cand connections 'Open many idle connections and report the broker''s memory per connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;bench;help;pubsub'= {
        }
        &'smqctl;bench;help;rpc'= {
        }
        &'smqctl;bench;help;connections'= {
        }
        &'smqctl;bench;help;help'= {
        }
        &'smqctl;simulate'= {
            cand -n 'Devices in the whole fleet (all shards together)'
            cand --devices 'Devices in the whole fleet (all shards together)'
            cand -s 'Built-in scenario (charger, smib, player) or a scenario TOML file'
            cand --scenario 'Built-in scenario (charger, smib, player) or a scenario TOML file'
            cand --print-scenario 'Print a built-in scenario''s TOML (a starting point for your own) and exit'
            cand --print-handlers 'Print the broker handler file a built-in scenario expects and exit'
            cand --ramp 'Devices started per second ("500/s" or "500"); 0 starts all at once'
            cand -d 'Stop after this long (ramp included); default: until Ctrl-C'
            cand --duration 'Stop after this long (ramp included); default: until Ctrl-C'
            cand --stagger 'First periodic message after a random delay up to this (default: one interval); 0 = lockstep'
            cand --interval 'Override the interval of every periodic message'
            cand --churn 'Share of online devices that drop and reconnect per minute ("0.1" or "10%")'
            cand --kill-after 'Drop each device''s connection after it has been online this long (±10 %); it reconnects with backoff'
            cand --shard 'Simulate only shard I of N (0-based): devices [I*N_dev/N, (I+1)*N_dev/N)'
            cand --report 'Write the full report (summary, latency histograms, every device) as JSON'
            cand --html 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE'
            cand -F 'Summary and progress format on stdout (default: pretty on a terminal, json otherwise)'
            cand --format 'Summary and progress format on stdout (default: pretty on a terminal, json otherwise)'
            cand --stats-every 'Progress line every this long when stderr is not a terminal (and --format json stats lines)'
            cand --server-etid 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)'
            cand --bind 'Spread the devices'' connections over these local source addresses (comma-separated), for fleets beyond one address''s ephemeral ports'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --credentials-cmd 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked'
            cand --pin-cert 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --verify 'Subscribe to the scenario''s verify topics and count lost/duplicated reports per device'
            cand --no-reconnect 'A device whose connection ends gives up instead of reconnecting'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand merge 'Merge the --report files of several shards into one summary'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;simulate;merge'= {
            cand -F 'Output (default: pretty on a terminal, json otherwise)'
            cand --format 'Output (default: pretty on a terminal, json otherwise)'
            cand --report 'Also write the merged report here'
            cand --html 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;simulate;help'= {
            cand merge 'Merge the --report files of several shards into one summary'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;simulate;help;merge'= {
        }
        &'smqctl;simulate;help;help'= {
        }
        &'smqctl;hook'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand lua 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;hook;lua'= {
            cand -o 'Write to this file instead of stdout'
            cand --output 'Write to this file instead of stdout'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;hook;help'= {
            cand lua 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;hook;help;lua'= {
        }
        &'smqctl;hook;help;help'= {
        }
        &'smqctl;profile'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List the profiles: name and URL'
            cand show 'Show one profile''s settings (credentials as their source only)'
            cand add 'Add a profile (or replace one with --force)'
            cand remove 'Remove a profile'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;profile;list'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smqctl;profile;show'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smqctl;profile;add'= {
            cand --url 'Broker URL'
            cand --uid 'UID template: {{user}}, {{host}}, {{pid}} and {{random}} are filled in'
            cand --info 'Info text sent in Connect'
            cand --credentials-env 'Take the credentials from this environment variable when connecting'
            cand --credentials-cmd 'Compute the credentials with this shell command (as --credentials-cmd)'
            cand --cacert 'CA certificates (PEM) to trust'
            cand --cert 'Client certificate (PEM); needs --key'
            cand --key 'Private key of --cert'
            cand --format 'Default output format of sub, rpc, serve and shell'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --insecure 'Do not verify the broker''s certificate'
            cand --force 'Replace a profile of the same name'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;profile;remove'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'smqctl;profile;help'= {
            cand list 'List the profiles: name and URL'
            cand show 'Show one profile''s settings (credentials as their source only)'
            cand add 'Add a profile (or replace one with --force)'
            cand remove 'Remove a profile'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;profile;help;list'= {
        }
        &'smqctl;profile;help;show'= {
        }
        &'smqctl;profile;help;add'= {
        }
        &'smqctl;profile;help;remove'= {
        }
        &'smqctl;profile;help;help'= {
        }
        &'smqctl;completions'= {
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;man'= {
            cand --dir 'Directory to write every page into; without it, smqctl.1 goes to stdout'
            cand --profile 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'smqctl;help'= {
            cand sub 'Subscribe to topics (or `self`) and print what arrives'
            cand pub 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID'
            cand rpc 'Call a broker or peer handler: named request/response or correlated $RpcReq'
            cand serve 'Answer requests (static, templated, echo or from a command), like `nats reply`'
            cand broker 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
            cand demo 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI'
            cand trace 'Show what a broker does: publishes, drops, denials, connects, closes (live)'
            cand tui 'Watch broker trace events live: table, detail, filters, stats, export'
            cand shell 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script'
            cand bench 'Measure a broker: message throughput and latency, cost of idle connections'
            cand simulate 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)'
            cand hook 'Write the broker-side trace hook (Lua, for Mako Server / BAS apps)'
            cand profile 'Manage connection profiles (config.toml): list, show, add, remove'
            cand completions 'Print a shell completion script'
            cand man 'Write man pages (smqctl.1 and one per subcommand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;help;sub'= {
        }
        &'smqctl;help;pub'= {
        }
        &'smqctl;help;rpc'= {
        }
        &'smqctl;help;serve'= {
        }
        &'smqctl;help;broker'= {
        }
        &'smqctl;help;demo'= {
        }
        &'smqctl;help;trace'= {
        }
        &'smqctl;help;tui'= {
        }
        &'smqctl;help;shell'= {
        }
        &'smqctl;help;bench'= {
            cand pubsub 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
            cand rpc 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
            cand connections 'Open many idle connections and report the broker''s memory per connection'
        }
        &'smqctl;help;bench;pubsub'= {
        }
        &'smqctl;help;bench;rpc'= {
        }
        &'smqctl;help;bench;connections'= {
        }
        &'smqctl;help;simulate'= {
            cand merge 'Merge the --report files of several shards into one summary'
        }
        &'smqctl;help;simulate;merge'= {
        }
        &'smqctl;help;hook'= {
            cand lua 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
        }
        &'smqctl;help;hook;lua'= {
        }
        &'smqctl;help;profile'= {
            cand list 'List the profiles: name and URL'
            cand show 'Show one profile''s settings (credentials as their source only)'
            cand add 'Add a profile (or replace one with --force)'
            cand remove 'Remove a profile'
        }
        &'smqctl;help;profile;list'= {
        }
        &'smqctl;help;profile;show'= {
        }
        &'smqctl;help;profile;add'= {
        }
        &'smqctl;help;profile;remove'= {
        }
        &'smqctl;help;completions'= {
        }
        &'smqctl;help;man'= {
        }
        &'smqctl;help;help'= {
        }
    ]
    $completions[$command]
}
