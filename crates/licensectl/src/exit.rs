//! Exit codes, documented in the README. `check` is the exception: its exit code is
//! the monitoring plugin's status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), as Nagios
//! and NSClient++ read it (`commands/monitor.rs`).

pub const EXIT_OK: u8 = 0;
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
pub const EXIT_NEEDS_CONFIRMATION: u8 = 3;
