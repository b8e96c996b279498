# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_smqctl_global_optspecs
    string join \n trace-packets v/verbose color= profile= h/help V/version
end

function __fish_smqctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_smqctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_smqctl_using_subcommand
    set -l cmd (__fish_smqctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c smqctl -n "__fish_smqctl_needs_command" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_needs_command" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_needs_command" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_needs_command" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_needs_command" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "sub" -d 'Subscribe to topics (or `self`) and print what arrives'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "pub" -d 'Publish JSON, text or binary to a topic, to `self` or to a client\'s ETID'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "rpc" -d 'Call a broker or peer handler: named request/response or correlated $RpcReq'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "serve" -d 'Answer requests (static, templated, echo or from a command), like `nats reply`'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "broker" -d 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "demo" -d 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "trace" -d 'Show what a broker does: publishes, drops, denials, connects, closes (live)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "analyze" -d 'Find what is wrong in an SMQ app: rules over a broker\'s trace (live or a file)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "tui" -d 'Watch broker trace events live: table, detail, filters, stats, export'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "record" -d 'Record what a broker routes into a .smqrec file (full payloads), for replay'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "replay" -d 'Replay a recording on a test broker: same topics, UIDs and spacing (--check compares)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "shell" -d 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "bench" -d 'Measure a broker: message throughput and latency, cost of idle connections'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "check" -d 'Is this broker healthy? Connect and round-trip times, handlers, tracer; nagios and Prometheus output; --probe for a conformance report'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "simulate" -d 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "hook" -d 'Write Lua for other tools: the Mako/BAS trace hook, the Wireshark dissector'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "profile" -d 'Manage connection profiles (config.toml): list, show, add, remove'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "man" -d 'Write man pages (smqctl.1 and one per subcommand)'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l subtopic -d 'Only show messages with this sub-topic (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l resolve-subtopic -d 'Sub-topic names to show by name without filtering on them (repeatable); SMQ has no reverse lookup, so a client only knows names it registered' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l datatype -d 'How to read payloads: auto (JSON if it parses, text if UTF-8, else binary)' -r -f -a "auto\t'JSON if it parses, text if UTF-8, else binary'
json\t''
text\t''
binary\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s F -l format -d 'Output format (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s C -l count -d 'Exit after this many messages' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s W -l timeout -d 'Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l observe -d 'Also print subscriber-count changes of the topics'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s N -l no-newline -d 'With --format raw: no newline after each payload'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l no-reconnect -d 'Exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l to-etid -d 'Send straight to this client ETID (or any numeric TID) instead of a topic' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l subtopic -d 'Sub-topic name to send with the message (e.g. a message type)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s f -l file -d 'Read the payload from a file' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s C -l count -d 'Send the message this many times' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l interval -d 'Wait this long between messages' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l json -d 'Payload must be valid JSON (checked before connecting)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l text -d 'Payload is text (the default)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l binary -d 'Payload is sent byte for byte (for files and stdin)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l hex -d 'Payload is written in hex ("01 02 ff" or "0102ff")'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l stdin -d 'Read the whole of stdin as one payload'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l stdin-lines -d 'Send one message per line of stdin'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l call -d 'Correlated RPC: call this function on $RpcReq and await its $RpcResp' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l args -d 'Arguments of --call as one JSON array (instead of ARGS)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l to -d 'Send to this client ETID (number) or topic (name) instead of the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l resp -d 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l rpc-req -d 'Request sub-topic for --call' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l rpc-resp -d 'Reply sub-topic for --call' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l id-field -d 'Put a unique ID into this field of the request JSON and match replies by it' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s W -l timeout -d 'How long to wait for a reply' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l responses -d 'Gather this many replies (e.g. from several peers) before exiting' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l collect -d 'Gather replies for this long, then exit (discovery)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s C -l count -d 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s c -l concurrency -d 'Load mode: calls in flight at once' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l rate -d 'Load mode: at most this many calls per second' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l html -d 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l assert -d 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l args-text -d 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand rpc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l reply -d 'Answer with this payload (a template)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l exec -d 'Answer with the stdout of this shell command (request on its stdin)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l rpc-exec -d 'Answer $RpcReq calls with this command ({name,args} on stdin, result JSON on stdout)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l rpc-req -d 'Request sub-topic for --rpc-exec' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l rpc-resp -d 'Reply sub-topic for --rpc-exec' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l resp -d 'Reply sub-topic (default: REQUEST with Req -> Resp)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l topic -d 'Listen on this topic instead of `self`' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l delay -d 'Wait this long before answering' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l exec-timeout -d 'Kill --exec/--rpc-exec commands that run longer than this' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -s C -l count -d 'Exit after answering this many requests' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -s F -l format -d 'How requests are printed (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l echo -d 'Answer with the request payload itself'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l no-reconnect -d 'Exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l listen -d 'Address to listen on (loopback unless told otherwise; port 0 picks one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l tls-cert -d 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l tls-key -d 'TLS private key (PEM) for --tls-cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l tls-client-ca -d 'Require client certificates signed by a CA in this PEM file (mutual TLS)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l auth -d 'Accept only clients listed in FILE (`uid-or-user:secret` per line)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l handlers -d 'Answer requests at the broker\'s ETID from this TOML file ([[request]], [[rpc]], [[event]] rules; see the README)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l deny-topic -d 'Refuse Subscribe/Create of this topic (exact name, or a prefix ending in *); for testing how clients handle denial (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l credentials -d 'Accept only clients presenting this shared secret as credentials' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l connect-timeout -d 'Time a client has to send its Connect after the broker\'s Init (then Connack 2 and close); longer for slow or lossy links, where TCP resends can take seconds' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l trace-allow -d 'Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or addresses/CIDR ranges, comma-separated (loopback stays allowed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l rndtid -d 'Give the broker\'s own client a random ETID instead of 1 (smq.create{rndtid=true})'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -s n -l devices -d 'Charger devices in the simulated fleet' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l listen -d 'Address of the embedded broker (port 0 picks a free one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l every -d 'Time between two operator actions (e.g. 700ms, 2s)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -s d -l duration -d 'With --no-tui: stop after this long (default: until Ctrl-C)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -s F -l format -d 'With --no-tui: pretty lines or the trace schema\'s JSON (default: pretty on a terminal)' -r -f -a "pretty\t'One readable line per event (colour on a terminal)'
json\t'The schema\'s JSON, one event per line'"
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l no-tui -d 'Print trace lines instead of opening the TUI (the default when not on a terminal)'
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l preview -d 'Payload bytes kept in each event\'s preview (at most 32768)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l attach-timeout -d 'How long to wait for the broker\'s tracer to answer before falling back' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l fallback-topic -d 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s f -l file -d 'Read the events from this NDJSON file (`trace --format json` output, a TUI export) instead of a broker; the same filters, --count and --format apply' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l kind -d 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l exclude -d 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l grep -d 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l topic -d 'Only events whose topic matches this pattern (`*` wildcard; repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s C -l count -d 'Exit after this many events (snapshots and notices do not count)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s W -l timeout -d 'Stop after this long; exit 5 if --count events (without --count: any event) did not arrive' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s F -l format -d 'Output format (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'One readable line per event (colour on a terminal)'
json\t'The schema\'s JSON, one event per line'"
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l drops -d 'Only drops (same as --kind drop)'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l expect-none -d 'Success is no event: exit 0 when none matched within --timeout, 1 at the first that does (CI: `--drops -W 10s --expect-none`); implies --no-fallback'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l no-fallback -d 'When no tracer answers: exit 4 instead of falling back'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l findings -d 'Run the rules of `smqctl analyze` over every event and print each finding after the event that made it (json: a {"type":"finding"} object; file readers skip those lines, so the output still replays)'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l no-reconnect -d 'Exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l preview -d 'Payload bytes kept in each event\'s preview (at most 32768)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l attach-timeout -d 'How long to wait for the broker\'s tracer to answer before falling back' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s f -l file -d 'Analyze this NDJSON file (`trace --format json` output, a TUI export) instead of a live broker' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l explain -d 'Print a rule\'s documentation (what, why it breaks apps, fix, example) and exit' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s F -l format -d 'Output format (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Findings grouped by severity with their evidence, for people'
json\t'One JSON object per finding, then a {"type":"summary"} line'"
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l fail-on -d 'Exit 1 when a finding at or above this severity was made [default: error]' -r -f -a "info\t''
warning\t''
error\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l allow -d 'Turn a rule off (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l deny -d 'Raise a rule\'s findings to error (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l assert -d 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l reply-timeout -d 'unanswered-request: how long a request may wait for its reply [default: 5s]' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l ready -d 'The ready message\'s sub-topic [default: any sub-topic ending in Ready]' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l large -d 'large-payload: payloads over this many bytes [default: 16384]' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l storm -d 'reconnect-storm: connects by one UID per minute above this [default: 10]' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l dynamic-topics -d 'dynamic-topics: topics created by one client and used once, above this [default: 20]' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s d -l duration -d 'Live: stop after this long and print the summary' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l fallback-topic -d 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l rules -d 'List the rules (name, severity, what each finds) and exit'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l no-reconnect -d 'Live: exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -s f -l file -d 'Replay trace events from an NDJSON file (one event per line) instead of a broker' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l replay-rate -d 'With --file: events per second (default: as fast as the TUI takes them)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l buffer -d 'Events kept for scrolling, detail and export (totals are exact regardless)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l spill -d 'Append the events that leave the --buffer ring to this NDJSON file; scrolling up and search page back into it' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l preview -d 'Payload bytes kept in each event\'s preview (at most 32768)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l attach-timeout -d 'How long to wait for the broker\'s tracer to answer before falling back' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l fallback-topic -d 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l kind -d 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l exclude -d 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l grep -d 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l topic -d 'Old name of --fallback-topic (kept so scripts still work)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l stats-file -d 'Write the loop\'s own timings as JSON to this file on exit (performance tests)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l follow -d 'With --file: keep reading as the file grows, like `tail -f`'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l drops -d 'Only drops (same as --kind drop)'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand tui" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s o -l output -d 'The recording to write (NDJSON); with --max-size its later parts are NAME.2.EXT, NAME.3.EXT...' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l from-sub -d 'No tracer: record what a subscriber of these topics receives (comma-separated or repeated; `self` for direct messages, always included)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l topic -d 'Only messages whose topic matches this pattern (`*` wildcard; repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l kind -d 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l exclude -d 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l grep -d 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l max-payload -d 'Payload bytes kept per message (at most 65520); longer payloads are cut and marked truncated' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l max-size -d 'Start a new file when this one would grow past this size (e.g. 512K, 100M, 2G)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s C -l count -d 'Stop after this many messages' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s d -l duration -d 'Stop after this long' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l attach-timeout -d 'How long to wait for the broker\'s tracer to answer' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s F -l format -d 'Summary format (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l drops -d 'Only drops (same as --kind drop)'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l no-reconnect -d 'Exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l speed -d 'N times the original speed (10: ten times faster, 0.5: half), or `max` (no waiting)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l only -d 'Only messages this UID sent (repeatable); only these clients connect' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l from -d 'Start at this offset from the recording\'s first message (90s, 2h) or at an RFC 3339 time' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l to -d 'End at this offset from the recording\'s first message, or at an RFC 3339 time' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l attach-timeout -d 'How long to wait for the test broker\'s tracer to answer' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -s F -l format -d 'Summary format (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l include-server -d 'Replay what the broker itself sent too (from a client named smqctl-replay-server)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l map-payload-etids -d 'Map recorded ETIDs inside JSON payloads too (members named etid, *etid*, tid, ptid)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l send-truncated -d 'Send payloads the recording has cut, cut (default: skip them, counted)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l check -d 'Compare what the test broker routes and drops, per destination, with the recording; exit 1 when they differ'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l script -d 'Run the commands in FILE (`-` for stdin) instead of prompting' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -s F -l format -d 'How messages print (default: pretty at a prompt or terminal, json otherwise)' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l no-reconnect -d 'End the session (exit 6) when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand shell" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -s h -l help -d 'Print help'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -f -a "pubsub" -d 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -f -a "rpc" -d 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -f -a "connections" -d 'Open many idle connections and report the broker\'s memory per connection'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and not __fish_seen_subcommand_from pubsub rpc connections help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l pubs -d 'Number of publishing connections' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l subs -d 'Number of subscribing connections' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s C -l count -d 'Messages per publisher' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s d -l duration -d 'Publish for this long instead of --count messages' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l rate -d 'At most this many messages per second per publisher (latency under a given load; without it publishers go flat out)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l size -d 'Payload size in bytes' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l topic -d 'Topic to use (default: a fresh random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l idle-timeout -d 'Give up waiting for missing messages after this long without one' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l html -d 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l assert -d 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l embedded -d 'Start a broker inside this process on 127.0.0.1:0 and use it (the --url scheme still picks the transport: ws:// or http://)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l call -d 'Correlated RPC: call this function on $RpcReq and await its $RpcResp' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l args -d 'Arguments of --call as one JSON array (instead of ARGS)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l to -d 'Send to this client ETID (number) or topic (name) instead of the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l resp -d 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l rpc-req -d 'Request sub-topic for --call' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l rpc-resp -d 'Reply sub-topic for --call' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l id-field -d 'Put a unique ID into this field of the request JSON and match replies by it' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s W -l timeout -d 'How long to wait for a reply' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l responses -d 'Gather this many replies (e.g. from several peers) before exiting' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l collect -d 'Gather replies for this long, then exit (discovery)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s C -l count -d 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s c -l concurrency -d 'Load mode: calls in flight at once' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l rate -d 'Load mode: at most this many calls per second' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l html -d 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l assert -d 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l args-text -d 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from rpc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l connections -d 'Connections to open (`--count` and `-n` are old spellings, kept hidden)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l parallel -d 'Connections opened at the same time' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l broker-pid -d 'PID of the broker process, to read its memory (Linux)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l hold -d 'Keep the connections open this long after the measurement' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from connections" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "pubsub" -d 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "rpc" -d 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "connections" -d 'Open many idle connections and report the broker\'s memory per connection'
complete -c smqctl -n "__fish_smqctl_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l rpc -d 'Call this correlated RPC ($RpcReq) with ARGS (JSON values); it must answer' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l request -d 'Send this named request (REQUEST [PAYLOAD]) to the broker; it must answer on REQUEST with Req -> Resp' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l expect -d 'With --request: the reply must have VALUE (JSON, else text) at PATH (rows.0.site or $.rows[0].site); repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l subscribers -d 'TOPIC must have at least N subscribers (from the tracer\'s snapshot, else Observe); repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l warn -d 'WARNING above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l critical -d 'CRITICAL above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -s W -l timeout -d 'How long each step may wait (an echo, a reply, the tracer)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned lines for people'
json\t'One JSON object'
nagios\t'One nagios plugin line with perfdata; exit 0/1/2/3'
prometheus\t'Prometheus text exposition of the figures'"
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l probe -d 'A conformance report of the broker instead of a health check'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l tracer -d 'A trace source (the embedded broker, or Mako with the hook) must answer an attach request'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s n -l devices -d 'Devices in the whole fleet (all shards together)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s s -l scenario -d 'Built-in scenario (charger, smib, player) or a scenario TOML file' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l print-scenario -d 'Print a built-in scenario\'s TOML (a starting point for your own) and exit' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l print-handlers -d 'Print the broker handler file a built-in scenario expects and exit' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l ramp -d 'Devices started per second ("500/s" or "500"); 0 starts all at once' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s d -l duration -d 'Stop after this long (ramp included); default: until Ctrl-C' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l stagger -d 'First periodic message after a random delay up to this (default: one interval); 0 = lockstep' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l interval -d 'Override the interval of every periodic message' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l churn -d 'Share of online devices that drop and reconnect per minute ("0.1" or "10%")' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l kill-after -d 'Drop each device\'s connection after it has been online this long (±10 %); it reconnects with backoff' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l shard -d 'Simulate only shard I of N (0-based): devices [I*N_dev/N, (I+1)*N_dev/N)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l report -d 'Write the full report (summary, latency histograms, every device) as JSON' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l html -d 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s F -l format -d 'Summary and progress format on stdout (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l stats-every -d 'Progress line every this long when stderr is not a terminal (and --format json stats lines)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l server-etid -d 'ETID of the broker\'s own client, where requests and the trace attach go (brokers made with rndtid have a random one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l bind -d 'Spread the devices\' connections over these local source addresses (comma-separated), for fleets beyond one address\'s ephemeral ports' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l assert -d 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l metrics-listen -d 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l credentials-cmd -d 'Compute credentials with this shell command after the broker\'s Init, like an RTL client\'s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://); the broker\'s name and the certificate\'s dates are still checked' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l pin-cert -d 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l verify -d 'Subscribe to the scenario\'s verify topics and count lost/duplicated reports per device'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l no-reconnect -d 'A device whose connection ends gives up instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -f -a "merge" -d 'Merge the --report files of several shards into one summary'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and not __fish_seen_subcommand_from merge help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -s F -l format -d 'Output (default: pretty on a terminal, json otherwise)' -r -f -a "pretty\t'Aligned text for people'
json\t'One JSON object'"
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -l report -d 'Also write the merged report here' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -l html -d 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from help" -f -a "merge" -d 'Merge the --report files of several shards into one summary'
complete -c smqctl -n "__fish_smqctl_using_subcommand simulate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -s h -l help -d 'Print help'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -f -a "lua" -d 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -f -a "wireshark" -d 'Write the SMQ dissector for Wireshark and tshark (Lua)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and not __fish_seen_subcommand_from lua wireshark help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -s o -l output -d 'Write to this file instead of stdout' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from lua" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -s o -l output -d 'Write to this file instead of stdout' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -l port -d 'Also decode this TCP port as SMQ (raw or WebSocket), e.g. a broker on 80' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from wireshark" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "lua" -d 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "wireshark" -d 'Write the SMQ dissector for Wireshark and tshark (Lua)'
complete -c smqctl -n "__fish_smqctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -f -a "list" -d 'List the profiles: name and URL'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -f -a "show" -d 'Show one profile\'s settings (credentials as their source only)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -f -a "add" -d 'Add a profile (or replace one with --force)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -f -a "remove" -d 'Remove a profile'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and not __fish_seen_subcommand_from list show add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l url -d 'Broker URL' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l uid -d 'UID template: {{user}}, {{host}}, {{pid}} and {{random}} are filled in' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l info -d 'Info text sent in Connect' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l credentials-env -d 'Take the credentials from this environment variable when connecting' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l credentials-cmd -d 'Compute the credentials with this shell command (as --credentials-cmd)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l cacert -d 'CA certificates (PEM) to trust' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l cert -d 'Client certificate (PEM); needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l key -d 'Private key of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l format -d 'Default output format of sub, rpc, serve and shell' -r -f -a "pretty\t'Time, topic, sub-topic, sender and the payload, for people'
json\t'One JSON object per line (for jq)'
raw\t'The payload bytes only'
hex\t'A hex dump of the payload'"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l insecure -d 'Do not verify the broker\'s certificate'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l force -d 'Replace a profile of the same name'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the profiles: name and URL'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one profile\'s settings (credentials as their source only)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a profile (or replace one with --force)'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a profile'
complete -c smqctl -n "__fish_smqctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l dir -d 'Directory to write every page into; without it, smqctl.1 goes to stdout' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l profile -d 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "sub" -d 'Subscribe to topics (or `self`) and print what arrives'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "pub" -d 'Publish JSON, text or binary to a topic, to `self` or to a client\'s ETID'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "rpc" -d 'Call a broker or peer handler: named request/response or correlated $RpcReq'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "serve" -d 'Answer requests (static, templated, echo or from a command), like `nats reply`'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "broker" -d 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "demo" -d 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "trace" -d 'Show what a broker does: publishes, drops, denials, connects, closes (live)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "analyze" -d 'Find what is wrong in an SMQ app: rules over a broker\'s trace (live or a file)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "tui" -d 'Watch broker trace events live: table, detail, filters, stats, export'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "record" -d 'Record what a broker routes into a .smqrec file (full payloads), for replay'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "replay" -d 'Replay a recording on a test broker: same topics, UIDs and spacing (--check compares)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "shell" -d 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "bench" -d 'Measure a broker: message throughput and latency, cost of idle connections'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "check" -d 'Is this broker healthy? Connect and round-trip times, handlers, tracer; nagios and Prometheus output; --probe for a conformance report'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "simulate" -d 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "hook" -d 'Write Lua for other tools: the Mako/BAS trace hook, the Wireshark dissector'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "profile" -d 'Manage connection profiles (config.toml): list, show, add, remove'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "man" -d 'Write man pages (smqctl.1 and one per subcommand)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub rpc serve broker demo trace analyze tui record replay shell bench check simulate hook profile completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "pubsub" -d 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "rpc" -d 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "connections" -d 'Open many idle connections and report the broker\'s memory per connection'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from simulate" -f -a "merge" -d 'Merge the --report files of several shards into one summary'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "lua" -d 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "wireshark" -d 'Write the SMQ dissector for Wireshark and tshark (Lua)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List the profiles: name and URL'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show one profile\'s settings (credentials as their source only)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "add" -d 'Add a profile (or replace one with --force)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "remove" -d 'Remove a profile'
