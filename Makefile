# Plain POSIX make: GNU make and BSD make (Debian's bmake, FreeBSD's make)
# run every target.  Packaging: `make && make install DESTDIR=$STAGEDIR`;
# PREFIX, BINDIR, MANDIR and DATADIR can be overridden on the command line.
.POSIX:

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share
MANDIR = $(DATADIR)/man
CARGO = cargo
INSTALL = install
# Cargo profile to build and the directory it writes to.
PROFILE = release
BUILDDIR = target/release

TOOLS = xinetd-lint ntpconf-edit maillog-grep clockcheck

all:
	$(CARGO) build --profile $(PROFILE) --locked

# Installs what the tests need that is missing (xinetd, chrony, libfaketime,
# compressors, bmake, NTPsec's ntpd unpacked), then runs every test.
test:
	sh scripts/install-test-deps.sh
	$(CARGO) test --workspace --locked
	sh tests/hostile.sh
	JOBS=2 OUT= sh scripts/oracle-fuzz-xinetd.sh 14 300 > target/oracle-fuzz-xinetd-slice.txt || { tail -40 target/oracle-fuzz-xinetd-slice.txt; exit 1; }
	grep '^oracle-fuzz-xinetd: seed' target/oracle-fuzz-xinetd-slice.txt
	sh scripts/test-install.sh

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench: all
	sh scripts/install-test-deps.sh
	sh scripts/bench.sh $(BUILDDIR)

# Every fuzz target for FUZZ_SECONDS each (CI: 15 s, a minute in all).
FUZZ_SECONDS = 15
fuzz:
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

# The differential fuzzer of xinetd-lint against the real xinetd (root; see
# scripts/oracle-fuzz-xinetd.sh).  `make test` runs a short fixed-seed slice.
SEED = 14
COUNT = 2000
oracle-fuzz-xinetd:
	NICE=10 sh scripts/oracle-fuzz-xinetd.sh $(SEED) $(COUNT)

demo: all
	sh scripts/demo.sh $(BUILDDIR) examples/host

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(DATADIR)/zsh/site-functions \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	for t in $(TOOLS); do \
		$(INSTALL) -m 755 $(BUILDDIR)/$$t $(DESTDIR)$(BINDIR)/$$t && \
		$(BUILDDIR)/$$t --generate man > $(DESTDIR)$(MANDIR)/man8/$$t.8 && \
		$(BUILDDIR)/$$t --generate bash > $(DESTDIR)$(DATADIR)/bash-completion/completions/$$t && \
		$(BUILDDIR)/$$t --generate zsh > $(DESTDIR)$(DATADIR)/zsh/site-functions/_$$t && \
		$(BUILDDIR)/$$t --generate fish > $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$t.fish && \
		chmod 644 $(DESTDIR)$(MANDIR)/man8/$$t.8 \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/$$t \
			$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$t \
			$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$t.fish \
		|| exit 1; \
	done

uninstall:
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man8/$$t.8 \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/$$t \
			$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$t \
			$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$t.fish; \
	done

clean:
	$(CARGO) clean

.PHONY: all test check bench fuzz oracle-fuzz-xinetd demo install uninstall clean
