# fish completion for smtp-auth-test(1)

set -l mechs auto none all PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER
complete -c smtp-auth-test -f -a '(__fish_print_hostnames)'
__mailflow_client_complete smtp-auth-test '25 465 587' "$mechs"
complete -c smtp-auth-test -l mech -x -a "$mechs" -d 'Mechanisms to try, or all'
complete -c smtp-auth-test -l quit-after -x -a 'connect banner ehlo tls auth mail rcpt' -d 'Stop after this step'
complete -c smtp-auth-test -l from -x -d 'Try MAIL FROM with this address after AUTH'
complete -c smtp-auth-test -l to -x -d 'Try RCPT TO with this address after MAIL'
complete -c smtp-auth-test -l ehlo -x -d 'Name to send in EHLO'
complete -c smtp-auth-test -l json -d 'Print one JSON document'
complete -c smtp-auth-test -l discover -x -d 'Find server, port, TLS and mechanism for an address or domain'
complete -c smtp-auth-test -l resolver -x -d 'DNS server (IP[:PORT]) for --discover'
complete -c smtp-auth-test -s q -l quiet -d 'Print only the verdict line'
