//! The output of `licensectl transfer`: what a file carries, each item's progress
//! while it is processed, and what an import applied.

use super::Out;
use license_core::environment::transfer_here::{ExportSummary, ImportPlan, ReceiptFate};
use license_core::transfer::Transfer;
use license_core::workstation::process::{ItemOutcome, ItemState, ProcessReport};
use license_core::{count, printable, timestamp};
use serde_json::json;
use std::path::Path;

impl Out {
    pub fn exported(&self, s: &ExportSummary) {
        self.value(s, || {
            format!(
                "added {} ({}) to {}: {}{}; the file now carries {}\n",
                s.entry.name,
                s.entry.serial_number,
                s.path.display(),
                count(s.audits, "audit"),
                if s.request { " and a license request" } else { "" },
                count(s.environments, "environment")
            )
        });
    }

    pub fn transfer(&self, t: &Transfer) {
        self.value(&describe(t), || render(t));
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

    /// The tally of a processed file; returns how many items failed.
    pub fn processed(&self, file: &Path, report: &ProcessReport) -> usize {
        let n = |s: ItemState| report.items.iter().filter(|i| i.state == s).count();
        let (done, already, failed, held) =
            (n(ItemState::Done), n(ItemState::AlreadyDone), n(ItemState::Failed), n(ItemState::Held));
        let held = if held > 0 { format!(", {held} held back") } else { String::new() };
        self.value(report, || {
            format!(
                "{done} done, {already} already done, {failed} failed{held}; {}\n",
                if report.written { format!("{} updated", file.display()) } else { "the file is unchanged".into() }
            )
        });
        failed
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
        (_, _, Some(v)) => format!("uploaded, {v}"),
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

fn describe(t: &Transfer) -> serde_json::Value {
    let envs: Vec<_> = t
        .environments
        .iter()
        .map(|(e, p)| {
            json!({
                "entry": e,
                "request": p.request.is_some(),
                "audits": p.audits.keys().collect::<Vec<_>>(),
                "license": p.license.is_some(),
                "receipts": p.receipts.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"environments": envs})
}

fn render(t: &Transfer) -> String {
    let mut s = format!("{}\n", count(t.environments.len(), "environment"));
    for (e, p) in &t.environments {
        s += &format!(
            "  {} — {} {} on {}: {}, {}{}{}\n",
            e.serial_number,
            e.environment_type,
            printable(&e.name),
            printable(&e.hostname),
            count(p.audits.len(), "audit"),
            count(p.receipts.len(), "receipt"),
            if p.request.is_some() { ", a license request" } else { "" },
            if p.license.is_some() { ", a license" } else { "" },
        );
    }
    s
}
