//! What the openssl engine needs and the openssl crate does not wrap safely: NPN (next
//! protocol negotiation, TLS 1.2 and older), the PSK identity hint, resuming a session, the
//! SNI name inside a ClientHello callback, the negotiated group, session tickets under the
//! application's keys, and, inside a verify callback, the chain the peer sent and the
//! verification error to report.
//! These are sslsock's only foreign calls; each states why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uchar, c_uint, c_void, CStr};
use std::sync::OnceLock;

use foreign_types::ForeignTypeRef;

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{SslContext, SslContextBuilder, SslRef, SslSession, SslSessionRef};
use openssl::stack::StackRef;
use openssl::x509::{X509StoreContextRef, X509VerifyResult, X509};
use openssl_sys as ffi;

use crate::session::TicketKeyCallback;

extern "C" {
    // In libssl and libcrypto, which openssl-sys links; openssl-sys does not declare them.
    fn SSL_CTX_use_psk_identity_hint(ctx: *mut ffi::SSL_CTX, hint: *const c_char) -> c_int;
    fn X509_STORE_CTX_get0_untrusted(ctx: *const ffi::X509_STORE_CTX) -> *mut ffi::stack_st_X509;
    fn SSL_group_to_name(s: *mut ffi::SSL, id: c_int) -> *const c_char;
    fn SSL_CTX_set_tlsext_ticket_key_evp_cb(
        ctx: *mut ffi::SSL_CTX,
        fp: Option<TicketKeyFn>,
    ) -> c_int;
    fn OSSL_PARAM_construct_utf8_string(
        key: *const c_char,
        buf: *mut c_char,
        bsize: usize,
    ) -> ffi::OSSL_PARAM;
}

/// OpenSSL 3's ticket key callback: `(ssl, key_name[16], iv[16], cipher, mac, enc)`, called
/// by OpenSSL with the pointers it owns (see `ticket_key_cb`).
type TicketKeyFn = extern "C" fn(
    *mut ffi::SSL,
    *mut c_uchar,
    *mut c_uchar,
    *mut ffi::EVP_CIPHER_CTX,
    *mut ffi::EVP_MAC_CTX,
    c_int,
) -> c_int;

/// The application's ticket key callback, kept with each context that uses it.
struct TicketKeys(TicketKeyCallback);

/// Where a context keeps its [`TicketKeys`] (one index for the process).
fn ticket_index() -> Result<Index<SslContext, TicketKeys>, ErrorStack> {
    static INDEX: OnceLock<Index<SslContext, TicketKeys>> = OnceLock::new();
    if let Some(i) = INDEX.get() {
        return Ok(*i);
    }
    let made = SslContext::new_ex_index::<TicketKeys>()?;
    Ok(*INDEX.get_or_init(|| made))
}

/// Server: session tickets sealed under the keys `callback` hands out (`SSL_ticket_keycb`),
/// as on the default engine: with `None` the current key, with a ticket's key name that key
/// or `None` for a retired one (a full handshake then). OpenSSL seals tickets with
/// AES-256-CBC and HMAC-SHA256; both keys are derived from the application's 32-byte key.
pub(crate) fn set_ticket_keys(
    b: &mut SslContextBuilder,
    callback: TicketKeyCallback,
) -> Result<(), ErrorStack> {
    b.set_ex_data(ticket_index()?, TicketKeys(callback));
    // SAFETY: `b.as_ptr()` is the live SSL_CTX the builder owns; `ticket_key_cb` has the
    // signature of OpenSSL 3's `SSL_CTX_set_tlsext_ticket_key_evp_cb` callback and reads its
    // state from the context's ex data, which lives as long as the context. The openssl crate
    // has no ticket key callback.
    let ok = unsafe { SSL_CTX_set_tlsext_ticket_key_evp_cb(b.as_ptr(), Some(ticket_key_cb)) };
    if ok == 1 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}

