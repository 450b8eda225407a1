//! Saying what pip would not: which package blocks a resolution and why, and when a
//! resolution "succeeded" only by backtracking to an old major version or a placeholder.

use super::pip::{Pip, Target, WorkDir};
use super::requirement::{Requirement, normalize};
use super::wheel::Distribution;

/// A requirement pip could not satisfy, and who needed it.
#[derive(Debug, PartialEq, Eq)]
struct Blocker {
    name: String,
    requirement: String,
    needed_by: Option<String>,
}

/// The blockers pip names: "Could not find a version that satisfies the requirement X
/// (from P)" and the "P 2.0 depends on X" lines of a conflict report.
fn blockers(text: &str) -> Vec<Blocker> {
    let mut found: Vec<Blocker> = Vec::new();
    let mut push = |requirement: &str, needed_by: Option<String>| {
        let requirement = requirement.trim().to_owned();
        let end = requirement
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(requirement.len());
        let name = normalize(&requirement[..end]);
        if !name.is_empty() && !found.iter().any(|b| b.name == name) {
            found.push(Blocker {
                name,
                requirement,
                needed_by,
            });
        }
    };
    for line in text.lines() {
        if let Some(rest) = line.split("satisfies the requirement ").nth(1) {
            let (requirement, tail) = rest.split_once(" (").unwrap_or((rest, ""));
            let needed_by = tail
                .strip_prefix("from ")
                .and_then(|t| t.split(')').next())
                .filter(|p| !p.starts_with("versions"))
                .map(|p| p.to_owned());
            push(requirement, needed_by);
        } else if let Some((who, requirement)) = line.trim().split_once(" depends on ") {
            let parent = who.split_whitespace().next().unwrap_or(who).to_owned();
            push(requirement, Some(parent));
        }
    }
    found
}

/// The sentence for a failed `pip download`: the blocking package and why.
pub async fn failure(pip: &Pip, work: &WorkDir, text: &str) -> String {
    for blocker in blockers(text).into_iter().take(3) {
        if let Some(why) = blocker_reason(pip, work, &blocker).await {
            return why;
        }
    }
    let conflict: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(" depends on ") || l.starts_with("The user requested"))
        .collect();
    if !conflict.is_empty() {
        return format!(
            "the requirements conflict: {}; loosen or change the versions",
            conflict.join("; ")
        );
    }
    let last = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("ERROR:"))
        .or_else(|| text.lines().rev().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("pip failed");
    format!(
        "resolving the requirements failed: {}",
        last.trim_start_matches("ERROR: ")
    )
}

/// Distributions with native code that the data profile's interpreter has compiled in.
const DATA_PROFILE_PACKAGES: &[&str] = &[
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "statsmodels",
    "matplotlib",
    "pillow",
    "lxml",
    "contourpy",
    "kiwisolver",
    "pyyaml",
    "regex",
    "markupsafe",
    "charset-normalizer",
    "fonttools",
];

/// Why a blocker cannot be had, or `None` when it has usable wheels after all (then
/// the conflict is between versions, not about native code).
async fn blocker_reason(pip: &Pip, work: &WorkDir, blocker: &Blocker) -> Option<String> {
    let needed = blocker
        .needed_by
        .as_ref()
        .map(|p| format!(", which {p} needs"))
        .unwrap_or_default();
    if let Some(newest) = pip.probe(work, &blocker.name, Target::Pure).await {
        let requested = blocker.requirement != blocker.name;
        return requested.then(|| {
            format!(
                "no pure-Python wheel of {} matches `{}`{needed}; the newest with one is {newest}",
                blocker.name, blocker.requirement
            )
        });
    }
    if let Some(native) = pip.probe(work, &blocker.name, Target::Platform).await {
        let data = if DATA_PROFILE_PACKAGES.contains(&blocker.name.to_ascii_lowercase().as_str()) {
            "; it comes built in with the data runtime profile: set the script's runtime to \
             \"data\" and drop the requirement"
        } else {
            ""
        };
        return Some(format!(
            "{} {native} has no pure-Python wheel (only platform wheels){needed}; packages with \
             native code cannot run in the sandbox{data}",
            blocker.name
        ));
    }
    if let Some(any) = pip.versions(work, &blocker.name).await {
        return Some(format!(
            "{} {} has no wheel, only a source archive{needed}; building it would run its \
             code on the host, which Automa does not do",
            blocker.name, any[0]
        ));
    }
    Some(format!(
        "{} was not found on the package index{needed}",
        blocker.name
    ))
}

