//! The TypeScript declarations of every type that crosses IPC, generated from the
//! Rust types with ts-rs into `ui/src/lib/bindings.ts` (checked in). The test below
//! fails when that file is stale; `scripts/bindings` rewrites it.

use crate::commands::{environment, install, portal, role, settings, workstation};
use license_core::environment::{self as environment_core, audits, backups, clock, requests, usage};
use license_core::portal as portal_core;
use license_core::{check, payload, serial};
use ts_rs::TS;

pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");

const HEADER: &str = "// Generated from the Rust types by src-tauri/bindings.rs (ts-rs). Do not edit:\n// change the Rust type and run scripts/bindings.\nimport type { Channel } from \"@tauri-apps/api/core\";\n\n";

/// Declares each type, in this order, as `export type …`.
macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {{
        let mut out = String::from(HEADER);
        $(out.push_str(&format!("export {}\n\n", <$t as TS>::decl($cfg)));)*
        out.trim_end().to_string() + "\n"
    }};
}

/// `export const NAME: Record<Type, string> = {…}`: a vocabulary whose words are
/// Rust's (licensectl and the HTML record say them too), so it has one home.
fn words<T: serde::Serialize + Copy>(name: &str, ty: &str, all: &[T], label: fn(T) -> &'static str) -> String {
    let entries: String = all
        .iter()
        .map(|&t| {
            format!(
                "  {}: {},\n",
                serde_json::to_string(&t).expect("a name").trim_matches('"'),
                serde_json::json!(label(t))
            )
        })
        .collect();
    format!("export const {name}: Record<{ty}, string> = {{\n{entries}}};\n\n")
}

/// The whole generated file.
pub fn typescript() -> String {
    // Our integers are counts and sizes far below 2^53: plain numbers.
    let cfg = ts_rs::Config::new().with_large_int("number");
    declarations(&cfg)
        + "\n"
        + &words("CHECK_LABEL", "CheckId", &check::CheckId::ALL, check::CheckId::label)
        + &words("FIELD_LABEL", "Field", &check::Field::ALL, check::Field::label)
        + &words("ENV_TYPE", "EnvironmentType", &payload::EnvironmentType::ALL, payload::EnvironmentType::label)
        + &commands(&cfg)
}

/// `export type Commands`: every command's arguments and result, as the webview
/// calls it. `api.ts` calls commands only through this type.
fn commands(cfg: &ts_rs::Config) -> String {
    let lines: String = crate::command_signatures(cfg).iter().map(|l| format!("  {l}\n")).collect();
    format!(
        "/** Every command the webview may call: its arguments (camelCase, as Tauri takes them) and its result. */\nexport type Commands = {{\n{lines}}};\n"
    )
}

/// One command's line of `Commands` (the generated `typescript_signatures` call it).
pub(crate) fn signature(name: &str, args: &[String], result: String) -> String {
    let args = if args.is_empty() { "Record<string, never>".to_string() } else { format!("{{ {} }}", args.join(", ")) };
    format!("{name}: {{ args: {args}; result: {result} }};")
}

fn declarations(cfg: &ts_rs::Config) -> String {
    declarations!(cfg;
        license_core::ErrorCode, license_core::ErrorView, license_core::Setting, license_core::SettingProblem,
        license_core::SymbolCount, license_core::error::Range, license_core::error::Quantity, license_core::TransferDamage, license_core::secrets::TokenSource,
        payload::EnvironmentType, payload::Entitlements, payload::License, payload::Consumption,
        payload::Audit, payload::Request,
        check::CheckId, check::Status, check::Skip, check::Check, check::Report, check::Field, check::FieldValue,
        check::Difference,
        serial::FactNote, serial::FactState, serial::SerialExplanation,
        environment_core::drift::Change, environment_core::drift::FactChange, environment_core::drift::Drift,
        environment_core::overview::LicenseStatus, environment_core::overview::InstalledLicense,
        environment_core::staged::StagedLicense,
        environment_core::overview::Overview,
        environment_core::Step, environment_core::InstallOutcome,
        backups::BackupReason, backups::BackupEntry, clock::ClockState, clock::ClockReading,
        environment_core::audit_verdict::AuditNextStep, audits::GeneratedAudit, audits::LocalUpload, audits::HistoryLine, usage::UsageLine,
        environment_core::forecast::MetricForecast, environment_core::forecast::Forecast,
        environment_core::renewal::Renewal,
        requests::LicenseRequest,
        payload::UploadStatus, portal_core::UploadResult, portal_core::PortalUpload,
        portal_core::Subscription, portal_core::Slot,
        install::CandidateView, install::CandidateDropped,
        portal::UploadProgress, portal::UploadSummary, license_core::environment::audit_view::AuditView, portal::SavedRequest, license_core::environment::request_view::RequestView,
        crate::drop::DragState,
        settings::Settings, environment::NewConfig,
        license_core::payload::Receipt, license_core::payload::Mismatch, license_core::transfer::TransferEntry, license_core::workstation::process::ItemKind,
        license_core::workstation::process::ItemState, license_core::workstation::process::ItemOutcome,
        license_core::workstation::process::IssuedLicense, license_core::workstation::process::ProcessReport,
        environment_core::transfer_here::ReceiptFate, environment_core::transfer_here::ReceiptPlan,
        environment_core::transfer_here::OrderedEnvironment,
        environment_core::transfer_here::ImportPlan, environment_core::transfer_here::ExportSummary,
        license_core::workstation::WorkstationConfig, crate::state::Role, role::RoleView,
        workstation::WorkstationView, workstation::WorkstationInput, license_core::workstation::file_view::SentRenewal,
        license_core::workstation::file_view::FileEnvironment, license_core::workstation::file_view::FileView, workstation::Processed, crate::commands::transfer_here::ReceiptsRecorded,
        license_core::workstation::renewals::RenewalState, license_core::workstation::renewals::SentLicense,
        license_core::workstation::renewals::Term, license_core::workstation::renewals::TimelineRow,
        license_core::workstation::renewals::PreparedRenewal, workstation::Timeline, workstation::PreparedRenewals,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_typescript_is_current() {
        let fresh = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(super::PATH, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(super::PATH).unwrap_or_default();
        assert!(committed == fresh, "ui/src/lib/bindings.ts is stale: a Rust type that crosses IPC changed; run scripts/bindings and commit the result");
    }
}
