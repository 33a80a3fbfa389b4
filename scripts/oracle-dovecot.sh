#!/bin/bash
# The real dovecot 2.3 (Debian's dovecot-core/-imapd/-pop3d 2.3.19.1,
# unpacked by scripts/install-test-deps.sh under target/test-tools, never
# installed) against the errata's recipe and against time going backwards.
# Runs as root in a private network namespace and a private mount namespace,
# where the unpacked trees are overlaid on /usr/lib, /usr/bin and /usr/sbin
# (dovecot finds its helpers by compiled-in paths); nothing outside changes.
#
#   scripts/oracle-dovecot.sh OUTDIR
#
# Writes OUTDIR/results (one `CASE: outcome` line per case) and the real
# programs' logs: xinetd-no-master.log, xinetd-with-master.log,
# dovecot.log (master alone), faketime-dovecot.log (3 s and 60 s steps
# back under libfaketime).  Exit 0 when every case ran, 2 when it could not.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
tools=${TOOLS_DIR:-$repo/target/test-tools}
out=${1:?usage: oracle-dovecot.sh OUTDIR}
libfaketime=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

if [ -z "${ORACLE_DOVECOT_NS:-}" ]; then
    for p in dovecot-core/usr/sbin/dovecot dovecot-imapd/usr/lib/dovecot/imap-login dovecot-pop3d/usr/lib/dovecot/pop3-login; do
        [ -x "$tools/$p" ] || { echo "oracle-dovecot: $tools/$p is missing: run scripts/install-test-deps.sh" >&2; exit 2; }
    done
    [ -x /usr/sbin/xinetd ] || { echo "oracle-dovecot: /usr/sbin/xinetd is missing" >&2; exit 2; }
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    exec unshare -m -n env ORACLE_DOVECOT_NS=1 TOOLS_DIR="$tools" "$0" "$out"
fi

mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$tools/dovecot-imapd/usr/lib:$tools/dovecot-pop3d/usr/lib:$tools/dovecot-core/usr/lib:/usr/lib" /usr/lib
mount -t overlay overlay -o "lowerdir=$tools/dovecot-core/usr/bin:/usr/bin" /usr/bin
mount -t overlay overlay -o "lowerdir=$tools/dovecot-core/usr/sbin:/usr/sbin" /usr/sbin
ip link set lo up

work=$(mktemp -d)
chmod 755 "$work"
results=$out/results
: > "$results"
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    umount /etc 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# What a client reads within 3 s of connecting to 127.0.0.1:PORT.
greeting() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.settimeout(3)
data = b""
try:
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(data.decode("utf-8", "replace").strip() or "(nothing)")
PY
}

# outcome CASE TEXT: `greeting` when TEXT is an IMAP/POP3 greeting.
outcome() {
    case $2 in
        "* OK"*|"+OK"*) echo "$1: greeting ($2)" >> "$results" ;;
        *) echo "$1: no greeting ($2)" >> "$results" ;;
    esac
}

# dovecot.conf for a master: NAME LOG IMAP_PORT POP3_PORT
dovecot_conf() {
    local dir=$work/$1
    mkdir -p "$dir/run" "$dir/state" "$dir/home"
    chmod 777 "$dir/home"
    cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $2
info_log_path = $2
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:$dir/home/%u/Maildir
import_environment = TZ LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/home/%u
}
service imap-login {
  inet_listener imap {
    port = $3
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $4
  }
  inet_listener pop3s {
    port = 0
  }
}
CONF
    echo "$dir/dovecot.conf"
}

