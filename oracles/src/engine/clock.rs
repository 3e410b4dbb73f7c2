//! The two clocks every cost is read on: wall time, and the calling
//! thread's CPU time (which other processes' load does not inflate).

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// One compile, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompileCost {
    /// Wall time.
    pub wall: Duration,
    /// CPU time of the compiling thread (engines compile on the calling
    /// thread), when measured: unlike wall time, not inflated by whatever
    /// else the machine runs.
    pub cpu: Option<Duration>,
    /// Peak heap allocated during the compile, when measured.
    pub peak_heap: Option<u64>,
}

impl CompileCost {
    /// The time the compile itself took: its CPU time when measured (the
    /// engines compile on the calling thread, and other load on the
    /// machine does not inflate it), else its wall time.
    pub fn own_time(&self) -> Duration {
        self.cpu.unwrap_or(self.wall)
    }
}

/// Runs `work` on the calling thread and measures its wall and CPU time.
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    let result = work();
    (result, start.elapsed(), cpu_since(cpu_start))
}

/// The calling thread's CPU time since `start` (a [`thread_cpu_time`]
/// reading), when both readings exist.
pub fn cpu_since(start: Option<Duration>) -> Option<Duration> {
    thread_cpu_time()
        .zip(start)
        .map(|(end, start)| end.saturating_sub(start))
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}
