//! End-to-end tests of the desktop app: the real binary in a real WebKitGTK window
//! under Xvfb, driven through tauri-driver and WebKitWebDriver, on real demo
//! environments on disk. Native file dialogs answer from a file (the
//! `test-dialogs` feature; see ARCHITECTURE.md).
//!
//! Run with `scripts/test` (it builds the UI and starts Xvfb, D-Bus and the keyring).
// A scenario reads best whole: tests may run long (clippy.toml).
#![allow(clippy::too_many_lines)]

mod driver;

use driver::{until, Driver, Session};
use license_core::serial::HostFacts;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A demo environment on disk, the app open on it, and the dialog answer file.
struct App {
    dir: tempfile::TempDir,
    dialog: PathBuf,
    session: Session,
    _driver: Driver,
}

impl App {
    fn open() -> App {
        Self::open_with(|_| vec![])
    }

    /// `prepare` may change the demo environment before the app starts and returns
    /// extra environment variables for the app.
    fn open_with(prepare: impl FnOnce(&Path) -> Vec<(&'static str, String)>) -> App {
        let dir = tempfile::tempdir().unwrap();
        license_core::demo::create(dir.path()).unwrap();
        let extra = prepare(dir.path());
        Self::start(dir, extra)
    }

    /// Closes the window (one app window at a time), keeping the environment on disk.
    fn close(self) -> tempfile::TempDir {
        let App { dir, session, _driver, .. } = self;
        drop(session);
        drop(_driver);
        dir
    }

    /// Opens the app again on an environment kept by [`App::close`].
    fn reopen(dir: tempfile::TempDir) -> App {
        Self::start(dir, vec![])
    }

    fn start(dir: tempfile::TempDir, extra: Vec<(&'static str, String)>) -> App {
        let config = dir.path().join("environment.toml");
        let dialog = dir.path().join("dialog-answer");
        std::fs::write(&dialog, "").unwrap();
        // The webview's storage (theme, time zone choice) is per app: one test's
        // choices never reach another's window.
        let data_home = dir.path().join("xdg-data");
        let mut env: Vec<(&str, &std::ffi::OsStr)> =
            vec![("LICENSE_MANAGER_TEST_DIALOG", dialog.as_os_str()), ("XDG_DATA_HOME", data_home.as_os_str())];
        env.extend(extra.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(v.as_str()))));
        let driver = Driver::start(&env, &[]);
        let session = driver.session(&["--config", config.to_str().unwrap()]);
        session.wait_for("[data-testid=overview]");
        App { dir, dialog, session, _driver: driver }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn license(&self) -> Vec<u8> {
        std::fs::read(self.path("license.lic")).unwrap()
    }

    fn sample(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(&format!("samples/{name}"))).unwrap()
    }

    /// The next native dialog answers with `path`.
    fn dialog_answers(&self, path: &Path) {
        std::fs::write(&self.dialog, path.to_str().unwrap()).unwrap();
    }

    fn backups(&self) -> Vec<Vec<u8>> {
        let Ok(rd) = std::fs::read_dir(self.path("backups")) else { return vec![] };
        rd.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "lic"))
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect()
    }

    fn nav(&self, page: &str) {
        self.session.click(&format!("[data-nav={page}]"));
        self.session.wait_for(&format!("[data-testid={page}]"));
    }

    /// Install page, step 1 → 2, then choose `sample` through the dialog.
    fn choose_sample(&self, sample: &str) {
        self.nav("install");
        self.session.click("[data-testid=next]");
        self.dialog_answers(&self.path(&format!("samples/{sample}")));
        self.session.click("[data-testid=choose-file]");
        self.session.wait_for("[data-testid=step-check]");
    }

    /// The Transfer file page, with `file` opened through its dialog.
    fn open_transfer_here(&self, file: &Path) {
        self.nav("transfer-here");
        self.dialog_answers(file);
        self.session.click("[data-testid=open-transfer-here]");
    }

    /// [`App::choose_sample`] with the navigation collapsed into its menu.
    fn choose_sample_narrow(&self, sample: &str) {
        self.session.click("[data-testid=menu]");
        self.choose_sample(sample);
    }

    fn check_status(&self, id: &str) -> String {
        let e = self.session.wait_for(&format!("[data-check={id}]"));
        self.session.attr(&e, "data-status").unwrap_or_default()
    }
}

#[test]
fn overview_shows_the_serial_number_and_license() {
    let app = App::open();
    let s = &app.session;
    let expected = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    assert_eq!(s.wait_text("[data-testid=serial]", |t| !t.is_empty()), expected);
    let status = s.wait_for("[data-testid=license-status]");
    assert_eq!(s.attr(&status, "data-status").as_deref(), Some("expiring"));
    // One banner about the expiry, with the way forward.
    let banner = s.wait_text("[data-testid=license-banner]", |t| !t.is_empty());
    assert!(banner.contains("expires on"), "{banner}");
    assert_eq!(s.find_all("[data-testid=license-banner]").len(), 1);
    s.wait_for("[data-testid=banner-request]");
    assert_eq!(s.wait_text("[data-testid=named-users]", |t| !t.is_empty()), "100");
    // Dates in words and local time, with the distance: "22 Dec 2027, 23:39 (in 394 days)".
    let expires = s.wait_text("[data-testid=expires]", |t| !t.is_empty());
    let readable = regex_lite::Regex::new(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} \(in \d+ days\)$").unwrap();
    assert!(readable.is_match(&expires), "{expires}");
    let iso = regex_lite::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}").unwrap();
    assert!(!iso.is_match(&s.page_text()), "no raw timestamps: {}", s.page_text());
    // The license ID is behind "Details", not in the main text.
    let lic_id = license_core::environment::Environment::open(&app.path("environment.toml"))
        .unwrap()
        .installed()
        .unwrap()
        .license_id
        .to_string();
    assert!(!s.page_text().contains(&lic_id), "the license id is hidden until Details is opened");
    s.click("[data-testid=license-card] details summary");
    assert!(s.page_text().contains(&lic_id));
    s.click("[data-testid=toggle-qr]");
    s.wait_for("[data-testid=serial-qr] svg");
    s.screenshot("overview");
}

#[test]
fn install_wizard_installs_backs_up_and_restores_previous() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.nav("install");
    s.screenshot("install-1-backup");

    // Step 1: "save a copy as" through the save dialog.
    let copy = app.path("copy.lic");
    app.dialog_answers(&copy);
    s.click("[data-testid=save-copy]");
    let said = s.wait_text("[data-testid=saved-copy]", |t| !t.is_empty());
    assert_eq!(said, format!("A copy was saved to {}.", copy.display()));
    assert_eq!(std::fs::read(&copy).unwrap(), original);

    s.click("[data-testid=next]");
    s.wait_for("[data-testid=step-choose]");
    s.screenshot("install-2-choose");
    app.dialog_answers(&app.path("samples/renewal.lic"));
    s.click("[data-testid=choose-file]");
    s.wait_for("[data-testid=step-check]");
    for id in [
        "format",
        "signature",
        "contents",
        "dates",
        "serial_number",
        "activation_code",
        "environment_type",
        "downgrade",
    ] {
        assert_eq!(app.check_status(id), "pass", "check {id}");
    }
    let users = s.wait_for("[data-testid=differences] [data-field=named_users]");
    assert!(s.text(&users).contains("100") && s.text(&users).contains("150"));
    // One way of writing dates in the report: day, month, year and time, in the
    // heading, the checks and "What changes" alike.
    let parts = s.script(
        "return [...document.querySelectorAll('[data-testid=step-check] :is(h2, [data-check] .message, [data-testid=differences] td)')].map((e) => e.textContent);",
        json!([]),
    );
    let report: Vec<&str> = parts.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    let report = report.join(" | ");
    let date = regex_lite::Regex::new(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b(, \d{2}:\d{2})?").unwrap();
    let dates: Vec<&str> = date.find_iter(&report).map(|m| m.as_str()).collect();
    assert!(dates.len() >= 5 && dates.iter().all(|d| d.contains(':')), "{dates:?} in {report}");
    s.screenshot("install-3-checks");

    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    s.screenshot("install-5-done");
    assert_eq!(app.license(), app.sample("renewal.lic"));
    assert_eq!(app.backups(), vec![original.clone()], "the old license was backed up first");

    // "Save report…": a one-page record for change management.
    let report = app.path("change.html");
    app.dialog_answers(&report);
    s.click("[data-testid=save-report]");
    let said = s.wait_text("[data-testid=report-saved]", |t| !t.is_empty());
    assert!(said.contains(&format!("saved to {}", report.display())), "{said}");
    let html = std::fs::read_to_string(&report).unwrap();
    for part in [
        "License change record",
        "Install of a new license",
        "<th>Before</th>",
        "<th>After</th>",
        "Checks before the change",
        "What changed",
        "Backup taken first",
        "<th>By</th>",
    ] {
        assert!(html.contains(part), "report lacks {part}");
    }
    assert!(!html.contains("<th>By</th><td>unknown</td>"), "the OS user is named");
    let named_users = regex_lite::Regex::new(r"<th>Named users</th><td>100</td><td>150</td>").unwrap();
    assert!(named_users.is_match(&html), "the differences are in the report");

    s.click("[data-testid=restore-previous]");
    s.wait_for("[data-testid=restored]");
    assert_eq!(app.license(), original);
}

#[test]
fn a_license_for_another_serial_is_refused_and_nothing_changes() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.choose_sample("wrong-serial.lic");
    assert_eq!(app.check_status("serial_number"), "fail");
    let ours = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    s.wait_for("[data-testid=refused]");
    assert!(!s.exists("[data-testid=install-button]"), "no way to install a refused file");
    // Both serials side by side, the differing groups marked, and the way forward.
    assert_eq!(s.wait_text("[data-testid=this-serial]", |t| !t.is_empty()), ours);
    let theirs = s.wait_text("[data-testid=license-serial]", |t| !t.is_empty());
    assert_ne!(theirs, ours);
    let differing = ours.split('-').zip(theirs.split('-')).filter(|(a, b)| a != b).count();
    assert!(differing > 0);
    assert_eq!(s.find_all("[data-testid=license-serial] .differs").len(), differing);
    assert_eq!(s.find_all("[data-testid=this-serial] .differs").len(), differing);
    s.wait_for("[data-testid=copy-this-serial]");
    // The verdict comes first: the refusal stands above the checks.
    let first = s.script(
        "return !!(document.querySelector('[data-testid=refused]').compareDocumentPosition(document.querySelector('[data-testid=checks]')) & Node.DOCUMENT_POSITION_FOLLOWING);",
        json!([]),
    );
    assert_eq!(first, json!(true), "the refusal is stated above the checks");
    s.screenshot("install-refused");
    assert_eq!(app.license(), original);
    assert!(app.backups().is_empty());
    s.click("[data-testid=request-for-serial]");
    s.wait_for("[data-testid=request]");
}

#[test]
fn pasted_tampered_text_fails_the_signature_check() {
    let app = App::open();
    let s = &app.session;
    app.nav("install");
    s.click("[data-testid=next]");
    // A paste delivers the whole text, line breaks included, as one input event;
    // WebDriver's key typing would drop the line breaks, so paste the same way.
    let text = String::from_utf8(app.sample("tampered.lic")).unwrap();
    s.script(
        "const t = document.querySelector('[data-testid=paste]'); t.value = arguments[0]; t.dispatchEvent(new Event('input', {bubbles: true}));",
        json!([text]),
    );
    s.click("[data-testid=check-pasted]");
    s.wait_for("[data-testid=step-check]");
    assert_eq!(app.check_status("signature"), "fail");
    assert_eq!(app.check_status("dates"), "skipped");
    let sig = s.wait_for("[data-check=signature]");
    assert_eq!(s.attr(&sig, "data-code").as_deref(), Some("bad_signature"));
    assert!(s.wait_text("[data-check=signature] .message", |t| !t.is_empty()).contains("altered after it was signed"));
    s.wait_for("[data-testid=next-step]");
    // A check skipped after an earlier failure says so; it is not "unknown here".
    for check in ["dates", "serial_number", "environment_type"] {
        let said = s.wait_text(&format!("[data-check={check}] .message"), |t| !t.is_empty());
        assert_eq!(said, "Skipped: an earlier check failed.", "{check}");
    }
}

/// Text that is no license at all is "not a license file", not "cut or edited".
#[test]
fn text_that_is_no_license_is_named_so() {
    let app = App::open();
    let s = &app.session;
    app.nav("install");
    s.click("[data-testid=next]");
    s.script(
        "const t = document.querySelector('[data-testid=paste]'); t.value = arguments[0]; t.dispatchEvent(new Event('input', {bubbles: true}));",
        json!(["Dear administrator, please find the license attached."]),
    );
    s.click("[data-testid=check-pasted]");
    s.wait_for("[data-testid=step-check]");
    let format = s.wait_for("[data-check=format]");
    assert_eq!(s.attr(&format, "data-code").as_deref(), Some("not_a_document"));
    let said = s.wait_text("[data-check=format] .message", |t| !t.is_empty());
    assert_eq!(said, "Not a license file.");
}

