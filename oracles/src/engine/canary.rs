//! Inaccessible pages and canary zones around Wasmtime's linear memories,
//! for the variants with explicit bounds checks: an access outside linear
//! memory that the checks should have stopped (a widened load, a store
//! past the end) is seen even when it changes no result.
//!
//! The memories come from crosscheck's own allocator through Wasmtime's
//! public API for host-provided memory (`Config::with_host_memory`). Each
//! is mapped as `[guard | linear memory | canary | guard]`: the guards are
//! inaccessible (`PROT_NONE`) pages directly before the memory and from
//! the first page boundary at or after its end, so that compiled code
//! reading or writing past either edge faults. The fault kills the worker
//! process running the case; [`install_fault_reporter`]'s handler first
//! writes which memory and offset the access hit to stderr, and the
//! watcher records the death as a `breach` of the engine
//! (`engine::death`). Where a memory's end is not page-aligned (custom page
//! sizes) the bytes up to the page boundary are a canary zone filled with
//! [`PATTERN`], compared after instantiation and every call ([`check`]): a
//! changed canary is a breach naming the call, the offset and the bytes
//! written; a read of one shows up as the pattern's bytes (`CANARY!!`).
//!
//! Signals-based variants keep Wasmtime's own memories: their guard pages
//! are what makes their bounds checks correct, and a host allocator cannot
//! give the same layout.

use std::cell::RefCell;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock, Weak};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// Inaccessible bytes before and after each linear memory: wider than any
/// single Wasm access (16 bytes), a widened one, or an offset immediate a
/// miscompiled check lets through into the next page.
pub const GUARD_BYTES: usize = 64 << 10;

/// The page size of the host (x86-64 Linux), the unit of protection.
const PAGE: usize = 4096;

/// What canary zones hold, repeated: ASCII `CANARY!!`, easy to spot in a
/// memory dump or as an `i64` result (`0x2121594e414e4143`).
pub const PATTERN: [u8; 8] = *b"CANARY!!";

/// How much address space a memory reserves up front to grow into in
/// place, at most: beyond it, growth moves the memory.
const RESERVE_AT_MOST: usize = 1 << 30;

/// The words the fault reporter writes before the process dies of a fault
/// in a guard page; `engine::death` reads them as a breach.
use crate::engine::death::GUARD_FAULT;

/// The memory creator the explicit-checks variants are built with.
#[derive(Debug, Default)]
pub struct CanaryCreator {
    /// Bytes each memory claims beyond its real size: 0, except in the
    /// deliberately wrong engine whose compiled bounds checks then let an
    /// access at the end through into the guard page
    /// (`MemorySabotage::BoundsOffByWidth`).
    overstated_by: usize,
}

impl CanaryCreator {
    /// A creator whose memories claim `bytes` more than they hold, so that
    /// compiled code's own bounds checks are off by that much (tests only).
    pub fn overstating(bytes: usize) -> CanaryCreator {
        CanaryCreator {
            overstated_by: bytes,
        }
    }
}

// SAFETY: every memory returned is zero-filled, owned by the `CanaryMemory`
// (unmapped on drop), `byte_size()` bytes from `as_ptr()` are accessible
// and `byte_capacity()` bytes are reserved there (made accessible as the
// memory grows), and no guard region is promised to Wasmtime: these
// variants do explicit bounds checks (memory_reservation(0),
// memory_guard_size(0)), so Wasmtime asks for none.
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
        install_fault_reporter();
        let reserve = maximum.unwrap_or(minimum).min(RESERVE_AT_MOST).max(minimum);
        let region = Arc::new(Region::map(minimum, reserve)?);
        LIVE.with(|live| {
            let mut live = live.borrow_mut();
            live.retain(|r| r.strong_count() > 0);
            live.push(Arc::downgrade(&region));
        });
        Ok(Box::new(CanaryMemory {
            region,
            maximum,
            overstated_by: self.overstated_by,
        }))
    }
}

