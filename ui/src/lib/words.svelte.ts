// The administrator's words: how the app names types, dates, licenses, checks and
// errors. Everything the UI says about data from Rust is worded here, from typed
// fields and error codes, never by reading Rust's (CLI) message text.
import type {
  AuditNextStep,
  Quantity,
  Range,
  Check,
  CommandError,
  Difference,
  EnvironmentType,
  ErrorCode,
  License,
  LicenseStatus,
  MetricForecast,
  Renewal,
  RenewalState,
  TimelineRow,
  PreparedRenewal,
  Setting,
  SettingProblem,
  SymbolCount,
  TokenSource,
  TransferDamage,
  UploadResult,
  ClockState,
  ItemState,
  ReceiptFate,
  Mismatch,
  Drift,
  FactChange,
  BackupEntry,
  BackupReason,
  Step,
} from "./types";
import { CHECK_LABEL, ENV_TYPE, FIELD_LABEL } from "./bindings";

/** The vendor's own names for the environment types. */
// Generated from Rust (`EnvironmentType::label`), which licensectl says too.
export { ENV_TYPE };

/** Shown once where a type is chosen. */
export const ENV_TYPE_HINT: Record<EnvironmentType, string> = { ...ENV_TYPE, lifetime: "LifeTime (management console)" };

/** When the system refuses clipboard access; the serial number is selectable text. */
/** "1 audit", "2 audits": a count with its noun, never "audit(s)". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** What the portal's answers to uploaded audits mean, and what to do next. A
 * rejected upload without a receipt is the portal saying the serial holds no slot of
 * this subscription (it signs receipts only for registered serials). */
export function uploadOutcome(results: UploadResult[]): string | null {
  const rejected = results.filter((r) => r.status === "rejected");
  if (rejected.length === 0) return null;
  const unregistered = rejected.some((r) => r.receipt === null);
  const what = `The portal rejected ${count(rejected.length, "audit")} of ${results.length}.`;
  return unregistered
    ? `${what} This environment is not registered in the subscription: go to Request a license → Register, then generate a new audit and upload it.`
    : `${what} See the reasons in the history below; generate a new audit once the cause is fixed.`;
}

/** Where the portal token in use comes from (Settings). */
export const TOKEN_FROM: Record<TokenSource | "none", string> = {
  keyring: "A token for this portal is stored in the OS keyring.",
  environment: "The token comes from LICENSE_MANAGER_TOKEN, given when License Manager started; it is not kept anywhere. Change it there.",
  credential: "The token comes from the systemd credential portal-token.",
  none: "No token is stored for this portal.",
};

export const COPY_REFUSED = "Copying was refused by the system: select the serial number and copy it by hand.";

/** Times in local time unless the administrator switched to UTC (kept per machine). */
export const clock = $state({ utc: localStorage.getItem("times") === "utc" });

const DAY = 86_400_000;

function parts(d: Date, utc: boolean): string {
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: utc ? "UTC" : undefined,
  }).format(d);
}

/** "22 Dec 2027, 23:39" in the chosen zone ("… UTC" when UTC). */
export function dateTime(ts: string | null | undefined, utc = clock.utc): string {
  if (!ts) return "never";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return parts(d, utc) + (utc ? " UTC" : "");
}

/** "22 Dec 2027" in the chosen zone. */
export function day(ts: string | null | undefined): string {
  if (!ts) return "never";
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: clock.utc ? "UTC" : undefined }).format(new Date(ts));
}

/** "in 394 days", "today", "3 days ago". The same count as the core's
 * `timestamp::days_until` (nearest day, a half day rounds up), so the overview,
 * the report, the notification and licensectl never disagree by one. */
export function relative(ts: string | null | undefined, now = Date.now()): string {
  if (!ts) return "";
  const days = Math.floor((new Date(ts).getTime() - now + DAY / 2) / DAY);
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}

/** "22 Dec 2027, 23:39 (in 394 days)". */
export function dateWithDistance(ts: string | null | undefined): string {
  if (!ts) return "never";
  return `${dateTime(ts)} (${relative(ts)})`;
}

