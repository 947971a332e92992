//! Buffer chains: reading the bytes of one, whether in memory or in a
//! temporary file (request bodies and proxied responses are spooled to
//! disk when they outgrow their buffers), and making one from bytes.
use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::unix::fs::FileExt;
use std::os::unix::io::FromRawFd;

use ngx::core::{Buffer, MemoryBuffer};
use ngx::ffi::{ngx_buf_t, ngx_chain_t};
use ngx::http::Request;

use dash_auth_core::plan::BodyError;

/// `bytes` as a whole body, without a copy.
///
/// # Safety
/// `bytes` must stay valid and unchanged until the request's pool is freed:
/// the output filters may hold on to the buffer until then.
pub unsafe fn borrowed_chain<'a>(r: &Request, bytes: &[u8]) -> Option<&'a mut ngx_chain_t> {
    let pool = r.pool();
    let b = pool.calloc_type::<ngx_buf_t>();
    if b.is_null() {
        return None;
    }
    let start = bytes.as_ptr().cast_mut();
    // SAFETY: `b` is a fresh zeroed buffer header; a `memory` buffer is
    // only read, and `start..end` is `bytes`.
    unsafe {
        (*b).start = start;
        (*b).pos = start;
        (*b).last = start.add(bytes.len());
        (*b).end = (*b).last;
        (*b).set_memory(1);
    }
    let mut buf = MemoryBuffer::from_ngx_buf(b);
    buf.set_last_buf(true);
    buf.set_last_in_chain(true);
    link(r, b)
}

fn link<'a>(r: &Request, b: *mut ngx_buf_t) -> Option<&'a mut ngx_chain_t> {
    // SAFETY: NULL or an allocation of the request pool sized for a link.
    let link = unsafe { r.pool().alloc_type::<ngx_chain_t>().as_mut() }?;
    link.buf = b;
    link.next = core::ptr::null_mut();
    Some(link)
}

/// `bytes`, copied into one buffer of the request pool, as a whole body:
/// it stays valid however long the output filters hold on to it.
pub fn memory_chain<'a>(r: &Request, bytes: &[u8]) -> Option<&'a mut ngx_chain_t> {
    let pool = r.pool();
    let mut buf = pool.create_buffer(bytes.len().max(1))?;
    let b = buf.as_ngx_buf_mut();
    // SAFETY: a fresh temporary buffer of at least `bytes.len()` bytes,
    // whose `pos` is its start; it does not overlap `bytes`.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), (*b).pos, bytes.len());
        (*b).last = (*b).pos.add(bytes.len());
    }
    buf.set_last_buf(true);
    buf.set_last_in_chain(true);
    link(r, b)
}

#[derive(Debug)]
pub enum CollectError {
    TooLarge,
    Read(std::io::Error),
}

/// What core is told when a body could not be had whole.
impl From<CollectError> for BodyError {
    fn from(e: CollectError) -> BodyError {
        match e {
            CollectError::TooLarge => BodyError::TooLarge,
            CollectError::Read(e) => BodyError::Unreadable(e.to_string()),
        }
    }
}

/// What a walk over a chain saw.
pub struct Collected {
    pub last_buf: bool,
}

/// Appends the chain's data to `out`, failing once `out` would exceed
/// `limit`. With `consume`, marks each buffer as fully sent, as a filter
/// that takes over the data must.
///
/// # Safety
/// `chain` is NULL or a valid chain whose buffers describe live memory or
/// open files, as nginx guarantees for request bodies and filter input.
pub unsafe fn collect(
    mut chain: *mut ngx_chain_t,
    limit: usize,
    consume: bool,
    out: &mut Vec<u8>,
) -> Result<Collected, CollectError> {
    let mut seen = Collected { last_buf: false };
    // SAFETY: per the function contract.
    while let Some(link) = unsafe { chain.as_ref() } {
        chain = link.next;
        // SAFETY: per the function contract.
        let Some(b) = (unsafe { link.buf.as_mut() }) else {
            continue;
        };
        if b.last_buf() != 0 || b.last_in_chain() != 0 {
            seen.last_buf = true;
        }
        // SAFETY: per the function contract.
        unsafe { append(b, limit, out)? };
        if consume {
            b.pos = b.last;
            b.file_pos = b.file_last;
        }
    }
    Ok(seen)
}

/// The chain's data without a copy when it is one in-memory buffer (a
/// small request body usually is); `None` otherwise.
///
/// # Safety
/// As for [`collect`]; the slice lives as long as the buffer.
pub unsafe fn single_memory<'a>(chain: *const ngx_chain_t) -> Option<&'a [u8]> {
    // SAFETY: per the function contract.
    let link = unsafe { chain.as_ref() }?;
    if !link.next.is_null() {
        return None;
    }
    // SAFETY: per the function contract.
    let b = unsafe { link.buf.as_ref() }?;
    if !in_memory(b) || b.in_file() != 0 || b.pos.is_null() {
        return None;
    }
    // SAFETY: both point into the same buffer.
    let len = usize::try_from(unsafe { b.last.offset_from(b.pos) }).ok()?;
    // SAFETY: an in-memory buffer's [pos, last) is readable.
    Some(unsafe { core::slice::from_raw_parts(b.pos, len) })
}

fn in_memory(b: &ngx_buf_t) -> bool {
    b.temporary() != 0 || b.memory() != 0 || b.mmap() != 0
}

/// # Safety
/// `b` describes live memory or an open file, as for [`collect`].
unsafe fn append(b: &ngx_buf_t, limit: usize, out: &mut Vec<u8>) -> Result<(), CollectError> {
    if in_memory(b) {
        // SAFETY: both point into the same buffer.
        let len = usize::try_from(unsafe { b.last.offset_from(b.pos) }).unwrap_or(0);
        if out.len().saturating_add(len) > limit {
            return Err(CollectError::TooLarge);
        }
        if len > 0 {
            // SAFETY: an in-memory buffer's [pos, last) is readable.
            out.extend_from_slice(unsafe { core::slice::from_raw_parts(b.pos, len) });
        }
    } else if b.in_file() != 0 {
        // SAFETY: an in-file buffer points at its open temporary file.
        let Some(file) = (unsafe { b.file.as_ref() }) else {
            return Err(CollectError::Read(std::io::ErrorKind::NotFound.into()));
        };
        let len = usize::try_from(b.file_last - b.file_pos).unwrap_or(0);
        if out.len().saturating_add(len) > limit {
            return Err(CollectError::TooLarge);
        }
        let start = out.len();
        out.resize(start + len, 0);
        // nginx owns the descriptor: borrow it without closing it on drop.
        // SAFETY: `fd` is open for as long as the buffer is alive.
        let f = ManuallyDrop::new(unsafe { File::from_raw_fd(file.fd) });
        let offset = u64::try_from(b.file_pos).unwrap_or(0);
        let dest = out.get_mut(start..).unwrap_or_default();
        f.read_exact_at(dest, offset).map_err(CollectError::Read)?;
    }
    Ok(())
}
