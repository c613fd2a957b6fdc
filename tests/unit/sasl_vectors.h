/* sasl_vectors.h - SCRAM test vectors (RFC 5802 §5, RFC 7677 §3, and
 * channel-binding cases computed independently), shared by the mechanism
 * tests and the exchange tests. */
#ifndef MF_TEST_SASL_VECTORS_H
#define MF_TEST_SASL_VECTORS_H

#include <stddef.h>

struct scram_vec {
	const char *mech, *user, *nonce, *server_first, *client_final,
	    *server_final;
	const unsigned char *cb;
	size_t cb_len;
	const char *client_first;
	const char *cb_type;        /* NULL: tls-exporter */
	int server_plus;            /* the server offered a -PLUS mechanism */
};

static const unsigned char cb32[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};

static const struct scram_vec scram_vecs[] = {
	/* RFC 5802 §5 */
	{ "SCRAM-SHA-1", "user", "fyko+d2lbbFgONRv9qkxdawL",
	  "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
	  "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	  "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	  "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", NULL, 0,
	  "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", NULL, 0 },
	/* RFC 7677 §3 */
	{ "SCRAM-SHA-256", "user", "rOprNGfwEbeRWgbNEkqO",
	  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	  "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", NULL, 0,
	  "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", NULL, 0 },
	/* -PLUS with tls-exporter data; expected values computed
	 * independently with Python's hashlib/hmac. */
	{ "SCRAM-SHA-256-PLUS", "user", "abcdefgh",
	  "r=abcdefghSERVER,s=c2FsdHktc2FsdA==,i=4096",
	  "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f,"
	  "r=abcdefghSERVER,p=YhBa4Nsviba6ClLXLSxUSleWQbXsRj4exTToJtDAJ+g=",
	  "v=Zw3wKRttGimBQDV9GqP3SScGRZ8OrrtY4oczoQFicgs=", cb32, 32,
	  "p=tls-exporter,,n=user,r=abcdefgh", NULL, 0 },
	/* Non-PLUS on TLS: "y"; '=' and ',' in the name escaped. */
	{ "SCRAM-SHA-256", "us=er,x", "abcdefgh",
	  "r=abcdefghSERVER,s=c2FsdHktc2FsdA==,i=4096",
	  "c=eSws,r=abcdefghSERVER,p=SYePE3GqWD2cIIuOeLLfmaLJ3ZGyn+Q2b+qEFtSBfG8=",
	  "v=PvyXJptoHE3pkLs9lNQE77p8YbNlIsjhBjQaKtkcWD0=", cb32, 32,
	  "y,,n=us=3Der=2Cx,r=abcdefgh", NULL, 0 },
	/* -PLUS with tls-unique (RFC 5929, TLS 1.2: 12 bytes of Finished);
	 * expected values computed independently with Python's hashlib. */
	{ "SCRAM-SHA-256-PLUS", "user", "abcdefgh",
	  "r=abcdefghSERVER,s=c2FsdHktc2FsdA==,i=4096",
	  "c=cD10bHMtdW5pcXVlLCwAAQIDBAUGBwgJCgs=,r=abcdefghSERVER,"
	  "p=gvBOMqYG/3q3a+6tjEiYGHJa+It1L7yweSWE6KYtKzc=",
	  "v=CEpVXpGXGt1bbrGHK8XK4mZdw0DDvkds2eO070HyidY=", cb32, 12,
	  "p=tls-unique,,n=user,r=abcdefgh", "tls-unique", 1 },
	/* Could bind, but the server offered -PLUS and we do not bind: "n",
	 * since "y" there means a downgrade the server must refuse (RFC
	 * 5802 §6). */
	{ "SCRAM-SHA-256", "user", "abcdefgh",
	  "r=abcdefghSERVER,s=c2FsdHktc2FsdA==,i=4096",
	  "c=biws,r=abcdefghSERVER,p=ALn28BrI6bZKmTe0wyKgj5v8aTVpexg/xXetrUk+31Q=",
	  "v=rduvWLp/2i3C1t4+cjR0sq3LKM89DqH/iHn5acAndNg=", cb32, 32,
	  "n,,n=user,r=abcdefgh", NULL, 1 },
};

#endif