/// A key derived from the application's ticket key for one purpose.
fn derived(key: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let prf = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&prf, purpose);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// OpenSSL asks for ticket keys: `enc` 1 to seal a new ticket (fill the key name and the IV),
/// 0 to open one (`key_name` and `iv` come from the ticket). Returns 1 (go on), 2 (opened
/// under a key that is no longer current: issue a new ticket), 0 (no ticket / unknown key:
/// a full handshake), -1 (error). The openssl crate has no ticket key callback.
extern "C" fn ticket_key_cb(
    ssl: *mut ffi::SSL,
    key_name: *mut c_uchar,
    iv: *mut c_uchar,
    cipher: *mut ffi::EVP_CIPHER_CTX,
    mac: *mut ffi::EVP_MAC_CTX,
    enc: c_int,
) -> c_int {
    let seal = enc == 1;
    // SAFETY: OpenSSL calls this during a handshake of the live `ssl`, with `key_name` (16
    // bytes) and `iv` (EVP_MAX_IV_LENGTH, 16 bytes) valid and writable for the call and not
    // aliased by anything else here; none of the three is kept past the call.
    let (ssl, name, iv) = unsafe {
        (
            SslRef::from_ptr(ssl),
            &mut *key_name.cast::<[u8; 16]>(),
            &mut *iv.cast::<[u8; 16]>(),
        )
    };
    let (key, answer) = match ticket_key(ssl, name, iv, seal) {
        Ok(chosen) => chosen,
        Err(answer) => return answer,
    };
    // SAFETY: `cipher` and `mac` are the contexts OpenSSL owns and hands over for this ticket,
    // valid for the call; the key, IV and parameter buffers outlive the calls that read them
    // (EVP_*Init_ex and EVP_MAC_CTX_set_params copy what they keep).
    let ok = unsafe { start_ticket_crypto(cipher, mac, &key, iv, seal) };
    if ok {
        answer
    } else {
        -1
    }
}

/// The key for a ticket, and the callback's answer for it; `Err` holds the answer when there
/// is no key (0: no ticket, or a full handshake) or no callback (-1). Sealing fills `name`
/// and a fresh `iv`.
fn ticket_key(
    ssl: &SslRef,
    name: &mut [u8; 16],
    iv: &mut [u8; 16],
    seal: bool,
) -> Result<([u8; 32], c_int), c_int> {
    let index = ticket_index().map_err(|_| -1)?;
    let TicketKeys(callback) = ssl.ssl_context().ex_data(index).ok_or(-1)?;
    let current = callback(None);
    if seal {
        let k = current.ok_or(0)?;
        *name = k.name;
        aws_lc_rs::rand::fill(iv).map_err(|_| -1)?;
        return Ok((k.key, 1));
    }
    let k = callback(Some(name)).ok_or(0)?;
    let renew = current.is_none_or(|c| c.name != *name);
    Ok((k.key, if renew { 2 } else { 1 }))
}

/// Keys OpenSSL's ticket contexts: AES-256-CBC for sealing or opening, HMAC-SHA256.
///
/// # Safety
/// `cipher` and `mac` must be live contexts OpenSSL handed to the ticket key callback.
unsafe fn start_ticket_crypto(
    cipher: *mut ffi::EVP_CIPHER_CTX,
    mac: *mut ffi::EVP_MAC_CTX,
    key: &[u8; 32],
    iv: &[u8; 16],
    seal: bool,
) -> bool {
    let aes = derived(key, b"sslsock openssl ticket aes-256-cbc");
    let mut hmac = derived(key, b"sslsock openssl ticket hmac-sha256");
    let mut digest = *b"SHA256\0";
    // SAFETY: the caller vouches for `cipher` and `mac`; `aes` and `iv` are 32 and 16 bytes
    // as AES-256-CBC reads them; the parameters point at `hmac` and `digest`, alive until
    // EVP_MAC_CTX_set_params returns, and the array ends with OSSL_PARAM_construct_end.
    unsafe {
        let init = if seal {
            ffi::EVP_EncryptInit_ex(
                cipher,
                ffi::EVP_aes_256_cbc(),
                std::ptr::null_mut(),
                aes.as_ptr(),
                iv.as_ptr(),
            )
        } else {
            ffi::EVP_DecryptInit_ex(
                cipher,
                ffi::EVP_aes_256_cbc(),
                std::ptr::null_mut(),
                aes.as_ptr(),
                iv.as_ptr(),
            )
        };
        let params = [
            ffi::OSSL_PARAM_construct_octet_string(
                c"key".as_ptr(),
                hmac.as_mut_ptr().cast::<c_void>(),
                hmac.len(),
            ),
            OSSL_PARAM_construct_utf8_string(
                c"digest".as_ptr(),
                digest.as_mut_ptr().cast::<c_char>(),
                0,
            ),
            ffi::OSSL_PARAM_construct_end(),
        ];
        init == 1 && ffi::EVP_MAC_CTX_set_params(mac, params.as_ptr()) == 1
    }
}

