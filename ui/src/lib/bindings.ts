// Generated from the Rust types by src-tauri/bindings.rs (ts-rs). Do not edit:
// change the Rust type and run scripts/bindings.
import type { Channel } from "@tauri-apps/api/core";

export type ErrorCode = "too_large" | "not_text" | "byte_order_mark" | "bad_armor" | "not_a_document" | "wrong_kind" | "is_a_license" | "is_an_audit" | "is_a_request" | "is_a_receipt" | "multiple_blocks" | "bad_encoding" | "bad_envelope" | "unsupported_algorithm" | "unknown_key" | "bad_signature" | "bad_payload" | "unsupported_format" | "invalid_activation_code" | "invalid_serial_number" | "no_serial_facts" | "bad_facts" | "bad_key" | "bad_config" | "invalid_environment_type" | "invalid_setting" | "no_config" | "io" | "not_a_file" | "not_private" | "dangling_link" | "usage_unavailable" | "bad_transfer" | "not_a_transfer_file" | "transfer_full" | "nothing_to_accept" | "no_space" | "nothing_installed" | "not_a_license" | "no_such_backup" | "refused" | "stage_refused" | "not_confirmed" | "staged_damaged" | "renewal_refused" | "no_renewal_yet" | "expiry_unknown" | "out_of_range" | "renewal_running" | "needs_confirmation" | "read_back_failed" | "busy" | "portal_unreachable" | "portal_refused" | "portal_unauthorized" | "portal_forbidden" | "portal_not_found" | "portal_no_free_slot" | "portal_reason_required" | "portal_conflict" | "portal_rate_limited" | "portal_protocol" | "audit_not_registered" | "bad_portal_url" | "bad_token" | "token_not_bound" | "no_token" | "keyring" | "bad_release" | "no_environment" | "no_candidate" | "cancelled" | "invalid" | "internal";

export type ErrorView = { code: ErrorCode, message: string, 
/**
 * The setting that is wrong.
 */
setting?: Setting, 
/**
 * What is wrong with it, when the setting is known.
 */
problem?: SettingProblem, 
/**
 * A code of the wrong length.
 */
length?: SymbolCount, 
/**
 * What is wrong with a transfer file.
 */
damage?: TransferDamage, 
/**
 * A number outside its limits.
 */
range?: Range, };

export type Setting = "name" | "environment_type" | "license_file" | "backup_dir" | "state_dir" | "facts_file" | "ca_bundle" | "vendor_keys" | "proxy" | "portal_url" | "activation_code";

export type SettingProblem = "empty" | "not_set" | "has_parent_dir" | "is_a_folder" | "no_such_folder" | "no_such_file" | "unreadable";

export type SymbolCount = { given: number, needed: number, };

export type Range = { quantity: Quantity, min: number, max: number, given: number, };

export type Quantity = "renewal_days";

export type TransferDamage = "not_zip" | "truncated" | "malformed" | "checksum" | "unknown_member" | "bad_member" | "too_large" | "bad_index";

export type TokenSource = "keyring" | "environment" | "credential";

export type EnvironmentType = "development" | "quality" | "production" | "lifetime";

export type Entitlements = { named_users: number, application_objects: number, environments: number, support_level: string, features: Array<string>, };

export type License = { format: number, license_id: string, activation_code: string, serial_number: string, environment_type: EnvironmentType, customer: string, issued_at: string, not_before: string, expires_at: string | null, entitlements: Entitlements, };

export type Consumption = { named_users: number, application_objects: number, servers: number, };

export type Audit = { format: number, audit_id: string, activation_code: string, serial_number: string, environment_type: EnvironmentType, license_id: string, generated_at: string, period_start: string, period_end: string, consumption: Consumption, environment_key: string, };

export type Request = { format: number, request_id: string, activation_code: string, serial_number: string, environment_type: EnvironmentType, hostname: string, requested_at: string, environment_key: string, };

export type CheckId = "format" | "signature" | "contents" | "dates" | "serial_number" | "activation_code" | "environment_type" | "downgrade" | "staging";

export type Status = "pass" | "warn" | "fail" | "skipped";

export type Skip = "earlier_check_failed" | "value_unknown";

export type Check = { id: CheckId, label: string, status: Status, message: string, 
/**
 * The error class for failures from parsing (`bad_signature`, ...).
 */
code: ErrorCode | null, 
/**
 * Why a skipped check was not made.
 */
skipped: Skip | null, };

