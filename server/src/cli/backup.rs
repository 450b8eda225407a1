//! `automa backup FILE` and `automa restore FILE --data-dir EMPTY_DIR`, on the server's
//! own data dir like `automa user`. The archive (tar.gz) holds a consistent SQLite
//! snapshot taken with `VACUUM INTO` (safe while the server runs) and every other file of
//! the data dir: keys, script data dirs, job artifacts, plugins, packages. The compiled
//! runtime cache is left out (it is rebuilt). With PostgreSQL the database is not in the
//! archive: `pg_dump` covers it.

use super::user::DbArgs;
use anyhow::{Context as _, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sqlx::Connection as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr as _;

/// The archive's first entry: what it is and which database it holds.
const MANIFEST: &str = "automa-backup.json";
const FORMAT: u64 = 1;
const DB_FILE: &str = "automa.db";
/// Never archived: the live database files (the snapshot replaces them) and the cache.
const SKIPPED: [&str; 5] = [
    "automa.db",
    "automa.db-wal",
    "automa.db-shm",
    "automa.db-journal",
    "cache",
];

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The archive to write (tar.gz); refused if it exists.
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// An archive written by `automa backup`.
    file: PathBuf,
    /// The data dir to restore into: must be missing or empty.
    #[arg(long, env = "AUTOMA_DATA_DIR")]
    data_dir: PathBuf,
}

pub fn backup_main(args: BackupArgs) -> ExitCode {
    report("backup", super::user::block_on(backup(args)))
}

pub fn restore_main(args: RestoreArgs) -> ExitCode {
    report("restore", restore(&args))
}

fn report(what: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("automa {what}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let data = &args.db.data_dir;
    if !data.is_dir() {
        bail!("no data dir at {}", data.display());
    }
    if args.file.exists() {
        bail!("{} exists; choose a new file name", args.file.display());
    }
    let sqlite_url = match &args.db.database_url {
        None => Some(format!("sqlite://{}", data.join(DB_FILE).display())),
        Some(url) if url.starts_with("sqlite:") => Some(url.clone()),
        Some(_) => None,
    };
    // Next to the archive, so the final rename stays on one file system.
    let parent = match args.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let work = tempfile::tempdir_in(&parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let snapshot = work.path().join(DB_FILE);
    if let Some(url) = &sqlite_url {
        snapshot_sqlite(url, &snapshot).await?;
    }
    let manifest = json!({
        "format": FORMAT,
        "automa_version": env!("CARGO_PKG_VERSION"),
        "created_at": crate::db::rfc3339(crate::db::now_ms()),
        "database": if sqlite_url.is_some() { "sqlite" } else { "external" },
    });
    let partial = work.path().join("backup.tar.gz");
    let files = write_archive(
        &partial,
        &manifest,
        data,
        sqlite_url.is_some().then_some(&snapshot),
    )?;
    std::fs::rename(&partial, &args.file)
        .with_context(|| format!("cannot write {}", args.file.display()))?;
    eprintln!("wrote {} ({files} files)", args.file.display());
    if sqlite_url.is_none() {
        eprintln!("the database is PostgreSQL and is not in the archive: back it up with pg_dump");
    }
    Ok(())
}

/// `VACUUM INTO`: a consistent copy of the live database, even while the server writes.
async fn snapshot_sqlite(url: &str, to: &Path) -> anyhow::Result<()> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("bad database URL {url}"))?
        .create_if_missing(false)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(30));
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    let target = to.to_str().context("the temporary path is not UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("VACUUM INTO (snapshot of the database)")?;
    conn.close().await?;
    Ok(())
}

fn write_archive(
    to: &Path,
    manifest: &Value,
    data: &Path,
    snapshot: Option<&PathBuf>,
) -> anyhow::Result<usize> {
    let file =
        std::fs::File::create(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    tar.follow_symlinks(false);
    let bytes = serde_json::to_vec_pretty(manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(crate::db::now_ms() / 1000).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, bytes.as_slice())?;
    let mut files = 0;
    if let Some(snapshot) = snapshot {
        tar.append_path_with_name(snapshot, DB_FILE)?;
        files += 1;
    }
    files += append_tree(&mut tar, data, Path::new(""), true)?;
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(files)
}

/// Adds `root/rel` recursively; files that vanish meanwhile (a job's artifacts being
/// removed) are skipped.
fn append_tree<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    root: &Path,
    rel: &Path,
    top: bool,
) -> anyhow::Result<usize> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    entries.sort_by_key(|e| e.file_name());
    let mut files = 0;
    for entry in entries {
        let name = entry.file_name();
        if top && SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        let rel = rel.join(&name);
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let result = if kind.is_dir() {
            tar.append_dir(&rel, entry.path())
                .map_err(anyhow::Error::from)
                .and_then(|()| append_tree(tar, root, &rel, false).map(|n| files += n))
        } else if kind.is_file() {
            tar.append_path_with_name(entry.path(), &rel)
                .map(|()| files += 1)
                .map_err(anyhow::Error::from)
        } else {
            Ok(()) // sockets, symlinks: nothing of Automa's
        };
        match result {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.context(format!("archiving {}", rel.display()))),
        }
    }
    Ok(files)
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
}

fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let dir = &args.data_dir;
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "refusing to restore into {}: it is not empty (restore into a new or empty dir)",
                dir.display()
            );
        }
    }
    crate::auth::keys::create_private_dir(dir)?;
    let result = unpack(&args.file, dir);
    if result.is_err() {
        // The dir was empty: take back what was unpacked, so a retry can use it.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
    let manifest = result?;
    eprintln!("restored {} into {}", args.file.display(), dir.display());
    if manifest["database"] != "sqlite" {
        eprintln!(
            "the backup has no database (PostgreSQL): restore it with pg_restore/psql and point DATABASE_URL at it"
        );
    }
    Ok(())
}

/// Unpacks the archive into `dir` (entries with `..` or absolute paths are refused by
/// `unpack_in`); returns the manifest after checking it.
fn unpack(file: &Path, dir: &Path) -> anyhow::Result<Value> {
    let reader =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(reader)));
    archive.set_preserve_permissions(true);
    let mut manifest: Option<Value> = None;
    let not_backup = || format!("{} is not an automa backup", file.display());
    for (i, entry) in archive.entries().with_context(not_backup)?.enumerate() {
        let mut entry = entry.with_context(not_backup)?;
        let path = entry.path()?.into_owned();
        if i == 0 {
            if path != Path::new(MANIFEST) {
                bail!("{} (it does not start with {MANIFEST})", not_backup());
            }
            let value: Value = serde_json::from_reader(&mut entry).with_context(not_backup)?;
            if value["format"].as_u64() != Some(FORMAT) {
                bail!(
                    "{} has backup format {}; this automa reads format {FORMAT}",
                    file.display(),
                    value["format"]
                );
            }
            manifest = Some(value);
            continue;
        }
        if !entry.unpack_in(dir)? {
            bail!(
                "the archive entry {} points outside the data dir",
                path.display()
            );
        }
    }
    manifest.with_context(not_backup)
}
