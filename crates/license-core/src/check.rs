//! Every check a license file goes through before it may be installed, each with a
//! verdict and a reason. `licensectl verify`, `install` and the app's wizard all show
//! this same report.

use crate::document::Envelope;
use crate::error::Error;
use crate::keys::KeyRing;
use crate::kind::DocumentKind;
use crate::payload::{EnvironmentType, License, Payload};
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use serde::Serialize;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Format,
    Signature,
    Contents,
    Dates,
    SerialNumber,
    ActivationCode,
    EnvironmentType,
    Downgrade,
    /// Only for a license that starts later: whether it can wait, staged, for its start.
    Staging,
}

impl CheckId {
    pub const ALL: [CheckId; 9] = [
        CheckId::Format,
        CheckId::Signature,
        CheckId::Contents,
        CheckId::Dates,
        CheckId::SerialNumber,
        CheckId::ActivationCode,
        CheckId::EnvironmentType,
        CheckId::Downgrade,
        CheckId::Staging,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CheckId::Format => "File format",
            CheckId::Signature => "Vendor signature",
            CheckId::Contents => "License contents",
            CheckId::Dates => "Validity dates",
            CheckId::SerialNumber => "Serial number",
            CheckId::ActivationCode => "Activation code",
            CheckId::EnvironmentType => "Environment type",
            CheckId::Downgrade => "Newer than installed",
            CheckId::Staging => "Staged renewal",
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// `Warn` means installable after the administrator confirms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub label: &'static str,
    pub status: Status,
    pub message: String,
    /// The error class for failures from parsing (`bad_signature`, ...).
    pub code: Option<crate::error::ErrorCode>,
    /// Why a skipped check was not made.
    pub skipped: Option<Skip>,
}

/// Why a check was skipped: the UI words each differently.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// An earlier check failed, so there is nothing sound to check against.
    EarlierCheckFailed,
    /// This environment's own value (its serial number, its type) is not known.
    ValueUnknown,
}

/// What the local environment expects of a license.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    pub serial_number: Option<SerialNumber>,
    pub environment_type: Option<EnvironmentType>,
    pub installed: Option<License>,
    /// Time used for validity: the later of the clock and the latest time seen, so
    /// turning the clock back does not revive an expired license.
    pub now: Timestamp,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub license: Option<License>,
    pub kid: Option<String>,
    pub installable: bool,
    pub needs_confirmation: bool,
    pub differences: Vec<Difference>,
    /// When the license starts, if it starts in the future: it is then checked as of
    /// that time and installing it stages it (see `environment::staged`).
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub takes_effect: Option<Timestamp>,
}

impl Report {
    /// Adds the verdict of staging's own rules for a license that starts at
    /// `takes_effect`: `Err(reason)` makes the report refuse it. A license staged
    /// now is installed later with nobody there to confirm, so one that needs a
    /// confirmation is refused here rather than asked about.
    pub fn add_staging(&mut self, takes_effect: Timestamp, verdict: Result<String, String>) {
        self.takes_effect = Some(takes_effect);
        let (status, message) = match verdict {
            Ok(m) => (Status::Pass, m),
            Err(m) => (Status::Fail, m),
        };
        if status == Status::Fail {
            self.installable = false;
            self.needs_confirmation = false;
        }
        let id = CheckId::Staging;
        self.checks.push(Check { id, label: id.label(), status, message, code: None, skipped: None });
    }

    /// Why staging refused the license, if it did.
    pub fn staging_refusal(&self) -> Option<&str> {
        self.failed().find(|c| c.id == CheckId::Staging).map(|c| c.message.as_str())
    }

    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Warn)
    }
    pub fn summary_of(checks: impl Iterator<Item = impl std::borrow::Borrow<Check>>) -> String {
        checks.map(|c| format!("{}: {}", c.borrow().label, c.borrow().message)).collect::<Vec<_>>().join("; ")
    }
}

