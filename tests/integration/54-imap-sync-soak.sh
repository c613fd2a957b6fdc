#!/bin/bash
# imap-sync --idle for two minutes against a private Dovecot behind a TCP
# proxy, while mail is delivered, flagged and expunged at random: one
# server restart, one dropped connection, one silent connection (noticed
# with --keepalive 10); then the Maildir must equal the server and the
# memory must not have grown by 10%.  make soak runs the 30-minute one.
set -u
exec bash "$MF_TOP/tests/soak/soak.sh" 120 1 1 1 10
