//! The audits as the Audit page and `licensectl audit history` show them: the
//! outbox, the history merged with the portal's, why the portal's side could not be
//! read, and whether the portal has this serial registered. One assembly for both.

use super::audits::HistoryLine;
use super::Environment;
use crate::error::{Error, ErrorView};
use crate::portal_url::PortalUrl;
use crate::run::Blocking;
use serde::Serialize;
use std::sync::Arc;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize)]
pub struct AuditView {
    /// The audits waiting for upload, by file name.
    pub outbox: Vec<String>,
    pub history: Vec<HistoryLine>,
    /// Why the portal's history was not read (this machine's uploads are shown).
    pub portal_error: Option<ErrorView>,
    /// Whether the portal has this environment's serial in a slot of the
    /// subscription; `None` when that could not be asked. An unregistered serial's
    /// audits are rejected, so the page warns before they are sent.
    pub registered: Option<bool>,
}

/// The view, asking the portal at `portal` (default: the configured one). Reading
/// the files runs through `blocking`; only the portal's answers are awaited here.
pub async fn audit_view(
    env: &Arc<Environment>,
    portal: Option<PortalUrl>,
    blocking: &impl Blocking,
) -> Result<AuditView, Error> {
    let e = env.clone();
    let asked = blocking
        .run(move || {
            let serial = e.serial().ok().map(|s| s.serial_number);
            Ok((e.subscription_code(None)?, e.portal_client(portal.as_ref())?, serial))
        })
        .await;
    let (portal, registered) = match asked {
        Ok((code, client, serial)) => {
            let registered = match (&serial, client.subscription(&code).await) {
                (Some(serial), Ok(sub)) => Some(sub.slots.iter().any(|s| s.serial_number.as_ref() == Some(serial))),
                _ => None,
            };
            (client.audit_history(&code, serial.as_ref()).await, registered)
        }
        Err(e) => (Err(e), None),
    };
    let e = env.clone();
    blocking
        .run(move || {
            let outbox = e.outbox()?.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into()).collect();
            let (portal, portal_error) = match portal {
                Ok(p) => (Some(p), None),
                Err(why) => (None, Some(ErrorView::from(&why))),
            };
            Ok(AuditView { outbox, history: e.merge_history(portal.as_deref()), portal_error, registered })
        })
        .await
}
