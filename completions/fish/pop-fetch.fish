# fish completion for pop-fetch(1)
function __pop_fetch_accounts
    set -l cfg $MAILFLOW_CONFIG
    if test -z "$cfg"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set cfg $base/mailflow/config
    end
    awk '$1 == "account" { print $2 }' $cfg 2>/dev/null
end

set -l mechs auto user apop PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER EXTERNAL
complete -c pop-fetch -f
complete -c pop-fetch -s a -l account -x -a '(__pop_fetch_accounts)' -d 'Use this account of the configuration file'
complete -c pop-fetch -l config -r -F -d 'Configuration file'
complete -c pop-fetch -s s -l server -x -a '(__fish_print_hostnames)' -d 'Server HOST[:PORT]'
complete -c pop-fetch -s p -l port -x -a '110 995' -d 'Server port'
complete -c pop-fetch -s u -l user -x -d 'User to log in as'
complete -c pop-fetch -s v -l verbose -d 'Show the protocol dialogue'
complete -c pop-fetch -l tls -x -a 'starttls implicit none auto' -d 'How to secure the connection'
complete -c pop-fetch -l tls-trust-file -r -F -d 'Trust the CA certificates in FILE'
complete -c pop-fetch -l tls-fingerprint -x -d 'Trust the certificate with this SHA-256 fingerprint'
complete -c pop-fetch -l tls-cert -r -F -d 'Client certificate'
complete -c pop-fetch -l tls-key -r -F -d 'Key of the client certificate'
complete -c pop-fetch -l tls-min-version -x -a '1.0 1.1 1.2 1.3' -d 'Lowest TLS version'
complete -c pop-fetch -l tls-priority -x -d 'GnuTLS priority string'
complete -c pop-fetch -l insecure -d 'Do not verify the server certificate'
complete -c pop-fetch -l sni -x -a '(__fish_print_hostnames)' -d 'Server name for SNI and the check'
complete -c pop-fetch -l auth -x -a "$mechs" -d 'Login method'
complete -c pop-fetch -l passwordeval -x -a '(__fish_complete_command)' -d 'Command printing the password'
complete -c pop-fetch -l timeout -x -d 'Network time limit in seconds'
complete -c pop-fetch -l show-secrets -d 'Show credentials in the transcript'
complete -c pop-fetch -s m -l maildir -x -a '(__fish_complete_directories)' -d 'Deliver into this Maildir'
complete -c pop-fetch -l mda -x -a '(__fish_complete_command)' -d 'Deliver to this command'
complete -c pop-fetch -l keep -d 'Leave messages on the server (default)'
complete -c pop-fetch -l delete -d 'Delete messages on the server once delivered'
complete -c pop-fetch -l all -d 'Fetch also messages fetched before'
complete -c pop-fetch -l max-size -x -d 'Leave bigger messages on the server (bytes)'
complete -c pop-fetch -l limit -x -d 'Fetch at most N messages'
complete -c pop-fetch -l state -r -F -d 'UIDL state file'
complete -c pop-fetch -l progress -d 'Show a progress bar'
complete -c pop-fetch -s q -l quiet -d 'Print only errors'
complete -c pop-fetch -l json -d 'Print a JSON summary'
complete -c pop-fetch -s h -l help -d 'Show the options'
complete -c pop-fetch -s V -l version -d 'Show the version'
complete -c pop-fetch -l logfile -r -F -d 'Append a log line per message or run to FILE'
complete -c pop-fetch -l syslog -x -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
complete -c pop-fetch -n 'not string match -q -- "-*" (commandline -ct)' -f -a '(__pop_fetch_accounts)' -d 'Account'