thread_local! {
    /// The memories created on this thread: a case's store lives on one
    /// thread (`wasmtime::on_native_stack`), so these are its memories.
    static LIVE: RefCell<Vec<Weak<Region>>> = const { RefCell::new(Vec::new()) };
    /// The first breach seen on this thread, until taken.
    static BREACH: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// `n` rounded up to a whole number of pages.
fn page_up(n: usize) -> usize {
    n.div_ceil(PAGE) * PAGE
}

/// One mapping: a guard, a linear memory of `size` bytes with room to grow
/// in place up to `capacity` bytes, and a guard. Accessible are the
/// memory's pages only; past `size` up to the page boundary lies the
/// canary zone.
struct Region {
    /// Start of the mapping (the leading guard).
    base: AtomicPtr<u8>,
    /// The linear memory's size in bytes.
    size: AtomicUsize,
    /// How large the memory may grow without moving.
    capacity: AtomicUsize,
    /// Its slot in the fault reporter's table.
    slot: AtomicUsize,
}

impl Region {
    fn map(size: usize, capacity: usize) -> Result<Region, String> {
        let base = map_guarded(size, capacity)?;
        let region = Region {
            base: AtomicPtr::new(base),
            size: AtomicUsize::new(size),
            capacity: AtomicUsize::new(capacity),
            slot: AtomicUsize::new(NO_SLOT),
        };
        region.slot.store(
            GUARDED.register(base, mapping_len(capacity), size),
            Ordering::Relaxed,
        );
        Ok(region)
    }

    fn memory(&self) -> *mut u8 {
        // SAFETY: the mapping is GUARD_BYTES longer than that.
        unsafe { self.base.load(Ordering::Relaxed).add(GUARD_BYTES) }
    }

    /// The canary zone: the bytes from the memory's end to the page
    /// boundary (none when the end is page-aligned), as start and length.
    fn canary_zone(&self) -> (*mut u8, usize) {
        let size = self.size.load(Ordering::Relaxed);
        // SAFETY: the memory's last page is accessible past its end.
        (unsafe { self.memory().add(size) }, page_up(size) - size)
    }

    /// The bytes of the canary zone that differ from the pattern, as
    /// `(offset from the memory's start, byte)`.
    fn changed(&self) -> Vec<(i64, u8)> {
        let size = self.size.load(Ordering::Relaxed);
        let (start, len) = self.canary_zone();
        // SAFETY: the zone lies in the memory's last, accessible page.
        let zone = unsafe { std::slice::from_raw_parts(start, len) };
        zone.iter()
            .enumerate()
            .filter(|(i, byte)| **byte != PATTERN[i % PATTERN.len()])
            .map(|(i, byte)| ((size + i) as i64, *byte))
            .collect()
    }

    /// Fills the canary zone with the pattern again.
    fn refill(&self) {
        let (start, len) = self.canary_zone();
        // SAFETY: as in `changed`; Wasm code does not run meanwhile.
        fill(unsafe { std::slice::from_raw_parts_mut(start, len) });
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        GUARDED.unregister(*self.slot.get_mut());
        let capacity = *self.capacity.get_mut();
        // SAFETY: mapped by `map_guarded(_, capacity)`; Wasmtime no longer
        // uses the memory.
        unsafe { libc::munmap(self.base.get_mut().cast(), mapping_len(capacity)) };
    }
}

/// The length of the mapping of a memory that may grow to `capacity`.
fn mapping_len(capacity: usize) -> usize {
    GUARD_BYTES + page_up(capacity) + GUARD_BYTES
}

/// A mapping for a memory of `size` bytes that can grow in place to
/// `capacity`: inaccessible but for the memory's pages, zeroed, the
/// canary zone after `size` filled.
fn map_guarded(size: usize, capacity: usize) -> Result<*mut u8, String> {
    let len = mapping_len(capacity);
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(format!(
            "reserving {len} bytes for a linear memory of up to {capacity} bytes: {}",
            std::io::Error::last_os_error()
        ));
    }
    let base = base.cast::<u8>();
    // SAFETY: the memory's pages lie inside the mapping.
    unsafe { make_accessible(base.add(GUARD_BYTES), 0, size)? };
    // SAFETY: as above; the canary zone is in the memory's last page.
    let canary = unsafe {
        std::slice::from_raw_parts_mut(base.add(GUARD_BYTES + size), page_up(size) - size)
    };
    fill(canary);
    Ok(base)
}