/// `SSL_get_negotiated_group` is a macro over this control code (OpenSSL 3's ssl.h).
const SSL_CTRL_GET_NEGOTIATED_GROUP: c_int = 134;

/// The key exchange group the handshake used, in the default engine's words (`X25519`,
/// `secp256r1`, `ffdhe2048`); `None` without one (RSA key exchange, DHE with the server's own
/// parameters).
pub(crate) fn negotiated_group(ssl: &SslRef) -> Option<String> {
    // SAFETY: `ssl.as_ptr()` is a live SSL for the whole call; this control code only reads
    // the handshake's group id (no pointer argument), and SSL_group_to_name returns a static
    // string or null, read here before returning. Declarations as in OpenSSL 3's ssl.h. The
    // openssl crate has no getter for the group.
    let name = unsafe {
        let id = ffi::SSL_ctrl(
            ssl.as_ptr(),
            SSL_CTRL_GET_NEGOTIATED_GROUP,
            0,
            std::ptr::null_mut(),
        );
        let id = c_int::try_from(id).ok().filter(|id| *id > 0)?;
        let name = SSL_group_to_name(ssl.as_ptr(), id);
        if name.is_null() {
            return None;
        }
        CStr::from_ptr(name).to_str().ok()?.to_owned()
    };
    Some(match name.as_str() {
        "x25519" => "X25519".to_owned(),
        "x448" => "X448".to_owned(),
        _ => name,
    })
}

/// Inside a verify callback of a handshake: the certificates the peer sent, its own first
/// (libssl verifies them as the "untrusted" list, leaf included, on both sides).
pub(crate) fn sent_chain(ctx: &X509StoreContextRef) -> Option<&StackRef<X509>> {
    // SAFETY: `ctx.as_ptr()` is the live X509_STORE_CTX borrowed for the lifetime of the
    // result; OpenSSL returns the stack it was initialised with (owned by the handshake, which
    // outlives the callback) or null, and keeps it unchanged while the callback runs. The
    // declaration matches OpenSSL 3's
    // `STACK_OF(X509) *X509_STORE_CTX_get0_untrusted(const X509_STORE_CTX *ctx)`. The openssl
    // crate's `chain()` is the chain OpenSSL built, not the one sent, and it has no getter for
    // the latter.
    unsafe {
        let stack = X509_STORE_CTX_get0_untrusted(ctx.as_ptr());
        (!stack.is_null()).then(|| StackRef::from_ptr(stack))
    }
}

/// Server, inside a ClientHello callback (before OpenSSL has parsed the extensions): the host
/// name the client asked for with SNI, if any.
pub(crate) fn client_hello_server_name(ssl: &SslRef) -> Option<String> {
    host_name_of(&client_hello_ext(ssl, 0)?)
}

/// The body of the ClientHello's extension `kind` (copied out), while the ClientHello
/// callback runs; `None` when the client sent none.
pub(crate) fn client_hello_ext(ssl: &SslRef, kind: u32) -> Option<Vec<u8>> {
    let mut data: *const c_uchar = std::ptr::null();
    let mut len: usize = 0;
    // SAFETY: `ssl.as_ptr()` is a live SSL borrowed for this call. While its ClientHello
    // callback runs OpenSSL holds the ClientHello and points `data` at the extension's bytes
    // inside it (or leaves it null) with `len` their size; at any other time it holds none
    // and answers 0 (it checks `clienthello` for NULL). The bytes are copied out before the
    // call returns, while the ClientHello still lives. The openssl crate has no getter for a
    // ClientHello extension.
    unsafe {
        if ffi::SSL_client_hello_get0_ext(ssl.as_ptr(), kind, &mut data, &mut len) != 1
            || data.is_null()
        {
            return None;
        }
        Some(std::slice::from_raw_parts(data, len).to_vec())
    }
}

