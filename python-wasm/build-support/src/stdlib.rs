//! CPython's pure-Python standard library, taken from the pinned componentize-py.
//!
//! componentize-py embeds the `Lib` of the very CPython it snapshots, as a
//! zstd-compressed tar inside its native module; the runner component keeps only the
//! modules imported while it was built. Mounting this `Lib` at run time gives scripts
//! every other module, every codec and the source lines of tracebacks, from the same
//! interpreter version. The build finds that archive, drops what can never work in the
//! sandbox (GUI toolkits, bundled pip wheels) and re-packs it.

use crate::BuildResult;
use std::collections::BTreeSet;
use std::fs;
use std::io::{Cursor, Read};
use std::path::Path;

/// Files every real standard library has; a tar without them is another archive.
const MARKERS: &[&str] = &["encodings/__init__.py", "_strptime.py", "configparser.py"];

/// Top-level entries left out: they need a display or a package index, never here.
const LEFT_OUT: &[&str] = &[
    "idlelib",
    "tkinter",
    "turtledemo",
    "turtle.py",
    "ensurepip",
    "site-packages",
    "__phello__",
    "__hello__.py",
];

/// The standard library as a zstd-compressed tar, read out of componentize-py's native
/// module at `native_module`.
pub fn stdlib_archive(native_module: &Path) -> BuildResult<Vec<u8>> {
    let binary =
        fs::read(native_module).map_err(|e| format!("{}: {e}", native_module.display()))?;
    let tar = find_stdlib_tar(&binary).ok_or_else(|| {
        format!(
            "no standard-library archive found in {}; the pinned componentize-py changed shape",
            native_module.display()
        )
    })?;
    let repacked = repack(&tar)?;
    Ok(ruzstd::encoding::compress_to_vec(
        repacked.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    ))
}

/// The first zstd frame in `binary` that decodes to a tar holding the [`MARKERS`].
fn find_stdlib_tar(binary: &[u8]) -> Option<Vec<u8>> {
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let mut at = 0;
    while let Some(found) = find(&binary[at..], &ZSTD_MAGIC) {
        let start = at + found;
        at = start + ZSTD_MAGIC.len();
        let Ok(mut decoder) = ruzstd::decoding::StreamingDecoder::new(&binary[start..]) else {
            continue;
        };
        // Look at the first tar header before decoding the whole frame: most frames
        // are compiled wasm modules, megabytes each.
        let mut decoded = vec![0; 512];
        if decoder.read_exact(&mut decoded).is_err() || decoded.get(257..262) != Some(b"ustar") {
            continue;
        }
        if decoder.read_to_end(&mut decoded).is_err() {
            continue;
        }
        if is_stdlib_tar(&decoded) {
            return Some(decoded);
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_stdlib_tar(bytes: &[u8]) -> bool {
    // A ustar header has its magic at offset 257.
    if bytes.get(257..262) != Some(b"ustar") {
        return false;
    }
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let Ok(entries) = archive.entries() else {
        return false;
    };
    let names: BTreeSet<String> = entries
        .flatten()
        .filter_map(|e| e.path().ok().map(|p| p.to_string_lossy().into_owned()))
        .collect();
    MARKERS.iter().all(|m| names.contains(*m))
}

/// A tar of the regular files of `tar` minus [`LEFT_OUT`] and byte-code caches, in
/// name order with fixed metadata, so the same input always gives the same bytes.
fn repack(tar: &[u8]) -> BuildResult<Vec<u8>> {
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let mut files = Vec::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let top = path.split('/').next().unwrap_or("");
        if LEFT_OUT.contains(&top) || path.contains("__pycache__") || path.ends_with(".pyc") {
            continue;
        }
        let mut contents = Vec::new();
        entry
            .read_to_end(&mut contents)
            .map_err(|e| format!("{path}: {e}"))?;
        files.push((path, contents));
    }
    files.sort();
    let mut out = tar::Builder::new(Vec::new());
    for (path, contents) in &files {
        let mut header = tar::Header::new_ustar();
        header.set_size(contents.len() as u64);
        header.set_mode(0o444);
        // Not zero: some tools treat a zero mtime as "unknown".
        header.set_mtime(1);
        header.set_entry_type(tar::EntryType::Regular);
        out.append_data(&mut header, path, contents.as_slice())
            .map_err(|e| format!("{path}: {e}"))?;
    }
    out.into_inner().map_err(|e| e.to_string())
}
