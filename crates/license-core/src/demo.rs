//! The embedded demo: a complete environment in one folder, with its own freshly
//! generated vendor key (never a key built into the program), an installed license
//! and sample files that exercise every outcome of the install wizard.

use crate::activation::ActivationCode;
use crate::environment::config::{Config, Usage, UsageSource};
use crate::environment::forecast::Reading;
use crate::error::Error;
use crate::fs;
use crate::keys::KeyPair;
use crate::payload::{Consumption, Entitlements, EnvironmentType, License, Payload};
use crate::serial::{HostFacts, SerialNumber};
use crate::timestamp::Timestamp;
use chrono::{Duration, Utc};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Sample files written to `<dir>/samples`, with what the wizard should say.
pub const SAMPLES: &[(&str, &str)] = &[
    ("renewal.lic", "installs: newer, more named users"),
    ("next-term.lic", "stages: the next term, which starts the day before the installed license expires"),
    ("other-subscription.lic", "asks to confirm: another activation code"),
    ("older.lic", "asks to confirm: older than the installed license"),
    ("fewer-users.lic", "asks to confirm: newer, but fewer named users than the installed license"),
    ("wrong-serial.lic", "refused: issued for another environment's serial number"),
    ("expired.lic", "refused: expired"),
    ("development.lic", "refused: for a development environment"),
    ("tampered.lic", "refused: altered after signing"),
];

fn random_code() -> ActivationCode {
    let payload: String =
        (0..24).map(|_| crate::crockford::symbol(rand_core::RngCore::next_u32(&mut rand_core::OsRng))).collect();
    ActivationCode::from_payload(&payload).expect("24 symbols")
}

