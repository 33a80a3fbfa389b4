//! What the verdict depends on besides the files: /etc/services,
//! /etc/protocols, /etc/rpc, /etc/networks, accounts, executables and name
//! resolution.  `RootHost` answers from a root directory (`--root`), so a
//! jail, a ports STAGEDIR or a mounted image is checked as it is: every file
//! is opened through [`Root`], so no path or link inside the tree reaches the
//! host's files.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use mailhost_common::files::Files;
use mailhost_common::root::Root;

/// The host itself, the tree of hosts that have none of their own (the
/// unit tests' `FakeHost`).
#[cfg(test)]
fn host_root() -> &'static Root {
    static HOST: std::sync::OnceLock<Root> = std::sync::OnceLock::new();
    HOST.get_or_init(Root::host)
}

/// The host xinetd runs on: its files (the shared [`Files`], every open and
/// stat through the tree's `Root`) and what it answers besides files.
pub trait Host: Files {
    fn has_protocol(&self, name: &str) -> bool;
    fn has_user(&self, name: &str) -> bool;
    fn has_group(&self, name: &str) -> bool;
    /// `Ok` when xinetd's `access(X_OK)` and `stat()` would pass.
    fn executable(&self, path: &str) -> Result<(), String>;
    /// getservbyname(name, proto): names and aliases, case-sensitive.
    fn service_port(&self, name: &str, protocol: &str) -> Option<u16>;
    fn has_rpc(&self, name: &str) -> bool;
    fn network(&self, name: &str) -> bool;
    fn resolves(&self, name: &str) -> bool;
    /// A file under the root (for rc.conf, systemd units and the like).
    fn path(&self, absolute: &str) -> PathBuf;
    /// True when an RPC portmapper (rpcbind, portmap) is enabled.
    fn portmapper(&self) -> bool;
    /// False when `address` is certainly not an address of the host xinetd
    /// runs on (only knowable for the live system).
    fn local_address(&self, address: &str) -> bool;

    /// Starts resolving these names (in parallel) so that the `resolves`
    /// calls that follow find the answer waiting.
    fn prefetch(&self, _names: &[String]) {}
    /// The names whose look-up did not answer within the deadline.
    fn timed_out(&self) -> Vec<String> {
        Vec::new()
    }
}

/// One line of a services-style table: name, number field, aliases.
struct Entry {
    names: Vec<String>,
    field: String,
}

fn table(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let field = words.next()?.to_string();
            let mut names = vec![name.to_string()];
            names.extend(words.map(String::from));
            Some(Entry { names, field })
        })
        .collect()
}

pub struct RootHost {
    /// `None` when the tree could not be opened: then no file exists.
    root: Option<Root>,
    root_path: PathBuf,
    resolver: Resolver,
    /// (name or alias, protocol) -> port; the first entry wins, as in getservbyname.
    services: OnceCell<std::collections::HashMap<(String, String), u16>>,
    /// The names and aliases of /etc/protocols, /etc/rpc and
    /// /etc/networks, read once: a look-up is a hash probe.
    protocols: OnceCell<HashSet<String>>,
    rpc: OnceCell<HashSet<String>>,
    networks: OnceCell<HashSet<String>>,
    /// Account names, read once: a look-up is a hash probe, so ten
    /// thousand services against a large passwd stay linear.
    passwd: OnceCell<HashSet<String>>,
    group: OnceCell<HashSet<String>>,
    executables: RefCell<HashMap<String, Result<(), String>>>,
}

impl RootHost {
    /// A host read from the tree at `root`; host names are resolved only
    /// for the live system (`/`).  A tree that cannot be opened has no files.
    pub fn new(root: &Path) -> RootHost {
        let opened = Root::new(root).ok();
        let live = opened.as_ref().is_some_and(Root::is_host);
        RootHost::with_root(opened, root, live)
    }

    /// A host read from `root`; `resolve` decides whether host names (in
    /// only_from, no_access, bind, redirect) are looked up here at all.
    pub fn with_root(root: Option<Root>, shown: &Path, resolve: bool) -> RootHost {
        RootHost {
            root,
            root_path: shown.to_path_buf(),
            resolver: Resolver::new(resolve, DNS_DEADLINE),
            services: OnceCell::new(),
            protocols: OnceCell::new(),
            rpc: OnceCell::new(),
            networks: OnceCell::new(),
            passwd: OnceCell::new(),
            group: OnceCell::new(),
            executables: RefCell::new(HashMap::new()),
        }
    }