#[test]
fn a_warning_must_be_accepted_before_installing() {
    let app = App::open();
    let s = &app.session;
    app.choose_sample("other-subscription.lic");
    assert_eq!(app.check_status("activation_code"), "warn");
    // The way forward when the environment should stay in its subscription.
    assert!(s
        .wait_text("[data-testid=next-step]", |t| !t.is_empty())
        .contains("moves the environment from subscription"));
    s.wait_for("[data-testid=request-for-serial]");
    let install = s.wait_for("[data-testid=install-button]");
    assert!(!s.enabled(&install), "install is disabled until the warning is accepted");
    s.click("[data-testid=accept]");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert_eq!(app.license(), app.sample("other-subscription.lic"));
}

#[test]
fn backups_page_backs_up_restores_and_exports() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.nav("backups");
    s.wait_for("[data-testid=no-backups]");
    s.click("[data-testid=backup-now]");
    s.wait_for("[data-testid=backup-list] tr[data-backup]");
    assert_eq!(app.backups(), vec![original.clone()]);

    // Change the license behind the app's back, then roll back from the page.
    let renewal = app.sample("renewal.lic");
    std::fs::write(app.path("license.lic"), &renewal).unwrap();
    s.click("[data-action=restore]");
    s.wait_for("[data-testid=restore-review]");
    s.screenshot("backups");
    if s.exists("[data-testid=accept-restore]") {
        s.click("[data-testid=accept-restore]");
    }
    s.click("[data-testid=confirm-restore]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Restored"));
    assert_eq!(app.license(), original);
    assert!(app.backups().contains(&renewal), "the replaced license was backed up");

    let exported = app.path("exported.lic");
    app.dialog_answers(&exported);
    let row = s.find_all("[data-backup]").len();
    assert!(row >= 1);
    s.click("[data-action=export]");
    let said = s.wait_text("[data-testid=notice]", |t| t.contains("Exported"));
    assert_eq!(said, format!("Exported a copy to {}.", exported.display()));
    assert!(app.backups().contains(&std::fs::read(&exported).unwrap()));
}

#[test]
fn settings_save_the_configuration_and_keep_the_token_in_the_keyring() {
    let app = App::open();
    let s = &app.session;
    app.nav("settings");
    s.type_into("[data-field=name]", "Production EU");
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    let config = std::fs::read_to_string(app.path("environment.toml")).unwrap();
    assert!(config.contains("name = \"Production EU\""), "{config}");
    // The demo's paths were written relative to its folder, and stay so.
    for kept in ["license_file = \"license.lic\"", "backup_dir = \"backups\"", "facts_file = \"facts.txt\""] {
        assert!(config.contains(kept), "{kept} in {config}");
    }

    // A bad value is refused with the fix, and the file is unchanged.
    s.type_into("[data-field=portal_url]", "ftp://portal");
    s.click("[data-testid=save-settings]");
    let err = s.wait_for("[data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("bad_portal_url"));
    assert!(s.wait_text("[data-testid=error]", |t| !t.is_empty()).contains("https://"));
    assert_eq!(std::fs::read_to_string(app.path("environment.toml")).unwrap(), config);
    // The wrong setting is named next to its own field, and only there.
    let field = s.wait_for("[data-testid=field-error]");
    assert_eq!(s.attr(&field, "data-setting").as_deref(), Some("portal_url"));
    assert_eq!(s.find_all("[data-testid=field-error]").len(), 1);
    let input = s.wait_for("[data-field=portal_url]");
    assert_eq!(s.attr(&input, "aria-invalid").as_deref(), Some("true"));
    // A license file that is a folder: named next to the license file's field.
    s.type_into("[data-field=portal_url]", "https://portal.example.com");
    s.type_into("[data-field=license_file]", app.path("samples").to_str().unwrap());
    s.click("[data-testid=save-settings]");
    let said = s.wait_text("[data-testid=field-error][data-setting=license_file]", |t| !t.is_empty());
    assert_eq!(said, "This is a folder: name the license file itself.");
    let title = s.wait_text("[data-testid=error-title]", |t| !t.is_empty());
    assert_eq!(title, "The setting “License file” is not valid.");
    assert_eq!(std::fs::read_to_string(app.path("environment.toml")).unwrap(), config);
    s.type_into("[data-field=license_file]", app.path("license.lic").to_str().unwrap());

    // The token goes to the OS keyring only. A unique portal URL keeps runs apart.
    let portal = format!("http://127.0.0.1:{}", 20000 + std::process::id() % 10000);
    // Typed with a trailing slash: the token must still be stored under the one
    // normalised address every lookup uses (it was stored under the raw text).
    // The portal is a trust change too: the native dialog confirms it.
    std::fs::write(&app.dialog, "confirm").unwrap();
    s.type_into("[data-field=portal_url]", &format!("{portal}/"));
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    let shown = std::fs::read_to_string(app.path("dialog-answer.shown")).unwrap();
    assert!(shown.contains(&format!("→ {portal}")), "{shown}");

    // What the environment trusts changes only after a native confirmation that
    // shows the change (keys by id, the proxy's password hidden); declined, nothing.
    let before = std::fs::read_to_string(app.path("environment.toml")).unwrap();
    let keys = license_core::environment::Config::read(&app.path("environment.toml")).unwrap().vendor_keys;
    let new_key = license_core::KeyPair::generate().public();
    s.type_into("[data-field=vendor_keys]", &format!("{}\u{E007}{}", keys.join("\u{E007}"), new_key.to_base64url()));
    s.type_into("[data-field=proxy]", "http://admin:pw-9f2@127.0.0.1:3128");
    std::fs::write(&app.dialog, "").unwrap();
    s.click("[data-testid=save-settings]");
    let err = s.wait_for("[data-testid=error]");
    let said = s.text(&err);
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("not_confirmed"), "{said}");
    assert_eq!(std::fs::read_to_string(app.path("environment.toml")).unwrap(), before, "declined: unchanged");
    let shown = std::fs::read_to_string(app.path("dialog-answer.shown")).unwrap();
    assert!(shown.contains(&format!("Trust a new vendor key: {}", new_key.kid())), "{shown}");
    assert!(
        shown.contains("Proxy: the system's → http://admin:****@127.0.0.1:3128") && !shown.contains("pw-9f2"),
        "{shown}"
    );
    std::fs::write(&app.dialog, "confirm").unwrap();
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    let after = license_core::environment::Config::read(&app.path("environment.toml")).unwrap();
    assert!(after.vendor_keys.contains(&new_key.to_base64url()) && after.proxy.is_some());
    std::fs::write(&app.dialog, "").unwrap();
    let token = format!("secret-token-{}", uuid_like());
    s.type_into("[data-testid=token]", &token);
    s.click("[data-testid=store-token]");
    s.wait_text("[data-testid=token-state]", |t| t.starts_with("A token"));
    s.screenshot("settings");
    let entry = keyring::Entry::new("license-manager", &portal).unwrap();
    // The Secret Service may show a new item to a second D-Bus client a moment
    // after the writer saw it stored; wait a bounded time for it.
    let stored = until(
        Duration::from_secs(5),
        || entry.get_password().ok(),
        || format!("the token is not in the keyring: {:?}", entry.get_password()),
    );
    assert_eq!(stored, token);
    assert!(!s.page_text().contains(&token), "the token is never shown back");
    for f in license_test_support::files_under(app.dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "token written to {}", f.display());
    }
    s.click("[data-testid=remove-token]");
    s.wait_text("[data-testid=token-state]", |t| t.contains("No token"));
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
}

#[test]
fn without_configuration_the_app_offers_the_demo() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().as_os_str();
    let driver =
        Driver::start(&[("HOME", h), ("XDG_CONFIG_HOME", h), ("XDG_DATA_HOME", h)], &["LICENSE_MANAGER_CONFIG"]);
    let s = driver.session(&[]);
    s.wait_for("[data-testid=welcome]");
    let e = s.wait_for("[data-testid=start-error]");
    assert_eq!(s.attr(&e, "data-code").as_deref(), Some("no_environment"));
    assert!(s.text(&e).contains("no environment set up yet"));
    s.screenshot("welcome");
    s.click("[data-testid=open-demo]");
    s.wait_for("[data-testid=overview]");
    assert!(!s.wait_text("[data-testid=serial]", |t| !t.is_empty()).is_empty());
}

#[test]
fn the_webview_gets_only_our_commands_and_a_strict_csp() {
    let app = App::open();
    let s = &app.session;
    // No global Tauri object, and a plugin command outside the capability is refused.
    assert_eq!(s.script("return typeof window.__TAURI__", json!([])), json!("undefined"));
    let r = s.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('plugin:fs|read_text_file', {path: '/etc/passwd'}).then(() => done('allowed'), (e) => done('refused: ' + e));",
        json!([]),
    );
    assert!(r.as_str().unwrap().starts_with("refused"), "{r}");
    // Our own command works through the same door.
    let r = s.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('list_backups').then((v) => done('ok ' + v.length), (e) => done('refused: ' + e));",
        json!([]),
    );
    assert_eq!(r, json!("ok 0"));
    // Inline scripts and styles are blocked by the CSP.
    let r = s.script(
        "const el = document.createElement('script'); el.textContent = 'window.__inline = 1'; document.body.appendChild(el); \
         const d = document.createElement('div'); d.setAttribute('style', 'width: 123px'); document.body.appendChild(d); \
         return [typeof window.__inline, d.getBoundingClientRect().width === 123];",
        json!([]),
    );
    assert_eq!(r, json!(["undefined", false]));
}

/// A portal that signs with the demo's vendor key and knows the demo's subscription
/// (one production slot), with a token that may do everything.
fn portal_for_demo(dir: &Path) -> (license_test_support::TestPortal, String, license_core::ActivationCode) {
    use license_test_support::{TestPortal, ALL};
    let portal = TestPortal::start(&dir.join("vendor.key"));
    let code =
        license_core::Environment::open(&dir.join("environment.toml")).unwrap().installed_activation_code().unwrap();
    portal.subscription(&code, vec![(license_core::EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    (portal, token, code)
}

/// Points the demo's configuration at `url` instead of the demo's own portal.
fn point_at(dir: &Path, url: &str) {
    let cfg = dir.join("environment.toml");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("http://127.0.0.1:8787", url);
    std::fs::write(&cfg, text).unwrap();
}

/// The demo on a fresh reference portal that knows its subscription ([`portal_for_demo`]),
/// the token given in `LICENSE_MANAGER_TOKEN`; `prepare` sets the portal up first.
fn open_on_portal(
    prepare: impl FnOnce(&Path, &license_test_support::TestPortal, &license_core::ActivationCode, &str),
) -> (App, license_test_support::TestPortal) {
    let state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, code) = portal_for_demo(dir);
        prepare(dir, &portal, &code, &token);
        point_at(dir, &portal.url);
        *state.borrow_mut() = Some(portal);
        vec![("LICENSE_MANAGER_TOKEN", token)]
    });
    (app, state.into_inner().unwrap())
}

/// The portal's only slot was freed while another server's license in it is still
/// valid: reusing it needs a stated reason.
fn freed_with_a_valid_license(portal: &license_test_support::TestPortal) {
    portal
        .portal
        .db()
        .execute(
            "INSERT INTO licenses (license_id, serial_number, activation_code, issued_at, slot_id, expires_at, revoked_at)
             SELECT 'freed-license', 'AAAAA-BBBBB-CCCCC-DDDDD', activation_code, '2026-01-01T00:00:00Z', id,
                    '2099-01-01T00:00:00Z', '2026-06-01T00:00:00Z' FROM slots",
            [],
        )
        .unwrap();
}

/// The reason the portal recorded for the registration.
fn registered_reason(portal: &license_test_support::TestPortal) -> String {
    let db = portal.portal.db();
    db.query_row("SELECT reason FROM slot_events WHERE event = 'registered'", [], |r| r.get(0)).unwrap()
}

