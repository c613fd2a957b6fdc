# fish completion for imap-sync(1)

set -l mechs auto login PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER EXTERNAL
complete -c imap-sync -f
__mailflow_client_complete imap-sync '143 993' "$mechs"
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
complete -c imap-sync -l logfile -r -F -d 'Append a log line per message or run to FILE'
complete -c imap-sync -l syslog -x -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
complete -c imap-sync -n 'not string match -q -- "-*" (commandline -ct)' -f -a '(__mailflow_accounts)' -d 'Account'
