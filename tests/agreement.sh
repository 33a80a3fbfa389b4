#!/bin/sh
# Cross-tool agreement (issue 20): on every example tree and on trees built
# here (FreeBSD with rc.conf.d, Linux with systemd units, chrony,
# systemd-timesyncd), the facts each tool prints about the same thing must
# be equal:
#   dovecot (generation, version, what enables the standalone daemon, its
#     ports): clockcheck env's `dovecot` = xinetd-lint --host-facts'
#     `dovecot`; its generation = maillog-grep --summary's
#     `dovecot_generation` (where the tree has a maillog);
#   the xinetd services that run dovecot's login processes: clockcheck
#     env's `xinetd_dovecot_services` = xinetd-lint --host-facts' = those
#     xinetd-lint --services lists (active, or rejected only for XL043,
#     with an imap-login/pop3-login server);
#   the daemon that keeps the time: clockcheck env's `time_keeper` =
#     ntpconf-edit keeper's.
# The hypervisor is stated by clockcheck env alone (no other tool prints
# it), so there is nothing to compare it with; each tree's expected
# hypervisor is checked against env so the fact is at least pinned.
#
# Run by `make test` after the cargo tests (it uses their debug binaries).
# Needs jq.
set -u
cd "$(dirname "$0")/.."
bin=${BIN:-target/debug}
command -v jq > /dev/null || { echo "agreement: jq is missing" >&2; exit 2; }
work=$(mktemp -d)
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT INT TERM
passed=0
failed=0

fail() {
    echo "FAIL $tree: $*"
    failed=$((failed + 1))
}

# same WHAT A B: A and B are the same JSON value.
same() {
    if [ "$(printf '%s' "$2" | jq -cS .)" = "$(printf '%s' "$3" | jq -cS .)" ]; then
        passed=$((passed + 1))
    else
        fail "$1 differs: $2 vs $3"
    fi
}

