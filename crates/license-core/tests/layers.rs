//! The core's modules stand in floors: a module may use only modules on floors
//! below its own (and the crate root's small helpers). So there is no import cycle
//! and no back-edge. ARCHITECTURE.md ("Floors of license-core") shows the same table;
//! this test reads every `crate::` path in the source (tests left out) and fails on
//! a path that reaches up or sideways, and on a module the table does not place.

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first. Modules on one floor never use each other.
const FLOORS: &[&[&str]] = &[
    &["kind", "timestamp", "strict_json", "zip_index", "qr"],
    &["error"],
    &["crockford", "keys", "fs", "portal_url", "run", "armor"],
    &["activation", "serial", "document", "release", "secrets"],
    &["payload"],
    &["check", "portal", "transfer"],
    &["environment"],
    &["workstation", "demo"],
];

/// Helpers defined in `lib.rs` itself, below every floor.
const ROOT: &[&str] = &["count", "printable", "hex_lower", "sha256_hex", "ts_as", "MAX_FILE_BYTES"];

/// The source of every module, by top-level module name, without its tests.
fn sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().to_string();
            if rel == "lib.rs" || !rel.ends_with(".rs") {
                continue;
            }
            let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let code: String = code.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
            out.entry(module).or_insert_with(String::new).push_str(&code);
        }
    }
    out
}

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// The names after `crate::` in `code` (each name of a `crate::{a, b::c}` group).
fn crate_paths(code: &str) -> Vec<String> {
    let word = |s: &str| s.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    for (i, m) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + m.len()..];
        match rest.strip_prefix('{') {
            Some(group) => out.extend(group.split('}').next().unwrap().split(',').map(word).filter(|w| !w.is_empty())),
            None => out.push(word(rest)),
        }
    }
    out
}

#[test]
fn every_module_uses_only_floors_below_it() {
    let mut wrong = Vec::new();
    for (module, code) in sources() {
        let Some(floor) = floor_of(&module) else {
            wrong.push(format!("{module}: not in FLOORS; give it a floor (and in ARCHITECTURE.md)"));
            continue;
        };
        let mut seen = std::collections::BTreeSet::new();
        for used in crate_paths(&code) {
            if used == module || ROOT.contains(&used.as_str()) || used.starts_with(char::is_uppercase) {
                continue;
            }
            match floor_of(&used) {
                Some(f) if f < floor => {}
                Some(f) if seen.insert(used.clone()) => {
                    wrong.push(format!("{module} (floor {floor}) uses {used} (floor {f})"))
                }
                Some(_) => {}
                None if seen.insert(used.clone()) => {
                    wrong.push(format!("{module} uses crate::{used}, which is no module"))
                }
                None => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Re-exports at the crate root (`crate::SerialNumber`) are checked too: each must
/// name a type of a floor below the user.
#[test]
fn root_reexports_point_down() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut home: BTreeMap<String, String> = BTreeMap::new();
    for line in lib.lines().filter(|l| l.starts_with("pub use ")) {
        let path = line.trim_start_matches("pub use ").trim_end_matches(';');
        let (module, names) = path.split_once("::").unwrap();
        for n in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            home.insert(n.trim().rsplit("::").next().unwrap().to_string(), module.to_string());
        }
    }
    let mut wrong = Vec::new();
    for (module, code) in sources() {
        let floor = floor_of(&module).unwrap();
        for used in crate_paths(&code).into_iter().filter(|u| u.starts_with(char::is_uppercase)) {
            if let Some(from) = home.get(&used) {
                let f = floor_of(from).unwrap();
                if from != &module && f >= floor {
                    wrong.push(format!("{module} uses crate::{used}, from {from} (floor {f})"));
                }
            }
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The transfer file format knows nothing of HTTP: taking a file to the portal is
/// the workstation's (`workstation::process`).
#[test]
fn the_transfer_format_knows_nothing_of_the_portal() {
    let sources = sources();
    let format = &sources["transfer"];
    for word in ["PortalClient", "reqwest", "async fn", ".await", "crate::portal"] {
        assert!(!format.contains(word), "transfer.rs mentions {word}");
    }
}

/// The scan itself: it finds what it must, so the tests above can fail.
#[test]
fn the_scan_sees_crate_paths() {
    assert_eq!(crate_paths("use crate::fs::{self};\nlet x = crate::payload::Audit::open(b);"), ["fs", "payload"]);
    assert_eq!(crate_paths("license_crate::x"), Vec::<String>::new());
    assert_eq!(crate_paths("use crate::{ActivationCode, fs::Links};"), ["ActivationCode", "fs"]);
    assert_eq!(floor_of("error"), Some(1));
    assert!(sources().contains_key("environment"), "modules in folders are read");
}