export type Report = { checks: Array<Check>, license: License | null, kid: string | null, installable: boolean, needs_confirmation: boolean, differences: Array<Difference>, 
/**
 * When the license starts, if it starts in the future: it is then checked as of
 * that time and installing it stages it (see `environment::staged`).
 */
takes_effect: string | null, };

export type Field = "customer" | "activation_code" | "environment_type" | "expires_at" | "named_users" | "application_objects" | "environments" | "support_level" | "features";

export type FieldValue = { value: string | null, };

export type Difference = { field: Field, 
/**
 * The installed license's value; `None` when no license is installed.
 */
old: FieldValue | null, new: FieldValue, 
/**
 * The new value gives less than the old one: an earlier expiry (or none →
 * one), fewer users, objects or environments, a feature gone.
 */
lower: boolean, };

export type FactNote = { key: string, value: string | null, used: boolean, state: FactState, reason: string, };

export type FactState = "used" | "placeholder" | "superseded" | "ignored";

export type SerialExplanation = { serial_number: string, facts_text: string, notes: Array<FactNote>, source: string, };

export type Change = "changed" | "became_placeholder" | "disappeared" | "appeared";

export type FactChange = { fact: string, change: Change, };

export type Drift = { 
/**
 * False when nothing was remembered for the installed license (installed by an
 * older version, by hand, or on another machine).
 */
recorded: boolean, changes: Array<FactChange>, };

export type LicenseStatus = "none" | "valid" | "expiring" | "expired" | "not_yet_valid" | "serial_mismatch" | "invalid_signature" | "wrong_environment_type" | "invalid";

export type InstalledLicense = { status: LicenseStatus, status_text: string, days_left: number | null, license: License | null, report: Report, };

export type StagedLicense = { license: License, 
/**
 * When it is installed: its start (`not_before`).
 */
takes_effect: string, path: string, 
/**
 * Why it will not be installed at its start, judged again against the license
 * installed now (a newer install since, a confirmation it needs, a check it no
 * longer passes); `None` when it will be.
 */
will_not_install: string | null, };

export type Overview = { name: string, environment_type: EnvironmentType, config_path: string, license_path: string, serial: SerialExplanation | null, serial_error: ErrorView | null, installed: InstalledLicense, last_backup: BackupEntry | null, last_upload: LocalUpload | null, 
/**
 * What to do when the portal rejected the last audit (`None` when it verified it).
 */
audit_next_step: AuditNextStep | null, clock: ClockReading, 
/**
 * Why the serial no longer matches the installed license (only then).
 */
drift: Drift | null, 
/**
 * The renewal waiting for its start time, if one is staged (and sound).
 */
staged: StagedLicense | null, 
/**
 * A staged file is there but does not verify: it will never be installed.
 */
staged_damaged: boolean, 
/**
 * False when no vendor key is trusted: no license can be checked.
 */
vendor_keys_configured: boolean, 
/**
 * The staged renewal takes effect by the installed license's expiry, so the
 * expiry needs nothing more from the administrator.
 */
staged_covers_expiry: boolean, 
/**
 * A license request belongs in the next transfer file: no license here runs
 * another year (the installed one, or the renewal staged after it).
 */
request_advised: boolean, 
/**
 * Every problem in one line each, for the CLI (the app words its own from the
 * fields above).
 */
warnings: Array<string>, };

export type Step = "checking" | "backing_up" | "writing" | "verifying" | "done";

export type InstallOutcome = { license: License, backup: BackupEntry | null, report: Report, 
/**
 * The file really written: the link's target when the license path is a link;
 * the staged copy when the license was staged.
 */
written_path: string, 
/**
 * When the license starts, if it was staged rather than installed (it starts
 * in the future; see [`staged`]).
 */
takes_effect: string | null, };

export type BackupReason = { "kind": "on_demand" } | { "kind": "before_install" } | { "kind": "staged_installed" } | { "kind": "before_restore", backup_id: string, } | { "kind": "other", text: string, };

export type BackupEntry = { id: string, taken_at: string, reason: BackupReason, sha256: string, license_id: string | null, customer: string | null, expires_at: string | null, 
/**
 * False when the bytes no longer match the name: the backup was damaged.
 */
intact: boolean, path: string, };