/** A license as a person names it: customer, type, expiry. */
export function describeLicense(l: License, now = Date.now()): string {
  const validity =
    new Date(l.not_before).getTime() > now
      ? `valid from ${dateTime(l.not_before)}`
      : !l.expires_at
        ? "perpetual"
        : new Date(l.expires_at).getTime() <= now
          ? `expired on ${dateTime(l.expires_at)}`
          : `valid until ${dateTime(l.expires_at)}`;
  return `${l.customer} · ${ENV_TYPE[l.environment_type]} · ${validity}`;
}

export const STATUS_LABEL: Record<LicenseStatus, string> = {
  none: "No license",
  valid: "Valid",
  expiring: "Expires soon",
  expired: "Expired",
  not_yet_valid: "Not yet valid",
  serial_mismatch: "For another environment",
  invalid_signature: "Signature does not verify",
  wrong_environment_type: "Wrong environment type",
  invalid: "Unreadable",
};

/** A sentence for the administrator: what happened, and what to do next. */
export type Words = { title: string; next: string };

/** While a token is read from or written to the OS keyring: a locked keyring
 * waits, without a time limit, for the administrator to answer its unlock prompt. */
export const KEYRING_WAIT = "Waiting for the OS keyring… If it asks to be unlocked, unlock it in the prompt it shows.";

/** The settings as their fields are labelled. */
export const SETTING_LABEL: Record<Setting, string> = {
  name: "Name",
  environment_type: "Environment type",
  license_file: "License file",
  backup_dir: "Backup folder",
  state_dir: "State folder",
  facts_file: "Facts file",
  ca_bundle: "Custom CA bundle",
  vendor_keys: "Trusted vendor public keys",
  proxy: "Proxy",
  portal_url: "Portal URL",
  activation_code: "Activation code",
};

const SETTING_PROBLEM: Record<SettingProblem, string> = {
  empty: "It is empty: fill it in.",
  not_set: "It is not set: fill it in.",
  has_parent_dir: "Give the path without “..”.",
  is_a_folder: "This is a folder: name the license file itself.",
  no_such_folder: "Its folder does not exist: create the folder first, or choose another place.",
  no_such_file: "There is no such file: give the full path of an existing file.",
  unreadable: "It cannot be read: check it for typing mistakes.",
};

const UNREADABLE: Partial<Record<Setting, string>> = {
  vendor_keys: "A key cannot be read: paste each key as the vendor's welcome letter gives it, one per line.",
  proxy: "This is not a proxy address: write it as http://host:port.",
};

/** What is wrong with the setting an error names, for the words next to its field. */
export function settingWords(e: CommandError): string {
  if (e.problem === "unreadable" && e.setting && UNREADABLE[e.setting]) return UNREADABLE[e.setting]!;
  if (e.problem) return SETTING_PROBLEM[e.problem];
  const w = ERROR_WORDS[e.code];
  return e.length ? `${lengthWords(e.length)} ${w.next}` : `${w.title} ${w.next}`;
}

const QUANTITY_UNIT: Record<Quantity, string> = { renewal_days: "day" };

/** The limit a number broke, said at its field: "At most 365 days." */
export function rangeWords(r: Range): string {
  const unit = QUANTITY_UNIT[r.quantity];
  return r.given > r.max ? `At most ${count(r.max, unit)}.` : `At least ${count(r.min, unit)}.`;
}

/** "24 symbols; needs 25." */
function lengthWords(l: SymbolCount): string {
  return `${count(l.given, "symbol")}; needs ${l.needed}.`;
}

