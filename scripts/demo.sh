#!/bin/sh
# `make demo`: the errata's story on the bundled example host, end to end.
# The host (examples/host): a FreeBSD 14 guest on Hyper-V running dovecot's
# imap-login and pop3-login from xinetd; dovecot died of "Time just moved
# backwards" several times in three days.
#
#   1. Diagnosis: every tool on the host as it is.
#   2. The fix, applied with the toolkit's own commands to a copy: the
#      errata's xinetd.d files, rc.conf lines as sysrc writes them, and
#      `ntpconf-edit -i unset step`; then the commands for the Hyper-V host.
#   3. The checks again: clean (exit 0), or the demo fails.
#   4. The same xinetd.d files on examples/host-dovecot2, a host with
#      dovecot 2.3, where the errata's recipe cannot work (2.0 removed inetd
#      support): xinetd-lint and clockcheck env say so and name the same fix,
#      or the demo fails.
#
# The tools exit non-zero when they find something, which is the point of
# part 1: exit codes are shown, not treated as failures.  The demo works on a
# copy, so the bundled example is never edited.
set -u
bin=${1:-target/release}
root=${2:-examples/host}
errata=${3:-examples/errata}
dovecot2=${4:-examples/host-dovecot2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp -Rp "$root" "$work/host"
# A checkout does not keep modification times: give the logs theirs, so the
# year of their BSD timestamps comes out right (maillog.1 is the oldest).
touch -d '2026-11-26 23:59:59' "$work/host/var/log/maillog.1.bz2"
touch -d '2026-11-27 23:59:59' "$work/host/var/log/maillog.0.bz2"
touch -d '2026-11-28 23:59:59' "$work/host/var/log/maillog"
host="$work/host"

run() {
    printf '\n$ %s\n' "$*" | sed "s|$work/||g"
    "$@" > "$work/out" 2>&1
    rc=$?
    sed "s|$work/||g" "$work/out"
    printf '[exit %s]\n' "$rc"
    return $rc
}

# FreeBSD's `sysrc -R ROOT name=value ...` where there is one; elsewhere the
# same edit of ROOT/etc/rc.conf: the last `name=` line is rewritten in place,
# or `name="value"` is appended, as sysrc does.
sysrc_in() {
    dir=$1
    shift
    printf '\n$ sysrc -R %s %s\n' "$dir" "$*" | sed "s|$work/||g"
    if command -v sysrc > /dev/null 2>&1; then
        sysrc -R "$dir" "$@"
        return
    fi
    for assignment in "$@"; do
        name=${assignment%%=*}
        value=${assignment#*=}
        file="$dir/etc/rc.conf"
        old=$(sed -n "s/^$name=\(.*\)/\1/p" "$file" | tail -n 1)
        if grep -q "^$name=" "$file"; then
            last=$(grep -n "^$name=" "$file" | tail -n 1 | cut -d: -f1)
            sed "${last}s/.*/$name=\"$value\"/" "$file" > "$file.new" && mv "$file.new" "$file"
        else
            printf '%s="%s"\n' "$name" "$value" >> "$file"
        fi
        old=$(printf '%s' "$old" | tr -d '"')
        printf '%s: %s -> %s\n' "$name" "${old:-(unset)}" "$value"
    done
}

echo "== The example host (examples/host): FreeBSD on Hyper-V, dovecot 1.2 under xinetd =="

echo
echo "== 1. Diagnosis =="
echo
echo "-- xinetd-lint: what xinetd will really do with imap, imaps, pop3, pop3s"
run "$bin/xinetd-lint" --root "$host" --services
run "$bin/xinetd-lint" --root "$host"
run "$bin/xinetd-lint" --explain XL043
echo
echo "-- maillog-grep: every time dovecot saw time go backwards, and why"
run "$bin/maillog-grep" --root "$host" --rotated -c
run "$bin/maillog-grep" --root "$host" --rotated --summary
echo
echo "-- ntpconf-edit: what ntpd does with the tinker lines"
run "$bin/ntpconf-edit" show --root "$host"
run "$bin/ntpconf-edit" check --root "$host"
echo
echo "-- clockcheck env: what keeps this guest's time, and the errata's advice"
run "$bin/clockcheck" env --root "$host"

echo
echo "== 2. The errata's fix, with the toolkit's own commands (on the copy) =="
echo
echo "-- the four xinetd.d files of the errata replace the broken ones"
printf '\n$ rm %s/etc/xinetd.d/*\n' "$host" | sed "s|$work/||g"
rm -f "$host"/etc/xinetd.d/*
printf '$ cp %s/xinetd.d/imap %s/xinetd.d/imaps %s/xinetd.d/pop3 %s/xinetd.d/pop3s %s/etc/xinetd.d/\n' \
    "$errata" "$errata" "$errata" "$errata" "$host" | sed "s|$work/||g"
cp "$errata"/xinetd.d/imap "$errata"/xinetd.d/imaps "$errata"/xinetd.d/pop3 \
    "$errata"/xinetd.d/pop3s "$host"/etc/xinetd.d/
echo
echo "-- rc.conf: ntpdate steps the clock at boot, before dovecot; ntpd keeps it right;"
echo "   the standalone dovecot stays off (xinetd runs its login processes)"
sysrc_in "$host" ntpdate_enable=YES ntpdate_flags=-b ntpd_enable=YES dovecot_enable=NO
echo
echo "-- ntp.conf: no \`tinker step 0\` (the boot-time and every later correction would crawl)"
run "$bin/ntpconf-edit" --diff unset step --root "$host"
run "$bin/ntpconf-edit" -i unset step --root "$host"
echo
echo "-- on the Hyper-V host (Windows, an elevated prompt): a reachable NTP server, 1 hour, not 7 days"
"$bin/clockcheck" env --format json --root "$host" > "$work/env.json"
# The commands of the item `hyperv-host-ntp`, one per line (no jq needed).
sed -n 's/.*"id":"hyperv-host-ntp"[^]]*"commands":\[\([^]]*\)\].*/\1/p' "$work/env.json" |
    awk '{ n = split($0, c, "\",\""); for (i = 1; i <= n; i++) print c[i] }' |
    sed 's/^"//; s/"$//; s/\\"/"/g; s/\\\\/\\/g; s/^/    /'

echo
echo "== 3. The checks again =="
clean=0
run "$bin/xinetd-lint" --root "$host" --services || clean=1
run "$bin/xinetd-lint" --root "$host" || clean=1
run "$bin/ntpconf-edit" check --root "$host" || clean=1
run "$bin/clockcheck" env --root "$host" || clean=1

echo
echo "== 4. The same xinetd.d files with dovecot 2.3 (examples/host-dovecot2) =="
echo "   Dovecot 2.0 removed inetd support: a login process xinetd starts never greets."
cp -Rp "$dovecot2" "$work/host2"
host2="$work/host2"
printf '\n$ rm %s/etc/xinetd.d/*\n' "$host2" | sed "s|$work/||g"
rm -f "$host2"/etc/xinetd.d/*
cp "$errata"/xinetd.d/imap "$errata"/xinetd.d/imaps "$errata"/xinetd.d/pop3 \
    "$errata"/xinetd.d/pop3s "$host2"/etc/xinetd.d/
printf '$ cp %s/xinetd.d/imap %s/xinetd.d/imaps %s/xinetd.d/pop3 %s/xinetd.d/pop3s %s/etc/xinetd.d/\n' \
    "$errata" "$errata" "$errata" "$errata" "$host2" | sed "s|$work/||g"
dovecot2_told=0
run "$bin/xinetd-lint" --root "$host2" --select XL048,XL049
grep -q '\[XL048\]' "$work/out" || dovecot2_told=1
run "$bin/clockcheck" env --root "$host2"
grep -q 'dovecot-2-under-xinetd' "$work/out" || dovecot2_told=1
grep -q 'dovecot_enable=NO' "$work/out" && dovecot2_told=1
echo
if [ "$dovecot2_told" -ne 0 ]; then
    echo "== NOT told: on dovecot 2.3 the tools did not say that the recipe cannot work. =="
    exit 1
fi
if [ "$clean" -eq 0 ]; then
    echo "== Clean: the example host (dovecot 1.2) has the errata's configuration; on dovecot 2.3 both tools say it cannot work and name the fix. =="
else
    echo "== NOT clean: a check above still reports a problem. =="
    exit 1
fi
exit 0
