
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
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sub 'Subscribe to topics (or `self`) and print what arrives'
            cand pub 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID'
            cand broker 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
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
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
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
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'smqctl;pub'= {
            cand --to-etid 'Send straight to this client ETID (or any numeric TID) instead of a topic'
            cand --subtopic 'Sub-topic name to send with the message (e.g. a message type)'
            cand -f 'Read the payload from a file'
            cand --file 'Read the payload from a file'
            cand --count 'Send the message this many times'
            cand --interval 'Wait this long between messages'
            cand -u 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --url 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)'
            cand --uid 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID'
            cand --info 'Info text sent in Connect (the broker''s authenticate hook sees it)'
            cand --credentials 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed'
            cand --cacert 'Trust only the CA certificates in this PEM file (wss://, https://)'
            cand --cert 'Client certificate (PEM) for mutual TLS; needs --key'
            cand --key 'Private key (PEM) of --cert'
            cand --connect-timeout 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long'
            cand --ping-interval 'Send Ping after this long without any packet from the broker'
            cand --pong-timeout 'Close the connection when nothing arrives this long after a Ping'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --stdin 'Read the whole of stdin as one payload'
            cand --stdin-lines 'Send one message per line of stdin'
            cand --json 'Payload must be valid JSON (checked before connecting)'
            cand --text 'Payload is text (the default)'
            cand --binary 'Payload is sent byte for byte (for files and stdin)'
            cand --hex 'Payload is written in hex ("01 02 ff" or "0102ff")'
            cand --ask-credentials 'Prompt for credentials on the terminal (not echoed)'
            cand --insecure 'Do not verify the broker''s TLS certificate (prints a warning)'
            cand --connect-v2 'Send Connect version 2 (as RTL''s C client does) instead of version 1'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'smqctl;broker'= {
            cand --listen 'Address to listen on (loopback unless told otherwise; port 0 picks one)'
            cand --tls-cert 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://'
            cand --tls-key 'TLS private key (PEM) for --tls-cert'
            cand --auth 'Accept only clients listed in FILE (`uid-or-user:secret` per line)'
            cand --credentials 'Accept only clients presenting this shared secret as credentials'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --rndtid 'Give the broker''s own client a random ETID instead of 1 (smq.create{rndtid=true})'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'smqctl;completions'= {
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'smqctl;man'= {
            cand --dir 'Directory to write every page into; without it, smqctl.1 goes to stdout'
            cand --color 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never'
            cand --trace-packets 'Print every SMQ packet sent and received, decoded, on stderr'
            cand -v 'More log output on stderr (repeat for more)'
            cand --verbose 'More log output on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'smqctl;help'= {
            cand sub 'Subscribe to topics (or `self`) and print what arrives'
            cand pub 'Publish JSON, text or binary to a topic, to `self` or to a client''s ETID'
            cand broker 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
            cand completions 'Print a shell completion script'
            cand man 'Write man pages (smqctl.1 and one per subcommand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'smqctl;help;sub'= {
        }
        &'smqctl;help;pub'= {
        }
        &'smqctl;help;broker'= {
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
