//! Wheels on disk: their names, their hash and their unpacking, all streamed from the
//! file (a wheel is never read into memory whole) and bounded by the admin's limits.

use super::requirement::normalize;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A resolved distribution, as stored in the environment's manifest and shown by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Distribution {
    /// Normalised name (`markupsafe`).
    pub name: String,
    pub version: String,
    /// The wheel file it came from.
    pub wheel: String,
}

impl Distribution {
    /// Name and version from a wheel file name (`name-version(-build)?-py-abi-plat.whl`).
    pub fn from_wheel_name(file: &str) -> Option<Self> {
        let stem = file.strip_suffix(".whl")?;
        let mut parts = stem.split('-');
        let name = parts.next().filter(|n| !n.is_empty())?;
        let version = parts.next().filter(|v| !v.is_empty())?;
        Some(Self {
            name: normalize(name),
            version: version.to_owned(),
            wheel: file.to_owned(),
        })
    }

    /// `name version`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// Why a wheel cannot be unpacked; the text names the distribution.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// Most members one wheel may have (a zip of a million empty files is a bomb too).
const MAX_MEMBERS: usize = 20_000;

/// Unpack `wheel` into `target`, counting the bytes actually written against `budget`
/// (the environment's remaining unpacked size; reduced on return). Member names are
/// checked (no absolute paths, no `..`), symbolic links are refused.
pub fn unpack(
    wheel: &Path,
    dist: &Distribution,
    target: &Path,
    budget: &mut u64,
    limit: u64,
) -> Result<(), WheelError> {
    let refused = |why: String| WheelError::Refused(format!("{}: {why}", dist.label()));
    let mut archive = zip::ZipArchive::new(File::open(wheel)?)
        .map_err(|e| refused(format!("the wheel is not a valid zip archive ({e})")))?;
    if archive.len() > MAX_MEMBERS {
        return Err(refused(format!(
            "the wheel has {} files, more than {MAX_MEMBERS}",
            archive.len()
        )));
    }
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|e| refused(format!("a member cannot be read ({e})")))?;
        let Some(relative) = member.enclosed_name() else {
            return Err(refused(format!(
                "the member {:?} points outside the package directory",
                member.name()
            )));
        };
        if member.is_symlink() {
            return Err(refused(format!(
                "the member {:?} is a symbolic link",
                member.name()
            )));
        }
        let path: PathBuf = target.join(relative);
        if member.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        if member.size() > *budget {
            return Err(too_big(dist, limit));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = File::create(&path)?;
        // The declared size is not trusted: count what the decompressor produces.
        let written = copy_bounded(&mut member, &mut out, *budget)?;
        match written {
            Some(n) => *budget -= n,
            None => return Err(too_big(dist, limit)),
        }
    }
    Ok(())
}

fn too_big(dist: &Distribution, limit: u64) -> WheelError {
    WheelError::Refused(format!(
        "{} unpacks to more than the {} limit for an environment's unpacked size \
         (packages.max_unpacked_bytes)",
        dist.label(),
        bytesize::ByteSize(limit)
    ))
}

/// Copy at most `limit` bytes; `None` when the source has more.
fn copy_bounded(
    from: &mut impl Read,
    to: &mut impl Write,
    limit: u64,
) -> std::io::Result<Option<u64>> {
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(Some(total));
        }
        total += n as u64;
        if total > limit {
            return Ok(None);
        }
        to.write_all(&buf[..n])?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn zip_with(path: &Path, members: &[(&str, Vec<u8>)]) {
        let mut writer = zip::ZipWriter::new(File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn wheel_names_give_name_and_version() {
        let d = Distribution::from_wheel_name(
            "Markup_Safe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.whl",
        )
        .unwrap();
        assert_eq!(
            (d.name.as_str(), d.version.as_str()),
            ("markup-safe", "3.0.2")
        );
        assert!(Distribution::from_wheel_name("x.tar.gz").is_none());
    }

    #[test]
    fn unpacking_counts_real_bytes_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let dist = Distribution::from_wheel_name("bomb-1.0-py3-none-any.whl").unwrap();
        let bomb = dir.path().join("bomb.whl");
        zip_with(&bomb, &[("bomb/zeros.bin", vec![0u8; 2_000_000])]);
        let mut budget = 1_000_000;
        let err = unpack(&bomb, &dist, &dir.path().join("a"), &mut budget, 1_000_000).unwrap_err();
        assert!(
            err.to_string().contains("bomb 1.0 unpacks to more than"),
            "{err}"
        );

        let ok = dir.path().join("ok.whl");
        zip_with(&ok, &[("ok/__init__.py", b"x = 1\n".to_vec())]);
        let mut budget = 100;
        unpack(&ok, &dist, &dir.path().join("b"), &mut budget, 100).unwrap();
        assert_eq!(budget, 94);
        assert!(dir.path().join("b/ok/__init__.py").is_file());

        let evil = dir.path().join("evil.whl");
        zip_with(&evil, &[("../escape.py", b"x".to_vec())]);
        let mut budget = 100;
        let err = unpack(&evil, &dist, &dir.path().join("c"), &mut budget, 100).unwrap_err();
        assert!(
            err.to_string().contains("outside the package directory"),
            "{err}"
        );
        assert!(!dir.path().join("escape.py").exists());
    }
}
