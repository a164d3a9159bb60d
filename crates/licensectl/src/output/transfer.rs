//! The output of `licensectl transfer`: what a file carries, each item's progress
//! while it is processed, and what an import applied.

use super::Out;
use license_core::environment::transfer_here::{ExportSummary, ImportPlan, ReceiptFate};
use license_core::workstation::file_view::{FileView, SentRenewal};
use license_core::workstation::process::{ItemOutcome, ItemState, ProcessReport};
use license_core::workstation::renewals::{PreparedRenewal, RenewalState};
use license_core::{count, printable, timestamp};
use license_core::{ErrorCode, SerialNumber};
use serde_json::json;
use std::path::Path;

impl Out {
    pub fn exported(&self, s: &ExportSummary) {
        self.value(s, || {
            format!(
                "added {} ({}) to {}: {}{}; the file now carries {}\n{}",
                s.entry.name,
                s.entry.serial_number,
                s.path.display(),
                count(s.audits, "audit"),
                if s.request { " and a license request" } else { "" },
                count(s.environments, "environment"),
                waiting(s.audits_waiting)
            )
        });
    }

    pub fn transfer(&self, view: &FileView) {
        self.value(view, || render(view));
    }

    /// What "prepare renewals" put in the file, in import order; the exit code: an
    /// error when the portal failed for any environment (nothing newer yet is no error).
    pub fn prepared_renewals(&self, file: &Path, days: i64, items: &[PreparedRenewal]) -> u8 {
        self.value(&items, || {
            if items.is_empty() {
                return format!(
                    "no environment's license expires within {days} days; {} is unchanged\n",
                    file.display()
                );
            }
            let mut s = String::new();
            for (i, p) in items.iter().enumerate() {
                let what = match (&p.license, &p.problem) {
                    (Some(l), _) => format!(
                        "license {} added, {}",
                        l.license_id,
                        if l.not_before > chrono::Utc::now() {
                            format!("takes effect {} (it is staged when imported)", timestamp::format(&l.not_before))
                        } else {
                            "installed when imported".into()
                        }
                    ),
                    (None, Some(e)) => format!("nothing added: {}", e.message),
                    (None, None) => "nothing added".into(),
                };
                let expires =
                    p.expires_at.map_or("expiry unknown".into(), |e| format!("expires {}", timestamp::format(&e)));
                s += &format!(
                    "{}. {} {} ({}), {expires}: {what}\n",
                    i + 1,
                    p.environment_type,
                    printable(&p.name),
                    p.serial_number,
                );
            }
            s + &added_to(file, items.iter().filter(|p| p.license.is_some()).count())
        });
        let waits = |e: &license_core::ErrorView| matches!(e.code, ErrorCode::NoRenewalYet | ErrorCode::ExpiryUnknown);
        let failed = items.iter().any(|p| p.problem.as_ref().is_some_and(|e| !waits(e)));
        if failed {
            crate::exit::EXIT_ERROR
        } else {
            crate::exit::EXIT_OK
        }
    }

    /// One line on standard error per item as the workstation finishes it.
    pub fn item_progress(&self, item: &ItemOutcome, done: usize, total: usize) {
        if self.json {
            return;
        }
        let what = match item.audit_id {
            Some(id) => format!("audit {id}"),
            None => "license request".into(),
        };
        let name = printable(&item.environment_name);
        eprintln!("[{done}/{total}] {name} ({}): {what}: {}", item.serial_number, item_state(item));
    }

    /// The tally of a processed file; returns how many items failed or were
    /// rejected by the portal (each needs the administrator).
    pub fn processed(&self, file: &Path, report: &ProcessReport) -> usize {
        let n = |s: ItemState| report.items.iter().filter(|i| i.state == s).count();
        let (done, already, failed, held) =
            (n(ItemState::Done), n(ItemState::AlreadyDone), n(ItemState::Failed), n(ItemState::Held));
        let held = if held > 0 { format!(", {held} held back") } else { String::new() };
        let rejected = match report.rejected {
            0 => String::new(),
            r => format!(", {} rejected by the portal", count(r, "audit")),
        };
        self.value(report, || {
            let mut s = format!(
                "{done} done, {already} already done, {failed} failed{held}{rejected}; {}\n",
                if report.written { format!("{} updated", file.display()) } else { "the file is unchanged".into() }
            );
            for i in report.items.iter().filter(|i| i.next_step.is_some()) {
                let name = printable(&i.environment_name);
                s += &format!("  {name} ({}): {}\n", i.serial_number, item_state(i));
            }
            s
        });
        failed + report.rejected
    }

