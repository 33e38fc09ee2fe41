//! Configuration texts compared line by line, and the unified diff of two that differ.
//!
//! [`config_diff`] is the one place where two configurations are compared. Lines that change
//! on every read and mean nothing would be masked here, in both texts, before the comparison.

use std::time::Duration;

use similar::TextDiff;

/// Lines of context around each change, as diff(1) -u gives.
const CONTEXT: usize = 3;

/// Longest a diff may search for the smallest edit before it settles for a larger one (a
/// pathological pair of huge texts must not stall the report).
const DIFF_TIMEOUT: Duration = Duration::from_secs(1);

/// The unified diff from `old` to `new`, headed by the two labels; `None` when the texts
/// are equal.
pub fn config_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    Some(
        diff.unified_diff()
            .context_radius(CONTEXT)
            .header(old_label, new_label)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff_and_others_a_unified_one() {
        assert_eq!(config_diff("a\nb\n", "a\nb\n", "o", "n"), None);
        let diff = config_diff(
            "set system name x\nset rf tx-power 5\n",
            "set system name x\nset rf tx-power 7\n",
            "old.ndjson 127.219.0.1 config",
            "new.ndjson 127.219.0.1 config",
        )
        .expect("they differ");
        assert_eq!(
            diff,
            "--- old.ndjson 127.219.0.1 config\n\
             +++ new.ndjson 127.219.0.1 config\n\
             @@ -1,2 +1,2 @@\n \
             set system name x\n\
             -set rf tx-power 5\n\
             +set rf tx-power 7\n"
        );
    }
}
