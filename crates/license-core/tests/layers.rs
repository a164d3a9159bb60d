//! The core's modules stand in floors: a module may use only modules on floors
//! below its own, and never the crate root, which only re-exports (it is the top:
//! the face the app and the CLI see). So there is no import cycle and no back-edge. ARCHITECTURE.md ("Floors of license-core") shows the same table;
//! this test reads every `crate::` path in the source (tests left out) and fails on
//! a path that reaches up or sideways, and on a module the table does not place.

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first. Modules on one floor never use each other.
const FLOORS: &[&[&str]] = &[
    &["kind", "timestamp", "strict_json", "zip_index", "qr", "digest", "text", "winpath", "sddl"],
    &["error", "acl", "system_path"],
    &["crockford", "keys", "fs", "portal_url", "run", "armor", "trust"],
    &["activation", "serial", "document", "release", "secrets", "rotation", "passing_lock"],
    &["payload"],
    &["check", "portal", "transfer"],
    &["environment"],
    &["workstation", "demo"],
];

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
            let rel = p.strip_prefix(&src).unwrap();
            if rel == Path::new("lib.rs") || rel.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            // By component, not by '/': the test also runs under Wine, where the
            // separator is a backslash.
            let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
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
            if used == module {
                continue;
            }
            match floor_of(&used) {
                Some(f) if f < floor => {}
                Some(f) if seen.insert(used.clone()) => {
                    wrong.push(format!("{module} (floor {floor}) uses {used} (floor {f})"))
                }
                Some(_) => {}
                None if seen.insert(used.clone()) => wrong.push(format!(
                    "{module} uses crate::{used}, which is the crate root's: name the module that defines it"
                )),
                None => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The crate root only declares modules and re-exports (and the `ts_as!` macro,
/// which modules name bare): nothing in it for a module to import, so no arrow
/// runs from a module up to the root.
#[test]
fn the_root_only_re_exports() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let macro_end = lib.find("\n}\n").expect("the ts_as! macro") + 3;
    let defined: Vec<&str> = lib[macro_end..]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .filter(|l| !(l.starts_with("pub mod ") || l.starts_with("mod ") || l.starts_with("pub use ")))
        .filter(|l| !l.starts_with("#[cfg("))
        .collect();
    assert!(defined.is_empty(), "lib.rs defines more than modules and re-exports: {defined:#?}");
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
    assert_eq!(crate_paths("crate::count(2, \"audit\")"), ["count"], "a root item is seen, so it is refused");
    assert_eq!(floor_of("error"), Some(1));
    assert!(sources().contains_key("environment"), "modules in folders are read");
}

/// Inside `environment/`, lowest first; `mod` is `environment/mod.rs` (the
/// `Environment` itself and the install), which everything above it extends.
const ENVIRONMENT_FLOORS: &[&[&str]] = &[
    &["config", "backups", "identity"],
    &["usage", "report", "clock"],
    &["mod"],
    &["forecast"],
    &["audits", "drift", "subscription", "requests", "staged", "renewal"],
    &["audit_verdict", "audit_view", "request_view"],
    &["overview"],
    &["monitor", "transfer_here"],
];

/// The environment's files use only what stands below them: a submodule names
/// its neighbours as `super::x`, and `mod.rs` names its submodules as `x::`.
#[test]
fn the_environment_modules_stand_in_floors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/environment");
    let floor = |m: &str| ENVIRONMENT_FLOORS.iter().position(|f| f.contains(&m));
    let names: Vec<&str> = ENVIRONMENT_FLOORS.iter().flat_map(|f| f.iter().copied()).filter(|m| *m != "mod").collect();
    let mut wrong = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let file = e.file_name().to_string_lossy().trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(e.path()).unwrap();
        let code = text.split("\nmod tests {").next().unwrap();
        let Some(own) = floor(&file) else {
            wrong.push(format!("environment/{file}.rs is not in ENVIRONMENT_FLOORS"));
            continue;
        };
        let mut used: Vec<&str> = Vec::new();
        if file == "mod" {
            used.extend(names.iter().filter(|n| {
                code.match_indices(&format!("{n}::"))
                    .any(|(i, _)| !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
            }));
        } else {
            for (i, _) in code.match_indices("super::") {
                let next: String = code[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                used.push(names.iter().find(|n| **n == next).copied().unwrap_or("mod"));
            }
        }
        for u in used {
            if u != file && floor(u).is_some_and(|f| f >= own) {
                wrong.push(format!("environment/{file} (floor {own}) uses {u} (floor {})", floor(u).unwrap()));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