# xinetd with the errata's four files (Debian's login path): NAME LOG [ENV]
# (ENV: an `env` line for each service, such as a PATH that holds
# /usr/lib/dovecot, so that the login process finds itself).
start_xinetd() {
    local dir=$work/$1
    mkdir -p "$dir/xinetd.d"
    for s in imap imaps pop3 pop3s; do
        sed 's|/usr/local/libexec/dovecot/|/usr/lib/dovecot/|' "$repo/examples/errata/xinetd.d/$s" > "$dir/xinetd.d/$s"
        if [ -n "${3:-}" ]; then
            sed "s|^}|	env		= $3\n}|" "$dir/xinetd.d/$s" > "$dir/xinetd.d/$s.new"
            mv "$dir/xinetd.d/$s.new" "$dir/xinetd.d/$s~"
            mv "$dir/xinetd.d/$s~" "$dir/xinetd.d/$s"
        fi
    done
    cat > "$dir/xinetd.conf" <<CONF
defaults
{
	log_type	= FILE $2
	log_on_success	= PID HOST EXIT DURATION
	log_on_failure	= HOST
}
includedir $dir/xinetd.d
CONF
    /usr/sbin/xinetd -dontfork -f "$dir/xinetd.conf" -pidfile "$dir/xinetd.pid" &
    xinetd_pid=$!
    pids="$pids $xinetd_pid"
    sleep 1
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# The login processes xinetd starts read /etc/dovecot/dovecot.conf: the
# port-0 master's configuration, overlaid on /etc in this namespace only.
conf=$(dovecot_conf master-port0 "$out/dovecot-port0.log" 0 0)
mkdir -p "$work/etc/dovecot"
cp "$conf" "$work/etc/dovecot/dovecot.conf"
mount -t overlay overlay -o "lowerdir=$work/etc:/etc" /etc

# 1. The errata's files under the real xinetd, no dovecot master.
start_xinetd xinetd-no-master "$out/xinetd-no-master.log"
outcome "xinetd imap, no master" "$(greeting 143)"
outcome "xinetd pop3, no master" "$(greeting 110)"
sleep 1
stop "$xinetd_pid"

# 2. The same with a dovecot master running (its listeners at port 0).
/usr/sbin/dovecot -F -c "$conf" &
master=$!
pids="$pids $master"
sleep 2
start_xinetd xinetd-with-master "$out/xinetd-with-master.log"
outcome "xinetd imap, master running" "$(greeting 143)"
outcome "xinetd pop3, master running" "$(greeting 110)"
sleep 1
stop "$xinetd_pid"
# 2b. The same with /usr/lib/dovecot on the login process's PATH: it starts,
# runs standalone (the master did not start it) and never reads the client.
start_xinetd xinetd-path-with-master "$out/xinetd-path-with-master.log" "PATH=/usr/lib/dovecot:/usr/bin:/bin"
outcome "xinetd imap with PATH, master running" "$(greeting 143)"
outcome "xinetd pop3 with PATH, master running" "$(greeting 110)"
sleep 1
stop "$xinetd_pid"
stop "$master"

# 3. The master alone, its own listeners.
conf=$(dovecot_conf master "$out/dovecot.log" 143 110)
/usr/sbin/dovecot -F -c "$conf" &
master=$!
pids="$pids $master"
sleep 2
outcome "master imap" "$(greeting 143)"
outcome "master pop3" "$(greeting 110)"
stop "$master"

# 4. Time going backwards under libfaketime: 3 s, then 60 s, with an IMAP
# session open (the imap process notices when its ioloop runs).
if [ -e "$libfaketime" ]; then
    conf=$(dovecot_conf faketime "$out/faketime-dovecot.log" 143 110)
    spec=$work/faketime.spec
    echo "+0" > "$spec"
    LD_PRELOAD=$libfaketime FAKETIME_TIMESTAMP_FILE=$spec FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
        /usr/sbin/dovecot -F -c "$conf" &
    master=$!
    pids="$pids $master"
    sleep 2
    python3 - "$spec" "$out/faketime-dovecot.log" >> "$results" 2>&1 <<'PY' || echo "faketime: the client failed" >> "$results"
import re, socket, sys, time
spec, log = sys.argv[1], sys.argv[2]
def session():
    s = socket.create_connection(("127.0.0.1", 143), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN bob secret\r\nb SELECT INBOX\r\n")
    while not f.readline().startswith(b"b "):
        pass
    return s, f
def noop(s, f, tag):
    try:
        s.sendall(tag + b" NOOP\r\n")
        return f.readline().decode("utf-8", "replace").strip() or "(closed)"
    except OSError as e:
        return "(%s)" % e
def imap_noticed():
    with open(log, errors="replace") as f:
        return sum(1 for l in f if re.search(r" imap\(\d+\): .*moved backwards", l))
# The imap process compares the time after each wait with the time before
# it: a step that lands while it is busy (a timer runs about once a second
# after SELECT) goes unnoticed, by the real program too.  So each step is
# made half a second off that rhythm, and a step the imap process did not
# notice is tried again (a 60 s step only after the master's hold-back).
offset = 0
for step in (3, 60):
    for attempt in range(3):
        seen = imap_noticed()
        s, f = session()
        time.sleep(0.5)
        offset -= step
        with open(spec, "w") as out:
            out.write("%+d\n" % offset)
        time.sleep(1)
        print("faketime %d s back: NOOP -> %s" % (step, noop(s, f, b"c")))
        time.sleep(6 if step == 3 else 2)
        print("faketime %d s back: second NOOP -> %s" % (step, noop(s, f, b"d")))
        s.close()
        time.sleep(0.5)
        if imap_noticed() > seen:
            break
        print("faketime %d s back: the imap process did not notice (attempt %d)" % (step, attempt + 1))
        if step == 60:
            time.sleep(62)
PY
    sleep 2
    stop "$master"
else
    echo "faketime: skipped ($libfaketime is missing)" >> "$results"
fi
cat "$results"