#[test]
fn request_online_then_audit_upload_through_the_real_portal() {
    let (app, portal) = open_on_portal(|dir, portal, _, token| {
        // The only slot was freed while the license of a server in it is still valid.
        freed_with_a_valid_license(portal);
        std::fs::write(dir.join("token-given"), token).unwrap();
    });
    let s = &app.session;
    webkit_never_inherits_the_token(&app);

    // Online request: register, download, continue in the install wizard.
    app.nav("request");
    // Before anything is sent: what is registered where, and the subscription's slots.
    let summary = s.wait_text("[data-testid=request-summary]", |t| t.contains("→") && t.contains("("));
    let serial = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    assert!(summary.contains(&serial) && summary.contains("Production"), "{summary}");
    s.wait_for("[data-testid=request-slots] tr[data-serial=free][data-slot-type=production]");
    s.wait_for("[data-testid=send-to-contacts]");
    s.screenshot("request");
    // Reusing a slot freed while its license is valid needs a stated reason.
    s.click("[data-testid=register]");
    let err = s.wait_for("[data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("portal_reason_required"));
    s.type_into("[data-field=reason]", "the server was rebuilt");
    s.click("[data-testid=register]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Registered"));
    assert_eq!(registered_reason(&portal), "the server was rebuilt");
    s.wait_for(&format!("[data-testid=request-slots] tr[data-serial='{serial}']"));
    s.wait_for("[data-testid=registered]");
    s.click("[data-testid=download]");
    s.wait_for("[data-testid=step-check]");
    let users = s.wait_for("[data-testid=differences] [data-field=named_users]");
    assert!(s.text(&users).contains("200"));
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");

    // Audit: preview, save a copy for another machine, upload, history.
    app.nav("audit");
    assert_eq!(s.wait_text("[data-metric=named_users] td", |t| !t.is_empty()), "87");
    s.click("[data-testid=generate-audit]");
    s.wait_text("[data-testid=outbox]", |t| t.starts_with("1 "));
    let copy = app.path("carried.audit");
    app.dialog_answers(&copy);
    s.click("[data-testid=save-audit]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    assert!(std::fs::read_to_string(&copy).unwrap().starts_with("-----BEGIN LICENSE AUDIT-----"));
    s.click("[data-testid=upload-now]");
    s.wait_for("[data-testid=history] tr[data-status=verified]");
    // The portal's signed receipt was kept and verifies with the vendor key.
    s.wait_text("[data-testid=history] tr[data-status=verified] [data-testid=receipt]", |t| t == "receipt verified");
    s.screenshot("audit");
    assert!(!s.exists("[data-testid=not-registered]"), "registered: no warning");
    // The overview's "last audit upload" is the history's newest line.
    let newest = s.wait_for("[data-testid=history] tbody tr:first-child time");
    let newest = s.attr(&newest, "datetime").unwrap();
    app.nav("overview");
    let last = s.wait_for("[data-testid=last-upload] time");
    assert_eq!(s.attr(&last, "datetime").unwrap(), newest);
    assert!(s.text(&s.wait_for("[data-testid=last-upload]")).ends_with("· verified"));
    app.nav("audit");
    let n: i64 = portal.count("SELECT COUNT(*) FROM audits WHERE status = 'verified'");
    assert_eq!(n, 1);
    assert!(s.wait_text("[data-testid=outbox]", |t| t.starts_with("0 ")).starts_with("0 "));

    // Settings says where the token comes from: the environment, not the keyring,
    // and offers no "Remove" for a token it does not keep.
    app.nav("settings");
    let said = s.wait_text("[data-testid=token-state]", |t| !t.is_empty());
    assert!(said.starts_with("The token comes from LICENSE_MANAGER_TOKEN"), "{said}");
    assert!(!s.enabled(&s.wait_for("[data-testid=remove-token]")));
}

/// The app was started with LICENSE_MANAGER_TOKEN; WebKit's web and network
/// processes, which the window starts, must not have it in their environment.
fn webkit_never_inherits_the_token(app: &App) {
    app.session.wait_for("[data-testid=overview]");
    let token = std::fs::read_to_string(app.path("token-given")).unwrap();
    let mut webkit = 0;
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("WebKit") || comm.starts_with("WebKitWebDriver") {
            continue;
        }
        let Ok(environ) = std::fs::read(p.path().join("environ")) else { continue };
        webkit += 1;
        let text = String::from_utf8_lossy(&environ);
        assert!(!text.contains(token.trim()), "{} ({}) inherited the portal token", comm.trim(), p.path().display());
        assert!(!text.contains("LICENSE_MANAGER_TOKEN="), "{} has LICENSE_MANAGER_TOKEN", comm.trim());
    }
    assert!(webkit > 0, "no WebKit process found to look at");
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

#[test]
fn across_the_air_gap_a_workstation_processes_the_file_and_the_environment_installs_its_license() {
    use license_core::transfer::Transfer;
    let state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, code) = portal_for_demo(dir);
        license_core::Environment::open(&dir.join("environment.toml")).unwrap().generate_audit().unwrap();
        *state.borrow_mut() = Some((portal, token, code));
        vec![]
    });
    let (portal, token, code) = state.borrow_mut().take().unwrap();
    let s = &app.session;
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");

    // This environment: its audit and a license request into the transfer file.
    app.nav("transfer-here");
    app.dialog_answers(&file);
    s.click("[data-testid=add-to-transfer]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Added 1 audit and a license request."));

    // A connected workstation, started with no configuration at all (one window at
    // a time: the environment's is closed meanwhile, its files stay).
    let dir = app.close();
    let home = tempfile::tempdir().unwrap();
    let answer = home.path().join("dialog-answer");
    std::fs::write(&answer, file.to_str().unwrap()).unwrap();
    let (driver, w) = start_workstation(home.path(), &[], &["LICENSE_MANAGER_TOKEN"]);
    // Not set up yet: a next step, not a red error before anything was done.
    w.wait_for("[data-testid=setup-first]");
    assert!(!w.exists("[data-testid=error]"), "no error before any action");
    w.click("[data-nav=ws-settings]");
    w.wait_for("[data-testid=workstation-settings]");
    w.type_into("[data-field=ws-portal-url]", &portal.url);
    w.type_into("[data-field=ws-activation-code]", &code.to_string());
    // The portal the workstation trusts is set only through the native dialog.
    std::fs::write(&answer, "").unwrap();
    w.click("[data-testid=save-workstation]");
    assert_eq!(w.attr(&w.wait_for("[data-testid=error]"), "data-code").as_deref(), Some("not_confirmed"));
    std::fs::write(&answer, "confirm").unwrap();
    w.click("[data-testid=save-workstation]");
    w.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    std::fs::write(&answer, file.to_str().unwrap()).unwrap();
    w.type_into("[data-testid=ws-token]", &token);
    w.click("[data-testid=ws-store-token]");
    w.wait_text("[data-testid=ws-token-state]", |t| t.starts_with("A token"));
    w.click("[data-nav=infrastructure]");
    w.wait_for("[data-testid=slots] [data-serial=free]");
    w.screenshot("workstation-infrastructure");
    w.click("[data-nav=transfer]");
    w.wait_for("[data-testid=transfer]");
    w.click("[data-testid=open-transfer]");
    w.wait_for("[data-testid=transfer-environments] [data-serial]");
    let carries = || w.wait_text("[data-testid=transfer-environments] tbody tr td:nth-child(2)", |t| !t.is_empty());
    assert_eq!(carries(), "1 audit, a license request");

    // A slow portal: Cancel is offered while the work runs, and stops it.
    portal.faults(vec![license_portal::faults::Fault::Delay { ms: 5000 }]);
    w.click("[data-testid=process]");
    until(
        Duration::from_secs(10),
        || (portal.pending_faults() == 0).then_some(()),
        || "the portal was not reached".into(),
    );
    w.click("[data-testid=cancel]");
    let err = w.wait_for("[data-testid=error]");
    assert_eq!(w.attr(&err, "data-code").as_deref(), Some("cancelled"));
    // A portal that refuses everything: the summary says nothing was done, in red,
    // above the per-item results.
    portal.faults((0..60).map(|_| license_portal::faults::Fault::Status { status: 500, retry_after: None }).collect());
    w.click("[data-testid=process]");
    let problem = w.wait_text("[data-testid=problem]", |t| !t.is_empty());
    assert!(
        problem.starts_with(
            "Nothing was done: 1 item failed. 1 audit held back until its environment's license request succeeds."
        ),
        "{problem} / {}",
        w.wait_text("[data-testid=transfer-environments] [data-testid=result]", |_| true)
    );
    assert!(!w.exists("[data-testid=notice]"), "no success line beside it");
    let above = w.script(
        "return !!(document.querySelector('[data-testid=problem]').compareDocumentPosition(document.querySelector('[data-testid=transfer-environments]')) & Node.DOCUMENT_POSITION_FOLLOWING);",
        json!([]),
    );
    assert_eq!(above, json!(true), "the summary sits above the per-item results");
    while portal.portal.faults.as_ref().unwrap().next(license_portal::faults::Applies::Post).is_some() {}

    // The only slot was freed while its last license is still valid: the portal asks
    // why it is reused, and the request's result line asks the administrator.
    freed_with_a_valid_license(&portal);
    w.click("[data-testid=process]");
    w.wait_for("[data-testid=reason-needed]");
    assert!(!w.enabled(&w.wait_for("[data-testid=process-with-reason]")), "not without a reason");
    w.type_into("[data-field=reason]", "the server was rebuilt");
    w.click("[data-testid=process-with-reason]");
    // The demo's license was not issued by this portal, so its audit is rejected:
    // red, with the portal's reason and the next step, never "everything is done".
    let problem = w.wait_text("[data-testid=problem]", |t| !t.is_empty());
    assert!(problem.contains("The portal rejected 1 audit"), "{problem}");
    assert!(!w.exists("[data-testid=notice]"), "no success line beside it");
    let why = w.wait_text("[data-testid=rejected-why]", |t| !t.is_empty());
    assert!(
        why.contains("was not issued to serial") && why.contains(". Install the license the portal issued"),
        "{why}"
    );
    let result = w.wait_text("[data-testid=transfer-environments] [data-testid=result]", |t| !t.is_empty());
    assert!(result.contains("Audit: rejected by the portal") && !result.contains("done (rejected)"), "{result}");
    assert_eq!(registered_reason(&portal), "the server was rebuilt");
    w.screenshot("workstation-transfer");
    // The "Carries" column shows what came back, and the result names the slot, the
    // name registered (the environment's, not its host name) and the expiry.
    assert_eq!(carries(), "1 audit, a license request, a license, 1 receipt");
    let issued = w.wait_text("[data-testid=issued]", |t| !t.is_empty());
    assert!(
        issued.starts_with("— registered as “Demo production” in a Production slot; its license is valid until "),
        "{issued}"
    );
    let name: String = portal
        .portal
        .db()
        .query_row("SELECT name FROM slots WHERE serial_number IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Demo production");
    // A single request file, turned into its license by the workstation (which has
    // no environment). The test's one dialog answer serves both dialogs: the request
    // file is chosen, and the license is saved over it.
    let single = home.path().join("single.lreq");
    let request =
        license_core::Environment::open(&dir.path().join("environment.toml")).unwrap().license_request(None).unwrap();
    std::fs::write(&single, request.text).unwrap();
    std::fs::write(&answer, single.to_str().unwrap()).unwrap();
    w.click("[data-testid=fulfil]");
    w.wait_text("[data-testid=single-request] [data-testid=notice]", |t| t.contains("license file was saved"));
    assert!(std::fs::read_to_string(&single).unwrap().starts_with("-----BEGIN LICENSE FILE-----"));
    // "Free…" names the environment and what freeing does, and can be declined.
    w.click("[data-nav=infrastructure]");
    w.click("[data-testid=free]");
    let consequence = w.wait_text("[data-testid=free-consequence]", |t| !t.is_empty());
    assert!(consequence.contains("Demo production") && consequence.contains("revokes its license"), "{consequence}");
    assert_eq!(w.wait_text("[data-testid=confirm-free]", |t| !t.is_empty()), "Free the slot of Demo production");
    w.click("[data-testid=keep-slot]");
    drop(w);
    drop(driver);
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1);
    let app = App::reopen(dir);
    let s = &app.session;
    let serial =
        license_core::Environment::open(&app.path("environment.toml")).unwrap().serial().unwrap().serial_number;
    let license =
        Transfer::read(&file, None).unwrap().papers(&serial).unwrap().license.clone().expect("a license came back");

    // Back on the environment: open the file, install the license through the wizard.
    let before = app.license();
    app.open_transfer_here(&file);
    s.wait_for("[data-testid=receipts]");
    s.screenshot("transfer-here");
    s.click("[data-testid=record-receipts]");
    let problem = s.wait_text("[data-testid=problem]", |t| t.contains("1 audit moved"));
    assert!(
        problem.contains("the portal rejected 1") && problem.contains("Install the license the portal issued"),
        "{problem}"
    );
    // The Overview says the same of the last audit: red, why, and what to do.
    app.nav("overview");
    s.wait_for("[data-testid=last-upload][data-status=rejected] span.bad");
    let why = s.wait_text("[data-testid=audit-reasons]", |t| !t.is_empty());
    assert!(why.contains("was not issued to serial"), "{why}");
    let next = s.wait_text("[data-testid=audit-next-step]", |t| !t.is_empty());
    assert!(next.starts_with("Install the license the portal issued"), "{next}");
    app.open_transfer_here(&file);
    s.click("[data-testid=install-from-transfer]");
    s.wait_for("[data-testid=step-check]");
    assert_eq!(s.wait_text("[data-testid=candidate-from]", |t| !t.is_empty()), "From the transfer file");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert_eq!(app.license(), license, "the license from the transfer file is installed");
    assert!(app.backups().contains(&before), "after a backup of the previous one");
    let env = license_core::Environment::open(&app.path("environment.toml")).unwrap();
    assert!(env.outbox().unwrap().is_empty());
    assert!(env.merge_history(None).iter().all(|h| h.receipt_verified));
}