    pub fn import_notes(&self, plan: &ImportPlan) {
        if !self.json {
            for n in plan.notes() {
                eprintln!("note: {n}");
            }
        }
    }

    pub fn receipts_applied(&self, plan: &ImportPlan, moved: usize) {
        let fate = |f: ReceiptFate| plan.receipts.iter().filter(|r| r.fate == f).count();
        let recorded = fate(ReceiptFate::AlreadyRecorded);
        let unmatched = fate(ReceiptFate::DoesNotMatch);
        if self.json {
            outln!(
                "{}",
                json!({"receipts_moved": moved, "receipts_already_recorded": recorded, "receipts_not_matching": unmatched, "notes": plan.notes()})
            );
            return;
        }
        outln!(
            "{} moved from the outbox to the history with the portal's receipt ({recorded} already there)",
            count(moved, "audit")
        );
        if unmatched > 0 {
            outln!(
                "{} did not answer the audit waiting here and were not applied (see the notes)",
                count(unmatched, "receipt")
            );
        }
    }
}

fn item_state(item: &ItemOutcome) -> String {
    match (&item.state, &item.error, item.verdict) {
        (ItemState::Failed, Some(e), _) => format!("failed: {}", e.message),
        (ItemState::Held, _, _) => {
            "held back: this environment's license request failed, and the portal would reject the audit; it is sent on the next run".into()
        }
        (_, _, Some(v)) => match item.next_step {
            Some(step) => format!("uploaded, {v}: {}; {}", printable(&item.reasons.join("; ")), step.words()),
            None => format!("uploaded, {v}"),
        },
        _ => match &item.license {
            Some(l) => format!(
                "license received: registered as \"{}\" in a {} slot, {}",
                printable(&l.registered_as),
                l.environment_type,
                l.expires_at
                    .map(|t| format!("valid until {}", timestamp::format(&t)))
                    .unwrap_or_else(|| "perpetual".into())
            ),
            None => "license received".into(),
        },
    }
}

fn render(view: &FileView) -> String {
    let mut s = format!("{}\n", count(view.environments.len(), "environment"));
    for f in &view.environments {
        let e = &f.entry;
        s += &format!(
            "  {} — {} {} on {}: {}, {}{}{}\n",
            e.serial_number,
            e.environment_type,
            printable(&e.name),
            if e.hostname.is_empty() { "a host not named yet".into() } else { printable(&e.hostname) },
            count(f.audits.len(), "audit"),
            count(f.receipts.len(), "receipt"),
            if f.request { ", a license request" } else { "" },
            if f.license { ", a license" } else { "" },
        );
        if let Some(SentRenewal { sent, state }) = &f.renewal {
            let effect = timestamp::format(&sent.not_before);
            s += &match state {
                RenewalState::Renewed => format!("    renewal: renewed (license {} installed)\n", sent.license_id),
                RenewalState::Staged => format!("    renewal: staged, takes effect {effect}\n"),
                RenewalState::Waiting => format!(
                    "    renewal: waiting (license {} sent {}; no export has named it since)\n",
                    sent.license_id,
                    timestamp::format(&sent.sent_at)
                ),
            };
        }
    }
    let named = |serial: &SerialNumber| {
        let e = view.environments.iter().map(|f| &f.entry).find(|e| &e.serial_number == serial);
        e.map(|e| format!("{} ({})", printable(&e.name), e.environment_type)).unwrap_or_default()
    };
    if !view.import_order.is_empty() {
        let order: Vec<String> = view.import_order.iter().map(named).collect();
        s += &format!("Import order: {}\n", order.join(", then "));
    }
    s
}

/// The newer audits a full file could not carry, and when they travel.
fn waiting(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(
            "{} (the newest) wait in the outbox: the file has no room for them and their receipts; they travel in the next transfer file, once this one's receipts are imported\n",
            count(n, "audit")
        ),
    }
}

/// The closing line of "prepare renewals": what the file now carries, or that it
/// was not written.
fn added_to(file: &Path, added: usize) -> String {
    if added == 0 {
        return format!("no license was added; {} is unchanged\n", file.display());
    }
    format!(
        "{} in {}. Import it on each environment in the order above (licensectl transfer import), then export from each into the same file and bring it back: `licensectl transfer show` then says which were renewed, staged or wait.\n",
        count(added, "license"),
        file.display()
    )
}