/// The leading release number (`2` of `2.10.1`, after an optional epoch).
fn major(version: &str) -> Option<u64> {
    let version = version.rsplit('!').next().unwrap_or(version);
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn is_placeholder(version: &str) -> bool {
    let mut parts = version.split('.');
    parts.next() == Some("0") && parts.next().is_some_and(|p| p.parse() == Ok(0u64))
}

/// Refuse a top-level requirement that resolved to an older major version than the
/// newest release on the index, or to a 0.0.x placeholder, unless the user pinned it.
pub async fn check_truth(
    pip: &Pip,
    work: &WorkDir,
    requirements: &[Requirement],
    resolved: &[Distribution],
    timeout: std::time::Duration,
) -> Result<(), String> {
    for requirement in requirements.iter().filter(|r| !r.pins_explicitly()) {
        let Some(got) = resolved.iter().find(|d| d.name == requirement.key) else {
            continue;
        };
        let name = &requirement.name;
        if is_placeholder(&got.version) {
            return Err(format!(
                "{name} resolved to {}, a 0.0.x placeholder release; if that is really what \
                 you want, pin it: `{name}=={}`",
                got.version, got.version
            ));
        }
        let Some(newest) = pip
            .versions(work, &requirement.key)
            .await
            .and_then(|v| v.into_iter().next())
        else {
            continue;
        };
        let (Some(have), Some(best)) = (major(&got.version), major(&newest)) else {
            continue;
        };
        if have >= best {
            continue;
        }
        let why = newest_blocker(pip, work, &requirement.key, &newest, timeout).await;
        return Err(format!(
            "{name} resolved to {}, an older major version than the newest release {newest}{why}; \
             to use {} anyway, pin it: `{name}=={have}.*` or `{name}<{}`",
            got.version,
            got.version,
            have + 1
        ));
    }
    Ok(())
}

/// Why the newest release could not be used, as ", because ...".
async fn newest_blocker(
    pip: &Pip,
    work: &WorkDir,
    key: &str,
    newest: &str,
    timeout: std::time::Duration,
) -> String {
    let Ok(probe) = WorkDir::new(work.root.path()) else {
        return String::new();
    };
    let line = format!("{key}=={newest}");
    match pip
        .download(&probe, std::slice::from_ref(&line), timeout, &|| None)
        .await
    {
        Ok(out) if !out.success => format!(", because {}", failure(pip, work, &out.text).await),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blockers_are_read_from_both_kinds_of_pip_failure() {
        let missing = "ERROR: Could not find a version that satisfies the requirement MarkupSafe>=2.0 (from jinja2) (from versions: none)\nERROR: No matching distribution found for MarkupSafe>=2.0\n";
        assert_eq!(
            blockers(missing),
            vec![Blocker {
                name: "markupsafe".into(),
                requirement: "MarkupSafe>=2.0".into(),
                needed_by: Some("jinja2".into()),
            }]
        );
        let top = "ERROR: Could not find a version that satisfies the requirement numpy (from versions: none)\n";
        assert_eq!(blockers(top)[0].needed_by, None);
        let conflict = "The conflict is caused by:\n    jin 2.0 depends on FastCore>=1.0\n    jin 1.0 depends on FastCore>=1.0\n";
        let found = blockers(conflict);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "fastcore");
        assert_eq!(found[0].needed_by.as_deref(), Some("jin"));
    }

    #[test]
    fn majors_and_placeholders() {
        assert_eq!(major("2.10.1"), Some(2));
        assert_eq!(major("1!3.0"), Some(3));
        assert_eq!(major("10rc1"), Some(10));
        assert!(is_placeholder("0.0.1"));
        assert!(is_placeholder("0.0"));
        assert!(!is_placeholder("0.1.0"));
        assert!(!is_placeholder("1.0.0"));
    }
}
