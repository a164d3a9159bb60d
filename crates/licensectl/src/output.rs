//! Text and JSON output. Text is for administrators at a terminal; JSON (`--json`)
//! is for scripts and carries the same facts.

use license_core::check::{Difference, Report, Status};
use license_core::environment::backups::BackupEntry;
use license_core::environment::drift::Drift;
use license_core::environment::monitor::{REQUEST_OFFLINE, REQUEST_ONLINE};
use license_core::environment::overview::Overview;
use license_core::environment::{InstallOutcome, Step};
use license_core::serial::SerialExplanation;
use license_core::{timestamp, SerialNumber};
use serde_json::json;
use std::path::Path;

mod local;
mod portal;
mod renewal;
mod staged;
mod transfer;

pub struct Out {
    pub json: bool,
}

/// Writes to standard output. A closed pipe is the reader's way of saying it has
/// read enough: the process ends there, quietly, as Unix tools do (Rust ignores
/// SIGPIPE, so `println!` would panic instead).
pub fn stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_fmt(args).and_then(|()| o.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(crate::exit::EXIT_OK.into()),
        Err(e) => {
            tracing::error!(error = %e, "could not write to standard output");
            std::process::exit(crate::exit::EXIT_ERROR.into());
        }
    }
}

pub(crate) fn print_json(v: &impl serde::Serialize) {
    outln!("{}", serde_json::to_string_pretty(v).expect("output serialises"));
}

impl Out {
    pub fn line(&self, text: &str) {
        if self.json {
            print_json(&json!({ "message": text }));
        } else {
            outln!("{text}");
        }
    }

    /// The error as one sentence; in `--json`, the core's typed view of it (its
    /// code and facts, as the app gets them) with that sentence.
    pub fn error(&self, e: &anyhow::Error) {
        let message = sentence(e);
        if !self.json {
            eprintln!("error: {message}");
            return;
        }
        match e.chain().find_map(|c| c.downcast_ref::<license_core::Error>()) {
            Some(core) => {
                let mut view = license_core::ErrorView::from(core);
                view.message = message;
                print_json(&json!({ "error": view }));
            }
            None => print_json(&json!({ "error": { "code": "error", "message": message } })),
        }
    }

    /// JSON of `v`, or the text `render` makes.
    pub fn value<T: serde::Serialize>(&self, v: &T, render: impl FnOnce() -> String) {
        if self.json {
            print_json(v);
        } else {
            out!("{}", render());
        }
    }

    pub fn progress(&self, what: &str, done: usize, total: usize) {
        if !self.json && total > 0 {
            eprintln!("  {what} {done}/{total}");
        }
    }

    pub fn step(&self, s: Step) {
        if !self.json {
            let text = match s {
                Step::Checking => "checking the license file…",
                Step::BackingUp => "backing up the installed license…",
                Step::Writing => "writing the new license…",
                Step::Verifying => "reading it back…",
                Step::Done => "done.",
            };
            eprintln!("  {text}");
        }
    }

    /// The serial number; with `explain`, its facts, and (`licensed`: the installed
    /// license's serial and the drift) whether the license is for it and why not.
    pub fn serial(&self, e: &SerialExplanation, explain: bool, licensed: Option<(SerialNumber, Option<Drift>)>) {
        if self.json {
            return match licensed {
                Some((l, d)) => print_json(&json!({ "serial": e, "license_serial_number": l, "drift": d })),
                None => print_json(e),
            };
        }
        outln!("{}", e.serial_number);
        if explain {
            outln!("\nsource: {}", e.source);
            for n in &e.notes {
                outln!("  {:<14} {:<40} {}", n.key, n.value.as_deref().unwrap_or("-"), n.reason);
            }
            outln!("\nhashed facts (SHA-256 of \"serial-number/v1\\0\" + these lines):");
            out!("{}", e.facts_text);
            if let Some((l, d)) = licensed {
                self.serial_against_license(e, &l, d.as_ref());
            }
        }
    }