    /// A table such as /etc/services, read inside the tree; missing is empty.
    fn read(&self, path: &str) -> String {
        self.tree()
            .and_then(|root| root.read_config(Path::new(path)))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The names of /etc/passwd or /etc/group (the first field of each
    /// line), read once and borrowed by every look-up, never copied.
    fn accounts<'a>(&self, cell: &'a OnceCell<HashSet<String>>, path: &str) -> &'a HashSet<String> {
        cell.get_or_init(|| {
            self.read(path)
                .lines()
                .filter_map(|l| l.split(':').next())
                .map(String::from)
                .collect()
        })
    }

    /// The names and aliases of a table such as /etc/rpc, read once.
    fn names<'a>(&self, cell: &'a OnceCell<HashSet<String>>, path: &str) -> &'a HashSet<String> {
        cell.get_or_init(|| {
            table(&self.read(path))
                .into_iter()
                .flat_map(|entry| entry.names)
                .collect()
        })
    }
}

impl Host for RootHost {
    fn has_protocol(&self, name: &str) -> bool {
        self.names(&self.protocols, "/etc/protocols").contains(name)
    }
    fn has_user(&self, name: &str) -> bool {
        self.accounts(&self.passwd, "/etc/passwd").contains(name)
    }
    fn has_group(&self, name: &str) -> bool {
        self.accounts(&self.group, "/etc/group").contains(name)
    }
    fn executable(&self, path: &str) -> Result<(), String> {
        if !path.starts_with('/') {
            // xinetd resolves it against its start-up directory: a bare
            // name like `cat` is not looked up in PATH.
            return Err(format!(
                "Unable to stat: {path}. (a relative server path is not looked up in PATH)"
            ));
        }
        // Ten thousand services with one server: one stat.
        if let Some(known) = self.executables.borrow().get(path) {
            return known.clone();
        }
        let answer = match self.metadata(Path::new(path)) {
            Err(_) => Err(format!("Unable to stat: {path}.")),
            // access(X_OK) as root: any execute bit, a directory's too.
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                Err(format!("Server {path} is not executable"))
            }
            Ok(_) => Ok(()),
        };
        self.executables
            .borrow_mut()
            .insert(path.to_string(), answer.clone());
        answer
    }
    fn service_port(&self, name: &str, protocol: &str) -> Option<u16> {
        let index = self.services.get_or_init(|| {
            let mut index = std::collections::HashMap::new();
            for e in table(&self.read("/etc/services")) {
                let Some((port, proto)) = e.field.split_once('/') else {
                    continue;
                };
                let Ok(port) = port.parse::<u16>() else {
                    continue;
                };
                for n in &e.names {
                    index.entry((n.clone(), proto.to_string())).or_insert(port);
                }
            }
            index
        });
        index
            .get(&(name.to_string(), protocol.to_string()))
            .copied()
    }
    fn has_rpc(&self, name: &str) -> bool {
        self.names(&self.rpc, "/etc/rpc").contains(name)
    }
    fn network(&self, name: &str) -> bool {
        self.names(&self.networks, "/etc/networks").contains(name)
    }
    fn resolves(&self, name: &str) -> bool {
        self.resolver.resolves(name)
    }
    fn prefetch(&self, names: &[String]) {
        for name in names {
            self.resolver.start(name);
        }
    }
    fn timed_out(&self) -> Vec<String> {
        self.resolver.timed_out.borrow().clone()
    }
    fn path(&self, absolute: &str) -> PathBuf {
        self.display(Path::new(absolute))
    }
    fn portmapper(&self) -> bool {
        let rc = self
            .tree()
            .ok()
            .and_then(|root| mailhost_common::rcconf::RcConf::load(root).ok())
            .is_some_and(|rc| rc.is_yes("rpcbind_enable"));
        rc || enabled_unit(
            self,
            &["rpcbind.service", "rpcbind.socket", "portmap.service"],
        )
        .is_some()
    }
    fn local_address(&self, address: &str) -> bool {
        if !self.root.as_ref().is_some_and(Root::is_host) {
            return true; // another system's interfaces cannot be known here
        }
        match address.parse::<std::net::IpAddr>() {
            // Binding port 0 of a UDP socket asks the kernel without using it.
            Ok(ip) => std::net::UdpSocket::bind((ip, 0)).map_or_else(
                |e| e.kind() != std::io::ErrorKind::AddrNotAvailable,
                |_| true,
            ),
            Err(_) => true,
        }
    }
}

