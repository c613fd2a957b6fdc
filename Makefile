# mailflow - one non-recursive Makefile.
#
#   make                  build lib/libmailflow.a and every tool into bin/
#   make check            install missing packages, build, run every test
#   make check SANITIZE=1 the same under AddressSanitizer + UBSan
#   make interop          every tool against Exim and Cyrus IMAP/POP3/LMTP
#                         run from a private root (not part of make check)
#   make bench            compare speed with the peer tools (QUICK=1: a
#                         short run, under 5 minutes)
#   make soak             imap-sync --idle for 30 minutes under trouble
#   make fuzz             fuzz every parser (FUZZ_SECONDS each, default 30)
#   make env-up/env-down  start/stop the real-server test bed for people
#   make demo             the mail-flow demo against the local bed
#   make install PREFIX=/usr/local DESTDIR=   (make uninstall: the same
#                         variables; make install-sendmail: the sendmail link)

# The one version of mailflow (every tool's --version and --json).
VERSION := 0.2.0

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
ENV_DIR ?= /tmp/mailflow-bed

ifeq ($(SANITIZE),1)
BUILD   := build-san
BINDIR  := build-san/bin
LIBA    := build-san/libmailflow.a
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
else
BUILD   := build
BINDIR  := bin
LIBA    := lib/libmailflow.a
SANFLAGS :=
endif

PKGS      := gnutls libmagic gpgme libcrypto libidn2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lgnutls -lmagic -lgpgme -lcrypto -lidn2)
# -Werror in a git checkout (developers, land.sh) and in make check; a
# release or package build (debian/rules: WERROR=0) must not fail on a newer
# compiler's new warning.
WERROR    ?= $(if $(wildcard .git),1,0)
check: export WERROR = 1
MF_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) \
             -Wshadow -Wstrict-prototypes -Wformat=2 -Ilib $(PKG_CFLAGS) $(SANFLAGS) \
             -DMF_SYSCONFDIR='"$(SYSCONFDIR)"'