    pub fn report(&self, file: &Path, r: &Report) {
        if self.json {
            return print_json(&json!({ "file": file, "report": r }));
        }
        outln!("License file: {}", file.display());
        for c in &r.checks {
            let tag = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
                Status::Skipped => "SKIP",
            };
            outln!("  [{tag}] {:<22} {}", c.label, c.message);
        }
        if !r.differences.is_empty() {
            outln!("Changes:");
            differences(&r.differences);
        }
        let verdict = if !r.installable {
            format!("NOT installable: {} failed", license_core::count(r.failed().count(), "check"))
        } else if r.needs_confirmation {
            "installable after confirmation (see warnings)".to_string()
        } else {
            "installable".to_string()
        };
        outln!("Result: {verdict}");
    }

    pub fn overview(&self, o: &Overview) {
        if self.json {
            return print_json(o);
        }
        outln!("Environment:   {} ({})", o.name, o.environment_type);
        match (&o.serial, &o.serial_error) {
            (Some(s), _) => outln!("Serial number: {}", s.serial_number),
            (None, Some(e)) => outln!("Serial number: unknown ({e})"),
            _ => {}
        }
        outln!("License:       {}", o.installed.status_text);
        if let Some(l) = &o.installed.license {
            let e = &l.entitlements;
            outln!("  activation code  {}", l.activation_code);
            outln!("  customer         {}", l.customer);
            outln!("  type             {}", l.environment_type);
            outln!(
                "  valid            {} – {}",
                timestamp::format(&l.not_before),
                l.expires_at.map(|t| timestamp::format(&t)).unwrap_or_else(|| "perpetual".into())
            );
            outln!("  named users      {}", e.named_users);
            outln!("  app objects      {}", e.application_objects);
            outln!("  environments     {}", e.environments);
            outln!("  support          {}", e.support_level);
            outln!("  features         {}", e.features.join(", "));
        }
        if let Some(s) = &o.staged {
            outln!(
                "Renewal:       staged, takes effect on {} (license {})",
                timestamp::format(&s.takes_effect),
                s.license.license_id
            );
        }
        match &o.last_backup {
            Some(b) => outln!("Last backup:   {} ({})", b.id, timestamp::format(&b.taken_at)),
            None => outln!("Last backup:   none"),
        }
        match &o.last_upload {
            Some(u) => outln!("Last audit:    {} by the portal ({})", u.status, timestamp::format(&u.received_at)),
            None => outln!("Last audit:    none uploaded"),
        }
        for w in &o.warnings {
            outln!("Warning: {w}");
        }
        if let (Some(d), Some(s)) = (&o.drift, &o.serial) {
            print_drift(d);
            outln!("Request a license for {} now:", s.serial_number);
            outln!("  online:  {REQUEST_ONLINE}");
            outln!("  offline: {REQUEST_OFFLINE}  (carry it to a connected machine)");
        }
    }

    /// `serial --explain` beside an installed license: the same comparison as `status`.
    fn serial_against_license(&self, e: &SerialExplanation, licensed: &SerialNumber, drift: Option<&Drift>) {
        if e.serial_number == *licensed {
            outln!("\nThe installed license is for this serial number.");
        } else {
            outln!("\nThe installed license is for {licensed}, not this serial number.");
            if let Some(d) = drift {
                print_drift(d);
            }
        }
    }

    pub fn backup_taken(&self, b: &BackupEntry) {
        if self.json {
            return print_json(b);
        }
        outln!("backup {} written to {}", b.id, b.path.display());
    }

    pub fn backups(&self, list: &[BackupEntry]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            outln!("no backups yet");
            return;
        }
        outln!("{:<30} {:<38} {:<22} {:<22} reason", "ID", "LICENSE ID", "EXPIRES", "TAKEN AT");
        for b in list {
            outln!(
                "{:<30} {:<38} {:<22} {:<22} {}{}",
                b.id,
                b.license_id.map_or_else(|| "(unreadable)".to_string(), |id| id.to_string()),
                b.expires_at.map(|t| timestamp::format(&t)).unwrap_or_else(|| "-".into()),
                timestamp::format(&b.taken_at),
                b.reason,
                if b.intact { "" } else { "  [DAMAGED]" }
            );
        }
    }

    pub fn installed(&self, o: &InstallOutcome) {
        if self.json {
            return print_json(o);
        }
        differences(&o.report.differences);
        if let Some(at) = &o.takes_effect {
            outln!("Renewal staged: license {} takes effect on {}", o.license.license_id, timestamp::format(at));
            outln!("The installed license stays until then; `licensectl staged` shows the renewal.");
            return;
        }
        match &o.backup {
            Some(b) => outln!("installed license {} (previous license backed up as {})", o.license.license_id, b.id),
            None => outln!("installed license {}", o.license.license_id),
        }
        outln!("written to {}", o.written_path.display());
    }
}

fn print_drift(d: &Drift) {
    if d.changes.is_empty() {
        outln!("Why: {}.", d.summary);
    }
    for c in &d.changes {
        outln!("Why: {}.", c.text);
    }
}

/// The error and its causes as one sentence, each said once: the core's messages
/// already quote their cause (`could not write X: No space left on device`), so a
/// cause whose words are already there is not repeated.
pub fn sentence(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The old→new lines of a check or an install: the field's name, then both values.
fn differences(list: &[Difference]) {
    for d in list {
        let old = d.old.as_ref().map_or_else(|| "(none)".to_string(), |v| v.to_string());
        outln!("  {:<20} {old} → {}", d.field.as_str(), d.new);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_quoted_is_said_once() {
        let io = std::io::Error::from_raw_os_error(28);
        let e = license_core::Error::io("write", std::path::Path::new("/x/license.lic"), io);
        let e = anyhow::Error::from(e).context("the install failed");
        let s = super::sentence(&e);
        assert_eq!(s.matches("os error 28").count(), 1, "{s}");
        assert!(s.starts_with("the install failed: could not write /x/license.lic: "), "{s}");
    }
}
