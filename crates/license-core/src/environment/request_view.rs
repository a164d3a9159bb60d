//! What the Request page shows before anything is sent: this environment's serial,
//! type and name, the subscription it would be registered in, and that
//! subscription's slots, or why they could not be read.

use super::Environment;
use crate::activation::ActivationCode;
use crate::error::{Error, ErrorView};
use crate::payload::EnvironmentType;
use crate::portal::Subscription;
use crate::run::Blocking;
use crate::serial::SerialNumber;
use serde::Serialize;
use std::sync::Arc;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize)]
pub struct RequestView {
    pub serial_number: Option<SerialNumber>,
    pub environment_type: EnvironmentType,
    pub name: String,
    pub activation_code: Option<ActivationCode>,
    pub subscription: Option<Subscription>,
    /// Why the subscription could not be read (no code, no token, portal offline, ...).
    pub subscription_error: Option<ErrorView>,
}

/// The view for the subscription `typed` (default: the installed license's).
pub async fn request_view(
    env: &Arc<Environment>,
    typed: Option<String>,
    blocking: &impl Blocking,
) -> Result<RequestView, Error> {
    let e = env.clone();
    let (mut view, asked) = blocking
        .run(move || {
            let view = RequestView {
                serial_number: e.serial().ok().map(|s| s.serial_number),
                environment_type: e.config.environment_type,
                name: e.config.name.clone(),
                activation_code: None,
                subscription: None,
                subscription_error: None,
            };
            let asked = e.subscription_code(typed.as_deref()).and_then(|code| Ok((code, e.portal_client(None)?)));
            Ok((view, asked))
        })
        .await?;
    match asked {
        Ok((code, client)) => {
            view.activation_code = Some(code.clone());
            match client.subscription(&code).await {
                Ok(s) => view.subscription = Some(s),
                Err(why) => view.subscription_error = Some(ErrorView::from(&why)),
            }
        }
        Err(why) => view.subscription_error = Some(ErrorView::from(&why)),
    }
    Ok(view)
}
