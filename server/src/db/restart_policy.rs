//! An agent's `restart_policy` column as a type.

/// What happens when an agent's instance exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Never,
    OnFailure,
    Always,
}

impl RestartPolicy {
    pub const ALL: [RestartPolicy; 3] = [
        RestartPolicy::Never,
        RestartPolicy::OnFailure,
        RestartPolicy::Always,
    ];

    /// The spelling stored and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Never => "never",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Whether an instance that ended (`failed` or not) is started again.
    pub fn restarts_after(self, failed: bool) -> bool {
        match self {
            RestartPolicy::Never => false,
            RestartPolicy::OnFailure => failed,
            RestartPolicy::Always => true,
        }
    }

    /// Whether the agent is started again at all (on another node, after its node is lost).
    pub fn may_restart(self) -> bool {
        self != RestartPolicy::Never
    }
}

#[cfg(test)]
mod tests {
    use super::RestartPolicy;

    #[test]
    fn policies_read_back_and_decide_restarts() {
        for policy in RestartPolicy::ALL {
            assert_eq!(RestartPolicy::parse(policy.as_str()), Some(policy));
        }
        assert_eq!(RestartPolicy::parse("on_failure"), None);
        assert!(RestartPolicy::OnFailure.restarts_after(true));
        assert!(!RestartPolicy::OnFailure.restarts_after(false));
        assert!(RestartPolicy::Always.restarts_after(false));
        assert!(!RestartPolicy::Never.restarts_after(true));
        assert!(!RestartPolicy::Never.may_restart());
    }
}
