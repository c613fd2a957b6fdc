/* session.c - dial, implicit TLS or STARTTLS, line I/O: written once for
 * SMTP, POP3 and IMAP. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "idn.h"
#include "tlsport.h"

struct mf_session {
	struct mf_session_params p;
	char host[256], port[32], peer[64];
	struct mf_lineio *io;
	struct mf_tls_info tls;
	int tls_tried;
};

static struct mf_session *
session_new(const struct mf_session_params *p, struct mf_err *e)
{
	struct mf_session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		mf_err_set(e, MF_E_NOMEM, "out of memory");
		return NULL;
	}
	s->p = *p;
	/* the credentials are the protocol's business: no copy kept here */
	memset(&s->p.conn.cred, 0, sizeof(s->p.conn.cred));
	mf_strlcpy(s->host, p->conn.host != NULL ? p->conn.host : "",
	    sizeof(s->host));
	mf_strlcpy(s->port, p->conn.port != NULL ? p->conn.port : "",
	    sizeof(s->port));
	s->p.conn.host = s->host;
	s->p.conn.port = s->port;
	return s;
}

/* The line I/O over t (taken over, also on failure). */
static int
start_io(struct mf_session *s, struct mf_transport *t, struct mf_err *e)
{
	s->io = mf_lineio_new(t, s->p.conn.tr, e);
	if (s->io == NULL)
		return -1;
	if (s->p.conn.timeout_ms > 0)
		mf_lineio_set_timeout(s->io, s->p.conn.timeout_ms);
	if (s->p.max_line > 0)
		mf_lineio_set_max_line(s->io, s->p.max_line);
	return 0;
}

static void
note_tls(struct mf_session *s)
{
	mf_transcript_info(s->p.conn.tr, "TLS started: %s %s %s%s", s->tls.version,
	    s->tls.kx, s->tls.cipher, s->tls.resumed ? " (resumed)" : "");
}

struct mf_session *
mf_session_open(const struct mf_session_params *p, struct mf_tls_info *tls,
                struct mf_err *e)
{
	struct mf_session *s;
	struct mf_transport *t, *w;
	const char *unix_path = mf_sock_unix_path(p->conn.host);
	char shown[MF_IDN_NAME_MAX];

	if (tls != NULL)
		memset(tls, 0, sizeof(*tls));
	if ((s = session_new(p, e)) == NULL)
		return NULL;
	if (unix_path != NULL)
		t = mf_sock_connect_unix(unix_path, &s->p.conn.sock, e);
	else
		t = mf_sock_connect(s->host, s->port, &s->p.conn.sock, e);
	if (t == NULL)
		goto fail;
	mf_strlcpy(s->peer, mf_sock_peer_addr(t), sizeof(s->peer));
	mf_idn_display(s->host, shown, sizeof(shown));
	if (unix_path != NULL)
		mf_transcript_info(s->p.conn.tr, "connected to %s", shown);
	else
		mf_transcript_info(s->p.conn.tr, "connected to %s [%s]:%s", shown,
		    s->peer, s->port);
	if (s->p.conn.tls == MF_TLS_IMPLICIT) {
		s->tls_tried = 1;
		w = mf_tls_wrap(t, &s->p.conn.tlsp, &s->tls, e);
		if (w == NULL) {
			if (tls != NULL)
				*tls = s->tls;
			mf_transport_free(t);
			goto fail;
		}
		t = w;
		note_tls(s);
	}
	if (start_io(s, t, e) == -1)
		goto fail;
	if (tls != NULL)
		*tls = s->tls;
	return s;
fail:
	mf_session_free(s);
	return NULL;
}

struct mf_session *
mf_session_attach(struct mf_transport *t, const struct mf_session_params *p,
                  struct mf_err *e)
{
	struct mf_session *s = session_new(p, e);

	if (s == NULL) {
		mf_transport_free(t);
		return NULL;
	}
	if (start_io(s, t, e) == -1) {
		mf_session_free(s);
		return NULL;
	}
	return s;
}

void
mf_session_free(struct mf_session *s)
{
	if (s == NULL)
		return;
	mf_lineio_free(s->io);
	free(s);
}

struct mf_lineio *
mf_session_lineio(struct mf_session *s)
{
	return s->io;
}

const char *
mf_session_peer(const struct mf_session *s)
{
	return s->peer;
}

int
mf_session_check_port(struct mf_session *s, struct mf_err *e)
{
	if (s->p.conn.tls == MF_TLS_IMPLICIT || mf_sock_unix_path(s->host) != NULL)
		return 0;
	return mf_tlsport_check_clear(s->io, s->host, s->port, &s->p.conn.sock,
	    s->p.conn.timeout_ms, e);
}

int
mf_session_starttls(struct mf_session *s, struct mf_err *e)
{
	memset(&s->tls, 0, sizeof(s->tls));
	s->tls_tried = 1;
	if (mf_lineio_starttls(s->io, &s->p.conn.tlsp, &s->tls, e) == -1)
		return -1;
	note_tls(s);
	return 0;
}

const struct mf_tls_info *
mf_session_tls(const struct mf_session *s)
{
	return s->tls_tried ? &s->tls : NULL;
}