/** Each kind of damaged transfer file has its own headline. */
export const DAMAGE_WORDS: Record<TransferDamage, Words> = {
  not_zip: { title: "This is not a transfer file: it is not a ZIP archive.", next: "Choose the .transfer.zip file License Manager wrote." },
  truncated: {
    title: "The transfer file is cut short: it was not copied completely.",
    next: "Copy it again from where it was written, and eject the USB stick safely before you remove it.",
  },
  malformed: {
    title: "The transfer file was not written by License Manager: its archive is built differently.",
    next: "Use the file exactly as License Manager wrote it; do not repack it with an archive tool.",
  },
  checksum: {
    title: "A paper inside the transfer file is damaged: it fails its checksum.",
    next: "Copy the file again; if it stays damaged, export it again on the other side.",
  },
  unknown_member: {
    title: "The transfer file holds something License Manager never puts in one.",
    next: "Use the file exactly as License Manager wrote it; if files were added to it, export it again.",
  },
  bad_member: {
    title: "A paper inside the transfer file fails its own checks: its signature or its contents.",
    next: "Export the transfer file again on the other side.",
  },
  too_large: {
    title: "The transfer file unpacks to far more than any transfer file holds.",
    next: "Choose the .transfer.zip file License Manager wrote: this one is not it.",
  },
  bad_index: {
    title: "The transfer file's list of environments is missing or does not match what it holds.",
    next: "Use the file exactly as License Manager wrote it, or export it again.",
  },
};

/** An error's headline and next step, from its code and typed facts: the setting
 * it names, a code's length, a transfer file's damage. */
export function errorWords(e: CommandError): Words & { fact?: string } {
  if (e.damage) return DAMAGE_WORDS[e.damage];
  const w = ERROR_WORDS[e.code];
  if (e.code === "invalid_setting" && e.setting) return { title: `The setting “${SETTING_LABEL[e.setting]}” is not valid.`, next: settingWords(e) };
  if (e.length) return { ...w, fact: lengthWords(e.length) };
  return w;
}

