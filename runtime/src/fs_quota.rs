//! Disk quotas of the writable mounts (`/data`, `/artifacts`, `/tmp`).
//!
//! wasmtime-wasi's preopened directories have no quota hook, so the runtime links its
//! own `wasi:filesystem/types` over wasmtime-wasi's: every call is passed on, and the
//! calls that make a mount hold more (writes, streams, `set-size`, new files,
//! directories and links) are first counted against the mount's [`DiskBudget`], the
//! ones that free space (truncation, unlink, rename over a file) given back. A write
//! the budget cannot hold fails with `insufficient-space` (or, on a stream, see
//! [`CountedStream`]), which the guest sees as `OSError` ENOSPC "No space left on
//! device" (`errno.ENOSPC`, 51 in WASI's numbering, 28 on Linux), and the script goes
//! on.
//!
//! A budget starts from what the directory holds when it is first mounted, counted
//! as the files' sizes plus [`ENTRY_BYTES`] per file, directory or link. `/data` is the
//! script's across its runs, so its budget is shared by the runs that have it mounted
//! at once ([`DiskBudgets`]).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use wasmtime::component::{HasData, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    ErrorCode, HostDescriptor, HostDirectoryEntryStream,
};
use wasmtime_wasi::p2::bindings::filesystem::{preopens, types};
use wasmtime_wasi::p2::{
    DynOutputStream, FsResult, OutputStream, Pollable, StreamError, StreamResult,
};

/// What each file, directory or link costs besides its bytes: about the block a disk
/// spends on it, so a flood of empty files runs out too.
pub const ENTRY_BYTES: u64 = 4096;

/// The bytes one mount may hold and holds.
#[derive(Debug)]
pub(crate) struct DiskBudget {
    state: Mutex<Usage>,
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    limit: u64,
    used: u64,
}

fn no_space() -> io::Error {
    io::Error::from_raw_os_error(libc_enospc())
}

/// ENOSPC, the errno the guest sees as 28 (WASI's `insufficient-space`).
const fn libc_enospc() -> i32 {
    28
}

impl DiskBudget {
    fn new(limit: u64, used: u64) -> Self {
        Self {
            state: Mutex::new(Usage { limit, used }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Usage> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take `bytes` from the budget, or fail with ENOSPC when they do not fit.
    fn charge(&self, bytes: u64) -> io::Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        let mut usage = self.lock();
        let used = usage.used.saturating_add(bytes);
        if used > usage.limit {
            return Err(no_space());
        }
        usage.used = used;
        Ok(())
    }

    /// Give `bytes` back.
    fn release(&self, bytes: u64) {
        let mut usage = self.lock();
        usage.used = usage.used.saturating_sub(bytes);
    }

    /// Bytes that still fit.
    fn room(&self) -> u64 {
        let usage = self.lock();
        usage.limit.saturating_sub(usage.used)
    }

    /// Bytes counted as held now.
    #[cfg(test)]
    fn used(&self) -> u64 {
        self.lock().used
    }
}

/// The host's own writes into a mount (`automa.files.publish` into `/artifacts`)
/// count against the same budget as the guest's.
impl automa_host_api::ports::DiskSpace for DiskBudget {
    fn charge(&self, bytes: u64) -> bool {
        DiskBudget::charge(self, bytes).is_ok()
    }

    fn release(&self, bytes: u64) {
        DiskBudget::release(self, bytes);
    }

    fn entry_bytes(&self) -> u64 {
        ENTRY_BYTES
    }
}

/// What a directory holds now, as a budget counts it: its files' sizes (a file with
/// several links once) plus [`ENTRY_BYTES`] per entry. Symbolic links are not followed.
/// The server shows it as a script's `/data` usage, so both count the same way.
pub fn measure(dir: &Path) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let meta = entry.path().symlink_metadata()?;
            total = total.saturating_add(ENTRY_BYTES);
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() && (meta.nlink() <= 1 || seen.insert((meta.dev(), meta.ino())))
            {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total)
}

/// The shared budgets of directories mounted by several runs at once (a script's
/// `/data`): one budget per directory while any run has it mounted.
#[derive(Debug, Default)]
pub(crate) struct DiskBudgets(Mutex<HashMap<PathBuf, Weak<DiskBudget>>>);

impl DiskBudgets {
    /// The budget of `dir` with `limit` bytes: the one runs share while it is mounted,
    /// or a new one from what the directory holds now. The latest limit applies.
    pub(crate) fn get(&self, dir: &Path, limit: u64) -> io::Result<Arc<DiskBudget>> {
        let key = dir.canonicalize()?;
        let mut budgets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        budgets.retain(|_, b| b.strong_count() > 0);
        if let Some(budget) = budgets.get(&key).and_then(Weak::upgrade) {
            budget.lock().limit = limit;
            return Ok(budget);
        }
        let budget = Arc::new(DiskBudget::new(limit, measure(&key)?));
        budgets.insert(key, Arc::downgrade(&budget));
        Ok(budget)
    }
}

/// One budget of a run's own directory (`/tmp`, `/artifacts`), from what it holds now.
pub(crate) fn own_budget(dir: &Path, limit: u64) -> io::Result<Arc<DiskBudget>> {
    Ok(Arc::new(DiskBudget::new(limit, measure(dir)?)))
}

/// A run's budgets, by guest mount and by open descriptor.
#[derive(Debug, Default)]
pub(crate) struct FsQuotas {
    mounts: Vec<(String, Arc<DiskBudget>)>,
    descriptors: HashMap<u32, Arc<DiskBudget>>,
}

impl FsQuotas {
    /// Count writes under the guest directory `guest` against `budget`.
    pub(crate) fn mount(&mut self, guest: &str, budget: Arc<DiskBudget>) {
        self.mounts.push((guest.to_owned(), budget));
    }

