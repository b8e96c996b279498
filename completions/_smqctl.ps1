
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
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe to topics (or `self`) and print what arrives')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the embedded SMQ broker (WebSocket and raw transport on one port)')
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
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
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
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'smqctl;pub' {
            [CompletionResult]::new('--to-etid', '--to-etid', [CompletionResultType]::ParameterName, 'Send straight to this client ETID (or any numeric TID) instead of a topic')
            [CompletionResult]::new('--subtopic', '--subtopic', [CompletionResultType]::ParameterName, 'Sub-topic name to send with the message (e.g. a message type)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the payload from a file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the payload from a file')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send the message this many times')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Wait this long between messages')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)')
            [CompletionResult]::new('--uid', '--uid', [CompletionResultType]::ParameterName, 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'Info text sent in Connect (the broker''s authenticate hook sees it)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'Trust only the CA certificates in this PEM file (wss://, https://)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for mutual TLS; needs --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (PEM) of --cert')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long')
            [CompletionResult]::new('--ping-interval', '--ping-interval', [CompletionResultType]::ParameterName, 'Send Ping after this long without any packet from the broker')
            [CompletionResult]::new('--pong-timeout', '--pong-timeout', [CompletionResultType]::ParameterName, 'Close the connection when nothing arrives this long after a Ping')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read the whole of stdin as one payload')
            [CompletionResult]::new('--stdin-lines', '--stdin-lines', [CompletionResultType]::ParameterName, 'Send one message per line of stdin')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Payload must be valid JSON (checked before connecting)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'Payload is text (the default)')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'Payload is sent byte for byte (for files and stdin)')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Payload is written in hex ("01 02 ff" or "0102ff")')
            [CompletionResult]::new('--ask-credentials', '--ask-credentials', [CompletionResultType]::ParameterName, 'Prompt for credentials on the terminal (not echoed)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the broker''s TLS certificate (prints a warning)')
            [CompletionResult]::new('--connect-v2', '--connect-v2', [CompletionResultType]::ParameterName, 'Send Connect version 2 (as RTL''s C client does) instead of version 1')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'smqctl;broker' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (loopback unless told otherwise; port 0 picks one)')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'TLS private key (PEM) for --tls-cert')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Accept only clients listed in FILE (`uid-or-user:secret` per line)')
            [CompletionResult]::new('--credentials', '--credentials', [CompletionResultType]::ParameterName, 'Accept only clients presenting this shared secret as credentials')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--rndtid', '--rndtid', [CompletionResultType]::ParameterName, 'Give the broker''s own client a random ETID instead of 1 (smq.create{rndtid=true})')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'smqctl;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'smqctl;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Directory to write every page into; without it, smqctl.1 goes to stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never')
            [CompletionResult]::new('--trace-packets', '--trace-packets', [CompletionResultType]::ParameterName, 'Print every SMQ packet sent and received, decoded, on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'smqctl;help' {
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe to topics (or `self`) and print what arrives')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the embedded SMQ broker (WebSocket and raw transport on one port)')
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
        'smqctl;help;broker' {
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
