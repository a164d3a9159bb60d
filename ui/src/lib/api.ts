// Typed calls to the app's commands. The webview can call nothing else.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AuditState,
  BackupEntry,
  CandidateDropped,
  CandidateView,
  CommandError,
  EnvironmentType,
  ErrorCode,
  ExportSummary,
  DragState,
  GeneratedAudit,
  ImportPlan,
  RequestView,
  InstallOutcome,
  ReceiptsRecorded,
  ItemOutcome,
  NewConfig,
  Overview,
  Processed,
  Report,
  Role,
  RoleView,
  SavedRequest,
  Settings,
  Step,
  Subscription,
  TransferView,
  UploadProgress,
  UploadResult,
  UploadSummary,
  UsageLine,
  WorkstationInput,
  WorkstationView,
} from "./types";

/** Every command error is `{code, message}`; anything else (a failure inside Tauri
 *  itself) is wrapped as an `internal` one. */
export function asError(e: unknown): CommandError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    // Keep the typed facts (setting, problem, length, damage): the UI words them.
    const o = e as CommandError;
    return { ...o, code: o.code as ErrorCode, message: String(o.message) };
  }
  return { code: "internal", message: String(e) };
}

function progress(onStep: (s: Step) => void): Channel<Step> {
  const ch = new Channel<Step>();
  ch.onmessage = onStep;
  return ch;
}

export const api = {
  overview: () => invoke<Overview>("overview"),
  openDemo: () => invoke<Overview>("open_demo"),
  createConfig: (input: NewConfig) => invoke<Overview>("create_config", { input }),
  serialQr: () => invoke<string>("serial_qr"),
  acceptClock: () => invoke<void>("accept_clock"),
  chooseLicenseFile: () => invoke<CandidateView | null>("choose_license_file"),
  pasteLicense: (text: string) => invoke<CandidateView>("paste_license", { text }),
  currentCandidate: () => invoke<CandidateView | null>("current_candidate"),
  installCandidate: (confirmed: boolean, onStep: (s: Step) => void) => invoke<InstallOutcome>("install_candidate", { confirmed, onProgress: progress(onStep) }),
  saveLicenseCopy: () => invoke<string | null>("save_license_copy"),
  saveInstallReport: () => invoke<string | null>("save_install_report"),
  cancelPortalCall: () => invoke<void>("cancel_portal_call"),
  backupNow: () => invoke<BackupEntry>("backup_now"),
  listBackups: () => invoke<BackupEntry[]>("list_backups"),
  checkBackup: (id: string) => invoke<Report>("check_backup", { id }),
  restoreBackup: (id: string, confirmed: boolean, onStep: (s: Step) => void) =>
    invoke<InstallOutcome>("restore_backup", { id, confirmed, onProgress: progress(onStep) }),
  exportBackup: (id: string) => invoke<string | null>("export_backup", { id }),
  getSettings: () => invoke<Settings>("get_settings"),
  saveSettings: (settings: Settings) => invoke<Settings>("save_settings", { settings }),
  setPortalToken: (token: string) => invoke<void>("set_portal_token", { token }),
  clearPortalToken: () => invoke<void>("clear_portal_token"),
  usagePreview: () => invoke<UsageLine[]>("usage_preview"),
  generateAudit: () => invoke<GeneratedAudit>("generate_audit"),
  saveAuditCopy: () => invoke<string | null>("save_audit_copy"),
  uploadOutbox: (onProgress: (p: UploadProgress) => void) => {
    const ch = new Channel<UploadProgress>();
    ch.onmessage = onProgress;
    return invoke<UploadSummary>("upload_outbox", { onProgress: ch });
  },
  uploadAuditFile: () => invoke<UploadResult | null>("upload_audit_file"),
  auditState: () => invoke<AuditState>("audit_state"),
  registerEnvironment: (activationCode: string, reason: string | null = null) => invoke<string>("register_environment", { activationCode, reason }),
  fetchLicense: () => invoke<CandidateView>("fetch_license"),
  sendLicense: () => invoke<string[]>("send_license"),
  requestView: (activationCode: string) => invoke<RequestView>("request_view", { activationCode }),
  saveLicenseRequest: (activationCode: string) => invoke<SavedRequest>("save_license_request", { activationCode }),
  fulfilRequest: () => invoke<string | null>("fulfil_request"),
  appRole: () => invoke<RoleView>("app_role"),
  setRole: (role: Role) => invoke<RoleView>("set_role", { role }),
  getWorkstation: () => invoke<WorkstationView>("get_workstation"),
  saveWorkstation: (input: WorkstationInput) => invoke<WorkstationView>("save_workstation", { input }),
  setWorkstationToken: (token: string) => invoke<void>("set_workstation_token", { token }),
  infrastructure: () => invoke<Subscription>("infrastructure"),
  registerSlot: (serial: string, environmentType: EnvironmentType, name: string, reason: string | null = null) =>
    invoke<Subscription>("register_slot", { serial, environmentType, name, reason }),
  freeSlot: (serial: string) => invoke<Subscription>("free_slot", { serial }),
  openTransferFile: () => invoke<TransferView | null>("open_transfer_file"),
  processTransfer: (reasons: Record<string, string>, onItem: (i: ItemOutcome) => void) => {
    const ch = new Channel<ItemOutcome>();
    ch.onmessage = onItem;
    return invoke<Processed>("process_transfer", { reasons, onProgress: ch });
  },
  addToTransferFile: (request: boolean, existing: boolean) => invoke<ExportSummary | null>("add_to_transfer_file", { request, existing }),
  openTransferHere: () => invoke<ImportPlan | null>("open_transfer_here"),
  recordReceipts: () => invoke<ReceiptsRecorded>("record_receipts"),
  onCandidateDropped: (f: (r: CandidateDropped) => void): Promise<UnlistenFn> => listen<CandidateDropped>("candidate-dropped", (e) => f(e.payload)),
  onDragState: (f: (d: DragState) => void): Promise<UnlistenFn> => listen<DragState>("drag-state", (e) => f(e.payload)),
};

/** Dates are worded in one place (words.svelte.ts). */
export { dateTime as formatDate } from "./words.svelte";
