//! CPU time of the running process, for honest timings on a shared machine.

/// CPU time of this process (user + system, all threads) from `/proc/self/stat`, in seconds
/// (assuming the usual 100 clock ticks per second); `NaN` when unavailable.
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}
