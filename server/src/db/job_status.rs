//! A job's `status` column as a type: the one list of statuses, which of them are final,
//! and their stored spelling.

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    MemoryExceeded,
    CpuExceeded,
    Cancelled,
    Interrupted,
}

impl JobStatus {
    pub const ALL: [JobStatus; 9] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::TimedOut,
        JobStatus::MemoryExceeded,
        JobStatus::CpuExceeded,
        JobStatus::Cancelled,
        JobStatus::Interrupted,
    ];

    /// The spelling stored in `jobs.status` and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::TimedOut => "timed_out",
            JobStatus::MemoryExceeded => "memory_exceeded",
            JobStatus::CpuExceeded => "cpu_exceeded",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A job in a final status never runs again.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::JobStatus;

    #[test]
    fn every_status_reads_back_and_the_final_list_agrees() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("Running"), None);
        let finals: Vec<&str> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(JobStatus::as_str)
            .collect();
        assert_eq!(finals, super::super::jobs::FINAL_STATUSES);
    }
}