impl Files for RootHost {
    fn tree(&self) -> io::Result<&Root> {
        self.root.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: cannot open the root", self.root_path.display()),
            )
        })
    }
    fn display(&self, jail: &Path) -> PathBuf {
        match &self.root {
            Some(root) => root.display_path(jail),
            None => mailhost_common::conventions::under_root(&self.root_path, jail),
        }
    }
}

/// The first of `units` that is enabled, as the `.wants`/`.requires` link
/// that enables it (jail path): the host model's reading of systemd
/// (`mailhost_host::systemd::unit_state`; masks count as not enabled).
pub fn enabled_unit(host: &dyn Host, units: &[&str]) -> Option<PathBuf> {
    let root = host.root()?;
    units.iter().find_map(
        |unit| match mailhost_host::systemd::unit_state(root, unit) {
            Some(mailhost_host::systemd::UnitState::Enabled { link }) => Some(link),
            _ => None,
        },
    )
}

/// How long all name look-ups of one run may take together: xinetd
/// resolves at start-up, and a resolver that does not answer must not hang
/// a cron job.
pub const DNS_DEADLINE: Duration = Duration::from_secs(3);

/// How many look-ups may run at once: the size of the pool of worker
/// threads, the only threads a run ever starts for names.  Kept small
/// because each thread that allocates may get its own malloc arena (64 MiB
/// of address space in glibc): with 32 of them a run under `ulimit -v 1G`
/// ran out of address space and a new thread died in std's start-up,
/// beyond any error handling.  xinetd itself resolves one name at a time.
pub const MAX_PARALLEL_LOOKUPS: usize = 8;

/// Host-name look-ups: each name once, by a bounded pool of worker
/// threads, all within one deadline; a name whose answer has not come by
/// then counts as not resolving (as for xinetd on an offline host).
///
/// The workers take names from one queue.  A worker stuck in a resolver
/// that never answers stays stuck (getaddrinfo cannot be cancelled) and
/// ends with the process; since there are never more than
/// [`MAX_PARALLEL_LOOKUPS`] of them, twenty thousand names behind such a
/// resolver cost the deadline and 8 threads, not 20,000 threads.
pub struct Resolver {
    enabled: bool,
    lookup: Lookup,
    deadline: Duration,
    started: OnceCell<Instant>,
    /// Names queued or being looked up, not answered yet.
    asked: RefCell<HashSet<String>>,
    queue: Arc<Mutex<WorkQueue>>,
    answered_tx: mpsc::Sender<(String, bool)>,
    answered_rx: mpsc::Receiver<(String, bool)>,
    /// Names whose answer had not come by the deadline.
    pub timed_out: RefCell<Vec<String>>,
    answers: RefCell<HashMap<String, bool>>,
    /// How many look-ups were really made (a test counts them).
    pub lookups: Arc<Mutex<usize>>,
    /// How many worker threads were started (a test counts them).
    pub workers_started: std::cell::Cell<usize>,
}

/// The names waiting for a worker, and how many workers are alive: kept
/// under one lock, so a worker never leaves while a name waits unseen.
#[derive(Default)]
struct WorkQueue {
    names: std::collections::VecDeque<String>,
    workers: usize,
}

/// How one name is looked up (the system resolver; a test's stand-in).
pub type Lookup = Arc<dyn Fn(&str) -> bool + Send + Sync>;

fn system_lookup(name: &str) -> bool {
    std::net::ToSocketAddrs::to_socket_addrs(&(name, 0)).is_ok_and(|mut a| a.next().is_some())
}

