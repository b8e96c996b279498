
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'smqctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'smqctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'smqctl' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe to topics (or `self`) and print what arrives')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID')
            [CompletionResult]::new('rpc', 'rpc', [CompletionResultType]::ParameterValue, 'Call a broker or peer handler: named request/response or correlated $RpcReq')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer requests (static, templated, echo or from a command), like `nats reply`')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the embedded SMQ broker (WebSocket and raw transport on one port)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Show what a broker does: publishes, drops, denials, connects, closes (live)')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Find what is wrong in an SMQ app: rules over a broker''s trace (live or a file)')
            [CompletionResult]::new('tui', 'tui', [CompletionResultType]::ParameterValue, 'Watch broker trace events live: table, detail, filters, stats, export')
            [CompletionResult]::new('record', 'record', [CompletionResultType]::ParameterValue, 'Record what a broker routes into a .smqrec file (full payloads), for replay')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay a recording on a test broker: same topics, UIDs and spacing (--check compares)')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure a broker: message throughput and latency, cost of idle connections')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Is this broker healthy? Connect and round-trip times, handlers, tracer; nagios and Prometheus output; --probe for a conformance report')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Write Lua for other tools: the Mako/BAS trace hook, the Wireshark dissector')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (config.toml): list, show, add, remove')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (smqctl.1 and one per subcommand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;sub' {
            [CompletionResult]::new('--subtopic', '--subtopic', [CompletionResultType]::ParameterName, 'Only show messages with this sub-topic (repeatable)')
            [CompletionResult]::new('--resolve-subtopic', '--resolve-subtopic', [CompletionResultType]::ParameterName, 'Sub-topic names to show by name without filtering on them (repeatable); SMQ has no reverse lookup, so a client only knows names it registered')
            [CompletionResult]::new('--datatype', '--datatype', [CompletionResultType]::ParameterName, 'How to read payloads: auto (JSON if it parses, text if UTF-8, else binary)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Exit after this many messages')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many messages')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--observe', '--observe', [CompletionResultType]::ParameterName, 'Also print subscriber-count changes of the topics')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'With --format raw: no newline after each payload')
            [CompletionResult]::new('--no-newline', '--no-newline', [CompletionResultType]::ParameterName, 'With --format raw: no newline after each payload')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Exit when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;pub' {
            [CompletionResult]::new('--to-etid', '--to-etid', [CompletionResultType]::ParameterName, 'Send straight to this client ETID (or any numeric TID) instead of a topic')
            [CompletionResult]::new('--subtopic', '--subtopic', [CompletionResultType]::ParameterName, 'Sub-topic name to send with the message (e.g. a message type)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the payload from a file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the payload from a file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send the message this many times')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send the message this many times')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Wait this long between messages')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Payload must be valid JSON (checked before connecting)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'Payload is text (the default)')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'Payload is sent byte for byte (for files and stdin)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Payload is written in hex ("01 02 ff" or "0102ff")')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read the whole of stdin as one payload')
            [CompletionResult]::new('--stdin-lines', '--stdin-lines', [CompletionResultType]::ParameterName, 'Send one message per line of stdin')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;rpc' {
            [CompletionResult]::new('--call', '--call', [CompletionResultType]::ParameterName, 'Correlated RPC: call this function on $RpcReq and await its $RpcResp')
            [CompletionResult]::new('--args', '--args', [CompletionResultType]::ParameterName, 'Arguments of --call as one JSON array (instead of ARGS)')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Send to this client ETID (number) or topic (name) instead of the broker')
            [CompletionResult]::new('--resp', '--resp', [CompletionResultType]::ParameterName, 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)')
            [CompletionResult]::new('--rpc-req', '--rpc-req', [CompletionResultType]::ParameterName, 'Request sub-topic for --call')
            [CompletionResult]::new('--rpc-resp', '--rpc-resp', [CompletionResultType]::ParameterName, 'Reply sub-topic for --call')
            [CompletionResult]::new('--id-field', '--id-field', [CompletionResultType]::ParameterName, 'Put a unique ID into this field of the request JSON and match replies by it')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'How long to wait for a reply')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a reply')
            [CompletionResult]::new('--responses', '--responses', [CompletionResultType]::ParameterName, 'Gather this many replies (e.g. from several peers) before exiting')
            [CompletionResult]::new('--collect', '--collect', [CompletionResultType]::ParameterName, 'Gather replies for this long, then exit (discovery)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Load mode: calls in flight at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Load mode: calls in flight at once')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Load mode: at most this many calls per second')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE')
            [CompletionResult]::new('--assert', '--assert', [CompletionResultType]::ParameterName, 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--args-text', '--args-text', [CompletionResultType]::ParameterName, 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;serve' {
            [CompletionResult]::new('--reply', '--reply', [CompletionResultType]::ParameterName, 'Answer with this payload (a template)')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Answer with the stdout of this shell command (request on its stdin)')
            [CompletionResult]::new('--rpc-exec', '--rpc-exec', [CompletionResultType]::ParameterName, 'Answer $RpcReq calls with this command ({name,args} on stdin, result JSON on stdout)')
            [CompletionResult]::new('--rpc-req', '--rpc-req', [CompletionResultType]::ParameterName, 'Request sub-topic for --rpc-exec')
            [CompletionResult]::new('--rpc-resp', '--rpc-resp', [CompletionResultType]::ParameterName, 'Reply sub-topic for --rpc-exec')
            [CompletionResult]::new('--resp', '--resp', [CompletionResultType]::ParameterName, 'Reply sub-topic (default: REQUEST with Req -> Resp)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Listen on this topic instead of `self`')
            [CompletionResult]::new('--delay', '--delay', [CompletionResultType]::ParameterName, 'Wait this long before answering')
            [CompletionResult]::new('--exec-timeout', '--exec-timeout', [CompletionResultType]::ParameterName, 'Kill --exec/--rpc-exec commands that run longer than this')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Exit after answering this many requests')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after answering this many requests')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'How requests are printed (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How requests are printed (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Answer with the request payload itself')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Exit when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;broker' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (loopback unless told otherwise; port 0 picks one)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'TLS private key (PEM) for --tls-cert')
            [CompletionResult]::new('--tls-client-ca', '--tls-client-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by a CA in this PEM file (mutual TLS)')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Accept only clients listed in FILE (`uid-or-user:secret` per line)')
            [CompletionResult]::new('--handlers', '--handlers', [CompletionResultType]::ParameterName, 'Answer requests at the broker''s ETID from this TOML file ([[request]], [[rpc]], [[event]] rules; see the README)')
            [CompletionResult]::new('--deny-topic', '--deny-topic', [CompletionResultType]::ParameterName, 'Refuse Subscribe/Create of this topic (exact name, or a prefix ending in *); for testing how clients handle denial (repeatable)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Accept only clients presenting this shared secret as credentials')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Time a client has to send its Connect after the broker''s Init (then Connack 2 and close); longer for slow or lossy links, where TCP resends can take seconds')
            [CompletionResult]::new('--trace-allow', '--trace-allow', [CompletionResultType]::ParameterName, 'Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or addresses/CIDR ranges, comma-separated (loopback stays allowed)')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--rndtid', '--rndtid', [CompletionResultType]::ParameterName, 'Give the broker''s own client a random ETID instead of 1 (smq.create{rndtid=true})')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;demo' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Charger devices in the simulated fleet')
            [CompletionResult]::new('--devices', '--devices', [CompletionResultType]::ParameterName, 'Charger devices in the simulated fleet')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address of the embedded broker (port 0 picks a free one)')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Time between two operator actions (e.g. 700ms, 2s)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'With --no-tui: stop after this long (default: until Ctrl-C)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'With --no-tui: stop after this long (default: until Ctrl-C)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'With --no-tui: pretty lines or the trace schema''s JSON (default: pretty on a terminal)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'With --no-tui: pretty lines or the trace schema''s JSON (default: pretty on a terminal)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--no-tui', '--no-tui', [CompletionResultType]::ParameterName, 'Print trace lines instead of opening the TUI (the default when not on a terminal)')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;trace' {
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--preview', '--preview', [CompletionResultType]::ParameterName, 'Payload bytes kept in each event''s preview (at most 32768)')
            [CompletionResult]::new('--attach-timeout', '--attach-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the broker''s tracer to answer before falling back')
            [CompletionResult]::new('--fallback-topic', '--fallback-topic', [CompletionResultType]::ParameterName, 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the events from this NDJSON file (`trace --format json` output, a TUI export) instead of a broker; the same filters, --count and --format apply')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the events from this NDJSON file (`trace --format json` output, a TUI export) instead of a broker; the same filters, --count and --format apply')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Only events whose topic matches this pattern (`*` wildcard; repeatable)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Exit after this many events (snapshots and notices do not count)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many events (snapshots and notices do not count)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Stop after this long; exit 5 if --count events (without --count: any event) did not arrive')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop after this long; exit 5 if --count events (without --count: any event) did not arrive')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--drops', '--drops', [CompletionResultType]::ParameterName, 'Only drops (same as --kind drop)')
            [CompletionResult]::new('--expect-none', '--expect-none', [CompletionResultType]::ParameterName, 'Success is no event: exit 0 when none matched within --timeout, 1 at the first that does (CI: `--drops -W 10s --expect-none`); implies --no-fallback')
            [CompletionResult]::new('--no-fallback', '--no-fallback', [CompletionResultType]::ParameterName, 'When no tracer answers: exit 4 instead of falling back')
            [CompletionResult]::new('--findings', '--findings', [CompletionResultType]::ParameterName, 'Run the rules of `smqctl analyze` over every event and print each finding after the event that made it (json: a {"type":"finding"} object; file readers skip those lines, so the output still replays)')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Exit when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;analyze' {
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--preview', '--preview', [CompletionResultType]::ParameterName, 'Payload bytes kept in each event''s preview (at most 32768)')
            [CompletionResult]::new('--attach-timeout', '--attach-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the broker''s tracer to answer before falling back')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Analyze this NDJSON file (`trace --format json` output, a TUI export) instead of a live broker')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Analyze this NDJSON file (`trace --format json` output, a TUI export) instead of a live broker')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Print a rule''s documentation (what, why it breaks apps, fix, example) and exit')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a finding at or above this severity was made [default: error]')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Turn a rule off (repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Raise a rule''s findings to error (repeatable)')
            [CompletionResult]::new('--assert', '--assert', [CompletionResultType]::ParameterName, 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable')
            [CompletionResult]::new('--reply-timeout', '--reply-timeout', [CompletionResultType]::ParameterName, 'unanswered-request: how long a request may wait for its reply [default: 5s]')
            [CompletionResult]::new('--ready', '--ready', [CompletionResultType]::ParameterName, 'The ready message''s sub-topic [default: any sub-topic ending in Ready]')
            [CompletionResult]::new('--large', '--large', [CompletionResultType]::ParameterName, 'large-payload: payloads over this many bytes [default: 16384]')
            [CompletionResult]::new('--storm', '--storm', [CompletionResultType]::ParameterName, 'reconnect-storm: connects by one UID per minute above this [default: 10]')
            [CompletionResult]::new('--dynamic-topics', '--dynamic-topics', [CompletionResultType]::ParameterName, 'dynamic-topics: topics created by one client and used once, above this [default: 20]')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Live: stop after this long and print the summary')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Live: stop after this long and print the summary')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--fallback-topic', '--fallback-topic', [CompletionResultType]::ParameterName, 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'List the rules (name, severity, what each finds) and exit')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Live: exit when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;tui' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Replay trace events from an NDJSON file (one event per line) instead of a broker')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Replay trace events from an NDJSON file (one event per line) instead of a broker')
            [CompletionResult]::new('--replay-rate', '--replay-rate', [CompletionResultType]::ParameterName, 'With --file: events per second (default: as fast as the TUI takes them)')
            [CompletionResult]::new('--buffer', '--buffer', [CompletionResultType]::ParameterName, 'Events kept for scrolling, detail and export (totals are exact regardless)')
            [CompletionResult]::new('--spill', '--spill', [CompletionResultType]::ParameterName, 'Append the events that leave the --buffer ring to this NDJSON file; scrolling up and search page back into it')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--preview', '--preview', [CompletionResultType]::ParameterName, 'Payload bytes kept in each event''s preview (at most 32768)')
            [CompletionResult]::new('--attach-timeout', '--attach-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the broker''s tracer to answer before falling back')
            [CompletionResult]::new('--fallback-topic', '--fallback-topic', [CompletionResultType]::ParameterName, 'When no tracer answers: subscribe to this topic and show what arrives (repeatable)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Old name of --fallback-topic (kept so scripts still work)')
            [CompletionResult]::new('--stats-file', '--stats-file', [CompletionResultType]::ParameterName, 'Write the loop''s own timings as JSON to this file on exit (performance tests)')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'With --file: keep reading as the file grows, like `tail -f`')
            [CompletionResult]::new('--drops', '--drops', [CompletionResultType]::ParameterName, 'Only drops (same as --kind drop)')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;record' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The recording to write (NDJSON); with --max-size its later parts are NAME.2.EXT, NAME.3.EXT...')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The recording to write (NDJSON); with --max-size its later parts are NAME.2.EXT, NAME.3.EXT...')
            [CompletionResult]::new('--from-sub', '--from-sub', [CompletionResultType]::ParameterName, 'No tracer: record what a subscriber of these topics receives (comma-separated or repeated; `self` for direct messages, always included)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Only messages whose topic matches this pattern (`*` wildcard; repeatable)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only these kinds (comma-separated): publish, drop, deny, connect, close, subscribe, unsubscribe, create, createsub, snapshot, notice, error')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Hide events whose topic matches this pattern (`*` wildcard; repeatable)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)')
            [CompletionResult]::new('--max-payload', '--max-payload', [CompletionResultType]::ParameterName, 'Payload bytes kept per message (at most 65520); longer payloads are cut and marked truncated')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Start a new file when this one would grow past this size (e.g. 512K, 100M, 2G)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Stop after this many messages')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many messages')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Stop after this long')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--attach-timeout', '--attach-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the broker''s tracer to answer')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Summary format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Summary format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--drops', '--drops', [CompletionResultType]::ParameterName, 'Only drops (same as --kind drop)')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Exit when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;replay' {
            [CompletionResult]::new('--speed', '--speed', [CompletionResultType]::ParameterName, 'N times the original speed (10: ten times faster, 0.5: half), or `max` (no waiting)')
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Only messages this UID sent (repeatable); only these clients connect')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start at this offset from the recording''s first message (90s, 2h) or at an RFC 3339 time')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End at this offset from the recording''s first message, or at an RFC 3339 time')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--attach-timeout', '--attach-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the test broker''s tracer to answer')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Summary format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Summary format (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--include-server', '--include-server', [CompletionResultType]::ParameterName, 'Replay what the broker itself sent too (from a client named smqctl-replay-server)')
            [CompletionResult]::new('--map-payload-etids', '--map-payload-etids', [CompletionResultType]::ParameterName, 'Map recorded ETIDs inside JSON payloads too (members named etid, *etid*, tid, ptid)')
            [CompletionResult]::new('--send-truncated', '--send-truncated', [CompletionResultType]::ParameterName, 'Send payloads the recording has cut, cut (default: skip them, counted)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Compare what the test broker routes and drops, per destination, with the recording; exit 1 when they differ')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;shell' {
            [CompletionResult]::new('--script', '--script', [CompletionResultType]::ParameterName, 'Run the commands in FILE (`-` for stdin) instead of prompting')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'How messages print (default: pretty at a prompt or terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How messages print (default: pretty at a prompt or terminal, json otherwise)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'End the session (exit 6) when the connection drops instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;bench' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles')
            [CompletionResult]::new('rpc', 'rpc', [CompletionResultType]::ParameterValue, 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency')
            [CompletionResult]::new('connections', 'connections', [CompletionResultType]::ParameterValue, 'Open many idle connections and report the broker''s memory per connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;bench;pubsub' {
            [CompletionResult]::new('--pubs', '--pubs', [CompletionResultType]::ParameterName, 'Number of publishing connections')
            [CompletionResult]::new('--subs', '--subs', [CompletionResultType]::ParameterName, 'Number of subscribing connections')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Messages per publisher')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Messages per publisher')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Publish for this long instead of --count messages')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Publish for this long instead of --count messages')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most this many messages per second per publisher (latency under a given load; without it publishers go flat out)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Payload size in bytes')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic to use (default: a fresh random one)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Give up waiting for missing messages after this long without one')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE')
            [CompletionResult]::new('--assert', '--assert', [CompletionResultType]::ParameterName, 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--embedded', '--embedded', [CompletionResultType]::ParameterName, 'Start a broker inside this process on 127.0.0.1:0 and use it (the --url scheme still picks the transport: ws:// or http://)')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;bench;rpc' {
            [CompletionResult]::new('--call', '--call', [CompletionResultType]::ParameterName, 'Correlated RPC: call this function on $RpcReq and await its $RpcResp')
            [CompletionResult]::new('--args', '--args', [CompletionResultType]::ParameterName, 'Arguments of --call as one JSON array (instead of ARGS)')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Send to this client ETID (number) or topic (name) instead of the broker')
            [CompletionResult]::new('--resp', '--resp', [CompletionResultType]::ParameterName, 'Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)')
            [CompletionResult]::new('--rpc-req', '--rpc-req', [CompletionResultType]::ParameterName, 'Request sub-topic for --call')
            [CompletionResult]::new('--rpc-resp', '--rpc-resp', [CompletionResultType]::ParameterName, 'Reply sub-topic for --call')
            [CompletionResult]::new('--id-field', '--id-field', [CompletionResultType]::ParameterName, 'Put a unique ID into this field of the request JSON and match replies by it')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'How long to wait for a reply')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a reply')
            [CompletionResult]::new('--responses', '--responses', [CompletionResultType]::ParameterName, 'Gather this many replies (e.g. from several peers) before exiting')
            [CompletionResult]::new('--collect', '--collect', [CompletionResultType]::ParameterName, 'Gather replies for this long, then exit (discovery)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Load mode: make this many calls and print a latency summary (`-n` is the old short form, kept hidden)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Load mode: calls in flight at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Load mode: calls in flight at once')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Load mode: at most this many calls per second')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE')
            [CompletionResult]::new('--assert', '--assert', [CompletionResultType]::ParameterName, 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--args-text', '--args-text', [CompletionResultType]::ParameterName, 'Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;bench;connections' {
            [CompletionResult]::new('--connections', '--connections', [CompletionResultType]::ParameterName, 'Connections to open (`--count` and `-n` are old spellings, kept hidden)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Connections opened at the same time')
            [CompletionResult]::new('--broker-pid', '--broker-pid', [CompletionResultType]::ParameterName, 'PID of the broker process, to read its memory (Linux)')
            [CompletionResult]::new('--hold', '--hold', [CompletionResultType]::ParameterName, 'Keep the connections open this long after the measurement')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;bench;help' {
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles')
            [CompletionResult]::new('rpc', 'rpc', [CompletionResultType]::ParameterValue, 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency')
            [CompletionResult]::new('connections', 'connections', [CompletionResultType]::ParameterValue, 'Open many idle connections and report the broker''s memory per connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;bench;help;pubsub' {
            break
        }
        'smqctl;bench;help;rpc' {
            break
        }
        'smqctl;bench;help;connections' {
            break
        }
        'smqctl;bench;help;help' {
            break
        }
        'smqctl;check' {
            [CompletionResult]::new('--rpc', '--rpc', [CompletionResultType]::ParameterName, 'Call this correlated RPC ($RpcReq) with ARGS (JSON values); it must answer')
            [CompletionResult]::new('--request', '--request', [CompletionResultType]::ParameterName, 'Send this named request (REQUEST [PAYLOAD]) to the broker; it must answer on REQUEST with Req -> Resp')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'With --request: the reply must have VALUE (JSON, else text) at PATH (rows.0.site or $.rows[0].site); repeatable')
            [CompletionResult]::new('--subscribers', '--subscribers', [CompletionResultType]::ParameterName, 'TOPIC must have at least N subscribers (from the tracer''s snapshot, else Observe); repeatable')
            [CompletionResult]::new('--warn', '--warn', [CompletionResultType]::ParameterName, 'WARNING above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)')
            [CompletionResult]::new('--critical', '--critical', [CompletionResultType]::ParameterName, 'CRITICAL above this: rtt=DURATION, connect=DURATION (a bare DURATION is rtt)')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'How long each step may wait (an echo, a reply, the tracer)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long each step may wait (an echo, a reply, the tracer)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'A conformance report of the broker instead of a health check')
            [CompletionResult]::new('--tracer', '--tracer', [CompletionResultType]::ParameterName, 'A trace source (the embedded broker, or Mako with the hook) must answer an attach request')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;simulate' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Devices in the whole fleet (all shards together)')
            [CompletionResult]::new('--devices', '--devices', [CompletionResultType]::ParameterName, 'Devices in the whole fleet (all shards together)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Built-in scenario (charger, smib, player) or a scenario TOML file')
            [CompletionResult]::new('--scenario', '--scenario', [CompletionResultType]::ParameterName, 'Built-in scenario (charger, smib, player) or a scenario TOML file')
            [CompletionResult]::new('--print-scenario', '--print-scenario', [CompletionResultType]::ParameterName, 'Print a built-in scenario''s TOML (a starting point for your own) and exit')
            [CompletionResult]::new('--print-handlers', '--print-handlers', [CompletionResultType]::ParameterName, 'Print the broker handler file a built-in scenario expects and exit')
            [CompletionResult]::new('--ramp', '--ramp', [CompletionResultType]::ParameterName, 'Devices started per second ("500/s" or "500"); 0 starts all at once')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Stop after this long (ramp included); default: until Ctrl-C')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (ramp included); default: until Ctrl-C')
            [CompletionResult]::new('--stagger', '--stagger', [CompletionResultType]::ParameterName, 'First periodic message after a random delay up to this (default: one interval); 0 = lockstep')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Override the interval of every periodic message')
            [CompletionResult]::new('--churn', '--churn', [CompletionResultType]::ParameterName, 'Share of online devices that drop and reconnect per minute ("0.1" or "10%")')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'Drop each device''s connection after it has been online this long (±10 %); it reconnects with backoff')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Simulate only shard I of N (0-based): devices [I*N_dev/N, (I+1)*N_dev/N)')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the full report (summary, latency histograms, every device) as JSON')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Summary and progress format on stdout (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Summary and progress format on stdout (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--stats-every', '--stats-every', [CompletionResultType]::ParameterName, 'Progress line every this long when stderr is not a terminal (and --format json stats lines)')
            [CompletionResult]::new('--server-etid', '--server-etid', [CompletionResultType]::ParameterName, 'ETID of the broker''s own client, where requests and the trace attach go (brokers made with rndtid have a random one)')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Spread the devices'' connections over these local source addresses (comma-separated), for fleets beyond one address''s ephemeral ports')
            [CompletionResult]::new('--assert', '--assert', [CompletionResultType]::ParameterName, 'Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE, NAME a dotted key of the `-F json` summary (lost, latency_ms.p99, calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve live metrics (OpenMetrics text, for Prometheus) at http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for 127.0.0.1:PORT; port 0 picks one (printed on stderr)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute credentials with this shell command after the broker''s Init, like an RTL client''s onauth(seed, ip): SMQ_SEED and SMQ_IP are in its environment, its stdout is sent (never printed)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://); the broker''s name and the certificate''s dates are still checked')
            [CompletionResult]::new('--pin-cert', '--pin-cert', [CompletionResultType]::ParameterName, 'Accept exactly the certificate(s) in this PEM file whatever their name and dates (prints a warning)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long; also the longest a write may wait without progress (broker not reading)')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Subscribe to the scenario''s verify topics and count lost/duplicated reports per device')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'A device whose connection ends gives up instead of reconnecting')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge the --report files of several shards into one summary')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;simulate;merge' {
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output (default: pretty on a terminal, json otherwise)')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Also write the merged report here')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;simulate;help' {
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge the --report files of several shards into one summary')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;simulate;help;merge' {
            break
        }
        'smqctl;simulate;help;help' {
            break
        }
        'smqctl;hook' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('lua', 'lua', [CompletionResultType]::ParameterValue, 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)')
            [CompletionResult]::new('wireshark', 'wireshark', [CompletionResultType]::ParameterValue, 'Write the SMQ dissector for Wireshark and tshark (Lua)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;hook;lua' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;hook;wireshark' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Also decode this TCP port as SMQ (raw or WebSocket), e.g. a broker on 80')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;hook;help' {
            [CompletionResult]::new('lua', 'lua', [CompletionResultType]::ParameterValue, 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)')
            [CompletionResult]::new('wireshark', 'wireshark', [CompletionResultType]::ParameterValue, 'Write the SMQ dissector for Wireshark and tshark (Lua)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;hook;help;lua' {
            break
        }
        'smqctl;hook;help;wireshark' {
            break
        }
        'smqctl;hook;help;help' {
            break
        }
        'smqctl;profile' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the profiles: name and URL')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile''s settings (credentials as their source only)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;profile;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smqctl;profile;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smqctl;profile;add' {
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'UID template: {{user}}, {{host}}, {{pid}} and {{random}} are filled in')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect')
            [CompletionResult]::new('--credentials-env', '--credentials-env', [CompletionResultType]::ParameterName, 'Take the credentials from this environment variable when connecting')
            [CompletionResult]::new('--credentials-cmd', '--credentials-cmd', [CompletionResultType]::ParameterName, 'Compute the credentials with this shell command (as --credentials-cmd)')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to trust')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM); needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of --cert')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Default output format of sub, rpc, serve and shell')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s certificate')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a profile of the same name')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;profile;remove' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'smqctl;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the profiles: name and URL')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile''s settings (credentials as their source only)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;profile;help;list' {
            break
        }
        'smqctl;profile;help;show' {
            break
        }
        'smqctl;profile;help;add' {
            break
        }
        'smqctl;profile;help;remove' {
            break
        }
        'smqctl;profile;help;help' {
            break
        }
        'smqctl;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Directory to write every page into; without it, smqctl.1 goes to stdout')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Connection profile from the config file (`smqctl profile list`); flags and SMQCTL_* variables override its settings')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'smqctl;help' {
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe to topics (or `self`) and print what arrives')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID')
            [CompletionResult]::new('rpc', 'rpc', [CompletionResultType]::ParameterValue, 'Call a broker or peer handler: named request/response or correlated $RpcReq')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Answer requests (static, templated, echo or from a command), like `nats reply`')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the embedded SMQ broker (WebSocket and raw transport on one port)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run everything at once: embedded broker, charger fleet, operator traffic, TUI')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Show what a broker does: publishes, drops, denials, connects, closes (live)')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Find what is wrong in an SMQ app: rules over a broker''s trace (live or a file)')
            [CompletionResult]::new('tui', 'tui', [CompletionResultType]::ParameterValue, 'Watch broker trace events live: table, detail, filters, stats, export')
            [CompletionResult]::new('record', 'record', [CompletionResultType]::ParameterValue, 'Record what a broker routes into a .smqrec file (full payloads), for replay')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay a recording on a test broker: same topics, UIDs and spacing (--check compares)')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Stay connected: subscribe, publish, call and observe at a prompt, or run a script')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Measure a broker: message throughput and latency, cost of idle connections')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Is this broker healthy? Connect and round-trip times, handlers, tracer; nagios and Prometheus output; --probe for a conformance report')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Write Lua for other tools: the Mako/BAS trace hook, the Wireshark dissector')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (config.toml): list, show, add, remove')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (smqctl.1 and one per subcommand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'smqctl;help;sub' {
            break
        }
        'smqctl;help;pub' {
            break
        }
        'smqctl;help;rpc' {
            break
        }
        'smqctl;help;serve' {
            break
        }
        'smqctl;help;broker' {
            break
        }
        'smqctl;help;demo' {
            break
        }
        'smqctl;help;trace' {
            break
        }
        'smqctl;help;analyze' {
            break
        }
        'smqctl;help;tui' {
            break
        }
        'smqctl;help;record' {
            break
        }
        'smqctl;help;replay' {
            break
        }
        'smqctl;help;shell' {
            break
        }
        'smqctl;help;bench' {
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles')
            [CompletionResult]::new('rpc', 'rpc', [CompletionResultType]::ParameterValue, 'RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency')
            [CompletionResult]::new('connections', 'connections', [CompletionResultType]::ParameterValue, 'Open many idle connections and report the broker''s memory per connection')
            break
        }
        'smqctl;help;bench;pubsub' {
            break
        }
        'smqctl;help;bench;rpc' {
            break
        }
        'smqctl;help;bench;connections' {
            break
        }
        'smqctl;help;check' {
            break
        }
        'smqctl;help;simulate' {
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge the --report files of several shards into one summary')
            break
        }
        'smqctl;help;simulate;merge' {
            break
        }
        'smqctl;help;hook' {
            [CompletionResult]::new('lua', 'lua', [CompletionResultType]::ParameterValue, 'Write the Lua trace hook for Mako Server / BAS apps (smq.hub)')
            [CompletionResult]::new('wireshark', 'wireshark', [CompletionResultType]::ParameterValue, 'Write the SMQ dissector for Wireshark and tshark (Lua)')
            break
        }
        'smqctl;help;hook;lua' {
            break
        }
        'smqctl;help;hook;wireshark' {
            break
        }
        'smqctl;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the profiles: name and URL')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one profile''s settings (credentials as their source only)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a profile (or replace one with --force)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile')
            break
        }
        'smqctl;help;profile;list' {
            break
        }
        'smqctl;help;profile;show' {
            break
        }
        'smqctl;help;profile;add' {
            break
        }
        'smqctl;help;profile;remove' {
            break
        }
        'smqctl;help;completions' {
            break
        }
        'smqctl;help;man' {
            break
        }
        'smqctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