export type ClockState = "ok" | "behind" | "suspect" | "record_missing" | "record_altered" | "unprotected";

export type ClockReading = { system_time: string, latest_seen: string, state: ClockState, warning: string | null, };

export type AuditNextStep = "register" | "install_portal_license";

export type GeneratedAudit = { audit: Audit, text: string, outbox_path: string, usage: Array<UsageLine>, };

export type LocalUpload = { upload_id: string, audit_id: string | null, 
/**
 * Whose audit it was: this environment's, or (uploaded from here as a file)
 * another's. Missing in entries recorded before it was kept: taken as ours.
 */
serial_number: string | null, status: UploadStatus, reasons: Array<string>, received_at: string, sha256: string, 
/**
 * SHA-256 of the audit's signed bytes: what its receipt must name. Missing in
 * entries recorded before receipts were bound to content; such a receipt does
 * not count as verified.
 */
audit_sha256: string | null, 
/**
 * The portal's signed receipt (armored), when it gave one.
 */
receipt: string | null, 
/**
 * The end of the audit's period: the next audit starts after it, even when
 * `last-audit.json` is lost. Missing in entries recorded before it was kept.
 */
period_end: string | null, };

export type HistoryLine = { upload_id: string, status: UploadStatus, received_at: string, audit_id: string | null, reasons: Array<string>, uploaded_from_here: boolean, 
/**
 * None when the portal was not asked (unreachable or offline).
 */
known_to_portal: boolean | null, 
/**
 * This environment holds the portal's receipt for this upload, and it verifies
 * with the vendor key and names this upload.
 */
receipt_verified: boolean, 
/**
 * The receipt itself (armored), for `--json` and export.
 */
receipt: string | null, };

export type UsageLine = { metric: string, used: number, 
/**
 * None where the license has no matching entitlement (servers).
 */
entitled: number | null, over: boolean, };

export type MetricForecast = { 
/**
 * `named_users` or `application_objects` (the UI's `METRIC_LABEL` keys).
 */
metric: string, entitled: number, 
/**
 * (time, used), oldest first.
 */
readings: Array<[string, number]>, 
/**
 * The latest reading.
 */
used: number | null, 
/**
 * `used / entitled`; 0 entitled counts as over at any use.
 */
ratio: number | null, 
/**
 * The fitted line's change a day (None: too few readings for a trend).
 */
per_day: number | null, 
/**
 * The fitted line's value at the latest reading (the projection starts there).
 */
fitted_now: number | null, 
/**
 * When the fitted line reaches the entitlement: the latest reading's time when
 * it already has, None when it does not rise or only beyond ten years.
 */
reaches_limit: string | null, };

export type Forecast = { metrics: Array<MetricForecast>, 
/**
 * The installed license's expiry, which a limit reached before is warned about.
 */
expires_at: string | null, now: string, };

export type Renewal = { "renewal": "not_due", expires_at: string | null, } | { "renewal": "up_to_date", license_id: string, } | { "renewal": "would_install", license: License, takes_effect: string | null, } | { "renewal": "installed", outcome: InstallOutcome, } | { "renewal": "staged", outcome: InstallOutcome, } | { "renewal": "waits_for_person", license: License | null, reason: string, };

export type LicenseRequest = { request: Request, text: string, };

export type UploadStatus = "verified" | "rejected";

export type UploadResult = { upload_id: string, status: UploadStatus, reasons: Array<string>, received_at: string, 
/**
 * The armored upload receipt (spec v1.1), signed with the vendor key.
 */
receipt: string | null, };

export type PortalUpload = { upload_id: string, serial_number: string | null, status: UploadStatus, reasons: Array<string>, received_at: string, audit_id: string | null, period_start: string | null, period_end: string | null, consumption: Consumption | null, };

export type Subscription = { activation_code: string, customer: string, entitlements: Entitlements, expires_at: string | null, slots: Array<Slot>, };

export type Slot = { environment_type: EnvironmentType, serial_number: string | null, name: string | null, 
/**
 * Beyond the spec (the reference portal sends them): the license issued last,
 * its expiry, and the last audit's verdict and time.
 */
license_id: string | null, 
/**
 * When the license issued last starts (a renewed term's starts later).
 */
license_not_before: string | null, license_expires_at: string | null, last_audit_status: UploadStatus | null, last_audit_at: string | null, };