fn lock(queue: &Mutex<WorkQueue>) -> std::sync::MutexGuard<'_, WorkQueue> {
    queue.lock().unwrap_or_else(|e| e.into_inner())
}

impl Resolver {
    pub fn new(enabled: bool, deadline: Duration) -> Resolver {
        Resolver::with_lookup(enabled, deadline, Arc::new(system_lookup))
    }

    pub fn with_lookup(enabled: bool, deadline: Duration, lookup: Lookup) -> Resolver {
        let (answered_tx, answered_rx) = mpsc::channel();
        Resolver {
            enabled,
            lookup,
            deadline,
            started: OnceCell::new(),
            asked: RefCell::new(HashSet::new()),
            queue: Arc::new(Mutex::new(WorkQueue::default())),
            answered_tx,
            answered_rx,
            timed_out: RefCell::new(Vec::new()),
            answers: RefCell::new(HashMap::new()),
            lookups: Arc::new(Mutex::new(0)),
            workers_started: std::cell::Cell::new(0),
        }
    }

    /// Only plausible host names are looked up (xinetd does the same lookup
    /// when it starts, on the machine it runs on).
    fn plausible(name: &str) -> bool {
        !name.is_empty()
            && name.len() < 254
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }

    /// Without look-ups: a name of digits and dots is what the resolver's
    /// inet_aton would make of it (`10.0.0`, `127.1`), never a DNS name;
    /// any other plausible name counts as resolving on the tree's own host.
    fn offline_answer(name: &str) -> bool {
        if !name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return true;
        }
        let parts: Vec<&str> = name.split('.').collect();
        let Ok(numbers) = parts
            .iter()
            .map(|p| p.parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
        else {
            return false; // an empty part: `127.0.0.`
        };
        let (last, head) = numbers.split_last().expect("split gives one part at least");
        parts.len() <= 4
            && head.iter().all(|n| *n <= 255)
            && *last < 1u64 << (8 * (5 - parts.len()))
    }

    fn past_deadline(&self) -> bool {
        self.started
            .get()
            .is_some_and(|started| started.elapsed() >= self.deadline)
    }

    /// Queues the look-up of `name` ahead of time, unless it is known,
    /// queued already, a numeric address, or the deadline has passed.
    pub fn start(&self, name: &str) {
        if !self.enabled || !Self::plausible(name) || name.parse::<std::net::IpAddr>().is_ok() {
            return;
        }
        self.enqueue(name);
    }

    fn enqueue(&self, name: &str) {
        if self.past_deadline()
            || self.answers.borrow().contains_key(name)
            || self.asked.borrow().contains(name)
        {
            return;
        }
        self.started.get_or_init(Instant::now);
        self.asked.borrow_mut().insert(name.to_string());
        let mut queue = lock(&self.queue);
        queue.names.push_back(name.to_string());
        // Workers leave when the queue is empty, so none is idle: a new
        // name gets a new worker while there are fewer than the limit.
        if queue.workers < MAX_PARALLEL_LOOKUPS && self.spawn_worker() {
            queue.workers += 1;
        }
    }

    /// Starts one worker: it looks names up until the queue is empty.  A
    /// failed spawn (the system is out of threads) leaves the names to the
    /// running workers, or to the deadline.
    fn spawn_worker(&self) -> bool {
        let queue = Arc::clone(&self.queue);
        let answered = self.answered_tx.clone();
        let lookups = Arc::clone(&self.lookups);
        let lookup = Arc::clone(&self.lookup);
        let spawned = std::thread::Builder::new()
            .name("resolver".into())
            // getaddrinfo and its NSS modules need well under this.
            .stack_size(256 * 1024)
            .spawn(move || {
                loop {
                    let name = {
                        let mut queue = lock(&queue);
                        match queue.names.pop_front() {
                            Some(name) => name,
                            None => {
                                queue.workers -= 1;
                                return;
                            }
                        }
                    };
                    *lookups.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    let answer = lookup(&name);
                    if answered.send((name, answer)).is_err() {
                        return; // Nobody waits any more.
                    }
                }
            });
        if spawned.is_ok() {
            self.workers_started.set(self.workers_started.get() + 1);
        }
        spawned.is_ok()
    }

