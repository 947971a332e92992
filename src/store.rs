//! The Redis store's I/O (`dash_auth_redis`; every decision is in
//! `dash_auth_core::store`): one connection per worker process, started in
//! `init_process`, made with nginx's own non-blocking peer connection and
//! driven by nginx's event loop. A cancelable timer runs the client's tick;
//! the socket's read and write events move bytes. Nothing here runs on a
//! request's path: requests only read and write the local zone and the
//! outbox.
use core::ffi::c_void;
use core::ptr;
use std::net::SocketAddr;

use dash_auth_core::plan::{Level, Log};
use dash_auth_core::store::{self, outbox, Action, Client, Settings};
use ngx::ffi::{
    ngx_close_connection, ngx_connection_t, ngx_current_msec, ngx_cycle_t, ngx_event_connect_peer,
    ngx_event_get_peer, ngx_event_t, ngx_exiting, ngx_handle_read_event, ngx_handle_write_event,
    ngx_int_t, ngx_log_t, ngx_peer_connection_t, ngx_process, ngx_quit, ngx_str_t, ngx_terminate,
    sockaddr, NGX_AGAIN, NGX_LOG_CRIT, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN, NGX_OK,
    NGX_PROCESS_SINGLE, NGX_PROCESS_WORKER,
};
use ngx::ffi::{
    ngx_create_pool, ngx_destroy_pool, ngx_ssl_check_host, ngx_ssl_create_connection,
    ngx_ssl_handshake, ngx_ssl_shutdown, SSL_ctrl, SSL_get_verify_result,
    TLSEXT_NAMETYPE_host_name, NGX_SSL_BUFFER, NGX_SSL_CLIENT, SSL_CTRL_SET_TLSEXT_HOSTNAME,
    X509_V_OK,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_log_error;
use zeroize::Zeroizing;

use crate::conf::ext::SslClient;
use crate::shm::Zone;
use crate::DashAuthModule;

/// `dash_auth_redis`, resolved at configuration time.
pub struct StoreConf {
    pub addr: SocketAddr,
    /// `host:port` as written, for log lines.
    pub name: String,
    pub prefix: String,
    pub password: Option<Zeroizing<Vec<u8>>>,
    pub timeout_ms: u64,
    pub tls: Option<StoreTls>,
}

/// `tls`: the context that verifies the server, and the name its
/// certificate must carry (also sent as SNI).
pub struct StoreTls {
    pub ssl: SslClient,
    pub name: Vec<u8>,
}

/// A socket address in the layout `connect()` takes, built by hand so that
/// no libc struct with unions has to be filled in.
#[repr(C, align(8))]
struct SockAddr([u8; 32]);

impl SockAddr {
    fn new(addr: &SocketAddr) -> (SockAddr, u32) {
        let mut b = [0u8; 32];
        match addr {
            SocketAddr::V4(a) => {
                b[..2].copy_from_slice(&(ngx::ffi::AF_INET as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.ip().octets());
                (SockAddr(b), 16)
            }
            SocketAddr::V6(a) => {
                b[..2].copy_from_slice(&(ngx::ffi::AF_INET6 as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&a.port().to_be_bytes());
                b[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
                b[8..24].copy_from_slice(&a.ip().octets());
                b[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
                (SockAddr(b), 28)
            }
        }
    }
}

/// Everything one worker's connection needs, allocated once per worker and
/// never freed (the worker exits with it).
struct Runtime {
    client: Client,
    zone: Option<Zone>,
    horizon: u64,
    timer: ngx_event_t,
    peer: ngx_peer_connection_t,
    sockaddr: SockAddr,
    socklen: u32,
    name: ngx_str_t,
    name_bytes: Vec<u8>,
    /// The cycle's log with `error` lines dropped, for the connection:
    /// nginx logs every failed connect() at `error`, and an outage is to
    /// be logged once, by the client.
    quiet: ngx_log_t,
    log: *mut ngx_log_t,
    conn: *mut ngx_connection_t,
    connecting: bool,
    /// The TLS context and the server's name, NUL-terminated for OpenSSL.
    tls: Option<(SslClient, Vec<u8>)>,
    /// Connected, the TLS handshake not done: nothing may be sent yet.
    handshaking: bool,
}

fn now_ms() -> u64 {
    // SAFETY: nginx's cached monotonic clock, written only by this thread.
    unsafe { ngx_current_msec as u64 }
}

fn now() -> u64 {
    u64::try_from(ngx::ffi::ngx_time()).unwrap_or(0)
}

fn exiting() -> bool {
    // SAFETY: flags set by nginx's signal handling on this thread.
    unsafe { ngx_exiting != 0 || ngx_quit != 0 || ngx_terminate != 0 }
}

/// `ngx_module_t.init_process`: starts the client in each worker.
pub unsafe extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    // SAFETY: set by nginx before any module's init_process.
    let role = unsafe { ngx_process };
    if role != NGX_PROCESS_WORKER as usize && role != NGX_PROCESS_SINGLE as usize {
        return NGX_OK as ngx_int_t;
    }
    // SAFETY: nginx passes the worker's cycle.
    let Some(cycle) = (unsafe { cycle.as_ref() }) else {
        return NGX_OK as ngx_int_t;
    };
    let Some(main) = DashAuthModule::main_conf(cycle) else {
        return NGX_OK as ngx_int_t;
    };
    let Some((conf, _)) = main.store.as_ref() else {
        return NGX_OK as ngx_int_t;
    };
    outbox::enable();
    let settings = Settings {
        name: conf.name.clone(),
        prefix: conf.prefix.clone(),
        password: conf.password.clone(),
        timeout_ms: conf.timeout_ms,
        horizon: main.horizon,
    };
    let (sockaddr, socklen) = SockAddr::new(&conf.addr);
    // SAFETY: the cycle's log lives as long as the worker.
    let mut quiet = unsafe { *cycle.log };
    quiet.log_level = NGX_LOG_CRIT as usize;
    let rt = Box::leak(Box::new(Runtime {
        client: Client::new(settings),
        zone: main.zone(),
        horizon: main.horizon,
        // SAFETY: an all-zero event and peer are nginx's own starting state.
        timer: unsafe { core::mem::zeroed() },
        // SAFETY: as above.
        peer: unsafe { core::mem::zeroed() },
        sockaddr,
        socklen,
        name: ngx_str_t::default(),
        name_bytes: conf.addr.to_string().into_bytes(),
        quiet,
        log: cycle.log,
        conn: ptr::null_mut(),
        connecting: false,
        tls: conf.tls.as_ref().map(|t| {
            let mut name = t.name.clone();
            name.push(0);
            (t.ssl, name)
        }),
        handshaking: false,
    }));
    rt.name = ngx_str_t {
        len: rt.name_bytes.len(),
        data: rt.name_bytes.as_mut_ptr(),
    };
    let data = ptr::from_mut(rt).cast::<c_void>();
    rt.timer.handler = Some(on_timer);
    rt.timer.data = data;
    rt.timer.log = cycle.log;
    // Not a reason for a worker to wait before exiting.
    rt.timer.set_cancelable(1);
    // SAFETY: the event lives forever (leaked) and is owned by this thread.
    unsafe { ngx::ffi::ngx_add_timer(&mut rt.timer, 1) };
    NGX_OK as ngx_int_t
}

unsafe extern "C" fn on_timer(ev: *mut ngx_event_t) {
    // SAFETY: the timer's data is the leaked runtime of this worker.
    let Some(rt) =
        (unsafe { ev.as_ref() }).and_then(|ev| unsafe { ev.data.cast::<Runtime>().as_mut() })
    else {
        return;
    };
    if exiting() {
        rt.close();
        return;
    }
    let (action, log) = rt.client.tick(now_ms(), now(), outbox::drain());
    rt.log(log.as_ref());
    match action {
        Action::Connect => rt.connect(),
        Action::Close => rt.close(),
        Action::Nothing => {}
    }
    rt.flush();
    // SAFETY: as in `init_process`.
    unsafe { ngx::ffi::ngx_add_timer(&mut rt.timer, store::TICK_MS as _) };
}

/// The runtime of a connection's event.
///
/// # Safety
/// `ev` is an event of a connection made by `Runtime::connect`.
unsafe fn runtime_of(ev: *mut ngx_event_t) -> Option<&'static mut Runtime> {
    // SAFETY: a connection event's data is its connection, whose data is
    // the runtime (set in `connect`).
    unsafe {
        let c = ev.as_ref()?.data.cast::<ngx_connection_t>().as_ref()?;
        c.data.cast::<Runtime>().as_mut()
    }
}

unsafe extern "C" fn on_write(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this for the connection made in `connect`.
    let Some(rt) = (unsafe { runtime_of(ev) }) else {
        return;
    };
    if rt.connecting {
        rt.established();
    }
    rt.flush();
}

unsafe extern "C" fn on_handshake(c: *mut ngx_connection_t) {
    // SAFETY: nginx calls it for the connection made in `connect`, whose
    // data is the runtime.
    if let Some(rt) = unsafe { c.as_ref().and_then(|c| c.data.cast::<Runtime>().as_mut()) } {
        rt.handshaken();
    }
}

unsafe extern "C" fn on_read(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this for the connection made in `connect`.
    let Some(rt) = (unsafe { runtime_of(ev) }) else {
        return;
    };
    // SAFETY: the connection is live while its events are called.
    if rt.conn.is_null() || unsafe { (*rt.conn).close() } != 0 {
        // A graceful shutdown closing idle connections.
        rt.close();
        return;
    }
    if rt.connecting {
        rt.established();
    }
    rt.read();
    rt.flush();
}

impl Runtime {
    fn log(&self, line: Option<&Log>) {
        let Some(line) = line else { return };
        let level = match line.level {
            Level::Info => NGX_LOG_INFO,
            Level::Warn => NGX_LOG_WARN,
            Level::Error => NGX_LOG_ERR,
        };
        ngx_log_error!(level, self.log, "dash_auth: {}", line.text);
    }

    fn fail(&mut self, why: &str) {
        let log = self.client.failed(now_ms(), why);
        self.log(log.as_ref());
        self.close();
    }

    fn close(&mut self) {
        self.handshaking = false;
        // SAFETY: NULL or our live connection.
        if let Some(ssl) = unsafe { self.conn.as_ref() }.and_then(|c| unsafe { c.ssl.as_mut() }) {
            // Frees the TLS state without waiting for the peer's reply.
            ssl.set_no_wait_shutdown(1);
            ssl.set_no_send_shutdown(1);
            // SAFETY: our live TLS connection.
            let _ = unsafe { ngx_ssl_shutdown(self.conn) };
        }
        if !self.conn.is_null() {
            // SAFETY: our live connection; nginx removes its events and
            // timers and returns it to the free list. Its pool, made for
            // TLS, is ours to free.
            unsafe {
                let pool = (*self.conn).pool;
                ngx_close_connection(self.conn);
                if !pool.is_null() {
                    ngx_destroy_pool(pool);
                }
            }
            self.conn = ptr::null_mut();
        }
        self.connecting = false;
    }

    fn connect(&mut self) {
        self.close();
        // SAFETY: an all-zero peer is the documented starting state.
        self.peer = unsafe { core::mem::zeroed() };
        self.peer.sockaddr = ptr::from_mut(&mut self.sockaddr).cast::<sockaddr>();
        self.peer.socklen = self.socklen;
        self.peer.name = &mut self.name;
        self.peer.get = Some(ngx_event_get_peer);
        self.peer.log = &mut self.quiet;
        self.peer
            .set_log_error(ngx::ffi::ngx_connection_log_error_e_NGX_ERROR_ERR);
        // SAFETY: a filled-in peer whose pointers live as long as the runtime.
        let rc = unsafe { ngx_event_connect_peer(&mut self.peer) };
        let c = self.peer.connection;
        if (rc != NGX_OK as ngx_int_t && rc != NGX_AGAIN as ngx_int_t) || c.is_null() {
            // nginx has closed the socket already.
            self.fail("connect failed");
            return;
        }
        self.conn = c;
        // SAFETY: the connection nginx just made for us.
        let cr = unsafe { &mut *c };
        cr.data = ptr::from_mut(self).cast();
        // Closed, not waited for, by a graceful shutdown.
        cr.set_idle(1);
        // SAFETY: a connection always has both events.
        unsafe {
            (*cr.read).handler = Some(on_read);
            (*cr.write).handler = Some(on_write);
        }
        if rc == NGX_OK as ngx_int_t {
            self.established();
        } else {
            self.connecting = true;
        }
    }

    fn established(&mut self) {
        self.connecting = false;
        // SAFETY: our live connection.
        if self.tls.is_some() && unsafe { (*self.conn).ssl.is_null() } {
            return self.start_tls();
        }
        self.client.connected(now_ms(), now());
    }

    fn start_tls(&mut self) {
        let Some((ssl, name)) = &self.tls else { return };
        let c = self.conn;
        // SAFETY: our live connection. A peer connection has no pool of
        // its own, and the TLS state is allocated from one; `close` frees it.
        unsafe {
            if (*c).pool.is_null() {
                (*c).pool = ngx_create_pool(4096, self.log);
                if (*c).pool.is_null() {
                    return self.fail("cannot start TLS");
                }
            }
        }
        // SAFETY: our live connection and a context made at configuration
        // time; nginx attaches the TLS state to the connection.
        let rc = unsafe {
            ngx_ssl_create_connection(ssl.0.as_ptr(), c, (NGX_SSL_BUFFER | NGX_SSL_CLIENT) as _)
        };
        if rc != NGX_OK as ngx_int_t {
            return self.fail("cannot start TLS");
        }
        // SAFETY: the TLS state just made; `name` is NUL-terminated and
        // OpenSSL copies it.
        unsafe {
            SSL_ctrl(
                (*(*c).ssl).connection,
                SSL_CTRL_SET_TLSEXT_HOSTNAME as _,
                TLSEXT_NAMETYPE_host_name as _,
                name.as_ptr().cast_mut().cast(),
            )
        };
        self.handshaking = true;
        // SAFETY: as above.
        let rc = unsafe { ngx_ssl_handshake(c) };
        if rc == NGX_AGAIN as ngx_int_t {
            // SAFETY: as above; nginx calls it when the handshake ends.
            unsafe { (*(*c).ssl).handler = Some(on_handshake) };
            return;
        }
        self.handshaken();
    }

    /// The handshake ended: the server must have shown a certificate the
    /// trusted CAs sign, for the configured name.
    fn handshaken(&mut self) {
        self.handshaking = false;
        let c = self.conn;
        if c.is_null() {
            return;
        }
        // SAFETY: our live connection; nginx's handshake handler took its
        // events over and leaves them to us again.
        let ssl = unsafe {
            (*(*c).read).handler = Some(on_read);
            (*(*c).write).handler = Some(on_write);
            (*c).ssl.as_ref()
        };
        let Some(ssl) = ssl.filter(|s| s.handshaked() != 0) else {
            return self.fail("TLS handshake failed");
        };
        // SAFETY: the connection's TLS state, handshake done.
        if unsafe { SSL_get_verify_result(ssl.connection) } != X509_V_OK as core::ffi::c_long {
            return self.fail("TLS: the server's certificate is not signed by the trusted CAs");
        }
        let Some((_, name)) = &self.tls else { return };
        let mut host = ngx_str_t {
            len: name.len().saturating_sub(1),
            data: name.as_ptr().cast_mut(),
        };
        // SAFETY: as above; nginx only reads the name.
        if unsafe { ngx_ssl_check_host(c, &mut host) } != NGX_OK as ngx_int_t {
            return self.fail("TLS: the server's certificate is not for its tls_name");
        }
        self.client.connected(now_ms(), now());
        self.flush();
    }

    fn flush(&mut self) {
        if self.handshaking {
            return;
        }
        while !self.conn.is_null() && !self.client.output().is_empty() {
            // SAFETY: our live connection; nginx set its I/O functions.
            let Some(send) = (unsafe { (*self.conn).send }) else {
                return self.fail("no send function");
            };
            let out = self.client.output();
            // SAFETY: `send` reads at most `len` bytes of the buffer.
            let n = unsafe { send(self.conn, out.as_ptr().cast_mut(), out.len()) };
            if n > 0 {
                self.client.consumed(n.unsigned_abs());
            } else if n == NGX_AGAIN as isize {
                break;
            } else {
                return self.fail("send failed");
            }
        }
        if !self.conn.is_null() {
            // SAFETY: our live connection's write event.
            if unsafe { ngx_handle_write_event((*self.conn).write, 0) } != NGX_OK as ngx_int_t {
                self.fail("cannot wait for the socket");
            }
        }
    }

    fn read(&mut self) {
        if self.handshaking {
            return;
        }
        let mut buf = [0u8; 16 * 1024];
        while !self.conn.is_null() {
            // SAFETY: our live connection; nginx set its I/O functions.
            let Some(recv) = (unsafe { (*self.conn).recv }) else {
                return self.fail("no recv function");
            };
            // SAFETY: `recv` writes at most `len` bytes into the buffer.
            let n = unsafe { recv(self.conn, buf.as_mut_ptr(), buf.len()) };
            if n == NGX_AGAIN as isize {
                break;
            }
            if n == 0 {
                return self.fail("connection closed by redis");
            }
            let Some(got) = usize::try_from(n).ok().and_then(|n| buf.get(..n)) else {
                return self.fail("connection lost");
            };
            let r = self.client.received(got, now_ms());
            for m in &r.merges {
                let (rev, att) = self.zone.map(|z| z.tables()).unwrap_or_default();
                let line = store::apply(m, rev, att, self.horizon, now());
                self.log(line.as_ref());
            }
            self.log(r.log.as_ref());
            if r.close {
                return self.close();
            }
        }
        if !self.conn.is_null() {
            // SAFETY: our live connection's read event.
            if unsafe { ngx_handle_read_event((*self.conn).read, 0) } != NGX_OK as ngx_int_t {
                self.fail("cannot wait for the socket");
            }
        }
    }
}