struct Builder(Vec<Check>);

impl Builder {
    fn push(&mut self, id: CheckId, status: Status, message: impl Into<String>) {
        self.0.push(Check { id, label: id.label(), status, message: message.into(), code: None, skipped: None });
    }
    fn skip(&mut self, id: CheckId, why: Skip, message: impl Into<String>) {
        self.0.push(Check {
            id,
            label: id.label(),
            status: Status::Skipped,
            message: message.into(),
            code: None,
            skipped: Some(why),
        });
    }
    fn fail_with(&mut self, id: CheckId, err: &Error) {
        self.0.push(Check {
            id,
            label: id.label(),
            status: Status::Fail,
            message: err.to_string(),
            code: Some(err.code()),
            skipped: None,
        });
    }
    fn skip_rest(&mut self) {
        // Every report has every check but staging's, which only a later start adds.
        for id in CheckId::ALL.into_iter().filter(|id| *id != CheckId::Staging) {
            if !self.0.iter().any(|c| c.id == id) {
                self.skip(id, Skip::EarlierCheckFailed, "not checked: an earlier check failed");
            }
        }
    }
    fn finish(mut self, license: Option<License>, kid: Option<String>, installed: Option<&License>) -> Report {
        self.skip_rest();
        let failed = self.0.iter().any(|c| c.status == Status::Fail);
        let warned = self.0.iter().any(|c| c.status == Status::Warn);
        let differences = match (&license, installed) {
            (Some(new), old) => differences(old, new),
            _ => Vec::new(),
        };
        Report {
            installable: !failed && license.is_some(),
            needs_confirmation: !failed && warned,
            checks: self.0,
            license,
            kid,
            differences,
            takes_effect: None,
        }
    }
}

/// Runs every check in order. The first three (format, signature, contents) gate
/// the rest: a file that fails one of them is not read any further.
pub fn check_license(file: &[u8], vendor_keys: &KeyRing, exp: &Expectations) -> Report {
    let mut b = Builder(Vec::new());
    let installed = exp.installed.as_ref();
    let (lic, kid) = match open_checked(&mut b, file, vendor_keys) {
        Ok(opened) => opened,
        Err(kid) => return b.finish(None, kid, installed),
    };
    check_dates(&mut b, &lic, exp.now);
    check_serial_number(&mut b, &lic, exp.serial_number.as_ref());
    check_activation_code(&mut b, &lic, installed);
    check_environment_type(&mut b, &lic, exp.environment_type);
    check_downgrade(&mut b, &lic, installed);
    b.finish(Some(lic), kid, installed)
}

/// Format, signature and contents: the license and its key id, or (in `Err`) the
/// key id as far as it was read.
fn open_checked(
    b: &mut Builder,
    file: &[u8],
    vendor_keys: &KeyRing,
) -> Result<(License, Option<String>), Option<String>> {
    let env = match Envelope::parse(DocumentKind::License, file) {
        Ok(env) => env,
        Err(e) => {
            b.fail_with(CheckId::Format, &e);
            return Err(None);
        }
    };
    b.push(CheckId::Format, Status::Pass, "a complete license file");
    let kid = Some(env.kid.clone());
    if let Err(e) = env.verify(vendor_keys, "vendor") {
        b.fail_with(CheckId::Signature, &e);
        return Err(kid);
    }
    b.push(CheckId::Signature, Status::Pass, format!("signed by the vendor (key {})", env.kid));
    let lic = match License::from_json(env.payload()) {
        Ok(l) => l,
        Err(e) => {
            b.fail_with(CheckId::Contents, &e);
            return Err(kid);
        }
    };
    b.push(CheckId::Contents, Status::Pass, format!("license {} for {}", lic.license_id, lic.customer));
    Ok((lic, kid))
}

