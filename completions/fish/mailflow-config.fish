# fish completion for mailflow-config(1)
complete -c mailflow-config -f -n '__fish_use_subcommand' -a import -d 'Convert an msmtprc, mpoprc or mbsyncrc'
complete -c mailflow-config -F -n '__fish_seen_subcommand_from import'
complete -c mailflow-config -l from -x -a 'msmtp mpop mbsync' -d 'Format of the input'
complete -c mailflow-config -s h -l help -d 'Show the options'
complete -c mailflow-config -s V -l version -d 'Show the version'