/// A sample's serial number (a real, valid one that is not this environment's).
fn serial_of_sample(app: &App, sample: &str) -> String {
    let env = license_core::Environment::open(&app.path("environment.toml")).unwrap();
    env.check(&app.sample(sample)).unwrap().license.unwrap().serial_number.to_string()
}

#[test]
fn the_request_page_shows_the_slots_and_decides_by_error_code() {
    use license_test_support::{Permission, TestPortal};
    let setup = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let portal = TestPortal::start(&dir.join("vendor.key"));
        let code = license_core::Environment::open(&dir.join("environment.toml"))
            .unwrap()
            .installed_activation_code()
            .unwrap();
        portal.subscription(&code, vec![(license_core::EnvironmentType::Production, 1)]);
        // This token may register and send, but not download.
        let token = portal.token(&code, &[Permission::Read, Permission::Register, Permission::SendLicense]);
        point_at(dir, &portal.url);
        *setup.borrow_mut() = Some((portal, token.clone(), code));
        vec![("LICENSE_MANAGER_TOKEN", token)]
    });
    let s = &app.session;
    let (portal, token, code) = setup.borrow_mut().take().unwrap();
    // The one production slot is held by an environment that no longer exists.
    let old = serial_of_sample(&app, "wrong-serial.lic");
    let slots = format!("{}/api/v1/subscriptions/{code}/environments", portal.url);
    ureq::post(&slots)
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"serial_number": old, "environment_type": "production", "name": "Old production"}))
        .unwrap();

    app.nav("request");
    // Before registering, the page says no production slot is free, and how to free one.
    s.wait_for(&format!("[data-testid=request-slots] tr[data-serial='{old}']"));
    assert!(s.wait_text("[data-testid=no-free-slot]", |t| !t.is_empty()).contains("Free one first"));
    // Sending to the contacts is offered from the start, not only after a failure.
    s.wait_for("[data-testid=send-to-contacts]");
    s.click("[data-testid=register]");
    let err = s.wait_for("[data-testid=online] [data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("portal_no_free_slot"));
    s.wait_for("[data-testid=how-to-free]");

    // Freed on the portal: register now works, and the slot shows it.
    ureq::delete(&format!("{slots}/{old}")).set("Authorization", &format!("Bearer {token}")).call().unwrap();
    s.click("[data-testid=look-up]");
    s.wait_for("[data-testid=request-slots] tr[data-serial=free]");

    // A slow portal: the call shows a spinner and can be cancelled; trying again works.
    // Had Cancel not worked, the call would succeed after the delay and no error show.
    portal.faults(vec![license_portal::faults::Fault::Delay { ms: 10_000 }]);
    s.click("[data-testid=register]");
    s.wait_for("[data-testid=online] [data-testid=working]");
    s.click("[data-testid=online] [data-testid=cancel]");
    let err = s.wait_for("[data-testid=online] [data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("cancelled"));
    assert!(!s.exists("[data-testid=online] [data-testid=working]"));
    // Registered, but the subscription cannot be read again just after: one red
    // result that says both, never a green success beside a red error.
    portal.get_faults(vec![license_portal::faults::Fault::Status { status: 404, retry_after: None }]);
    s.click("[data-testid=register]");
    let problem = s.wait_text("[data-testid=online] [data-testid=problem]", |t| !t.is_empty());
    assert!(
        problem.starts_with("Registered in a Production slot. But the subscription could not be read again:"),
        "{problem}"
    );
    for other in
        ["[data-testid=online] [data-testid=notice]", "[data-testid=subscription-error]", "[data-testid=error]"]
    {
        assert!(!s.exists(other), "{other} beside the result");
    }
    s.wait_for("[data-testid=registered]");
    s.click("[data-testid=look-up]");
    s.wait_for("[data-testid=request-slots] tr td .badge.ok");

    // Download refused by the token's permissions (403 → portal_forbidden): the page
    // points to sending the license to the contacts, which works.
    s.click("[data-testid=download]");
    let err = s.wait_for("[data-testid=online] [data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("portal_forbidden"));
    s.wait_for("[data-testid=may-not-download]");
    s.click("[data-testid=send-to-contacts]");
    s.wait_text("[data-testid=online] [data-testid=notice]", |t| t.contains("sent the license"));
}

#[test]
fn a_license_dropped_on_any_page_opens_the_wizard_at_its_checks() {
    let app = App::open_with(|dir| {
        let drops = dir.join("drops");
        std::fs::write(&drops, "").unwrap();
        vec![("LICENSE_MANAGER_TEST_DROP", drops.to_str().unwrap().to_string())]
    });
    let s = &app.session;
    let drop = |line: String| std::fs::write(app.path("drops"), line).unwrap();
    for page in ["backups", "audit"] {
        app.nav(page);
        // While a file is dragged over the window, a drop zone shows on any page.
        drop("enter".into());
        s.wait_for("[data-testid=drop-overlay]");
        drop(format!("drop {}", app.path("samples/renewal.lic").display()));
        s.wait_for("[data-testid=step-check]");
        assert!(!s.exists("[data-testid=drop-overlay]"));
        assert_eq!(app.check_status("serial_number"), "pass");
        s.wait_for("[data-testid=install-button]");
    }
    assert_ne!(
        app.license(),
        app.sample("renewal.lic"),
        "a drop only checks; installing is the administrator's choice"
    );
}

/// Every page of both roles, in the light and the dark theme, has no serious or
/// critical axe-core violation (WCAG 2.2 AA contrast, names, roles, keyboard).
#[test]
fn every_page_passes_axe_in_both_themes() {
    let app = App::open();
    let s = &app.session;
    // The checker itself: an unnamed button and grey-on-grey text must be reported.
    s.script(
        "const b = document.createElement('button'); b.id = 'axe-probe'; document.querySelector('main').appendChild(b); \
         const p = document.createElement('p'); p.id = 'axe-probe-text'; p.textContent = 'faint'; p.style.color = '#999'; p.style.background = '#aaa'; document.querySelector('main').appendChild(p);",
        json!([]),
    );
    let probe = s.axe_serious().join("\n");
    assert!(probe.contains("button-name") && probe.contains("color-contrast"), "axe did not run: {probe}");
    s.script(
        "document.getElementById('axe-probe').remove(); document.getElementById('axe-probe-text').remove();",
        json!([]),
    );
    let mut found = Vec::new();
    let mut check = |where_: &str, s: &Session| {
        found.extend(s.axe_serious().into_iter().map(|v| format!("{where_}: {v}")));
    };
    for theme in ["light", "dark"] {
        s.set_theme(theme);
        for page in ["overview", "install", "backups", "request", "audit", "transfer-here", "settings"] {
            app.nav(page);
            s.wait_for("main h1");
            check(&format!("{theme} {page}"), s);
        }
        // The states with most to say: a refused license, the details opened. The
        // second time round, the refused file is still the one being checked.
        if theme == "light" {
            app.choose_sample("wrong-serial.lic");
        } else {
            app.nav("install");
        }
        s.wait_for("[data-testid=serial-compare]");
        s.click("[data-testid=check-details] summary");
        check(&format!("{theme} install, refused"), s);
        app.nav("overview");
        s.click("[data-testid=toggle-qr]");
        s.wait_for("[data-testid=serial-qr] svg");
        check(&format!("{theme} overview with QR code"), s);
    }
    s.screenshot("overview-dark");
    drop(app.close());

    // The workstation's pages and the welcome page, in a home with no configuration.
    let home = tempfile::tempdir().unwrap();
    let h = home.path().as_os_str();
    let ws = home.path().join("workstation.toml");
    let driver = Driver::start(
        &[("HOME", h), ("XDG_CONFIG_HOME", h), ("XDG_DATA_HOME", h), ("LICENSE_MANAGER_WORKSTATION", ws.as_os_str())],
        &["LICENSE_MANAGER_CONFIG", "LICENSE_MANAGER_TOKEN"],
    );
    let w = driver.session(&["--workstation"]);
    for theme in ["light", "dark"] {
        w.set_theme(theme);
        for page in ["infrastructure", "transfer", "ws-settings"] {
            w.click(&format!("[data-nav={page}]"));
            w.wait_for(&format!("[data-nav={page}][aria-current=page]"));
            w.wait_for("main h1");
            check(&format!("{theme} workstation {page}"), &w);
        }
    }
    drop(w);
    drop(driver);
    let driver =
        Driver::start(&[("HOME", h), ("XDG_CONFIG_HOME", h), ("XDG_DATA_HOME", h)], &["LICENSE_MANAGER_CONFIG"]);
    let w = driver.session(&[]);
    w.wait_for("[data-testid=welcome]");
    for theme in ["light", "dark"] {
        w.set_theme(theme);
        check(&format!("{theme} welcome"), &w);
    }
    assert!(found.is_empty(), "axe found serious or critical violations:\n{}", found.join("\n"));
}

/// The install wizard from the overview to "Done" with the keyboard alone: Tab to
/// move, Enter to press. Each step puts the focus on its heading.
#[test]
fn the_install_wizard_works_from_the_keyboard_alone() {
    use driver::TAB;
    let app = App::open();
    let s = &app.session;
    s.wait_for("[data-testid=overview] h1");
    s.tab_and_enter("[data-nav=install]");
    s.wait_for("[data-testid=step-backup]");
    assert!(s.focused("main h1"), "the page's heading has the focus after navigating");
    s.tab_and_enter("[data-testid=next]");
    s.wait_for("[data-testid=step-choose]");
    assert!(s.focused("[data-step-heading]"), "the new step's heading has the focus");
    app.dialog_answers(&app.path("samples/renewal.lic"));
    s.tab_and_enter("[data-testid=choose-file]");
    s.wait_for("[data-testid=step-check]");
    assert!(s.focused("[data-step-heading]"));
    // The differences table scrolls on small windows, so it is a stop on the way.
    s.tab_and_enter("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert!(s.focused("[data-step-heading]"));
    assert_eq!(app.license(), app.sample("renewal.lic"));
    // Tab never gets stuck: from "Done" it reaches the next control.
    s.press(TAB);
    assert!(s.focused("[data-testid=step-done] :is(button, summary)"), "Tab moves on to a control of the step");
}

/// At the smallest window (760 px) nothing is cut off: the navigation collapses into
/// a menu, and wide content scrolls inside its card, never the page.
#[test]
fn at_760_pixels_no_page_overflows_sideways() {
    let app = App::open();
    let s = &app.session;
    s.set_window_size(760, 800);
    // The header still says which environment this window is.
    let name = s.wait_text("[data-testid=env-name]", |t| !t.is_empty());
    assert_eq!(name, "Demo production · Production");
    let go = |page: &str| {
        s.click("[data-testid=menu]");
        s.click(&format!("[data-nav={page}]"));
        s.wait_for(&format!("[data-testid={page}]"));
    };
    let mut overflowing = Vec::new();
    for page in ["overview", "install", "backups", "request", "audit", "transfer-here", "settings"] {
        go(page);
        overflowing.extend(s.horizontal_overflow().into_iter().map(|o| format!("{page}: {o}")));
        overflowing.extend(wrapped_serial_groups(s).into_iter().map(|g| format!("{page}: serial group {g} wraps")));
    }
    go("overview");
    assert!(s.exists(".serial-group"), "the overview shows the serial in its groups");
    s.screenshot("narrow-overview");
    app.choose_sample_narrow("renewal.lic");
    s.wait_for("[data-testid=differences]");
    overflowing.extend(s.horizontal_overflow().into_iter().map(|o| format!("install checks: {o}")));
    s.screenshot("narrow-install-checks");
    assert!(overflowing.is_empty(), "{overflowing:?}");
}

/// Serial groups laid out on more than one line (Serial.svelte forbids it).
fn wrapped_serial_groups(s: &Session) -> Vec<String> {
    let r = s.script(
        "return [...document.querySelectorAll('.serial-group')].filter((g) => g.getClientRects().length > 1).map((g) => g.textContent);",
        json!([]),
    );
    r.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or("").to_string()).collect()
}

/// The machine was moved: its platform UUID changed after the license was installed.
/// The overview says which fact changed, and offers the request for the new serial.
#[test]
fn a_serial_change_is_explained_on_the_overview_with_the_request_offered() {
    let app = App::open_with(|dir| {
        std::fs::write(dir.join("facts.txt"), "platform_uuid=9d2a1f3e-77aa-4c1e-9b2d-3f1e5a6b7c8d\n").unwrap();
        vec![]
    });
    let s = &app.session;
    let status = s.wait_for("[data-testid=license-status]");
    assert_eq!(s.attr(&status, "data-status").as_deref(), Some("serial_mismatch"));
    let why = s.wait_text("[data-testid=drift]", |t| !t.is_empty());
    assert!(
        why.contains(
            "The platform UUID changed since this license was installed: the machine was probably moved or recreated."
        ),
        "{why}"
    );
    let change = s.wait_for("[data-testid=drift] li");
    assert_eq!(s.attr(&change, "data-change").as_deref(), Some("changed"));
    s.screenshot("serial-drift");
    s.click("[data-testid=banner-request]");
    // The request page names the new serial straight away.
    let serial = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    assert!(s.wait_text("[data-testid=request-summary]", |t| !t.is_empty()).contains(&serial));
}

/// When the app starts with a license in the warning window, a native notification
/// is sent from Rust over D-Bus (org.freedesktop.Notifications.Notify), seen here by
/// `dbus-monitor` on the test's private session bus. The webview has no part in it.
#[test]
fn an_expiring_license_sends_a_desktop_notification_at_start() {
    let notifications = Notifications::watch();
    let app = App::open();
    app.session.wait_for("[data-testid=license-banner]");
    let seen = notifications.until_seen("License expires in");
    assert!(seen.contains("Demo production: the license expires on"), "{seen}");
    // One day count: the notification, the overview and the install report agree
    // with the core (and so with licensectl, tests/monitor.rs): the demo's license
    // was made to expire 20 days from now.
    assert!(seen.contains("License expires in 20 days"), "{seen}");
    let expires = app.session.wait_text("[data-testid=expires]", |t| !t.is_empty());
    assert!(expires.ends_with("(in 20 days)"), "{expires}");
    app.nav("install");
    app.session.click("[data-testid=next]");
    app.dialog_answers(&app.path("license.lic"));
    app.session.click("[data-testid=choose-file]");
    let dates = app.session.wait_text("[data-check=dates] .message", |t| !t.is_empty());
    assert!(dates.ends_with("(in 20 days)."), "{dates}");
    // The webview was not given the notification plugin or permission.
    let r = app.session.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('plugin:notification|notify', {options: {title: 'x'}}).then(() => done('allowed'), (e) => done('refused: ' + e));",
        json!([]),
    );
    assert!(r.as_str().unwrap().starts_with("refused"), "{r}");
}

/// The desktop notifications sent on the test's session bus, as `dbus-monitor` (Debian
/// package dbus-bin) sees the Notify calls.
struct Notifications {
    log: tempfile::NamedTempFile,
    monitor: std::process::Child,
}

impl Notifications {
    fn watch() -> Notifications {
        let log = tempfile::NamedTempFile::new().unwrap();
        let monitor = std::process::Command::new("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(log.reopen().unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dbus-monitor runs on the test's session bus");
        Notifications { log, monitor }
    }

    /// Everything seen, once a notification holding `text` was sent.
    fn until_seen(&self, text: &str) -> String {
        let bus_log = || std::fs::read_to_string(self.log.path()).unwrap();
        until(
            Duration::from_secs(30),
            || Some(bus_log()).filter(|seen| seen.contains("member=Notify") && seen.contains(text)),
            || format!("no notification with {text:?} seen:\n{}", bus_log()),
        )
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        let _ = self.monitor.kill();
        let _ = self.monitor.wait();
    }
}

/// The environment once saw a time a month ahead of the system clock: the overview
/// says so, shows both times, and lets the administrator accept the system clock
/// after confirming (as `licensectl clock --accept` does).
#[test]
fn a_suspect_clock_can_be_accepted_from_the_overview() {
    let app = App::open_with(|dir| {
        let env = license_core::Environment::open(&dir.join("environment.toml")).unwrap();
        license_core::environment::clock::observe(
            &env.config.state_dir(),
            chrono::Utc::now() + chrono::Duration::days(30),
        );
        vec![]
    });
    let s = &app.session;
    let warning = s.wait_text("[data-clock=suspect]", |t| !t.is_empty());
    assert!(warning.contains("once saw a time far ahead of this machine's clock"), "{warning}");
    assert!(warning.contains("judged by that later time"), "{warning}");
    s.click("[data-testid=accept-clock]");
    std::fs::write(&app.dialog, "confirm").unwrap();
    s.click("[data-testid=confirm-accept-clock]");
    until(
        Duration::from_secs(10),
        || (!s.exists("[data-clock=suspect]")).then_some(()),
        || "the clock was not accepted".into(),
    );
    let clock = license_core::Environment::open(&app.path("environment.toml")).unwrap().clock();
    assert_eq!(clock.state, license_core::environment::clock::ClockState::Ok);
}

/// An audit uploaded before the environment is registered is rejected: the result
/// is red and names the way forward, not a green "1 uploaded".
#[test]
fn a_rejected_upload_is_a_red_result_with_the_way_forward() {
    let (app, portal) = open_on_portal(|_, _, _, _| {});
    let s = &app.session;
    app.nav("audit");
    // Before anything is sent: the portal does not know this serial, so its audits
    // would be rejected; the page says so and offers the registration.
    let warned = s.wait_text("[data-testid=not-registered]", |t| !t.is_empty());
    assert!(warned.contains("not registered in the subscription"), "{warned}");
    s.click("[data-testid=generate-audit]");
    s.wait_text("[data-testid=outbox]", |t| t.starts_with("1 audit "));
    s.click("[data-testid=upload-now]");
    let problem = s.wait_text("[data-testid=problem]", |t| !t.is_empty());
    assert!(problem.starts_with("The portal rejected 1 audit of 1."), "{problem}");
    assert!(problem.contains("not registered") && problem.contains("Request a license → Register"), "{problem}");
    let notice = s.wait_for("[data-testid=notice]");
    assert_ne!(s.attr(&notice, "class").as_deref(), Some("ok"), "a rejection is not shown as a success");
    s.wait_for("[data-testid=history] tr[data-status=rejected]");
    s.screenshot("audit-rejected");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits WHERE status = 'rejected'"), 1);
    // The Overview's last audit is red too, with the same way forward.
    app.nav("overview");
    s.wait_for("[data-testid=last-upload][data-status=rejected] span.bad");
    let next = s.wait_text("[data-testid=audit-next-step]", |t| !t.is_empty());
    assert!(next.contains("not registered") && next.contains("Request a license → Register"), "{next}");
    app.nav("audit");
    s.click("[data-testid=go-register]");
    s.wait_for("[data-testid=request]");
}

/// An expired license's heading says it expired; it never reads "valid until".
#[test]
fn an_expired_license_is_not_called_valid() {
    let app = App::open();
    let s = &app.session;
    app.choose_sample("expired.lic");
    let heading = s.wait_text("[data-testid=step-check] h2", |t| !t.is_empty());
    assert!(heading.contains("expired on") && !heading.contains("valid until"), "{heading}");
    s.wait_for("[data-testid=refused]");
}

/// A newer license that gives less (fewer named users) is flagged as a downgrade and
/// needs a confirmation, although every other check passes.
#[test]
fn a_license_that_gives_less_is_flagged_and_needs_confirmation() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.choose_sample("fewer-users.lic");
    assert_eq!(app.check_status("downgrade"), "warn");
    let said = s.wait_text("[data-check=downgrade] .message", |t| !t.is_empty());
    assert!(said.starts_with("It gives less than the installed license: named users"), "{said}");
    let row = s.wait_for("[data-testid=differences] [data-field=named_users]");
    assert_eq!(s.attr(&row, "data-lower").as_deref(), Some("true"));
    assert!(s.wait_text("[data-testid=verdict]", |t| !t.is_empty()).contains("confirm the warnings"));
    let install = s.wait_for("[data-testid=install-button]");
    assert!(!s.enabled(&install), "not installable before the confirmation");
    assert_eq!(app.license(), original);
}

