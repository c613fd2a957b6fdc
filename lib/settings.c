/* settings.c - what is read from the effective settings of a run. */
#include "settings.h"

#include <string.h>
#include <unistd.h>

int
mf_settings_require(const struct mf_settings *s, int need_user,
                    struct mf_err *e)
{
	if (s->host[0] == '\0')
		return mf_err_set(e, MF_E_CONFIG, "no server: give --server HOST "
		    "or set host in the configuration file");
	if (need_user && s->user == NULL)
		return mf_err_set(e, MF_E_CONFIG, "no user: give --user NAME or "
		    "set user in the configuration file");
	return 0;
}

void
mf_settings_auth(const struct mf_settings *s, struct mf_auth *out)
{
	memset(out, 0, sizeof(*out));
	out->user = s->user;
	out->mech = s->auth;
	out->source.host = s->host;
	out->source.user = s->user;
	out->source.passwordeval = s->passwordeval;
	out->source.password = s->password;
	/* /dev/tty works even when stdin is a message pipe (mailsend); still
	 * only prompt when a person is plausibly there. */
	out->source.allow_tty = isatty(STDIN_FILENO) || isatty(STDERR_FILENO);
}

void
mf_settings_conn(const struct mf_settings *s, struct mf_conn *out)
{
	memset(out, 0, sizeof(*out));
	out->host = s->host;
	out->port = s->port;
	out->tls = s->tls;
	out->tlsp = s->tlsp;
	out->timeout_ms = s->timeout_ms;
	out->sock.connect_timeout_ms = s->timeout_ms;
	mf_settings_auth(s, &out->cred);
}

void
mf_settings_log_start(const struct mf_settings *s, struct mf_maillog_line *l)
{
	mf_maillog_line_init(l);
	if (s->acct != NULL)
		mf_maillog_add(l, "account", s->acct->name);
	mf_maillog_add(l, "host", s->host[0] ? s->host : NULL);
	mf_maillog_add(l, "port", s->port[0] ? s->port : NULL);
	mf_maillog_add(l, "tls", mf_tls_mode_name(s->tls));
	mf_maillog_add(l, "user", s->user);
}
