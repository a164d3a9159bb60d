//! The output of the commands that talk to the portal: subscription, audits, history.

use super::Out;
use license_core::environment::audits::{GeneratedAudit, HistoryLine};
use license_core::portal::{Subscription, UploadResult};
use license_core::printable;
use serde_json::json;
use std::path::Path;

impl Out {
    pub fn subscription(&self, s: &Subscription) {
        self.value(s, || {
            let mut t = format!("{} — {}\n", s.activation_code, s.customer);
            for slot in &s.slots {
                let holder = match &slot.serial_number {
                    Some(x) => format!("{x} ({})", printable(slot.name.as_deref().unwrap_or(""))),
                    None => "free".into(),
                };
                t += &format!("  {:<12} {holder}\n", slot.environment_type.as_str());
            }
            t
        });
    }

    pub fn sent_to(&self, to: &[String]) {
        self.value(&json!({"sent_to": to}), || format!("the license was sent to {}\n", to.join(", ")));
    }

    /// The audit just generated, its usage against the entitlements, and where it is.
    pub fn generated_audit(&self, g: &GeneratedAudit, copy: Option<&Path>) {
        self.value(g, || {
            let mut t = format!("audit {} for {} – {}\n", g.audit.audit_id, g.audit.period_start, g.audit.period_end);
            for l in &g.usage {
                let entitled = l.entitled.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
                let over = if l.over { "  OVER ENTITLEMENT" } else { "" };
                t += &format!("  {:<20} {:>6} of {entitled:<6}{over}\n", l.metric, l.used);
            }
            t += &format!("kept in the outbox: {}\n", g.outbox_path.display());
            if let Some(p) = copy {
                t += &format!("copy saved to {} for upload from a connected machine\n", p.display());
            }
            t
        });
    }

    pub fn uploaded(&self, file: &Path, r: &UploadResult) {
        self.value(r, || format!("{}: {} ({})\n", file.display(), r.status, r.upload_id));
    }

    /// `reached`: the portal answered, so the list holds its uploads too.
    /// `portal`: why the portal's side of the history could not be read, if so.
    pub fn history(&self, lines: &[HistoryLine], portal: Option<&license_core::ErrorView>) {
        self.value(&lines, || {
            let mut t = String::new();
            if let Some(e) = portal {
                let why = &e.message;
                t += &format!("(the portal's history was not read: {why}; showing this machine's uploads only)\n");
            }
            for l in lines {
                t += &format!(
                    "{}  {:<9} {}{}{}\n",
                    license_core::timestamp::format(&l.received_at),
                    l.status.as_str(),
                    l.upload_id,
                    if l.uploaded_from_here { "" } else { "  (from another machine)" },
                    if l.receipt_verified { "  receipt verified" } else { "" }
                );
            }
            t
        });
    }
}
