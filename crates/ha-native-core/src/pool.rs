//! The worker pool that runs resource commands (start, stop, migrate, ...):
//! child processes started directly from a program and its arguments, never
//! through a shell, at most `max_workers` at a time, each with an optional
//! timeout, each result reported under the command's UID.
//!
//! Every command runs in a process group of its own, so a timeout reaches
//! whatever the command started as well: SIGTERM to the group, then SIGKILL
//! after a grace period. An abort ([`WorkerPool::abort`]) ends a command the
//! same way at once (a queued one never starts); the outcome says which.
//! Signals are sent only while the command's main process is unreaped, so
//! its pid and group id cannot have been reused.

use crate::sys;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub const DEFAULT_MAX_WORKERS: usize = 4;
/// How much of each of stdout and stderr a result keeps (the tail).
pub const DEFAULT_CAPTURE_LIMIT: usize = 64 * 1024;
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);
/// Time between SIGTERM and SIGKILL when a command is aborted: short, since
/// an abort is urgent (an LRM that finds itself fenced).
pub const DEFAULT_ABORT_GRACE: Duration = Duration::from_secs(1);
/// How long to wait for output after the command exited: a background
/// process it left behind may hold the pipes open indefinitely.
const OUTPUT_DRAIN_WAIT: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub uid: String,
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or overriding) the pool's own environment.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL once the timeout is reached.
    pub kill_grace: Duration,
    /// Bytes of stdout and of stderr kept; 0 discards output.
    pub capture_limit: usize,
}

impl CommandSpec {
    pub fn new(uid: impl Into<String>, program: impl Into<String>, args: &[&str]) -> CommandSpec {
        CommandSpec {
            uid: uid.into(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            cwd: None,
            timeout: None,
            kill_grace: DEFAULT_KILL_GRACE,
            capture_limit: DEFAULT_CAPTURE_LIMIT,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandOutcome {
    pub uid: String,
    /// Set when the command exited on its own.
    pub exit_code: Option<i32>,
    /// Set when a signal ended the command (after a timeout: SIGTERM or SIGKILL).
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// Set when [`WorkerPool::abort`] ended it, or dropped it before it started
    /// (then neither exit code nor signal is set).
    pub aborted: bool,
    pub duration: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Set when the command could not be started at all.
    pub spawn_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitError {
    Closed,
    DuplicateUid(String),
    Invalid(String),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Closed => {
                write!(f, "the worker pool is closed and accepts no more commands")
            }
            SubmitError::DuplicateUid(uid) => {
                write!(
                    f,
                    "a command with uid {uid:?} is already queued or running in this pool"
                )
            }
            SubmitError::Invalid(why) => write!(f, "invalid command: {why}"),
        }
    }
}

impl std::error::Error for SubmitError {}

/// A queued command dropped because the pool was closed before it started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancelled {
    pub uid: String,
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "command {:?} was cancelled: the worker pool closed before it started",
            self.uid
        )
    }
}

pub type Completion = Box<dyn FnOnce(Result<CommandOutcome, Cancelled>) + Send>;

struct Job {
    spec: CommandSpec,
    done: Completion,
}

struct PoolState {
    queue: VecDeque<Job>,
    uids: HashSet<String>,
    /// Commands taken from the queue and not yet reported, by uid.
    running: HashMap<String, Arc<Watch>>,
    active: usize,
    closed: bool,
}

/// A command taken from the queue, which the timer or an abort may signal.
/// `pgid` is set, under this lock, when it is spawned (not at all once it
/// was aborted before); `finished` before the process is reaped.
struct Watch {
    status: Mutex<WatchStatus>,
}

#[derive(Default)]
struct WatchStatus {
    pgid: Option<u32>,
    finished: bool,
    timed_out: bool,
    aborted: bool,
}

/// Why a command is signalled.
#[derive(Clone, Copy)]
enum Reason {
    Timeout,
    Abort,
}

#[derive(Clone, Copy)]
enum Stage {
    Terminate { grace: Duration },
    Kill,
}

