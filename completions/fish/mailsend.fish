# fish completion for mailsend(1)
function __mailsend_accounts
    set -l cfg $MAILFLOW_CONFIG
    if test -z "$cfg"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set cfg $base/mailflow/config
    end
    awk '$1 == "account" { print $2 }' $cfg 2>/dev/null
end

complete -c mailsend -s a -l account -x -a '(__mailsend_accounts)' -d 'Account from the configuration file'
complete -c mailsend -l config -r -F -d 'Configuration file'
complete -c mailsend -s s -l server -x -a '(__fish_print_hostnames)' -d 'Submission server HOST[:PORT]'
complete -c mailsend -s p -l port -x -d 'Server port'
complete -c mailsend -s u -l user -x -d 'User name for AUTH'
complete -c mailsend -s v -l verbose -d 'Show the protocol dialogue'
complete -c mailsend -l tls -x -a 'starttls implicit none auto' -d 'How to secure the connection'
complete -c mailsend -l tls-trust-file -r -F -d 'Trusted CA certificates (PEM)'
complete -c mailsend -l tls-fingerprint -x -d 'SHA-256 pin of the server certificate'
complete -c mailsend -l tls-cert -r -F -d 'Client certificate (PEM)'
complete -c mailsend -l tls-key -r -F -d 'Client key (PEM)'
complete -c mailsend -l tls-min-version -x -a '1.0 1.1 1.2 1.3' -d 'Lowest TLS version'
complete -c mailsend -l tls-priority -x -d 'GnuTLS priority string'
complete -c mailsend -l insecure -d 'Do not verify the server certificate'
complete -c mailsend -l sni -x -d 'Server name for SNI'
complete -c mailsend -l auth -x -a 'auto none PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER EXTERNAL' -d 'SASL mechanisms'
complete -c mailsend -l passwordeval -x -a '(__fish_complete_command)' -d 'Command printing the password'
complete -c mailsend -l timeout -x -d 'Network time limit in seconds'
complete -c mailsend -l show-secrets -d 'Show AUTH payloads in the transcript'
complete -c mailsend -s f -l from -x -d 'Sender address'
complete -c mailsend -s F -l from-name -x -d 'Sender display name'
complete -c mailsend -s t -l read-recipients -d 'Recipients from To/Cc/Bcc'
complete -c mailsend -s i -d 'A lone dot does not end the input'
complete -c mailsend -l to -x -d 'Recipient'
complete -c mailsend -l cc -x -d 'Copy recipient'
complete -c mailsend -l bcc -x -d 'Blind copy recipient'
complete -c mailsend -l subject -x -d 'Subject'
complete -c mailsend -l body -r -d 'Text body: TEXT, @FILE or -'
complete -c mailsend -l html -r -d 'HTML alternative: @FILE'
complete -c mailsend -l attach -r -F -d 'Attachment FILE[;type=T][;name=N]'
complete -c mailsend -l header -x -d 'Extra header "Name: value"'
complete -c mailsend -l message -r -F -d 'Ready message FILE or -'
complete -c mailsend -l dsn-notify -x -a 'NEVER SUCCESS FAILURE DELAY SUCCESS,FAILURE' -d 'DSN notifications'
complete -c mailsend -l dsn-ret -x -a 'full hdrs' -d 'What a bounce returns'
complete -c mailsend -l dsn-envid -x -d 'DSN envelope id'
complete -c mailsend -l dry-run -d 'Print envelope and message, send nothing'
complete -c mailsend -l queue -d 'Queue the message on a temporary failure'
complete -c mailsend -l flush-queue -d 'Send the queued messages'
complete -c mailsend -l list-queue -d 'List the queued messages'
complete -c mailsend -l batch -x -a '(__fish_complete_directories)' -d 'Send every message in DIR'
complete -c mailsend -l no-chunking -d 'Use DATA even when BDAT is offered'
complete -c mailsend -l no-pipelining -d 'One command at a time'
complete -c mailsend -l help -d 'Show the options'
complete -c mailsend -l logfile -r -F -d 'Append a log line per message or run to FILE'
complete -c mailsend -l syslog -x -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
