//! Disk quotas of the writable mounts for the data profile, whose interpreter reaches
//! files through WASI preview 1.
//!
//! wasmtime-wasi's preview 1 calls its own preview-2 filesystem directly, so the quota
//! layer of the default profile ([`crate::fs_quota`]) never sees them. Instead, the
//! preview-1 functions that make a mount hold more or less are shadowed in the linker:
//! each first asks wasmtime-wasi's own functions what it needs to know (the file's size,
//! its position, whether an entry exists), charges the growth against the mount's
//! [`DiskBudget`] (refusing with `ENOSPC` what does not fit), calls wasmtime-wasi's
//! function and settles the charge with what really happened. The same budgets as the
//! default profile are used, so `/data` is shared with the script's other runs.
//!
//! Which mount a descriptor belongs to is learned from the calls themselves: a preopen
//! by its name, a descriptor `path_open` returns by the directory it was opened in.
//! `fd_allocate` needs no shadow: wasmtime-wasi 48 refuses it (`ENOTSUP`).

use super::DataState;
use crate::fs_quota::{DiskBudget, ENTRY_BYTES, FsQuotas};
use automa_host_api::ports::DiskSpace;
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::{AsContextMut as _, Caller, Extern, Linker};
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as p1, WasiSnapshotPreview1 as _};
use wiggle::GuestMemory;

const MODULE: &str = "wasi_snapshot_preview1";

/// WASI preview-1 errno values the shadows answer with themselves.
const ESUCCESS: i32 = 0;
const EFAULT: i32 = 21;
const ENOSPC: i32 = 51;
const EXDEV: i32 = 75;

/// `oflags` bits of `path_open`.
const O_CREAT: i32 = 1;
const O_TRUNC: i32 = 8;
/// `lookupflags` that do not follow a last symbolic link (as unlink and rename see it).
const NO_FOLLOW: i32 = 0;
/// The `append` bit of `fdflags`.
const FDFLAGS_APPEND: u16 = 1;
/// `filetype` of a regular file.
const REGULAR_FILE: u8 = 4;

/// The host's own queries (a stat, a preopen's name) are answered into host memory of
/// this size; a preopen with a longer name is none of the mounts.
const QUERY_BYTES: usize = 512;
/// The longest path a query copies; wasmtime-wasi refuses longer ones too.
const MAX_PATH_BYTES: usize = 64 << 10;
const ENAMETOOLONG: i32 = 37;
/// The most iovecs one write may pass (Linux's `IOV_MAX`); more is answered `EFAULT`
/// before the array is walked.
const MAX_IOVECS: u32 = 1024;

