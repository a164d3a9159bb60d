//! Text and JSON output. Text is for administrators at a terminal; JSON (`--json`)
//! is for scripts and carries the same facts.

use license_core::check::{Report, Status};
use license_core::environment::backups::BackupEntry;
use license_core::environment::drift::Drift;
use license_core::environment::monitor::{REQUEST_OFFLINE, REQUEST_ONLINE};
use license_core::environment::{InstallOutcome, Overview, Step};
use license_core::serial::SerialExplanation;
use license_core::timestamp;
use serde_json::json;
use std::path::Path;

pub struct Out {
    pub json: bool,
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("output serialises"));
}

impl Out {
    pub fn line(&self, text: &str) {
        if self.json {
            print_json(&json!({ "message": text }));
        } else {
            println!("{text}");
        }
    }

    pub fn error(&self, e: &anyhow::Error) {
        let code = e
            .chain()
            .find_map(|c| c.downcast_ref::<license_core::Error>())
            .map(|c| c.code().as_str())
            .unwrap_or("error");
        if self.json {
            print_json(&json!({ "error": { "code": code, "message": format!("{e:#}") } }));
        } else {
            eprintln!("error: {e:#}");
        }
    }

    /// JSON of `v`, or the text `render` makes.
    pub fn value<T: serde::Serialize>(&self, v: &T, render: impl FnOnce() -> String) {
        if self.json {
            print_json(v);
        } else {
            print!("{}", render());
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
    pub fn serial(&self, e: &SerialExplanation, explain: bool, licensed: Option<(String, Option<Drift>)>) {
        if self.json {
            return match licensed {
                Some((l, d)) => print_json(&json!({ "serial": e, "license_serial_number": l, "drift": d })),
                None => print_json(e),
            };
        }
        println!("{}", e.serial_number);
        if explain {
            println!("\nsource: {}", e.source);
            for n in &e.notes {
                println!("  {:<14} {:<40} {}", n.key, n.value.as_deref().unwrap_or("-"), n.reason);
            }
            println!("\nhashed facts (SHA-256 of \"serial-number/v1\\0\" + these lines):");
            print!("{}", e.facts_text);
            if let Some((l, d)) = licensed {
                self.serial_against_license(e, &l, d.as_ref());
            }
        }
    }

    pub fn report(&self, file: &Path, r: &Report) {
        if self.json {
            return print_json(&json!({ "file": file, "report": r }));
        }
        println!("License file: {}", file.display());
        for c in &r.checks {
            let tag = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
                Status::Skipped => "SKIP",
            };
            println!("  [{tag}] {:<22} {}", c.label, c.message);
        }
        if !r.differences.is_empty() {
            println!("Changes:");
            for d in &r.differences {
                println!("  {:<20} {} → {}", d.field, d.old.as_deref().unwrap_or("(none)"), d.new);
            }
        }
        let verdict = if !r.installable {
            format!("NOT installable: {} check(s) failed", r.failed().count())
        } else if r.needs_confirmation {
            "installable after confirmation (see warnings)".to_string()
        } else {
            "installable".to_string()
        };
        println!("Result: {verdict}");
    }

    pub fn overview(&self, o: &Overview) {
        if self.json {
            return print_json(o);
        }
        println!("Environment:   {} ({})", o.name, o.environment_type);
        match (&o.serial, &o.serial_error) {
            (Some(s), _) => println!("Serial number: {}", s.serial_number),
            (None, Some(e)) => println!("Serial number: unknown ({e})"),
            _ => {}
        }
        println!("License:       {}", o.installed.status_text);
        if let Some(l) = &o.installed.license {
            let e = &l.entitlements;
            println!("  activation code  {}", l.activation_code);
            println!("  customer         {}", l.customer);
            println!("  type             {}", l.environment_type);
            println!(
                "  valid            {} – {}",
                timestamp::format(&l.not_before),
                l.expires_at.map(|t| timestamp::format(&t)).unwrap_or_else(|| "perpetual".into())
            );
            println!("  named users      {}", e.named_users);
            println!("  app objects      {}", e.application_objects);
            println!("  environments     {}", e.environments);
            println!("  support          {}", e.support_level);
            println!("  features         {}", e.features.join(", "));
        }
        match &o.last_backup {
            Some(b) => println!("Last backup:   {} ({})", b.id, timestamp::format(&b.taken_at)),
            None => println!("Last backup:   none"),
        }
        for w in &o.warnings {
            println!("Warning: {w}");
        }
        if let (Some(d), Some(s)) = (&o.drift, &o.serial) {
            print_drift(d);
            println!("Request a license for {} now:", s.serial_number);
            println!("  online:  {REQUEST_ONLINE}");
            println!("  offline: {REQUEST_OFFLINE}  (carry it to a connected machine)");
        }
    }

    /// `serial --explain` beside an installed license: the same comparison as `status`.
    fn serial_against_license(&self, e: &SerialExplanation, licensed: &str, drift: Option<&Drift>) {
        if e.serial_number.to_string() == licensed {
            println!("\nThe installed license is for this serial number.");
        } else {
            println!("\nThe installed license is for {licensed}, not this serial number.");
            if let Some(d) = drift {
                print_drift(d);
            }
        }
    }

    pub fn backup_taken(&self, b: &BackupEntry) {
        if self.json {
            return print_json(b);
        }
        println!("backup {} written to {}", b.id, b.path.display());
    }

    pub fn backups(&self, list: &[BackupEntry]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            println!("no backups yet");
            return;
        }
        println!("{:<30} {:<38} {:<22} {:<22} reason", "ID", "LICENSE ID", "EXPIRES", "TAKEN AT");
        for b in list {
            println!(
                "{:<30} {:<38} {:<22} {:<22} {}{}",
                b.id,
                b.license_id.as_deref().unwrap_or("(unreadable)"),
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
        for d in &o.report.differences {
            println!("  {:<20} {} → {}", d.field, d.old.as_deref().unwrap_or("(none)"), d.new);
        }
        match &o.backup {
            Some(b) => println!("installed license {} (previous license backed up as {})", o.license.license_id, b.id),
            None => println!("installed license {}", o.license.license_id),
        }
        println!("written to {}", o.written_path.display());
    }
}

fn print_drift(d: &Drift) {
    if d.changes.is_empty() {
        println!("Why: {}.", d.summary);
    }
    for c in &d.changes {
        println!("Why: {}.", c.text);
    }
}