    /// Takes the answers that have come, waiting until `name`'s has or
    /// the deadline passes.
    fn wait_for(&self, name: &str) -> Option<bool> {
        let started = *self.started.get_or_init(Instant::now);
        loop {
            if let Some(answer) = self.answers.borrow().get(name) {
                return Some(*answer);
            }
            let left = self.deadline.saturating_sub(started.elapsed());
            let (answered, answer) = if left.is_zero() {
                self.answered_rx.try_recv().ok()?
            } else {
                self.answered_rx.recv_timeout(left).ok()?
            };
            self.asked.borrow_mut().remove(&answered);
            // An answer after the deadline does not undo "timed out".
            self.answers.borrow_mut().entry(answered).or_insert(answer);
        }
    }

    /// Whether `name` resolves; without resolution (a foreign --root) every
    /// plausible name counts as resolving, since only the tree's own host
    /// could say.
    pub fn resolves(&self, name: &str) -> bool {
        if !Self::plausible(name) {
            return false;
        }
        if !self.enabled {
            return Self::offline_answer(name);
        }
        if let Some(answer) = self.answers.borrow().get(name) {
            return *answer;
        }
        self.enqueue(name);
        let answer = self.wait_for(name).unwrap_or_else(|| {
            // Past the deadline: what is still queued is never looked up,
            // so the stuck workers are all that is left.
            lock(&self.queue).names.clear();
            self.timed_out.borrow_mut().push(name.to_string());
            false
        });
        self.answers.borrow_mut().insert(name.to_string(), answer);
        answer
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A host for unit tests: Debian-like tables, nothing resolves.
    #[derive(Default)]
    pub struct FakeHost;

    /// Files are the host's own (the fixtures are read where they are).
    impl Files for FakeHost {
        fn tree(&self) -> io::Result<&Root> {
            Ok(host_root())
        }
    }

    impl Host for FakeHost {
        fn has_protocol(&self, name: &str) -> bool {
            matches!(name, "tcp" | "TCP" | "udp" | "UDP")
        }
        fn has_user(&self, name: &str) -> bool {
            matches!(name, "root" | "nobody")
        }
        fn has_group(&self, name: &str) -> bool {
            matches!(name, "root" | "nogroup")
        }
        fn executable(&self, path: &str) -> Result<(), String> {
            if path.starts_with("/bin/") {
                Ok(())
            } else {
                Err(format!("Unable to stat: {path}."))
            }
        }
        fn service_port(&self, name: &str, protocol: &str) -> Option<u16> {
            match (name, protocol) {
                ("imap" | "imap2", "tcp") => Some(143),
                ("pop3", "tcp") => Some(110),
                ("echo", "tcp" | "udp") => Some(7),
                ("rsync", "tcp") => Some(873),
                _ => None,
            }
        }
        fn has_rpc(&self, name: &str) -> bool {
            name == "rstatd"
        }
        fn network(&self, _: &str) -> bool {
            false
        }
        fn resolves(&self, name: &str) -> bool {
            name == "localhost"
        }
        fn path(&self, absolute: &str) -> PathBuf {
            PathBuf::from(absolute)
        }
        fn portmapper(&self) -> bool {
            false
        }
        fn local_address(&self, address: &str) -> bool {
            address == "127.0.0.1"
        }
    }

    fn slow(delay: Duration) -> Lookup {
        Arc::new(move |name: &str| {
            std::thread::sleep(delay);
            name.ends_with(".example")
        })
    }

    #[test]
    fn each_name_is_resolved_once() {
        let r = Resolver::with_lookup(true, Duration::from_secs(5), slow(Duration::ZERO));
        assert!(r.resolves("mail.example"));
        assert!(r.resolves("mail.example"));
        assert!(!r.resolves("nowhere.test"));
        assert!(!r.resolves("nowhere.test"));
        assert_eq!(*r.lookups.lock().unwrap(), 2);
    }

    #[test]
    fn names_are_resolved_in_parallel_within_the_deadline() {
        let names: Vec<String> = (0..8).map(|n| format!("h{n}.example")).collect();
        // Eight look-ups of 300 ms each: in parallel, well under 8 × 300 ms.
        let r = Resolver::with_lookup(
            true,
            Duration::from_secs(5),
            slow(Duration::from_millis(300)),
        );
        let t = Instant::now();
        for n in &names {
            r.start(n);
        }
        assert!(names.iter().all(|n| r.resolves(n)));
        assert!(
            t.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t.elapsed()
        );
        // A resolver that never answers: every name fails once the deadline passed.
        let r = Resolver::with_lookup(
            true,
            Duration::from_millis(300),
            slow(Duration::from_secs(30)),
        );
        let t = Instant::now();
        assert!(names.iter().all(|n| !r.resolves(n)));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(*r.timed_out.borrow(), names, "each is reported");
    }

    #[test]
    fn at_most_a_bounded_number_of_look_ups_run_at_once() {
        let names: Vec<String> = (0..100).map(|n| format!("h{n}.example")).collect();
        let r = Resolver::with_lookup(
            true,
            Duration::from_secs(10),
            slow(Duration::from_millis(100)),
        );
        let t = Instant::now();
        for n in &names {
            r.start(n);
        }
        assert!(r.workers_started.get() <= MAX_PARALLEL_LOOKUPS);
        assert!(names.iter().all(|n| r.resolves(n)));
        // 100 look-ups of 100 ms, 32 at a time: about 0.4 s, not 10 s.
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_eq!(*r.lookups.lock().unwrap(), 100);
    }

    #[test]
    fn names_after_the_deadline_start_no_thread() {
        // A resolver that never answers and 20,000 names: the pool's
        // threads hang, and every other name is timed out without one.
        let names: Vec<String> = (0..20_000).map(|n| format!("h{n}.example")).collect();
        let r = Resolver::with_lookup(
            true,
            Duration::from_millis(200),
            slow(Duration::from_secs(3600)),
        );
        for n in &names[..100] {
            r.start(n);
        }
        assert!(names.iter().all(|n| !r.resolves(n)));
        assert_eq!(r.workers_started.get(), MAX_PARALLEL_LOOKUPS);
        assert_eq!(*r.lookups.lock().unwrap(), MAX_PARALLEL_LOOKUPS);
        assert_eq!(r.timed_out.borrow().len(), names.len());
        // Asked again: the same answer, nothing new started.
        assert!(!r.resolves(&names[0]));
        assert_eq!(r.workers_started.get(), MAX_PARALLEL_LOOKUPS);
    }

    #[test]
    fn a_late_answer_does_not_undo_a_time_out() {
        let r = Resolver::with_lookup(
            true,
            Duration::from_millis(100),
            slow(Duration::from_millis(300)),
        );
        assert!(!r.resolves("late.example"));
        std::thread::sleep(Duration::from_millis(400));
        assert!(!r.resolves("other.example"), "past the deadline");
        assert!(!r.resolves("late.example"), "the answer given stands");
        assert_eq!(
            *r.timed_out.borrow(),
            vec!["late.example".to_string(), "other.example".to_string()]
        );
    }

    #[test]
    fn a_foreign_root_resolves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let host = RootHost::new(dir.path());
        assert!(
            host.resolves("mail.example"),
            "names in a foreign tree count as resolving"
        );
        assert!(!host.resolves("127.0.0."), "not a host name at all");
        assert!(host.resolves("10.0.0"), "inet_aton's short form");
        assert!(!host.resolves("10.0.0.256"));
        assert_eq!(*host.resolver.lookups.lock().unwrap(), 0);
    }

    #[test]
    fn tables_from_a_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/services"),
            "imap2\t143/tcp\timap # comment\npop3 110/tcp\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/protocols"), "tcp 6 TCP\nudp 17 UDP\n").unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root:*:0:0::/root:/bin/sh\n").unwrap();
        let host = RootHost::new(dir.path());
        assert_eq!(host.service_port("imap", "tcp"), Some(143));
        assert_eq!(
            host.service_port("imap", "TCP"),
            None,
            "the protocol string is compared as written"
        );
        assert!(host.has_protocol("TCP"));
        assert!(!host.has_protocol("sctp"));
        assert!(host.has_user("root"));
        assert!(host.executable("cat").is_err());
        assert!(
            host.executable("/nonexistent")
                .unwrap_err()
                .starts_with("Unable to stat")
        );
    }
}
