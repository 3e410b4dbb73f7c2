//! Canary zones around Wasmtime's linear memories, for the variants with
//! explicit bounds checks: an access outside linear memory that does not
//! fault (a widened load, a store past the end that lands in mapped host
//! memory) is seen even when it changes no result.
//!
//! The memories come from crosscheck's own allocator through Wasmtime's
//! public API for host-provided memory (`Config::with_host_memory`): each
//! is laid out as `[canary | linear memory | canary]`, the canaries filled
//! with [`PATTERN`]. After instantiation and after every call the canaries
//! of every memory of the thread's store are compared with the pattern
//! ([`check`]); a changed canary is a breach naming the call, the offset
//! and the bytes written. A read of a canary shows up as the pattern's
//! bytes (`CANARY!!`) in a result or in memory.
//!
//! Signals-based variants keep Wasmtime's own memories: their guard pages
//! are what makes their bounds checks correct, and a host allocator cannot
//! give the same layout.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// Bytes of canary before and after each linear memory: a page, wider than
/// any single Wasm access (16 bytes) and than a widened one.
pub const CANARY_BYTES: usize = 4096;

/// What the canaries hold, repeated: ASCII `CANARY!!`, easy to spot in a
/// memory dump or as an `i64` result (`0x2121594e414e4143`).
pub const PATTERN: [u8; 8] = *b"CANARY!!";

/// The alignment of each allocation: a page, like Wasmtime's own memories.
const ALIGN: usize = 4096;

/// A whole canary zone, for comparing and filling with `memcmp` and
/// `memcpy`: a memory grown a byte at a time (custom page sizes) is
/// checked at every growth.
static ZONE: [u8; CANARY_BYTES] = zone();

const fn zone() -> [u8; CANARY_BYTES] {
    let mut zone = [0; CANARY_BYTES];
    let mut i = 0;
    while i < CANARY_BYTES {
        zone[i] = PATTERN[i % PATTERN.len()];
        i += 1;
    }
    zone
}

/// The memory creator the explicit-checks variants are built with.
#[derive(Debug, Default)]
pub struct CanaryCreator;

// SAFETY: every memory returned is zero-filled, owned by the `CanaryMemory`
// (freed on drop), `byte_capacity()` bytes from `as_ptr()` are accessible,
// and no guard region is promised: these variants do explicit bounds checks
// (memory_reservation(0), memory_guard_size(0)), so Wasmtime asks for none.
unsafe impl MemoryCreator for CanaryCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        if guard_size_in_bytes != 0 || reserved_size_in_bytes.is_some_and(|r| r != 0) {
            return Err(format!(
                "canary memories serve only explicit bounds checks, not a reservation of \
                 {reserved_size_in_bytes:?} bytes with a {guard_size_in_bytes}-byte guard"
            ));
        }
        let region = Region::allocate(minimum)?;
        let region = Arc::new(region);
        LIVE.with(|live| {
            let mut live = live.borrow_mut();
            live.retain(|r| r.strong_count() > 0);
            live.push(Arc::downgrade(&region));
        });
        Ok(Box::new(CanaryMemory { region, maximum }))
    }
}