#[derive(Default)]
struct TimerState {
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    entries: HashMap<u64, (Arc<Watch>, Stage, Reason)>,
    next_seq: u64,
    closed: bool,
    /// Worker threads still running: one may yet schedule a deadline, so
    /// the timer outlives them all.
    workers_alive: usize,
}

struct Shared {
    max_workers: usize,
    state: Mutex<PoolState>,
    work: Condvar,
    timer: Mutex<TimerState>,
    timer_wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct WorkerPool {
    shared: Arc<Shared>,
}

impl WorkerPool {
    pub fn new(max_workers: usize) -> Result<WorkerPool, String> {
        if max_workers == 0 {
            return Err("max_workers must be at least 1".into());
        }
        let shared = Arc::new(Shared {
            max_workers,
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                uids: HashSet::new(),
                running: HashMap::new(),
                active: 0,
                closed: false,
            }),
            work: Condvar::new(),
            timer: Mutex::new(TimerState {
                workers_alive: max_workers,
                ..TimerState::default()
            }),
            timer_wake: Condvar::new(),
        });
        for _ in 0..max_workers {
            let s = shared.clone();
            thread::spawn(move || worker_loop(&s));
        }
        let s = shared.clone();
        thread::spawn(move || timer_loop(&s));
        Ok(WorkerPool { shared })
    }

    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// Queues a command; `done` is called from a pool thread with its outcome.
    pub fn submit(&self, spec: CommandSpec, done: Completion) -> Result<(), SubmitError> {
        if spec.uid.is_empty() {
            return Err(SubmitError::Invalid("uid must not be empty".into()));
        }
        if spec.program.is_empty() {
            return Err(SubmitError::Invalid(format!(
                "command {:?} has no program to run",
                spec.uid
            )));
        }
        let mut state = lock(&self.shared.state);
        if state.closed {
            return Err(SubmitError::Closed);
        }
        if !state.uids.insert(spec.uid.clone()) {
            return Err(SubmitError::DuplicateUid(spec.uid));
        }
        state.queue.push_back(Job { spec, done });
        drop(state);
        self.shared.work.notify_one();
        Ok(())
    }

    /// Commands running right now.
    pub fn active_count(&self) -> usize {
        lock(&self.shared.state).active
    }

    pub fn queued_count(&self) -> usize {
        lock(&self.shared.state).queue.len()
    }

    /// Aborts the command `uid`: a queued one is dropped and reported aborted
    /// without having run; a running one's process group gets SIGTERM, then
    /// SIGKILL after `grace`, and is reported aborted with the signal that
    /// ended it. Returns false when no such command is queued or running
    /// (unknown, or already exited).
    pub fn abort(&self, uid: &str, grace: Duration) -> bool {
        let mut state = lock(&self.shared.state);
        if let Some(at) = state.queue.iter().position(|job| job.spec.uid == uid) {
            let job = state.queue.remove(at).expect("position is in the queue");
            state.uids.remove(uid);
            drop(state);
            (job.done)(Ok(dropped(&job.spec.uid)));
            return true;
        }
        let Some(watch) = state.running.get(uid).cloned() else {
            return false;
        };
        drop(state);
        self.abort_running(watch, grace)
    }

    /// Aborts every queued and running command, as [`WorkerPool::abort`]
    /// does each; returns how many it aborted.
    pub fn abort_all(&self, grace: Duration) -> usize {
        let (queued, running): (Vec<Job>, Vec<Arc<Watch>>) = {
            let mut state = lock(&self.shared.state);
            let jobs: Vec<Job> = state.queue.drain(..).collect();
            for job in &jobs {
                state.uids.remove(&job.spec.uid);
            }
            (jobs, state.running.values().cloned().collect())
        };
        let mut count = queued.len();
        for job in queued {
            (job.done)(Ok(dropped(&job.spec.uid)));
        }
        for watch in running {
            if self.abort_running(watch, grace) {
                count += 1;
            }
        }
        count
    }

    fn abort_running(&self, watch: Arc<Watch>, grace: Duration) -> bool {
        match fire(&watch, Stage::Terminate { grace }, Reason::Abort) {
            Fired::Finished => false,
            Fired::Signalled(None) => true,
            Fired::Signalled(Some(grace)) => {
                schedule(
                    &mut lock(&self.shared.timer),
                    Instant::now() + grace,
                    watch,
                    Stage::Kill,
                    Reason::Abort,
                );
                self.shared.timer_wake.notify_one();
                true
            }
        }
    }

    /// Accepts no more commands and cancels the queued ones; running
    /// commands finish (or time out) and report as usual.
    pub fn close(&self) {
        let cancelled: Vec<Job> = {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            let jobs: Vec<Job> = state.queue.drain(..).collect();
            for job in &jobs {
                state.uids.remove(&job.spec.uid);
            }
            jobs
        };
        self.shared.work.notify_all();
        lock(&self.shared.timer).closed = true;
        self.shared.timer_wake.notify_all();
        for job in cancelled {
            (job.done)(Err(Cancelled { uid: job.spec.uid }));
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.close();
    }
}

