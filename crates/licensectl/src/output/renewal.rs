//! The output of `licensectl renew`: what the run decided, and the history of runs.

use super::Out;
use license_core::environment::renewal::{Renewal, RenewalRecord};
use license_core::timestamp;

impl Out {
    pub fn renewal(&self, r: &Renewal) {
        if self.json {
            return super::print_json(r);
        }
        match r {
            Renewal::NotDue { expires_at: Some(e) } => {
                outln!("Not due: the license expires {}, outside the renewal window", timestamp::format(e))
            }
            Renewal::NotDue { expires_at: None } => outln!("Not due: the license is perpetual"),
            Renewal::UpToDate { license_id } => {
                outln!("Up to date: the portal's license {license_id} is installed or staged, or not newer")
            }
            Renewal::WouldInstall { license, takes_effect: None, .. } => {
                outln!("Dry run: license {} would be installed now; nothing was changed", license.license_id)
            }
            Renewal::WouldInstall { license, takes_effect: Some(at), .. } => outln!(
                "Dry run: license {} would be staged to take effect on {}; nothing was changed",
                license.license_id,
                timestamp::format(at)
            ),
            Renewal::Installed { outcome } | Renewal::Staged { outcome } => self.installed(outcome),
            Renewal::WaitsForPerson { license, reason, .. } => outln!(
                "WARNING: the portal's license{} waits for a person: {reason}",
                license.as_ref().map(|l| format!(" {}", l.license_id)).unwrap_or_default()
            ),
        }
    }

    pub fn renewal_history(&self, list: &[RenewalRecord]) {
        if self.json {
            return super::print_json(&list);
        }
        if list.is_empty() {
            return outln!("no renewal has run");
        }
        for r in list.iter().rev() {
            outln!(
                "{}  {:<16}  {}{}",
                timestamp::format(&r.at),
                r.outcome,
                r.license_id.map(|id| id.to_string()).unwrap_or_else(|| "-".into()),
                r.detail.as_ref().map(|d| format!("  {d}")).unwrap_or_default()
            );
        }
    }
}
