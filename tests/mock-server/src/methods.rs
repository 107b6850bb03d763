//! The one table of wire names the mock answers to.
//!
//! A rename of a method on the wire is one line here (partly-api.md §2).

/// What a method does, independent of how it is spelled on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    IntegrationsInsert,
    JobsGet,
    JobsInsert,
    Tier1Prepare,
    BusinessesList,
}

/// Every dotted method name served under [`crate::API_VERSION_PREFIX`].
///
/// The four published methods are also answered under the `repairer.` prefix.
pub(crate) const METHODS: &[(&str, Op)] = &[
    ("integrations.insert", Op::IntegrationsInsert),
    ("repairer.integrations.insert", Op::IntegrationsInsert),
    ("jobs.get", Op::JobsGet),
    ("repairer.jobs.get", Op::JobsGet),
    ("jobs.insert", Op::JobsInsert),
    ("repairer.jobs.insert", Op::JobsInsert),
    ("tier1.prepare", Op::Tier1Prepare),
    ("repairer.tier1.prepare", Op::Tier1Prepare),
    ("businesses.list", Op::BusinessesList),
];

/// The operation a dotted method name names, if the mock serves it.
pub(crate) fn lookup(name: &str) -> Option<Op> {
    METHODS.iter().find(|(wire, _)| *wire == name).map(|(_, op)| *op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_method_has_both_spellings() {
        for name in ["integrations.insert", "jobs.get", "jobs.insert", "tier1.prepare"] {
            let op = lookup(name);
            assert!(op.is_some(), "{name}");
            assert_eq!(op, lookup(&format!("repairer.{name}")), "{name}");
        }
        assert_eq!(lookup("businesses.list"), Some(Op::BusinessesList));
        assert_eq!(lookup("jobs.delete"), None);
    }
}