fn worker_loop(shared: &Shared) {
    loop {
        let (job, watch) = {
            let mut state = lock(&shared.state);
            loop {
                if let Some(job) = state.queue.pop_front() {
                    state.active += 1;
                    // Registered with the pop, under the same lock: an abort
                    // finds the command queued or here, never neither.
                    let watch = Arc::new(Watch {
                        status: Mutex::new(WatchStatus::default()),
                    });
                    state.running.insert(job.spec.uid.clone(), watch.clone());
                    break (job, watch);
                }
                if state.closed {
                    drop(state);
                    lock(&shared.timer).workers_alive -= 1;
                    shared.timer_wake.notify_all();
                    return;
                }
                state = shared.work.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        };
        let outcome = execute(&job.spec, &watch, shared);
        {
            let mut state = lock(&shared.state);
            state.active -= 1;
            state.uids.remove(&job.spec.uid);
            state.running.remove(&job.spec.uid);
        }
        (job.done)(Ok(outcome));
    }
}

fn timer_loop(shared: &Shared) {
    let mut timer = lock(&shared.timer);
    loop {
        let now = Instant::now();
        match timer.deadlines.peek().copied() {
            Some(Reverse((at, seq))) if at <= now => {
                timer.deadlines.pop();
                let Some((watch, stage, reason)) = timer.entries.remove(&seq) else {
                    continue;
                };
                if let Fired::Signalled(Some(grace)) = fire(&watch, stage, reason) {
                    schedule(&mut timer, now + grace, watch, Stage::Kill, reason);
                }
            }
            Some(Reverse((at, _))) => {
                timer = shared
                    .timer_wake
                    .wait_timeout(timer, at - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            None if timer.closed && timer.workers_alive == 0 => return,
            None => {
                timer = shared
                    .timer_wake
                    .wait(timer)
                    .unwrap_or_else(|p| p.into_inner())
            }
        }
    }
}

enum Fired {
    /// It had exited already: nothing was done.
    Finished,
    /// Marked (and signalled, once spawned); SIGKILL should follow after this grace.
    Signalled(Option<Duration>),
}

/// Signals a command that reached a deadline or is aborted, unless it has
/// already exited. One aborted before it was spawned is only marked: it
/// will not be spawned.
fn fire(watch: &Watch, stage: Stage, reason: Reason) -> Fired {
    let mut status = lock(&watch.status);
    if status.finished {
        return Fired::Finished;
    }
    match reason {
        Reason::Timeout => status.timed_out = true,
        Reason::Abort => status.aborted = true,
    }
    let Some(pgid) = status.pgid else {
        return Fired::Signalled(None);
    };
    let (signal, follow_up) = match stage {
        Stage::Terminate { grace } if !grace.is_zero() => (sys::SIGTERM, Some(grace)),
        _ => (sys::SIGKILL, None),
    };
    // ESRCH is possible if the whole group is already gone; nothing to do then.
    let _ = sys::kill_process_group(pgid, signal);
    Fired::Signalled(follow_up)
}

fn schedule(timer: &mut TimerState, at: Instant, watch: Arc<Watch>, stage: Stage, reason: Reason) {
    let seq = timer.next_seq;
    timer.next_seq += 1;
    timer.deadlines.push(Reverse((at, seq)));
    timer.entries.insert(seq, (watch, stage, reason));
}

/// The outcome of a command aborted before it started.
fn dropped(uid: &str) -> CommandOutcome {
    CommandOutcome {
        uid: uid.to_string(),
        exit_code: None,
        signal: None,
        timed_out: false,
        aborted: true,
        duration: Duration::ZERO,
        stdout: Vec::new(),
        stderr: Vec::new(),
        spawn_error: None,
    }
}

/// Reads a pipe to its end, keeping the last `limit` bytes.
fn read_tail(mut pipe: impl Read + Send + 'static, limit: usize) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    kept.extend_from_slice(&chunk[..n]);
                    if kept.len() > 2 * limit {
                        kept.drain(..kept.len() - limit);
                    }
                }
            }
        }
        if kept.len() > limit {
            kept.drain(..kept.len() - limit);
        }
        let _ = tx.send(kept);
    });
    rx
}