/// Creates (or re-creates) the demo environment in `dir` and returns the path of its
/// configuration.
pub fn create(dir: &Path) -> Result<PathBuf, Error> {
    fs::ensure_dir(&dir.join("samples"))?;
    let vendor = KeyPair::generate();
    write(&dir.join("vendor.key"), vendor.to_pem().as_bytes(), true)?;

    let facts = format!("platform_uuid={}\n", Uuid::new_v4());
    write(&dir.join("facts.txt"), facts.as_bytes(), false)?;
    let serial = HostFacts::parse(&facts, "demo")?.serial_number()?;
    let other_serial = HostFacts::parse(&format!("platform_uuid={}\n", Uuid::new_v4()), "demo")?.serial_number()?;

    let config_path = dir.join(crate::environment::config::FILE_NAME);
    write(&dir.join("usage.json"), br#"{"named_users": 87, "application_objects": 412, "servers": 3}"#, false)?;
    // Relative paths: the demo folder can be moved whole.
    Config::new("Demo production", EnvironmentType::Production, "license.lic", "backups")
        .facts_file(Some("facts.txt".into()))
        .portal_url(Some("http://127.0.0.1:8787".parse().expect("loopback URL")))
        .vendor_keys(vec![vendor.public().to_base64url()])
        .usage(Some(Usage::new(UsageSource::File("usage.json".into()))))
        .propose(&config_path)?
        .made_by_the_core()
        .apply()?;

    let now = Utc::now();
    let base = installed_license(serial, now);
    write(&dir.join("license.lic"), base.seal(&vendor).as_bytes(), false)?;
    for (name, text) in samples(&base, &vendor, other_serial, now) {
        write(&dir.join("samples").join(name), text.as_bytes(), false)?;
    }
    // As an install would: remember the facts its serial was made from.
    let env = crate::environment::Environment::open(&config_path)?;
    env.remember_serial_facts(&base)?;
    env.import_readings(past_audits(now))?;
    Ok(config_path)
}

/// Six monthly audits before today's usage (87 named users, 412 objects): a slow
/// rise, so the forecast has a trend to draw that stays within the entitlements
/// until after the renewals' terms end.
fn past_audits(now: Timestamp) -> Vec<Reading> {
    let months = [(84, 385, 6), (84, 390, 5), (85, 395, 4), (85, 400, 3), (86, 404, 2), (86, 408, 1)];
    months
        .into_iter()
        .map(|(named_users, application_objects, ago)| Reading {
            at: now - Duration::days(30 * ago),
            consumption: Consumption { named_users, application_objects, servers: 3 },
        })
        .collect()
}

/// The demo's installed license: Production, expiring in 20 days, so the overview
/// warns.
fn installed_license(serial: SerialNumber, now: Timestamp) -> License {
    License {
        format: 1,
        license_id: Uuid::new_v4(),
        activation_code: random_code(),
        serial_number: serial,
        environment_type: EnvironmentType::Production,
        customer: "Demo Corp".into(),
        issued_at: now - Duration::days(30),
        not_before: now - Duration::days(30),
        expires_at: Some(now + Duration::days(20)),
        entitlements: Entitlements {
            named_users: 100,
            application_objects: 500,
            environments: 3,
            support_level: "standard".into(),
            features: vec!["sso".into(), "audit-log".into()],
        },
    }
}

/// Sample files to try, each a variant of `base` that one check treats differently.
fn samples(
    base: &License,
    vendor: &KeyPair,
    other_serial: SerialNumber,
    now: Timestamp,
) -> Vec<(&'static str, String)> {
    let variant = |f: &dyn Fn(&mut License)| {
        let mut l = base.clone();
        l.license_id = Uuid::new_v4();
        l.issued_at = now - Duration::days(1);
        f(&mut l);
        l.seal(vendor)
    };
    vec![
        (
            "renewal.lic",
            variant(&|l| {
                l.expires_at = Some(now + Duration::days(395));
                l.entitlements.named_users = 150;
                l.entitlements.features.push("high-availability".into());
            }),
        ),
        (
            "next-term.lic",
            variant(&|l| {
                let expiry = base.expires_at.expect("the demo's license expires");
                l.not_before = expiry - Duration::days(1);
                l.expires_at = Some(expiry + Duration::days(364));
            }),
        ),
        ("other-subscription.lic", variant(&|l| l.activation_code = random_code())),
        ("older.lic", variant(&|l| l.issued_at = now - Duration::days(60))),
        ("fewer-users.lic", variant(&|l| l.entitlements.named_users = 50)),
        ("wrong-serial.lic", variant(&|l| l.serial_number = other_serial.clone())),
        (
            "expired.lic",
            variant(&|l| {
                l.not_before = now - Duration::days(400);
                l.expires_at = Some(now - Duration::days(35));
            }),
        ),
        ("development.lic", variant(&|l| l.environment_type = EnvironmentType::Development)),
        ("tampered.lic", tamper(&variant(&|l| l.entitlements.named_users = 10))),
    ]
}

/// Re-signs nothing: swaps the payload for an edited copy, as a hand edit would.
fn tamper(file: &str) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut env: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(body).expect("own armor")).expect("own envelope");
    let payload = URL_SAFE_NO_PAD.decode(env["payload"].as_str().expect("payload")).expect("own payload");
    let edited = String::from_utf8(payload).expect("json").replace("\"named_users\":10,", "\"named_users\":10000,");
    env["payload"] = URL_SAFE_NO_PAD.encode(edited).into();
    crate::document::armor_envelope_json(crate::kind::DocumentKind::License, &serde_json::to_vec(&env).expect("json"))
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    if private {
        fs::create_private(path, bytes)
    } else {
        fs::replace(path, bytes, "demo")
    }
}

#[cfg(test)]
mod tests {
    use crate::environment::overview::LicenseStatus;
    use crate::environment::{Environment, InstallOptions};

    fn open() -> (tempfile::TempDir, Environment) {
        let d = tempfile::tempdir().unwrap();
        let cfg = super::create(d.path()).unwrap();
        let env = Environment::open(&cfg).unwrap();
        (d, env)
    }

    #[test]
    fn demo_overview_shows_an_expiring_license() {
        let (_d, env) = open();
        let o = env.overview().unwrap();
        assert_eq!(o.installed.status, LicenseStatus::Expiring, "{}", o.installed.status_text);
        assert!(o.serial.is_some());
        assert!(o.last_backup.is_none());
    }