fn check_serial_number(b: &mut Builder, lic: &License, local: Option<&SerialNumber>) {
    match local {
        None => b.skip(CheckId::SerialNumber, Skip::ValueUnknown, "this environment's serial number is unknown"),
        Some(local) if *local == lic.serial_number => {
            b.push(CheckId::SerialNumber, Status::Pass, format!("matches this environment ({local})"))
        }
        Some(local) => b.push(
            CheckId::SerialNumber,
            Status::Fail,
            format!(
                "the license is for serial number {}, but this environment's is {local}: request a license for {local}",
                lic.serial_number
            ),
        ),
    }
}

fn check_activation_code(b: &mut Builder, lic: &License, installed: Option<&License>) {
    match installed {
        None => b.push(
            CheckId::ActivationCode,
            Status::Pass,
            format!("{} (no license installed to compare with)", lic.activation_code),
        ),
        Some(old) if old.activation_code == lic.activation_code => {
            b.push(CheckId::ActivationCode, Status::Pass, format!("same subscription ({})", lic.activation_code))
        }
        Some(old) => b.push(
            CheckId::ActivationCode,
            Status::Warn,
            format!(
                "changes the subscription from {} to {}: confirm this environment moves to the new subscription",
                old.activation_code, lic.activation_code
            ),
        ),
    }
}

fn check_environment_type(b: &mut Builder, lic: &License, local: Option<EnvironmentType>) {
    match local {
        None => b.skip(CheckId::EnvironmentType, Skip::ValueUnknown, "this environment's type is not configured"),
        Some(t) if t == lic.environment_type => b.push(CheckId::EnvironmentType, Status::Pass, format!("{t}")),
        Some(t) => b.push(
            CheckId::EnvironmentType,
            Status::Fail,
            format!(
                "the license is for a {} environment, but this is a {t} environment: request a {t} license",
                lic.environment_type
            ),
        ),
    }
}

fn check_downgrade(b: &mut Builder, lic: &License, installed: Option<&License>) {
    // Less than the installed license gives (an earlier expiry, fewer users, a
    // feature gone) is a downgrade even when the new license is newer and every other
    // check passes: installed by mistake, it takes away what the platform relies on.
    let less: Vec<String> = installed
        .filter(|old| old.license_id != lic.license_id)
        .map(|old| differences(Some(old), lic))
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.lower)
        .map(|d| format!("{} {} → {}", d.field.label(), d.old.map(|v| v.to_string()).unwrap_or_default(), d.new))
        .collect();
    match installed {
        None => b.push(CheckId::Downgrade, Status::Pass, "no license installed"),
        Some(old) if old.license_id == lic.license_id => {
            b.push(CheckId::Downgrade, Status::Pass, "this license is already installed")
        }
        Some(_) if !less.is_empty() => b.push(
            CheckId::Downgrade,
            Status::Warn,
            format!(
                "it gives less than the installed license ({}): confirm only if that is what you mean",
                less.join("; ")
            ),
        ),
        Some(old) if lic.issued_at < old.issued_at => b.push(
            CheckId::Downgrade,
            Status::Warn,
            format!(
                "issued {} — older than the installed license (issued {}): confirm only if you mean to go back",
                timestamp::format(&lic.issued_at),
                timestamp::format(&old.issued_at)
            ),
        ),
        Some(old) => b.push(
            CheckId::Downgrade,
            Status::Pass,
            format!("issued {} (installed: {})", timestamp::format(&lic.issued_at), timestamp::format(&old.issued_at)),
        ),
    }
}