/// Makes the pages of a memory at `memory` that hold bytes `from..to`
/// (and not before `from`'s page boundary) readable and writable.
///
/// # Safety
/// `memory..memory + page_up(to)` must lie inside one mapping.
unsafe fn make_accessible(memory: *mut u8, from: usize, to: usize) -> Result<(), String> {
    let (start, end) = (page_up(from), page_up(to));
    if end <= start {
        return Ok(());
    }
    // SAFETY: inside the mapping, per the caller.
    let done = unsafe {
        libc::mprotect(
            memory.add(start).cast(),
            end - start,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
    if done != 0 {
        return Err(format!(
            "making {} bytes of a linear memory accessible: {}",
            end - start,
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Fills a canary zone with the pattern from its start, so that a read
/// just past the memory's end shows `CANARY!!` whole.
fn fill(zone: &mut [u8]) {
    for (i, byte) in zone.iter_mut().enumerate() {
        *byte = PATTERN[i % PATTERN.len()];
    }
}

/// A linear memory between two guards. It grows in place while its
/// reservation has room (the pages of the new size become accessible,
/// the canary zone moves to the new end), else into a mapping twice as
/// large: growth page by page costs amortized constant time, as with
/// Wasmtime's own memories.
struct CanaryMemory {
    region: Arc<Region>,
    maximum: Option<usize>,
    /// See [`CanaryCreator::overstating`].
    overstated_by: usize,
}

// SAFETY: the memory is `byte_size()` accessible bytes at `as_ptr()`; up
// to `byte_capacity()` bytes are reserved there (growth in place makes
// them accessible and zeroes what the canary held), growth beyond copies
// the contents to a new mapping, whose new bytes are zero.
unsafe impl LinearMemory for CanaryMemory {
    fn byte_size(&self) -> usize {
        self.region.size.load(Ordering::Relaxed) + self.overstated_by
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
        let old_size = self.region.size.load(Ordering::Relaxed);
        // A write outside the old memory must not be lost by the growth.
        note_changes(&self.region, "growing a memory");
        let capacity = self.byte_capacity();
        if new_size <= capacity {
            let memory = self.region.memory();
            // SAFETY: the new size lies within the reservation.
            unsafe { make_accessible(memory, old_size, new_size) }.map_err(wasmtime::Error::msg)?;
            // The old canary zone becomes memory: zero, like the pages
            // made accessible after it.
            let old_zone = (page_up(old_size) - old_size).min(new_size - old_size);
            // SAFETY: inside the old memory's last page.
            unsafe { std::ptr::write_bytes(memory.add(old_size), 0, old_zone) };
            self.region.size.store(new_size, Ordering::Relaxed);
            GUARDED.resize(self.region.slot.load(Ordering::Relaxed), new_size);
            self.region.refill();
            return Ok(());
        }
        let grown = new_size.max(capacity.saturating_mul(2));
        let grown = self
            .maximum
            .map_or(grown, |max| grown.min(max).max(new_size));
        let moved = Region::map(new_size, grown).map_err(wasmtime::Error::msg)?;
        // SAFETY: both memories hold `old_size` accessible bytes and do not
        // overlap.
        unsafe { std::ptr::copy_nonoverlapping(self.region.memory(), moved.memory(), old_size) };
        // Nothing points into the old mapping any more (Wasmtime reloads
        // the base after growth); it is unmapped when the old region drops.
        let moved = Arc::new(moved);
        LIVE.with(|live| live.borrow_mut().push(Arc::downgrade(&moved)));
        self.region = moved;
        Ok(())
    }

    fn as_ptr(&self) -> *mut u8 {
        self.region.memory()
    }
}

/// Slots of the fault reporter's table: more live canary memories than
/// this in one process go unnamed (their faults are still breaches).
const SLOTS: usize = 1024;

/// A free slot.
const NO_SLOT: usize = usize::MAX;

/// The mappings of live canary memories, readable from a signal handler
/// (atomics only): per slot the mapping's start and length (0: free) and
/// the memory's size.
struct Guarded {
    start: [AtomicUsize; SLOTS],
    len: [AtomicUsize; SLOTS],
    size: [AtomicUsize; SLOTS],
}

static GUARDED: Guarded = Guarded {
    start: [const { AtomicUsize::new(0) }; SLOTS],
    len: [const { AtomicUsize::new(0) }; SLOTS],
    size: [const { AtomicUsize::new(0) }; SLOTS],
};

impl Guarded {
    /// Records a mapping; its slot, or [`NO_SLOT`] when the table is full.
    fn register(&self, base: *mut u8, len: usize, size: usize) -> usize {
        for slot in 0..SLOTS {
            if self.len[slot]
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.start[slot].store(base as usize, Ordering::Release);
                self.size[slot].store(size, Ordering::Release);
                self.len[slot].store(len, Ordering::Release);
                return slot;
            }
        }
        NO_SLOT
    }

    fn resize(&self, slot: usize, size: usize) {
        if slot != NO_SLOT {
            self.size[slot].store(size, Ordering::Release);
        }
    }

    fn unregister(&self, slot: usize) {
        if slot != NO_SLOT {
            self.len[slot].store(0, Ordering::Release);
        }
    }

    /// The memory whose mapping holds `address`: its size and the
    /// address's offset from the memory's start.
    fn find(&self, address: usize) -> Option<(usize, i64)> {
        (0..SLOTS).find_map(|slot| {
            let len = self.len[slot].load(Ordering::Acquire);
            let start = self.start[slot].load(Ordering::Acquire);
            (len != 0 && len != usize::MAX && (start..start + len).contains(&address)).then(|| {
                let memory = start + GUARD_BYTES;
                (
                    self.size[slot].load(Ordering::Acquire),
                    address as i64 - memory as i64,
                )
            })
        })
    }
}

/// The SIGSEGV and SIGBUS handlers that were in place before the fault
/// reporter's (Wasmtime's, or the default), called after it; set before
/// the reporter is installed, read in the handler (an atomic load).
static PREVIOUS: [OnceLock<libc::sigaction>; 2] = [OnceLock::new(), OnceLock::new()];

/// Installs, once per process, a SIGSEGV/SIGBUS handler that writes which
/// canary memory's guard a fault hit, and at what offset, to stderr, then
/// hands the signal on to the handler that was there before (Wasmtime's
/// own, which handles its traps and otherwise ends the process).
pub fn install_fault_reporter() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        for (i, signal) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
            // SAFETY: a handler that only reads atomics and writes to
            // stderr; the previous action is saved before ours is set.
            unsafe {
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(signal, std::ptr::null(), &mut previous);
                PREVIOUS[i].get_or_init(|| previous);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_fault as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

/// The fault reporter: async-signal-safe (atomics, a stack buffer,
/// `write`).
extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel hands a valid siginfo for SA_SIGINFO handlers.
    let address = unsafe { (*info).si_addr() } as usize;
    if let Some((size, offset)) = GUARDED.find(address) {
        let mut line = [0u8; 256];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            let n = bytes.len().min(line.len() - at);
            line[at..at + n].copy_from_slice(&bytes[..n]);
            at += n;
        };
        let mut number = itoa::Buffer::new();
        put(GUARD_FAULT.as_bytes());
        put(b" at offset ");
        put(number.format(offset).as_bytes());
        put(b" of a ");
        put(number.format(size).as_bytes());
        put(b"-byte linear memory (");
        if offset < 0 {
            put(number.format(-offset).as_bytes());
            put(b" byte(s) before its start)\n");
        } else {
            put(number
                .format(offset as usize - size.min(offset as usize))
                .as_bytes());
            put(b" byte(s) past its end)\n");
        }
        // SAFETY: writing a stack buffer to stderr.
        unsafe { libc::write(2, line.as_ptr().cast(), at) };
        // The code of an explicit-checks engine must never fault: the
        // process dies of it as a breach, even where Wasmtime's own
        // handler would call the fault an ordinary out-of-bounds trap.
        die_on_return(signal);
        return;
    }
    let index = usize::from(signal == libc::SIGBUS);
    // Saved by `install_fault_reporter` before this handler was set.
    let Some(previous) = PREVIOUS[index].get() else {
        return;
    };
    match previous.sa_sigaction {
        libc::SIG_DFL | libc::SIG_IGN => die_on_return(signal),
        handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
            // SAFETY: the previous handler, called as it was installed.
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(handler) };
            handler(signal, info, context);
        }
        handler => {
            // SAFETY: as above, a plain handler.
            let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
            handler(signal);
        }
    }
}

/// Sets `signal` back to its default action, so that the access, run
/// again on return from the handler, ends the process with it.
fn die_on_return(signal: libc::c_int) {
    // SAFETY: resetting this signal's action (async-signal-safe).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &action, std::ptr::null_mut());
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

    fn memory(size: usize, maximum: Option<usize>) -> Box<dyn LinearMemory> {
        let ty = MemoryType::new(1, None);
        CanaryCreator::default()
            .new_memory(ty, size, maximum, None, 0)
            .expect("a canary memory")
    }

    /// Whether the byte at `at` can be read, asked of the kernel (a
    /// `write` from it into a pipe fails with EFAULT where it cannot), so
    /// that the test does not fault.
    fn readable(at: *const u8) -> bool {
        let mut fds = [0; 2];
        // SAFETY: a pipe of our own, closed below.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let wrote = libc::write(fds[1], at.cast(), 1);
            libc::close(fds[0]);
            libc::close(fds[1]);
            wrote == 1
        }
    }

    #[test]
    fn the_pages_around_a_memory_are_inaccessible() {
        let memory = memory(65536, Some(4 * 65536));
        let base = memory.as_ptr();
        // SAFETY: pointers into and around the mapping, only asked about.
        unsafe {
            assert!(readable(base));
            assert!(readable(base.add(65535)));
            assert!(!readable(base.add(65536)), "the page after the end");
            assert!(!readable(base.sub(1)), "the page before the start");
            assert!(!readable(base.sub(GUARD_BYTES)), "the far end of the guard");
        }
        assert_eq!(memory.byte_capacity(), 4 * 65536);
    }

    #[test]
    fn a_write_past_an_unaligned_end_is_a_breach_naming_offset_and_bytes() {
        take_breach();
        // A custom page size of 1: the memory ends inside a page, whose
        // rest is the canary zone.
        let memory = memory(100, None);
        check(|| "instantiation".into());
        assert_eq!(take_breach(), None);
        // SAFETY: inside the canary zone of the memory's last page.
        unsafe {
            assert_eq!(
                std::slice::from_raw_parts(memory.as_ptr().add(100), 8),
                b"CANARY!!"
            );
            memory.as_ptr().add(100 + 3).write(0x2a);
        }
        check(|| "call \"f\"()".into());
        let breach = take_breach().expect("a breach");
        assert!(
            breach.starts_with("after call \"f\"(): 1 canary byte(s) changed"),
            "{breach}"
        );
        assert!(breach.contains("offset 103 (3 past its end)"), "{breach}");
        assert!(breach.contains("bytes written: 2a"), "{breach}");
        // Reported once; the canary is whole again.
        check(|| "call \"g\"()".into());
        assert_eq!(take_breach(), None);
        // SAFETY: only asked about.
        assert!(!readable(unsafe { memory.as_ptr().add(PAGE) }));
    }

    #[test]
    fn growth_keeps_contents_and_moves_the_guard_and_canary() {
        take_breach();
        let mut memory = memory(16, Some(200_000));
        // SAFETY: inside the memory.
        unsafe { memory.as_ptr().write(7) };
        memory.grow_to(65536).unwrap();
        assert_eq!(take_breach(), None);
        // SAFETY: inside the grown memory; past it only asked about.
        unsafe {
            assert_eq!(memory.as_ptr().read(), 7);
            assert_eq!(memory.as_ptr().add(16).read(), 0, "the old canary is zero");
            assert_eq!(memory.as_ptr().add(65535).read(), 0);
            assert!(!readable(memory.as_ptr().add(65536)));
        }
        // Within the reservation growth stays in place; beyond it, the
        // memory moves with its contents.
        let base = memory.as_ptr();
        memory.grow_to(100_000).unwrap();
        assert_eq!(memory.as_ptr(), base);
        // SAFETY: inside the memory and its canary zone.
        unsafe {
            assert_eq!(memory.as_ptr().add(99_999).read(), 0);
            assert_eq!(
                std::slice::from_raw_parts(memory.as_ptr().add(100_000), 8),
                b"CANARY!!"
            );
        }
        assert!(memory.grow_to(200_001).is_err(), "past the maximum");
        let mut unbounded = self::memory(65536, None);
        // SAFETY: inside the memory.
        unsafe { unbounded.as_ptr().add(5).write(9) };
        unbounded.grow_to(65536 + 1).unwrap();
        assert_eq!(unbounded.byte_capacity(), 131072);
        // SAFETY: inside the moved memory.
        unsafe { assert_eq!(unbounded.as_ptr().add(5).read(), 9) };
        check(|| "call".into());
        assert_eq!(take_breach(), None);
    }

    #[test]
    fn the_fault_reporter_finds_the_memory_of_an_address() {
        let memory = memory(65536, None);
        let base = memory.as_ptr() as usize;
        assert_eq!(GUARDED.find(base + 65536 + 8), Some((65536, 65544)));
        assert_eq!(GUARDED.find(base - 4), Some((65536, -4)));
        assert_eq!(GUARDED.find(base + 65536 + GUARD_BYTES + PAGE * 20), None);
    }
}
