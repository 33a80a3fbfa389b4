#!/usr/bin/env python3
"""Differential fuzzer: xinetd-lint's verdicts against Debian's real xinetd.

Each case is a small tree of configuration files made from a fixed seed
(a main file with `defaults`, services, an `include` and an `includedir`
with fragments), filled with the values xinetd treats specially.  The real
xinetd reads it in debug mode inside a private network namespace (only `lo`,
so nothing is reachable and every port is free) and is stopped as soon as it
says `Started working`; xinetd-lint reads it with `--services --format json`
in a namespace of its own.  Per service id, the number of services xinetd
started is compared with the number xinetd-lint calls active.

A disagreement is minimised (delta debugging over the lines of every file,
keeping the same service id and direction), then matched against the list of
explained disagreements (scripts/oracle-fuzz-xinetd.explained).  The exit
status is 1 when a disagreement is not explained, 2 when the run could not
be made, 0 otherwise.  Servers and users are stubbed the way the oracle
tests do it: every server is /bin/true (or a deliberate bad path), every
user root or nobody (or a deliberate unknown name).

Standard library only; run as root (unshare -n).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# Names from Debian's /etc/services (netbase), with the protocols listed there,
# and names that are not listed at all.
NAMES = [
    ("echo", "tcp udp"), ("discard", "tcp udp"), ("daytime", "tcp udp"),
    ("chargen", "tcp udp"), ("time", "tcp udp"), ("rsync", "tcp"),
    ("imap", "tcp"), ("pop3", "tcp"), ("ftp", "tcp"), ("telnet", "tcp"),
    ("finger", "tcp"), ("gopher", "tcp"), ("auth", "tcp"), ("login", "tcp"),
    ("tftp", "udp"), ("ntp", "udp"), ("syslog", "udp"), ("myapp", ""),
    ("Rsync", ""),
]
PORTS = {"echo": 7, "discard": 9, "daytime": 13, "chargen": 19, "time": 37,
         "rsync": 873, "imap": 143, "pop3": 110, "ftp": 21, "telnet": 23,
         "finger": 79, "gopher": 70, "auth": 113, "login": 513, "tftp": 69,
         "ntp": 123, "syslog": 514}
ID_POOL = ["alpha", "beta", "gamma", "echo", "rsync", "Alpha"]
ADDRESSES = ["127.0.0.1", "127.0.0.2", "::1", "10.9.9.9", "localhost", "0.0.0.0"]
ODD_ADDRESS_LISTS = ["127.0.0.1", "10..1", "10.0.0.1,10.0.0.2", "0.0.0.0", "", "::1",
                     "127.0.0.", "192.168.{1,2}", "10.0.0.0/8", "1..2.3", "127.0.0.1 10..1",
                     ".example.org", "10.{1..2}"]
NUMBERS = ["-1", "0", "10", "UNLIMITED", "-5", "+3", "x", "20M", "-1k", "4k"]


def pick(rng, weighted):
    """weighted: list of (value, weight)."""
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for value, weight in weighted:
        x -= weight
        if x <= 0:
            return value
    return weighted[-1][0]


def gen_service(rng):
    lines = []

    def attr(key, value, op="="):
        lines.append(f"\t{key} {op} {value}".rstrip())

    st = pick(rng, [("stream", 40), ("dgram", 25), ("seqpacket", 4), ("raw", 1),
                    (None, 6), ("bogus", 0.5)])
    proto = pick(rng, [(None, 62), ("tcp", 15), ("udp", 15), ("TCP", 1), ("icmp", 0.5),
                       ("nosuchproto", 0.5)])
    types = pick(rng, [(None, 65), ("INTERNAL", 12), ("UNLISTED", 14),
                       ("TCPMUX UNLISTED", 3), ("INTERNAL UNLISTED", 2), ("TCPMUX", 1),
                       ("TCPMUXPLUS UNLISTED", 1), ("SPECIAL", 1)])
    # Mostly a name /etc/services lists for the protocol the socket implies.
    want = {"dgram": "udp", "stream": "tcp"}.get(st or "", proto or "tcp")
    fitting = [n for n, protos in NAMES if want in protos.split()]
    name = rng.choice(fitting) if fitting and rng.random() < 0.8 else rng.choice(NAMES)[0]
    if st:
        attr("socket_type", st)
    if proto:
        attr("protocol", proto)
    if types:
        attr("type", types)
    w = pick(rng, [("no", 55), ("yes", 35), (None, 2), ("maybe", 0.5)])
    if w:
        attr("wait", w)
    u = pick(rng, [("root", 80), ("nobody", 8), (None, 2), ("nosuchuser", 1), ("0", 2)])
    if u:
        attr("user", u)
    if not (types and "INTERNAL" in types) or rng.random() < 0.1:
        s = pick(rng, [("/bin/true", 85), (None, 2), ("/bin", 3), ("/nonexistent", 1),
                       ("true", 0.5), ("/etc/passwd", 0.5), ("/usr/bin/", 1)])
        if s:
            attr("server", s)
    port = pick(rng, [(None, 62), ("listed", 10), ("8873", 8), ("9000", 8), ("7", 3),
                      ("0", 1), ("-1", 1), ("70000", 1), ("123", 2)])
    if port == "listed":
        port = str(PORTS.get(name, 9001))
    if port:
        attr("port", port)
    if rng.random() < 0.3:
        attr("id", rng.choice(ID_POOL))
    b = pick(rng, [(None, 65), ("127.0.0.1", 18), ("127.0.0.2", 4), ("::1", 5),
                   ("10.9.9.9", 2), ("localhost", 2), ("0.0.0.0", 2), ("::", 1)])
    if b:
        attr(rng.choice(["bind", "bind", "interface"]), b)
    if rng.random() < 0.05:
        attr("v6only", rng.choice(["yes", "no"]))
    if rng.random() < 0.12:
        attr("flags", rng.choice(["IPv4", "IPv6", "NAMEINARGS", "REUSE", "NODELAY",
                                  "IPv4 IPv6", "KEEPALIVE"]))
    if rng.random() < 0.1:
        attr("server_args", rng.choice(["-v", "a b c", "true -x"]))
    for key in ("only_from", "no_access"):
        if rng.random() < 0.08:
            attr(key, rng.choice(ODD_ADDRESS_LISTS), rng.choice(["=", "=", "+=", "-="]))
    if rng.random() < 0.1:
        attr("log_on_success", rng.choice(["TRAFFIC", "PID HOST", "PID", "DURATION"]),
             rng.choice(["=", "+=", "-="]))
    if rng.random() < 0.04:
        attr("log_on_failure", rng.choice(["HOST", "ATTEMPT", "TRAFFIC"]),
             rng.choice(["=", "+="]))
    if rng.random() < 0.07:
        attr("redirect", rng.choice(["127.0.0.1 8873", "127.0.0.1 rsync", "::1 0"]))
    for key in ("rlimit_as", "rlimit_cpu", "rlimit_data", "rlimit_files", "rlimit_rss",
                "rlimit_stack", "instances", "per_source", "nice"):
        if rng.random() < 0.025:
            attr(key, rng.choice(NUMBERS))
    if rng.random() < 0.05:
        attr("cps", rng.choice(["-1 5", "10 -2", "25 30", "x 3", "0 0", "-3 -3"]))
    if rng.random() < 0.03:
        attr("access_times", rng.choice(["2:00-8:59", "12:00-24:00", "8:00-7:00"]))
    if rng.random() < 0.03:
        attr("umask", rng.choice(["022", "0999", "-1"]))
    if rng.random() < 0.04:
        attr("env", rng.choice(["A=1", "B"]), rng.choice(["=", "+=", "-="]))
    if rng.random() < 0.03:
        attr("frobnicate", "1")
    rng.shuffle(lines)
    # Odd lines: a one-word line, no space before `=`, a trailing comment.
    if rng.random() < 0.05:
        lines.insert(rng.randrange(len(lines) + 1),
                     "\t" + rng.choice(["disable", "foo", "wait", "only_from"]))
    if rng.random() < 0.02:
        lines.insert(rng.randrange(len(lines) + 1), "\twait=no")
    if rng.random() < 0.03:
        lines.insert(rng.randrange(len(lines) + 1), "\tper_source = 10 # limit")
    d = pick(rng, [(None, 85), ("yes", 8), ("no", 7)])
    if d:
        lines.insert(rng.randrange(len(lines) + 1), f"\tdisable = {d}")
    close = "} # end" if rng.random() < 0.015 else "}"
    return [f"service {name}", "{", *lines, close]


def gen_defaults(rng):
    lines = []

    def attr(key, value, op="="):
        lines.append(f"\t{key} {op} {value}".rstrip())

    if rng.random() < 0.5:
        attr("instances", rng.choice(["60", "UNLIMITED", "-1"]))
    if rng.random() < 0.4:
        attr("log_type", rng.choice(["SYSLOG daemon info", "SYSLOG authpriv"]))
    if rng.random() < 0.4:
        attr("log_on_success", rng.choice(["HOST PID", "TRAFFIC", "PID TRAFFIC", "DURATION"]),
             rng.choice(["=", "+=", "-="]))
    if rng.random() < 0.3:
        attr("log_on_failure", "HOST")
    for key in ("only_from", "no_access"):
        if rng.random() < 0.15:
            attr(key, rng.choice(ODD_ADDRESS_LISTS), rng.choice(["=", "+="]))
    for key in ("enabled", "disabled"):
        if rng.random() < 0.2:
            ids = " ".join(rng.sample(ID_POOL + [n for n, _ in NAMES[:6]], rng.randrange(0, 3)))
            attr(key, ids, rng.choice(["=", "=", "+=", "-="]))
    if rng.random() < 0.1:
        attr("bind", rng.choice(["127.0.0.1", "::1"]))
    if rng.random() < 0.1:
        attr("cps", rng.choice(["-1 5", "25 30", "10 -2"]))
    if rng.random() < 0.1:
        attr("per_source", rng.choice(["10", "-1", "UNLIMITED"]))
    if rng.random() < 0.05:
        attr("umask", "022")
    if rng.random() < 0.05:
        attr("v6only", rng.choice(["yes", "no"]))
    rng.shuffle(lines)
    if rng.random() < 0.03:
        lines.insert(rng.randrange(len(lines) + 1), "\tfoo")
    return ["defaults", "{", *lines, "}"]


def gen_case(seed, index):
    """Returns {relative path: [lines]} with 'xinetd.conf' the main file."""
    rng = random.Random(f"xinetd-oracle:{seed}:{index}")
    files = {"xinetd.conf": [], "inc1": [], "d/a": [], "d/b": []}
    if rng.random() < 0.6:
        files["xinetd.conf"] += gen_defaults(rng)
    if rng.random() < 0.08:
        files["d/b"] += gen_defaults(rng)
    places = ["xinetd.conf", "xinetd.conf", "inc1", "d/a", "d/b"]
    if rng.random() < 0.1:
        places.append("d/c.conf")  # skipped by includedir
        files["d/c.conf"] = []
    for _ in range(rng.randrange(1, 7)):
        files[rng.choice(places)] += gen_service(rng) + [""]
    if rng.random() < 0.85:
        files["xinetd.conf"].append("include @DIR@/inc1")
    if rng.random() < 0.85:
        files["xinetd.conf"].append("includedir @DIR@/d")
    if rng.random() < 0.3:
        # Include lines before the services too, now and then.
        incl = [l for l in files["xinetd.conf"] if l.startswith("include")]
        rest = [l for l in files["xinetd.conf"] if not l.startswith("include")]
        files["xinetd.conf"] = incl + rest
    return files


def write_case(files, directory):
    if os.path.exists(directory):
        shutil.rmtree(directory)
    os.makedirs(os.path.join(directory, "d"))
    for rel, lines in files.items():
        text = "".join(line.replace("@DIR@", directory) + "\n" for line in lines)
        with open(os.path.join(directory, rel), "w") as f:
            f.write(text)
    return os.path.join(directory, "xinetd.conf")


LOG_PID = re.compile(r"^\d+/\d+/\d+@[\d:]+: \w+: (\d+) \{")
STARTED = re.compile(r"Started service: (\S+)")
ERRORS = re.compile(r"(ERROR|WARNING|CRITICAL): \d+ \{(\w+)\} (.*)")


def run_xinetd(conf, timeout=25):
    """(Counter of started ids, log text, how it ended)."""
    pidfile = conf + ".pid"
    inner = f"xinetd -d -dontfork -f '{conf}' -pidfile '{pidfile}'"
    proc = subprocess.Popen(
        ["unshare", "-n", "sh", "-c",
         f"ip link set lo up; exec script -qec \"timeout -k 2 -s TERM {timeout} {inner}\" /dev/null"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True)

    xinetd_pid = []

    def stop_group():
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout + 5, stop_group)
    timer.start()
    started = collections.Counter()
    log = []
    ended = "eof"
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        log.append(line)
        if not xinetd_pid:
            m = LOG_PID.search(line)
            if m:
                xinetd_pid.append(int(m.group(1)))
        m = STARTED.search(line)
        if m:
            started[m.group(1)] += 1
        if "Started working" in line or "no services. Exiting" in line:
            ended = "working"
            break
    # xinetd runs in the session `script` made for it, not in our process
    # group, and takes the SIGHUP of a closing pty as "reconfigure": stop it
    # by the PID its log lines carry and let the chain above it end by itself.
    if xinetd_pid:
        try:
            os.kill(xinetd_pid[0], signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in proc.stdout:
            pass
    else:
        stop_group()
    timer.cancel()
    proc.stdout.close()
    proc.wait()
    return started, "\n".join(log), ended


def run_lint(lint, conf):
    """(list of verdicts, error text or None)."""
    out = subprocess.run(
        ["unshare", "-n", "sh", "-c",
         'ip link set lo up; exec "$0" --services --format json "$1"', lint, conf],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    if out.returncode >= 2 or out.returncode < 0:
        return [], f"exit {out.returncode}: {out.stderr.decode('utf-8', 'replace')[:500]}"
    verdicts = []
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        try:
            verdicts.append(json.loads(line))
        except json.JSONDecodeError:
            return [], f"bad JSON line: {line[:200]}"
    return verdicts, None


def compare(lint, files, directory):
    """Disagreements as a list of dicts (empty when xinetd and we agree)."""
    conf = write_case(files, directory)
    started, log, ended = run_xinetd(conf)
    verdicts, error = run_lint(lint, conf)
    if error:
        return [{"direction": "lint-error", "id": "", "detail": error, "log": log}], {}
    if ended != "working" and not started:
        # xinetd died before it said anything useful (a crash): every service failed.
        pass
    active = collections.Counter(v["id"] for v in verdicts if v["status"] == "active")
    statuses = collections.defaultdict(list)
    for v in verdicts:
        statuses[v["id"]].append(f"{v['status']}({','.join(v['reasons'])})")
    out = []
    for sid in sorted(set(started) | set(active)):
        if started[sid] != active[sid]:
            out.append({
                "direction": "xinetd-only" if started[sid] > active[sid] else "lint-only",
                "id": sid,
                "detail": f"xinetd started {started[sid]}, xinetd-lint active {active[sid]}: "
                          + " ".join(statuses.get(sid, [])),
                "log": log,
            })
    tally = collections.Counter()
    for v in verdicts:
        tally[v["status"]] += 1
    tally["xinetd-started"] += sum(started.values())
    if ended != "working":
        tally["xinetd-no-start"] += 1
    return out, tally


def xinetd_messages(log):
    msgs = []
    for line in log.splitlines():
        m = ERRORS.search(line)
        if m and "Exiting" not in m.group(3):
            text = re.sub(r" \[file=[^]]*\] \[line=\d+\]", "", m.group(3))
            if text not in msgs:
                msgs.append(text)
    return msgs


def minimise(lint, files, directory, target, budget):
    """Delta debugging over the non-include lines of every file: the smallest
    set of lines that still gives a disagreement of the same direction for
    the same id.  `budget` bounds the number of xinetd runs."""
    units = [(rel, i) for rel, lines in files.items() for i in range(len(lines))]
    runs = [0]

    def build(keep):
        kept = set(keep)
        return {rel: [l for i, l in enumerate(lines) if (rel, i) in kept]
                for rel, lines in files.items()}

    def still(keep):
        if runs[0] >= budget:
            return False
        runs[0] += 1
        found, _ = compare(lint, build(keep), directory)
        return any(d["direction"] == target["direction"] and d["id"] == target["id"]
                   for d in found)

    current = units
    n = 2
    while len(current) >= 2 and runs[0] < budget:
        size = max(1, len(current) // n)
        chunks = [current[i:i + size] for i in range(0, len(current), size)]
        reduced = False
        for chunk in chunks:
            rest = [u for u in current if u not in chunk]
            if rest and still(rest):
                current, n, reduced = rest, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(current):
                break
            n = min(len(current), n * 2)
    return build(current)


def render(files, directory):
    parts = []
    for rel, lines in files.items():
        if lines:
            parts.append(f"==> {rel} <==")
            parts.extend(l.replace("@DIR@", "DIR") for l in lines)
    return "\n".join(parts)


def load_explained(path):
    explained = []
    if not path or not os.path.exists(path):
        return explained
    with open(path) as f:
        for raw in f:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            name, pattern, why = raw.rstrip("\n").split("\t", 2)
            explained.append((name, re.compile(pattern, re.S | re.M), why))
    return explained


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lint", required=True, help="the xinetd-lint binary")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--first", type=int, default=0, help="index of the first case")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--explained", default=None)
    ap.add_argument("--budget", type=int, default=120, help="xinetd runs per minimisation")
    ap.add_argument("--out", default=None, help="keep minimised disagreements here")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("oracle-fuzz-xinetd: needs root (unshare -n)", file=sys.stderr)
        return 2
    for tool in ("xinetd", "script", "ip", "unshare"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"oracle-fuzz-xinetd: {tool} is not installed (scripts/install-test-deps.sh)",
                  file=sys.stderr)
            return 2
    explained = load_explained(args.explained)
    scratch = tempfile.mkdtemp(prefix="oracle-fuzz-xinetd.")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    started_at = time.time()
    totals = collections.Counter()
    results = {}

    def one(index):
        files = gen_case(args.seed, index)
        directory = os.path.join(scratch, f"c{index}")
        found, tally = compare(args.lint, files, directory)
        reports = []
        for d in found:
            small = minimise(args.lint, files, directory, d, args.budget) \
                if d["direction"] != "lint-error" else files
            again, _ = compare(args.lint, small, directory)
            match = next((x for x in again if x["id"] == d["id"]
                          and x["direction"] == d["direction"]), d)
            text = render(small, directory)
            key = (f"{match['direction']} {match['id']}: {match['detail']}\n{text}\n"
                   "--- xinetd says\n" + "\n".join(xinetd_messages(match["log"])))
            why = next(((n, w) for n, p, w in explained if p.search(key)), None)
            reports.append((key, why))
        shutil.rmtree(directory, ignore_errors=True)
        return index, tally, reports

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for index, tally, reports in pool.map(one, range(args.first, args.first + args.count)):
            totals.update(tally)
            results[index] = reports
            if not args.quiet and (index + 1) % 100 == 0:
                print(f"oracle-fuzz-xinetd: {index + 1 - args.first}/{args.count} cases",
                      file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)

    disagreeing = {i: r for i, r in results.items() if r}
    unexplained = 0
    classes = collections.Counter()
    for index in sorted(disagreeing):
        for key, why in disagreeing[index]:
            label = why[0] if why else "UNEXPLAINED"
            classes[label] += 1
            if not why:
                unexplained += 1
            head = f"case {args.seed}:{index} [{label}]"
            print(f"--- {head}\n{key}\n" + (f"(explained: {why[1]})\n" if why else ""))
            if args.out:
                name = f"{args.seed}-{index}-{label}.txt"
                with open(os.path.join(args.out, name), "a") as f:
                    f.write(f"--- {head}\n{key}\n")
    agree = args.count - len(disagreeing)
    print(f"oracle-fuzz-xinetd: seed {args.seed}, cases {args.first}..{args.first + args.count - 1}: "
          f"{agree}/{args.count} agree ({100.0 * agree / max(args.count, 1):.1f} %), "
          f"{len(disagreeing)} disagree ({unexplained} unexplained disagreements); "
          f"services: {totals['active']} active, {totals['rejected']} rejected, "
          f"{totals['disabled']} disabled by xinetd-lint, {totals['xinetd-started']} started by "
          f"xinetd; {time.time() - started_at:.0f} s")
    for label, n in classes.most_common():
        print(f"  {n:5d}  {label}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