    /// The budget of the guest directory `guest`, when it has one.
    pub(crate) fn budget_of(&self, guest: &str) -> Option<Arc<DiskBudget>> {
        self.mounts
            .iter()
            .find(|(g, _)| g == guest)
            .map(|(_, b)| b.clone())
    }

    fn of(&self, fd: &Resource<types::Descriptor>) -> Option<Arc<DiskBudget>> {
        self.descriptors.get(&fd.rep()).cloned()
    }
}

/// The filesystem view the quota layer works on: wasmtime-wasi's, and the run's budgets.
pub(crate) struct QuotaFs<'a> {
    pub(crate) fs: WasiFilesystemCtxView<'a>,
    pub(crate) quotas: &'a mut FsQuotas,
}

/// [`HasData`] of [`QuotaFs`], for linking.
pub(crate) struct QuotaFsData;

impl HasData for QuotaFsData {
    type Data<'a> = QuotaFs<'a>;
}

/// `op`, which makes one directory entry, with the entry charged first (refused when
/// it does not fit) and given back when `op` fails.
async fn adding_entry<T>(
    budget: Option<&DiskBudget>,
    op: impl std::future::Future<Output = FsResult<T>>,
) -> FsResult<T> {
    if let Some(budget) = budget {
        budget.charge(ENTRY_BYTES).map_err(io_error)?;
    }
    let done = op.await;
    if let (Err(_), Some(budget)) = (&done, budget) {
        budget.release(ENTRY_BYTES);
    }
    done
}

fn borrow(fd: &Resource<types::Descriptor>) -> Resource<types::Descriptor> {
    Resource::new_borrow(fd.rep())
}

fn io_error(e: io::Error) -> wasmtime_wasi::p2::FsError {
    ErrorCode::from(e).into()
}

/// A file's size and links, when `path` names one under `dir` (not following a link).
struct Entry {
    is_file: bool,
    size: u64,
    links: u64,
    /// Which file it is (device, inode), to find it among the open ones.
    inode: (u64, u64),
}