    #[test]
    fn overview_tells_expired_from_not_yet_valid() {
        use crate::payload::Payload;
        let (d, env) = open();
        std::fs::copy(d.path().join("samples/expired.lic"), &env.config.license_file).unwrap();
        assert_eq!(env.overview().unwrap().installed.status, LicenseStatus::Expired);

        let mut future = crate::payload::open_license(
            &std::fs::read(d.path().join("samples/renewal.lic")).unwrap(),
            env.vendor_keys(),
        )
        .unwrap();
        future.not_before = chrono::Utc::now() + chrono::Duration::days(10);
        let vendor = crate::keys::KeyPair::read(&d.path().join("vendor.key")).unwrap();
        std::fs::write(&env.config.license_file, future.seal(&vendor)).unwrap();
        assert_eq!(env.overview().unwrap().installed.status, LicenseStatus::NotYetValid);
    }

    #[test]
    fn every_sample_gets_its_documented_verdict() {
        let (d, env) = open();
        for (name, expect) in super::SAMPLES {
            let bytes = std::fs::read(d.path().join("samples").join(name)).unwrap();
            let r = env.check(&bytes).unwrap();
            let verdict = if !r.installable {
                "refused"
            } else if r.takes_effect.is_some() {
                "stages"
            } else if r.needs_confirmation {
                "asks to confirm"
            } else {
                "installs"
            };
            assert!(expect.starts_with(verdict), "{name}: got {verdict}, documented {expect}: {:?}", r.checks);
        }
    }

    #[test]
    fn install_backs_up_and_restore_rolls_back() {
        let (d, env) = open();
        let old = std::fs::read(&env.config.license_file).unwrap();
        let new = std::fs::read(d.path().join("samples/renewal.lic")).unwrap();
        let mut steps = Vec::new();
        let out = env.install(&new, InstallOptions::default(), &mut |s| steps.push(s)).unwrap();
        assert_eq!(std::fs::read(&env.config.license_file).unwrap(), new);
        let backup = out.backup.unwrap();
        assert_eq!(std::fs::read(&backup.path).unwrap(), old);
        assert_eq!(steps.last(), Some(&crate::environment::Step::Done));
        assert_eq!(env.overview().unwrap().installed.status, LicenseStatus::Valid);

        // Restoring the older license is a downgrade: it asks first.
        let err = env.restore(&backup.id, InstallOptions::default(), &mut |_| {}).unwrap_err();
        assert_eq!(err.code(), "needs_confirmation");
        assert_eq!(std::fs::read(&env.config.license_file).unwrap(), new, "nothing changed");
        env.restore(&backup.id, InstallOptions { confirmed: true }, &mut |_| {}).unwrap();
        assert_eq!(std::fs::read(&env.config.license_file).unwrap(), old);
        assert_eq!(env.backups().list().unwrap().len(), 2, "the renewal was backed up before the restore");
    }

    #[test]
    fn refused_install_changes_nothing() {
        let (d, env) = open();
        let old = std::fs::read(&env.config.license_file).unwrap();
        let bad = std::fs::read(d.path().join("samples/wrong-serial.lic")).unwrap();
        let err = env.install(&bad, InstallOptions { confirmed: true }, &mut |_| {}).unwrap_err();
        assert_eq!(err.code(), "refused");
        assert!(err.to_string().contains("Serial number"), "{err}");
        assert_eq!(std::fs::read(&env.config.license_file).unwrap(), old);
        assert!(env.backups().list().unwrap().is_empty());
    }

    #[test]
    fn damaged_backup_is_detected() {
        let (_d, env) = open();
        let b = env.backup_now(&crate::environment::BackupReason::OnDemand).unwrap().unwrap();
        assert_eq!(
            env.backup_now(&crate::environment::BackupReason::OnDemand).unwrap().unwrap().id,
            b.id,
            "identical bytes are not stored twice"
        );
        std::fs::write(&b.path, b"garbage").unwrap();
        let listed = env.backups().list().unwrap();
        assert!(!listed[0].intact);
        assert!(env
            .restore(&b.id, InstallOptions { confirmed: true }, &mut |_| {})
            .unwrap_err()
            .to_string()
            .contains("damaged"));
        assert_eq!(env.backups().get("../etc/passwd").unwrap_err().code(), "no_such_backup");
    }
}
