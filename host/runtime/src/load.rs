//! Load shedding for a server: how many plugin calls run at once, how many of them
//! may hash a password, how long a call waits for its turn, and the refusal
//! ([`Error::Overloaded`], HTTP 503 with `Retry-After`) when it cannot have one.
//!
//! Two gates, both checked in [`Runtime`](crate::Runtime) before a plugin is
//! instantiated, so every host route goes through them without code of its own:
//!
//! - the *instance* gate bounds the component instances in flight (an account call
//!   holds two, the core and its store backend; a provider call one) below what the
//!   pooling allocator holds ([`POOL_INSTANCES`]), so a burst can never exhaust the
//!   pool and fail calls that are already admitted;
//! - the *hashing* gate bounds the calls that run Argon2id (register, login, password
//!   change): each costs tens of milliseconds of one core, so more of them at once
//!   than there are cores only lengthens every one. They wait in their own queue, so
//!   a sign-in flood never takes the turns of token checks;
//! - the *outbound* gate bounds the OAuth calls, which hold a core and a provider
//!   instance while the provider answers over the network (up to the provider
//!   deadline, twice): at most a quarter of the calls, with a queue of their own,
//!   so a flood of sign-ins at a slow provider never takes the turns of token
//!   checks either ([`outbound_turns`]).
//!
//! A call that finds its gate's queue full is refused at once; one that waits
//! longer than [`LoadLimits::queue_timeout`] is refused then. Either way the
//! plugin never ran, so nothing was verified or written.
//!
//! An admitted hashing call then runs on one of `max_hashing` threads of its own,
//! on Linux at a lower CPU priority than the threads that answer every other
//! request ([`HASHING_NICE_INCREMENT`]): hashes use every core the server leaves
//! idle, and give way to token checks when a core is wanted for both. A thread
//! inherits the priority of the thread that starts it, so the database work of a
//! hashing call runs on the async runtime's workers ([`off_hashing_thread`]): a
//! connection's worker thread opened there keeps the server's priority.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::engine::POOL_INSTANCES;
use crate::error::Error;

/// Component instances one account-core call holds: the core and its backend.
pub(crate) const ACCOUNT_CALL_INSTANCES: u32 = 2;
/// Component instances one OAuth provider call holds.
pub(crate) const PROVIDER_CALL_INSTANCES: u32 = 1;

/// How many steps lower than the server's own the CPU priority (nice value) of the
/// hashing threads is, on Linux (`setpriority(2)` on the thread; other systems
/// have no per-thread nice value, and the threads keep the server's priority).
///
/// Why 10: Linux's scheduler shares a busy core by weight, and ten nice steps
/// are a factor of about 9.3 (1024 against 110 at nice 0 and 10,
/// `sched_prio_to_weight`). A token check and a hash that both want a core get
/// about 90% and 10% of its time, so checks keep their pace beside a sign-in
/// flood, while hashes still get about a tenth of a fully busy machine, and all
/// of an idle one: a sign-in is slowed by other traffic, never starved into its
/// call timeout. (Share of time, not wake-up latency: a running hash may keep
/// the core for the rest of a scheduler slice.) At 19 a hash would get about
/// 1.5%; measured, it gained the checks little over 10. A server that itself
/// runs above nice 9 gets a smaller step, as nice stops at 19.
pub(crate) const HASHING_NICE_INCREMENT: i32 = 10;

/// The most account calls that fit the instance pool at once.
pub const MAX_CALLS_LIMIT: usize = (POOL_INSTANCES / ACCOUNT_CALL_INSTANCES) as usize;

/// What admitting a call costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cost {
    /// Token checks, reads, writes: mostly waiting on the database.
    Cheap,
    /// A call that hashes or verifies a password (Argon2id, OWASP parameters).
    Hashing,
    /// A call that waits on an OAuth provider over the network (holding a core and
    /// a provider instance).
    Outbound,
}

/// OAuth calls in flight at once for `max_calls`: a quarter of the turns, at
/// least one, so cheap calls keep three quarters whatever the providers do.
pub(crate) fn outbound_turns(max_calls: usize) -> usize {
    (max_calls / 4).max(1)
}