/// "Add to an existing transfer file" opens the file (no "replace it?" question)
/// and says what it keeps.
#[test]
fn adding_to_an_existing_transfer_file_says_what_it_keeps() {
    use license_core::transfer::{Papers, Transfer, TransferEntry};
    let app = App::open();
    let s = &app.session;
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    let mut t = Transfer::default();
    t.put(
        TransferEntry {
            serial_number: license_core::serial::serial_from_facts_text("machine_id=quality\n"),
            environment_type: license_core::EnvironmentType::Quality,
            name: "Quality".into(),
            hostname: "qa-1".into(),
            activation_code: None,
            license_id: None,
            expires_at: None,
            exported_at: chrono::Utc::now(),
        },
        Papers::default(),
    );
    t.write(&file).unwrap();
    app.nav("transfer-here");
    // The demo's license ends within the year: a request goes along by default.
    assert!(s.selected(&s.wait_for("[data-testid=with-request]")), "a request is advised");
    app.dialog_answers(&file);
    s.click("[data-testid=add-to-existing]");
    let notice = s.wait_text("[data-testid=notice]", |t| !t.is_empty());
    assert!(notice.contains("The 1 other environment in it is kept."), "{notice}");
    assert!(notice.contains("and a license request"), "{notice}");
    assert_eq!(Transfer::read(&file, None).unwrap().environments.len(), 2);
    // With a license for the next 13 months installed, none is added by default.
    app.choose_sample("renewal.lic");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    app.nav("transfer-here");
    s.wait_for("[data-testid=request-not-needed]");
    assert!(!s.selected(&s.wait_for("[data-testid=with-request]")), "no request is advised");
    app.dialog_answers(&file);
    s.click("[data-testid=add-to-existing]");
    let notice = s.wait_text("[data-testid=notice]", |t| t.starts_with("Added"));
    assert!(!notice.contains("license request"), "{notice}");
}

/// An audit given to the install wizard, or a license given to the audit upload:
/// the headline names the kind of file and the page that takes it.
#[test]
fn the_wrong_kind_of_file_names_its_kind_and_page() {
    let app = App::open_with(|dir| {
        let env = license_core::Environment::open(&dir.join("environment.toml")).unwrap();
        std::fs::write(dir.join("an.audit"), env.generate_audit().unwrap().text).unwrap();
        vec![]
    });
    let s = &app.session;
    app.nav("install");
    s.click("[data-testid=next]");
    app.dialog_answers(&app.path("an.audit"));
    s.click("[data-testid=choose-file]");
    s.wait_for("[data-testid=step-check]");
    let format = s.wait_for("[data-check=format]");
    assert_eq!(s.attr(&format, "data-code").as_deref(), Some("is_an_audit"));
    let next = s.wait_text("[data-testid=next-step]", |t| !t.is_empty());
    assert!(next.contains("license audit file") && next.contains("License verification page"), "{next}");

    app.nav("audit");
    app.dialog_answers(&app.path("samples/renewal.lic"));
    s.click("[data-testid=upload-file]");
    let err = s.wait_for("[data-testid=error]");
    assert_eq!(s.attr(&err, "data-code").as_deref(), Some("is_a_license"));
    let said = s.text(&err);
    assert!(said.contains("This is a license file") && said.contains("Install a license page"), "{said}");
}

/// A code of the wrong length says how many symbols it has and how many it needs.
#[test]
fn a_short_activation_code_says_how_many_symbols_it_needs() {
    let app = App::open();
    let s = &app.session;
    app.nav("request");
    s.type_into("[data-testid=activation-code-input]", "ABCDE-FGHJK-MNPQR-STVWX-YZ01");
    s.click("[data-testid=look-up]");
    let fact = s.wait_text("[data-testid=error-fact]", |t| !t.is_empty());
    assert_eq!(fact, "24 symbols; needs 25.");
}

/// A damaged transfer file gets a headline for its own damage: not a ZIP, cut
/// short, a member that fails its checksum, a member the format does not allow.
#[test]
fn each_damaged_transfer_file_has_its_own_headline() {
    let app = App::open();
    let s = &app.session;
    let good = app.path("good.transfer.zip");
    let env = license_core::Environment::open(&app.path("environment.toml")).unwrap();
    env.export_transfer(&good, false, None).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    // transfer.json is the first member: its data follows the 30-byte local header
    // and the name.
    let mut flipped = bytes.clone();
    flipped[30 + "transfer.json".len() + 1] ^= 0x55;
    // Renamed in both of its headers (the checksum covers only the data).
    let mut renamed = bytes.clone();
    for i in 0..bytes.len() - 13 {
        if &bytes[i..i + 13] == b"transfer.json" {
            renamed[i..i + 13].copy_from_slice(b"transfer.jsom");
        }
    }
    let cases = [
        ("not_zip", b"not an archive at all".to_vec(), "not a ZIP archive"),
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "cut short"),
        ("checksum", flipped, "fails its checksum"),
        ("unknown_member", renamed, "never puts in one"),
    ];
    app.nav("transfer-here");
    let mut titles = std::collections::BTreeSet::new();
    for (damage, file, words) in cases {
        let path = app.path(&format!("{damage}.transfer.zip"));
        std::fs::write(&path, file).unwrap();
        app.dialog_answers(&path);
        s.click("[data-testid=open-transfer-here]");
        s.wait_for(&format!("[data-testid=error][data-damage={damage}]"));
        let title = s.wait_text("[data-testid=error-title]", |t| !t.is_empty());
        assert!(title.contains(words), "{damage}: {title}");
        titles.insert(title);
    }
    assert_eq!(titles.len(), 4, "four damages, four headlines: {titles:?}");
}

