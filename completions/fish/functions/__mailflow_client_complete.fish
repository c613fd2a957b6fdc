# The completions shared by mailflow's four client tools (mailsend,
# smtp-auth-test, pop-fetch, imap-sync): account, server, TLS and login.
# Installed in fish's vendor_functions.d, so it autoloads when a tool's
# completion file (vendor_completions.d/TOOL.fish) first calls it.

# __mailflow_accounts: the account names of the configuration file that
# the tools read by default (mailflow(5)), or of $MAILFLOW_CONFIG.
function __mailflow_accounts
    set -l cfg $MAILFLOW_CONFIG
    if test -z "$cfg"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set cfg $base/mailflow/config
    end
    awk '$1 == "account" { print $2 }' $cfg 2>/dev/null
end

# __mailflow_client_complete TOOL PORTS MECHS: TOOL's account, server, TLS
# and login options; PORTS and MECHS are space-separated value lists.
function __mailflow_client_complete -a tool ports mechs
    complete -c $tool -s a -l account -x -a '(__mailflow_accounts)' -d 'Use this account of the configuration file'
    complete -c $tool -l config -r -F -d 'Configuration file'
    complete -c $tool -s s -l server -x -a '(__fish_print_hostnames)' -d 'Server HOST[:PORT]'
    complete -c $tool -s p -l port -x -a "$ports" -d 'Server port'
    complete -c $tool -s u -l user -x -d 'User to log in as'
    complete -c $tool -s v -l verbose -d 'Show the protocol dialogue'
    complete -c $tool -l tls -x -a 'starttls implicit none auto' -d 'How to secure the connection'
    complete -c $tool -l tls-trust-file -r -F -d 'Trust the CA certificates in FILE'
    complete -c $tool -l tls-fingerprint -x -d 'Trust the certificate with this SHA-256 fingerprint'
    complete -c $tool -l tls-cert -r -F -d 'Client certificate'
    complete -c $tool -l tls-key -r -F -d 'Key of the client certificate'
    complete -c $tool -l tls-min-version -x -a '1.0 1.1 1.2 1.3' -d 'Lowest TLS version'
    complete -c $tool -l tls-priority -x -d 'GnuTLS priority string'
    complete -c $tool -l insecure -d 'Do not verify the server certificate'
    complete -c $tool -l sni -x -a '(__fish_print_hostnames)' -d 'Server name for SNI and the check'
    complete -c $tool -l auth -x -a "$mechs" -d 'Login method'
    complete -c $tool -l passwordeval -x -a '(__fish_complete_command)' -d 'Command printing the password'
    complete -c $tool -l timeout -x -d 'Network time limit in seconds'
    complete -c $tool -l show-secrets -d 'Show credentials in the transcript'
    complete -c $tool -s h -l help -d 'Show the options'
    complete -c $tool -s V -l version -d 'Show the version'
end