fn execute(spec: &CommandSpec, watch: &Arc<Watch>, shared: &Shared) -> CommandOutcome {
    let started = Instant::now();
    let mut outcome = CommandOutcome {
        uid: spec.uid.clone(),
        exit_code: None,
        signal: None,
        timed_out: false,
        aborted: false,
        duration: Duration::ZERO,
        stdout: Vec::new(),
        stderr: Vec::new(),
        spawn_error: None,
    };
    let output = || {
        if spec.capture_limit > 0 {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output());
    command.process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    // Spawned under the watch's lock: an abort either comes first (and the
    // command never runs) or finds its process group.
    let mut status = lock(&watch.status);
    if status.aborted {
        return dropped(&spec.uid);
    }
    let spawned = command.spawn();
    if let Ok(child) = &spawned {
        status.pgid = Some(child.id());
    }
    drop(status);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let place = spec
                .cwd
                .as_ref()
                .map(|c| format!(" in {}", c.display()))
                .unwrap_or_default();
            outcome.spawn_error = Some(format!("cannot run {:?}{place}: {e}", spec.program));
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    let stdout = child
        .stdout
        .take()
        .map(|p| read_tail(p, spec.capture_limit));
    let stderr = child
        .stderr
        .take()
        .map(|p| read_tail(p, spec.capture_limit));
    if let Some(timeout) = spec.timeout {
        schedule(
            &mut lock(&shared.timer),
            started + timeout,
            watch.clone(),
            Stage::Terminate {
                grace: spec.kill_grace,
            },
            Reason::Timeout,
        );
        shared.timer_wake.notify_one();
    }

    let waited = sys::wait_exited_without_reaping(child.id());
    (outcome.timed_out, outcome.aborted) = {
        let mut status = lock(&watch.status);
        status.finished = true;
        (status.timed_out, status.aborted)
    };
    if let Err(e) = waited {
        // Not expected for our own child; wait() below still reaps it.
        outcome.spawn_error = Some(format!("waiting for {:?} failed: {e}", spec.program));
    }
    match child.wait() {
        Ok(status) => {
            outcome.exit_code = status.code();
            outcome.signal = status.signal();
        }
        Err(e) => outcome.spawn_error = Some(format!("reaping {:?} failed: {e}", spec.program)),
    }
    outcome.duration = started.elapsed();
    let collect = |rx: Option<mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| rx.recv_timeout(OUTPUT_DRAIN_WAIT).ok())
            .unwrap_or_default()
    };
    outcome.stdout = collect(stdout);
    outcome.stderr = collect(stderr);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_one(pool: &WorkerPool, spec: CommandSpec) -> CommandOutcome {
        let (tx, rx) = mpsc::channel();
        pool.submit(spec, Box::new(move |r| tx.send(r).unwrap()))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(20)).unwrap().unwrap()
    }

    fn sh(uid: &str, script: &str) -> CommandSpec {
        CommandSpec::new(uid, "/bin/sh", &["-c", script])
    }

    #[test]
    fn reports_exit_codes_and_output() {
        let pool = WorkerPool::new(2).unwrap();
        let out = run_one(&pool, sh("a", "echo out; echo err >&2; exit 3"));
        assert_eq!(
            (out.exit_code, out.signal, out.timed_out),
            (Some(3), None, false)
        );
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.uid, "a");
    }

    #[test]
    fn arguments_are_passed_verbatim_without_a_shell() {
        let pool = WorkerPool::new(1).unwrap();
        let out = run_one(
            &pool,
            CommandSpec::new("p", "/bin/echo", &["$HOME", "a b", ";", "*"]),
        );
        assert_eq!(out.stdout, b"$HOME a b ; *\n");
    }

    #[test]
    fn reports_the_signal_that_ended_a_command() {
        let pool = WorkerPool::new(1).unwrap();
        let out = run_one(&pool, sh("s", "kill -USR1 $$"));
        assert_eq!(
            (out.exit_code, out.signal, out.timed_out),
            (None, Some(10), false)
        );
    }

    #[test]
    fn a_timeout_terminates_the_whole_process_group() {
        let dir = std::env::temp_dir().join(format!("ha-pool-tmo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("child.pid");
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh(
            "t",
            &format!("sleep 30 & echo $! > {}; wait", pidfile.display()),
        );
        spec.timeout = Some(Duration::from_millis(300));
        spec.kill_grace = Duration::from_millis(500);
        let out = run_one(&pool, spec);
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(sys::SIGTERM));
        assert!(
            out.duration >= Duration::from_millis(300) && out.duration < Duration::from_secs(10)
        );
        let grandchild = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        thread::sleep(Duration::from_millis(100));
        // Gone, or a zombie waiting for init to reap it: either way not running.
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let running = !state.is_empty()
            && !state
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z');
        assert!(
            !running,
            "the command's own child {grandchild} survived the timeout: {state}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_command_ignoring_sigterm_is_killed_after_the_grace_period() {
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh("k", "trap '' TERM; sleep 5 & wait; sleep 5");
        spec.timeout = Some(Duration::from_millis(200));
        spec.kill_grace = Duration::from_millis(200);
        let out = run_one(&pool, spec);
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(sys::SIGKILL));
    }

    #[test]
    fn a_command_finishing_in_time_is_not_marked_timed_out() {
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh("f", "exit 0");
        spec.timeout = Some(Duration::from_secs(5));
        let out = run_one(&pool, spec);
        assert_eq!((out.exit_code, out.timed_out), (Some(0), false));
    }

    /// JavaScript timers cap at 2^31-1 ms; a Duration has no such limit,
    /// and the TypeScript pool must match it (shared test in test/native).
    #[test]
    fn a_timeout_beyond_24_days_does_not_fire_early() {
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh("long", "sleep 0.2; exit 4");
        spec.timeout = Some(Duration::from_millis(1 << 31));
        spec.kill_grace = Duration::from_millis((1 << 31) + 7);
        let out = run_one(&pool, spec);
        assert_eq!((out.exit_code, out.timed_out), (Some(4), false));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error_for_that_uid() {
        let pool = WorkerPool::new(1).unwrap();
        let out = run_one(&pool, CommandSpec::new("m", "/nonexistent/ha-agent", &[]));
        assert_eq!(out.exit_code, None);
        let err = out.spawn_error.unwrap();
        assert!(err.contains("/nonexistent/ha-agent"), "{err}");
    }

    #[test]
    fn env_and_cwd_are_applied() {
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh("e", "echo \"$HA_TEST_VAR\"; pwd");
        spec.env = vec![("HA_TEST_VAR".into(), "hello".into())];
        spec.cwd = Some("/tmp".into());
        assert_eq!(run_one(&pool, spec).stdout, b"hello\n/tmp\n");
    }

    #[test]
    fn output_keeps_only_the_tail() {
        let pool = WorkerPool::new(1).unwrap();
        let mut spec = sh(
            "o",
            "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done",
        );
        spec.capture_limit = 10;
        assert_eq!(run_one(&pool, spec).stdout, b"\nline1999\n");
    }

    #[test]
    fn refuses_a_uid_already_in_flight_and_invalid_commands() {
        let pool = WorkerPool::new(1).unwrap();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        pool.submit(
            sh("dup", "sleep 0.2"),
            Box::new(move |r| tx.send(r).unwrap()),
        )
        .unwrap();
        assert_eq!(
            pool.submit(sh("dup", "true"), Box::new(move |r| tx2.send(r).unwrap())),
            Err(SubmitError::DuplicateUid("dup".into()))
        );
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap().is_ok());
        assert!(matches!(
            pool.submit(sh("", "true"), Box::new(|_| {})),
            Err(SubmitError::Invalid(_))
        ));
        assert!(matches!(
            pool.submit(CommandSpec::new("x", "", &[]), Box::new(|_| {})),
            Err(SubmitError::Invalid(_))
        ));
        assert!(WorkerPool::new(0).is_err());
    }

    #[test]
    fn close_cancels_queued_commands_and_lets_running_ones_finish() {
        let pool = WorkerPool::new(1).unwrap();
        let (tx, rx) = mpsc::channel();
        for uid in ["run", "q1", "q2"] {
            let tx = tx.clone();
            pool.submit(sh(uid, "sleep 0.3"), Box::new(move |r| tx.send(r).unwrap()))
                .unwrap();
        }
        while pool.active_count() == 0 {
            thread::sleep(Duration::from_millis(5));
        }
        pool.close();
        let mut results: Vec<_> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        results.sort_by_key(|r| r.is_ok());
        assert_eq!(results[0], Err(Cancelled { uid: "q1".into() }));
        assert_eq!(results[1], Err(Cancelled { uid: "q2".into() }));
        assert_eq!(results[2].as_ref().unwrap().exit_code, Some(0));
        assert_eq!(
            pool.submit(sh("late", "true"), Box::new(|_| {})),
            Err(SubmitError::Closed)
        );
    }

    #[test]
    fn a_running_command_still_times_out_after_close() {
        let pool = WorkerPool::new(1).unwrap();
        let (tx, rx) = mpsc::channel();
        let mut spec = sh("late-timeout", "sleep 30");
        spec.timeout = Some(Duration::from_millis(300));
        spec.kill_grace = Duration::ZERO;
        pool.submit(spec, Box::new(move |r| tx.send(r).unwrap()))
            .unwrap();
        while pool.active_count() == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        pool.close();
        let out = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(sys::SIGKILL));
    }

    fn submit(pool: &WorkerPool, spec: CommandSpec) -> mpsc::Receiver<CommandOutcome> {
        let (tx, rx) = mpsc::channel();
        pool.submit(spec, Box::new(move |r| tx.send(r.unwrap()).unwrap()))
            .unwrap();
        rx
    }

    fn wait_running(pool: &WorkerPool, n: usize) {
        while pool.active_count() < n {
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn not_running(pid: &str) -> bool {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        state.is_empty()
            || state
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
    }

    #[test]
    fn abort_terminates_a_running_command_and_its_process_group() {
        let dir = std::env::temp_dir().join(format!("ha-pool-abort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("child.pid");
        let pool = WorkerPool::new(1).unwrap();
        let rx = submit(
            &pool,
            sh(
                "a",
                &format!(
                    "sleep 30 & echo $! > {}.tmp; mv {0}.tmp {0}; wait",
                    pidfile.display()
                ),
            ),
        );
        while !pidfile.exists() {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(pool.abort("a", Duration::from_secs(5)));
        let out = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            (out.aborted, out.timed_out, out.exit_code, out.signal),
            (true, false, None, Some(sys::SIGTERM))
        );
        let grandchild = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        thread::sleep(Duration::from_millis(100));
        assert!(not_running(&grandchild), "{grandchild} survived the abort");
        // Gone: nothing left to abort under that uid.
        assert!(!pool.abort("a", Duration::ZERO));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn abort_kills_a_command_ignoring_sigterm_after_the_grace() {
        let ready = std::env::temp_dir().join(format!("ha-pool-abort-k-{}", std::process::id()));
        let pool = WorkerPool::new(1).unwrap();
        let rx = submit(
            &pool,
            sh(
                "k",
                &format!(
                    "trap '' TERM; touch {}; sleep 5 & wait; sleep 5",
                    ready.display()
                ),
            ),
        );
        while !ready.exists() {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(pool.abort("k", Duration::from_millis(200)));
        let out = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!((out.aborted, out.signal), (true, Some(sys::SIGKILL)));
        std::fs::remove_file(&ready).unwrap();
    }

    #[test]
    fn abort_drops_a_queued_command_and_abort_all_ends_everything() {
        let pool = WorkerPool::new(1).unwrap();
        let running = submit(&pool, sh("run", "sleep 30"));
        wait_running(&pool, 1);
        let queued = submit(&pool, sh("q1", "exit 7"));
        let queued2 = submit(&pool, sh("q2", "exit 7"));
        assert!(pool.abort("q1", Duration::ZERO));
        let out = queued.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            (out.uid.as_str(), out.aborted, out.exit_code, out.signal),
            ("q1", true, None, None)
        );
        assert!(!pool.abort("nobody", Duration::ZERO));
        assert_eq!(pool.abort_all(Duration::ZERO), 2);
        let out = queued2.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!((out.aborted, out.exit_code), (true, None));
        let out = running.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!((out.aborted, out.signal), (true, Some(sys::SIGKILL)));
        // The pool goes on: an abort is not a close.
        assert_eq!(run_one(&pool, sh("after", "exit 0")).exit_code, Some(0));
    }

    #[test]
    fn a_command_exiting_on_its_own_is_not_marked_aborted() {
        let pool = WorkerPool::new(1).unwrap();
        let out = run_one(&pool, sh("ok", "exit 0"));
        assert!(!out.aborted);
        assert!(!pool.abort("ok", Duration::ZERO));
    }

    /// Each command claims one of `max` slot directories with an atomic
    /// mkdir; finding none free would mean more than `max` run at once.
    #[test]
    fn never_runs_more_than_max_workers_under_stress() {
        let max = 4;
        let dir = std::env::temp_dir().join(format!("ha-pool-stress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let slots: Vec<String> = (1..=max)
            .map(|i| dir.join(format!("slot{i}")).display().to_string())
            .collect();
        let script = format!(
            "for s in {}; do if mkdir \"$s\" 2>/dev/null; then sleep 0.01; rmdir \"$s\"; echo \"$s\"; exit 0; fi; done; exit 99",
            slots.join(" ")
        );
        let pool = WorkerPool::new(max).unwrap();
        let (tx, rx) = mpsc::channel();
        let n = 300;
        for i in 0..n {
            let tx = tx.clone();
            pool.submit(
                sh(&format!("uid-{i}"), &script),
                Box::new(move |r| tx.send(r).unwrap()),
            )
            .unwrap();
        }
        let mut seen_slots = HashSet::new();
        let mut uids = HashSet::new();
        for _ in 0..n {
            let out = rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap();
            assert_eq!(
                out.exit_code,
                Some(0),
                "{} found no free slot: more than {max} ran at once",
                out.uid
            );
            seen_slots.insert(out.stdout);
            uids.insert(out.uid);
        }
        assert_eq!(uids.len(), n, "every uid reported exactly once");
        assert_eq!(
            seen_slots.len(),
            max,
            "the pool should reach {max} concurrent commands"
        );
        assert_eq!(pool.active_count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
