# fish completion for smtp-auth-test(1)
function __smtp_auth_test_accounts
    set -l cfg $MAILFLOW_CONFIG
    if test -z "$cfg"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set cfg $base/mailflow/config
    end
    awk '$1 == "account" { print $2 }' $cfg 2>/dev/null
end

set -l mechs auto none all PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER
complete -c smtp-auth-test -f -a '(__fish_print_hostnames)'
complete -c smtp-auth-test -s a -l account -x -a '(__smtp_auth_test_accounts)' -d 'Use this account of the configuration file'
complete -c smtp-auth-test -l config -r -F -d 'Configuration file'
complete -c smtp-auth-test -s s -l server -x -a '(__fish_print_hostnames)' -d 'Server HOST[:PORT]'
complete -c smtp-auth-test -s p -l port -x -a '25 465 587' -d 'Server port'
complete -c smtp-auth-test -s u -l user -x -d 'User to authenticate as'
complete -c smtp-auth-test -s v -l verbose -d 'Show the protocol dialogue'
complete -c smtp-auth-test -l tls -x -a 'auto starttls implicit none' -d 'How to secure the connection'
complete -c smtp-auth-test -l tls-trust-file -r -F -d 'Trust the CA certificates in FILE'
complete -c smtp-auth-test -l tls-fingerprint -x -d 'Trust the certificate with this SHA-256 fingerprint'
complete -c smtp-auth-test -l tls-cert -r -F -d 'Client certificate'
complete -c smtp-auth-test -l tls-key -r -F -d 'Key of the client certificate'
complete -c smtp-auth-test -l tls-min-version -x -a '1.0 1.1 1.2 1.3' -d 'Lowest TLS version'
complete -c smtp-auth-test -l tls-priority -x -d 'GnuTLS priority string'
complete -c smtp-auth-test -l insecure -d 'Do not verify the server certificate'
complete -c smtp-auth-test -l sni -x -a '(__fish_print_hostnames)' -d 'Server name for SNI and the check'
complete -c smtp-auth-test -l auth -x -a "$mechs" -d 'Mechanisms to try'
complete -c smtp-auth-test -l passwordeval -x -a '(__fish_complete_command)' -d 'Command printing the password'
complete -c smtp-auth-test -l timeout -x -d 'Network time limit in seconds'
complete -c smtp-auth-test -l show-secrets -d 'Show AUTH payloads in the transcript'
complete -c smtp-auth-test -l mech -x -a "$mechs" -d 'Mechanisms to try, or all'
complete -c smtp-auth-test -l quit-after -x -a 'connect banner ehlo tls auth mail rcpt' -d 'Stop after this step'
complete -c smtp-auth-test -l from -x -d 'Try MAIL FROM with this address after AUTH'
complete -c smtp-auth-test -l to -x -d 'Try RCPT TO with this address after MAIL'
complete -c smtp-auth-test -l ehlo -x -d 'Name to send in EHLO'
complete -c smtp-auth-test -l json -d 'Print one JSON document'
complete -c smtp-auth-test -l discover -x -d 'Find server, port, TLS and mechanism for an address or domain'
complete -c smtp-auth-test -l resolver -x -d 'DNS server (IP[:PORT]) for --discover'
complete -c smtp-auth-test -s q -l quiet -d 'Print only the verdict line'
complete -c smtp-auth-test -s h -l help -d 'Show the options'
complete -c smtp-auth-test -s V -l version -d 'Show the version'