fn check_dates(b: &mut Builder, lic: &License, now: Timestamp) {
    if now < lic.not_before {
        b.push(
            CheckId::Dates,
            Status::Fail,
            format!("not valid until {}: install it on or after that date", timestamp::format(&lic.not_before)),
        );
        return;
    }
    match lic.expires_at {
        None => b.push(CheckId::Dates, Status::Pass, "perpetual (no expiry)"),
        Some(exp) if exp <= now => b.push(
            CheckId::Dates,
            Status::Fail,
            format!("expired on {}: request a renewed license", timestamp::format(&exp)),
        ),
        Some(exp) => b.push(
            CheckId::Dates,
            Status::Pass,
            format!("valid until {} ({} days left)", timestamp::format(&exp), timestamp::days_until(&exp, &now)),
        ),
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// A field of a license that an install can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Customer,
    ActivationCode,
    EnvironmentType,
    ExpiresAt,
    NamedUsers,
    ApplicationObjects,
    Environments,
    SupportLevel,
    Features,
}

impl Field {
    /// In the order the differences are listed.
    pub const ALL: [Field; 9] = [
        Field::Customer,
        Field::ActivationCode,
        Field::EnvironmentType,
        Field::ExpiresAt,
        Field::NamedUsers,
        Field::ApplicationObjects,
        Field::Environments,
        Field::SupportLevel,
        Field::Features,
    ];

    /// The field's name in the license payload (and in `--json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Customer => "customer",
            Field::ActivationCode => "activation_code",
            Field::EnvironmentType => "environment_type",
            Field::ExpiresAt => "expires_at",
            Field::NamedUsers => "named_users",
            Field::ApplicationObjects => "application_objects",
            Field::Environments => "environments",
            Field::SupportLevel => "support_level",
            Field::Features => "features",
        }
    }

    /// The field as administrators name it: the one label, which the UI's
    /// `FIELD_LABEL` is generated from.
    pub fn label(self) -> &'static str {
        match self {
            Field::Customer => "Customer",
            Field::ActivationCode => "Activation code",
            Field::EnvironmentType => "Environment type",
            Field::ExpiresAt => "Expires",
            Field::NamedUsers => "Named users",
            Field::ApplicationObjects => "Application objects",
            Field::Environments => "Environments",
            Field::SupportLevel => "Support level",
            Field::Features => "Features",
        }
    }

    /// What `l` says for this field. Only an expiry can be absent (perpetual).
    fn value_in(self, l: &License) -> FieldValue {
        let e = &l.entitlements;
        let text = match self {
            Field::Customer => l.customer.clone(),
            Field::ActivationCode => l.activation_code.to_string(),
            Field::EnvironmentType => l.environment_type.to_string(),
            Field::ExpiresAt => return FieldValue { value: l.expires_at.map(|t| timestamp::format(&t)) },
            Field::NamedUsers => e.named_users.to_string(),
            Field::ApplicationObjects => e.application_objects.to_string(),
            Field::Environments => e.environments.to_string(),
            Field::SupportLevel => e.support_level.clone(),
            Field::Features => {
                let mut features = e.features.clone();
                features.sort();
                features.join(", ")
            }
        };
        FieldValue { value: Some(text) }
    }

    /// Whether `new` gives less than `old` here.
    fn gives_less(self, old: &License, new: &License) -> bool {
        let (o, n) = (&old.entitlements, &new.entitlements);
        match self {
            // `None` is perpetual: any end date is less.
            Field::ExpiresAt => match (old.expires_at, new.expires_at) {
                (None, Some(_)) => true,
                (Some(a), Some(b)) => b < a,
                _ => false,
            },
            Field::NamedUsers => n.named_users < o.named_users,
            Field::ApplicationObjects => n.application_objects < o.application_objects,
            Field::Environments => n.environments < o.environments,
            Field::Features => o.features.iter().any(|f| !n.features.contains(f)),
            _ => false,
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// What a license says for a field, as text. `value` is `None` where it says
/// nothing: an expiry that never comes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    pub value: Option<String>,
}

/// Text front ends (licensectl, the HTML record) write a missing expiry "never".
impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.value.as_deref().unwrap_or("never"))
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// One entitlement or identity field that an install changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub field: Field,
    /// The installed license's value; `None` when no license is installed.
    pub old: Option<FieldValue>,
    pub new: FieldValue,
    /// The new value gives less than the old one: an earlier expiry (or none →
    /// one), fewer users, objects or environments, a feature gone.
    pub lower: bool,
}

