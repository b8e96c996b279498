# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_smqctl_global_optspecs
    string join \n trace-packets v/verbose color= h/help V/version
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
complete -c smqctl -n "__fish_smqctl_needs_command" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_needs_command" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_needs_command" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "sub" -d 'Subscribe to topics (or `self`) and print what arrives'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "pub" -d 'Publish JSON, text or binary to a topic, to `self` or to a client\'s ETID'
complete -c smqctl -n "__fish_smqctl_needs_command" -f -a "broker" -d 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
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
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l observe -d 'Also print subscriber-count changes of the topics'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s N -l no-newline -d 'With --format raw: no newline after each payload'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l no-reconnect -d 'Exit when the connection drops instead of reconnecting'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand sub" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l to-etid -d 'Send straight to this client ETID (or any numeric TID) instead of a topic' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l subtopic -d 'Sub-topic name to send with the message (e.g. a message type)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s f -l file -d 'Read the payload from a file' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l count -d 'Send the message this many times' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l interval -d 'Wait this long between messages' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s u -l url -d 'Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l uid -d 'Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l info -d 'Info text sent in Connect (the broker\'s authenticate hook sees it)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l credentials -d 'Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials, which keep them out of the process list. Never printed' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l cacert -d 'Trust only the CA certificates in this PEM file (wss://, https://)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l cert -d 'Client certificate (PEM) for mutual TLS; needs --key' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l key -d 'Private key (PEM) of --cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l connect-timeout -d 'Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l ping-interval -d 'Send Ping after this long without any packet from the broker' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l pong-timeout -d 'Close the connection when nothing arrives this long after a Ping' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l stdin -d 'Read the whole of stdin as one payload'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l stdin-lines -d 'Send one message per line of stdin'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l json -d 'Payload must be valid JSON (checked before connecting)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l text -d 'Payload is text (the default)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l binary -d 'Payload is sent byte for byte (for files and stdin)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l hex -d 'Payload is written in hex ("01 02 ff" or "0102ff")'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l ask-credentials -d 'Prompt for credentials on the terminal (not echoed)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l insecure -d 'Do not verify the broker\'s TLS certificate (prints a warning)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l connect-v2 -d 'Send Connect version 2 (as RTL\'s C client does) instead of version 1'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand pub" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l listen -d 'Address to listen on (loopback unless told otherwise; port 0 picks one)' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l tls-cert -d 'TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l tls-key -d 'TLS private key (PEM) for --tls-cert' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l auth -d 'Accept only clients listed in FILE (`uid-or-user:secret` per line)' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l credentials -d 'Accept only clients presenting this shared secret as credentials' -r
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l rndtid -d 'Give the broker\'s own client a random ETID instead of 1 (smq.create{rndtid=true})'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand broker" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l dir -d 'Directory to write every page into; without it, smqctl.1 goes to stdout' -r -F
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l color -d 'Colour output: auto (only on a terminal, honours NO_COLOR), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -l trace-packets -d 'Print every SMQ packet sent and received, decoded, on stderr'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -s v -l verbose -d 'More log output on stderr (repeat for more)'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smqctl -n "__fish_smqctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "sub" -d 'Subscribe to topics (or `self`) and print what arrives'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "pub" -d 'Publish JSON, text or binary to a topic, to `self` or to a client\'s ETID'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "broker" -d 'Run the embedded SMQ broker (WebSocket and raw transport on one port)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "man" -d 'Write man pages (smqctl.1 and one per subcommand)'
complete -c smqctl -n "__fish_smqctl_using_subcommand help; and not __fish_seen_subcommand_from sub pub broker completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
