/* jsonl_send.h - mailsend --jsonl: transactional sends from JSON Lines.
 *
 * Each non-blank input line is one JSON object (jsonread.h) describing a
 * message:
 *   to, cc, bcc    address lists: an array of strings (or one string,
 *                  which may itself be a list "a@b, C <c@d>")
 *   from           "addr" or "Name <addr>" (default: the options')
 *   subject, text, html      strings (UTF-8)
 *   attachments    array of paths, or of {"path", "name", "type"}
 *   headers        object of "Name": "value"
 *   dsn            {"notify", "ret", "envid"}; notify a string or array
 *                  (RFC 3461 §4.1: NEVER or SUCCESS,FAILURE,DELAY)
 * Unknown keys and wrong types make the line invalid (a typo must not
 * silently drop a field).  The messages are composed (mime.h) and sent
 * through the job (sendjob.h), over one SMTP session; when the server
 * closed that session between two messages (an idle timeout, 421, a
 * limit of messages per connection) the message is sent again over a new
 * session -- only when nothing of it had been accepted yet, so nothing is
 * delivered twice.  When a session cannot be opened at all (connection
 * refused, TLS, AUTH), the lines after it are not tried: they get the
 * same outcome.
 *
 * For every non-blank line one result object, handed to `out` as one
 * line of JSON (no newline); the tool ends the stream with its summary
 * (mailflow(7)'s one shape, with the counts of struct mf_jsonl_stats):
 *   {"type":"result","line":N,"status":"sent|failed|deferred",
 *    "message_id":..., "reply":{"code","enhanced","text"} or null,
 *    "recipients":[{"address","code","enhanced","text"}],
 *    "error":null or text, "queued":null or queue id}
 *   {"type":"summary","tool":"mailsend",...,"lines":N,"sent":N,
 *    "failed":N,"deferred":N,"queued":N,"invalid":N,"exit":N,...}
 * An invalid line is a "failed" result whose error names the line and the
 * problem, with "invalid":true; the other lines are still sent. */
#ifndef MF_JSONL_SEND_H
#define MF_JSONL_SEND_H

#include <stdio.h>

#include "err.h"
#include "sendjob.h"

#define MF_JSONL_LINE_MAX ((size_t)64 << 20)

struct mf_jsonl_params {
	const char *from;        /* sender when a line has none (-f, account) */
	const char *from_name;   /* its display name, or NULL */
	int queue;               /* deferred messages go to the queue */
};

struct mf_jsonl_stats {
	unsigned long lines, sent, failed, deferred, queued, invalid;
	struct mf_err first;     /* the first message that failed or was
	                            deferred and not queued (kind MF_OK when
	                            none; invalid lines are not counted here):
	                            the tool's exit status */
};

typedef void (*mf_jsonl_out_fn)(void *arg, const char *line, size_t len);

/* Read in to its end.  0 when the input was read through (whatever the
 * messages' outcomes, see stats), -1 when it could not be read (MF_E_IO)
 * or a result could not be written (MF_E_NOMEM). */
int mf_jsonl_send(struct mf_sendjob *j, FILE *in,
                  const struct mf_jsonl_params *p, mf_jsonl_out_fn out,
                  void *arg, struct mf_jsonl_stats *stats, struct mf_err *e);

#endif
