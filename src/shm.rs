//! The `dash_auth_zone` shared memory: one block of `AtomicU64` words, taken
//! once from the zone's slab pool when the zone is created, then split into
//! the logout cut-offs and the login failure counts (see
//! `dash_auth_core::shared_table`). Every access after that is a plain
//! atomic operation on the mapping that all workers share.
use core::ffi::c_void;
use core::sync::atomic::AtomicU64;

use ngx::core::Status;
use ngx::ffi::{ngx_conf_t, ngx_int_t, ngx_shm_zone_t, ngx_slab_alloc, ngx_slab_pool_t, ngx_str_t};

use dash_auth_core::shared_table::{self, Table};

use crate::conf::ext::NgxConfExt;

/// Where the word block lives; stored in the slab pool's `data` so that a
/// reload that keeps the zone finds it again.
#[repr(C)]
struct Block {
    words: *mut AtomicU64,
    len: usize,
}

/// A zone added by `dash_auth_zone`.
#[derive(Clone, Copy)]
pub struct Zone(pub *mut ngx_shm_zone_t);

// SAFETY: the zone pointer is set at configuration time and only read
// afterwards; what it points to is only touched through atomics.
unsafe impl Send for Zone {}
// SAFETY: as above.
unsafe impl Sync for Zone {}

/// The logout cut-offs and the failure counts.
pub type Tables = (Option<Table<'static>>, Option<Table<'static>>);

impl Zone {
    /// Registers `dash_auth_zone name size`; `None` if nginx refused it
    /// (it has logged why).
    pub fn add(cf: &ngx_conf_t, name: &ngx_str_t, size: usize) -> Option<Zone> {
        // The module table's address is the tag, as nginx's own modules
        // pass `&ngx_http_..._module`.
        let tag = core::ptr::addr_of_mut!(crate::ngx_http_dash_auth_module);
        cf.shared_zone(name, size, tag.cast(), Some(init)).map(Zone)
    }

    /// The two tables, or `(None, None)` while the zone is not initialised.
    pub fn tables(&self) -> Tables {
        self.words().map_or((None, None), |words| {
            let (rev, att) = words.split_at(words.len() / 2);
            (Table::new(rev), Table::new(att))
        })
    }

    fn words(&self) -> Option<&'static [AtomicU64]> {
        // SAFETY: the zone lives as long as the cycle; `data` is NULL or the
        // `Block` written by `init`.
        let block = unsafe { self.0.as_ref()?.data.cast::<Block>().as_ref()? };
        if block.words.is_null() {
            return None;
        }
        // SAFETY: `init` allocated `len` words, zeroed, in shared memory
        // that stays mapped for the life of every worker.
        Some(unsafe { core::slice::from_raw_parts(block.words, block.len) })
    }
}

/// `ngx_shm_zone_t.init`: allocates the block in a new zone, or takes over
/// the old one's on reload.
unsafe extern "C" fn init(zone: *mut ngx_shm_zone_t, old: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx passes the zone being initialised.
    let Some(zone) = (unsafe { zone.as_mut() }) else {
        return Status::NGX_ERROR.0;
    };
    if !old.is_null() {
        zone.data = old;
        return Status::NGX_OK.0;
    }
    let pool = zone.shm.addr.cast::<ngx_slab_pool_t>();
    // SAFETY: every shared zone starts with its slab pool.
    let Some(pool_ref) = (unsafe { pool.as_mut() }) else {
        return Status::NGX_ERROR.0;
    };
    if !pool_ref.data.is_null() {
        zone.data = pool_ref.data;
        return Status::NGX_OK.0;
    }
    // SAFETY: a live slab pool; the result is NULL or `size_of::<Block>` bytes.
    let block = unsafe { ngx_slab_alloc(pool, core::mem::size_of::<Block>()) }.cast::<Block>();
    if block.is_null() {
        return Status::NGX_ERROR.0;
    }
    // The slab pool keeps page descriptors inside the zone: ask for less
    // and less until an allocation fits.
    let mut bytes = zone.shm.size / 8 * 7;
    let mut words = core::ptr::null_mut::<AtomicU64>();
    while bytes >= 4096 && words.is_null() {
        // SAFETY: as above.
        words = unsafe { ngx_slab_alloc(pool, bytes) }.cast();
        if words.is_null() {
            bytes = bytes / 4 * 3;
        }
    }
    if words.is_null() {
        return Status::NGX_ERROR.0;
    }
    let len = bytes / core::mem::size_of::<AtomicU64>();
    // SAFETY: fresh allocation of `len` words; zero is a valid AtomicU64.
    unsafe { core::ptr::write_bytes(words, 0, len) };
    // SAFETY: as above, now initialised.
    let slice: &[AtomicU64] = unsafe { core::slice::from_raw_parts(words, len) };
    let (rev, att) = slice.split_at(len / 2);
    Table::init(rev, shared_table::random_key());
    Table::init(att, shared_table::random_key());
    // SAFETY: `block` is a fresh allocation of the right size.
    unsafe { block.write(Block { words, len }) };
    pool_ref.data = block.cast();
    zone.data = block.cast();
    Status::NGX_OK.0
}
