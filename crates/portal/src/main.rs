//! `license-portal`: run the reference portal and administer it.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use license_core::payload::Entitlements;
use license_core::{ActivationCode, EnvironmentType, KeyPair};
use license_portal::admin::{self, NewSubscription};
use license_portal::permission::Permission;
use license_portal::{db, Portal};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "license-portal", version, about = "Reference portal server for License Manager (portal API v1)")]
struct Cli {
    /// The SQLite database (created and migrated on first use).
    #[arg(long, global = true, default_value = "portal.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API. Plain HTTP, so only on a loopback address.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// The vendor's signing key (PKCS#8 PEM) for issuing licenses.
        #[arg(long)]
        vendor_key: PathBuf,
        /// Enable POST /_faults (tests only).
        #[arg(long)]
        faults: bool,
    },
    /// Create a subscription with environment slots.
    Subscription(SubscriptionArgs),
    /// Create a token for a subscription and print it (only its hash is stored).
    Token {
        #[arg(long)]
        activation_code: String,
        /// What the token may do (comma-separated).
        #[arg(long, value_enum, value_delimiter = ',', default_value = "read,register,download_license,upload_audit")]
        permissions: Vec<Permission>,
    },
    /// Record a license made elsewhere with the same vendor key (the demo's) as issued
    /// here, its serial registered in a slot of its type under NAME.
    AdoptLicense {
        #[arg(long)]
        license: PathBuf,
        /// The vendor's signing key (PKCS#8 PEM): the license must verify with it.
        #[arg(long)]
        vendor_key: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(clap::Args)]
struct SubscriptionArgs {
    #[arg(long)]
    activation_code: String,
    #[arg(long)]
    customer: String,
    /// Slots as TYPE=COUNT, e.g. production=1 quality=1 development=2.
    #[arg(long = "slots", value_delimiter = ',', default_value = "production=1,quality=1,development=1")]
    slots: Vec<String>,
    #[arg(long, default_value_t = 100)]
    named_users: u64,
    #[arg(long, default_value_t = 500)]
    application_objects: u64,
    #[arg(long, default_value = "standard")]
    support_level: String,
    #[arg(long, value_delimiter = ',')]
    features: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    contacts: Vec<String>,
    /// RFC 3339 UTC; omitted: perpetual.
    #[arg(long)]
    expires_at: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICENSE_PORTAL_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => print!("{}", license_portal::OPENAPI),
        Command::Serve { listen, vendor_key, faults } => {
            if !listen.ip().is_loopback() {
                bail!("the reference portal speaks plain HTTP, so it listens on loopback only (got {listen}); put a TLS proxy in front for anything else");
            }
            let vendor = KeyPair::read(&vendor_key)?;
            let conn = db::open(&cli.db).with_context(|| format!("opening {}", cli.db.display()))?;
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            // The address line is for scripts that start the portal on port 0.
            println!("listening on http://{}", listener.local_addr()?);
            license_portal::serve(listener, Portal::new(conn, vendor, faults)).await?;
        }
        Command::Subscription(args) => create_subscription(&cli.db, args)?,
        Command::AdoptLicense { license, vendor_key, name } => {
            let keys = license_core::KeyRing::new(vec![KeyPair::read(&vendor_key)?.public()]);
            let bytes = std::fs::read(&license).with_context(|| format!("reading {}", license.display()))?;
            let lic = license_core::payload::open_license(&bytes, &keys)?;
            let mut conn = db::open(&cli.db)?;
            admin::adopt_license(&mut conn, &lic, &name).map_err(anyhow::Error::msg)?;
            println!("license {} of {} adopted", lic.license_id, lic.serial_number);
        }
        Command::Token { activation_code, permissions } => {
            let code: ActivationCode = activation_code.parse()?;
            let conn = db::open(&cli.db)?;
            println!("{}", db::create_token(&conn, &code.to_string(), &permissions)?);
        }
    }
    Ok(())
}

fn create_subscription(db: &std::path::Path, a: SubscriptionArgs) -> Result<()> {
    let code: ActivationCode = a.activation_code.parse()?;
    if let Some(e) = &a.expires_at {
        license_core::timestamp::parse(e).map_err(anyhow::Error::msg)?;
    }
    let mut slots = Vec::new();
    for s in &a.slots {
        let (t, n) = s.split_once('=').with_context(|| format!("slot '{s}' is not TYPE=COUNT"))?;
        slots.push((
            t.parse::<EnvironmentType>().map_err(anyhow::Error::msg)?,
            n.parse::<u32>().with_context(|| format!("slot count '{n}'"))?,
        ));
    }
    let entitlements = Entitlements {
        named_users: a.named_users,
        application_objects: a.application_objects,
        environments: slots.iter().map(|(_, n)| u64::from(*n)).sum(),
        support_level: a.support_level,
        features: a.features,
    };
    let mut conn = db::open(db)?;
    let new = NewSubscription {
        activation_code: code.clone(),
        customer: a.customer,
        entitlements,
        contacts: a.contacts,
        expires_at: a.expires_at,
        slots,
    };
    admin::create_subscription(&mut conn, &new)?;
    println!("subscription {code} created");
    Ok(())
}
