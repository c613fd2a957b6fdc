/* shard.h - split a list of names into N disjoint, stable slices.
 *
 * A name's shard is a hash of its canonical form (A-labels, ASCII lower
 * case, no trailing dot) modulo N, so the same name lands in the same shard on
 * every run, on every host and in every retry, whatever order or split the
 * input arrives in.  The hash is 64-bit FNV-1a: fixed by this contract, as
 * shards computed by different versions must agree.  Pure functions.
 *
 * Must not: do I/O, print or exit. */
#ifndef MF_SHARD_H
#define MF_SHARD_H

#define MF_SHARD_N_MAX 1000000

/* Parse "K/N" with 0 <= K < N <= MF_SHARD_N_MAX (K counts from 0, as a
 * Kubernetes JOB_COMPLETION_INDEX does).  0, or -1 when malformed. */
int mf_shard_parse(const char *s, unsigned *k, unsigned *n);

/* 64-bit FNV-1a of name's canonical form. */
unsigned long long mf_shard_hash(const char *name);

/* The shard of name among n (0 .. n-1); n 0 or 1: always 0. */
unsigned mf_shard_of(const char *name, unsigned n);

#endif
