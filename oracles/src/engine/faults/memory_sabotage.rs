//! Deliberately wrong Wasmtime variants that reach outside linear memory,
//! as a miscompiled bounds check or a widened load does: after every call
//! the host writes just past the end of the first exported memory through
//! its raw pointer, or copies the bytes just past its end into its first
//! bytes. They exist to prove that the guard pages and canaries
//! (`engine::canary`) catch such accesses, reads as well as writes: past
//! a page-aligned end the access faults in the guard page, past an
//! unaligned one (custom page sizes) it hits the canary zone. Never in a
//! default matrix.

/// How a sabotaged variant reaches outside linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySabotage {
    /// Writes four bytes (`0xbad0c0de`, little-endian) starting 2 bytes
    /// past the end.
    WritePast,
    /// Reads the 8 bytes just past the end into the memory's first 8.
    ReadPast,
    /// The host does nothing wrong: each memory claims 8 bytes more than
    /// it holds, so the engine's compiled bounds checks are off by an
    /// `i64` access's width and compiled code itself reads or writes into
    /// the guard page after the end, as a miscompiled check would.
    BoundsOffByWidth,
}

impl MemorySabotage {
    /// Every memory sabotage, for the engine registry.
    pub const ALL: [MemorySabotage; 3] = [
        MemorySabotage::WritePast,
        MemorySabotage::ReadPast,
        MemorySabotage::BoundsOffByWidth,
    ];

    /// How many bytes the memories of an engine with this sabotage claim
    /// beyond their size.
    pub fn overstated_by(self) -> usize {
        match self {
            MemorySabotage::BoundsOffByWidth => 8,
            MemorySabotage::WritePast | MemorySabotage::ReadPast => 0,
        }
    }

    /// The suffix after `+sabotage-` in an engine name.
    pub fn suffix(self) -> &'static str {
        match self {
            MemorySabotage::WritePast => "write-past-end",
            MemorySabotage::ReadPast => "read-past-end",
            MemorySabotage::BoundsOffByWidth => "bounds-off-by-width",
        }
    }

    /// The sabotage an engine name's suffix names.
    pub fn from_suffix(suffix: &str) -> Option<MemorySabotage> {
        Self::ALL.into_iter().find(|s| s.suffix() == suffix)
    }

    /// Does it to the memory of `size` bytes at `base`.
    ///
    /// # Safety
    /// `base` must be a canary memory of `size` bytes (`engine::canary`):
    /// the 8 bytes after it are its canary zone or its guard page, where
    /// the access faults on purpose.
    pub unsafe fn apply(self, base: *mut u8, size: usize) {
        match self {
            MemorySabotage::WritePast => {
                // SAFETY: within the 8 bytes after the memory.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        0xbad0_c0de_u32.to_le_bytes().as_ptr(),
                        base.add(size + 2),
                        4,
                    )
                }
            }
            MemorySabotage::ReadPast if size >= 8 => {
                // SAFETY: the 8 bytes after the memory, into its first 8.
                unsafe { std::ptr::copy_nonoverlapping(base.add(size), base, 8) }
            }
            MemorySabotage::ReadPast | MemorySabotage::BoundsOffByWidth => {}
        }
    }
}
