//! Host CPU, memory and disk (of the data directory) for the dashboard, via `sysinfo`.

use automa_ui::pages::dashboard::HostView;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use sysinfo::{Disks, System};

/// One `System` for the process: CPU usage is the change between two refreshes, so
/// each view reports the usage since the previous one.
fn system() -> Option<&'static Mutex<System>> {
    static SYSTEM: OnceLock<Option<Mutex<System>>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let mut sys = System::new()
                .inspect_err(|e| tracing::warn!(error = %e, "reading host statistics"))
                .ok()?;
            sys.refresh_cpu_usage();
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
            Some(Mutex::new(sys))
        })
        .as_ref()
}

/// A snapshot (blocking: call it on a blocking thread).
pub fn snapshot(data_dir: &Path) -> HostView {
    let mut view = HostView::default();
    if let Some(sys) = system() {
        let mut sys = sys.lock().unwrap_or_else(|p| p.into_inner());
        sys.refresh_cpu_usage();
        sys.refresh_memory();
        view.cpu_percent = sys.global_cpu_usage();
        view.memory_used = sys.used_memory();
        view.memory_total = sys.total_memory();
    }
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| PathBuf::from(data_dir));
    let Ok(disks) = Disks::new_with_refreshed_list() else {
        return view;
    };
    // The disk holding the data directory: the longest mount point that prefixes it.
    if let Some(d) = disks
        .iter()
        .filter(|d| dir.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
    {
        view.disk_total = d.total_space();
        view.disk_used = d.total_space().saturating_sub(d.available_space());
    }
    view
}