export type CandidateView = { name: string, report: Report, };

export type CandidateDropped = { candidate: CandidateView | null, error: ErrorView | null, };

export type UploadProgress = { done: number, total: number, };

export type UploadSummary = { uploaded: Array<UploadResult>, remaining: number, error: ErrorView | null, };

export type AuditView = { 
/**
 * The audits waiting for upload, by file name.
 */
outbox: Array<string>, history: Array<HistoryLine>, 
/**
 * Why the portal's history was not read (this machine's uploads are shown).
 */
portal_error: ErrorView | null, 
/**
 * Whether the portal has this environment's serial in a slot of the
 * subscription; `None` when that could not be asked. An unregistered serial's
 * audits are rejected, so the page warns before they are sent.
 */
registered: boolean | null, };

export type SavedRequest = { path: string | null, qr_svg: string, request_id: string, };

export type RequestView = { serial_number: string | null, environment_type: EnvironmentType, name: string, activation_code: string | null, subscription: Subscription | null, 
/**
 * Why the subscription could not be read (no code, no token, portal offline, ...).
 */
subscription_error: ErrorView | null, };

export type DragState = { dragging: boolean, };

export type Settings = { name: string, environment_type: EnvironmentType, license_file: string, backup_dir: string, portal_url: string, proxy: string, ca_bundle: string, vendor_keys: Array<string>, 
/**
 * Ask the portal for a renewal at start and daily, and install or stage it.
 */
auto_renew: boolean, 
/**
 * Read-only: where the token for this portal comes from, if there is one.
 */
token_source: TokenSource | null, config_path: string, };

export type NewConfig = { name: string, environment_type: EnvironmentType, license_file: string, backup_dir: string, vendor_key: string, };

export type Receipt = { format: number, upload_id: string, audit_id: string, activation_code: string, serial_number: string, 
/**
 * Hex SHA-256 of the audit's signed bytes ([`crate::document::signed_sha256`]):
 * the receipt proves the upload of this content, not just of an audit id.
 * Ours, beyond spec v1.1 (ARCHITECTURE.md, "What a receipt proves").
 */
audit_sha256: string, status: UploadStatus, reasons: Array<string>, received_at: string, };

export type Mismatch = "other_audit" | "other_serial" | "other_subscription" | "other_content";

export type TransferEntry = { serial_number: string, environment_type: EnvironmentType, name: string, hostname: string, activation_code: string | null, license_id: string | null, expires_at: string | null, exported_at: string, };

export type ItemKind = "audit" | "request";

export type ItemState = "done" | "already_done" | "failed" | "held";

export type ItemOutcome = { serial_number: string, environment_name: string, kind: ItemKind, 
/**
 * The audit's id (audits only).
 */
audit_id: string | null, state: ItemState, 
/**
 * The portal's verdict on an uploaded audit.
 */
verdict: UploadStatus | null, 
/**
 * Why the portal rejected it (empty when verified).
 */
reasons: Array<string>, 
/**
 * What to do when the portal rejected it.
 */
next_step: AuditNextStep | null, 
/**
 * The license a request brought back (requests only).
 */
license: IssuedLicense | null, error: ErrorView | null, };

export type IssuedLicense = { license_id: string, environment_type: EnvironmentType, 
/**
 * The name it is registered under: the environment's, from `transfer.json`.
 */
registered_as: string, expires_at: string | null, };

export type ProcessReport = { items: Array<ItemOutcome>, 
/**
 * The file was rewritten (something new came back).
 */
written: boolean, 
/**
 * Audits the portal rejected: their receipts travel back, but each is a
 * problem with a next step, never part of "everything is done".
 */
rejected: number, };

export type ReceiptFate = "moves_to_history" | "already_recorded" | "not_in_outbox" | "does_not_match";

export type ReceiptPlan = { receipt: Receipt, fate: ReceiptFate, 
/**
 * With `DoesNotMatch`: the first thing in which the receipt differs.
 */
mismatch: Mismatch | null, 
/**
 * What to do when the receipt rejects the audit (the core's rule).
 */
next_step: AuditNextStep | null, };

export type OrderedEnvironment = { name: string, environment_type: EnvironmentType, 
/**
 * This environment.
 */
here: boolean, };

