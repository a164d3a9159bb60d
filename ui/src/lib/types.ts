// Mirrors of the Rust types that cross IPC (license-core and src-tauri).

export type EnvironmentType = "development" | "quality" | "production" | "lifetime";
export type Status = "pass" | "warn" | "fail" | "skipped";
export type LicenseStatus =
  | "none" | "valid" | "expiring" | "expired" | "not_yet_valid"
  | "serial_mismatch" | "invalid_signature" | "wrong_environment_type" | "invalid";
export type Step = "checking" | "backing_up" | "writing" | "verifying" | "done";

export interface CommandError { code: string; message: string }

export interface Entitlements {
  named_users: number;
  application_objects: number;
  environments: number;
  support_level: string;
  features: string[];
}

export interface License {
  license_id: string;
  activation_code: string;
  serial_number: string;
  environment_type: EnvironmentType;
  customer: string;
  issued_at: string;
  not_before: string;
  expires_at: string | null;
  entitlements: Entitlements;
}

export interface Check { id: string; label: string; status: Status; message: string; code?: string }
export interface Difference { field: string; old: string | null; new: string }

export interface Report {
  checks: Check[];
  license: License | null;
  kid: string | null;
  installable: boolean;
  needs_confirmation: boolean;
  differences: Difference[];
}

export interface FactNote { key: string; value: string | null; used: boolean; reason: string }
export interface SerialExplanation { serial_number: string; facts_text: string; notes: FactNote[]; source: string }

export interface BackupEntry {
  id: string;
  taken_at: string;
  reason: string;
  sha256: string;
  license_id: string | null;
  customer: string | null;
  expires_at: string | null;
  intact: boolean;
  path: string;
}

export interface InstalledLicense {
  status: LicenseStatus;
  status_text: string;
  days_left: number | null;
  license: License | null;
}

export interface Overview {
  name: string;
  environment_type: EnvironmentType;
  config_path: string;
  license_path: string;
  serial: SerialExplanation | null;
  serial_error: CommandError | null;
  installed: InstalledLicense;
  last_backup: BackupEntry | null;
  last_upload: LocalUpload | null;
  clock: { system_time: string; latest_seen: string; warning: string | null };
  warnings: string[];
}

export interface CandidateView { name: string; report: Report }
export interface InstallOutcome { license: License; backup: BackupEntry | null; report: Report }

export interface Settings {
  name: string;
  environment_type: EnvironmentType;
  license_file: string;
  backup_dir: string;
  portal_url: string;
  proxy: string;
  ca_bundle: string;
  vendor_keys: string[];
  token_stored: boolean;
  config_path: string;
}

export interface NewConfig {
  name: string;
  environment_type: EnvironmentType;
  license_file: string;
  backup_dir: string;
  vendor_key: string;
}

export interface LocalUpload { upload_id: string; audit_id: string | null; status: string; reasons: string[]; received_at: string; sha256: string }
export interface UsageLine { metric: string; used: number; entitled: number | null; over: boolean }
export interface Audit { audit_id: string; period_start: string; period_end: string; consumption: { named_users: number; application_objects: number; servers: number } }
export interface GeneratedAudit { audit: Audit; outbox_path: string; usage: UsageLine[] }
export interface UploadResult { upload_id: string; status: string; reasons: string[]; received_at: string }
export interface UploadSummary { uploaded: UploadResult[]; remaining: number; error: CommandError | null }
export interface HistoryLine {
  upload_id: string; status: string; received_at: string; audit_id: string | null; reasons: string[];
  uploaded_from_here: boolean; known_to_portal: boolean | null;
}
export interface AuditState { outbox: string[]; history: HistoryLine[]; portal_error: CommandError | null }
export interface SavedRequest { path: string | null; qr_svg: string; request_id: string }