export const ERROR_WORDS: Record<ErrorCode, Words> = {
  too_large: { title: "The file is too large to be a license file.", next: "Check that you chose the right file." },
  not_text: { title: "The file is not a text file.", next: "Choose the license file you received (it begins with -----BEGIN)." },
  byte_order_mark: { title: "The file was changed by an editor (it starts with a byte-order mark).", next: "Use the file exactly as you received it." },
  not_a_document: { title: "This is not a License Manager file: it has no BEGIN line.", next: "Choose the file itself, as you were sent it." },
  bad_armor: {
    title: "The file is not a complete license file.",
    next: "It may have been cut or edited: ask for the file again, or download it from the portal.",
  },
  wrong_kind: { title: "This is a different kind of file.", next: "Choose a license file; requests, audits and receipts go on their own pages." },
  is_a_license: { title: "This is a license file, not the kind of file asked for here.", next: "Install it on the Install a license page." },
  is_an_audit: {
    title: "This is a license audit file, not a license.",
    next: "Upload it on the License verification page (Upload a file from another machine).",
  },
  is_a_request: {
    title: "This is a license request, not a license.",
    next: "Turn it into a license on a connected machine: Request a license → Turn a request into a license.",
  },
  is_a_receipt: { title: "This is an upload receipt, not a license.", next: "Receipts come back inside a transfer file: open it on the Transfer file page." },
  multiple_blocks: { title: "The file holds more than one document.", next: "Use one license file at a time, as you received it." },
  bad_encoding: { title: "The file's contents are damaged.", next: "Ask for the file again, or download it from the portal." },
  bad_envelope: { title: "The file's contents are damaged.", next: "Ask for the file again, or download it from the portal." },
  unsupported_algorithm: {
    title: "The file is signed in a way this version does not know.",
    next: "Update License Manager, or ask the vendor for a current file.",
  },
  unknown_key: {
    title: "The file is signed with a key this environment does not trust.",
    next: "Check the trusted vendor keys in Settings against your vendor's welcome letter.",
  },
  bad_signature: { title: "The vendor's signature does not match the contents.", next: "The file was altered after it was signed: use the original file." },
  bad_payload: { title: "The license inside the file cannot be read.", next: "Ask the vendor for a new file." },
  unsupported_format: { title: "The file uses a newer format than this version knows.", next: "Update License Manager." },
  invalid_activation_code: {
    title: "That is not a valid activation code.",
    next: "It has five groups of five letters and digits; check it against your welcome letter.",
  },
  invalid_serial_number: { title: "That is not a valid serial number.", next: "Copy it from the environment's Overview page." },
  no_serial_facts: {
    title: "This machine's serial number cannot be worked out.",
    next: "Its hardware identifiers cannot be read; see Details and ask your system administrator.",
  },
  bad_facts: { title: "This machine's hardware identifiers cannot be read.", next: "See Details and ask your system administrator." },
  bad_key: { title: "A vendor key in the settings is not valid.", next: "Copy the key again from your vendor's welcome letter." },
  bad_config: { title: "The configuration file cannot be used.", next: "See Details for the line at fault, then correct it in Settings." },
  invalid_environment_type: { title: "That environment type is not known.", next: "Choose Development, Quality Assurance, Production or LifeTime." },
  invalid_setting: { title: "A setting is not valid.", next: "See Details for which one, and correct it." },
  no_config: { title: "This environment is not set up yet.", next: "Set it up on the welcome page." },
  io: { title: "A file could not be read or written.", next: "See Details for which file; check that the folder exists and that you may write to it." },
  dangling_link: {
    title: "A folder in the settings is a link to a folder that no longer exists.",
    next: "Create that folder, or point the setting at one that exists; see Details.",
  },
  not_private: {
    title: "The environment's state folder or key is not private to this user.",
    next: "Give it to the user License Manager runs as and take away others' write access; see Details.",
  },
  not_a_file: { title: "That is not a regular file.", next: "Choose the file itself, not a folder or device." },
  usage_unavailable: { title: "The consumption figures could not be read.", next: "See Details; the usage command or file is set in the configuration." },
  bad_transfer: {
    title: "The transfer file cannot be used.",
    next: "It may be damaged or not a transfer file; see Details, and make it again on the other side.",
  },
  nothing_to_accept: { title: "The clock is not behind any time seen: there is nothing to accept.", next: "Reload the overview." },
  no_space: {
    title: "There is not enough free space for the new license: nothing was changed.",
    next: "Free some space in the license folder, then install again.",
  },
  nothing_installed: { title: "No license is installed.", next: "Install one first." },
  not_a_license: { title: "The file at the license path is not a license, so it was not backed up.", next: "Check the license path in Settings." },
  no_such_backup: { title: "That backup no longer exists.", next: "Reload the list of backups." },
  refused: { title: "The license was not installed: a check failed.", next: "See the checks marked ✗. Nothing was changed." },
  stage_refused: { title: "The renewal was not staged.", next: "See Details for why. The installed license was not changed." },
  not_confirmed: { title: "Not confirmed: nothing was changed.", next: "The change waits for your yes in the confirmation dialog; try again to see it." },
  staged_damaged: {
    title: "The staged renewal is damaged, so it will not be installed.",
    next: "Remove it, then install the renewal again from the file you were sent.",
  },
  no_renewal_yet: {
    title: "The portal has no renewal for this environment yet.",
    next: "Its subscription's renewal is not booked at the portal yet: ask your account manager, then prepare the renewals again.",
  },
  out_of_range: {
    title: "A number is outside its limits.",
    next: "Give a whole number within the limit shown at the field.",
  },
  expiry_unknown: {
    title: "When its license expires is not known here.",
    next: "The portal lists no license issued for it and the file holds no export of it: export it from the environment into this file, then prepare the renewals again.",
  },
  renewal_refused: {
    title: "The portal's answer was refused, so nothing was renewed.",
    next: "Check the portal address in Settings; the installed license was not changed.",
  },
  renewal_running: { title: "Another renewal of this environment is running.", next: "Let it finish; it does the same work." },
  needs_confirmation: { title: "The warnings must be accepted first.", next: "Read the warnings and tick the box to go ahead." },
  read_back_failed: { title: "The license did not read back as written, so the previous one was put back.", next: "Check the disk, then try again." },
  busy: { title: "Another change to this license is under way.", next: "Wait for it to finish, then try again." },
  portal_unreachable: {
    title: "The portal cannot be reached.",
    next: "Check the network, the proxy and the portal address in Settings, or use a transfer file.",
  },
  portal_refused: { title: "The portal refused the request.", next: "See Details for its reason." },
  portal_unauthorized: { title: "The portal did not accept the token.", next: "Store a valid token in Settings." },
  portal_forbidden: {
    title: "The token may not do this.",
    next: "Ask your portal administrator for a token with this permission, or use another way offered here.",
  },
  portal_not_found: {
    title: "The portal does not know this environment or subscription.",
    next: "Register this environment first, or check the activation code.",
  },
  portal_no_free_slot: {
    title: "No slot of this environment's type is free in the subscription.",
    next: "Free one on the portal (or from a connected workstation's Infrastructure page), or ask your account manager for another.",
  },
  portal_reason_required: {
    title: "This slot was freed while its license is still valid.",
    next: "Registering it again needs a stated reason, as the vendor's procedure asks: give it below and register again.",
  },
  portal_conflict: {
    title: "The portal holds something different for this environment.",
    next: "See Details; the serial may already be registered under another subscription.",
  },
  portal_rate_limited: { title: "The portal asks to wait before trying again.", next: "Try again in an hour." },
  portal_protocol: { title: "The portal answered in a way this version does not understand.", next: "Check the portal address in Settings; see Details." },
  not_a_transfer_file: { title: "That is not a transfer file.", next: "Choose the file whose name ends in .transfer.zip." },
  transfer_full: { title: "The transfer file is full: nothing was written.", next: "Put the remaining environments into a second transfer file." },
  audit_not_registered: {
    title: "The portal rejected the audit: this environment is not registered in the subscription.",
    next: "Request a license → Register this serial, then generate a new audit.",
  },
  bad_portal_url: { title: "The portal address is not allowed.", next: "Use an https:// address (http:// only for this machine itself)." },
  bad_token: { title: "That does not look like a portal token.", next: "Copy the token again from the portal." },
  token_not_bound: {
    title: "The token given to this program belongs to another portal.",
    next: "Set LICENSE_MANAGER_PORTAL to this portal's address, or store a token in Settings.",
  },
  no_token: { title: "No portal token is stored.", next: "Store one in Settings." },
  bad_release: { title: "The release does not verify.", next: "Do not install it; get the release again from the vendor." },
  keyring: { title: "The system keyring could not be used.", next: "Unlock your keyring (log in to the desktop) and try again." },
  no_environment: { title: "No environment is open.", next: "Open or set one up on the welcome page." },
  no_candidate: { title: "No license file is chosen.", next: "Choose a file, drop one on the window, or paste its text." },
  cancelled: { title: "Cancelled.", next: "Nothing more was sent; trying again is safe." },
  invalid: { title: "That could not be done.", next: "See Details." },
  internal: { title: "Something went wrong inside License Manager.", next: "Try again; if it happens again, keep the Details for support." },
};