export type ImportPlan = { path: string, 
/**
 * This environment's serial, which the file is searched for.
 */
serial_number: string, 
/**
 * This environment is listed in the file.
 */
listed: boolean, 
/**
 * The license written for this environment, with every install check.
 */
license: Report | null, 
/**
 * The same license is installed already: importing again changes nothing.
 */
license_installed: boolean, receipts: Array<ReceiptPlan>, 
/**
 * Other environments in the file: their papers stay in it for them.
 */
others_skipped: number, 
/**
 * When the file carries licenses for several environments (prepared renewals):
 * them all, in the order to import them (Development first).
 */
import_order: Array<OrderedEnvironment>, };

export type ExportSummary = { path: string, entry: TransferEntry, audits: number, 
/**
 * Audits left in the outbox for the next file: the newest, when the file has
 * no room for all of them and their receipts.
 */
audits_waiting: number, request: boolean, 
/**
 * Environments in the file now, this one included.
 */
environments: number, 
/**
 * Other environments that were in the file and are kept.
 */
others_kept: number, };

export type WorkstationConfig = { portal_url?: string | null, proxy?: string | null, ca_bundle?: string | null, 
/**
 * The subscription whose environments this workstation looks after.
 */
activation_code?: string | null, };

export type Role = "environment" | "workstation";

export type RoleView = { role: Role, 
/**
 * An environment configuration is open (the environment role can be used).
 */
has_environment: boolean, };

export type WorkstationView = { config: WorkstationConfig, 
/**
 * The keyring holds a token for the portal (the token itself is never shown).
 */
token_stored: boolean, path: string, };

export type WorkstationInput = { portal_url: string, proxy: string, ca_bundle: string, activation_code: string, };

export type SentRenewal = { sent: SentLicense, state: RenewalState, };

export type FileEnvironment = { entry: TransferEntry, 
/**
 * When the environment itself last exported into the file. `None` for the
 * entry this workstation wrote when it added a renewal for an environment that
 * has not exported into the file since: that time is no export.
 */
exported_at: string | null, request: boolean, audits: Array<string>, license: boolean, receipts: Array<string>, renewal: SentRenewal | null, };

export type FileView = { path: string, environments: Array<FileEnvironment>, 
/**
 * The environments whose licenses the file carries, in the order to import
 * them (Development first), when there is more than one.
 */
import_order: Array<string>, };

export type Processed = { report: ProcessReport, file: FileView, };

export type ReceiptsRecorded = { 
/**
 * Audits moved from the outbox to the history.
 */
moved: number, 
/**
 * The open file read again: what it means now.
 */
plan: ImportPlan, };

export type RenewalState = "renewed" | "staged" | "waiting";

export type SentLicense = { serial_number: string, license_id: string, not_before: string, expires_at: string | null, sent_at: string, 
/**
 * The expiry of the license it renews (what made it due).
 */
renews_expiry: string | null, };

export type Term = { license_id: string | null, starts: string | null, ends: string | null, };

export type TimelineRow = { serial_number: string, name: string, environment_type: EnvironmentType, 
/**
 * The license it runs on now, as far as the workstation knows.
 */
current: Term | null, 
/**
 * A license that starts later: sent to it (with its state), or issued at the portal.
 */
next: Term | null, 
/**
 * What became of the license the workstation sent it, if it sent one.
 */
renewal: RenewalState | null, last_audit_at: string | null, };

export type PreparedRenewal = { serial_number: string, name: string, environment_type: EnvironmentType, 
/**
 * The expiry that made it due; none when it is not known (the portal lists no
 * license for it and the file holds no export of it).
 */
expires_at: string | null, 
/**
 * The license put in the file for it, if there is one.
 */
license: SentLicense | null, 
/**
 * Why none was: the portal has nothing newer yet, or answered with an error.
 */
problem: ErrorView | null, };

export type Timeline = { now: string, rows: Array<TimelineRow>, };

export type PreparedRenewals = { path: string, items: Array<PreparedRenewal>, };

export const CHECK_LABEL: Record<CheckId, string> = {
  format: "File format",
  signature: "Vendor signature",
  contents: "License contents",
  dates: "Validity dates",
  serial_number: "Serial number",
  activation_code: "Activation code",
  environment_type: "Environment type",
  downgrade: "Newer than installed",
  staging: "Staged renewal",
};

