//! Gives memory freed after a load back to the operating system.
//!
//! Reading a large store builds a parse tree many times the size of the
//! profiles it yields. glibc keeps what is freed in its heap for later
//! allocations, so a pwsh that loaded 10,000 profiles would keep a working
//! set megabytes above what it uses. Other allocators and platforms return
//! memory on their own terms; there this does nothing.

/// Returns the free memory at the top and in the middle of the heap to the
/// operating system (glibc's `malloc_trim`). Cheap next to the load it follows.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only rearranges the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