MF_LDFLAGS = $(SANFLAGS)
MF_LIBS    = $(PKG_LIBS) -lresolv -lm

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC))
TOOL_SRC  := $(wildcard cmd/*.c)
TOOLS     := $(patsubst cmd/%.c,$(BINDIR)/%,$(TOOL_SRC))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNITS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
MANS      := $(wildcard man/*.[1-8])

.PHONY: all build check check-run deps deps-build unit fake integration \
        lint-man check-layers check-completions bench fuzz env-up env-down demo install interop \
        check-fresh clean install-sendmail uninstall deb FORCE

# Every entry point a person types first installs what is missing
# (tests/deps.sh holds the one package list; MF_NO_DEPS=1 skips it), then
# does its work in a sub-make, so that cc and pkg-config are looked up only
# after the install.
all: deps-build
	@$(MAKE) --no-print-directory build

build: $(LIBA) $(TOOLS)

# "0.2.0", plus " (gHASH[-dirty])" when built from a git checkout; only
# lib/cli.c sees it, rebuilt when the stamp's text changes.
GIT_DESC    := $(or $(MF_GIT_DESC),$(shell git describe --always --dirty 2>/dev/null))
GIT_BARE    := $(shell echo '$(GIT_DESC)' | grep -E '^[0-9a-f]+(-dirty)?$$')
FULL_VERSION := $(VERSION)$(if $(GIT_DESC), ($(if $(GIT_BARE),g)$(GIT_DESC)))

$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FULL_VERSION)' | cmp -s - $@ || echo '$(FULL_VERSION)' >$@

$(BUILD)/lib/cli.o: $(BUILD)/version.stamp
$(BUILD)/lib/cli.o: MF_CPPFLAGS += -DMF_VERSION='"$(FULL_VERSION)"'

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MF_CPPFLAGS) $(CPPFLAGS) $(MF_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cmd/%.o: cmd/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(MF_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BINDIR)/%: $(BUILD)/cmd/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(MF_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(MF_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(MF_CFLAGS) $(CFLAGS) -Wno-shadow -Wno-strict-prototypes \
	    -Itests/unit -o $@ $< $(LIBA) $(MF_LDFLAGS) $(LDFLAGS) \
	    -lcriterion $(MF_LIBS)

check: deps
	@$(MAKE) --no-print-directory check-run

deps:
	@bash tests/deps.sh all

deps-build:
	@bash tests/deps.sh build

check-run: build $(UNITS)
	@bash tests/run-all.sh "$(BUILD)" "$(BINDIR)"

unit: $(UNITS)
	@bash tests/run-unit.sh "$(BUILD)"

fake: build
	@MF_BIN="$(CURDIR)/$(BINDIR)" bash tests/fake/run-cases.sh

integration: build
	@MF_BIN="$(CURDIR)/$(BINDIR)" bash tests/run-integration.sh

# The interop layer: Exim and Cyrus unpacked from their .debs (tests/deps.sh
# interop downloads them once into /var/cache/mailflow-interop) into a
# temporary root; outside make check because it needs that download and a
# few minutes.  INTEROP=FILTER runs only the matching tests.
interop:
	@bash tests/deps.sh interop
	@$(MAKE) --no-print-directory build
	@MF_BIN="$(CURDIR)/$(BINDIR)" bash tests/interop/run.sh $(INTEROP)

lint-man:
	@bash tests/lint-man.sh

# lib/'s dependencies one way: no cycle, no upward include, no protocol
# command outside its module, no call circle (tests/check-layers.py).
check-layers: build
	@MF_BUILD="$(CURDIR)/$(BUILD)" /usr/bin/python3 tests/check-layers.py

check-completions: build
	@MF_BIN="$(CURDIR)/$(BINDIR)" bash tests/check-completions.sh

bench: deps
	@$(MAKE) --no-print-directory build
	@BENCH_QUICK=$(QUICK) bash tests/bench/run.sh

# 30 minutes, 5 server restarts, 5 dropped connections, 1 silent one
soak: all
	@MF_BIN="$(CURDIR)/$(BINDIR)" nice bash tests/soak/soak.sh 1800 5 5 1

FUZZ_SECONDS ?= 30
fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

env-up: deps
	@$(MAKE) --no-print-directory build
	@bash tests/demo.sh --up-only "$(ENV_DIR)"

env-down:
	@bash tests/demo.sh --down "$(ENV_DIR)"

demo: deps
	@$(MAKE) --no-print-directory build
	@bash tests/demo.sh "$(ENV_DIR)"

# The README's commands on a fresh Debian 12 root (debootstrap): make demo,
# make check, make env-down && make demo.  FRESH_CACHE keeps the debootstrap
# tarball between runs (never the installed packages).
FRESH_CACHE ?= /var/cache/mailflow-fresh
check-fresh:
	@bash tests/fresh/check-fresh.sh "$(FRESH_CACHE)"

# Where things go (Debian's paths): bash-completion's completionsdir (from
# its pkg-config file, under PREFIX), zsh's vendor-completions (in Debian
# zsh's fpath; site-functions is not), fish's vendor_completions.d.
BINDIR_I    ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/mailflow
BASHCOMPDIR ?= $(or $(shell pkg-config --define-variable=datadir=$(PREFIX)/share \
               --variable=completionsdir bash-completion 2>/dev/null), \
               $(PREFIX)/share/bash-completion/completions)
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
FISHFUNCDIR ?= $(PREFIX)/share/fish/vendor_functions.d
FISHSHARED  := __mailflow_client_complete.fish
TOOL_NAMES  := $(patsubst cmd/%.c,%,$(TOOL_SRC))

install: build
	install -d $(DESTDIR)$(BINDIR_I) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
	    $(DESTDIR)$(FISHFUNCDIR)
	for t in $(TOOLS); do install -m 755 $$t $(DESTDIR)$(BINDIR_I)/; done
	for m in $(MANS); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -m 644 man/mailflow.schema.json $(DESTDIR)$(DOCDIR)/
	for t in $(TOOL_NAMES); do \
	    install -m 644 completions/bash/$$t $(DESTDIR)$(BASHCOMPDIR)/ && \
	    install -m 644 completions/zsh/_$$t $(DESTDIR)$(ZSHCOMPDIR)/ && \
	    install -m 644 completions/fish/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/ \
	    || exit 1; done
	install -m 644 completions/fish/functions/$(FISHSHARED) \
	    $(DESTDIR)$(FISHFUNCDIR)/

# The Debian package, built from a clean copy of the committed tree in
# build/deb (dpkg-buildpackage writes next to the source directory), then
# checked with lintian: any error fails.
deb:
	rm -rf build/deb && mkdir -p build/deb/src
	git archive --format=tar HEAD | tar -x -C build/deb/src
	cd build/deb/src && MF_GIT_DESC="$(GIT_DESC)" dpkg-buildpackage -us -uc -b
	lintian --fail-on error build/deb/mailflow_$(VERSION)_*.deb

# Optional: mailsend as sendmail(8) for cron and other callers.
install-sendmail:
	install -d $(DESTDIR)$(SBINDIR)
	ln -sf $(BINDIR_I)/mailsend $(DESTDIR)$(SBINDIR)/sendmail

uninstall:
	for t in $(TOOL_NAMES); do rm -f $(DESTDIR)$(BINDIR_I)/$$t \
	    $(DESTDIR)$(MANDIR)/man1/$$t.1 $(DESTDIR)$(BASHCOMPDIR)/$$t \
	    $(DESTDIR)$(ZSHCOMPDIR)/_$$t $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; done
	rm -f $(DESTDIR)$(FISHFUNCDIR)/$(FISHSHARED)
	rm -f $(DESTDIR)$(MANDIR)/man5/mailflow.5 \
	    $(DESTDIR)$(MANDIR)/man7/mailflow.7 \
	    $(DESTDIR)$(DOCDIR)/mailflow.schema.json
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	if [ "$$(readlink $(DESTDIR)$(SBINDIR)/sendmail 2>/dev/null)" = \
	    "$(BINDIR_I)/mailsend" ]; then rm -f $(DESTDIR)$(SBINDIR)/sendmail; fi

FORCE:

clean:
	rm -rf build build-san build-clang build-fuzz bin lib/libmailflow.a