/// The concurrency bounds of a server (`qhub serve`). Counts are calls, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadLimits {
    /// Plugin calls in flight at once, hashing ones included (each account call
    /// holds two component instances). At most [`MAX_CALLS_LIMIT`].
    pub max_calls: usize,
    /// Calls that may wait for one of `max_calls` turns; more are refused at once.
    pub call_queue: usize,
    /// Password-hashing calls (register, login, password change) in flight at
    /// once, each on a thread of its own; less than `max_calls`, so cheap calls
    /// always keep turns of their own.
    pub max_hashing: usize,
    /// Hashing calls that may wait for a turn; more are refused at once.
    pub hashing_queue: usize,
    /// The longest a call waits for its turns before it is refused.
    pub queue_timeout: Duration,
}

impl LoadLimits {
    /// The defaults for a machine with `cores` cores: one hashing call per core
    /// (Argon2id keeps a core busy for its whole run), 16 more waiting per core
    /// (well under a second of hashing each), 32 calls per core in flight (cheap
    /// calls mostly wait on the database) between 16 and 96, four times as many
    /// waiting, and at most 2 s in a queue.
    pub fn for_cores(cores: usize) -> LoadLimits {
        let cores = cores.max(1);
        let max_calls = (32 * cores).clamp(16, 96);
        LoadLimits {
            max_calls,
            call_queue: 4 * max_calls,
            max_hashing: cores.min(max_calls / 2),
            hashing_queue: 16 * cores,
            queue_timeout: Duration::from_secs(2),
        }
    }

    /// [`LoadLimits::for_cores`] for this machine.
    pub fn for_this_machine() -> LoadLimits {
        LoadLimits::for_cores(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Checks that the bounds can be enforced; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_calls < 2 || self.max_calls > MAX_CALLS_LIMIT {
            return Err(format!(
                "max calls must be between 2 and {MAX_CALLS_LIMIT} (the instance pool holds \
                 {POOL_INSTANCES} instances, two per call), not {}",
                self.max_calls
            ));
        }
        if self.max_hashing == 0 || self.max_hashing >= self.max_calls {
            return Err(format!(
                "max hashing must be at least 1 and less than max calls ({}), not {}",
                self.max_calls, self.max_hashing
            ));
        }
        if self.queue_timeout.is_zero() || self.queue_timeout > Duration::from_secs(60) {
            return Err(format!(
                "queue timeout must be more than 0 and at most 60 s, not {} ms",
                self.queue_timeout.as_millis()
            ));
        }
        Ok(())
    }

    /// What a refused client is told to wait (`Retry-After`, whole seconds): the
    /// queue timeout, rounded up, at least 1 s.
    pub fn retry_after(&self) -> Duration {
        let timeout = self.queue_timeout;
        let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        Duration::from_secs(seconds.max(1))
    }
}

/// A semaphore with a bounded queue in front of it.
#[derive(Debug)]
struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts one waiter for as long as it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    fn new(permits: usize, max_waiting: usize) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(permits)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// `n` permits now, or after queueing until `deadline`; `None` when the queue
    /// is full or the deadline passes.
    async fn enter(&self, n: u32, deadline: Instant) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.permits.clone().try_acquire_many_owned(n) {
            return Some(permit);
        }
        let already = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        if already >= self.max_waiting {
            return None;
        }
        let acquire = self.permits.clone().acquire_many_owned(n);
        match tokio::time::timeout_at(deadline, acquire).await {
            Ok(Ok(permit)) => Some(permit),
            // Elapsed, or the semaphore closed (it never is).
            _ => None,
        }
    }
}

/// The threads admitted hashing calls run on, one per hashing turn, each at
/// [`HASHING_NICE_INCREMENT`] below the server's priority. They are separate from
/// the async runtime's blocking pool because a thread cannot raise its priority
/// again once lowered (without `CAP_SYS_NICE`), and that pool's threads also serve
/// file and DNS work that must not run at the lower priority.
struct HashingThreads(rayon::ThreadPool);

impl std::fmt::Debug for HashingThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("HashingThreads")
            .field(&self.0.current_num_threads())
            .finish()
    }
}