impl QuotaFs<'_> {
    /// The entry `path` names under the directory `dir` (not following a last link),
    /// by one `fstatat` on this thread: much cheaper than a blocking-pool round trip
    /// per file operation. Only used to count what an operation that then succeeds on
    /// the same path adds or frees, so a path the sandbox would refuse changes nothing.
    fn entry_at(&self, dir: &Resource<types::Descriptor>, path: &str) -> Option<Entry> {
        let Ok(Descriptor::Dir(d)) = self.fs.table.get(dir) else {
            return None;
        };
        if path.starts_with('/') {
            return None;
        }
        let stat = rustix::fs::statat(&*d.dir, path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
        let kind = rustix::fs::FileType::from_raw_mode(stat.st_mode);
        Some(Entry {
            is_file: kind == rustix::fs::FileType::RegularFile,
            size: u64::try_from(stat.st_size).unwrap_or_default(),
            links: stat.st_nlink,
            inode: (stat.st_dev, stat.st_ino),
        })
    }

    fn open_file(&self, fd: &Resource<types::Descriptor>) -> FsResult<Arc<std::fs::File>> {
        match self.fs.table.get(fd)? {
            Descriptor::File(f) => Ok(f.file.clone()),
            Descriptor::Dir(_) => Err(ErrorCode::IsDirectory.into()),
        }
    }

    /// The size of the open file `fd`.
    fn size_of(&self, fd: &Resource<types::Descriptor>) -> FsResult<u64> {
        let file = self.open_file(fd)?;
        Ok(file.metadata().map_err(io_error)?.len())
    }

    /// The budgets of two directories, refusing a move or link between different ones
    /// (as between devices: Python's `shutil.move` then copies).
    fn same_budget(
        &self,
        a: &Resource<types::Descriptor>,
        b: &Resource<types::Descriptor>,
    ) -> FsResult<Option<Arc<DiskBudget>>> {
        match (self.quotas.of(a), self.quotas.of(b)) {
            (None, None) => Ok(None),
            (Some(x), Some(y)) if Arc::ptr_eq(&x, &y) => Ok(Some(x)),
            _ => Err(ErrorCode::CrossDevice.into()),
        }
    }

    /// Wrap a stream writing to `fd` so that its growth of the file is counted.
    fn counted_stream(
        &mut self,
        fd: &Resource<types::Descriptor>,
        stream: Resource<DynOutputStream>,
        position: Option<u64>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let Some(budget) = self.quotas.of(fd) else {
            return Ok(stream);
        };
        let size = self.size_of(fd)?;
        let inner = self.fs.table.delete(stream)?;
        let counted: DynOutputStream = Box::new(CountedStream {
            inner,
            budget,
            position,
            size,
        });
        Ok(self.fs.table.push(counted)?)
    }
}

impl preopens::Host for QuotaFs<'_> {
    fn get_directories(&mut self) -> wasmtime::Result<Vec<(Resource<Descriptor>, String)>> {
        let dirs = preopens::Host::get_directories(&mut self.fs)?;
        for (fd, name) in &dirs {
            if let Some((_, budget)) = self.quotas.mounts.iter().find(|(m, _)| m == name) {
                self.quotas.descriptors.insert(fd.rep(), budget.clone());
            }
        }
        Ok(dirs)
    }
}

impl types::Host for QuotaFs<'_> {
    fn convert_error_code(
        &mut self,
        err: wasmtime_wasi::p2::FsError,
    ) -> wasmtime::Result<ErrorCode> {
        types::Host::convert_error_code(&mut self.fs, err)
    }

    fn filesystem_error_code(
        &mut self,
        err: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        types::Host::filesystem_error_code(&mut self.fs, err)
    }
}

impl HostDirectoryEntryStream for QuotaFs<'_> {
    async fn read_directory_entry(
        &mut self,
        stream: Resource<types::DirectoryEntryStream>,
    ) -> FsResult<Option<types::DirectoryEntry>> {
        HostDirectoryEntryStream::read_directory_entry(&mut self.fs, stream).await
    }

    fn drop(&mut self, stream: Resource<types::DirectoryEntryStream>) -> wasmtime::Result<()> {
        HostDirectoryEntryStream::drop(&mut self.fs, stream)
    }
}