thread_local! {
    /// The memories created on this thread: a case's store lives on one
    /// thread (`wasmtime::on_native_stack`), so these are its memories.
    static LIVE: RefCell<Vec<Weak<Region>>> = const { RefCell::new(Vec::new()) };
    /// The first breach seen on this thread, until taken.
    static BREACH: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// One allocation: canary, linear memory of `size` bytes, canary, and room
/// to grow in place up to `capacity` bytes of memory.
struct Region {
    /// Start of the allocation (the leading canary).
    base: AtomicPtr<u8>,
    /// The linear memory's size in bytes; the trailing canary follows it.
    size: AtomicUsize,
    /// How large the memory may grow without moving.
    capacity: AtomicUsize,
}

impl Region {
    fn allocate(size: usize) -> Result<Region, String> {
        let base = allocate_with_canaries(size, size)?;
        Ok(Region {
            base: AtomicPtr::new(base),
            size: AtomicUsize::new(size),
            capacity: AtomicUsize::new(size),
        })
    }

    fn memory(&self) -> *mut u8 {
        // SAFETY: the allocation is CANARY_BYTES longer than that.
        unsafe { self.base.load(Ordering::Relaxed).add(CANARY_BYTES) }
    }

    /// The bytes of both canaries that differ from the pattern, as
    /// `(offset from the memory's start, byte)`: negative before it.
    fn changed(&self) -> Vec<(i64, u8)> {
        let base = self.base.load(Ordering::Relaxed);
        let size = self.size.load(Ordering::Relaxed);
        // SAFETY: both canaries are inside the live allocation.
        let (before, after) = unsafe {
            (
                std::slice::from_raw_parts(base, CANARY_BYTES),
                std::slice::from_raw_parts(base.add(CANARY_BYTES + size), CANARY_BYTES),
            )
        };
        let mut changed = Vec::new();
        if before == ZONE && after == ZONE {
            return changed;
        }
        for (i, byte) in before.iter().enumerate() {
            if *byte != PATTERN[i % PATTERN.len()] {
                changed.push((i as i64 - CANARY_BYTES as i64, *byte));
            }
        }
        for (i, byte) in after.iter().enumerate() {
            if *byte != PATTERN[i % PATTERN.len()] {
                changed.push(((size + i) as i64, *byte));
            }
        }
        changed
    }

    /// Fills both canaries with the pattern again.
    fn refill(&self) {
        let base = self.base.load(Ordering::Relaxed);
        let size = self.size.load(Ordering::Relaxed);
        // SAFETY: both canaries are inside the live allocation.
        unsafe {
            fill(std::slice::from_raw_parts_mut(base, CANARY_BYTES));
            fill(std::slice::from_raw_parts_mut(
                base.add(CANARY_BYTES + size),
                CANARY_BYTES,
            ));
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        let capacity = self.capacity.load(Ordering::Relaxed);
        // SAFETY: allocated by `allocate_with_canaries(_, capacity)`.
        unsafe { dealloc(*self.base.get_mut(), layout(capacity)) }
    }
}

fn layout(capacity: usize) -> Layout {
    Layout::from_size_align(capacity + 2 * CANARY_BYTES, ALIGN).expect("a valid layout")
}

/// A zeroed allocation for a memory of `size` bytes that can grow in
/// place to `capacity`, with a filled canary before it and after `size`.
fn allocate_with_canaries(size: usize, capacity: usize) -> Result<*mut u8, String> {
    let layout = Layout::from_size_align(capacity.saturating_add(2 * CANARY_BYTES), ALIGN)
        .map_err(|e| format!("a linear memory of {capacity} bytes: {e}"))?;
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { alloc_zeroed(layout) };
    if base.is_null() {
        return Err(format!(
            "allocating a linear memory of {capacity} bytes failed"
        ));
    }
    // SAFETY: both canaries are inside the allocation.
    unsafe {
        fill(std::slice::from_raw_parts_mut(base, CANARY_BYTES));
        fill(std::slice::from_raw_parts_mut(
            base.add(CANARY_BYTES + size),
            CANARY_BYTES,
        ));
    }
    Ok(base)
}

fn fill(zone: &mut [u8]) {
    zone.copy_from_slice(&ZONE);
}

/// A linear memory between two canaries. It grows in place while its
/// allocation has room (the trailing canary moves to the new end), else
/// into an allocation twice as large: growth page by page costs amortized
/// constant time, as with Wasmtime's own memories.
struct CanaryMemory {
    region: Arc<Region>,
    maximum: Option<usize>,
}

// SAFETY: the memory is `byte_size()` accessible bytes at `as_ptr()`; up
// to `byte_capacity()` bytes are allocated there (growth in place zeroes
// them first), growth beyond copies the contents to a new allocation and
// zero-fills the rest.
unsafe impl LinearMemory for CanaryMemory {
    fn byte_size(&self) -> usize {
        self.region.size.load(Ordering::Relaxed)
    }

    fn byte_capacity(&self) -> usize {
        self.region.capacity.load(Ordering::Relaxed)
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if self.maximum.is_some_and(|max| new_size > max) {
            return Err(wasmtime::Error::msg(
                "growing a linear memory past its maximum",
            ));
        }
        let old_size = self.byte_size();
        // A write outside the old memory must not be lost by the growth.
        note_changes(&self.region, "growing a memory");
        let capacity = self.byte_capacity();
        if new_size <= capacity {
            // SAFETY: `old_size..new_size` and the new canary after it lie
            // in the allocation (capacity plus a canary's room).
            unsafe {
                std::ptr::write_bytes(self.region.memory().add(old_size), 0, new_size - old_size);
            }
            self.region.size.store(new_size, Ordering::Relaxed);
            // SAFETY: the new trailing canary lies in the allocation.
            unsafe {
                fill(std::slice::from_raw_parts_mut(
                    self.region.memory().add(new_size),
                    CANARY_BYTES,
                ));
            }
            return Ok(());
        }
        let grown = new_size.max(capacity.saturating_mul(2));
        let grown = self
            .maximum
            .map_or(grown, |max| grown.min(max).max(new_size));
        let base = allocate_with_canaries(new_size, grown).map_err(wasmtime::Error::msg)?;
        // SAFETY: both memories hold `old_size` bytes and do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(self.region.memory(), base.add(CANARY_BYTES), old_size);
        }
        let old = self.region.base.swap(base, Ordering::Relaxed);
        self.region.size.store(new_size, Ordering::Relaxed);
        self.region.capacity.store(grown, Ordering::Relaxed);
        // SAFETY: `old` was allocated for `capacity`; nothing points into it
        // any more (Wasmtime reloads the base after growth).
        unsafe { dealloc(old, layout(capacity)) }
        Ok(())
    }

    fn as_ptr(&self) -> *mut u8 {
        self.region.memory()
    }
}

/// Compares the canaries of every memory of this thread's store with the
/// pattern after `what` (`call "f"(1, 2)`); the first change is kept for
/// [`take_breach`].
pub fn check(what: impl Fn() -> String) {
    LIVE.with(|live| {
        for region in live.borrow().iter().filter_map(Weak::upgrade) {
            if !region.changed().is_empty() {
                note_changes(&region, &what());
            }
        }
    });
}

fn note_changes(region: &Region, what: &str) {
    let changed = region.changed();
    let (Some(first), Some(last)) = (changed.first(), changed.last()) else {
        return;
    };
    let size = region.size.load(Ordering::Relaxed);
    let bytes: Vec<String> = changed
        .iter()
        .take(16)
        .map(|(_, b)| format!("{b:02x}"))
        .collect();
    let place = |offset: i64| match offset {
        o if o < 0 => format!("{} byte(s) before the memory", -o),
        o => format!("offset {o} ({} past its end)", o as usize - size),
    };
    let text = format!(
        "after {what}: {} canary byte(s) changed around a {size}-byte linear memory, from {} to {}; bytes written: {}{}",
        changed.len(),
        place(first.0),
        place(last.0),
        bytes.join(" "),
        if changed.len() > 16 { " ..." } else { "" }
    );
    BREACH.with(|breach| {
        breach.borrow_mut().get_or_insert(text);
    });
    // Refilled, so that the next check reports only new writes.
    region.refill();
}

/// The first breach [`check`] saw on this thread since the last call, if
/// any.
pub fn take_breach() -> Option<String> {
    BREACH.with(|breach| breach.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(size: usize) -> Box<dyn LinearMemory> {
        let ty = MemoryType::new(1, None);
        CanaryCreator
            .new_memory(ty, size, None, None, 0)
            .expect("a canary memory")
    }

    #[test]
    fn a_write_just_past_the_end_is_a_breach_naming_offset_and_bytes() {
        take_breach();
        let memory = memory(65536);
        check(|| "instantiation".into());
        assert_eq!(take_breach(), None);
        // SAFETY: inside the trailing canary of the allocation.
        unsafe { memory.as_ptr().add(65536 + 3).write(0x2a) };
        check(|| "call \"f\"()".into());
        let breach = take_breach().expect("a breach");
        assert!(
            breach.starts_with("after call \"f\"(): 1 canary byte(s) changed"),
            "{breach}"
        );
        assert!(breach.contains("offset 65539 (3 past its end)"), "{breach}");
        assert!(breach.contains("bytes written: 2a"), "{breach}");
        // Reported once; the canary is whole again.
        check(|| "call \"g\"()".into());
        assert_eq!(take_breach(), None);
    }

    #[test]
    fn a_write_before_the_start_and_growth_keep_contents_and_canaries() {
        take_breach();
        let mut memory = memory(16);
        // SAFETY: inside the memory and the leading canary.
        unsafe {
            memory.as_ptr().write(7);
            memory.as_ptr().sub(1).write(0);
        }
        memory.grow_to(65536).unwrap();
        let breach = take_breach().expect("the write before the start, seen at growth");
        assert!(breach.contains("1 byte(s) before the memory"), "{breach}");
        // SAFETY: inside the grown memory.
        unsafe {
            assert_eq!(memory.as_ptr().read(), 7);
            assert_eq!(memory.as_ptr().add(65535).read(), 0);
        }
        assert_eq!(memory.byte_size(), 65536);
        check(|| "call".into());
        assert_eq!(take_breach(), None);
        // A read past the end sees the pattern.
        // SAFETY: inside the trailing canary.
        let past = unsafe { std::slice::from_raw_parts(memory.as_ptr().add(65536), 8) };
        assert_eq!(past, b"CANARY!!");
        // Growth beyond the capacity doubles it; growth within it stays in
        // place, zero-filled, with the canary after the new end.
        memory.grow_to(65536 + 1).unwrap();
        assert_eq!(memory.byte_capacity(), 131072);
        let base = memory.as_ptr();
        memory.grow_to(100_000).unwrap();
        assert_eq!(memory.as_ptr(), base);
        // SAFETY: inside the memory and its trailing canary.
        unsafe {
            assert_eq!(memory.as_ptr().read(), 7);
            assert_eq!(memory.as_ptr().add(65536).read(), 0);
            assert_eq!(memory.as_ptr().add(99_999).read(), 0);
            assert_eq!(
                std::slice::from_raw_parts(memory.as_ptr().add(100_000), 8),
                b"CANARY!!"
            );
        }
        check(|| "call".into());
        assert_eq!(take_breach(), None);
    }
}