/** Rust's message, for Details: starts with a capital and ends with a full stop. */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const c = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : c + ".";
}

/** What the app knows when it words a check. */
export type CheckContext = {
  serial: string | null;
  environmentType: EnvironmentType | null;
  installed: License | null;
};

/** One check in the administrator's words, from the verdict and the license. */
export function checkWords(c: Check, lic: License | null, ctx: CheckContext, less: Difference[] = []): string {
  if (c.status === "skipped")
    return c.skipped === "value_unknown"
      ? `Not checked: this environment's ${c.id === "serial_number" ? "serial number" : "type"} is unknown.`
      : "Skipped: an earlier check failed.";
  if (c.status === "fail" && c.code === "not_a_document") return "Not a license file.";
  if (c.status === "fail" && c.code) return `${ERROR_WORDS[c.code].title} ${ERROR_WORDS[c.code].next}`;
  const fail = c.status === "fail";
  switch (c.id) {
    case "format":
      return "A complete license file.";
    case "signature":
      return "Signed by the vendor, with a key this environment trusts.";
    case "contents":
      return lic ? `A license for ${lic.customer}.` : "Readable.";
    case "dates":
      if (!lic) return "";
      if (new Date(lic.not_before).getTime() > Date.now())
        return lic.expires_at
          ? `Valid from ${dateWithDistance(lic.not_before)} until ${dateTime(lic.expires_at)}.`
          : `Valid from ${dateWithDistance(lic.not_before)}.`;
      if (!lic.expires_at) return "Perpetual: it does not expire.";
      return fail ? `Expired on ${dateTime(lic.expires_at)} (${relative(lic.expires_at)}).` : `Valid until ${dateWithDistance(lic.expires_at)}.`;
    case "serial_number":
      return fail ? "The license is for another environment's serial number." : "Made for this environment.";
    case "activation_code":
      if (c.status === "warn") return "It moves this environment to another subscription.";
      return ctx.installed ? "The same subscription as the installed license." : "The subscription this environment will belong to.";
    case "environment_type":
      return fail && lic && ctx.environmentType
        ? `The license is for a ${ENV_TYPE[lic.environment_type]} environment; this one is ${ENV_TYPE[ctx.environmentType]}.`
        : lic
          ? `${ENV_TYPE[lic.environment_type]}, as this environment.`
          : "";
    case "downgrade":
      if (!ctx.installed) return "No license is installed yet.";
      if (lic && ctx.installed.license_id === lic.license_id) return "This license is already installed.";
      if (c.status === "warn" && less.length)
        return `It gives less than the installed license: ${less.map((d) => FIELD_LABEL[d.field].toLowerCase()).join(", ")} (see “What changes”). Install it only if you mean to.`;
      if (c.status === "warn" && lic)
        return `Issued ${dateTime(lic.issued_at)}, before the installed license (${dateTime(ctx.installed.issued_at)}): install it only if you mean to go back.`;
      return lic ? `Issued ${dateTime(lic.issued_at)}, after the installed license (${dateTime(ctx.installed.issued_at)}).` : "";
    case "staging":
      return fail
        ? `It cannot wait staged for its start: ${sentence(c.message)}`
        : "It starts later: installing it now stages it, and it is installed at its start with a backup of the current license first.";
  }
}