/// The quota state of one run.
pub(crate) struct P1Quotas {
    /// The budget of each mount that has one, by guest path.
    mounts: Vec<(&'static str, Arc<DiskBudget>)>,
    /// What is known of each descriptor: its mount's budget, or none.
    fds: HashMap<u32, Option<Arc<DiskBudget>>>,
}

impl P1Quotas {
    /// The budgets of a run's mounts, as the mounting counted them.
    pub(crate) fn new(quotas: &FsQuotas) -> Self {
        let mounts = ["/tmp", "/data", "/artifacts"]
            .into_iter()
            .filter_map(|guest| Some((guest, quotas.budget_of(guest)?)))
            .collect();
        Self {
            mounts,
            fds: HashMap::new(),
        }
    }
}

/// What a stat says, of the fields that count.
#[derive(Clone, Copy)]
struct Stat {
    /// Which file it is (device, inode).
    inode: (u64, u64),
    filetype: u8,
    links: u64,
    size: u64,
}

impl Stat {
    /// What removing this entry frees: the entry, and the file's bytes when this was
    /// its last link (as [`crate::fs_quota::measure`] counts a file once).
    fn freed_by_removal(self) -> u64 {
        let bytes = if self.filetype == REGULAR_FILE && self.links <= 1 {
            self.size
        } else {
            0
        };
        ENTRY_BYTES.saturating_add(bytes)
    }
}

/// Call wasmtime-wasi's preview-1 function over the guest's memory, as its own linker
/// entry does (with the store's host-call fuel handed over first).
macro_rules! guest_call {
    ($caller:expr, $name:ident ( $($arg:expr),* )) => {{
        let caller: &mut Caller<'_, DataState> = $caller;
        let fuel = caller.as_context_mut().hostcall_fuel();
        let memory = memory(caller)?;
        let (bytes, state) = memory.data_and_store_mut(&mut *caller);
        state.wasi.set_hostcall_fuel(fuel);
        p1::$name(&mut state.wasi, &mut GuestMemory::Unshared(bytes), $($arg),*).await
    }};
}

/// Ask wasmtime-wasi's preview-1 function with `buf`, host memory, as its memory: the
/// answer lands there, out of the guest's reach.
macro_rules! host_query {
    ($caller:expr, $buf:expr, $name:ident ( $($arg:expr),* ) $(.$await:ident)?) => {{
        let fuel = $caller.as_context_mut().hostcall_fuel();
        let state = $caller.data_mut();
        state.wasi.set_hostcall_fuel(fuel);
        p1::$name(&mut state.wasi, &mut GuestMemory::Unshared(&mut $buf[..]), $($arg),*)
            $(.$await)?
    }};
}

/// Shadow the preview-1 functions that change what a mount holds. `linker` must have
/// wasmtime-wasi's preview 1 in it already: the shadows call its functions underneath.
pub(crate) fn add_to_linker(linker: &mut Linker<DataState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap_async(
        MODULE,
        "fd_write",
        |mut caller: Caller<'_, DataState>, (fd, iovs, len, out): (i32, i32, i32, i32)| {
            Box::new(async move { write(&mut caller, fd, iovs, len, None, out).await })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_pwrite",
        |mut caller: Caller<'_, DataState>, (fd, iovs, len, at, out): (i32, i32, i32, i64, i32)| {
            Box::new(async move { write(&mut caller, fd, iovs, len, Some(at), out).await })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_filestat_set_size",
        |mut caller: Caller<'_, DataState>, (fd, size): (i32, i64)| {
            Box::new(async move { set_size(&mut caller, fd, size).await })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_open",
        |mut caller: Caller<'_, DataState>, args: (i32, i32, i32, i32, i32, i64, i64, i32, i32)| {
            Box::new(async move { open(&mut caller, args).await })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_close",
        |mut caller: Caller<'_, DataState>, (fd,): (i32,)| {
            Box::new(async move {
                let errno = guest_call!(&mut caller, fd_close(fd))?;
                if errno == ESUCCESS {
                    caller.data_mut().quotas.fds.remove(&fd.cast_unsigned());
                }
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "fd_renumber",
        |mut caller: Caller<'_, DataState>, (from, to): (i32, i32)| {
            Box::new(async move {
                let budget = budget_of(&mut caller, from)?;
                let errno = guest_call!(&mut caller, fd_renumber(from, to))?;
                if errno == ESUCCESS {
                    let fds = &mut caller.data_mut().quotas.fds;
                    fds.remove(&from.cast_unsigned());
                    fds.insert(to.cast_unsigned(), budget);
                }
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_create_directory",
        |mut caller: Caller<'_, DataState>, (fd, path, len): (i32, i32, i32)| {
            Box::new(async move {
                let budget = budget_of(&mut caller, fd)?;
                if !charge_entry(budget.as_deref()) {
                    return Ok(ENOSPC);
                }
                let errno = guest_call!(&mut caller, path_create_directory(fd, path, len))?;
                settle_entry(budget.as_deref(), errno);
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_symlink",
        |mut caller: Caller<'_, DataState>,
         (old, old_len, fd, path, len): (i32, i32, i32, i32, i32)| {
            Box::new(async move {
                let budget = budget_of(&mut caller, fd)?;
                if !charge_entry(budget.as_deref()) {
                    return Ok(ENOSPC);
                }
                let errno = guest_call!(&mut caller, path_symlink(old, old_len, fd, path, len))?;
                settle_entry(budget.as_deref(), errno);
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_link",
        |mut caller: Caller<'_, DataState>,
         (a, flags, ap, al, b, bp, bl): (i32, i32, i32, i32, i32, i32, i32)| {
            Box::new(async move {
                let Some(budget) = same_budget(&mut caller, a, b)? else {
                    return Ok(EXDEV);
                };
                if !charge_entry(budget.as_deref()) {
                    return Ok(ENOSPC);
                }
                let errno = guest_call!(&mut caller, path_link(a, flags, ap, al, b, bp, bl))?;
                settle_entry(budget.as_deref(), errno);
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_unlink_file",
        |mut caller: Caller<'_, DataState>, (fd, path, len): (i32, i32, i32)| {
            Box::new(async move {
                let removed = removing(&mut caller, fd, path, len).await?;
                let errno = guest_call!(&mut caller, path_unlink_file(fd, path, len))?;
                give_back(removed, errno);
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_remove_directory",
        |mut caller: Caller<'_, DataState>, (fd, path, len): (i32, i32, i32)| {
            Box::new(async move {
                let removed = removing(&mut caller, fd, path, len).await?;
                let errno = guest_call!(&mut caller, path_remove_directory(fd, path, len))?;
                give_back(removed, errno);
                Ok(errno)
            })
        },
    )?;
    linker.func_wrap_async(
        MODULE,
        "path_rename",
        |mut caller: Caller<'_, DataState>, args: (i32, i32, i32, i32, i32, i32)| {
            Box::new(async move { rename(&mut caller, args).await })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

fn memory(caller: &mut Caller<'_, DataState>) -> wasmtime::Result<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => wasmtime::bail!("missing required memory export"),
    }
}

/// `N` bytes of guest memory at `at`, or `None` when they lie outside it.
fn read_guest<const N: usize>(caller: &mut Caller<'_, DataState>, at: u32) -> Option<[u8; N]> {
    let memory = memory(caller).ok()?;
    let start = at as usize;
    let bytes = memory.data(&*caller).get(start..start.checked_add(N)?)?;
    bytes.try_into().ok()
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// A filestat in WASI's layout.
fn parse_stat(raw: &[u8]) -> Stat {
    Stat {
        inode: (u64_at(raw, 0), u64_at(raw, 8)),
        filetype: raw[16],
        links: u64_at(raw, 24),
        size: u64_at(raw, 32),
    }
}

/// The stat of the open descriptor `fd`, or the errno wasmtime-wasi answers.
async fn fd_stat(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
) -> wasmtime::Result<Result<Stat, i32>> {
    let mut buf = [0u8; 64];
    let errno = host_query!(caller, buf, fd_filestat_get(fd, 0).await)?;
    Ok(if errno == ESUCCESS {
        Ok(parse_stat(&buf))
    } else {
        Err(errno)
    })
}

/// The stat of `path` (guest memory) under the directory `fd`, following a last link
/// when `lookup` says so; `Ok(None)` when there is nothing there, `Err` with the errno
/// when the path cannot be read.
async fn path_stat(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
    lookup: i32,
    path: i32,
    len: i32,
) -> wasmtime::Result<Result<Option<Stat>, i32>> {
    let (at, len) = (path.cast_unsigned() as usize, len.cast_unsigned() as usize);
    if len > MAX_PATH_BYTES {
        return Ok(Err(ENAMETOOLONG));
    }
    let memory = memory(caller)?;
    let Some(name) = at
        .checked_add(len)
        .and_then(|end| memory.data(&*caller).get(at..end))
    else {
        return Ok(Err(EFAULT));
    };
    // The answer at 0, the path copied behind it.
    let mut buf = vec![0u8; 64 + len];
    buf[64..].copy_from_slice(name);
    let path_len = i32::try_from(len)?;
    let errno = host_query!(
        caller,
        buf,
        path_filestat_get(fd, lookup, 64, path_len, 0).await
    )?;
    Ok(Ok((errno == ESUCCESS).then(|| parse_stat(&buf))))
}

/// The budget of the mount `fd` lies in, learning a preopen's by its name.
fn budget_of(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
) -> wasmtime::Result<Option<Arc<DiskBudget>>> {
    let quotas = &caller.data().quotas;
    if quotas.mounts.is_empty() {
        return Ok(None);
    }
    if let Some(known) = quotas.fds.get(&fd.cast_unsigned()) {
        return Ok(known.clone());
    }
    let name = preopen_name(caller, fd)?;
    let quotas = &mut caller.data_mut().quotas;
    let budget = name.and_then(|name| {
        quotas
            .mounts
            .iter()
            .find(|(guest, _)| *guest == name)
            .map(|(_, budget)| budget.clone())
    });
    quotas.fds.insert(fd.cast_unsigned(), budget.clone());
    Ok(budget)
}

/// The guest path `fd` was preopened at, when it is a preopen.
fn preopen_name(caller: &mut Caller<'_, DataState>, fd: i32) -> wasmtime::Result<Option<String>> {
    let mut buf = [0u8; QUERY_BYTES];
    if host_query!(caller, buf, fd_prestat_get(fd, 0))? != ESUCCESS || buf[0] != 0 {
        return Ok(None); // not a preopened directory
    }
    let name_len = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if name_len > QUERY_BYTES {
        return Ok(None); // longer than any mount's name
    }
    let len = i32::try_from(name_len)?;
    if host_query!(caller, buf, fd_prestat_dir_name(fd, 0, len))? != ESUCCESS {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&buf[..name_len]).into_owned()))
}

/// The budget two directories share, or `None` when a link or move between them
/// crosses from one mount's budget to another's (answered `EXDEV`, as between devices:
/// Python's `shutil.move` then copies). `Some(None)`: neither has a budget.
fn same_budget(
    caller: &mut Caller<'_, DataState>,
    a: i32,
    b: i32,
) -> wasmtime::Result<Option<Option<Arc<DiskBudget>>>> {
    let x = budget_of(caller, a)?;
    let y = budget_of(caller, b)?;
    Ok(match (x, y) {
        (None, None) => Some(None),
        (Some(x), Some(y)) if Arc::ptr_eq(&x, &y) => Some(Some(x)),
        _ => None,
    })
}

/// Charge a new directory entry; `false` when it does not fit.
fn charge_entry(budget: Option<&DiskBudget>) -> bool {
    budget.is_none_or(|b| DiskSpace::charge(b, ENTRY_BYTES))
}

/// Give a charged entry back when the call that was to make it failed.
fn settle_entry(budget: Option<&DiskBudget>, errno: i32) {
    if let (Some(budget), true) = (budget, errno != ESUCCESS) {
        DiskSpace::release(budget, ENTRY_BYTES);
    }
}

/// What removing `path` under `fd` would give back, and to which budget.
async fn removing(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
    path: i32,
    len: i32,
) -> wasmtime::Result<Option<(Arc<DiskBudget>, u64)>> {
    let Some(budget) = budget_of(caller, fd)? else {
        return Ok(None);
    };
    Ok(match path_stat(caller, fd, NO_FOLLOW, path, len).await? {
        Ok(Some(stat)) => Some((budget, stat.freed_by_removal())),
        _ => None,
    })
}

/// Give back what a removal freed, once it succeeded.
fn give_back(removed: Option<(Arc<DiskBudget>, u64)>, errno: i32) {
    if let (Some((budget, bytes)), ESUCCESS) = (removed, errno) {
        DiskSpace::release(&*budget, bytes);
    }
}

/// The bytes the iovec array at `iovs` asks to write, or `None` when it lies outside
/// the guest's memory.
fn iovec_bytes(caller: &mut Caller<'_, DataState>, iovs: i32, count: i32) -> Option<u64> {
    let (iovs, count) = (iovs.cast_unsigned(), count.cast_unsigned());
    if count > MAX_IOVECS {
        return None;
    }
    let mut total = 0u64;
    for i in 0..count {
        let iovec: [u8; 8] = read_guest(caller, iovs.checked_add(i.checked_mul(8)?)?)?;
        let len = u32::from_le_bytes([iovec[4], iovec[5], iovec[6], iovec[7]]);
        total = total.saturating_add(u64::from(len));
    }
    Some(total)
}

/// Where a write to `fd` starts: `at`, the end for an append, else the position.
async fn write_start(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
    at: Option<i64>,
    size: u64,
) -> wasmtime::Result<Result<u64, i32>> {
    if let Some(at) = at {
        return Ok(Ok(at.cast_unsigned()));
    }
    let mut buf = [0u8; 24];
    let errno = host_query!(caller, buf, fd_fdstat_get(fd, 0).await)?;
    if errno != ESUCCESS {
        return Ok(Err(errno));
    }
    if u16::from_le_bytes([buf[2], buf[3]]) & FDFLAGS_APPEND != 0 {
        return Ok(Ok(size));
    }
    let errno = host_query!(caller, buf, fd_tell(fd, 0))?;
    if errno != ESUCCESS {
        return Ok(Err(errno));
    }
    Ok(Ok(u64_at(&buf, 0)))
}

/// `fd_write` (`at: None`) or `fd_pwrite`: what it would make the file grow by is
/// charged first; what it did not grow by is given back.
async fn write(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
    iovs: i32,
    count: i32,
    at: Option<i64>,
    out: i32,
) -> wasmtime::Result<i32> {
    let Some(budget) = budget_of(caller, fd)? else {
        return delegate_write(caller, fd, iovs, count, at, out).await;
    };
    let Some(bytes) = iovec_bytes(caller, iovs, count) else {
        return Ok(EFAULT);
    };
    let before = match fd_stat(caller, fd).await? {
        Ok(stat) => stat,
        Err(errno) => return Ok(errno),
    };
    let start = match write_start(caller, fd, at, before.size).await? {
        Ok(start) => start,
        Err(errno) => return Ok(errno),
    };
    let growth = start.saturating_add(bytes).saturating_sub(before.size);
    if !DiskSpace::charge(&*budget, growth) {
        return Ok(ENOSPC);
    }
    let errno = delegate_write(caller, fd, iovs, count, at, out).await?;
    let grown = match fd_stat(caller, fd).await? {
        Ok(after) => after.size.saturating_sub(before.size),
        Err(_) => growth, // cannot tell: keep the charge, never count too little
    };
    // A short or failed write gives back what it did not use; a file another run grew
    // meanwhile keeps the charge.
    DiskSpace::release(&*budget, growth.saturating_sub(grown));
    Ok(errno)
}

async fn delegate_write(
    caller: &mut Caller<'_, DataState>,
    fd: i32,
    iovs: i32,
    count: i32,
    at: Option<i64>,
    out: i32,
) -> wasmtime::Result<i32> {
    match at {
        None => guest_call!(caller, fd_write(fd, iovs, count, out)),
        Some(at) => guest_call!(caller, fd_pwrite(fd, iovs, count, at, out)),
    }
}

/// `fd_filestat_set_size`: growth charged first, shrinking given back after.
async fn set_size(caller: &mut Caller<'_, DataState>, fd: i32, size: i64) -> wasmtime::Result<i32> {
    let Some(budget) = budget_of(caller, fd)? else {
        return guest_call!(caller, fd_filestat_set_size(fd, size));
    };
    let before = match fd_stat(caller, fd).await? {
        Ok(stat) => stat,
        Err(errno) => return Ok(errno),
    };
    let wanted = size.cast_unsigned();
    let growth = wanted.saturating_sub(before.size);
    if !DiskSpace::charge(&*budget, growth) {
        return Ok(ENOSPC);
    }
    let errno = guest_call!(caller, fd_filestat_set_size(fd, size))?;
    if errno != ESUCCESS {
        DiskSpace::release(&*budget, growth);
    } else {
        DiskSpace::release(&*budget, before.size.saturating_sub(wanted));
    }
    Ok(errno)
}

/// `path_open`: a file it creates is charged an entry, one it truncates gives its bytes
/// back, and the new descriptor belongs to the directory's mount.
async fn open(
    caller: &mut Caller<'_, DataState>,
    args: (i32, i32, i32, i32, i32, i64, i64, i32, i32),
) -> wasmtime::Result<i32> {
    let (dir, lookup, path, len, oflags, base, inheriting, fdflags, out) = args;
    let Some(budget) = budget_of(caller, dir)? else {
        let errno = guest_call!(
            caller,
            path_open(
                dir, lookup, path, len, oflags, base, inheriting, fdflags, out
            )
        )?;
        if errno == ESUCCESS
            && let Some(fd) = read_guest::<4>(caller, out.cast_unsigned())
        {
            let quotas = &mut caller.data_mut().quotas;
            if !quotas.mounts.is_empty() {
                quotas.fds.insert(u32::from_le_bytes(fd), None);
            }
        }
        return Ok(errno);
    };
    // Looked up as the open will (following a last link or not), so a link to a file
    // not there yet counts as the file it creates.
    let existing = match path_stat(caller, dir, lookup, path, len).await? {
        Ok(existing) => existing,
        Err(errno) => return Ok(errno),
    };
    let entry = if oflags & O_CREAT != 0 && existing.is_none() {
        ENTRY_BYTES
    } else {
        0
    };
    if !DiskSpace::charge(&*budget, entry) {
        return Ok(ENOSPC);
    }
    let errno = guest_call!(
        caller,
        path_open(
            dir, lookup, path, len, oflags, base, inheriting, fdflags, out
        )
    )?;
    if errno != ESUCCESS {
        DiskSpace::release(&*budget, entry);
        return Ok(errno);
    }
    if oflags & O_TRUNC != 0
        && let Some(stat) = existing.filter(|s| s.filetype == REGULAR_FILE && s.links <= 1)
    {
        DiskSpace::release(&*budget, stat.size);
    }
    // wasmtime-wasi has just written the new descriptor there.
    let Some(fd) = read_guest::<4>(caller, out.cast_unsigned()) else {
        return Ok(EFAULT);
    };
    let fds = &mut caller.data_mut().quotas.fds;
    fds.insert(u32::from_le_bytes(fd), Some(budget));
    Ok(errno)
}

/// `path_rename`: only within one budget; a file it replaces gives its bytes back.
async fn rename(
    caller: &mut Caller<'_, DataState>,
    args: (i32, i32, i32, i32, i32, i32),
) -> wasmtime::Result<i32> {
    let (from_dir, from_path, from_len, to_dir, to_path, to_len) = args;
    let Some(budget) = same_budget(caller, from_dir, to_dir)? else {
        return Ok(EXDEV);
    };
    let Some(budget) = budget else {
        return guest_call!(
            caller,
            path_rename(from_dir, from_path, from_len, to_dir, to_path, to_len)
        );
    };
    let moved = path_stat(caller, from_dir, NO_FOLLOW, from_path, from_len).await?;
    let replaced = path_stat(caller, to_dir, NO_FOLLOW, to_path, to_len).await?;
    let errno = guest_call!(
        caller,
        path_rename(from_dir, from_path, from_len, to_dir, to_path, to_len)
    )?;
    // A rename onto itself (or onto another link of the same file) frees nothing.
    if errno == ESUCCESS
        && let Ok(Some(stat)) = replaced
        && moved.ok().flatten().is_none_or(|m| m.inode != stat.inode)
    {
        DiskSpace::release(&*budget, stat.freed_by_removal());
    }
    Ok(errno)
}