/// A locked OS keyring: storing the token waits for its unlock prompt, and the app
/// says so while it waits (the button stays disabled). The app runs on a D-Bus
/// session and a GNOME Keyring of its own, so locking it touches no other test.
#[test]
fn a_locked_keyring_is_named_while_the_app_waits_for_it() {
    let bus = PrivateKeyring::start();
    let app = App::open_with(|_| vec![("DBUS_SESSION_BUS_ADDRESS", bus.address.clone())]);
    let s = &app.session;
    app.nav("settings");
    let portal = format!("http://127.0.0.1:{}", 30000 + std::process::id() % 10000);
    s.type_into("[data-field=portal_url]", &portal);
    std::fs::write(&app.dialog, "confirm").unwrap();
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    bus.lock();
    s.type_into("[data-testid=token]", "secret-token-for-a-locked-keyring");
    s.click("[data-testid=store-token]");
    let said = s.wait_text("[data-testid=token-form] [data-testid=working]", |t| !t.is_empty());
    assert!(said.contains("Waiting for the OS keyring") && said.contains("unlock it"), "{said}");
    assert!(!s.enabled(&s.wait_for("[data-testid=store-token]")), "no second store while it waits");
}

/// A D-Bus session bus with its own unlocked GNOME Keyring; dropped, both end.
struct PrivateKeyring {
    address: String,
    daemon: std::process::Child,
    _home: tempfile::TempDir,
}