impl HashingThreads {
    fn new(threads: usize) -> Result<HashingThreads, Error> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("qhub-hashing-{i}"))
            .start_handler(|_| {
                ON_HASHING_THREAD.set(true);
                lower_this_threads_priority();
            })
            // A job that panics drops its answer channel, which its caller reports;
            // without a handler rayon would abort the whole server.
            .panic_handler(|_| tracing::error!("a password-hashing call panicked"))
            .build()
            .map(HashingThreads)
            .map_err(|e| Error::Engine(format!("cannot start the password-hashing threads: {e}")))
    }

    /// Runs `job` on one of the threads and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.0.spawn(move || {
            // The caller may have gone (its client hung up); the call still ran to
            // its end, so nothing it counted or wrote is cut in half.
            let _ = answer.send(job());
        });
        answered.await.map_err(|_| {
            Error::Engine("a password-hashing call did not finish (it panicked)".into())
        })
    }
}

/// Lowers the calling thread's CPU priority by [`HASHING_NICE_INCREMENT`]. On
/// Linux the nice value belongs to the thread, and `PRIO_PROCESS` with no pid
/// names the calling thread. Elsewhere it would name the whole process, so
/// nothing is changed. A refusal is logged, and the thread runs unchanged.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let lowered = getpriority_process(None).and_then(|now| {
            setpriority_process(None, (now + HASHING_NICE_INCREMENT).min(MAX_NICE))
        });
        if let Err(err) = lowered {
            tracing::warn!("cannot lower the priority of a password-hashing thread: {err}");
        }
    }
}

