//! Vendor-side tools. The app never signs licenses; these exist so tests, demos and
//! the reference portal can create real, signed files.

use crate::output::Out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use license_core::fs;
use license_core::{KeyPair, License, Payload};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum VendorCommand {
    /// Generate a vendor signing key (PKCS#8 PEM, mode 0600) and print its public key.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public key (base64url) and key id of a private key.
    Pubkey {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Print it as PEM (SubjectPublicKeyInfo), the form openssl reads.
        #[arg(long)]
        pem: bool,
    },
    /// Sign a release: write SHA256SUMS for every file in DIR and its Ed25519
    /// signature SHA256SUMS.sig, made with the release key.
    SignRelease {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        dir: PathBuf,
    },
    /// Write a signed license file from flags and/or a JSON payload.
    Issue(IssueArgs),
}

/// `vendor issue`: every member of the payload a flag can set.
#[derive(clap::Args)]
pub struct IssueArgs {
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// A JSON payload to start from; flags override its members.
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
    #[arg(long)]
    serial: Option<String>,
    #[arg(long)]
    activation_code: Option<String>,
    #[arg(long = "type", value_name = "TYPE")]
    environment_type: Option<String>,
    #[arg(long)]
    customer: Option<String>,
    /// RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z.
    #[arg(long)]
    not_before: Option<String>,
    #[arg(long, conflicts_with = "perpetual")]
    expires: Option<String>,
    #[arg(long)]
    perpetual: bool,
    #[arg(long)]
    named_users: Option<u64>,
    #[arg(long)]
    application_objects: Option<u64>,
    #[arg(long)]
    environments: Option<u64>,
    #[arg(long)]
    support_level: Option<String>,
    /// Comma-separated feature names.
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(cmd: VendorCommand, out: &Out) -> Result<u8> {
    match cmd {
        VendorCommand::Keygen { out: path } => {
            if path.exists() {
                bail!("{} already exists: a signing key is never overwritten; choose another path", path.display());
            }
            let k = KeyPair::generate();
            fs::create_private(&path, k.to_pem().as_bytes())?;
            print_public(out, &k);
        }
        VendorCommand::Pubkey { key, pem: true } => out!("{}", KeyPair::read(&key)?.public().to_spki_pem()),
        VendorCommand::Pubkey { key, pem: false } => print_public(out, &KeyPair::read(&key)?),
        VendorCommand::SignRelease { key, dir } => {
            let names = license_core::release::sign(&dir, &KeyPair::read(&key)?)?;
            outln!("signed {} in {}: {}", license_core::count(names.len(), "file"), dir.display(), names.join(", "));
        }
        VendorCommand::Issue(args) => issue(args, out)?,
    }
    Ok(crate::exit::EXIT_OK)
}

/// Builds the payload (the file's members, then the flags over them), validates it
/// through the core exactly as a reader will, and writes the sealed file.
fn issue(a: IssueArgs, out: &Out) -> Result<()> {
    let k = KeyPair::read(&a.key)?;
    let path = a.out.clone();
    let license = License::from_json(&serde_json::to_vec(&payload(a)?)?)?;
    fs::replace(&path, license.seal(&k).as_bytes(), "issue")?;
    out.line(&format!(
        "wrote license {} for serial {} to {}",
        license.license_id,
        license.serial_number,
        path.display()
    ));
    Ok(())
}

fn set(p: &mut Map<String, Value>, k: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        p.insert(k.into(), v.into());
    }
}

fn payload(a: IssueArgs) -> Result<Map<String, Value>> {
    let mut p: Map<String, Value> = match &a.payload {
        Some(f) => serde_json::from_slice(&std::fs::read(f).with_context(|| format!("reading {}", f.display()))?)
            .with_context(|| format!("{} is not a JSON object", f.display()))?,
        None => Map::new(),
    };
    let now = license_core::timestamp::format(&chrono::Utc::now());
    p.entry("format").or_insert(json!(1));
    p.entry("license_id").or_insert(json!(uuid::Uuid::new_v4()));
    p.entry("issued_at").or_insert(json!(now));
    p.entry("not_before").or_insert(json!(now));
    set(&mut p, "serial_number", a.serial);
    set(&mut p, "activation_code", a.activation_code);
    set(&mut p, "environment_type", a.environment_type);
    set(&mut p, "customer", a.customer);
    set(&mut p, "not_before", a.not_before);
    set(&mut p, "expires_at", a.expires);
    if a.perpetual {
        p.insert("expires_at".into(), Value::Null);
    }
    let ent = p
        .entry("entitlements")
        .or_insert(json!({"named_users": 0, "application_objects": 0, "environments": 1, "support_level": "standard", "features": []}));
    let ent = ent.as_object_mut().context("entitlements must be an object")?;
    set(ent, "named_users", a.named_users);
    set(ent, "application_objects", a.application_objects);
    set(ent, "environments", a.environments);
    set(ent, "support_level", a.support_level);
    set(ent, "features", a.features);
    Ok(p)
}

fn print_public(out: &Out, k: &KeyPair) {
    let p = k.public();
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({"public_key": p.to_base64url(), "kid": p.kid()})).expect("json")
        );
    } else {
        outln!("public key: {}\nkey id:     {}", p.to_base64url(), p.kid());
    }
}
