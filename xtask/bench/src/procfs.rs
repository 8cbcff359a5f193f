//! CPU time and memory of processes, read from Linux's `/proc` (proc(5)), and the
//! CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, clock_gettime(2)).

use anyhow::Context as _;

/// The kernel's USER_HZ: `/proc` reports CPU time in ticks of 10 ms on Linux.
const MS_PER_TICK: f64 = 10.0;

/// The fields of `/proc/PID/stat` after the command name (which may hold spaces),
/// so that field N of proc(5) (1-based) is at index N - 3.
fn stat_fields(pid: &str) -> anyhow::Result<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    let (_, rest) = stat.rsplit_once(')').context("a /proc stat line")?;
    // The state field (3) is a letter; the rest we read are numbers.
    Ok(rest
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect())
}

/// User plus system CPU time of process `pid` so far, in milliseconds (fields 14
/// and 15 of `/proc/PID/stat`, 10 ms resolution).
pub fn process_cpu_ms(pid: u32) -> anyhow::Result<f64> {
    let fields = stat_fields(&pid.to_string())?;
    Ok((fields[11] + fields[12]) as f64 * MS_PER_TICK)
}

/// The summed CPU time of processes, in milliseconds.
pub fn processes_cpu_ms(pids: &[u32]) -> anyhow::Result<f64> {
    pids.iter().map(|pid| process_cpu_ms(*pid)).sum()
}

/// User plus system CPU time of this process's waited-for children so far, in
/// milliseconds (fields 16 and 17 of `/proc/self/stat`). The kernel sums the
/// children's exact times and rounds only when it reports, so the difference
/// over many children is exact to 10 ms in all.
pub fn children_cpu_ms() -> anyhow::Result<f64> {
    let fields = stat_fields("self")?;
    Ok((fields[13] + fields[14]) as f64 * MS_PER_TICK)
}

/// The peak resident set size of process `pid`, in MiB (`VmHWM` of
/// `/proc/PID/status`).
pub fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .context("no VmHWM in /proc/PID/status")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib / 1024.0)
}

/// The CPU time of the calling thread so far, in milliseconds (nanosecond
/// resolution).
pub fn thread_cpu_ms() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 / 1e6
}

/// The number of cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