impl PrivateKeyring {
    fn start() -> PrivateKeyring {
        use std::io::{BufRead, Write};
        use std::process::{Command, Stdio};
        let home = tempfile::tempdir().unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut address = String::new();
        std::io::BufReader::new(daemon.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_string();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--daemonize", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", home.path())
            .env("XDG_RUNTIME_DIR", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon");
        keyring.stdin.take().unwrap().write_all(b"private-keyring").unwrap();
        assert!(keyring.wait().unwrap().success());
        PrivateKeyring { address, daemon, _home: home }
    }

    /// Locks the login collection, as a screen lock or a timeout would.
    fn lock(&self) {
        let ok = std::process::Command::new("busctl")
            .args(["--address", &self.address, "--timeout=5", "call", "org.freedesktop.secrets"])
            .args(["/org/freedesktop/secrets", "org.freedesktop.Secret.Service", "Lock", "ao", "1"])
            .arg("/org/freedesktop/secrets/collection/login")
            .status()
            .expect("busctl (Debian package systemd)");
        assert!(ok.success());
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A license that starts later: the wizard says it stages, "Stage renewal" keeps it
/// without touching the installed license, the overview shows it, and the app
/// opened at its start time (the test clock, `LICENSE_MANAGER_TEST_NOW`, not a
/// sleep) installs it with a backup of the old license first.
#[test]
fn a_future_license_is_staged_from_the_wizard_and_installed_at_its_start() {
    let app = App::open();
    let s = &app.session;
    let old = app.license();
    app.choose_sample("next-term.lic");
    let verdict = s.wait_text("[data-testid=verdict]", |t| !t.is_empty());
    assert!(verdict.contains("Installing it now stages it"), "{verdict}");
    assert_eq!(app.check_status("staging"), "pass");
    assert_eq!(app.check_status("dates"), "pass", "checked as of its start");
    let button = s.wait_for("[data-testid=install-button]");
    assert_eq!(s.text(&button), "Stage renewal");
    s.screenshot("install-stage-checks");
    s.click("[data-testid=install-button]");
    let done = s.wait_text("[data-testid=staged]", |t| !t.is_empty());
    assert!(done.starts_with("Renewal staged: takes effect "), "{done}");
    assert_eq!(app.license(), old, "staging leaves the installed license as it was");
    s.screenshot("install-staged");
    app.nav("overview");
    s.wait_text("[data-testid=staged-renewal]", |t| t.starts_with("Renewal staged: takes effect"));
    // It takes effect by the expiry: no "request a renewal now" beside it.
    assert!(!s.exists("[data-testid=license-banner]"), "the staged renewal covers the expiry");

    // Opened again at its start: the test clock says a minute past it.
    let env = license_core::Environment::open(&app.path("environment.toml")).unwrap();
    let starts = env.staged().unwrap().expect("staged").takes_effect;
    let dir = app.close();
    let at = (starts + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let app = App::start(dir, vec![("LICENSE_MANAGER_TEST_NOW", at)]);
    let s = &app.session;
    s.wait_for("[data-testid=license-status]");
    assert_eq!(app.license(), app.sample("next-term.lic"), "installed as the app opened at its start");
    assert!(!s.exists("[data-testid=staged-renewal]"), "nothing is staged any more");
    assert!(app.backups().contains(&old), "the old license was backed up first");
    assert!(app.backups().contains(&app.sample("next-term.lic")), "and the renewal too, once installed");
    let status = s.wait_for("[data-testid=license-status]");
    assert_eq!(s.attr(&status, "data-status").as_deref(), Some("valid"));
}

/// The License verification page charts consumption against each entitlement from
/// the audits' history (the demo's six monthly audits and today's reading), with
/// the trend drawn on to the limit, a caption and a table as its text alternative;
/// plain SVG without inline styles (the CSP), readable at 760 px and in both themes.
#[test]
fn the_consumption_chart_draws_the_audits_trend_with_a_text_alternative() {
    let app = App::open();
    let s = &app.session;
    app.nav("audit");
    let users = "[data-testid=forecast-named_users]";
    s.wait_for(&format!("{users} svg"));
    assert_eq!(s.find_all(&format!("{users} circle.reading")).len(), 7, "six audits and today");
    s.wait_for(&format!("{users} [data-testid=projection]"));
    let caption = s.wait_text(&format!("{users} [data-testid=forecast-caption]"), |t| !t.is_empty());
    assert!(caption.starts_with("Named users: 87 of 100 in use (87%)."), "{caption}");
    assert!(caption.contains("would reach the entitlement around"), "{caption}");
    assert!(caption.contains("after the license expires"), "the demo's license ends in 20 days: {caption}");
    let svg = s.wait_for(&format!("{users} svg"));
    let label = s.attr(&svg, "aria-label").unwrap_or_default();
    assert!(label.contains("Named users: 87 of 100"), "the picture has the same words: {label}");
    s.click(&format!("{users} summary"));
    assert_eq!(s.find_all(&format!("{users} tbody tr")).len(), 8, "seven readings and the projected date");
    let styled = s.script("return document.querySelectorAll('[data-testid=forecast] [style]').length", json!([]));
    assert_eq!(styled, json!(0), "no inline style: the CSP forbids it");
    s.wait_for("[data-testid=forecast-application_objects] svg");
    s.script("document.querySelector('[data-testid=forecast]').scrollIntoView()", json!([]));
    s.screenshot("audit-forecast");

    // A new audit is a new reading in the history, and stands for today's.
    std::fs::write(app.path("usage.json"), r#"{"named_users": 91, "application_objects": 412, "servers": 3}"#).unwrap();
    s.click("[data-testid=generate-audit]");
    s.wait_text("[data-testid=outbox]", |t| t.starts_with("1 audit"));
    let caption = s.wait_text(&format!("{users} [data-testid=forecast-caption]"), |t| t.contains("91 of 100"));
    assert!(caption.starts_with("Named users: 91 of 100 in use (91%)."), "{caption}");
    assert_eq!(s.find_all(&format!("{users} circle.reading")).len(), 7, "six audits and today's, the new audit");

    let mut found = Vec::new();
    for (theme, width) in [("light", 1200), ("dark", 760)] {
        s.set_theme(theme);
        s.set_window_size(width, 900);
        found.extend(s.axe_serious().into_iter().map(|v| format!("{theme} at {width} px: {v}")));
        assert!(s.horizontal_overflow().is_empty(), "{theme} at {width} px: {:?}", s.horizontal_overflow());
    }
    s.script("document.querySelector('[data-testid=forecast]').scrollIntoView()", json!([]));
    s.screenshot("audit-forecast-dark-narrow");
    assert!(found.is_empty(), "axe found serious or critical violations:\n{}", found.join("\n"));
}

/// Automatic renewal in the app against the reference portal over loopback: turned
/// on in the environment's configuration, the app asks the portal as it starts,
/// installs the newer license with a backup first, says so in a desktop
/// notification and shows it. Settings turns it off again, and "Check for a renewal
/// now" asks at once: the license from the portal now runs to 2099, so it is not due.
#[test]
fn automatic_renewal_installs_the_portals_newer_license_and_says_so() {
    let notifications = Notifications::watch();
    let portal_state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, code) = portal_for_demo(dir);
        let serial = HostFacts::read(&dir.join("facts.txt")).unwrap().serial_number().unwrap().to_string();
        portal.execute("UPDATE slots SET serial_number = ?1 WHERE activation_code = ?2", [serial, code.to_string()]);
        let cfg = dir.join("environment.toml");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("http://127.0.0.1:8787", &portal.url)
            .replace("name = \"Demo production\"", "name = \"Renewing site\"");
        std::fs::write(&cfg, format!("auto_renew = true\n{text}")).unwrap();
        std::fs::copy(dir.join("license.lic"), dir.join("license-before.lic")).unwrap();
        *portal_state.borrow_mut() = Some(portal);
        vec![("LICENSE_MANAGER_TOKEN", token)]
    });
    let s = &app.session;
    let portal = portal_state.borrow_mut().take().unwrap();
    let old = std::fs::read(app.path("license-before.lic")).unwrap();
    let seen = notifications.until_seen("License renewed");
    assert!(
        seen.contains("Renewing site: the renewed license from the portal is installed, valid until 1 Jan 2099"),
        "{seen}"
    );
    assert_eq!(portal.count("SELECT COUNT(*) FROM licenses"), 1, "one license was issued");
    assert_ne!(app.license(), old, "the portal's license is installed");
    assert!(app.backups().contains(&old), "the old license was backed up first");
    // The window was told: the overview shows the renewed license without a reload.
    s.wait_text("[data-testid=named-users]", |t| t == "200");
    // By now the day's alert would have been sent too (the same thread, right after
    // it told the window). Other tests' apps share the session bus; this one's
    // environment has its own name.
    let seen = notifications.until_seen("License renewed");
    assert!(!seen.contains("Renewing site: the license expires"), "renewed first: no expiry warning after it\n{seen}");

    app.nav("settings");
    s.wait_for("[data-testid=auto-renew]");
    let on = s.script("return document.querySelector('[data-testid=auto-renew]').checked", json!([]));
    assert_eq!(on, json!(true), "the setting shows as on");
    s.click("[data-testid=auto-renew]");
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Settings saved"));
    let config = std::fs::read_to_string(app.path("environment.toml")).unwrap();
    assert!(!config.contains("auto_renew"), "turned off: {config}");
    s.click("[data-testid=renew-now]");
    let said = s.wait_text("[data-testid=renewal] [data-testid=notice]", |t| !t.is_empty());
    assert!(said.starts_with("Not due yet: the portal is asked within 30 days of expiry"), "{said}");
    s.script("document.querySelector('[data-testid=auto-renew]').scrollIntoView({block: 'center'})", json!([]));
    s.screenshot("settings-renewal");
}

/// "Check for a renewal now" with a newer license at the portal installs nothing by
/// itself: it opens the install wizard on the portal's license, with its checks and
/// the old→new differences, and only the administrator's click installs it.
#[test]
fn check_for_a_renewal_now_shows_the_portals_license_before_installing_it() {
    let (app, _portal) = open_on_portal(|dir, portal, code, _| {
        let serial = HostFacts::read(&dir.join("facts.txt")).unwrap().serial_number().unwrap().to_string();
        portal.execute("UPDATE slots SET serial_number = ?1 WHERE activation_code = ?2", [serial, code.to_string()]);
    });
    let s = &app.session;
    let before = app.license();
    app.nav("settings");
    s.click("[data-testid=renew-now]");
    s.wait_for("[data-testid=step-check]");
    assert_eq!(s.wait_text("[data-testid=candidate-from]", |t| !t.is_empty()), "From the portal");
    s.wait_for("[data-testid=differences]");
    assert_eq!(app.license(), before, "nothing is installed before the administrator says so");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert_ne!(app.license(), before, "installed on the administrator's click");
    assert!(app.backups().contains(&before), "after a backup of the previous one");
}

/// The connected workstation's renewals (issue 19) against the reference portal: a
/// subscription with three environments whose licenses end in 20 days and whose
/// renewal is booked to start the day before. The Infrastructure page draws them on
/// a timeline, Development first; "Prepare renewals" puts the three renewals in one
/// transfer file and says the import order; the production environment (this demo)
/// imports the file, which stages its renewal, and exports into it; opened again on
/// the workstation, the file and the timeline say "staged" for it and "waiting" for
/// the two others.
#[test]
fn the_workstation_draws_the_timeline_and_prepares_renewals_in_one_file() {
    let state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let vendor = dir.join("vendor.key");
        let portal = license_test_support::TestPortal::start(&vendor);
        let env = license_core::Environment::open(&dir.join("environment.toml")).unwrap();
        let code = env.installed_activation_code().unwrap();
        portal.subscription(
            &code,
            vec![
                (license_core::EnvironmentType::Production, 1),
                (license_core::EnvironmentType::Quality, 1),
                (license_core::EnvironmentType::Development, 1),
                (license_core::EnvironmentType::Lifetime, 1),
            ],
        );
        // Registered, but no license the portal knows of: its expiry is unknown.
        portal.execute(
            "UPDATE slots SET serial_number = ?1, name = 'Sandbox' WHERE environment_type = 'lifetime'",
            [another_serial()],
        );
        let token = portal.token(&code, license_test_support::ALL);
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let expiry = chrono::Utc::now() + chrono::Duration::days(20);
        portal.execute("UPDATE subscriptions SET expires_at = ?1", [stamp(expiry)]);
        let production = env.serial().unwrap().serial_number.to_string();
        let others = [another_serial(), another_serial()];
        for (serial, t, name) in [
            (&production, "production", "Demo production"),
            (&others[0], "quality", "Quality"),
            (&others[1], "development", "Development"),
        ] {
            portal.execute(
                "UPDATE slots SET serial_number = ?1, name = ?2 WHERE environment_type = ?3",
                [serial.clone(), name.to_string(), t.to_string()],
            );
            // Each has its current license from the portal.
            let r = ureq::get(&format!("{}/api/v1/environments/{serial}/license", portal.url))
                .set("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        // The renewal is booked: a new term of two years from the day before the old
        // one ends (so the timeline spans two years).
        portal.execute(
            "UPDATE subscriptions SET starts_at = ?1, expires_at = ?2",
            [stamp(expiry - chrono::Duration::days(1)), stamp(expiry + chrono::Duration::days(700))],
        );
        *state.borrow_mut() = Some((portal, token, code, production));
        vec![]
    });
    let (portal, token, code, production) = state.borrow_mut().take().unwrap();
    let dir = app.close();
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("renewals.transfer.zip");

    let home = tempfile::tempdir().unwrap();
    let ws_config = home.path().join("workstation.toml");
    std::fs::write(&ws_config, format!("portal_url = \"{}\"\nactivation_code = \"{code}\"\n", portal.url)).unwrap();
    std::fs::write(home.path().join("dialog-answer"), file.to_str().unwrap()).unwrap();
    let workstation = |home: &Path| {
        start_workstation(home, &[("LICENSE_MANAGER_TOKEN", std::ffi::OsStr::new(&token))], &["LICENSE_MANAGER_PORTAL"])
    };
    let (driver, w) = workstation(home.path());
    let rows = || w.find_all("[data-testid=timeline] svg g[data-serial]");
    w.wait_for("[data-testid=timeline] svg g[data-serial] [data-testid=term]");
    let order: Vec<String> = rows().iter().filter_map(|g| w.attr(g, "data-serial")).collect();
    assert_eq!(order.len(), 4);
    assert_eq!(order[2], production, "Development and Quality first, then Production, LifeTime last");
    assert!(!w.exists("[data-testid=timeline] [data-testid=next]"), "no renewal issued yet");
    // The sandbox's license is not known here: said so, never drawn as a full bar.
    let sandbox = format!("[data-testid=timeline] g[data-serial='{}']", order[3]);
    assert!(!w.exists(&format!("{sandbox} [data-testid=term]")), "unknown is not a bar");
    assert_eq!(
        w.wait_text(&format!("{sandbox} [data-testid=term-unknown]"), |t| !t.is_empty()),
        "license not known here"
    );

    // A number past the limit: the limit is said at the field, and nothing is asked.
    w.type_into("[data-field=days]", "400");
    w.click("[data-testid=prepare]");
    let said = w.wait_text("[data-testid=prepare-renewals] [data-testid=field-error]", |t| !t.is_empty());
    assert_eq!(said, "At most 365 days.");
    let days = w.wait_for("[data-field=days]");
    assert_eq!(w.attr(&days, "aria-invalid").as_deref(), Some("true"));
    assert!(!file.exists(), "no file before a valid number");
    w.type_into("[data-field=days]", "30");
    w.click("[data-testid=prepare]");
    let notice = w.wait_text("[data-testid=prepare-renewals] [data-testid=notice]", |t| !t.is_empty());
    assert_eq!(notice, "3 of 3 renewals are in the file. 1 environment has an expiry not known here: see the list.");
    let order_text = w.wait_text("[data-testid=import-order]", |t| !t.is_empty());
    assert!(order_text.contains("in this order"), "{order_text}");
    let items: Vec<String> = w.find_all("[data-testid=prepared] li").iter().map(|li| w.text(li)).collect();
    assert!(
        items[0].starts_with("Development (Development)") && items[2].starts_with("Demo production (Production)"),
        "{items:?}"
    );
    assert!(items[..3].iter().all(|i| i.contains("staged when imported")), "{items:?}");
    assert!(items[3].starts_with("Sandbox (") && items[3].contains("expiry unknown: Nothing added."), "{items:?}");
    until(
        Duration::from_secs(10),
        || (w.find_all("[data-testid=timeline] g[data-renewal=waiting] [data-testid=next]").len() == 3).then_some(()),
        || "the timeline does not show the three renewals waiting".into(),
    );
    // The slot table says what the timeline says: the license in use ends in days,
    // and its renewal waits; not the renewal's end as if it were in use.
    let cell = w
        .wait_text(&format!("[data-testid=slots] tr[data-serial='{production}'] [data-testid=slot-license]"), |t| {
            t.contains("renewal")
        });
    assert!(cell.contains("renewal sent, waiting from "), "{cell}");
    // The axis's dates stand apart, left to right, none on another.
    let overlaps = w.script(
        "const b = [...document.querySelectorAll('[data-testid=timeline] .axis text.middle')].map((t) => t.getBoundingClientRect()); \
         return [b.length, b.filter((r, i) => i > 0 && r.left < b[i - 1].right + 4).length];",
        json!([]),
    );
    assert!(overlaps[0].as_u64().unwrap() >= 3 && overlaps[1] == 0, "axis labels (count, overlapping): {overlaps}");
    // Freeing the sandbox's slot revokes nothing: no license was issued in it.
    w.click(&format!("[data-testid=slots] tr[data-serial='{}'] [data-testid=free]", order[3]));
    let consequence = w.wait_text("[data-testid=free-consequence]", |t| !t.is_empty());
    assert!(consequence.contains("no license was issued in it, so none is revoked"), "{consequence}");
    assert!(!consequence.contains("revokes its license"), "{consequence}");
    w.click("[data-testid=keep-slot]");
    w.script("document.querySelector('[data-testid=timeline]').scrollIntoView()", json!([]));
    w.screenshot("workstation-timeline");
    drop(w);
    drop(driver);

    // The production environment takes its renewal from the file (staged) and
    // exports into it.
    let app = App::reopen(dir);
    let s = &app.session;
    let before = app.license();
    app.open_transfer_here(&file);
    s.wait_text("[data-testid=import-order]", |t| t.starts_with("This file carries licenses for 3 environments."));
    let order: Vec<String> = s.find_all("[data-testid=import-order] + ol li").iter().map(|li| s.text(li)).collect();
    assert_eq!(order.len(), 3, "{order:?}");
    assert!(
        order[0].starts_with("Development") && order[2] == "Demo production (Production) — this environment",
        "{order:?}"
    );
    let others = s.wait_text("[data-testid=others-skipped]", |t| !t.is_empty());
    assert!(
        others.starts_with("2 other environments in this file: their licenses and receipts are theirs"),
        "{others}"
    );
    s.click("[data-testid=install-from-transfer]");
    s.wait_for("[data-testid=step-check]");
    s.click("[data-testid=install-button]");
    s.wait_text("[data-testid=staged]", |t| t.starts_with("Renewal staged"));
    assert_eq!(app.license(), before, "staged, not installed");
    app.nav("transfer-here");
    app.dialog_answers(&file);
    s.click("[data-testid=add-to-transfer]");
    s.wait_text("[data-testid=notice]", |t| t.starts_with("Added"));
    drop(app.close());

    // Back on the workstation: the file and the timeline say what became of each.
    let (driver, w) = workstation(home.path());
    w.click("[data-nav=transfer]");
    w.click("[data-testid=open-transfer]");
    let badge = w.wait_text(&format!("[data-serial='{production}'] [data-testid=renewal-state]"), |t| !t.is_empty());
    assert_eq!(badge, "renewal staged");
    // Only Production exported into the file; the others' entries are the
    // workstation's own, which no export time is claimed for.
    let exported: Vec<String> = w.find_all("[data-testid=exported]").iter().map(|e| w.text(e)).collect();
    assert_eq!(exported.iter().filter(|t| t.starts_with("exported ")).count(), 1, "{exported:?}");
    assert_eq!(exported.iter().filter(|t| *t == "not exported into this file yet").count(), 2, "{exported:?}");
    let order = w.wait_text("[data-testid=transfer] [data-testid=import-order]", |t| !t.is_empty());
    assert!(order.starts_with("Licenses to import in this order: Development (Development), then "), "{order}");
    w.click("[data-nav=infrastructure]");
    w.wait_for(&format!("[data-testid=timeline] g[data-serial='{production}'][data-renewal=staged]"));
    assert_eq!(w.find_all("[data-testid=timeline] g[data-renewal=waiting]").len(), 2);
    w.click("[data-testid=timeline-table] summary");
    let state = w.wait_text(
        &format!("[data-testid=timeline-table] tr[data-serial='{production}'] [data-testid=renewal-state]"),
        |t| !t.is_empty(),
    );
    assert!(state.starts_with("staged, from "), "{state}");
    let mut found = Vec::new();
    for theme in ["light", "dark"] {
        w.set_theme(theme);
        found.extend(w.axe_serious().into_iter().map(|v| format!("{theme}: {v}")));
    }
    assert!(found.is_empty(), "axe found serious or critical violations:\n{}", found.join("\n"));
    drop(w);
    drop(driver);
}

/// The app as a connected workstation with its files in `home` (its configuration
/// `workstation.toml`, the dialog answer file `dialog-answer`), on its Infrastructure page.
fn start_workstation(home: &Path, extra: &[(&str, &std::ffi::OsStr)], env_remove: &[&str]) -> (Driver, Session) {
    let h = home.as_os_str();
    let (ws_config, answer) = (home.join("workstation.toml"), home.join("dialog-answer"));
    let mut env = vec![
        ("HOME", h),
        ("XDG_CONFIG_HOME", h),
        ("XDG_DATA_HOME", h),
        ("LICENSE_MANAGER_WORKSTATION", ws_config.as_os_str()),
        ("LICENSE_MANAGER_TEST_DIALOG", answer.as_os_str()),
    ];
    env.extend_from_slice(extra);
    let driver = Driver::start(&env, &[&["LICENSE_MANAGER_CONFIG"], env_remove].concat());
    let w = driver.session(&["--workstation"]);
    w.wait_for("[data-testid=infrastructure]");
    (driver, w)
}

/// A valid serial number for an environment that exists only at the portal.
fn another_serial() -> String {
    let facts = format!("platform_uuid={}\n", uuid::Uuid::new_v4());
    HostFacts::parse(&facts, "test").unwrap().serial_number().unwrap().to_string()
}

/// A staged renewal can be taken back from the Overview after a confirmation, and
/// a staged file that no longer verifies is named there (it would never be
/// installed) with the same way out; the installed license never changes.
#[test]
fn a_staged_renewal_is_removed_from_the_overview_and_a_damaged_one_is_named() {
    let app = App::open();
    let s = &app.session;
    let old = app.license();
    let staged_file = app.path(".license-manager/staged.lic");
    for damaged in [false, true] {
        app.choose_sample("next-term.lic");
        s.click("[data-testid=install-button]");
        s.wait_for("[data-testid=staged]");
        if damaged {
            let text = std::fs::read_to_string(&staged_file).unwrap();
            std::fs::write(&staged_file, text.replacen('A', "B", 1).replacen("eyJ", "eyK", 1)).unwrap();
        }
        app.nav("overview");
        let shown = if damaged { "[data-testid=staged-damaged]" } else { "[data-testid=staged-renewal]" };
        s.wait_for(shown);
        s.click("[data-testid=unstage]");
        s.wait_for("[data-testid=confirm-unstage]");
        s.click("[data-testid=unstage-keep]");
        assert!(staged_file.exists(), "kept when the administrator says so");
        // The page's step, then the native dialog: "no" keeps it, "yes" removes it.
        s.click("[data-testid=unstage]");
        std::fs::write(&app.dialog, "").unwrap();
        s.click("[data-testid=unstage-confirm]");
        s.wait_for("[data-testid=error]");
        assert!(staged_file.exists(), "kept when the native dialog says no");
        s.click("[data-testid=unstage]");
        std::fs::write(&app.dialog, "confirm").unwrap();
        s.click("[data-testid=unstage-confirm]");
        s.wait_text("[data-testid=notice]", |t| t.starts_with("The staged renewal was removed"));
        until(Duration::from_secs(10), || (!s.exists(shown)).then_some(()), || format!("{shown} still shown"));
        assert!(!staged_file.exists(), "damaged: {damaged}");
        assert_eq!(app.license(), old);
    }
}

/// Whether a command may change what is trusted (then only after the native dialog).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Gate {
    /// It changes nothing the environment or workstation trusts, where it writes or
    /// what it runs, whatever its arguments.
    NoTrustChange,
    /// It changes trust, and only through the native dialog (license_core::trust).
    AsksNatively,
}

/// Every command the webview may call, with the most hostile arguments a script in
/// the page could give it. A new command fails the gate test until it is here.
const GATE: &[(&str, Gate, &str)] = {
    use Gate::{AsksNatively as Asks, NoTrustChange as No};
    &[
        ("list_backups", No, "{}"),
        ("backup_now", No, "{}"),
        ("check_backup", No, r#"{"id": "../../../etc/passwd"}"#),
        ("restore_backup", No, r#"{"id": "../environment.toml", "confirmed": true, "onProgress": "CHANNEL"}"#),
        ("export_backup", No, r#"{"id": "../environment.toml"}"#),
        ("overview", No, "{}"),
        ("serial_qr", No, "{}"),
        ("choose_license_file", No, "{}"),
        ("paste_license", No, r#"{"text": "-----BEGIN LICENSE FILE-----\nAAAA\n-----END LICENSE FILE-----"}"#),
        ("current_candidate", No, "{}"),
        ("install_candidate", No, r#"{"confirmed": true, "onProgress": "CHANNEL"}"#),
        ("save_install_report", No, "{}"),
        ("save_license_copy", No, "{}"),
        ("usage_preview", No, "{}"),
        ("consumption_forecast", No, "{}"),
        ("generate_audit", No, "{}"),
        ("save_audit_copy", No, "{}"),
        ("upload_outbox", No, r#"{"onProgress": "CHANNEL"}"#),
        ("upload_audit_file", No, "{}"),
        ("audit_state", No, "{}"),
        ("register_environment", No, r#"{"activationCode": null, "reason": "\u001b[2J"}"#),
        ("fetch_license", No, "{}"),
        ("send_license", No, "{}"),
        ("save_license_request", No, r#"{"activationCode": null}"#),
        ("fulfil_request", No, "{}"),
        ("request_view", No, r#"{"activationCode": null}"#),
        ("cancel_portal_call", No, "{}"),
        ("app_role", No, "{}"),
        ("set_role", No, r#"{"role": "workstation"}"#),
        ("get_settings", No, "{}"),
        ("set_portal_token", No, r#"{"token": "lm_page_token"}"#),
        ("clear_portal_token", No, "{}"),
        ("renew_now", No, "{}"),
        ("add_to_transfer_file", No, r#"{"request": true, "existing": true}"#),
        ("open_transfer_here", No, "{}"),
        ("record_receipts", No, "{}"),
        ("get_workstation", No, "{}"),
        ("set_workstation_token", No, r#"{"token": "lm_page_token"}"#),
        ("infrastructure", No, "{}"),
        (
            "register_slot",
            No,
            r#"{"serial": "AAAAA-BBBBB-CCCCC-DDDDD", "environmentType": "production", "name": "x", "reason": null}"#,
        ),
        ("open_transfer_file", No, "{}"),
        ("process_transfer", No, r#"{"reasons": {}, "onProgress": "CHANNEL"}"#),
        ("infrastructure_timeline", No, "{}"),
        ("prepare_renewals", No, r#"{"days": 60}"#),
        // The trust changes: each reaches its dialog, which answers "no".
        (
            "create_config",
            Asks,
            r#"{"input": {"name": "Evil", "environment_type": "production", "license_file": "/tmp/evil.lic", "backup_dir": "/tmp", "vendor_key": "VENDORKEY"}}"#,
        ),
        ("save_settings", Asks, "SETTINGS"),
        (
            "save_workstation",
            Asks,
            r#"{"input": {"portal_url": "https://evil.example.com", "proxy": "http://evil.example.com:3128", "ca_bundle": "", "activation_code": "ACODE"}}"#,
        ),
        ("accept_clock", Asks, "{}"),
        ("remove_staged", Asks, "{}"),
        ("free_slot", Asks, r#"{"serial": "SERIAL"}"#),
        // Last: it opens another environment (the demo, in the app's own data folder).
        ("open_demo", No, "{}"),
    ]
};

/// What the environment and the workstation trust, where they write and what they
/// run, as files and the portal's slots: the gate test's "nothing changed".
fn trust_snapshot(dir: &Path, portal: &license_test_support::TestPortal) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out: Vec<(String, Option<Vec<u8>>)> = [
        "environment.toml",
        "license.lic",
        "workstation.toml",
        ".license-manager/staged.lic",
        ".license-manager/clock.json",
        "xdg-config/license-manager/environment.toml",
    ]
    .iter()
    .map(|rel| (rel.to_string(), std::fs::read(dir.join(rel)).ok()))
    .collect();
    let slots: String = portal
        .portal
        .db()
        .query_row("SELECT group_concat(coalesce(serial_number, '-'), ',') FROM slots", [], |r| r.get(0))
        .unwrap();
    out.push(("portal slots".into(), Some(slots.into_bytes())));
    out
}

/// The gate test: a script in the page calls every command in the generated table
/// with hostile arguments. Each changes nothing trusted; a trust change reaches the
/// native dialog, which answers "no", and then nothing changed either.
#[test]
fn every_command_changes_no_trust_anchor_or_asks_natively() {
    let caps: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/gen/schemas/capabilities.json")).unwrap(),
    )
    .unwrap();
    let mut table: Vec<String> = caps["main-window"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-").map(|c| c.replace('-', "_")))
        .collect();
    table.sort();
    let mut walked: Vec<String> = GATE.iter().map(|(c, _, _)| c.to_string()).collect();
    walked.sort();
    assert_eq!(walked, table, "every command in the generated table, and only those, is in GATE");

    let portal_cell = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, code) = portal_for_demo(dir);
        let env = license_core::Environment::open(&dir.join("environment.toml")).unwrap();
        let serial = env.serial().unwrap().serial_number.to_string();
        portal.portal.db().execute("UPDATE slots SET serial_number = ?1, name = 'Demo production'", [&serial]).unwrap();
        // A staged renewal, and a clock that once saw a time a month ahead.
        let next = std::fs::read(dir.join("samples/next-term.lic")).unwrap();
        env.install(&next, license_core::InstallOptions { confirmed: false }, &mut |_| {}).unwrap();
        license_core::environment::clock::observe(
            &env.config.state_dir(),
            chrono::Utc::now() + chrono::Duration::days(30),
        );
        std::fs::write(
            dir.join("workstation.toml"),
            format!("portal_url = \"{}\"\nactivation_code = \"{code}\"\n", portal.url),
        )
        .unwrap();
        let vars = vec![
            ("LICENSE_MANAGER_WORKSTATION", dir.join("workstation.toml").display().to_string()),
            ("XDG_CONFIG_HOME", dir.join("xdg-config").display().to_string()),
            ("LICENSE_MANAGER_TOKEN", token),
            ("LICENSE_MANAGER_PORTAL", portal.url.clone()),
        ];
        *portal_cell.borrow_mut() = Some((portal, serial, code.to_string()));
        vars
    });
    let (portal, serial, code) = portal_cell.into_inner().unwrap();
    let key = license_core::KeyPair::generate().public().to_base64url();
    assert!(app.path(".license-manager/staged.lic").exists(), "a renewal is staged");
    let shown = app.dir.path().join("dialog-answer.shown");
    let settings = json!({"settings": {
        "name": "Demo production", "environment_type": "production", "license_file": "/etc/passwd",
        "backup_dir": "/tmp", "portal_url": "https://evil.example.com", "proxy": "http://evil.example.com:3128",
        "ca_bundle": "", "vendor_keys": [key], "auto_renew": true,
    }});
    for (command, gate, args) in GATE {
        let before = trust_snapshot(app.dir.path(), &portal);
        let _ = std::fs::remove_file(&shown);
        let args: Value = match *args {
            "SETTINGS" => settings.clone(),
            a => serde_json::from_str(&a.replace("SERIAL", &serial).replace("ACODE", &code).replace("VENDORKEY", &key))
                .unwrap(),
        };
        let answer = app.session.async_script(
            "const [cmd, args, done] = arguments; \
             for (const k of Object.keys(args)) if (args[k] === 'CHANNEL') \
               args[k] = '__CHANNEL__:' + window.__TAURI_INTERNALS__.transformCallback(() => {}); \
             window.__TAURI_INTERNALS__.invoke(cmd, args).then(() => done({ok: true}), (e) => done({ok: false, code: e && e.code}));",
            json!([command, args]),
        );
        let after = trust_snapshot(app.dir.path(), &portal);
        for ((what, b), (_, a)) in before.iter().zip(&after) {
            assert_eq!(b, a, "{command} changed {what} ({answer})");
        }
        match gate {
            Gate::AsksNatively => {
                assert!(shown.exists(), "{command} did not ask natively ({answer})");
                assert_eq!(answer, json!({"ok": false, "code": "not_confirmed"}), "{command}");
            }
            Gate::NoTrustChange => {
                assert!(!shown.exists(), "{command} asked natively but is listed as no trust change")
            }
        }
    }
}

/// A staged renewal that a newer install made obsolete says on the Overview that it
/// will not be installed, and why, never "takes effect" (issue 31).
#[test]
fn an_obsolete_staged_renewal_says_it_will_not_install() {
    let app = App::open_with(|dir| {
        let env = license_core::Environment::open(&dir.join("environment.toml")).unwrap();
        let next = std::fs::read(dir.join("samples/next-term.lic")).unwrap();
        env.install(&next, license_core::InstallOptions { confirmed: false }, &mut |_| {}).unwrap();
        let newer = std::fs::read(dir.join("samples/renewal.lic")).unwrap();
        env.install(&newer, license_core::InstallOptions { confirmed: true }, &mut |_| {}).unwrap();
        vec![]
    });
    let s = &app.session;
    let said = s.wait_text("[data-testid=staged-will-not-install]", |t| !t.is_empty());
    assert!(said.contains("will not be installed") && said.contains("Remove it"), "{said}");
    s.click("[data-testid=staged-why] summary");
    let why = s.wait_text("[data-testid=staged-why]", |t| t.len() > "Details".len());
    assert!(why.contains("it gives less than the installed license"), "the reason, behind Details: {why}");
    assert!(!s.exists("[data-testid=staged-renewal]"), "not shown as taking effect");
    s.wait_for("[data-testid=unstage]");
}

/// A token given at start belongs to the portal declared then: once the portal is
/// moved in Settings (confirmed natively), the next portal call sends it nowhere
/// (issue 31).
#[test]
fn a_token_given_at_start_never_follows_a_moved_portal() {
    let other = license_test_support::Capture::answering("200 OK", "application/json", "{}".into());
    let app = App::open_with(|_| vec![("LICENSE_MANAGER_TOKEN", "lmp_given_at_start".into())]);
    std::fs::write(&app.dialog, "confirm").unwrap();
    let moved = app.session.async_script(
        "const [url, done] = arguments; const i = window.__TAURI_INTERNALS__; \
         i.invoke('get_settings').then((s) => i.invoke('save_settings', {settings: {...s, portal_url: url}})) \
          .then((s) => done(s.portal_url), (e) => done('failed: ' + JSON.stringify(e)));",
        json!([other.url]),
    );
    assert!(moved.as_str().is_some_and(|u| u.starts_with(&other.url)), "{moved}");
    let called = app.session.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('register_environment', {activationCode: null, reason: null}) \
          .then(() => done('ok'), (e) => done(e.code));",
        json!([]),
    );
    let seen = other.requests().join("\n");
    assert!(!seen.contains("lmp_given_at_start"), "the token followed the portal ({called}):\n{seen}");
}
