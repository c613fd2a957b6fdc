# fish completion for pop-fetch(1)

set -l mechs auto user apop PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS XOAUTH2 OAUTHBEARER EXTERNAL
complete -c pop-fetch -f
__mailflow_client_complete pop-fetch '110 995' "$mechs"
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
complete -c pop-fetch -l logfile -r -F -d 'Append a log line per message or run to FILE'
complete -c pop-fetch -l syslog -x -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'Log to syslog'
complete -c pop-fetch -n 'not string match -q -- "-*" (commandline -ct)' -f -a '(__mailflow_accounts)' -d 'Account'