/** The checks' and the license fields' names: generated from Rust (`CheckId::label`,
 * `Field::label`), which licensectl and the HTML record say too. */
export { CHECK_LABEL, FIELD_LABEL };

/** What the overview says about the clock (nothing when it is right). */
export const CLOCK_NOTE: Record<ClockState, string | null> = {
  ok: null,
  behind: "This machine's clock is behind the latest time seen, so that later time is used for validity.",
  suspect:
    "This environment once saw a time far ahead of this machine's clock. License dates are judged by that later time until an administrator says which is right.",
  record_missing: "The record of the latest time seen is missing; it was started again.",
  record_altered: "The record of the latest time seen was altered; it was started again.",
  unprotected: "The environment key cannot be read, so no time is remembered: restore it from a backup of the state folder.",
};

/** How each environment's line of a processed transfer file ended. */
export const ITEM_STATE: Record<ItemState, string> = {
  done: "done",
  already_done: "done before",
  failed: "failed",
  held: "not sent yet: this environment's license request must succeed first",
};

/** What importing a transfer file does with each receipt in it. */
export const RECEIPT_FATE: Record<ReceiptFate, string> = {
  moves_to_history: "moves from the outbox to the history",
  already_recorded: "already in the history",
  not_in_outbox: "skipped: no such audit waits here",
  does_not_match: "not applied: it does not answer the audit waiting here",
};

/** Why a receipt does not answer the audit waiting here. It proves nothing about
 * that audit, which stays in the outbox to be uploaded again. */
export const MISMATCH: Record<Mismatch, string> = {
  other_audit: "it names another audit; the audit here stays in the outbox",
  other_serial: "it names another serial number; the audit here stays in the outbox",
  other_subscription: "it names another subscription; the audit here stays in the outbox",
  other_content: "the portal received other content under this audit's id; upload the audit here again",
};

