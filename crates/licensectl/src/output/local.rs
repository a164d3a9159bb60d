//! The output of the local commands that are not about the license itself: the
//! clock, the monitoring check and a release's verification.

use super::Out;
use license_core::environment::clock::ClockReading;
use license_core::environment::monitor::Health;
use license_core::release::{FileCheck, FileVerdict};
use license_core::{count, printable, timestamp};

impl Out {
    pub fn clock(&self, r: &ClockReading) {
        self.value(r, || {
            let mut t = format!(
                "system time   {}\nlatest seen   {}\njudged by     {}\n",
                timestamp::format(&r.system_time),
                timestamp::format(&r.latest_seen),
                timestamp::format(&r.effective_now())
            );
            if let Some(w) = &r.warning {
                t += &format!("warning: {w}\n");
            }
            t
        });
    }

    /// The plugin format: the status line, then every further problem on its own line.
    pub fn health(&self, h: &Health) {
        self.value(h, || {
            let mut text = format!("{}\n", h.status_line());
            for p in h.problems.iter().skip(1) {
                text += &format!("{}: {}\n", p.severity.name(), p.text);
            }
            text
        });
    }

    pub fn release(&self, checks: &[FileCheck]) {
        let bad = checks.iter().filter(|c| c.verdict != FileVerdict::Ok).count();
        self.value(&checks, || {
            let mut s: String =
                checks.iter().map(|c| format!("{:<9} {}\n", verdict_word(c.verdict), printable(&c.name))).collect();
            s += &if bad == 0 {
                format!("release verified: {}, signed by the release key\n", count(checks.len(), "file"))
            } else {
                format!("release NOT verified: {} missing, altered, not in the signed list or not plain files; do not install them\n", count(bad, "file"))
            };
            s
        });
    }
}

fn verdict_word(v: FileVerdict) -> &'static str {
    match v {
        FileVerdict::Ok => "OK",
        FileVerdict::Mismatch => "MISMATCH",
        FileVerdict::Missing => "MISSING",
        FileVerdict::NotAFile => "NOT-FILE",
        FileVerdict::Unlisted => "UNLISTED",
    }
}