/// The host name in a server_name extension's body (RFC 6066 section 3).
fn host_name_of(ext: &[u8]) -> Option<String> {
    let list_len = usize::from(u16::from_be_bytes([*ext.first()?, *ext.get(1)?]));
    let mut list = ext.get(2..2 + list_len)?;
    while let [kind, hi, lo, rest @ ..] = list {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let name = rest.get(..len)?;
        if *kind == 0 {
            return std::str::from_utf8(name).ok().map(str::to_ascii_lowercase);
        }
        list = &rest[len..];
    }
    None
}

/// The verification result for one of OpenSSL's `X509_V_*` codes.
pub(crate) fn verify_result(code: c_int) -> X509VerifyResult {
    // SAFETY: the openssl crate asks for a code OpenSSL knows; callers pass only the
    // `X509_V_*` constants of openssl-sys. Its safe constants are only OK and
    // APPLICATION_VERIFICATION, not the codes whose alerts say why.
    unsafe { X509VerifyResult::from_raw(code) }
}

/// Server: the identity hint sent to PSK clients in TLS 1.2.
pub(crate) fn set_psk_identity_hint(
    b: &mut SslContextBuilder,
    hint: &CStr,
) -> Result<(), ErrorStack> {
    // SAFETY: `b.as_ptr()` is the live SSL_CTX the builder owns for the whole call and `hint`
    // a NUL-terminated string valid during it; OpenSSL copies the hint (OPENSSL_strdup) and
    // keeps no pointer to it. The declaration matches OpenSSL 3's
    // `int SSL_CTX_use_psk_identity_hint(SSL_CTX *ctx, const char *identity_hint)`.
    let ok = unsafe { SSL_CTX_use_psk_identity_hint(b.as_ptr(), hint.as_ptr()) };
    if ok == 1 {
        Ok(())
    } else {
        Err(ErrorStack::get())
    }
}

/// Client: offer to resume `session`.
pub(crate) fn set_session(ssl: &mut SslRef, session: &SslSessionRef) -> Result<(), ErrorStack> {
    // SAFETY: the openssl crate's one condition for `set_session` is that the session come
    // from a connection of the same context as `ssl`: the engine keeps sessions per context
    // (its `Config`) and sets them only on connections made from that context.
    unsafe { ssl.set_session(session) }
}

/// Client: offer to resume `session`, decoded from DER (a session of a shared cache).
pub(crate) fn set_decoded_session(ssl: &mut SslRef, session: SslSession) -> Result<(), ErrorStack> {
    // SAFETY: the openssl crate's condition for `set_session` (a session of the same context)
    // is there because OpenSSL links a session into the internal cache of the context that
    // filed it. A session just decoded from DER is a new object in no context's cache, used by
    // this connection only (`ssl` takes its own reference).
    unsafe { ssl.set_session(&session) }
}

/// OpenSSL's "go on" answer from a TLS extension callback.
const SSL_TLSEXT_ERR_OK: c_int = 0;

/// A protocol list in wire form (length-prefixed names, never empty), at a fixed heap address
/// that OpenSSL's callbacks read. The context that points to it must not outlive it: the
/// engine's `Config` owns both, and every session holds that `Config`.
#[derive(Debug)]
pub(crate) struct NpnList {
    wire: Vec<u8>,
}

impl NpnList {
    /// The list, or `None` when it is empty.
    pub(crate) fn new(protocols: &[Vec<u8>]) -> Option<Box<NpnList>> {
        let mut wire = Vec::new();
        for p in protocols {
            let len = u8::try_from(p.len()).ok().filter(|n| *n > 0)?;
            wire.push(len);
            wire.extend_from_slice(p);
        }
        (!wire.is_empty()).then(|| Box::new(NpnList { wire }))
    }
}

extern "C" fn advertise_cb(
    _ssl: *mut ffi::SSL,
    out: *mut *const c_uchar,
    outlen: *mut c_uint,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: `arg` is the `NpnList` registered with this context in `advertise`, alive for
    // as long as the context (see `NpnList`); `out` and `outlen` are OpenSSL's out-parameters,
    // valid for writing during this call. The list is at most 255 * 256 bytes, so its length
    // fits a c_uint.
    unsafe {
        let list = &*(arg as *const NpnList);
        *out = list.wire.as_ptr();
        *outlen = list.wire.len() as c_uint;
    }
    SSL_TLSEXT_ERR_OK
}

