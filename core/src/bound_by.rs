//! What bound a session to its server's pool (layer-7 rules, issue 17),
//! kept in one byte of the session.

/// What bound a session to its pool (layer-7 rules, issue 17): the index
/// of the service's rule that matched (`0..=63`), or a reason it went to
/// the default pool. Kept in one byte of the session; the appliance names
/// the rule or the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BoundBy(pub u8);

impl BoundBy {
    /// The service has no rules: bound on its first packet (layer 4).
    pub const L4: BoundBy = BoundBy(255);
    /// Synced from a peer or restored: the rule is not carried.
    pub const COPIED: BoundBy = BoundBy(254);
    /// The first data was read and no rule matched.
    pub const NO_MATCH: BoundBy = BoundBy(253);
    /// The first fallback reason; reason `r` is `BoundBy(FALLBACK.0 - r)`.
    pub const FALLBACK: BoundBy = BoundBy(252);

    /// The rule of this index matched.
    pub fn rule(index: usize) -> BoundBy {
        debug_assert!(index < 128);
        BoundBy(index as u8)
    }

    /// The rule index, when a rule bound it.
    pub fn rule_index(self) -> Option<usize> {
        (self.0 < 128).then_some(self.0 as usize)
    }

    /// Fallback reason `r` (the appliance numbers its reasons; < 64).
    pub fn fallback(r: u8) -> BoundBy {
        BoundBy(Self::FALLBACK.0 - r)
    }

    /// The fallback reason number, when a fallback bound it.
    pub fn fallback_reason(self) -> Option<u8> {
        (128..=Self::FALLBACK.0)
            .contains(&self.0)
            .then(|| Self::FALLBACK.0 - self.0)
    }
}