impl HostDescriptor for QuotaFs<'_> {
    async fn advise(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: types::Filesize,
        len: types::Filesize,
        advice: types::Advice,
    ) -> FsResult<()> {
        HostDescriptor::advise(&mut self.fs, fd, offset, len, advice).await
    }

    async fn sync_data(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync_data(&mut self.fs, fd).await
    }

    async fn get_flags(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<types::DescriptorFlags> {
        HostDescriptor::get_flags(&mut self.fs, fd).await
    }

    async fn get_type(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<types::DescriptorType> {
        HostDescriptor::get_type(&mut self.fs, fd).await
    }

    async fn set_size(
        &mut self,
        fd: Resource<types::Descriptor>,
        size: types::Filesize,
    ) -> FsResult<()> {
        let Some(budget) = self.quotas.of(&fd) else {
            return HostDescriptor::set_size(&mut self.fs, fd, size).await;
        };
        let old = self.size_of(&fd)?;
        let grows = size.saturating_sub(old);
        budget.charge(grows).map_err(io_error)?;
        match HostDescriptor::set_size(&mut self.fs, fd, size).await {
            Ok(()) => {
                budget.release(old.saturating_sub(size));
                Ok(())
            }
            Err(e) => {
                budget.release(grows);
                Err(e)
            }
        }
    }

    async fn set_times(
        &mut self,
        fd: Resource<types::Descriptor>,
        atim: types::NewTimestamp,
        mtim: types::NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times(&mut self.fs, fd, atim, mtim).await
    }

    async fn read(
        &mut self,
        fd: Resource<types::Descriptor>,
        len: types::Filesize,
        offset: types::Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        HostDescriptor::read(&mut self.fs, fd, len, offset).await
    }

    async fn write(
        &mut self,
        fd: Resource<types::Descriptor>,
        buf: Vec<u8>,
        offset: types::Filesize,
    ) -> FsResult<types::Filesize> {
        let Some(budget) = self.quotas.of(&fd) else {
            return HostDescriptor::write(&mut self.fs, fd, buf, offset).await;
        };
        let old = self.size_of(&fd)?;
        let end = offset.saturating_add(buf.len() as u64);
        let grows = end.saturating_sub(old);
        budget.charge(grows).map_err(io_error)?;
        let written = HostDescriptor::write(&mut self.fs, fd, buf, offset).await;
        let kept = match &written {
            Ok(n) => offset.saturating_add(*n).saturating_sub(old),
            Err(_) => 0,
        };
        budget.release(grows.saturating_sub(kept));
        written
    }

    async fn read_directory(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<Resource<types::DirectoryEntryStream>> {
        HostDescriptor::read_directory(&mut self.fs, fd).await
    }

    async fn sync(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync(&mut self.fs, fd).await
    }

    async fn create_directory_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path: String,
    ) -> FsResult<()> {
        let budget = self.quotas.of(&fd);
        adding_entry(
            budget.as_deref(),
            HostDescriptor::create_directory_at(&mut self.fs, fd, path),
        )
        .await
    }

    async fn stat(&mut self, fd: Resource<types::Descriptor>) -> FsResult<types::DescriptorStat> {
        HostDescriptor::stat(&mut self.fs, fd).await
    }

    async fn stat_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: types::PathFlags,
        path: String,
    ) -> FsResult<types::DescriptorStat> {
        HostDescriptor::stat_at(&mut self.fs, fd, path_flags, path).await
    }

    async fn set_times_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: types::PathFlags,
        path: String,
        atim: types::NewTimestamp,
        mtim: types::NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times_at(&mut self.fs, fd, path_flags, path, atim, mtim).await
    }

    async fn link_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_path_flags: types::PathFlags,
        old_path: String,
        new_descriptor: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let budget = self.same_budget(&fd, &new_descriptor)?;
        let link = HostDescriptor::link_at(
            &mut self.fs,
            fd,
            old_path_flags,
            old_path,
            new_descriptor,
            new_path,
        );
        adding_entry(budget.as_deref(), link).await
    }

    async fn open_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: types::PathFlags,
        path: String,
        oflags: types::OpenFlags,
        flags: types::DescriptorFlags,
    ) -> FsResult<Resource<types::Descriptor>> {
        let Some(budget) = self.quotas.of(&fd) else {
            return HostDescriptor::open_at(&mut self.fs, fd, path_flags, path, oflags, flags)
                .await;
        };
        let changes = oflags.intersects(types::OpenFlags::CREATE | types::OpenFlags::TRUNCATE);
        let before = if changes {
            self.entry_at(&fd, &path)
        } else {
            None
        };
        let creates = oflags.contains(types::OpenFlags::CREATE) && before.is_none();
        if creates {
            budget.charge(ENTRY_BYTES).map_err(io_error)?;
        }
        let opened =
            HostDescriptor::open_at(&mut self.fs, borrow(&fd), path_flags, path, oflags, flags)
                .await;
        match &opened {
            Ok(new) => {
                if oflags.contains(types::OpenFlags::TRUNCATE)
                    && let Some(old) = before.filter(|e| e.is_file)
                {
                    budget.release(old.size);
                }
                self.quotas.descriptors.insert(new.rep(), budget);
            }
            Err(_) if creates => budget.release(ENTRY_BYTES),
            Err(_) => {}
        }
        opened
    }

    fn drop(&mut self, fd: Resource<types::Descriptor>) -> wasmtime::Result<()> {
        self.quotas.descriptors.remove(&fd.rep());
        HostDescriptor::drop(&mut self.fs, fd)
    }

    async fn readlink_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path: String,
    ) -> FsResult<String> {
        HostDescriptor::readlink_at(&mut self.fs, fd, path).await
    }

    async fn remove_directory_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path: String,
    ) -> FsResult<()> {
        let budget = self.quotas.of(&fd);
        let removed = HostDescriptor::remove_directory_at(&mut self.fs, fd, path).await;
        if let (Ok(()), Some(budget)) = (&removed, &budget) {
            budget.release(ENTRY_BYTES);
        }
        removed
    }

    async fn rename_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_path: String,
        new_fd: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let Some(budget) = self.same_budget(&fd, &new_fd)? else {
            return HostDescriptor::rename_at(&mut self.fs, fd, old_path, new_fd, new_path).await;
        };
        let replaced = self.entry_at(&new_fd, &new_path);
        let frees = self.freed_by_removing(&budget, replaced.as_ref());
        let renamed = HostDescriptor::rename_at(&mut self.fs, fd, old_path, new_fd, new_path).await;
        if renamed.is_ok() {
            budget.release(frees);
        }
        renamed
    }

    async fn symlink_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        let budget = self.quotas.of(&fd);
        adding_entry(
            budget.as_deref(),
            HostDescriptor::symlink_at(&mut self.fs, fd, src_path, dest_path),
        )
        .await
    }

    async fn unlink_file_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path: String,
    ) -> FsResult<()> {
        let Some(budget) = self.quotas.of(&fd) else {
            return HostDescriptor::unlink_file_at(&mut self.fs, fd, path).await;
        };
        let entry = self.entry_at(&fd, &path);
        let frees = self.freed_by_removing(&budget, entry.as_ref());
        let unlinked = HostDescriptor::unlink_file_at(&mut self.fs, fd, path).await;
        if unlinked.is_ok() {
            budget.release(frees);
        }
        unlinked
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: types::Filesize,
    ) -> FsResult<Resource<wasmtime_wasi::p2::DynInputStream>> {
        HostDescriptor::read_via_stream(&mut self.fs, fd, offset)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: types::Filesize,
    ) -> FsResult<Resource<DynOutputStream>> {
        let stream = HostDescriptor::write_via_stream(&mut self.fs, borrow(&fd), offset)?;
        self.counted_stream(&fd, stream, Some(offset))
    }

    fn append_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let stream = HostDescriptor::append_via_stream(&mut self.fs, borrow(&fd))?;
        self.counted_stream(&fd, stream, None)
    }

    async fn is_same_object(
        &mut self,
        a: Resource<types::Descriptor>,
        b: Resource<types::Descriptor>,
    ) -> wasmtime::Result<bool> {
        HostDescriptor::is_same_object(&mut self.fs, a, b).await
    }

    async fn metadata_hash(
        &mut self,
        fd: Resource<types::Descriptor>,
    ) -> FsResult<types::MetadataHashValue> {
        HostDescriptor::metadata_hash(&mut self.fs, fd).await
    }

    async fn metadata_hash_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: types::PathFlags,
        path: String,
    ) -> FsResult<types::MetadataHashValue> {
        HostDescriptor::metadata_hash_at(&mut self.fs, fd, path_flags, path).await
    }
}

