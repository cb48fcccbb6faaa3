//! The one way ailake takes a `std::sync::Mutex` or `RwLock`.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, going on when a thread panicked while holding it. Every mutex in ailake
/// guards plain data (caches, maps, slots, counters) that each statement leaves consistent,
/// so a poisoned lock is safe to use, and one panicked search must not fail every later one.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks `lock` ([`lock`]'s rule for an `RwLock`).
pub fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks `lock` ([`lock`]'s rule for an `RwLock`).
pub fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
