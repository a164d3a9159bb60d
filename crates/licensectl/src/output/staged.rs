//! The output of staged renewals: what is staged, and what looking at it did.

use super::Out;
use license_core::environment::staged::{Activation, StagedLicense};
use license_core::timestamp;

impl Out {
    pub fn staged(&self, s: Option<&StagedLicense>) {
        self.value(&s, || match s {
            None => "no renewal is staged\n".into(),
            Some(s) => format!(
                "Renewal staged: takes effect on {}\n  license          {}\n  valid            {} – {}\n  kept in          {}\n",
                timestamp::format(&s.takes_effect),
                s.license.license_id,
                timestamp::format(&s.license.not_before),
                s.license.expires_at.map(|t| timestamp::format(&t)).unwrap_or_else(|| "perpetual".into()),
                s.path.display()
            ) + &match &s.will_not_install {
                None => String::new(),
                Some(why) => format!(
                    "  WILL NOT INSTALL {why}\n  remove it with `licensectl staged remove`, then install or stage the right license\n"
                ),
            },
        });
    }

    /// One line, and only in text: `status` and `check` print their own JSON.
    pub fn activation(&self, a: &Activation) {
        if self.json {
            return;
        }
        match a {
            Activation::Installed(o) => outln!(
                "Staged renewal installed: license {}{}",
                o.license.license_id,
                o.backup.as_ref().map(|b| format!(" (previous license backed up as {})", b.id)).unwrap_or_default()
            ),
            Activation::Waiting { staged, reason } => outln!(
                "Staged renewal {} (due {}) was not installed: {reason}",
                staged.license.license_id,
                timestamp::format(&staged.takes_effect)
            ),
        }
    }
}
