//! How profile names are sorted.
//!
//! Posh-IBWAPI sorts names with PowerShell's default string order, which is
//! culture-aware and ignores letter case (`Alpha, beta, Gamma`). Only .NET
//! knows the user's culture, so the module passes a compare callback at open
//! time; without one, [`DefaultCollation`] approximates it.

use std::cmp::Ordering;

/// A string order for profile names.
///
/// It is only called while a store operation runs, on the calling thread.
pub trait Collation: Send {
    /// Compares two profile names.
    fn compare(&self, a: &str, b: &str) -> Ordering;
}

/// The built-in order: lower-cased text first, then the exact text.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultCollation;

impl Collation for DefaultCollation {
    fn compare(&self, a: &str, b: &str) -> Ordering {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    }
}

/// Compares with `collation`, breaking its ties by the exact text so that
/// the order is the same on every call.
pub fn total_order(collation: &dyn Collation, a: &str, b: &str) -> Ordering {
    collation.compare(a, b).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_order_ignores_letter_case() {
        let mut names = vec!["Gamma", "beta", "Alpha"];

        names.sort_by(|a, b| total_order(&DefaultCollation, a, b));

        assert_eq!(names, ["Alpha", "beta", "Gamma"]);
    }

    #[test]
    fn ties_are_broken_by_exact_text() {
        struct Equal;
        impl Collation for Equal {
            fn compare(&self, _: &str, _: &str) -> Ordering {
                Ordering::Equal
            }
        }

        assert_eq!(total_order(&Equal, "b", "a"), Ordering::Greater);
    }
}