thread_local! {
    /// Whether this thread is one of the [`HashingThreads`].
    static ON_HASHING_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work` where the threads it may start get the server's priority: on a
/// hashing thread, as a task on the async runtime's worker threads (a thread
/// inherits its creator's nice value, and a database pool starts a connection's
/// worker thread, or the runtime a blocking thread, from whichever thread polls
/// the future that needs it); anywhere else, right here. Fails only when the
/// runtime is shutting down and drops the task.
pub(crate) async fn off_hashing_thread<F>(work: F) -> Result<F::Output, Error>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if !ON_HASHING_THREAD.get() {
        return Ok(work.await);
    }
    match tokio::spawn(work).await {
        Ok(output) => Ok(output),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(Error::Engine(
            "the server stopped during a password-hashing call".into(),
        )),
    }
}

/// The lowest priority a nice value can name (`setpriority(2)`).
#[cfg(target_os = "linux")]
const MAX_NICE: i32 = 19;

/// The gates of one runtime, built from its [`LoadLimits`], and the threads its
/// hashing calls run on.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: LoadLimits,
    /// In component instances: two per account call.
    instances: Gate,
    hashing: Gate,
    outbound: Gate,
    hashing_threads: Arc<HashingThreads>,
}

/// Turns held by an admitted call; dropping it frees them.
#[derive(Debug)]
pub(crate) struct Admitted {
    hashing: Option<HashingTurn>,
    _outbound: Option<OwnedSemaphorePermit>,
    _instances: OwnedSemaphorePermit,
}

/// A hashing call's turn, and the threads it runs on.
#[derive(Debug)]
struct HashingTurn {
    _permit: OwnedSemaphorePermit,
    threads: Arc<HashingThreads>,
}

impl Admitted {
    /// Runs `job` on a hashing thread, holding these turns until it ends (even if
    /// the caller stops waiting). Only for a call admitted at [`Cost::Hashing`].
    pub(crate) async fn run_hashing<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let Some(turn) = &self.hashing else {
            return Err(Error::Engine(
                "a call ran as hashing without a hashing turn".into(),
            ));
        };
        let threads = turn.threads.clone();
        threads
            .run(move || {
                let _turns = self;
                job()
            })
            .await
    }
}

impl Admission {
    /// Fails when the hashing threads cannot be started.
    pub(crate) fn new(limits: LoadLimits) -> Result<Admission, Error> {
        let instances = limits.max_calls * ACCOUNT_CALL_INSTANCES as usize;
        Ok(Admission {
            instances: Gate::new(instances, limits.call_queue),
            hashing: Gate::new(limits.max_hashing, limits.hashing_queue),
            outbound: Gate::new(outbound_turns(limits.max_calls), limits.max_calls),
            hashing_threads: Arc::new(HashingThreads::new(limits.max_hashing)?),
            limits,
        })
    }

    pub(crate) fn limits(&self) -> &LoadLimits {
        &self.limits
    }

    /// Turns for a call holding `instances` component instances, or the refusal.
    /// A hashing call takes a hashing turn first, then its instances, within one
    /// queue timeout.
    pub(crate) async fn admit(&self, instances: u32, cost: Cost) -> Result<Admitted, Error> {
        let deadline = Instant::now() + self.limits.queue_timeout;
        let outbound = match cost {
            Cost::Outbound => match self.outbound.enter(1, deadline).await {
                Some(permit) => Some(permit),
                None => return Err(self.refusal("too many OAuth sign-in calls at once")),
            },
            Cost::Cheap | Cost::Hashing => None,
        };
        let hashing = match cost {
            Cost::Cheap | Cost::Outbound => None,
            Cost::Hashing => match self.hashing.enter(1, deadline).await {
                Some(permit) => Some(HashingTurn {
                    _permit: permit,
                    threads: self.hashing_threads.clone(),
                }),
                None => return Err(self.refusal("too many sign-ins and password changes at once")),
            },
        };
        let instances = self
            .instances
            .enter(instances, deadline)
            .await
            .ok_or_else(|| self.refusal("too many requests at once"))?;
        Ok(Admitted {
            hashing,
            _outbound: outbound,
            _instances: instances,
        })
    }

    /// Waits until every admitted hashing call, running or queued, has ended, at
    /// most `timeout`; `false` when some are still running then. Hashing calls run
    /// on threads the async runtime does not wait for, so a server calls this
    /// after it stops taking requests and before the process exits.
    pub(crate) async fn hashing_finished(&self, timeout: Duration) -> bool {
        let every_turn = u32::try_from(self.limits.max_hashing).unwrap_or(u32::MAX);
        let all_back = self.hashing.permits.acquire_many(every_turn);
        matches!(tokio::time::timeout(timeout, all_back).await, Ok(Ok(_)))
    }

    fn refusal(&self, reason: &str) -> Error {
        Error::Overloaded {
            reason: reason.to_owned(),
            retry_after: self.limits.retry_after(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_calls: usize, max_hashing: usize, queues: usize) -> LoadLimits {
        LoadLimits {
            max_calls,
            call_queue: queues,
            max_hashing,
            hashing_queue: queues,
            queue_timeout: Duration::from_secs(30),
        }
    }

    fn is_refusal(result: &Result<Admitted, Error>) -> bool {
        matches!(
            result,
            Err(Error::Overloaded { retry_after, .. }) if *retry_after == Duration::from_secs(30)
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_hashing_queue_sheds_at_once_and_cheap_calls_still_pass() {
        let admission = Arc::new(Admission::new(limits(4, 1, 1)).unwrap());
        let running = admission.admit(2, Cost::Hashing).await.unwrap();
        // One more hashing call may wait: it queues.
        let queued = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(2, Cost::Hashing).await.map(drop) }
        });
        tokio::task::yield_now().await;
        assert_eq!(admission.hashing.waiting.load(Ordering::SeqCst), 1);
        // The queue is full: the next is refused without waiting.
        assert!(is_refusal(&admission.admit(2, Cost::Hashing).await));
        // Token checks do not queue behind hashing.
        let cheap = admission.admit(2, Cost::Cheap).await.unwrap();
        drop(cheap);
        // The queued call gets its turn once the running one ends.
        drop(running);
        queued.await.unwrap().unwrap();
        assert_eq!(admission.hashing.waiting.load(Ordering::SeqCst), 0);
    }

    /// OAuth calls wait on a provider's network: however many arrive, they hold at
    /// most a quarter of the turns, and cheap calls keep the rest.
    #[tokio::test(start_paused = true)]
    async fn oauth_calls_take_at_most_a_quarter_of_the_turns() {
        let admission = Arc::new(Admission::new(limits(8, 1, 100)).unwrap());
        let instances = ACCOUNT_CALL_INSTANCES + PROVIDER_CALL_INSTANCES;
        let flood: Vec<_> = (0..20)
            .map(|_| {
                let admission = admission.clone();
                tokio::spawn(async move { admission.admit(instances, Cost::Outbound).await })
            })
            .collect();
        tokio::task::yield_now().await;
        // Two (8 / 4) run, eight (max calls) wait in the outbound queue, and the
        // other ten found it full.
        assert_eq!(admission.outbound.waiting.load(Ordering::SeqCst), 8);
        // Cheap calls still get the turns left: 8 calls' 16 instances, less 2 x 3.
        let cheap: Vec<_> = futures_util::future::join_all(
            (0..5).map(|_| admission.admit(ACCOUNT_CALL_INSTANCES, Cost::Cheap)),
        )
        .await;
        assert!(cheap.iter().all(Result::is_ok));
        drop(cheap);
        // The waiting ones are shed at the queue timeout, never failed otherwise.
        let mut admitted = 0;
        let mut shed = 0;
        for call in flood {
            match call.await.unwrap() {
                Ok(turn) => {
                    admitted += 1;
                    drop(turn);
                }
                Err(err) => {
                    assert!(matches!(err, Error::Overloaded { .. }), "{err}");
                    shed += 1;
                }
            }
        }
        assert_eq!(admitted + shed, 20);
        assert!((2..=10).contains(&admitted), "{admitted}");
        assert!(shed >= 10, "{shed}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waiting_past_the_queue_timeout_is_shed() {
        let admission = Admission::new(limits(2, 1, 8)).unwrap();
        let _a = admission.admit(2, Cost::Cheap).await.unwrap();
        let _b = admission.admit(2, Cost::Cheap).await.unwrap();
        // Paused time: the wait ends at the deadline, not after 30 real seconds.
        assert!(is_refusal(&admission.admit(2, Cost::Cheap).await));
        assert_eq!(admission.instances.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn instances_in_flight_never_exceed_the_bound() {
        let admission = Admission::new(limits(3, 1, 0)).unwrap();
        // Three account calls (six instances) fit; a provider call's single
        // instance does not, and with no queue it is refused at once.
        let held: Vec<_> = futures_util::future::join_all(
            (0..3).map(|_| admission.admit(ACCOUNT_CALL_INSTANCES, Cost::Cheap)),
        )
        .await;
        assert!(held.iter().all(Result::is_ok));
        assert!(is_refusal(
            &admission.admit(PROVIDER_CALL_INSTANCES, Cost::Cheap).await
        ));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_calls_run_at_a_lower_priority_than_the_server() {
        use rustix::process::getpriority_process;
        let admission = Admission::new(limits(4, 2, 0)).unwrap();
        let server = getpriority_process(None).unwrap();
        // Both at once, so that both threads answer.
        let both = Arc::new(std::sync::Barrier::new(2));
        let mut calls = Vec::new();
        for _ in 0..2 {
            let turn = admission.admit(2, Cost::Hashing).await.unwrap();
            let both = both.clone();
            calls.push(turn.run_hashing(move || {
                both.wait();
                (
                    std::thread::current().name().map(str::to_owned),
                    getpriority_process(None).unwrap(),
                )
            }));
        }
        let answers = futures_util::future::try_join_all(calls).await.unwrap();
        assert_ne!(answers[0].0, answers[1].0, "{answers:?}");
        for (_, hashing) in answers {
            assert_eq!(hashing, (server + HASHING_NICE_INCREMENT).min(MAX_NICE));
        }
        // The caller's own thread keeps its priority.
        assert_eq!(getpriority_process(None).unwrap(), server);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn threads_started_for_a_hashing_calls_io_keep_the_servers_priority() {
        use rustix::process::getpriority_process;
        let admission = Admission::new(limits(4, 1, 0)).unwrap();
        let server = getpriority_process(None).unwrap();
        let handle = tokio::runtime::Handle::current();
        let started_by = || std::thread::spawn(|| getpriority_process(None).unwrap());
        let turn = admission.admit(2, Cost::Hashing).await.unwrap();
        let (on_the_hashing_thread, for_io) = turn
            .run_hashing(move || {
                let here = started_by().join().unwrap();
                let io = handle
                    .block_on(off_hashing_thread(
                        async move { started_by().join().unwrap() },
                    ))
                    .unwrap();
                (here, io)
            })
            .await
            .unwrap();
        // A thread inherits its creator's priority...
        assert_eq!(
            on_the_hashing_thread,
            (server + HASHING_NICE_INCREMENT).min(MAX_NICE)
        );
        // ...so work that may start threads leaves the hashing thread.
        assert_eq!(for_io, server);
        // Anywhere else it runs in place.
        assert_eq!(off_hashing_thread(async { 7 }).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_hashing_call_keeps_its_turn_until_it_ends_even_when_its_caller_leaves() {
        // One turn, and room for one call to wait for it.
        let admission = Admission::new(limits(4, 1, 1)).unwrap();
        let turn = admission.admit(2, Cost::Hashing).await.unwrap();
        let (started, has_started) = tokio::sync::oneshot::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (ended, has_ended) = std::sync::mpsc::channel::<()>();
        let caller = tokio::spawn(turn.run_hashing(move || {
            started.send(()).unwrap();
            released.recv().unwrap();
            ended.send(()).unwrap();
        }));
        // The client goes away while its call is hashing.
        has_started.await.unwrap();
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        // The call still runs, and still holds the only hashing turn.
        assert_eq!(admission.hashing.permits.available_permits(), 0);
        release.send(()).unwrap();
        has_ended.recv().unwrap();
        // The turn comes back once the job's closure returns, just after that.
        let freed = admission.admit(2, Cost::Hashing).await;
        assert!(freed.is_ok(), "the turn was not given back: {freed:?}");
    }

    #[tokio::test]
    async fn a_hashing_call_that_panics_is_an_error_and_frees_its_turn() {
        let admission = Admission::new(limits(4, 1, 0)).unwrap();
        let turn = admission.admit(2, Cost::Hashing).await.unwrap();
        let answer = turn.run_hashing(|| panic!("boom")).await;
        match answer {
            Err(Error::Engine(message)) => assert!(message.contains("panicked"), "{message}"),
            other => panic!("expected an engine error, got {other:?}"),
        }
        assert_eq!(admission.hashing.permits.available_permits(), 1);
        // The thread survived: the next call runs.
        let turn = admission.admit(2, Cost::Hashing).await.unwrap();
        assert_eq!(turn.run_hashing(|| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_server_stopping_waits_for_the_hashing_calls_it_admitted() {
        let admission = Admission::new(limits(4, 2, 0)).unwrap();
        // Nothing running: done at once.
        assert!(admission.hashing_finished(Duration::from_secs(5)).await);
        let turn = admission.admit(2, Cost::Hashing).await.unwrap();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let call = tokio::spawn(turn.run_hashing(move || released.recv().unwrap()));
        assert!(!admission.hashing_finished(Duration::from_millis(50)).await);
        release.send(()).unwrap();
        assert!(admission.hashing_finished(Duration::from_secs(30)).await);
        call.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_cheap_turn_cannot_run_as_hashing() {
        let admission = Admission::new(limits(4, 1, 0)).unwrap();
        let turn = admission.admit(2, Cost::Cheap).await.unwrap();
        assert!(matches!(
            turn.run_hashing(|| ()).await,
            Err(Error::Engine(_))
        ));
    }

    #[test]
    fn defaults_follow_the_cores_and_are_valid() {
        for cores in [1, 2, 4, 8, 64, 512] {
            let limits = LoadLimits::for_cores(cores);
            limits.validate().unwrap();
            assert!(limits.max_hashing <= cores, "{limits:?}");
        }
        assert_eq!(LoadLimits::for_cores(2).max_hashing, 2);
        assert_eq!(LoadLimits::for_cores(2).max_calls, 64);
        assert_eq!(LoadLimits::for_cores(0), LoadLimits::for_cores(1));
    }

    #[test]
    fn invalid_bounds_are_named() {
        let check = |limits: LoadLimits, expected: &str| {
            let message = limits.validate().unwrap_err();
            assert!(message.contains(expected), "{message}");
        };
        check(limits(101, 1, 0), "max calls must be between 2 and 100");
        check(limits(1, 1, 0), "max calls");
        check(limits(4, 0, 0), "max hashing must be at least 1");
        check(limits(4, 4, 0), "less than max calls (4)");
        let mut zero = limits(4, 1, 0);
        zero.queue_timeout = Duration::ZERO;
        check(zero, "queue timeout must be more than 0");
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let mut l = limits(4, 1, 0);
        for (timeout, expected) in [(100, 1), (1000, 1), (1500, 2), (2000, 2)] {
            l.queue_timeout = Duration::from_millis(timeout);
            assert_eq!(l.retry_after(), Duration::from_secs(expected));
        }
    }
}