impl QuotaFs<'_> {
    /// What removing `entry` frees: the entry, and a file's bytes when this was its
    /// last link and the run does not hold it open (then they stay on disk until it is
    /// closed, as they would on a real disk; counted until the run ends).
    fn freed_by_removing(&self, budget: &Arc<DiskBudget>, entry: Option<&Entry>) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let Some(entry) = entry else {
            return 0;
        };
        if !entry.is_file || entry.links > 1 {
            return ENTRY_BYTES;
        }
        let open = self
            .quotas
            .descriptors
            .iter()
            .filter(|(_, b)| Arc::ptr_eq(b, budget))
            .any(|(rep, _)| {
                let fd = Resource::<types::Descriptor>::new_borrow(*rep);
                matches!(self.fs.table.get(&fd), Ok(Descriptor::File(f))
                    if f.file.metadata().is_ok_and(|m| (m.dev(), m.ino()) == entry.inode))
            });
        if open {
            ENTRY_BYTES
        } else {
            ENTRY_BYTES.saturating_add(entry.size)
        }
    }
}

/// A file output stream whose growth of the file is counted against a budget first.
///
/// A write the budget cannot hold is answered `closed`, without writing: the guest's
/// WASI adapter reports any stream error as EIO (it never asks for the error's code)
/// but a closed stream as EPIPE, which the sandbox raises, for a regular file, as
/// `OSError` ENOSPC (automa_sandbox). The permit is cut to what still fits, so a file
/// fills up to the quota exactly.
struct CountedStream {
    inner: DynOutputStream,
    budget: Arc<DiskBudget>,
    /// Where the next write lands; `None` when appending.
    position: Option<u64>,
    /// The file's size as this stream knows it: when it was opened, grown by its own
    /// writes (not asked again per write: a write still under way on a blocking thread
    /// would not show, and a syscall per write costs more than it tells). Another
    /// writer growing the file meanwhile makes this count high, never low.
    size: u64,
}

