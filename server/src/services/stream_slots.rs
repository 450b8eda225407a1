//! A cap on the live event streams one user holds open at once. Each stream keeps a
//! task polling the database for as long as the client stays, so without a cap one
//! user could open thousands. A slot is taken when a stream opens and given back when
//! the stream ends or its client goes away (the stream, and the slot in it, is dropped).

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Live streams (job logs, agent events) a user may hold open at once.
pub const MAX_STREAMS_PER_USER: usize = 16;

/// Open streams per user id, for the whole process (user ids are unique, so several
/// servers in one test process do not collide).
fn open() -> &'static Mutex<HashMap<String, usize>> {
    static OPEN: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
}

/// One open stream of a user; dropping it frees the slot.
pub struct StreamSlot {
    user_id: String,
}

impl StreamSlot {
    /// Takes a slot for `user_id`, or refuses with 429 when all are in use.
    pub fn take(user_id: &str) -> Result<Self, ApiError> {
        let mut open = open().lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(user_id.to_owned()).or_default();
        if *count >= MAX_STREAMS_PER_USER {
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "you already have {MAX_STREAMS_PER_USER} live streams open; close one first"
                ),
                retry_after: 5,
            });
        }
        *count += 1;
        Ok(Self {
            user_id: user_id.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = open().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slots_are_capped_per_user_and_given_back_on_drop() {
        let held: Vec<_> = (0..MAX_STREAMS_PER_USER)
            .map(|_| StreamSlot::take("u-slots").unwrap())
            .collect();
        assert!(StreamSlot::take("u-slots").is_err());
        assert!(StreamSlot::take("u-other").is_ok());
        drop(held);
        assert!(StreamSlot::take("u-slots").is_ok());
    }
}
