//! Panic-free big-endian reads and writes on byte slices, for the parsing
//! paths that do not go through a checked view (the classifier, MPLS
//! push/pop, MSS clamping). Every read returns `None` past the end.

#[inline(always)]
pub(crate) fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

#[inline(always)]
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(s.try_into().ok()?))
}

#[inline(always)]
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(s.try_into().ok()?))
}

#[inline(always)]
pub(crate) fn array_at<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    let s = b.get(at..at.checked_add(N)?)?;
    s.try_into().ok()
}

#[inline(always)]
pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) -> Option<()> {
    let s = b.get_mut(at..at.checked_add(2)?)?;
    s.copy_from_slice(&v.to_be_bytes());
    Some(())
}