/** The install's steps, in order, as its progress names them. */
export const STEP_LABEL: Record<Step, string> = {
  checking: "Checking the license file",
  backing_up: "Backing up the installed license",
  writing: "Writing the new license",
  verifying: "Reading it back",
  done: "Done",
};
export const STEP_ORDER: Step[] = ["checking", "backing_up", "writing", "verifying", "done"];

/** A check's verdict, for screen readers (the icon shows it). */
export const CHECK_VERDICT: Record<Check["status"], string> = { pass: "passed", warn: "warning", fail: "failed", skipped: "not checked" };

/** The badge tone of an audit's verdict. */
/** What to do after the portal rejected an audit: the core decides which step. */
export const AUDIT_NEXT_STEP: Record<AuditNextStep, string> = {
  register: "This environment is not registered in the subscription: register it (Request a license → Register), then generate a new audit and upload it.",
  install_portal_license: "Install the license the portal issued for this environment (Request a license), then generate a new audit and upload it.",
};

export const UPLOAD_TONE: Record<UploadResult["status"], "ok" | "bad"> = { verified: "ok", rejected: "bad" };

/** The facts a serial number is made from, as the drift names them. */
const FACT_NAME: Record<string, string> = { platform_uuid: "the platform UUID", machine_id: "the machine-id" };

/** How one fact changed since the license was installed, with its likely cause. */
export function driftWords(c: FactChange): string {
  const name = FACT_NAME[c.fact] ?? `the fact ${c.fact}`;
  switch (c.change) {
    case "changed":
      if (c.fact === "platform_uuid") return `${name} changed since this license was installed: the machine was probably moved or recreated`;
      if (c.fact === "machine_id")
        return `${name} changed since this license was installed: the operating system was probably reinstalled, or the machine cloned`;
      return `${name} changed since this license was installed`;
    case "became_placeholder":
      if (c.fact === "platform_uuid")
        return `${name} is now a placeholder value, so it no longer counts: the hypervisor or firmware stopped reporting the machine's UUID (common after a virtual machine was moved or converted)`;
      return `${name} is now empty or a placeholder value, so it no longer counts`;
    case "disappeared":
      return `${name} can no longer be read (it was used when this license was installed): check that the service reads it with the same rights as before`;
    case "appeared":
      if (c.fact === "platform_uuid")
        return `${name} can now be read and takes the place of the machine-id: the service probably runs with more rights than before, or the firmware now reports it`;
      return `${name} is now used, and was not when this license was installed`;
  }
}

/** Why the serial differs when no changed fact can be named. */
export function driftUnexplained(d: Drift): string {
  return d.recorded
    ? "the facts are the same as when this license was installed: the license file was made for another environment"
    : "the serial number differs from the license's, and no record of the facts from when it was installed exists (it was installed by an older version, by hand, or on another machine)";
}

/** Why a backup was taken. A restore names the backup it restored by when that one
 * was taken (its id is for Details). */
export function backupReason(r: BackupReason, all: BackupEntry[]): string {
  switch (r.kind) {
    case "on_demand":
      return "Backed up on request";
    case "before_install":
      return "Before an install";
    case "staged_installed":
      return "The staged renewal, as it was installed";
    case "before_restore": {
      const restored = all.find((b) => b.id === r.backup_id);
      return restored ? `Before restoring the backup of ${dateTime(restored.taken_at)}` : "Before a restore";
    }
    case "other":
      return sentence(r.text);
  }
}

/** The badge tone of each state of the installed license. */
export const STATUS_TONE: Record<LicenseStatus, "ok" | "warn" | "bad"> = {
  valid: "ok",
  expiring: "warn",
  none: "warn",
  expired: "bad",
  not_yet_valid: "bad",
  serial_mismatch: "bad",
  invalid_signature: "bad",
  wrong_environment_type: "bad",
  invalid: "bad",
};

/** The consumption metrics of an audit, as the usage table names them. */
export const METRIC_LABEL: Record<string, string> = { named_users: "Named users", application_objects: "Application objects", servers: "Servers" };

/** One metric's consumption and trend in a sentence: the chart's text alternative
 *  and its caption. */