/// The old→new view of an install. With nothing installed every field is "new".
pub fn differences(old: Option<&License>, new: &License) -> Vec<Difference> {
    Field::ALL
        .into_iter()
        .filter_map(|field| {
            let before = old.map(|o| field.value_in(o));
            let after = field.value_in(new);
            (before.as_ref() != Some(&after)).then(|| Difference {
                field,
                old: before,
                new: after,
                lower: old.is_some_and(|o| field.gives_less(o, new)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::ActivationCode;
    use crate::keys::KeyPair;
    use crate::payload::tests::sample_license;
    use crate::serial::serial_from_facts_text;

    struct Fixture {
        vendor: KeyPair,
        serial: SerialNumber,
    }

    impl Fixture {
        fn new() -> Self {
            Self { vendor: KeyPair::generate(), serial: serial_from_facts_text("machine_id=check\n") }
        }
        fn ring(&self) -> KeyRing {
            KeyRing::new(vec![self.vendor.public()])
        }
        fn exp(&self) -> Expectations {
            Expectations {
                serial_number: Some(self.serial.clone()),
                environment_type: Some(EnvironmentType::Production),
                installed: None,
                now: timestamp::parse("2026-06-01T00:00:00Z").unwrap(),
            }
        }
        fn status(&self, r: &Report, id: CheckId) -> Status {
            r.checks.iter().find(|c| c.id == id).unwrap().status
        }
        fn check_against(&self, lic: &License, installed: &License) -> Report {
            let exp = Expectations { installed: Some(installed.clone()), ..self.exp() };
            check_license(lic.seal(&self.vendor).as_bytes(), &self.ring(), &exp)
        }
    }

    #[test]
    fn good_license_passes_every_check() {
        let f = Fixture::new();
        let lic = sample_license(&f.serial);
        let r = check_license(lic.seal(&f.vendor).as_bytes(), &f.ring(), &f.exp());
        assert!(r.installable, "{:?}", r.checks);
        assert!(!r.needs_confirmation);
        assert!(r.checks.iter().all(|c| c.status == Status::Pass));
        assert_eq!(r.checks.len(), CheckId::ALL.len() - 1, "every check but staging's");
        assert_eq!(r.differences.len(), 9, "all fields are new with nothing installed");
    }

    #[test]
    fn wrong_serial_names_both_serials() {
        let f = Fixture::new();
        let other = serial_from_facts_text("machine_id=elsewhere\n");
        let r = check_license(sample_license(&other).seal(&f.vendor).as_bytes(), &f.ring(), &f.exp());
        assert!(!r.installable);
        let c = r.checks.iter().find(|c| c.id == CheckId::SerialNumber).unwrap();
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains(&other.to_string()) && c.message.contains(&f.serial.to_string()), "{}", c.message);
    }

    #[test]
    fn dates_type_and_signature_failures() {
        let f = Fixture::new();
        let mut lic = sample_license(&f.serial);
        let mut exp = f.exp();
        exp.now = timestamp::parse("2027-02-01T00:00:00Z").unwrap();
        let r = check_license(lic.seal(&f.vendor).as_bytes(), &f.ring(), &exp);
        assert_eq!(f.status(&r, CheckId::Dates), Status::Fail);
        exp.now = timestamp::parse("2025-02-01T00:00:00Z").unwrap();
        let r = check_license(lic.seal(&f.vendor).as_bytes(), &f.ring(), &exp);
        assert!(r.checks.iter().any(|c| c.id == CheckId::Dates && c.message.contains("not valid until")));

        lic.environment_type = EnvironmentType::Development;
        let r = check_license(lic.seal(&f.vendor).as_bytes(), &f.ring(), &f.exp());
        assert_eq!(f.status(&r, CheckId::EnvironmentType), Status::Fail);

        let r = check_license(lic.seal(&KeyPair::generate()).as_bytes(), &f.ring(), &f.exp());
        assert_eq!(f.status(&r, CheckId::Signature), Status::Fail);
        assert_eq!(f.status(&r, CheckId::Dates), Status::Skipped);
        assert!(r.license.is_none());
    }

    #[test]
    fn less_than_the_installed_license_is_a_downgrade_even_when_newer() {
        let f = Fixture::new();
        let installed = sample_license(&f.serial);
        let mut fewer = installed.clone();
        fewer.license_id = uuid::Uuid::new_v4();
        fewer.issued_at = installed.issued_at + chrono::Duration::days(1);
        fewer.entitlements.named_users = installed.entitlements.named_users - 1;
        fewer.expires_at = installed.expires_at.map(|e| e - chrono::Duration::days(30));
        let d = differences(Some(&installed), &fewer);
        assert!(d.iter().filter(|d| d.lower).map(|d| d.field).eq([Field::ExpiresAt, Field::NamedUsers]), "{d:?}");
        let r = f.check_against(&fewer, &installed);
        assert_eq!(f.status(&r, CheckId::Downgrade), Status::Warn);
        assert!(r.needs_confirmation && r.installable);
        let more = License {
            entitlements: crate::payload::Entitlements { named_users: 10_000, ..installed.entitlements.clone() },
            ..fewer.clone()
        };
        let more = License { expires_at: installed.expires_at.map(|e| e + chrono::Duration::days(365)), ..more };
        assert_eq!(f.status(&f.check_against(&more, &installed), CheckId::Downgrade), Status::Pass);
    }

    /// A perpetual license's expiry is no value at all (not a "never" text), and a
    /// dated license after it gives less.
    #[test]
    fn a_perpetual_expiry_is_no_value() {
        let f = Fixture::new();
        let dated = sample_license(&f.serial);
        assert!(dated.expires_at.is_some());
        let perpetual = License { expires_at: None, ..dated.clone() };
        let d = differences(Some(&perpetual), &dated);
        let expiry = d.iter().find(|d| d.field == Field::ExpiresAt).unwrap();
        assert_eq!(expiry.old, Some(FieldValue { value: None }));
        assert!(expiry.lower, "an end date where there was none gives less");
        assert_eq!(expiry.old.as_ref().unwrap().to_string(), "never", "text front ends say so");
        let first = differences(None, &perpetual);
        let expiry = first.iter().find(|d| d.field == Field::ExpiresAt).unwrap();
        assert_eq!((&expiry.old, &expiry.new.value), (&None, &None), "nothing installed, and no end date");
    }

    #[test]
    fn changed_code_and_downgrade_warn() {
        let f = Fixture::new();
        let old = sample_license(&f.serial);
        let mut new = sample_license(&f.serial);
        new.activation_code = ActivationCode::from_payload("0123456789ABCDEFGHJKMNPQ").unwrap();
        new.issued_at = timestamp::parse("2025-12-01T00:00:00Z").unwrap();
        new.entitlements.named_users = 250;
        let mut exp = f.exp();
        exp.installed = Some(old.clone());
        let r = check_license(new.seal(&f.vendor).as_bytes(), &f.ring(), &exp);
        assert!(r.installable && r.needs_confirmation);
        assert_eq!(f.status(&r, CheckId::ActivationCode), Status::Warn);
        assert_eq!(f.status(&r, CheckId::Downgrade), Status::Warn);
        let users = r.differences.iter().find(|d| d.field == Field::NamedUsers).unwrap();
        assert_eq!(
            (users.old.as_ref().and_then(|v| v.value.as_deref()), users.new.value.as_deref()),
            (Some("100"), Some("250"))
        );
        assert!(r.differences.iter().all(|d| d.field != Field::SupportLevel), "unchanged fields are not listed");
    }
}
