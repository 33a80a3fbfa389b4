#!/bin/sh
# Hostile input for every binary: each case must end with the expected exit
# code, within its time limit, with no panic (exit 101), at most one line on
# stderr, and (for the decompression bomb) flat memory.
#
# Run by `make test` after the cargo tests (it uses their debug binaries).
set -u
cd "$(dirname "$0")/.."
bin=${BIN:-target/debug}
work=$(mktemp -d)
trap 'umount "$work/full" 2>/dev/null; chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
passed=0
failed=0

# check NAME CODES LIMIT CMD...: CODES is a space-separated list of allowed
# exit codes; LIMIT the seconds the case may take.
check() {
    name=$1 codes=$2 limit=$3
    shift 3
    timeout -k 5 "$limit" "$@" > "$work/out" 2> "$work/err" < /dev/null
    rc=$?; [ -n "${HOSTILE_VERBOSE:-}" ] && echo "SIGTERM mid-write ($how): exit $rc" >&2
    lines=$(wc -l < "$work/err")
    problem=""
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then problem="did not finish within ${limit}s"
    elif [ $rc -eq 101 ]; then problem="panicked: $(head -c 300 "$work/err")"
    elif ! echo " $codes " | grep -q " $rc "; then problem="exit $rc, expected one of: $codes; stderr: $(head -c 300 "$work/err")"
    elif [ "$lines" -gt 1 ]; then problem="$lines lines on stderr: $(head -c 300 "$work/err")"
    fi
    if [ -z "$problem" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: $problem" >&2
    fi
}

# The inputs.
: > "$work/empty"
printf '\n\n\n\n\n' > "$work/newlines"
head -c 100000000 /dev/zero | tr '\0' 'x' > "$work/long-line"          # 100 MB, no newline
head -c 1048576 /dev/zero > "$work/nul"
head -c 1048576 /dev/urandom > "$work/random"                          # invalid UTF-8 too
mkdir "$work/dir"
mkfifo "$work/fifo"
ln -s loop-b "$work/loop-a"
ln -s loop-a "$work/loop-b"
mkdir "$work/locked"
cp tests/fixtures/xinetd.d/033-imap "$work/locked/file"
chmod 000 "$work/locked"
truncate -s 2G "$work/sparse"                                          # 2 GB of holes
mkdir -p "$work/root/etc" "$work/root/var/log"

# Feeds the FIFO in the background while a case reads it.
feed() { (sleep 0.2; printf 'line one\nline two\n' > "$work/fifo") & }

nobody="setpriv --reuid=65534 --regid=65534 --clear-groups --"

for f in empty newlines nul random; do
    check "maillog-grep $f" "1" 30 "$bin/maillog-grep" "$work/$f"
    check "xinetd-lint $f" "0 1" 30 "$bin/xinetd-lint" "$work/$f"
    check "ntpconf-edit show $f" "0" 30 "$bin/ntpconf-edit" show "$work/$f"
    check "ntpconf-edit set $f" "0" 30 "$bin/ntpconf-edit" set panic=0 "$work/$f"
    check "clockcheck --conf $f" "3" 30 "$bin/clockcheck" -t 1 --conf "$work/$f"
done

# A 100 MB line: maillog-grep searches its first 16 MiB and says so (exit 2);
# the configuration tools refuse a file that large.
check "maillog-grep long line" "2" 60 "$bin/maillog-grep" "$work/long-line"
# The same line between two events, printed as context (cut at 16 MiB).
event="Mar  4 21:42:57 imap2 dovecot: Fatal: POP3(judy): Time just moved backwards by 287 seconds."
{ echo "$event"; cat "$work/long-line"; echo; echo "$event"; } > "$work/long-context"
check "maillog-grep -C long line" "2" 60 "$bin/maillog-grep" -n -C 1 "$work/long-context"
check "maillog-grep -C random" "1" 30 "$bin/maillog-grep" -C 2 "$work/random"
check "xinetd-lint long line" "2" 60 "$bin/xinetd-lint" "$work/long-line"
check "ntpconf-edit long line" "2" 60 "$bin/ntpconf-edit" show "$work/long-line"
check "clockcheck long line" "3" 60 "$bin/clockcheck" -t 1 --conf "$work/long-line"

# A directory where a file is expected (maillog-grep walks it; xinetd-lint
# reads it as an includedir: both are valid there).
check "maillog-grep dir" "1" 30 "$bin/maillog-grep" "$work/dir"
check "xinetd-lint dir" "0" 30 "$bin/xinetd-lint" "$work/dir"
check "ntpconf-edit dir" "2" 30 "$bin/ntpconf-edit" show "$work/dir"
check "ntpconf-edit -i dir" "2" 30 "$bin/ntpconf-edit" -i set panic=0 "$work/dir"
check "clockcheck dir" "3" 30 "$bin/clockcheck" -t 1 --conf "$work/dir"

# A FIFO with a writer.
feed; check "maillog-grep fifo" "1" 30 "$bin/maillog-grep" "$work/fifo"; wait
feed; check "xinetd-lint fifo" "1" 30 "$bin/xinetd-lint" "$work/fifo"; wait
# ntpconf-edit takes only a regular file (issue 13): a FIFO, even one with a
# writer waiting, is refused at once (non-blocking open, fstat), never read.
check "ntpconf-edit fifo" "2" 30 "$bin/ntpconf-edit" show "$work/fifo"

# Symlink loops.
check "maillog-grep loop" "2" 30 "$bin/maillog-grep" "$work/loop-a"
check "xinetd-lint loop" "2" 30 "$bin/xinetd-lint" "$work/loop-a"
check "ntpconf-edit loop" "2" 30 "$bin/ntpconf-edit" -i set panic=0 "$work/loop-a"
check "clockcheck loop" "3" 30 "$bin/clockcheck" -t 1 --conf "$work/loop-a"

# A path under a directory without read permission (as an unprivileged user:
# root reads everything).
check "maillog-grep locked" "2" 30 $nobody "$bin/maillog-grep" "$work/locked/file"
check "xinetd-lint locked" "2" 30 $nobody "$bin/xinetd-lint" "$work/locked/file"
check "ntpconf-edit locked" "2" 30 $nobody "$bin/ntpconf-edit" show "$work/locked/file"
check "clockcheck locked" "3" 30 $nobody "$bin/clockcheck" -t 1 --conf "$work/locked/file"

# --root pointing at nothing.
for tool in maillog-grep xinetd-lint; do
    check "$tool --root nothing" "2" 30 "$bin/$tool" --root "$work/nonexistent"
done
check "ntpconf-edit --root nothing" "2" 30 "$bin/ntpconf-edit" show --root "$work/nonexistent"
check "clockcheck --root nothing" "3" 30 "$bin/clockcheck" -t 1 --root "$work/nonexistent"
# A --root that does not exist is a usage error (UNKNOWN), for env as for the check.
check "clockcheck env --root nothing" "3" 30 "$bin/clockcheck" env --root "$work/nonexistent"

# A 2 GB sparse file: searched at memory speed by maillog-grep (one 2 GB
# line: its first 16 MiB), refused by the configuration tools.
check "maillog-grep sparse" "2" 120 "$bin/maillog-grep" "$work/sparse"
check "xinetd-lint sparse" "2" 30 "$bin/xinetd-lint" "$work/sparse"
check "ntpconf-edit sparse" "2" 30 "$bin/ntpconf-edit" show "$work/sparse"
check "clockcheck sparse" "3" 30 "$bin/clockcheck" -t 1 --conf "$work/sparse"

# A file that vanishes while it is read: what was open is read to the end,
# what was not is reported.
head -c 200000000 /dev/zero | tr '\0' '\n' > "$work/vanishing"
(sleep 0.05; rm -f "$work/vanishing") &
check "maillog-grep vanishing" "1 2" 60 "$bin/maillog-grep" "$work/vanishing"
wait

# A decompression bomb: 4 MB of gzip that expands to 4 GB of zeros.  Memory
# must stay flat (the peak is checked), the run must end.
head -c 4294967296 /dev/zero | gzip -1 > "$work/bomb.gz"
/usr/bin/time -f '%M' -o "$work/peak" timeout 300 "$bin/maillog-grep" "$work/bomb.gz" > /dev/null 2>&1
peak=$(tail -1 "$work/peak")
check "maillog-grep bomb" "2" 300 "$bin/maillog-grep" "$work/bomb.gz"
if [ "${peak:-999999}" -lt 65536 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: bomb: peak memory ${peak} KB" >&2; fi

# Writes that cannot be redirected (issue 13 section 2), as the attacker
# plays them: he can write the directory of the file root edits.
# verify NAME CMD...: the command (a test of the aftermath) must succeed.
verify() {
    name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}
mkdir "$work/w" "$work/elsewhere"
printf 'server a\n' > "$work/w/ntp.conf"
# A dangling link at the backup's name: root would create a file of the
# attacker's choosing (a cron job), with root's ownership.
ln -s "$work/elsewhere/cron-job" "$work/w/ntp.conf.bak"
check "ntpconf-edit --backup over a dangling link" "0" 30 "$bin/ntpconf-edit" -i --backup set panic=0 "$work/w/ntp.conf"
verify "backup link followed: file created through it" test ! -e "$work/elsewhere/cron-job"
verify "backup link not replaced by a file" test -f "$work/w/ntp.conf.bak" -a ! -L "$work/w/ntp.conf.bak"
# A link to an existing file: it would be overwritten.
printf 'root:x:0:0\n' > "$work/elsewhere/passwd"
rm -f "$work/w/ntp.conf.bak"
ln -s "$work/elsewhere/passwd" "$work/w/ntp.conf.bak"
check "ntpconf-edit --backup over a link" "0" 30 "$bin/ntpconf-edit" -i --backup set panic=1 "$work/w/ntp.conf"
verify "backup written through a link" grep -qx 'root:x:0:0' "$work/elsewhere/passwd"
# Owner, group and set-id bits survive an edit (chown clears them).
chown 1000:1000 "$work/w/ntp.conf"
chmod 6640 "$work/w/ntp.conf"
check "ntpconf-edit keeps owner and mode" "0" 30 "$bin/ntpconf-edit" -i set panic=0 "$work/w/ntp.conf"
verify "owner, group or mode lost: $(stat -c '%u:%g %a' "$work/w/ntp.conf")" test "$(stat -c '%u:%g %a' "$work/w/ntp.conf")" = "1000:1000 6640"
# A hard link (to a file elsewhere on the same file system): refused, both
# names stay one file.
ln "$work/w/ntp.conf" "$work/elsewhere/linked"
check "ntpconf-edit refuses a hard-linked file" "2" 30 "$bin/ntpconf-edit" -i set panic=1 "$work/w/ntp.conf"
verify "hard link split or written" test "$(stat -c %i "$work/w/ntp.conf")" = "$(stat -c %i "$work/elsewhere/linked")" -a "$(stat -c %h "$work/w/ntp.conf")" = 2
grep -q 'hard links' "$work/err" || { failed=$((failed + 1)); echo "FAIL: hard link: no clear message: $(cat "$work/err")" >&2; }
rm "$work/elsewhere/linked"
# clockcheck --output into a group-writable collector directory where a
# link to /etc/passwd (here: a stand-in) waits at the output's name.
mkdir "$work/textfile"
ln -s "$work/elsewhere/passwd" "$work/textfile/clock.prom"
check "clockcheck --output over a link" "3" 30 "$bin/clockcheck" -t 1 --root "$work/root" --output "$work/textfile/clock.prom"
verify "clockcheck --output wrote the link's target" grep -qx 'root:x:0:0' "$work/elsewhere/passwd"
verify "clockcheck --output left the link" test -f "$work/textfile/clock.prom" -a ! -L "$work/textfile/clock.prom"
# A full disk while the backup is made: the older backup and the file stay
# (the old writer truncated the backup and then said "not changed").
if [ "$(id -u)" -eq 0 ] && mkdir "$work/full" && mount -t tmpfs -o size=1m tmpfs "$work/full"; then
    head -c 307200 /dev/zero | tr '\0' '#' > "$work/full/ntp.conf"
    echo 'server a' >> "$work/full/ntp.conf"
    printf 'older good backup\n' > "$work/full/ntp.conf.bak"
    avail=$(df -B1 --output=avail "$work/full" | tail -1)
    head -c $((avail - 360 * 1024)) /dev/zero > "$work/full/filler" 2>/dev/null
    cp "$work/full/ntp.conf" "$work/full-before"
    check "ntpconf-edit --backup on a full disk" "2" 30 "$bin/ntpconf-edit" -i --backup set panic=0 "$work/full/ntp.conf"
    verify "full disk: older backup lost" grep -qx 'older good backup' "$work/full/ntp.conf.bak"
    verify "full disk: file changed" cmp -s "$work/full/ntp.conf" "$work/full-before"
    verify "full disk: temporary files left" test "$(ls -A "$work/full" | wc -l)" -eq 3
    umount "$work/full"
else
    failed=$((failed + 1))
    echo "FAIL: full disk: cannot mount a tmpfs (needs root)" >&2
fi

# Issue 21: bounded by construction.  Each class runs under a memory cap
# (ulimit -v 512 MiB) and a time cap, and must end with the documented exit
# code (clockcheck: UNKNOWN with its status line), never an abort.
printf '#!/bin/sh\nulimit -v 524288 && exec "$@"\n' > "$work/capped"
chmod +x "$work/capped"
capped="$work/capped"
# status NAME PATTERN: a line of the last case's standard output starts
# with PATTERN.
status() {
    if grep -q "^$2" "$work/out"; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAIL: $1: status line: $(head -c 200 "$work/out")" >&2; fi
}
# The 429-byte rc.conf of `a="$a$a"` lines: it asks for 64 TiB.
mkdir -p "$work/rc/etc"
{ echo 'a=xxxxxxxxxxxxxxxx'; i=0; while [ $i -lt 42 ]; do echo 'a="$a$a"'; i=$((i + 1)); done; } > "$work/rc/etc/rc.conf"
printf 'service x\n{\n}\n' > "$work/rc/etc/xinetd.conf"
printf 'server a\n' > "$work/rc/etc/ntp.conf"
check "rc.conf expansion: xinetd-lint" "2" 60 "$capped" "$bin/xinetd-lint" --root "$work/rc"
check "rc.conf expansion: ntpconf-edit" "2" 60 "$capped" "$bin/ntpconf-edit" --root "$work/rc" check
check "rc.conf expansion: clockcheck env" "3" 60 "$capped" "$bin/clockcheck" env --root "$work/rc"
status "rc.conf expansion: clockcheck env" "CLOCK UNKNOWN: input exceeds this run's memory budget"
# rc.conf.d: 400 links to one 1 MB file (400 MB if each were read): read once.
mkdir -p "$work/rcd/etc/rc.conf.d"
printf 'server a\n' > "$work/rcd/etc/ntp.conf"
head -c 1000000 /dev/zero | tr '\0' '\n' > "$work/rcd/etc/big"
i=0; while [ $i -lt 400 ]; do ln -s /etc/big "$work/rcd/etc/rc.conf.d/s$i"; i=$((i + 1)); done
check "rc.conf.d links to one file" "0" 60 "$capped" "$bin/ntpconf-edit" --root "$work/rcd" show
# 6 MB of blank lines in ntp.conf (1.9 GB before: 320 bytes a line).
mkdir -p "$work/blank/etc"
head -c 6000000 /dev/zero | tr '\0' '\n' > "$work/blank/etc/ntp.conf"
check "ntp.conf blank lines: check" "0" 60 "$capped" "$bin/ntpconf-edit" --root "$work/blank" check
# The editor's line model held 40 bytes a line: 6 million lines were 240 MB,
# over the run's 64 MiB budget (exit 2).  It now holds the bytes read and
# only the tinker lines apart (issue 21): a legitimate file, edited within
# the cap and the budget.
check "ntp.conf blank lines: set -i" "0" 60 "$capped" "$bin/ntpconf-edit" --root "$work/blank" -i set panic=0
verify "ntp.conf blank lines: set -i: the line added" test "$(head -n 1 "$work/blank/etc/ntp.conf")" = "tinker panic 0"
verify "ntp.conf blank lines: set -i: every blank line kept" test "$(wc -c < "$work/blank/etc/ntp.conf")" -eq 6000015
check "ntp.conf blank lines: clockcheck env" "0 1 2 3" 60 "$capped" "$bin/clockcheck" env --root "$work/blank"
status "ntp.conf blank lines: clockcheck env" "status: "
# 54 MB of nothing but tinker lines (2 million): the lines kept cost some
# 50 times their bytes, aborted (134) under the cap before they were charged
# to the run's budget; now the budget's clear error, exit 2.
mkdir -p "$work/tinker/etc"
i=0; while [ $i -lt 1000 ]; do echo 'tinker panic 0 stepout 900'; i=$((i + 1)); done > "$work/k"
i=0; while [ $i -lt 2000 ]; do cat "$work/k"; i=$((i + 1)); done > "$work/tinker/etc/ntp.conf"
check "ntp.conf tinker lines only: check" "2" 60 "$capped" "$bin/ntpconf-edit" --root "$work/tinker" check
verify "ntp.conf tinker lines only: the budget's message" grep -q "exceeds this run's memory budget" "$work/err"
check "ntp.conf tinker lines only: set -i" "2" 60 "$capped" "$bin/ntpconf-edit" --root "$work/tinker" -i set panic=1
# xinetd.conf including one file 300,000 times: the include budget holds,
# one finding for the repeats.
mkdir -p "$work/inc/etc"
cp tests/fixtures/xinetd.d/033-imap "$work/inc/etc/one"
i=0; while [ $i -lt 3000 ]; do echo 'include /etc/one'; i=$((i + 1)); done > "$work/inc/etc/hundred"
i=0; while [ $i -lt 100 ]; do cat "$work/inc/etc/hundred"; i=$((i + 1)); done > "$work/inc/etc/xinetd.conf"
check "xinetd.conf re-includes" "1" 60 "$capped" "$bin/xinetd-lint" --root "$work/inc" --format json
verify "xinetd.conf re-includes: one XL062" test "$(grep -o '"XL062"' "$work/out" | wc -l)" -eq 1
# 1.2 million `server` lines: clockcheck aborted (SIGABRT, no status line).
mkdir -p "$work/srv/etc"
i=0; while [ $i -lt 1000 ]; do echo 'server 127.0.0.1'; i=$((i + 1)); done > "$work/k"
i=0; while [ $i -lt 1200 ]; do cat "$work/k"; i=$((i + 1)); done > "$work/srv/etc/ntp.conf"
check "1.2 million server lines" "3" 60 "$capped" "$bin/clockcheck" -t 1 --root "$work/srv"
status "1.2 million server lines" "CLOCK UNKNOWN: $work/srv/etc/ntp.conf names more than 64 servers"
# A configuration file on procfs (a jail's own /proc): refused, never quoted.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/jail/etc" "$work/jail/proc" && mount -t proc proc "$work/jail/proc" 2>/dev/null; then
    ln -s /proc/self/environ "$work/jail/etc/xinetd.conf"
    check "procfs config: xinetd-lint" "2" 30 "$capped" env HOSTILE_SECRET=hunter2 "$bin/xinetd-lint" --root "$work/jail"
    verify "procfs config: refused by its filesystem" grep -q 'procfs' "$work/err"
    verify "procfs config: secret quoted" test "$(cat "$work/out" "$work/err" | grep -c hunter2)" -eq 0
    umount "$work/jail/proc"
else
    failed=$((failed + 1))
    echo "FAIL: procfs config: cannot mount procfs (needs root)" >&2
fi
# SIGTERM during the write of a 17 MB ntp.conf, as cron's or systemd's stop
# sends it, on the named temporary file (FreeBSD's, and Linux's where the
# file system refuses O_TMPFILE): the run ends killed by SIGTERM (143), the
# original is intact and no .ntp.conf.XXXX.tmp is left.  Held once after the
# contents are written (TOOLKIT_PAUSE_AT=fsync); once killed as soon as the
# temporary file appears, which may also land after the rename (then the
# new file is whole).
mkdir -p "$work/term"
i=0; while [ $i -lt 1000 ]; do echo '# a comment line that takes room in the file, forty bytes'; i=$((i + 1)); done > "$work/k"
i=0; while [ $i -lt 300 ]; do cat "$work/k"; i=$((i + 1)); done > "$work/term-before"
echo 'tinker panic 1' >> "$work/term-before"
sed 's/^tinker panic 1$/tinker panic 0/' "$work/term-before" > "$work/term-after"
for how in paused racing; do
    cp "$work/term-before" "$work/term/ntp.conf"
    if [ $how = paused ]; then pause=fsync; else pause=none; fi
    TOOLKIT_NAMED_TEMP=1 TOOLKIT_PAUSE_AT=$pause "$bin/ntpconf-edit" -i set panic=0 "$work/term/ntp.conf" > /dev/null 2>&1 &
    pid=$!
    tries=0
    while [ $tries -lt 3000 ] && ! ls -A "$work/term" | grep -q '\.tmp$'; do tries=$((tries + 1)); sleep 0.01; done
    [ $how = paused ] && sleep 0.5
    kill -TERM $pid 2>/dev/null
    { wait $pid; } 2>/dev/null
    rc=$?; [ -n "${HOSTILE_VERBOSE:-}" ] && echo "SIGTERM mid-write ($how): exit $rc" >&2
    left=$(ls -A "$work/term" | grep -v '^ntp\.conf$' | tr '\n' ' ')
    if [ -n "$left" ]; then failed=$((failed + 1)); echo "FAIL: SIGTERM mid-write ($how): left behind: $left" >&2
    elif cmp -s "$work/term/ntp.conf" "$work/term-before"; then
        if [ $rc -eq 143 ]; then passed=$((passed + 1)); else
            failed=$((failed + 1)); echo "FAIL: SIGTERM mid-write ($how): exit $rc, expected 143" >&2; fi
    elif [ $how = racing ] && cmp -s "$work/term/ntp.conf" "$work/term-after"; then
        passed=$((passed + 1))    # the signal came after the rename: the new file, whole
    else
        failed=$((failed + 1)); echo "FAIL: SIGTERM mid-write ($how): the file changed (exit $rc)" >&2
    fi
done
# A 92 MB log truncated while searched (copytruncate): never SIGBUS (135).
line='Dec  7 10:00:00 mx dovecot: imap-login: hay hay hay hay hay hay hay hay hay hay hay hay hay'
i=0; while [ $i -lt 1000 ]; do echo "$line"; i=$((i + 1)); done > "$work/k"
i=0; while [ $i -lt 1000 ]; do cat "$work/k"; i=$((i + 1)); done > "$work/shrinking"
(sleep 0.05; : > "$work/shrinking") &
check "log truncated while searched" "1 2" 60 "$capped" "$bin/maillog-grep" -c --all "$work/shrinking"
wait

echo "hostile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