export function forecastWords(m: MetricForecast, expiresAt: string | null): string {
  const name = METRIC_LABEL[m.metric] ?? m.metric;
  if (m.used === null) return `${name}: no reading yet. Generate an audit to start the history.`;
  const percent = m.entitled > 0 ? `${Math.round((m.used / m.entitled) * 100)}%` : "over";
  const now = `${name}: ${m.used} of ${m.entitled} in use (${percent}).`;
  if (m.used > m.entitled) return `${now} Over the entitlement: request a license with more, or reduce use.`;
  if (m.per_day === null) return `${now} Two audits at least a day apart give a trend.`;
  const trend = `The audits' trend is ${m.per_day * 30 >= 0 ? "+" : ""}${(m.per_day * 30).toFixed(1)} a month`;
  if (!m.reaches_limit) return `${now} ${trend}, which does not reach the entitlement.`;
  const before = expiresAt && new Date(m.reaches_limit).getTime() < new Date(expiresAt).getTime();
  return `${now} ${trend}: it would reach the entitlement around ${day(m.reaches_limit)}${before ? ", before the license expires" : ", after the license expires"}.`;
}

/** What one renewal run did, for "Check for a renewal now". */
export function renewalWords(r: Renewal): { text: string; tone: "ok" | "warn" } {
  switch (r.renewal) {
    case "not_due":
      return {
        text: `Not due yet: the portal is asked within 30 days of expiry${r.expires_at ? ` (the license expires on ${day(r.expires_at)})` : ""}.`,
        tone: "ok",
      };
    case "up_to_date":
      return { text: "Up to date: the portal has no newer license for this environment.", tone: "ok" };
    case "would_install":
      return { text: `A newer license is waiting at the portal: ${describeLicense(r.license)}.`, tone: "ok" };
    case "installed":
      return { text: `Renewed: ${describeLicense(r.outcome.license)} is installed; the previous license was backed up first.`, tone: "ok" };
    case "staged":
      return { text: `Renewal staged: takes effect ${dateWithDistance(r.outcome.takes_effect)}.`, tone: "ok" };
    case "waits_for_person":
      return { text: `The portal's license was not installed: ${sentence(r.reason)}`, tone: "warn" };
  }
}

/** A renewal's state on the infrastructure timeline; `issued`: at the portal, not sent yet. */
export const RENEWAL_STATE: Record<RenewalState | "issued", string> = {
  renewed: "renewed",
  staged: "staged",
  waiting: "sent, waiting",
  issued: "at the portal",
};

/** The timeline in sentences: its text alternative. */
export function timelineWords(rows: TimelineRow[]): string {
  return rows
    .map((r) => {
      const name = `${r.name || r.serial_number} (${ENV_TYPE[r.environment_type]})`;
      const ends = !r.current ? "license not known here" : r.current.ends ? `license ends ${day(r.current.ends)}` : "license without an end";
      const next = r.next ? `; renewal ${RENEWAL_STATE[r.renewal ?? "issued"]}, from ${day(r.next.starts)}` : r.renewal ? `; ${RENEWAL_STATE[r.renewal]}` : "";
      const audit = r.last_audit_at ? `; last audit ${day(r.last_audit_at)}` : "";
      return `${name}: ${ends}${next}${audit}.`;
    })
    .join(" ");
}

/** One line of "Prepare renewals": what went into the file for an environment. */
export function preparedWords(p: PreparedRenewal): { text: string; tone: "ok" | "warn" | "bad" } {
  if (p.license) {
    const starts = new Date(p.license.not_before).getTime() > Date.now();
    return {
      text: starts ? `Renewal added: it takes effect ${day(p.license.not_before)}, staged when imported.` : "Renewal added: it is installed when imported.",
      tone: "ok",
    };
  }
  if (p.problem) {
    const w = errorWords(p.problem);
    return { text: `Nothing added. ${w.title} ${w.next}`, tone: p.problem.code === "no_renewal_yet" || p.problem.code === "expiry_unknown" ? "warn" : "bad" };
  }
  return { text: "Nothing added.", tone: "warn" };
}
