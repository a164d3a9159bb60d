// Typed calls to the app's commands. The webview can call nothing else.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  CandidateDropped,
  Commands,
  CommandError,
  DragState,
  EnvironmentType,
  ErrorCode,
  ItemOutcome,
  NewConfig,
  Role,
  Settings,
  Step,
  UploadProgress,
  WorkstationInput,
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

type Args<C extends keyof Commands> = Commands[C]["args"];

/** Calls a command through the contract generated from the Rust functions
 *  (`Commands` in bindings.ts): a misspelt name, a missing or mistyped argument
 *  and a wrong result type do not compile. */
function call<C extends keyof Commands>(cmd: C, ...args: Args<C> extends Record<string, never> ? [] : [Args<C>]): Promise<Commands[C]["result"]> {
  return invoke<Commands[C]["result"]>(cmd, args[0]);
}

function channel<T>(on: (t: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = on;
  return ch;
}

export const api = {
  overview: () => call("overview"),
  openDemo: () => call("open_demo"),
  createConfig: (input: NewConfig) => call("create_config", { input }),
  serialQr: () => call("serial_qr"),
  acceptClock: () => call("accept_clock"),
  removeStaged: () => call("remove_staged"),
  chooseLicenseFile: () => call("choose_license_file"),
  pasteLicense: (text: string) => call("paste_license", { text }),
  currentCandidate: () => call("current_candidate"),
  installCandidate: (confirmed: boolean, onStep: (s: Step) => void) => call("install_candidate", { confirmed, onProgress: channel(onStep) }),
  saveLicenseCopy: () => call("save_license_copy"),
  saveInstallReport: () => call("save_install_report"),
  cancelPortalCall: () => call("cancel_portal_call"),
  backupNow: () => call("backup_now"),
  listBackups: () => call("list_backups"),
  checkBackup: (id: string) => call("check_backup", { id }),
  restoreBackup: (id: string, confirmed: boolean, onStep: (s: Step) => void) => call("restore_backup", { id, confirmed, onProgress: channel(onStep) }),
  exportBackup: (id: string) => call("export_backup", { id }),
  getSettings: () => call("get_settings"),
  saveSettings: (settings: Settings) => call("save_settings", { settings }),
  setPortalToken: (token: string) => call("set_portal_token", { token }),
  clearPortalToken: () => call("clear_portal_token"),
  usagePreview: () => call("usage_preview"),
  consumptionForecast: () => call("consumption_forecast"),
  renewNow: () => call("renew_now"),
  infrastructureTimeline: () => call("infrastructure_timeline"),
  prepareRenewals: (days: number) => call("prepare_renewals", { days }),
  onEnvironmentChanged: (f: () => void): Promise<UnlistenFn> => listen("environment-changed", () => f()),
  generateAudit: () => call("generate_audit"),
  saveAuditCopy: () => call("save_audit_copy"),
  uploadOutbox: (onProgress: (p: UploadProgress) => void) => call("upload_outbox", { onProgress: channel(onProgress) }),
  uploadAuditFile: () => call("upload_audit_file"),
  auditState: () => call("audit_state"),
  registerEnvironment: (activationCode: string, reason: string | null = null) => call("register_environment", { activationCode, reason }),
  fetchLicense: () => call("fetch_license"),
  sendLicense: () => call("send_license"),
  requestView: (activationCode: string) => call("request_view", { activationCode }),
  saveLicenseRequest: (activationCode: string) => call("save_license_request", { activationCode }),
  fulfilRequest: () => call("fulfil_request"),
  appRole: () => call("app_role"),
  setRole: (role: Role) => call("set_role", { role }),
  getWorkstation: () => call("get_workstation"),
  saveWorkstation: (input: WorkstationInput) => call("save_workstation", { input }),
  setWorkstationToken: (token: string) => call("set_workstation_token", { token }),
  infrastructure: () => call("infrastructure"),
  registerSlot: (serial: string, environmentType: EnvironmentType, name: string, reason: string | null = null) =>
    call("register_slot", { serial, environmentType, name, reason }),
  freeSlot: (serial: string) => call("free_slot", { serial }),
  openTransferFile: () => call("open_transfer_file"),
  processTransfer: (reasons: Record<string, string>, onItem: (i: ItemOutcome) => void) => call("process_transfer", { reasons, onProgress: channel(onItem) }),
  addToTransferFile: (request: boolean, existing: boolean) => call("add_to_transfer_file", { request, existing }),
  openTransferHere: () => call("open_transfer_here"),
  recordReceipts: () => call("record_receipts"),
  onCandidateDropped: (f: (r: CandidateDropped) => void): Promise<UnlistenFn> => listen<CandidateDropped>("candidate-dropped", (e) => f(e.payload)),
  onDragState: (f: (d: DragState) => void): Promise<UnlistenFn> => listen<DragState>("drag-state", (e) => f(e.payload)),
};

/** Dates are worded in one place (words.svelte.ts). */
export { dateTime as formatDate } from "./words.svelte";
