# Plain POSIX make: GNU make and BSD make (Debian's bmake, FreeBSD's make)
# run every target.  Packaging: `make && make install DESTDIR=$STAGEDIR`;
# PREFIX, BINDIR, MANDIR and DATADIR can be overridden on the command line.
.POSIX:

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share
MANDIR = $(DATADIR)/man
BASHCOMPDIR = $(DATADIR)/bash-completion/completions
ZSHCOMPDIR = $(DATADIR)/zsh/site-functions
FISHCOMPDIR = $(DATADIR)/fish/vendor_completions.d
CARGO = cargo
INSTALL = install
# Cargo profile to build and the directory it writes to.
PROFILE = release
BUILDDIR = target/release
# The binaries that write the man pages and completions at install time: the
# installed ones, unless they cannot run here (a cross build, as
# `make freebsd-check` stages the FreeBSD port with host-built ones).
GENDIR = $(BUILDDIR)

TOOLS = xinetd-lint ntpconf-edit maillog-grep clockcheck

all:
	$(CARGO) build --profile $(PROFILE) --locked

# Installs what the tests need that is missing (never removing or replacing
# an installed package; chrony and NTPsec only unpacked under
# target/test-tools), runs every test, then lists the tests that skipped.
SKIP_LOG = target/test-skips.log
test:
	sh scripts/test-apt-plans.sh
	sh scripts/install-test-deps.sh
	mkdir -p target && : > $(SKIP_LOG)
	MAILHOST_TEST_SKIPS="$$(pwd)/$(SKIP_LOG)" $(CARGO) test --workspace --locked
	sh tests/hostile.sh
	sh tests/agreement.sh
	sh scripts/demo.sh target/debug examples/host > target/demo.log 2>&1 || { cat target/demo.log; exit 1; }
	@tail -1 target/demo.log
	MAILHOST_TEST_SKIPS="$$(pwd)/$(SKIP_LOG)" sh scripts/oracle-fuzz-slice.sh
	MAILHOST_TEST_SKIPS="$$(pwd)/$(SKIP_LOG)" sh scripts/test-install.sh
	MAILHOST_TEST_SKIPS="$$(pwd)/$(SKIP_LOG)" sh scripts/test-packaging.sh
	@sh scripts/report-skips.sh $(SKIP_LOG)

# -W clippy::too_many_lines with clippy.toml's threshold: no function over 120 code
# lines (issue 23).
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings -W clippy::too_many_lines
	# The fuzz crate is outside the workspace: compile its targets here, so a
	# library change that breaks them shows now, not in CI's last step.
	$(CARGO) check --manifest-path fuzz/Cargo.toml --bins --locked

bench: all
	sh scripts/install-test-deps.sh
	sh scripts/bench.sh $(BUILDDIR)

# Every fuzz target for FUZZ_SECONDS each (CI: 15 s, two minutes in all),
# from libFuzzer's seed FUZZ_SEED: a fixed one, so that a CI run can be
# repeated; FUZZ_SEED=0 draws one (and prints it).
FUZZ_SECONDS = 15
FUZZ_SEED = 1
fuzz:
	FUZZ_SEED=$(FUZZ_SEED) sh scripts/fuzz.sh $(FUZZ_SECONDS)

# The long runs that grow fuzz/seeds/ (by hand, a few targets at a time:
# make fuzz-long FUZZ_TARGETS="xinetd_config maillog_lines" FUZZ_LONG_SECONDS=3600;
# empty: every target, scripts/fuzz-targets.sh).
FUZZ_TARGETS =
FUZZ_LONG_SECONDS = 3600
fuzz-long:
	FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) sh scripts/fuzz-long.sh

# The Debian package, built by debian/rules with debhelper, written to
# target/debian/.  DEB_BUILD_OPTIONS=noopt builds from target/debug.
DEBDIR = target/debian
deb:
	mkdir -p $(DEBDIR)
	dpkg-buildpackage -b --no-sign \
		--buildinfo-option=-u$(DEBDIR) --buildinfo-option=-O$(DEBDIR)/mailhost-toolkit.buildinfo \
		--changes-option=-u$(DEBDIR) --changes-option=-O$(DEBDIR)/mailhost-toolkit.changes

# The source tarball the FreeBSD port builds from (packaging/freebsd/),
# from the committed tree.
VERSION = 0.1.0
dist:
	mkdir -p target
	git archive --format=tar.gz --prefix=mailhost-toolkit-$(VERSION)/ \
		-o target/mailhost-toolkit-$(VERSION).tar.gz HEAD

# The differential fuzzer of xinetd-lint against the real xinetd (root; see
# scripts/oracle-fuzz-xinetd.sh).  `make test` runs a short fixed-seed slice.
SEED = 14
COUNT = 2000
oracle-fuzz-xinetd:
	NICE=10 sh scripts/oracle-fuzz-xinetd.sh $(SEED) $(COUNT)

# Every differential fuzzer, long runs (not in CI's default run).
oracle-fuzz: oracle-fuzz-xinetd oracle-fuzz-ntp
# ntpconf-edit against both real ntpd dialects, 500 generated files (not in
# CI's default run; `make test` runs a 20-file slice).
oracle-fuzz-ntp:
	sh scripts/oracle-fuzz-ntp.sh

# The real dovecot 2.3 (unpacked by scripts/install-test-deps.sh) under the
# real xinetd and libfaketime, in private namespaces (root): greetings, the
# status=89 exits, the time-moved-backwards lines; then the tools on them.
oracle-dovecot:
	cargo test -p xinetd-lint --test dovecot_oracle
	cargo test -p maillog-grep --test dovecot_oracle

# The workspace type-checked, linted (-D warnings) and linked for
# x86_64-unknown-freebsd with Debian's Rust and zig unpacked under target/,
# and the FreeBSD port staged with the linked binaries (docs/packaging.md).
freebsd-check:
	sh scripts/freebsd-check.sh

demo: all
	sh scripts/demo.sh $(BUILDDIR) examples/host

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for t in $(TOOLS); do \
		$(INSTALL) -m 755 $(BUILDDIR)/$$t $(DESTDIR)$(BINDIR)/$$t && \
		$(GENDIR)/$$t --generate man > $(DESTDIR)$(MANDIR)/man8/$$t.8 && \
		$(GENDIR)/$$t --generate bash > $(DESTDIR)$(BASHCOMPDIR)/$$t && \
		$(GENDIR)/$$t --generate zsh > $(DESTDIR)$(ZSHCOMPDIR)/_$$t && \
		$(GENDIR)/$$t --generate fish > $(DESTDIR)$(FISHCOMPDIR)/$$t.fish && \
		chmod 644 $(DESTDIR)$(MANDIR)/man8/$$t.8 \
			$(DESTDIR)$(BASHCOMPDIR)/$$t \
			$(DESTDIR)$(ZSHCOMPDIR)/_$$t \
			$(DESTDIR)$(FISHCOMPDIR)/$$t.fish \
		|| exit 1; \
	done

uninstall:
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man8/$$t.8 \
			$(DESTDIR)$(BASHCOMPDIR)/$$t \
			$(DESTDIR)$(ZSHCOMPDIR)/_$$t \
			$(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done

clean:
	$(CARGO) clean

.PHONY: all test check bench fuzz fuzz-long oracle-fuzz oracle-fuzz-xinetd oracle-fuzz-ntp oracle-dovecot deb dist freebsd-check demo install uninstall clean
