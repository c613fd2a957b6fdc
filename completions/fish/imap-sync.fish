# fish completion for imap-sync(1)
function __imap_sync_accounts
    set -l cfg $MAILFLOW_CONFIG
    if test -z "$cfg"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base ~/.config
        set cfg $base/mailflow/config
    end
    awk '$1 == "account" { print $2 }' $cfg 2>/dev/null
end

set -l mechs auto login PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER EXTERNAL
complete -c imap-sync -f
complete -c imap-sync -s a -l account -x -a '(__imap_sync_accounts)' -d 'Use this account of the configuration file'
complete -c imap-sync -l config -r -F -d 'Configuration file'
complete -c imap-sync -s s -l server -x -a '(__fish_print_hostnames)' -d 'Server HOST[:PORT]'
complete -c imap-sync -s p -l port -x -a '143 993' -d 'Server port'
complete -c imap-sync -s u -l user -x -d 'User to log in as'
complete -c imap-sync -s v -l verbose -d 'Show the protocol dialogue'
complete -c imap-sync -l tls -x -a 'starttls implicit none auto' -d 'How to secure the connection'
complete -c imap-sync -l tls-trust-file -r -F -d 'Trust the CA certificates in FILE'
complete -c imap-sync -l tls-fingerprint -x -d 'Trust the certificate with this SHA-256 fingerprint'
complete -c imap-sync -l tls-cert -r -F -d 'Client certificate'
complete -c imap-sync -l tls-key -r -F -d 'Key of the client certificate'
complete -c imap-sync -l tls-min-version -x -a '1.0 1.1 1.2 1.3' -d 'Lowest TLS version'
complete -c imap-sync -l tls-priority -x -d 'GnuTLS priority string'
complete -c imap-sync -l insecure -d 'Do not verify the server certificate'
complete -c imap-sync -l sni -x -a '(__fish_print_hostnames)' -d 'Server name to send in SNI'
complete -c imap-sync -l auth -x -a "$mechs" -d 'Login method'
complete -c imap-sync -l passwordeval -x -a '(__fish_complete_command)' -d 'Command printing the password'
complete -c imap-sync -l timeout -x -d 'Network time limit in seconds'
complete -c imap-sync -l show-secrets -d 'Show credentials in the transcript'
complete -c imap-sync -s m -l maildir -x -a '(__fish_complete_directories)' -d 'Maildir root'
complete -c imap-sync -l layout -x -a 'maildir++ fs' -d 'How subfolders are stored'
complete -c imap-sync -l folder-names -x -a 'utf8 mutf7' -d 'Folder names on disk: UTF-8 or modified UTF-7'
complete -c imap-sync -l folder -x -d 'IMAP LIST pattern of folders to sync'
complete -c imap-sync -l exclude -x -d 'Skip folders matching this pattern'
complete -c imap-sync -l pull -d 'Server to local only (default)'
complete -c imap-sync -l two-way -d 'Also send local changes to the server'
complete -c imap-sync -l expunge -d 'Propagate deletions'
complete -c imap-sync -l dry-run -d 'Say what would change, change nothing'
complete -c imap-sync -l idle -d 'Run as a service: watch every folder, reconnect'
complete -c imap-sync -l idle-connections -x -d 'Folders watched with IDLE'
complete -c imap-sync -l poll-interval -x -d 'STATUS poll of the other folders (seconds)'
complete -c imap-sync -l keepalive -x -d 'Probe idle connections this often (seconds)'
complete -c imap-sync -l reconnect-min -x -d 'First reconnect delay (seconds)'
complete -c imap-sync -l reconnect-max -x -d 'Longest reconnect delay (seconds)'
complete -c imap-sync -l no-notify -d 'Do not use NOTIFY'
complete -c imap-sync -l jobs -x -d 'Folders synced in parallel'
complete -c imap-sync -l state -x -a '(__fish_complete_directories)' -d 'Sync state directory'
complete -c imap-sync -l progress -d 'Show progress on the terminal'
complete -c imap-sync -s q -l quiet -d 'Print only errors'
complete -c imap-sync -l json -d 'Print a JSON summary per folder'
complete -c imap-sync -s h -l help -d 'Show the options'
complete -c imap-sync -s V -l version -d 'Show the version'
complete -c imap-sync -l logfile -r -F -d 'Append a log line per message or run to FILE'
complete -c imap-sync -l syslog -x -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
complete -c imap-sync -n 'not string match -q -- "-*" (commandline -ct)' -f -a '(__imap_sync_accounts)' -d 'Account'