impl CountedStream {
    fn size(&self) -> u64 {
        self.size
    }

    /// Bytes the next write may have: the budget's room plus what it overwrites.
    fn fits(&self) -> u64 {
        let overwrite = match self.position {
            Some(at) => self.size().saturating_sub(at),
            None => 0,
        };
        self.budget.room().saturating_add(overwrite)
    }

    /// Count a write of `len` bytes (what it adds past the file's end), or refuse it.
    fn charge(&mut self, len: usize) -> StreamResult<u64> {
        let len = len as u64;
        let size = self.size();
        let (grows, end) = match self.position {
            Some(at) => {
                let end = at.saturating_add(len);
                (end.saturating_sub(size), end)
            }
            None => (len, size.saturating_add(len)),
        };
        self.budget.charge(grows).map_err(|_| StreamError::Closed)?;
        if let Some(at) = &mut self.position {
            *at = at.saturating_add(len);
        }
        self.size = self.size.max(end);
        Ok(grows)
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CountedStream {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        let grows = self.charge(bytes.len())?;
        self.inner
            .write(bytes)
            .inspect_err(|_| self.budget.release(grows))
    }

    async fn blocking_write_and_flush(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        let grows = self.charge(bytes.len())?;
        let written = self.inner.blocking_write_and_flush(bytes).await;
        if written.is_err() {
            self.budget.release(grows);
        }
        written
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        let permit = self.inner.check_write()?;
        if permit == 0 {
            return Ok(0);
        }
        // Never zero for the quota's sake: a flush waits for a non-zero permit. When
        // nothing fits, the one byte allowed is refused by `write`.
        let fits = usize::try_from(self.fits()).unwrap_or(usize::MAX).max(1);
        Ok(permit.min(fits))
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await;
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CountedStream {
    async fn ready(&mut self) {
        self.inner.ready().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_budget_refuses_what_does_not_fit_and_takes_back_what_is_freed() {
        let budget = DiskBudget::new(100, 40);
        assert_eq!(budget.charge(70).unwrap_err().raw_os_error(), Some(28));
        budget.charge(60).unwrap();
        assert_eq!(budget.used(), 100);
        budget.release(30);
        budget.charge(30).unwrap();
    }

    #[test]
    fn a_directory_is_measured_as_its_files_plus_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![0u8; 1000]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), vec![0u8; 500]).unwrap();
        std::fs::hard_link(dir.path().join("a"), dir.path().join("sub/a2")).unwrap();
        assert_eq!(measure(dir.path()).unwrap(), 1500 + 4 * ENTRY_BYTES);
    }
}