# agree ROOT HYPERVISOR GENERATION KEEPER SERVICES: every comparison on one tree,
# plus what the tree was built to show (so that agreement on nothing fails).
agree() {
    tree=$1
    env=$("$bin/clockcheck" env --root "$tree" --format json)
    facts=$("$bin/xinetd-lint" --root "$tree" --host-facts --format json)
    keeper=$("$bin/ntpconf-edit" --root "$tree" --format json keeper)
    shown_root=$(printf '%s' "$tree" | sed 's:/*$::')
    # (Without an xinetd.conf, --services says so on stderr and lists none.)
    listed=$("$bin/xinetd-lint" --root "$tree" --services --format json 2> /dev/null |
        jq -s --arg root "$shown_root" '[.[]
            | select(.status == "active" or (.status == "rejected" and (.reasons | length > 0) and all(.reasons[]; . == "XL043")))
            | select((.server_written // "") | test("/(imap|pop3)-login$"))
            | "\(.file | ltrimstr($root)): \(.name)"]')
    same dovecot "$(printf '%s' "$env" | jq .dovecot)" "$(printf '%s' "$facts" | jq .dovecot)"
    same "xinetd dovecot services (env, --host-facts)" \
        "$(printf '%s' "$env" | jq .xinetd_dovecot_services)" "$(printf '%s' "$facts" | jq .xinetd_dovecot_services)"
    same "xinetd dovecot services (env, --services)" \
        "$(printf '%s' "$env" | jq .xinetd_dovecot_services)" "$listed"
    same "time keeper" "$(printf '%s' "$env" | jq .time_keeper)" "$(printf '%s' "$keeper" | jq .time_keeper)"
    if [ -f "$tree/var/log/maillog" ]; then
        generations=$("$bin/maillog-grep" --root "$tree" --summary --format json /var/log/maillog |
            jq -s '[.[].dovecot_generation] | unique')
        same "dovecot generation (maillog-grep)" "[$(printf '%s' "$env" | jq .dovecot.generation)]" "$generations"
    fi
    same "hypervisor (as built)" "$(printf '%s' "$env" | jq .hypervisor)" "$2"
    same "dovecot generation (as built)" "$(printf '%s' "$env" | jq .dovecot.generation)" "\"$3\""
    same "time keeper (as built)" "$(printf '%s' "$env" | jq .time_keeper)" "\"$4\""
    same "xinetd dovecot services (as built)" "$(printf '%s' "$env" | jq -c .xinetd_dovecot_services)" "$5"
}

# A FreeBSD guest on Hyper-V whose dovecot 2.3 is enabled in rc.conf.d, with
# the errata's xinetd services (imap's server missing: not run).
freebsd=$work/freebsd
mkdir -p "$freebsd/etc/rc.conf.d" "$freebsd/usr/local/libexec/dovecot" \
    "$freebsd/usr/local/etc/dovecot"
cp examples/host/sysctl.out "$freebsd/"
for f in protocols services passwd group ntp.conf; do cp "examples/host/etc/$f" "$freebsd/etc/"; done
cp -R examples/errata/xinetd.d "$freebsd/etc/xinetd.d"
printf 'includedir /etc/xinetd.d\n' > "$freebsd/etc/xinetd.conf"
printf 'ntpd_enable="YES"\nxinetd_enable="YES"\ndovecot_enable="NO"\n' > "$freebsd/etc/rc.conf"
printf '# local\ndovecot_enable="YES"\n' > "$freebsd/etc/rc.conf.d/dovecot"
printf 'protocols = imap pop3\nservice imap-login {\n  inet_listener imap {\n    port = 1143\n  }\n}\n' \
    > "$freebsd/usr/local/etc/dovecot/dovecot.conf"
printf '#!/bin/sh\n' > "$freebsd/usr/local/libexec/dovecot/pop3-login"
chmod 755 "$freebsd/usr/local/libexec/dovecot/pop3-login"
mkdir -p "$freebsd/usr/local/share/licenses/dovecot-2.3.21.1"
printf '_LICENSE=LGPL21 MIT\n' > "$freebsd/usr/local/share/licenses/dovecot-2.3.21.1/catalog.mk"

# A Debian guest on KVM: chrony, dovecot 2.3 socket-activated, xinetd
# running imap through dovecot's imap-login.
linux=$work/linux
mkdir -p "$linux/etc/systemd/system/multi-user.target.wants" \
    "$linux/etc/systemd/system/sockets.target.wants" "$linux/lib/systemd/system" \
    "$linux/etc/chrony" "$linux/etc/xinetd.d" "$linux/var/lib/dpkg" \
    "$linux/usr/lib/dovecot" "$linux/sys/class/dmi/id"
printf 'ID=debian\nVERSION_ID="12"\n' > "$linux/etc/os-release"
printf 'QEMU\n' > "$linux/sys/class/dmi/id/sys_vendor"
printf 'Standard PC (Q35 + ICH9, 2009)\n' > "$linux/sys/class/dmi/id/product_name"
printf 'pool 2.debian.pool.ntp.org iburst\nmakestep 1 3\n' > "$linux/etc/chrony/chrony.conf"
for unit in chrony.service dovecot.service dovecot.socket xinetd.service; do
    printf '[Unit]\n' > "$linux/lib/systemd/system/$unit"
done
ln -s /lib/systemd/system/chrony.service "$linux/etc/systemd/system/multi-user.target.wants/"
ln -s /lib/systemd/system/xinetd.service "$linux/etc/systemd/system/multi-user.target.wants/"
ln -s /lib/systemd/system/dovecot.socket "$linux/etc/systemd/system/sockets.target.wants/"
printf 'Package: dovecot-core\nStatus: install ok installed\nVersion: 1:2.3.19.1+dfsg1-2.1\n\n' \
    > "$linux/var/lib/dpkg/status"
for f in protocols services passwd group; do cp "examples/host/etc/$f" "$linux/etc/"; done
printf 'includedir /etc/xinetd.d\n' > "$linux/etc/xinetd.conf"
printf 'service imap\n{\n\tsocket_type = stream\n\twait = no\n\tuser = root\n\tserver = /usr/lib/dovecot/imap-login\n}\n' \
    > "$linux/etc/xinetd.d/imap"
printf '#!/bin/sh\n' > "$linux/usr/lib/dovecot/imap-login"
chmod 755 "$linux/usr/lib/dovecot/imap-login"

# A Linux guest on VMware with systemd-timesyncd and no dovecot.
timesyncd=$work/timesyncd
mkdir -p "$timesyncd/etc/systemd/system" "$timesyncd/sys/class/dmi/id"
printf 'ID=ubuntu\n' > "$timesyncd/etc/os-release"
printf 'VMware, Inc.\n' > "$timesyncd/sys/class/dmi/id/sys_vendor"
printf '[Time]\nNTP=ntp.example.org\n' > "$timesyncd/etc/systemd/timesyncd.conf"

# examples/host: imap is set to run (only the standalone dovecot's port
# keeps it: XL043); imaps names a server the tree lacks, pop3 is disabled,
# pop3s is dropped for `server=` without a blank.
agree examples/host '"Hyper-V"' 1.x ntpd '["/etc/xinetd.d/imap: imap"]'
agree examples/host-dovecot2 '"Hyper-V"' 2.x ntpd '["/etc/xinetd.d/imap: imap"]'
agree "$freebsd" '"Hyper-V"' 2.x ntpd '["/etc/xinetd.d/pop3: pop3","/etc/xinetd.d/pop3s: pop3s"]'
agree "$linux" '"KVM"' 2.x chronyd '["/etc/xinetd.d/imap: imap"]'
agree "$timesyncd" '"VMware"' unknown systemd-timesyncd '[]'

echo "agreement: $passed comparisons agree, $failed differ"
[ "$failed" -eq 0 ]