export const FIELD_LABEL: Record<Field, string> = {
  customer: "Customer",
  activation_code: "Activation code",
  environment_type: "Environment type",
  expires_at: "Expires",
  named_users: "Named users",
  application_objects: "Application objects",
  environments: "Environments",
  support_level: "Support level",
  features: "Features",
};

export const ENV_TYPE: Record<EnvironmentType, string> = {
  development: "Development",
  quality: "Quality Assurance",
  production: "Production",
  lifetime: "LifeTime",
};

/** Every command the webview may call: its arguments (camelCase, as Tauri takes them) and its result. */
export type Commands = {
  list_backups: { args: Record<string, never>; result: Array<BackupEntry> };
  backup_now: { args: Record<string, never>; result: BackupEntry };
  check_backup: { args: { id: string }; result: Report };
  restore_backup: { args: { id: string, confirmed: boolean, onProgress: Channel<Step> }; result: InstallOutcome };
  export_backup: { args: { id: string }; result: string | null };
  overview: { args: Record<string, never>; result: Overview };
  open_demo: { args: Record<string, never>; result: Overview };
  create_config: { args: { input: NewConfig }; result: Overview };
  accept_clock: { args: Record<string, never>; result: null };
  remove_staged: { args: Record<string, never>; result: boolean };
  serial_qr: { args: Record<string, never>; result: string };
  choose_license_file: { args: Record<string, never>; result: CandidateView | null };
  paste_license: { args: { text: string }; result: CandidateView };
  current_candidate: { args: Record<string, never>; result: CandidateView | null };
  install_candidate: { args: { confirmed: boolean, onProgress: Channel<Step> }; result: InstallOutcome };
  save_install_report: { args: Record<string, never>; result: string | null };
  save_license_copy: { args: Record<string, never>; result: string | null };
  usage_preview: { args: Record<string, never>; result: Array<UsageLine> };
  consumption_forecast: { args: Record<string, never>; result: Forecast };
  generate_audit: { args: Record<string, never>; result: GeneratedAudit };
  save_audit_copy: { args: Record<string, never>; result: string | null };
  upload_outbox: { args: { onProgress: Channel<UploadProgress> }; result: UploadSummary };
  upload_audit_file: { args: Record<string, never>; result: UploadResult | null };
  audit_state: { args: Record<string, never>; result: AuditView };
  register_environment: { args: { activationCode: string | null, reason: string | null }; result: string };
  fetch_license: { args: Record<string, never>; result: CandidateView };
  send_license: { args: Record<string, never>; result: Array<string> };
  save_license_request: { args: { activationCode: string | null }; result: SavedRequest };
  fulfil_request: { args: Record<string, never>; result: string | null };
  request_view: { args: { activationCode: string | null }; result: RequestView };
  cancel_portal_call: { args: Record<string, never>; result: null };
  app_role: { args: Record<string, never>; result: RoleView };
  set_role: { args: { role: Role }; result: RoleView };
  get_settings: { args: Record<string, never>; result: Settings };
  save_settings: { args: { settings: Settings }; result: Settings };
  set_portal_token: { args: { token: string }; result: null };
  clear_portal_token: { args: Record<string, never>; result: null };
  renew_now: { args: Record<string, never>; result: Renewal };
  add_to_transfer_file: { args: { request: boolean, existing: boolean }; result: ExportSummary | null };
  open_transfer_here: { args: Record<string, never>; result: ImportPlan | null };
  record_receipts: { args: Record<string, never>; result: ReceiptsRecorded };
  get_workstation: { args: Record<string, never>; result: WorkstationView };
  save_workstation: { args: { input: WorkstationInput }; result: WorkstationView };
  set_workstation_token: { args: { token: string }; result: null };
  infrastructure: { args: Record<string, never>; result: Subscription };
  register_slot: { args: { serial: string, environmentType: EnvironmentType, name: string, reason: string | null }; result: Subscription };
  free_slot: { args: { serial: string }; result: Subscription };
  open_transfer_file: { args: Record<string, never>; result: FileView | null };
  process_transfer: { args: { reasons: { [key in string]: string }, onProgress: Channel<ItemOutcome> }; result: Processed };
  infrastructure_timeline: { args: Record<string, never>; result: Timeline };
  prepare_renewals: { args: { days: number }; result: PreparedRenewals | null };
};