extern "C" fn select_cb(
    _ssl: *mut ffi::SSL,
    out: *mut *mut c_uchar,
    outlen: *mut c_uchar,
    inbuf: *const c_uchar,
    inlen: c_uint,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: `arg` is the `NpnList` registered in `select`, alive for as long as the context;
    // `inbuf`/`inlen` are the server's list and `out`/`outlen` OpenSSL's out-parameters, all
    // valid during this call. SSL_select_next_proto points `out` into one of the two lists
    // (ours when nothing matches), both of which outlive the handshake; ours is never empty.
    let status = unsafe {
        let list = &*(arg as *const NpnList);
        ffi::SSL_select_next_proto(
            out,
            outlen,
            inbuf,
            inlen,
            list.wire.as_ptr(),
            list.wire.len() as c_uint,
        )
    };
    // OPENSSL_NPN_NEGOTIATED is 1. Without overlap OpenSSL has chosen our first protocol, as
    // NPN wants (the client always names one); anything but OK would end the handshake.
    if status != 1 {
        log::debug!("NPN: no protocol in common with the server; offering our first");
    }
    SSL_TLSEXT_ERR_OK
}

/// Server: advertise `list` to clients that ask with NPN.
pub(crate) fn advertise(b: &mut SslContextBuilder, list: &NpnList) {
    // SAFETY: `b.as_ptr()` is the live SSL_CTX the builder owns; the callback only reads
    // `list`, which outlives the context (see `NpnList`). The openssl crate has no NPN API.
    unsafe {
        ffi::SSL_CTX_set_next_protos_advertised_cb(
            b.as_ptr(),
            advertise_cb,
            list as *const NpnList as *mut c_void,
        );
    }
}

/// Client: offer NPN and pick from the server's list by ours.
pub(crate) fn select(b: &mut SslContextBuilder, list: &NpnList) {
    // SAFETY: `b.as_ptr()` is the live SSL_CTX the builder owns; the callback only reads
    // `list`, which outlives the context (see `NpnList`). The openssl crate has no NPN API.
    unsafe {
        ffi::SSL_CTX_set_next_proto_select_cb(
            b.as_ptr(),
            select_cb,
            list as *const NpnList as *mut c_void,
        );
    }
}

/// The protocol agreed on with NPN, if any.
pub(crate) fn negotiated(ssl: &SslRef) -> Option<&[u8]> {
    let mut data: *const c_uchar = std::ptr::null();
    let mut len: c_uint = 0;
    // SAFETY: `ssl.as_ptr()` is a live SSL borrowed for the lifetime of the returned slice;
    // OpenSSL points `data` at memory the SSL owns (or leaves it null) and sets `len` to its
    // size; the slice is built only for a non-null pointer.
    unsafe {
        ffi::SSL_get0_next_proto_negotiated(ssl.as_ptr(), &mut data, &mut len);
        (!data.is_null()).then(|| std::slice::from_raw_parts(data, len as usize))
    }
}

/// The mode bits of a context (`SSL_CTX_get_mode`), for tests of what a build applied. The
/// openssl crate has no getter for them: `SslContextBuilder::set_mode` needs the builder,
/// which a build consumes, and the built `SslContext` offers no `mode()`.
#[cfg(test)]
pub(crate) fn context_mode(ctx: &SslContext) -> std::ffi::c_long {
    // SAFETY: `ctx` is a live context borrowed for the call; SSL_CTRL_MODE with 0 ORs no
    // bits into the mode and returns it (this is the SSL_CTX_get_mode macro), touching no
    // pointer argument.
    unsafe { ffi::SSL_CTX_ctrl(ctx.as_ptr(), ffi::SSL_CTRL_MODE, 0, std::ptr::null_mut()) }
}

#[cfg(test)]
mod tests {
    use super::host_name_of;

    #[test]
    fn host_name_from_a_server_name_extension() {
        let mut ext = vec![0, 9, 0, 0, 6];
        ext.extend_from_slice(b"A.Test");
        assert_eq!(host_name_of(&ext).as_deref(), Some("a.test"));
        // Truncated, or with a length past the end: no name, no panic.
        assert_eq!(host_name_of(&ext[..7]), None);
        assert_eq!(host_name_of(&[0, 200, 0, 0, 6]), None);
        assert_eq!(host_name_of(&[]), None);
    }
}
